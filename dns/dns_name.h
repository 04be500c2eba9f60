// DnsName: a domain name in uncompressed wire format, compared case-insensitively (RFC 4343).
// The value type used wherever a name is a key: cache keys, forward zones, list matching.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace dnsvagt {

// Longest name in wire format, root label included (RFC 1035 2.3.4).
constexpr size_t kMaxNameWire = 255;
constexpr size_t kMaxLabel = 63;

// Reads the possibly compressed name at `offset` of `packet` into `out` (uncompressed), without
// allocating. A pointer must point strictly before the start of the label run it ends, so
// every pointer chain terminates. Returns the name's uncompressed length and sets `*end` past
// the name's bytes at `offset`; returns 0 if the name is malformed, truncated, loops or is
// longer than 255 bytes. The name at `offset` was uncompressed iff *end - offset == length.
size_t read_wire_name(std::span<const uint8_t> packet, size_t offset,
                      uint8_t (&out)[kMaxNameWire], size_t* end);

// The presentation form of an uncompressed wire name (RFC 1035 5.1): "www.example.com.", "."
// for the root. What would end a label or confuse a zone-file parser or a log reader is
// escaped (\. \\ \; \( \) \" \@ \$, and \DDD outside printable ASCII). The one text form of a
// name off the wire: libunbound's queries, metrics, logs and the query log all use it. Stops
// at the root label or the end of `wire`.
std::string name_text(std::span<const uint8_t> wire);

// RFC 4343: only ASCII letters fold; the other 0x80..0xff bytes compare as they are.
inline uint8_t fold_case(uint8_t c) { return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c; }

class DnsName {
 public:
  DnsName();  // the root

  // "www.Example.com", "www.example.com." (escapes \. and \DDD accepted); nullopt if invalid.
  // "." is the root; "" and empty labels ("a..b") are invalid.
  static std::optional<DnsName> from_text(std::string_view text);
  // Reads a possibly compressed name at `offset` of `packet`; on success sets `end` to the
  // offset just past the name's bytes at `offset`. nullopt on loops, bad pointers, >255 bytes.
  static std::optional<DnsName> from_wire(std::span<const uint8_t> packet, size_t offset,
                                          size_t* end);

  std::span<const uint8_t> wire() const;  // as given (case preserved), uncompressed
  std::string to_text() const;            // "www.example.com." ("." for the root)
  size_t label_count() const;             // labels before the root: 0 for ".", 2 for "a.b."
  bool is_subdomain_of(const DnsName& parent) const;  // true for equal names too
  DnsName lowercased() const;

  bool operator==(const DnsName& other) const;  // case-insensitive
  size_t hash() const;                           // case-insensitive

 private:
  explicit DnsName(std::string wire) : wire_(std::move(wire)) {}

  std::string wire_;
};

struct DnsNameHash {
  size_t operator()(const DnsName& name) const { return name.hash(); }
};

}  // namespace dnsvagt
