// Parsers of the list formats (hosts, domains, adblock, rpz) and the guess of a list's format
// from its content. Quirks of real lists (CRLF, BOM, case, IDNs, header blocks) are handled
// here; lines that cannot be a domain rule are counted and sampled, never guessed at.
#pragma once

#include <string_view>

#include "blocklists/parsed_list.h"
#include "config/config.h"

namespace dnsvagt {

// The format of `content`, judged by a vote of its first rule lines (comments don't vote, so
// a hosts file with AdBlock-style `!` headers is still hosts). Never auto_detect; an empty
// or comment-only list is `domains`.
ListFormat detect_format(std::string_view content);

// Parses a whole list. ListFormat::auto_detect parses as detect_format() says and records
// that in stats.format_detected. Never throws for bad lines: they are counted in the stats.
ParsedList parse_list(std::string_view content, ListFormat format);

}  // namespace dnsvagt
