// Parsers of the list formats (hosts, domains, adblock, rpz) and the guess of a list's format
// from its content. Quirks of real lists (CRLF, BOM, case, IDNs, header blocks) are handled
// here; lines that cannot be a domain rule are counted and sampled, never guessed at.
#pragma once

#include <string>
#include <string_view>

#include "blocklists/parsed_list.h"
#include "config/config.h"

namespace dnsvagt {

// The format of `content`, judged by a vote of its first rule lines (comments don't vote, so
// a hosts file with AdBlock-style `!` headers is still hosts). Never auto_detect; an empty
// or comment-only list is `domains`.
ListFormat detect_format(std::string_view content);

// Parses a whole list into `sink`. ListFormat::auto_detect parses as detect_format() says and
// records that in the stats, as it does whether the content is binary or HTML. Never throws
// for bad lines: they are counted in the stats.
ParseStats parse_list(std::string_view content, ListFormat format, EntrySink& sink);
// The same into a ParsedList (stats included).
ParsedList parse_list(std::string_view content, ListFormat format);

// Parses the list in the file at `path` into `sink` a piece at a time, so that a large list
// never sits in memory as text (ldns reads an RPZ zone a record at a time). The format
// is detected from the first piece (64 KiB). Throws std::runtime_error if the file cannot be
// read.
ParseStats parse_list_file(const std::string& path, ListFormat format, EntrySink& sink);

}  // namespace dnsvagt
