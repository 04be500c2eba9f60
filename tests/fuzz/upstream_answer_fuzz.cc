// Answers from upstream: Answer::from_upstream (index_records walks every record), rendered
// to a client query with an age and a size limit, then turned into a serve-stale reply; and
// mark_reply_stale on the raw packet, which it must reject or mark without reading past it.
//
// Input: [flags][max_ttl:4][age:4][max_size:2][query length:2][query][upstream packet]
//   flags bits 0-1: DNSSEC status; bit 2: keep RRSIG/NSEC records (a DO client).
#include <array>
#include <cstring>
#include <memory>

#include "resolver/answer.h"
#include "resolver/query.h"
#include "resolver/stale_reply.h"
#include "tests/fuzz/fuzz_input.h"

namespace dnsvagt {
namespace {

std::array<uint8_t, 65535> reply;

// A stale marking rejects (0), leaves the length (no OPT at the end, or no room) or adds the
// 6-byte EDE within both limits.
void check_stale_length(size_t stale, size_t length, size_t max_size) {
  FUZZ_CHECK(stale == 0 || stale == length ||
             (stale == length + 6 && stale <= max_size && stale <= reply.size()));
}

}  // namespace

void fuzz_one(fuzz::FuzzInput& input) {
  const uint8_t flags = input.byte();
  const uint32_t max_ttl = input.u32();
  const uint32_t age = input.u32();
  const size_t max_size = input.u16();
  const std::span<const uint8_t> query_packet = input.bytes(input.u16());
  const std::span<const uint8_t> upstream = input.rest();
  if (upstream.size() > reply.size()) return;

  std::memcpy(reply.data(), upstream.data(), upstream.size());
  check_stale_length(mark_reply_stale(reply, upstream.size(), max_size), upstream.size(),
                     max_size);

  const auto status = static_cast<DnssecStatus>(flags & 3);
  const std::shared_ptr<const Answer> answer =
      Answer::from_upstream(upstream, status, (flags & 4) != 0, max_ttl);
  if (!answer) return;
  FUZZ_CHECK(answer->status() == status);
  FUZZ_CHECK(answer->ttl() <= max_ttl);
  for (const DnsName& target : answer->cname_targets()) {
    FUZZ_CHECK(target.wire().size() <= kMaxNameWire);
  }

  Query query;
  if (parse_query(query_packet, query) != QueryParse::ok) return;
  // Whatever the client's limit, a reply fits in a TCP message.
  FUZZ_CHECK(answer->render(query, age, reply.size(), reply) > 0);
  const size_t length = answer->render(query, age, max_size, reply);
  FUZZ_CHECK(length <= max_size);
  if (length == 0) return;
  FUZZ_CHECK((reply[0] << 8 | reply[1]) == query.id && (reply[2] & 0x80) != 0);
  // Our own reply must parse for the stale marking.
  const size_t stale = mark_reply_stale(reply, length, max_size);
  FUZZ_CHECK(stale != 0);
  check_stale_length(stale, length, max_size);
}

}  // namespace dnsvagt
