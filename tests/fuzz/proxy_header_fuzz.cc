// The PROXY protocol v2 header parser, on every prefix a stream could have delivered so far,
// and what the transports make of a peer's first bytes (judge_proxy_start).
//
// Input: the bytes a client (or a proxy claiming to be one) sent first.
#include "resolver/proxy_header.h"
#include "tests/fuzz/fuzz_input.h"

namespace dnsvagt {

void fuzz_one(fuzz::FuzzInput& input) {
  const std::span<const uint8_t> bytes = input.rest();
  const ProxyHeader whole = parse_proxy_header(bytes);
  if (whole.status == ProxyHeader::Status::ok) {
    FUZZ_CHECK(whole.length >= 16 && whole.length <= bytes.size() &&
               whole.length <= kMaxProxyHeader);
    FUZZ_CHECK(whole.local == (whole.source_length == 0));
    // The header alone reads the same: nothing after it is looked at.
    const ProxyHeader alone = parse_proxy_header(bytes.first(whole.length));
    FUZZ_CHECK(alone.status == ProxyHeader::Status::ok && alone.length == whole.length);
  } else {
    FUZZ_CHECK(whole.length == 0);
    FUZZ_CHECK((whole.status == ProxyHeader::Status::invalid) == !whole.error.empty());
  }
  // A stream reads the header as it arrives: a prefix of a valid header is incomplete, never
  // invalid, and a prefix of an invalid one never ok.
  for (size_t prefix = 0; prefix < std::min<size_t>(bytes.size(), 64); ++prefix) {
    const ProxyHeader part = parse_proxy_header(bytes.first(prefix));
    if (whole.status == ProxyHeader::Status::ok && prefix < whole.length) {
      FUZZ_CHECK(part.status == ProxyHeader::Status::incomplete);
    }
    if (whole.status == ProxyHeader::Status::invalid) {
      FUZZ_CHECK(part.status != ProxyHeader::Status::ok);
    }
  }
  // What a transport acts on agrees with the parse: only a source in
  // server.proxy_protocol_from has its header taken, and a valid one always is.
  for (const bool from_proxy : {false, true}) {
    for (const bool datagram : {false, true}) {
      const ProxyStart judged = judge_proxy_start(bytes, from_proxy, datagram);
      const bool taken = judged.kind == ProxyStart::Kind::header;
      FUZZ_CHECK(taken == (from_proxy && whole.status == ProxyHeader::Status::ok));
      if (taken) FUZZ_CHECK(judged.header.length == whole.length);
      if (datagram) FUZZ_CHECK(judged.kind != ProxyStart::Kind::incomplete);
      // The datagram path skips the judgement when this says there is nothing to find.
      if (!from_proxy && !may_start_proxy_header(bytes)) {
        FUZZ_CHECK(judged.kind == ProxyStart::Kind::no_header);
      }
    }
  }
}

}  // namespace dnsvagt
