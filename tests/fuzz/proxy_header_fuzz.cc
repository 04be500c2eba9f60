// The PROXY protocol v2 header parser, on every prefix a stream could have delivered so far.
//
// Input: the bytes a client (or a proxy claiming to be one) sent first.
#include "resolver/proxy_header.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace dnsvagt;
  const ProxyHeader whole = parse_proxy_header({data, size});
  if (whole.status == ProxyHeader::Status::ok) {
    FUZZ_CHECK(whole.length >= 16 && whole.length <= size && whole.length <= kMaxProxyHeader);
    FUZZ_CHECK(whole.local == (whole.source_length == 0));
    // The header alone reads the same: nothing after it is looked at.
    const ProxyHeader alone = parse_proxy_header({data, whole.length});
    FUZZ_CHECK(alone.status == ProxyHeader::Status::ok && alone.length == whole.length);
  } else {
    FUZZ_CHECK(whole.length == 0);
    FUZZ_CHECK((whole.status == ProxyHeader::Status::invalid) == !whole.error.empty());
  }
  // A stream reads the header as it arrives: a prefix of a valid header is incomplete, never
  // invalid, and a prefix of an invalid one never ok.
  for (size_t prefix = 0; prefix < std::min<size_t>(size, 64); ++prefix) {
    const ProxyHeader part = parse_proxy_header({data, prefix});
    if (whole.status == ProxyHeader::Status::ok && prefix < whole.length) {
      FUZZ_CHECK(part.status == ProxyHeader::Status::incomplete);
    }
    if (whole.status == ProxyHeader::Status::invalid) {
      FUZZ_CHECK(part.status != ProxyHeader::Status::ok);
    }
  }
  return 0;
}
