// Test and benchmark helpers for the wire layer: client queries as the server parses them, and
// answer packets shaped like libunbound's (built with ldns from zone-file lines).
#pragma once

#include <ldns/ldns.h>

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "dns/dns_name.h"
#include "resolver/query.h"

namespace dnsvagt::wiretest {

// A parsed client query together with the packet its qname points into.
struct ClientQuery {
  std::vector<uint8_t> packet;
  Query query;

  // flags_lo is the header's second flag byte (0x20 AD, 0x10 CD); RD is always set.
  ClientQuery(std::string_view name, uint16_t qtype, bool edns, bool do_bit = false,
              uint8_t flags_lo = 0, uint16_t udp_size = 1232) {
    packet = {0xab, 0xcd, 0x01, flags_lo, 0, 1, 0, 0, 0, 0, 0, static_cast<uint8_t>(edns)};
    const DnsName qname = DnsName::from_text(name).value();
    packet.insert(packet.end(), qname.wire().begin(), qname.wire().end());
    packet.insert(packet.end(),
                  {static_cast<uint8_t>(qtype >> 8), static_cast<uint8_t>(qtype), 0, 1});
    if (edns) {
      packet.insert(packet.end(), {0, 0, 41, static_cast<uint8_t>(udp_size >> 8),
                                   static_cast<uint8_t>(udp_size), 0, 0,
                                   static_cast<uint8_t>(do_bit ? 0x80 : 0), 0, 0, 0});
    }
    if (parse_query(packet, query) != QueryParse::ok) {
      throw std::runtime_error("test query does not parse");
    }
  }
  ClientQuery(const ClientQuery&) = delete;  // query.qname points into packet
  ClientQuery& operator=(const ClientQuery&) = delete;
};

inline ldns_rr* zone_line_rr(const std::string& line) {
  ldns_rr* record = nullptr;
  if (ldns_rr_new_frm_str(&record, line.c_str(), 0, nullptr, nullptr) != LDNS_STATUS_OK) {
    throw std::runtime_error("bad test record: " + line);
  }
  return record;
}

// What libunbound hands over: ID 0, QR/RD/RA/AD, OPT with DO=1, RRSIGs as given.
inline std::vector<uint8_t> upstream_packet(const std::string& question, ldns_pkt_rcode rcode,
                                            const std::vector<std::string>& answer,
                                            const std::vector<std::string>& authority = {},
                                            const std::vector<std::string>& additional = {}) {
  std::unique_ptr<ldns_pkt, decltype(&ldns_pkt_free)> pkt(ldns_pkt_new(), &ldns_pkt_free);
  ldns_rr* q = nullptr;
  if (ldns_rr_new_question_frm_str(&q, question.c_str(), nullptr, nullptr) != LDNS_STATUS_OK) {
    throw std::runtime_error("bad test question: " + question);
  }
  ldns_pkt_push_rr(pkt.get(), LDNS_SECTION_QUESTION, q);
  for (const auto& line : answer) {
    ldns_pkt_push_rr(pkt.get(), LDNS_SECTION_ANSWER, zone_line_rr(line));
  }
  for (const auto& line : authority) {
    ldns_pkt_push_rr(pkt.get(), LDNS_SECTION_AUTHORITY, zone_line_rr(line));
  }
  for (const auto& line : additional) {
    ldns_pkt_push_rr(pkt.get(), LDNS_SECTION_ADDITIONAL, zone_line_rr(line));
  }
  ldns_pkt_set_qr(pkt.get(), true);
  ldns_pkt_set_rd(pkt.get(), true);
  ldns_pkt_set_ra(pkt.get(), true);
  ldns_pkt_set_ad(pkt.get(), true);
  ldns_pkt_set_rcode(pkt.get(), rcode);
  ldns_pkt_set_edns_udp_size(pkt.get(), 4096);
  ldns_pkt_set_edns_do(pkt.get(), true);
  uint8_t* data = nullptr;
  size_t size = 0;
  if (ldns_pkt2wire(&data, pkt.get(), &size) != LDNS_STATUS_OK) {
    throw std::runtime_error("test packet does not serialize");
  }
  std::vector<uint8_t> wire(data, data + size);
  free(data);
  return wire;
}

}  // namespace dnsvagt::wiretest
