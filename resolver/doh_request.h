// A DNS over HTTPS request (RFC 8484) judged apart from the HTTP version that carried it: the
// DNS query of a GET's `dns` parameter or a POST's body, or the HTTP status that refuses it;
// and the headers of the response to an answer.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace dnsvagt {

// What an HTTP request asked, as its parser saw it.
struct DohRequest {
  std::string_view method;
  std::string_view target;  // path and query string ("/dns-query?dns=AAAB...")
  std::string_view content_type;
  std::span<const uint8_t> body;
  bool body_too_large = false;  // more than kMaxDohMessage bytes came; `body` holds none
};

// The largest DNS message (a TCP frame's length field); a longer POST body gets 413.
inline constexpr size_t kMaxDohMessage = 65535;

struct DohJudgement {
  int status = 200;              // 200: `query` is the DNS query; else the HTTP error to send
  std::vector<uint8_t> query;
};

// `path`: server.tls.doh_path, the only path answered. 405 for a method other than GET and
// POST, 404 for another path, 415 for a POST of another content type, 413 for a body over
// kMaxDohMessage, 400 for a GET without a `dns` parameter in base64url or a message shorter
// than a DNS header.
DohJudgement judge_doh_request(const DohRequest& request, std::string_view path);

// RFC 8484 section 5.1: the freshness of an answer is its smallest TTL (OPT aside); none for
// an answer without records, or one that does not parse.
std::optional<uint32_t> doh_max_age(std::span<const uint8_t> answer);

// "Not Found" for 404; "Error" for a status it does not know.
const char* http_reason(int status);

}  // namespace dnsvagt
