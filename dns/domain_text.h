// Normalisation of the domain names that lists and users write: case, trailing dot, Unicode
// IDNs to punycode, and the names a list must never block (localhost, IP addresses).
#pragma once

#include <string>
#include <string_view>

namespace dnsvagt {

enum class NameStatus {
  ok,             // a name to use
  reserved_name,  // localhost, broadcasthost, ip6-* ...: system hosts-file entries
  ip_address,     // "0.0.0.0", "37.1.209.213", "::1": an address, not a name
  invalid,
};

// "WWW.Example.COM." -> "www.example.com"; "bücher.de" -> "xn--bcher-kva.de" (IDNA 2008,
// non-transitional). Labels are 1..63 characters of letters, digits, '-' and '_' (underscores
// are not host-name syntax but common in real lists), not starting or ending with '-'; the
// whole name at most 253 characters. Sets `out` to the canonical name if ok, to the reason
// if invalid (a buffer the caller reuses: list parsing calls this once per line).
NameStatus normalize_domain(std::string_view text, std::string& out);

// A numeric IPv4 or IPv6 address; an IPv6 zone index ("fe80::1%lo0") is accepted.
bool is_ip_address(std::string_view text);

// Appends the uncompressed wire form of a canonical name (as normalize_domain returns it),
// without the root label: "a.bc" -> "\1a\2bc".
void append_wire_name(std::string_view canonical_name, std::string& out);

// The text form of wire labels without the root label: "\1a\2bc" -> "a.bc" (name_text()
// without its trailing dot).
std::string wire_to_text(std::string_view wire);

}  // namespace dnsvagt
