#include "blocklists/list_entry.h"

namespace dnsvagt {

std::string ListEntry::rule_text() const {
  switch (scope) {
    case EntryScope::name: return "|" + name + "^";
    case EntryScope::below: return "*." + name;
    case EntryScope::name_and_below: return name;
  }
  return name;
}

const char* to_string(EntryScope scope) {
  switch (scope) {
    case EntryScope::name: return "the name only";
    case EntryScope::below: return "names below it";
    case EntryScope::name_and_below: return "the name and names below it";
  }
  return "?";
}

const char* to_string(EntryKind kind) { return kind == EntryKind::allow ? "allow" : "block"; }

const char* to_string(EntryAction action) {
  switch (action) {
    case EntryAction::list_default: return "configured action";
    case EntryAction::nxdomain: return "nxdomain";
    case EntryAction::nodata: return "nodata";
    case EntryAction::drop: return "drop";
    case EntryAction::local_data: return "local data";
  }
  return "?";
}

}  // namespace dnsvagt
