#include "resolver/query.h"

#include <algorithm>
#include <cstring>

#include "dns/dns_name.h"
#include "resolver/wire.h"

namespace dnsvagt {
namespace {

uint16_t read_u16(std::span<const uint8_t> packet, size_t pos) {
  return dnsvagt::read_u16(&packet[pos]);
}

// Writes `value` and returns where the next field goes.
uint8_t* put_u16(uint8_t* out, uint16_t value) {
  write_u16(out, value);
  return out + 2;
}

// The question at `pos` (header's qdcount == 1). The name must be uncompressed: in a query's
// only question a pointer could only lead into the header or back into the name itself (a
// loop), so a compressed qname is malformed rather than merely unusual. Returns the offset
// past the question, or 0.
size_t parse_question(std::span<const uint8_t> packet, size_t pos, Query& query) {
  uint8_t name[kMaxNameWire];
  size_t end = 0;
  const size_t length = read_wire_name(packet, pos, name, &end);
  if (length == 0 || end - pos != length || end + 4 > packet.size()) return 0;
  query.qname = packet.subspan(pos, length);
  query.qtype = read_u16(packet, end);
  query.qclass = read_u16(packet, end + 2);
  query.has_question = true;
  return end + 4;
}

// RFC 6891 6.1.2: OPT RDATA is a sequence of {code, length, data} that must fill it exactly.
bool options_well_formed(std::span<const uint8_t> rdata) {
  size_t pos = 0;
  while (pos + 4 <= rdata.size()) pos += 4 + read_u16(rdata, pos + 2);
  return pos == rdata.size();
}

}  // namespace

QueryParse parse_query(std::span<const uint8_t> packet, Query& query) {
  query = Query{};
  if (packet.size() < kHeaderSize || (packet[2] & 0x80) != 0) return QueryParse::drop;
  query.id = read_u16(packet, 0);
  query.opcode = (packet[2] >> 3) & 0x0f;
  query.rd = (packet[2] & 0x01) != 0;
  query.ad = (packet[3] & 0x20) != 0;
  query.cd = (packet[3] & 0x10) != 0;
  const uint16_t qdcount = read_u16(packet, 4);
  const uint16_t ancount = read_u16(packet, 6);
  const uint16_t nscount = read_u16(packet, 8);
  const uint16_t arcount = read_u16(packet, 10);

  if (query.opcode != 0) {
    if (qdcount == 1) parse_question(packet, kHeaderSize, query);
    return QueryParse::notimp;
  }
  if (qdcount != 1) return QueryParse::formerr;
  size_t pos = parse_question(packet, kHeaderSize, query);
  if (pos == 0) return QueryParse::formerr;
  if (ancount != 0 || nscount != 0) return QueryParse::formerr;

  bool seen_opt = false;
  for (uint16_t i = 0; i < arcount; ++i) {
    uint8_t owner[kMaxNameWire];
    size_t end = 0;
    const size_t owner_length = read_wire_name(packet, pos, owner, &end);
    if (owner_length == 0 || end + 10 > packet.size()) return QueryParse::formerr;
    const uint16_t type = read_u16(packet, end);
    const uint16_t rdlength = read_u16(packet, end + 8);
    const size_t rdata = end + 10;
    if (rdata + rdlength > packet.size()) return QueryParse::formerr;
    if (type == kTypeOpt) {
      // RFC 6891 6.1.1: one OPT at most, owned by the root.
      if (seen_opt || owner_length != 1) return QueryParse::formerr;
      if (!options_well_formed(packet.subspan(rdata, rdlength))) return QueryParse::formerr;
      seen_opt = true;
      query.has_edns = true;
      query.udp_size = std::max<uint16_t>(512, read_u16(packet, end + 2));
      query.edns_version = packet[end + 5];
      query.do_bit = (packet[end + 6] & 0x80) != 0;
    }
    // Other additional records (TSIG, SIG(0), stray glue) are skipped: we do not verify them.
    pos = rdata + rdlength;
  }
  if (pos != packet.size()) return QueryParse::formerr;
  if (query.edns_version > 0) return QueryParse::badvers;
  return QueryParse::ok;
}

size_t opt_record_size(const Ede* ede) {
  return 11 + (ede != nullptr ? 6 + ede->text.size() : 0);
}

uint8_t* write_opt_record(uint8_t* out, uint16_t rcode, bool do_bit, const Ede* ede) {
  uint8_t* p = out;
  *p++ = 0;  // root owner
  p = put_u16(p, kTypeOpt);
  p = put_u16(p, kServerUdpSize);
  *p++ = static_cast<uint8_t>(rcode >> 4);  // extended rcode: the bits above the header's 4
  *p++ = 0;                                  // EDNS version
  *p++ = do_bit ? 0x80 : 0;                  // RFC 3225: DO is echoed
  *p++ = 0;
  if (ede == nullptr) return put_u16(p, 0);
  p = put_u16(p, static_cast<uint16_t>(6 + ede->text.size()));
  p = put_u16(p, kOptionEde);
  p = put_u16(p, static_cast<uint16_t>(2 + ede->text.size()));
  p = put_u16(p, ede->code);
  // An EDE without text may hold a null pointer, which memcpy must not get even for 0 bytes.
  if (!ede->text.empty()) std::memcpy(p, ede->text.data(), ede->text.size());
  return p + ede->text.size();
}

size_t write_error_reply(const Query& query, uint16_t rcode, const Ede* ede,
                         std::span<uint8_t> out) {
  // An extended rcode (BADVERS = 16) only exists in an OPT record.
  const bool with_opt = query.has_edns || rcode > 0x0f;
  const size_t question_size = query.has_question ? query.qname.size() + 4 : 0;
  const size_t total = kHeaderSize + question_size + (with_opt ? opt_record_size(ede) : 0);
  if (total > out.size()) return 0;

  uint8_t* p = out.data();
  p = put_u16(p, query.id);
  *p++ = static_cast<uint8_t>(0x80 | (query.opcode & 0x0f) << 3 | (query.rd ? 0x01 : 0));
  *p++ = static_cast<uint8_t>(0x80 | (query.cd ? 0x10 : 0) | (rcode & 0x0f));
  p = put_u16(p, query.has_question ? 1 : 0);
  p = put_u16(p, 0);
  p = put_u16(p, 0);
  p = put_u16(p, with_opt ? 1 : 0);
  if (query.has_question) {
    std::memcpy(p, query.qname.data(), query.qname.size());
    p += query.qname.size();
    p = put_u16(p, query.qtype);
    p = put_u16(p, query.qclass);
  }
  if (with_opt) p = write_opt_record(p, rcode, query.do_bit, ede);
  return static_cast<size_t>(p - out.data());
}

}  // namespace dnsvagt
