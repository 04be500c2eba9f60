// The text of `dnsvagt lookup NAME`: which lists and entries match a name, whether an allow
// entry overrides them, and how a query for it would be answered.
#pragma once

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

// Loads the config's lists (as the server would) and reports on `name` (Unicode accepted).
LookupReport lookup_report(const Config& config, std::string_view name);
// The same against a policy already built.
LookupReport lookup_report(const Policy& policy, std::string_view name);

}  // namespace dnsvagt
