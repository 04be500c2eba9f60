#include "resolver/doh_request.h"

#include <openssl/evp.h>

#include <algorithm>

#include "dns/ascii_text.h"
#include "resolver/wire.h"

namespace dnsvagt {
namespace {

// RFC 4648 section 5 without padding (RFC 8484 section 4.1), trailing '=' tolerated; nullopt
// for any other character or an impossible length. OpenSSL decodes the standard alphabet.
std::optional<std::vector<uint8_t>> decode_base64url(std::string_view text) {
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  if (text.size() % 4 == 1 || text.size() > (kMaxDohMessage + 2) / 3 * 4) return std::nullopt;
  std::string standard(text);
  for (char& c : standard) {
    if (c == '-') {
      c = '+';
    } else if (c == '_') {
      c = '/';
    } else if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) {
      return std::nullopt;
    }
  }
  const size_t padding = (4 - standard.size() % 4) % 4;
  standard.append(padding, '=');
  std::vector<uint8_t> decoded(standard.size() / 4 * 3);
  const int length = EVP_DecodeBlock(decoded.data(),
                                     reinterpret_cast<const unsigned char*>(standard.data()),
                                     static_cast<int>(standard.size()));
  if (length < 0) return std::nullopt;
  decoded.resize(static_cast<size_t>(length) - padding);
  return decoded;
}

// The value of parameter `name` in a query string ("a=1&dns=..."), undecoded.
std::optional<std::string_view> parameter(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    const size_t end = std::min(query.find('&'), query.size());
    const std::string_view pair = query.substr(0, end);
    if (pair.size() > name.size() && pair.starts_with(name) && pair[name.size()] == '=') {
      return pair.substr(name.size() + 1);
    }
    query.remove_prefix(std::min(end + 1, query.size()));
  }
  return std::nullopt;
}

}  // namespace

DohJudgement judge_doh_request(const DohRequest& request, std::string_view path) {
  const bool get = request.method == "GET";
  if (!get && request.method != "POST") return {405, {}};
  const size_t question = request.target.find('?');
  if (request.target.substr(0, question) != path) return {404, {}};
  DohJudgement judged;
  if (get) {
    const std::string_view query =
        question == std::string_view::npos ? "" : request.target.substr(question + 1);
    const std::optional<std::string_view> dns = parameter(query, "dns");
    std::optional<std::vector<uint8_t>> decoded;
    if (dns) decoded = decode_base64url(*dns);
    if (!decoded) return {400, {}};
    judged.query = std::move(*decoded);
  } else {
    std::string_view type = request.content_type;
    type = type.substr(0, type.find(';'));  // parameters, if any, say nothing to DNS
    while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.remove_suffix(1);
    if (!ascii_equal_ignoring_case(type, "application/dns-message")) return {415, {}};
    if (request.body_too_large) return {413, {}};
    judged.query.assign(request.body.begin(), request.body.end());
  }
  if (judged.query.size() < kHeaderSize) return {400, {}};
  return judged;
}

std::optional<uint32_t> doh_max_age(std::span<const uint8_t> answer) {
  std::optional<uint32_t> smallest;
  const bool parsed = walk_records(answer, [&](size_t fixed) {
    if (read_u16(&answer[fixed]) == kTypeOpt) return;
    const uint32_t ttl = read_u32(&answer[fixed + 4]);
    if (!smallest || ttl < *smallest) smallest = ttl;
  });
  return parsed ? smallest : std::nullopt;
}

const char* http_reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 413: return "Content Too Large";
    case 415: return "Unsupported Media Type";
  }
  return "Error";
}

}  // namespace dnsvagt
