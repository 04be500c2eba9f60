// A client's query parsed just far enough to answer it: header flags, the one question, EDNS.
// Parsing never allocates; names point into the packet, which must outlive the Query.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace dnsvagt {

enum class QueryParse {
  ok,
  drop,      // not worth a reply: QR=1, or shorter than a header
  formerr,   // header parsed but the rest is malformed (qdcount != 1, bad name, bad OPT, ...)
  notimp,    // opcode other than QUERY
  badvers,   // EDNS version > 0
};

struct Query {
  uint16_t id = 0;
  uint8_t opcode = 0;
  bool rd = false, cd = false, ad = false;
  std::span<const uint8_t> qname;  // wire bytes as sent (no compression in a question), may be empty on drop/formerr/notimp
  uint16_t qtype = 0, qclass = 0;
  bool has_question = false;       // qname/qtype/qclass valid (echoed in error replies)
  bool has_edns = false;
  bool do_bit = false;
  uint8_t edns_version = 0;
  uint16_t udp_size = 512;         // the client's, clamped to >= 512; 512 without EDNS
};

QueryParse parse_query(std::span<const uint8_t> packet, Query& query);

// Our advertised EDNS UDP buffer size (DNS flag day 2020).
constexpr uint16_t kServerUdpSize = 1232;

// Extended DNS Error (RFC 8914) to attach to a reply.
struct Ede {
  uint16_t code = 0;
  std::string_view text;
};

// Builds a reply without records: ID, opcode, RD, CD echoed, question echoed when the query
// had one, RA set, our OPT (with EDE if given) when the client sent EDNS. Returns its length
// (0 if `out` is too small). Used for FORMERR, NOTIMP, REFUSED, SERVFAIL, BADVERS.
size_t write_error_reply(const Query& query, uint16_t rcode, const Ede* ede,
                         std::span<uint8_t> out);

}  // namespace dnsvagt
