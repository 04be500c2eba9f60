#include "blocklists/list_gates.h"

namespace dnsvagt {
namespace {

GateVerdict reject(UpdateFailure failure, std::string detail) {
  return GateVerdict{failure, std::move(detail)};
}

}  // namespace

GateVerdict check_list_gates(const ParseStats& stats, const ListSource& source,
                             std::optional<uint64_t> last_good_entries) {
  if (stats.binary) {
    return reject(UpdateFailure::parse_budget, "binary data (NUL bytes), not a text list");
  }
  if (stats.html) {
    return reject(UpdateFailure::parse_budget, "an HTML or XML page, not a list");
  }
  const uint64_t rule_lines = stats.entries + stats.duplicates + stats.ignored + stats.skipped +
                              stats.unsupported + stats.invalid;
  if (stats.invalid > 0 && stats.invalid > kMaxInvalidShare * static_cast<double>(rule_lines)) {
    return reject(UpdateFailure::parse_budget,
                  std::to_string(stats.invalid) + " of " + std::to_string(rule_lines) +
                      " rule lines are invalid (" + stats.summary() + ")");
  }
  if (stats.entries < source.min_entries) {
    return reject(UpdateFailure::too_small, std::to_string(stats.entries) +
                                                " entries, fewer than min_entries " +
                                                std::to_string(source.min_entries));
  }
  if (last_good_entries && *last_good_entries > 0 && stats.entries < *last_good_entries) {
    double lost = 1.0 - static_cast<double>(stats.entries) / static_cast<double>(*last_good_entries);
    if (lost > source.max_shrink) {
      return reject(UpdateFailure::shrink,
                    std::to_string(stats.entries) + " entries, down from " +
                        std::to_string(*last_good_entries) + " (lost " +
                        std::to_string(static_cast<int>(lost * 100)) + "%, max_shrink " +
                        std::to_string(static_cast<int>(source.max_shrink * 100)) + "%)");
    }
  }
  return {};
}

}  // namespace dnsvagt
