#include "blocklists/list_gates.h"

#include <algorithm>
#include <cctype>

namespace dnsvagt {
namespace {

bool starts_like_html(std::string_view content) {
  size_t start = content.find_first_not_of(" \t\r\n\xEF\xBB\xBF");
  if (start == std::string_view::npos) return false;
  std::string head(content.substr(start, 14));
  std::transform(head.begin(), head.end(), head.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return head.starts_with("<!doctype html") || head.starts_with("<html") ||
         head.starts_with("<?xml") || head.starts_with("<head") || head.starts_with("<body");
}

GateVerdict reject(UpdateFailure failure, std::string detail) {
  return GateVerdict{failure, std::move(detail)};
}

}  // namespace

GateVerdict check_list_gates(std::string_view content, const ParseStats& stats,
                             const ListSource& source, std::optional<uint64_t> last_good_entries) {
  if (content.find('\0') != std::string_view::npos) {
    return reject(UpdateFailure::parse_budget, "binary data (NUL bytes), not a text list");
  }
  if (starts_like_html(content)) {
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
