// The PROXY protocol v2 header (haproxy's proxy-protocol.txt, section 2.2) that a load
// balancer such as dnsdist puts before a client's bytes to say who the client really is.
#pragma once

#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "metrics/worker_counters.h"

namespace dnsvagt {

// The 12 bytes every v2 header starts with.
inline constexpr uint8_t kProxySignature[12] = {0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d,
                                                0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a};
// Longest header accepted, TLVs included: dnsdist's are a few dozen bytes; the protocol's own
// limit (64 KiB) would let one header hold a TCP connection's whole buffer.
inline constexpr size_t kMaxProxyHeader = 512;

struct ProxyHeader {
  enum class Status {
    ok,          // `length` bytes hold a valid header
    incomplete,  // a valid start: more bytes are needed (stream transports wait for them)
    invalid,     // not a v2 header we accept: `error` says why
  };
  Status status = Status::invalid;
  std::string_view error;  // static text, for logs
  size_t length = 0;       // header bytes, TLVs included: the client's data starts after them
  // PROXY: the client's and the address it connected to. LOCAL (the proxy's own health
  // check) carries none, and the connection's own addresses stand.
  bool local = false;
  bool stream = false;  // the proxied transport: TCP (stream) or UDP (datagram)
  sockaddr_storage source = {};
  socklen_t source_length = 0;
  sockaddr_storage destination = {};
  socklen_t destination_length = 0;
};

// Reads the header at the start of `data`. Accepted: v2 LOCAL (whatever follows is skipped,
// as the protocol says), and v2 PROXY over TCP or UDP with an IPv4 or IPv6 address block and
// well-formed TLVs, which are skipped.
ProxyHeader parse_proxy_header(std::span<const uint8_t> data);

// What the first bytes of a datagram or connection mean, from a peer that must start with a
// header (`from_proxy`: in server.proxy_protocol_from) or must not: a header from anyone else
// would let them choose the client address the ACL and the query log see.
struct ProxyStart {
  enum class Kind {
    no_header,   // a peer that is its own client; the DNS bytes start at once
    header,      // `header` is valid: its client is the client
    incomplete,  // a stream: wait for more bytes
    refused,     // drop the datagram or close the connection, counted as `refusal`
  };
  Kind kind = Kind::no_header;
  ProxyRefusal refusal = ProxyRefusal::invalid;
  ProxyHeader header;
};

// `whole`: `start` is all there is (a datagram), so nothing is incomplete.
ProxyStart judge_proxy_start(std::span<const uint8_t> start, bool from_proxy, bool whole);

// False if judge_proxy_start would find no header in `start` from a peer that is no proxy:
// the datagram path's way around building a ProxyStart for every query.
inline bool may_start_proxy_header(std::span<const uint8_t> start) {
  return start.empty() || start[0] == kProxySignature[0];
}

}  // namespace dnsvagt
