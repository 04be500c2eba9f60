// The gates a new version of a list must pass before it replaces the last good one: it must
// look like a list (not an HTML page or binary data), be big enough, and not have shrunk much.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "blocklists/feed_fetcher.h"
#include "blocklists/parsed_list.h"
#include "config/config.h"

namespace dnsvagt {

// At most this share of the rule lines may be invalid (a real list has a few broken lines;
// an error page or a file of another kind has mostly invalid ones).
inline constexpr double kMaxInvalidShare = 0.10;

struct GateVerdict {
  std::optional<UpdateFailure> failure;  // none: accepted
  std::string detail;                    // why, for the log
  bool accepted() const { return !failure; }
};

// Judges a new version by what parsing it found (`stats`, the content's binary and html flags
// included: the content itself need not be in memory) against the limits of `source` and the
// entry count of the last good version (none if there is no good version yet).
GateVerdict check_list_gates(const ParseStats& stats, const ListSource& source,
                             std::optional<uint64_t> last_good_entries);

}  // namespace dnsvagt
