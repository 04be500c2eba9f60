#include "resolver/proxy_header.h"

#include <netinet/in.h>

#include <algorithm>
#include <cstring>

namespace dnsvagt {
namespace {

constexpr size_t kFixedPart = 16;  // signature, version/command, family/transport, length
constexpr size_t kIpv4Block = 12;  // source, destination, source port, destination port
constexpr size_t kIpv6Block = 36;

ProxyHeader rejected(std::string_view error) {
  ProxyHeader header;
  header.error = error;
  return header;
}

uint16_t read16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }

void set_ipv4(const uint8_t* address, const uint8_t* port, sockaddr_storage& out,
              socklen_t& length) {
  sockaddr_in ipv4 = {};
  ipv4.sin_family = AF_INET;
  std::memcpy(&ipv4.sin_addr, address, 4);
  std::memcpy(&ipv4.sin_port, port, 2);  // both in network order
  std::memcpy(&out, &ipv4, sizeof ipv4);
  length = sizeof ipv4;
}

void set_ipv6(const uint8_t* address, const uint8_t* port, sockaddr_storage& out,
              socklen_t& length) {
  sockaddr_in6 ipv6 = {};
  ipv6.sin6_family = AF_INET6;
  std::memcpy(&ipv6.sin6_addr, address, 16);
  std::memcpy(&ipv6.sin6_port, port, 2);
  std::memcpy(&out, &ipv6, sizeof ipv6);
  length = sizeof ipv6;
}

}  // namespace

ProxyHeader parse_proxy_header(std::span<const uint8_t> data) {
  ProxyHeader header;
  // A stream may deliver the header in pieces: what has come must match so far.
  const size_t signature_seen = std::min(data.size(), sizeof kProxySignature);
  // An empty span may hold a null pointer, which memcmp must not get even for 0 bytes.
  if (signature_seen > 0 && std::memcmp(data.data(), kProxySignature, signature_seen) != 0) {
    return rejected("no PROXY protocol v2 signature");
  }
  if (data.size() < kFixedPart) {
    header.status = ProxyHeader::Status::incomplete;
    return header;
  }
  const uint8_t version = data[12] >> 4;
  const uint8_t command = data[12] & 0x0f;
  const uint8_t family = data[13] >> 4;
  const uint8_t transport = data[13] & 0x0f;
  const size_t length = kFixedPart + read16(&data[14]);
  if (version != 2) return rejected("PROXY protocol version is not 2");
  if (command > 1) return rejected("PROXY protocol command is neither LOCAL nor PROXY");
  if (length > kMaxProxyHeader) return rejected("PROXY protocol header longer than 512 bytes");
  if (data.size() < length) {
    header.status = ProxyHeader::Status::incomplete;
    return header;
  }
  header.stream = transport == 1;
  if (command == 0) {
    // LOCAL: the proxy speaking for itself; the rest of the header is to be discarded.
    header.local = true;
    header.status = ProxyHeader::Status::ok;
    header.length = length;
    return header;
  }
  size_t block = 0;
  if (family == 1) {
    block = kIpv4Block;
  } else if (family == 2) {
    block = kIpv6Block;
  } else {
    return rejected("PROXY command without an IPv4 or IPv6 address");
  }
  if (transport != 1 && transport != 2) return rejected("PROXY command not over TCP or UDP");
  if (kFixedPart + block > length) return rejected("PROXY protocol address block cut short");
  const uint8_t* a = &data[kFixedPart];
  if (family == 1) {
    set_ipv4(a, a + 8, header.source, header.source_length);
    set_ipv4(a + 4, a + 10, header.destination, header.destination_length);
  } else {
    set_ipv6(a, a + 32, header.source, header.source_length);
    set_ipv6(a + 16, a + 34, header.destination, header.destination_length);
  }
  // TLVs (type, 16-bit length, value) fill the rest exactly; none changes what we do.
  for (size_t at = kFixedPart + block; at < length;) {
    if (length - at < 3 || length - at - 3 < read16(&data[at + 1])) {
      return rejected("PROXY protocol TLV runs past the header");
    }
    at += 3 + read16(&data[at + 1]);
  }
  header.status = ProxyHeader::Status::ok;
  header.length = length;
  return header;
}

ProxyStart judge_proxy_start(std::span<const uint8_t> start, bool from_proxy, bool whole) {
  using Kind = ProxyStart::Kind;
  const size_t seen = std::min(start.size(), sizeof kProxySignature);
  const bool signature_so_far =
      seen == 0 || std::memcmp(start.data(), kProxySignature, seen) == 0;
  ProxyStart judged;
  if (!from_proxy) {
    // A datagram this short is no DNS query either; the query parser says so.
    if (!signature_so_far || (whole && seen < sizeof kProxySignature)) return judged;
    judged.kind = seen < sizeof kProxySignature ? Kind::incomplete : Kind::refused;
    judged.refusal = ProxyRefusal::untrusted;
    return judged;
  }
  judged.kind = Kind::refused;
  if (!signature_so_far || (whole && seen < sizeof kProxySignature)) {
    judged.refusal = ProxyRefusal::missing;
    return judged;
  }
  judged.header = parse_proxy_header(start);
  if (judged.header.status == ProxyHeader::Status::ok) {
    judged.kind = Kind::header;
  } else if (judged.header.status == ProxyHeader::Status::incomplete && !whole) {
    judged.kind = Kind::incomplete;
  }
  return judged;
}

}  // namespace dnsvagt
