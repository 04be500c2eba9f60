// The one JSON string escaper of dnsvagt's JSON outputs (query log, compliance page), so both
// write the same text for the same bytes and neither can emit invalid JSON.
#pragma once

#include <string>
#include <string_view>

namespace dnsvagt {

// Appends `text` as a JSON string, quotes included: '"', '\' and control characters escaped,
// valid UTF-8 kept as it is, and every byte that is not part of valid UTF-8 written as \u00XX
// (its Latin-1 reading), so the output is always valid JSON.
void append_json_string(std::string_view text, std::string& out);
std::string json_string(std::string_view text);

}  // namespace dnsvagt
