// DMARC records (RFC 7489) as requirement 23 reads them: the tags of a v=DMARC1 record and the
// policy it asks receivers to apply to the domain itself and to its subdomains.
#pragma once

#include <map>
#include <string>
#include <string_view>

namespace dnsvagt {

// The tag=value list DMARC shares with DKIM (RFC 6376 3.2): tags separated by ';', names
// lowercase, values trimmed; the first of a tag given twice wins. A part without '=' is noted
// in `problem` (when given) and skipped.
std::map<std::string, std::string> parse_tag_list(std::string_view text,
                                                  std::string* problem = nullptr);

// A TXT string whose first tag is v=DMARC1 (RFC 7489 6.3): what a receiver takes for one.
bool is_dmarc_record(std::string_view txt);

struct DmarcRecord {
  std::map<std::string, std::string> tags;  // tag names lowercase, values trimmed
  std::string policy;            // p, lowercase; "" when missing
  std::string subdomain_policy;  // sp, lowercase; p when sp is absent (RFC 7489 6.3)
  std::string problem;           // why receivers would not apply it; "" = none
};

DmarcRecord parse_dmarc(std::string_view txt);

}  // namespace dnsvagt
