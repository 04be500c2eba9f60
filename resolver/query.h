// A client's query parsed just far enough to answer it: header flags, the one question, EDNS.
// Parsing never allocates; names point into the packet, which must outlive the Query.
#pragma once

#include <cstddef>
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
  // Wire bytes as sent (case preserved); empty unless has_question. A compressed qname is
  // FORMERR: in the only question a pointer can lead nowhere but the header or a loop.
  std::span<const uint8_t> qname;
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
  std::string_view text;  // UTF-8, short: the whole OPT RDATA must stay below 64 KiB
};

// Our OPT record: UDP size kServerUdpSize, extended rcode = rcode >> 4, DO as given, and the
// EDE option when `ede` is not null. write_opt_record returns the end of what it wrote
// (opt_record_size(ede) bytes), never allocating.
size_t opt_record_size(const Ede* ede);
uint8_t* write_opt_record(uint8_t* out, uint16_t rcode, bool do_bit, const Ede* ede);

// Builds a reply without records: ID, opcode, RD, CD echoed, question echoed when the query
// had one, RA set, our OPT (with EDE if given) when the client sent EDNS. Returns its length
// (0 if `out` is too small). Used for FORMERR, NOTIMP, REFUSED, SERVFAIL, BADVERS.
size_t write_error_reply(const Query& query, uint16_t rcode, const Ede* ede,
                         std::span<uint8_t> out);

}  // namespace dnsvagt
