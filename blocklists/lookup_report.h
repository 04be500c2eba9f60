// The text of `dnsvagt lookup NAME [--client ADDR]`: which lists and entries match a name,
// whether an allow entry overrides them, and how a query for it would be answered (for a
// client of a given client group, with that group's lists and action).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "blocklists/policy.h"
#include "config/config.h"

namespace dnsvagt {

struct LookupReport {
  std::string text;      // for people, one fact per line
  bool valid = true;     // false: NAME is not a domain name (the CLI exits 1)
  bool blocked = false;
};

// The client a lookup is for (`--client`, `--subject`): how the report names it (its address
// as given, its certificate's subject or both) and its policy group (Policy::groups()), whose
// lists and action the report applies and names.
struct LookupClient {
  std::string name;
  size_t group = Policy::kDefaultGroup;
};

// Loads the config's lists (as the server would) and reports on `name` (Unicode accepted).
LookupReport lookup_report(const Config& config, std::string_view name,
                           const std::optional<LookupClient>& client = std::nullopt);
// The same against a policy already built.
LookupReport lookup_report(const Policy& policy, std::string_view name,
                           const std::optional<LookupClient>& client = std::nullopt);

}  // namespace dnsvagt
