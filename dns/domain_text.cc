#include "dns/domain_text.h"

#include <arpa/inet.h>
#include <idn2.h>

#include <array>
#include <cstdlib>
#include <memory>

#include "dns/dns_name.h"

namespace dnsvagt {
namespace {

constexpr size_t kMaxNameLength = 253;
constexpr size_t kMaxLabelLength = 63;

// Names from the system hosts file that hosts-format lists carry in their header.
constexpr std::array<std::string_view, 11> kReservedNames = {
    "localhost",     "localhost.localdomain", "local",           "broadcasthost",
    "ip6-localhost", "ip6-loopback",          "ip6-localnet",    "ip6-mcastprefix",
    "ip6-allnodes",  "ip6-allrouters",        "ip6-allhosts"};

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

char to_lower_ascii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

// Empty if the lowercase ASCII name is well formed, else why not.
std::string check_labels(std::string_view name) {
  if (name.empty()) return "empty name";
  if (name.size() > kMaxNameLength) return "name longer than 253 characters";
  size_t label_start = 0;
  for (size_t i = 0; i <= name.size(); ++i) {
    if (i < name.size() && name[i] != '.') {
      if (!is_name_char(name[i])) return std::string("character '") + name[i] + "' in name";
      continue;
    }
    size_t length = i - label_start;
    if (length == 0) return "empty label";
    if (length > kMaxLabelLength) return "label longer than 63 characters";
    if (name[label_start] == '-' || name[i - 1] == '-') return "label starts or ends with '-'";
    label_start = i + 1;
  }
  return "";
}

}  // namespace

bool is_ip_address(std::string_view text) {
  if (text.empty() || text.size() > 63) return false;
  std::string address(text.substr(0, text.find('%')));
  unsigned char buffer[16];
  if (address.find(':') != std::string::npos) {
    return inet_pton(AF_INET6, address.c_str(), buffer) == 1;
  }
  return inet_pton(AF_INET, address.c_str(), buffer) == 1;
}

NameStatus normalize_domain(std::string_view text, std::string& out) {
  if (!text.empty() && text.back() == '.') text.remove_suffix(1);
  out.clear();
  if (text.empty()) {
    out = "empty name";
    return NameStatus::invalid;
  }
  if (text.size() > 1024) {
    out = "name longer than 253 characters";
    return NameStatus::invalid;
  }
  // One pass lowercases and finds non-ASCII bytes (a million-name list spends a fifth of its
  // parse time here).
  out.assign(text);
  bool ascii = true;
  for (char& c : out) {
    ascii &= static_cast<unsigned char>(c) < 0x80;
    c = to_lower_ascii(c);
  }
  if (!ascii) {
    // libidn2 takes a C string: it would convert only what comes before a NUL.
    if (out.find('\0') != std::string::npos) {
      out = "NUL byte in the name";
      return NameStatus::invalid;
    }
    char* converted = nullptr;
    std::string input(text);
    int rc = idn2_to_ascii_8z(input.c_str(), &converted, IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT);
    std::unique_ptr<char, decltype(&idn2_free)> owner(converted, &idn2_free);
    if (rc != IDN2_OK) {
      out = std::string("IDN conversion failed: ") + idn2_strerror(rc);
      return NameStatus::invalid;
    }
    out = converted;
    for (char& c : out) c = to_lower_ascii(c);
    // IDNA maps some characters to nothing (a byte-order mark, say).
    if (out.empty()) {
      out = "nothing left of the name after IDN conversion";
      return NameStatus::invalid;
    }
  }

  // Only a name ending in a digit or holding ':' can be an address: skip inet_pton otherwise.
  char last = out.back();
  if (((last >= '0' && last <= '9') || out.find(':') != std::string::npos) &&
      is_ip_address(out)) {
    return NameStatus::ip_address;
  }
  for (std::string_view reserved : kReservedNames) {
    if (out == reserved) return NameStatus::reserved_name;
  }
  std::string problem = check_labels(out);
  if (!problem.empty()) {
    out = std::move(problem);
    return NameStatus::invalid;
  }
  return NameStatus::ok;
}

void append_wire_name(std::string_view canonical_name, std::string& out) {
  size_t label_start = 0;
  while (label_start <= canonical_name.size()) {
    size_t dot = canonical_name.find('.', label_start);
    if (dot == std::string_view::npos) dot = canonical_name.size();
    out.push_back(static_cast<char>(dot - label_start));
    out.append(canonical_name.substr(label_start, dot - label_start));
    label_start = dot + 1;
  }
}

std::string wire_to_text(std::string_view wire) {
  std::string text = name_text({reinterpret_cast<const uint8_t*>(wire.data()), wire.size()});
  text.pop_back();  // a canonical name has no trailing dot; the root's "." becomes ""
  return text;
}

}  // namespace dnsvagt
