// The entries a block or allow list yields once parsed: a normalised domain name with the
// scope it covers, whether it blocks or allows, and (RPZ only) its own action.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dns/ip_address.h"

namespace dnsvagt {

// Which names an entry covers, relative to its own name. Bit values: DomainSet stores them.
enum class EntryScope : uint8_t {
  name = 1,            // the name only (AdBlock `|name^`)
  below = 2,           // names below it, not the name itself (RPZ `*.name`)
  name_and_below = 3,  // the name and every name below it (plain entries, `||name^`)
};

enum class EntryKind : uint8_t { block, allow };

// What a matching block entry asks for. Only RPZ entries carry their own action; every other
// entry answers with the configured blocking.action (list_default).
enum class EntryAction : uint8_t { list_default, nxdomain, nodata, drop, local_data };

// An address of RPZ local data (`name A 192.0.2.1`, `name AAAA 2001:db8::1`).
using LocalAddress = IpAddress;

struct ListEntry {
  std::string name;  // lowercase ASCII (IDNs as punycode), no trailing dot
  EntryScope scope = EntryScope::name_and_below;
  EntryKind kind = EntryKind::block;
  EntryAction action = EntryAction::list_default;
  std::vector<LocalAddress> local_data;  // action local_data only

  // The entry as a rule, for reports: "example.com", "*.example.com", "|example.com^".
  std::string rule_text() const;
};

const char* to_string(EntryScope scope);
const char* to_string(EntryKind kind);
const char* to_string(EntryAction action);

}  // namespace dnsvagt
