#include "dns/dns_name.h"

#include <algorithm>
#include <cstring>

namespace dnsvagt {

size_t read_wire_name(std::span<const uint8_t> packet, size_t offset,
                      uint8_t (&out)[kMaxNameWire], size_t* end) {
  size_t pos = offset;
  size_t run_start = offset;  // pointers must jump strictly before this
  size_t end_pos = 0;         // 0 until the first pointer fixes where the name ends at `offset`
  size_t length = 0;
  while (pos < packet.size()) {
    const uint8_t byte = packet[pos];
    if (byte == 0) {
      if (length + 1 > kMaxNameWire) return 0;
      out[length++] = 0;
      *end = end_pos != 0 ? end_pos : pos + 1;
      return length;
    }
    if ((byte & 0xc0) == 0xc0) {
      if (pos + 1 >= packet.size()) return 0;
      const size_t target = (size_t{byte & 0x3fu} << 8) | packet[pos + 1];
      if (target >= run_start) return 0;
      if (end_pos == 0) end_pos = pos + 2;
      pos = run_start = target;
      continue;
    }
    if (byte > kMaxLabel) return 0;  // 0x40 and 0x80: obsolete extended label types
    if (pos + 1 + byte > packet.size()) return 0;
    if (length + 1 + byte + 1 > kMaxNameWire) return 0;  // room for the root label
    std::memcpy(out + length, packet.data() + pos, 1 + byte);
    length += 1 + byte;
    pos += 1 + byte;
  }
  return 0;
}

std::string name_text(std::span<const uint8_t> wire) {
  std::string text;
  text.reserve(wire.size() + 1);
  size_t pos = 0;
  while (pos < wire.size() && wire[pos] != 0) {
    const size_t label_end = std::min(wire.size(), pos + 1 + wire[pos]);
    for (size_t i = pos + 1; i < label_end; ++i) {
      const uint8_t c = wire[i];
      if (c != 0 && std::strchr(".\\;()\"@$", c) != nullptr) {
        text.push_back('\\');
        text.push_back(static_cast<char>(c));
      } else if (c <= 0x20 || c >= 0x7f) {
        const char digits[] = {'\\', static_cast<char>('0' + c / 100),
                               static_cast<char>('0' + c / 10 % 10),
                               static_cast<char>('0' + c % 10)};
        text.append(digits, sizeof(digits));
      } else {
        text.push_back(static_cast<char>(c));
      }
    }
    text.push_back('.');
    pos = label_end;
  }
  return text.empty() ? "." : text;
}

DnsName::DnsName() : wire_(1, '\0') {}

std::optional<DnsName> DnsName::from_text(std::string_view text) {
  if (text.empty()) return std::nullopt;
  if (text == ".") return DnsName();
  std::string wire;
  wire.reserve(text.size() + 2);
  size_t label_start = 0;
  wire.push_back('\0');  // length of the first label, set when it ends
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '.') {
      const size_t label_length = wire.size() - label_start - 1;
      if (label_length == 0) return std::nullopt;
      wire[label_start] = static_cast<char>(label_length);
      if (i + 1 == text.size()) {
        wire.push_back('\0');
        return wire.size() <= kMaxNameWire ? std::optional(DnsName(std::move(wire)))
                                           : std::nullopt;
      }
      label_start = wire.size();
      wire.push_back('\0');
      continue;
    }
    if (c == '\\') {
      if (++i == text.size()) return std::nullopt;
      c = text[i];
      if (c >= '0' && c <= '9') {
        if (i + 2 >= text.size()) return std::nullopt;
        int value = 0;
        for (size_t k = i; k < i + 3; ++k) {
          if (text[k] < '0' || text[k] > '9') return std::nullopt;
          value = value * 10 + (text[k] - '0');
        }
        if (value > 255) return std::nullopt;
        c = static_cast<char>(value);
        i += 2;
      }
    }
    wire.push_back(c);
    if (wire.size() - label_start - 1 > kMaxLabel) return std::nullopt;
  }
  wire[label_start] = static_cast<char>(wire.size() - label_start - 1);
  wire.push_back('\0');
  if (wire.size() > kMaxNameWire) return std::nullopt;
  return DnsName(std::move(wire));
}

std::optional<DnsName> DnsName::from_wire(std::span<const uint8_t> packet, size_t offset,
                                          size_t* end) {
  uint8_t buffer[kMaxNameWire];
  const size_t length = read_wire_name(packet, offset, buffer, end);
  if (length == 0) return std::nullopt;
  return DnsName(std::string(reinterpret_cast<const char*>(buffer), length));
}

std::span<const uint8_t> DnsName::wire() const {
  return {reinterpret_cast<const uint8_t*>(wire_.data()), wire_.size()};
}

std::string DnsName::to_text() const { return name_text(wire()); }

size_t DnsName::label_count() const {
  size_t count = 0;
  for (size_t pos = 0; wire_[pos] != 0; pos += 1 + static_cast<uint8_t>(wire_[pos])) ++count;
  return count;
}

static bool equal_folded(const char* a, const char* b, size_t length) {
  for (size_t i = 0; i < length; ++i) {
    if (fold_case(static_cast<uint8_t>(a[i])) != fold_case(static_cast<uint8_t>(b[i])))
      return false;
  }
  return true;
}

bool DnsName::is_subdomain_of(const DnsName& parent) const {
  const size_t parent_length = parent.wire_.size();
  if (parent_length > wire_.size()) return false;
  // Walk label boundaries so "xample.com" never matches inside "example.com".
  size_t pos = 0;
  while (wire_.size() - pos > parent_length) pos += 1 + static_cast<uint8_t>(wire_[pos]);
  return wire_.size() - pos == parent_length &&
         equal_folded(wire_.data() + pos, parent.wire_.data(), parent_length);
}

DnsName DnsName::lowercased() const {
  std::string lower = wire_;
  for (char& c : lower) c = static_cast<char>(fold_case(static_cast<uint8_t>(c)));
  return DnsName(std::move(lower));
}

bool DnsName::operator==(const DnsName& other) const {
  return wire_.size() == other.wire_.size() &&
         equal_folded(wire_.data(), other.wire_.data(), wire_.size());
}

size_t DnsName::hash() const {
  uint64_t hash = 14695981039346656037ull;  // FNV-1a
  for (char c : wire_) {
    hash ^= fold_case(static_cast<uint8_t>(c));
    hash *= 1099511628211ull;
  }
  return static_cast<size_t>(hash);
}

}  // namespace dnsvagt
