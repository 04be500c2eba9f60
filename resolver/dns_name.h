// DnsName: a domain name in uncompressed wire format, compared case-insensitively (RFC 4343).
// The value type used wherever a name is a key: cache keys, forward zones, list matching.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace dnsvagt {

class DnsName {
 public:
  DnsName();  // the root

  // "www.Example.com", "www.example.com." (escapes \. and \DDD accepted); nullopt if invalid.
  static std::optional<DnsName> from_text(std::string_view text);
  // Reads a possibly compressed name at `offset` of `packet`; on success sets `end` to the
  // offset just past the name's bytes at `offset`. nullopt on loops, bad pointers, >255 bytes.
  static std::optional<DnsName> from_wire(std::span<const uint8_t> packet, size_t offset,
                                          size_t* end);

  std::span<const uint8_t> wire() const;  // as given (case preserved), uncompressed
  std::string to_text() const;            // "www.example.com." ("." for the root)
  size_t label_count() const;
  bool is_subdomain_of(const DnsName& parent) const;  // true for equal names too
  DnsName lowercased() const;

  bool operator==(const DnsName& other) const;  // case-insensitive
  size_t hash() const;                           // case-insensitive

 private:
  std::string wire_;
};

struct DnsNameHash {
  size_t operator()(const DnsName& name) const { return name.hash(); }
};

}  // namespace dnsvagt
