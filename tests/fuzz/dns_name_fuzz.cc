// DnsName from wire and from text: read_wire_name and from_wire agree, and every name
// survives to_text/from_text unchanged, compares and hashes case-insensitively, and is a
// subdomain of itself, of its parent and of the root.
//
// Input: [flags][offset][bytes]; flags bit 0: the bytes are text, else a packet with the name
// at `offset`.
#include <cstring>
#include <optional>
#include <string>

#include "dns/dns_name.h"
#include "tests/fuzz/fuzz_input.h"

namespace dnsvagt {
namespace {

void check_name(const DnsName& name) {
  const std::span<const uint8_t> wire = name.wire();
  FUZZ_CHECK(!wire.empty() && wire.size() <= kMaxNameWire && wire.back() == 0);
  size_t labels = 0;
  size_t pos = 0;
  for (; wire[pos] != 0; pos += 1 + wire[pos]) {
    FUZZ_CHECK(wire[pos] <= kMaxLabel);
    ++labels;
  }
  FUZZ_CHECK(pos + 1 == wire.size() && labels == name.label_count());

  const std::string text = name.to_text();
  const std::optional<DnsName> back = DnsName::from_text(text);
  FUZZ_CHECK(back.has_value());
  FUZZ_CHECK(back->wire().size() == wire.size() &&
             std::memcmp(back->wire().data(), wire.data(), wire.size()) == 0);

  const DnsName lower = name.lowercased();
  FUZZ_CHECK(lower == name && lower.hash() == name.hash());
  for (const uint8_t c : lower.wire()) FUZZ_CHECK(c == fold_case(c));
  FUZZ_CHECK(name.is_subdomain_of(name) && name.is_subdomain_of(DnsName()));
  if (labels > 0) {
    size_t end = 0;
    const std::optional<DnsName> parent = DnsName::from_wire(wire, 1 + wire[0], &end);
    FUZZ_CHECK(parent.has_value() && end == wire.size());
    FUZZ_CHECK(name.is_subdomain_of(*parent) && !parent->is_subdomain_of(name));
    FUZZ_CHECK(parent->label_count() + 1 == labels);
  }
}

}  // namespace

void fuzz_one(fuzz::FuzzInput& input) {
  const uint8_t flags = input.byte();
  const size_t offset = input.byte();

  if (flags & 1) {
    const std::string_view text = input.rest_text();
    const std::optional<DnsName> name = DnsName::from_text(text);
    if (!name) return;
    check_name(*name);
    std::string lower(text);
    for (char& c : lower) c = static_cast<char>(fold_case(static_cast<uint8_t>(c)));
    const std::optional<DnsName> folded = DnsName::from_text(lower);
    FUZZ_CHECK(folded.has_value() && *folded == *name);
    return;
  }

  const std::span<const uint8_t> packet = input.rest();
  uint8_t out[kMaxNameWire];
  size_t read_end = 0, end = 0;
  const size_t length = read_wire_name(packet, offset, out, &read_end);
  const std::optional<DnsName> name = DnsName::from_wire(packet, offset, &end);
  FUZZ_CHECK(name.has_value() == (length > 0));
  if (!name) return;
  FUZZ_CHECK(end == read_end && end > offset && end <= packet.size());
  FUZZ_CHECK(name->wire().size() == length && std::memcmp(name->wire().data(), out, length) == 0);
  // An uncompressed name is the bytes at `offset` themselves.
  if (end - offset == length) FUZZ_CHECK(std::memcmp(packet.data() + offset, out, length) == 0);
  check_name(*name);
}

}  // namespace dnsvagt
