#include "resolver/answer.h"

#include <ldns/ldns.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "resolver/wire.h"

namespace dnsvagt {
namespace {

// RFC 2308 section 5: negative answers are cached for at most a few hours (1-3 suggested), so
// a name that comes into existence is seen soon whatever its zone's SOA says.
constexpr uint32_t kMaxNegativeTtl = 3 * 3600;

using PacketPtr = std::unique_ptr<ldns_pkt, decltype(&ldns_pkt_free)>;
PacketPtr new_packet() { return PacketPtr(ldns_pkt_new(), &ldns_pkt_free); }

// Serializes with ldns (name compression included); empty on failure.
std::vector<uint8_t> to_wire(const ldns_pkt* pkt) {
  uint8_t* data = nullptr;
  size_t size = 0;
  if (ldns_pkt2wire(&data, pkt, &size) != LDNS_STATUS_OK) return {};
  std::vector<uint8_t> wire(data, data + size);
  LDNS_FREE(data);
  return wire;
}

bool is_dnssec_type(ldns_rr_type type) {
  return type == LDNS_RR_TYPE_RRSIG || type == LDNS_RR_TYPE_NSEC || type == LDNS_RR_TYPE_NSEC3;
}

// Copies one section of `from` into `to`, capping TTLs and dropping DNSSEC records unless kept
// (or, in the answer section, unless they are what was asked for: RFC 4035 3.2.1).
void copy_section(const ldns_rr_list* from, ldns_pkt* to, ldns_pkt_section section,
                  bool keep_dnssec_records, ldns_rr_type qtype, uint32_t max_ttl) {
  for (size_t i = 0; i < ldns_rr_list_rr_count(from); ++i) {
    const ldns_rr* rr = ldns_rr_list_rr(from, i);
    const ldns_rr_type type = ldns_rr_get_type(rr);
    if (!keep_dnssec_records && is_dnssec_type(type) &&
        !(section == LDNS_SECTION_ANSWER && type == qtype)) {
      continue;
    }
    ldns_rr* copy = ldns_rr_clone(rr);
    ldns_rr_set_ttl(copy, std::min(ldns_rr_ttl(copy), max_ttl));
    ldns_pkt_push_rr(to, section, copy);
  }
}

void append_u16(std::vector<uint8_t>& wire, uint16_t v) {
  wire.push_back(static_cast<uint8_t>(v >> 8));
  wire.push_back(static_cast<uint8_t>(v));
}

void append_u32(std::vector<uint8_t>& wire, uint32_t v) {
  append_u16(wire, static_cast<uint16_t>(v >> 16));
  append_u16(wire, static_cast<uint16_t>(v));
}

bool equal_ignoring_case(std::span<const uint8_t> a, std::span<const uint8_t> b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                    [](uint8_t x, uint8_t y) { return fold_case(x) == fold_case(y); });
}

// Appends `name`, as a pointer into the question when it is the question name or one of its
// suffixes (label bytes compare case-insensitively; only whole labels are suffixes).
void append_owner(std::vector<uint8_t>& wire, const DnsName& name, const DnsName& qname) {
  const std::span<const uint8_t> question = qname.wire();
  for (size_t label = 0; label < question.size(); label += question[label] + 1) {
    if (equal_ignoring_case(question.subspan(label), name.wire())) {
      append_u16(wire, static_cast<uint16_t>(0xc000 | (kHeaderSize + label)));
      return;
    }
    if (question[label] == 0) break;
  }
  wire.insert(wire.end(), name.wire().begin(), name.wire().end());
}

void append_records(std::vector<uint8_t>& wire, std::span<const Answer::LocalRecord> records,
                    uint16_t qclass, const DnsName& qname) {
  for (const Answer::LocalRecord& record : records) {
    if (record.rdata.size() > 0xffff) throw std::length_error("record data over 64 KiB");
    append_owner(wire, record.owner, qname);
    append_u16(wire, record.type);
    append_u16(wire, qclass);
    append_u32(wire, record.ttl);
    append_u16(wire, static_cast<uint16_t>(record.rdata.size()));
    wire.insert(wire.end(), record.rdata.begin(), record.rdata.end());
  }
}

}  // namespace

const char* to_string(DnssecStatus status) {
  switch (status) {
    case DnssecStatus::secure: return "secure";
    case DnssecStatus::insecure: return "insecure";
    case DnssecStatus::bogus: return "bogus";
    case DnssecStatus::indeterminate: return "indeterminate";
  }
  return "indeterminate";
}

Answer::Answer(std::vector<uint8_t> wire, DnssecStatus status, uint16_t rcode)
    : wire_(std::move(wire)), rcode_(rcode), status_(status) {}

std::shared_ptr<const Answer> Answer::from_upstream(std::span<const uint8_t> packet,
                                                    DnssecStatus status,
                                                    bool keep_dnssec_records,
                                                    uint32_t max_ttl) {
  ldns_pkt* parsed = nullptr;
  // ldns_wire2pkt leaks on some packets whose records are not all within them (a TSIG
  // followed by a cut-off record), so those never reach it.
  if (!walk_records(packet) ||
      ldns_wire2pkt(&parsed, packet.data(), packet.size()) != LDNS_STATUS_OK) {
    return nullptr;
  }
  const PacketPtr upstream(parsed, &ldns_pkt_free);
  const ldns_rr_list* question = ldns_pkt_question(parsed);
  if (ldns_rr_list_rr_count(question) != 1) return nullptr;

  // A fresh packet rather than an edited one: no OPT, TSIG or EDNS state can leak through.
  const PacketPtr copy = new_packet();
  ldns_pkt_push_rr(copy.get(), LDNS_SECTION_QUESTION,
                   ldns_rr_clone(ldns_rr_list_rr(question, 0)));
  const ldns_rr_type qtype = ldns_rr_get_type(ldns_rr_list_rr(question, 0));
  copy_section(ldns_pkt_answer(parsed), copy.get(), LDNS_SECTION_ANSWER, keep_dnssec_records,
               qtype, max_ttl);
  copy_section(ldns_pkt_authority(parsed), copy.get(), LDNS_SECTION_AUTHORITY,
               keep_dnssec_records, qtype, max_ttl);
  copy_section(ldns_pkt_additional(parsed), copy.get(), LDNS_SECTION_ADDITIONAL,
               keep_dnssec_records, qtype, max_ttl);
  const uint16_t rcode = static_cast<uint16_t>(ldns_pkt_get_rcode(parsed) |
                                               ldns_pkt_edns_extended_rcode(parsed) << 4);
  ldns_pkt_set_rcode(copy.get(), static_cast<uint8_t>(rcode & 0x0f));

  std::shared_ptr<Answer> answer(new Answer(to_wire(copy.get()), status, rcode));
  if (!answer->index_records()) return nullptr;
  return answer;
}

std::shared_ptr<const Answer> Answer::synthesize(const DnsName& qname, uint16_t qtype,
                                                 uint16_t qclass, uint16_t rcode,
                                                 std::span<const LocalRecord> answer_rrs,
                                                 std::span<const LocalRecord> authority_rrs,
                                                 uint16_t ede_code, std::string ede_text) {
  if (answer_rrs.size() > 0xffff || authority_rrs.size() > 0xffff) {
    throw std::length_error("more records than a DNS message counts");
  }
  std::vector<uint8_t> wire(kHeaderSize, 0);
  wire[3] = static_cast<uint8_t>(rcode & 0x0f);
  write_u16(&wire[4], 1);
  write_u16(&wire[6], static_cast<uint16_t>(answer_rrs.size()));
  write_u16(&wire[8], static_cast<uint16_t>(authority_rrs.size()));
  wire.insert(wire.end(), qname.wire().begin(), qname.wire().end());
  append_u16(wire, qtype);
  append_u16(wire, qclass);
  append_records(wire, answer_rrs, qclass, qname);
  append_records(wire, authority_rrs, qclass, qname);
  if (wire.size() > 0xffff) throw std::length_error("synthesized answer over 64 KiB");

  std::shared_ptr<Answer> answer(new Answer(std::move(wire), DnssecStatus::indeterminate, rcode));
  if (!answer->index_records()) throw std::length_error("synthesized answer does not index");
  answer->has_ede_ = true;
  answer->ede_code_ = ede_code;
  answer->ede_text_ = std::move(ede_text);
  return answer;
}

bool Answer::index_records() {
  const std::span<const uint8_t> wire(wire_);
  if (wire.size() < kHeaderSize || wire.size() > 0xffff) return false;
  const uint16_t counts[3] = {read_u16(&wire[6]), read_u16(&wire[8]), read_u16(&wire[10])};
  size_t pos = 0;
  const auto qname = DnsName::from_wire(wire, kHeaderSize, &pos);
  if (read_u16(&wire[4]) != 1 || !qname || pos + 4 > wire.size()) return false;
  pos += 4;
  question_end_ = static_cast<uint16_t>(pos);

  struct Link {
    DnsName owner, target;
    uint16_t type;
    bool used = false;
  };
  std::vector<Link> links;
  uint32_t min_ttl = UINT32_MAX;
  bool has_soa = false;
  uint8_t name[kMaxNameWire];
  for (int section = 0; section < 3; ++section) {
    for (uint16_t i = 0; i < counts[section]; ++i) {
      const size_t owner_at = pos;
      if (read_wire_name(wire, owner_at, name, &pos) == 0 || pos + 10 > wire.size()) return false;
      const uint16_t type = read_u16(&wire[pos]);
      const uint32_t ttl = read_u32(&wire[pos + 4]);
      const uint16_t rdlength = read_u16(&wire[pos + 8]);
      const size_t rdata = pos + 10;
      if (rdata + rdlength > wire.size()) return false;
      ttl_offsets_.push_back(static_cast<uint16_t>(pos + 4));
      if (section < 2) min_ttl = std::min(min_ttl, ttl);  // additional data is not the answer
      if (section == 1 && type == kTypeSoa && rdlength >= 22) {
        has_soa = true;
        min_ttl = std::min(min_ttl, read_u32(&wire[rdata + rdlength - 4]));  // SOA MINIMUM
      }
      if (section == 0 && (type == kTypeCname || type == kTypeDname)) {
        size_t end = 0;
        auto owner = DnsName::from_wire(wire, owner_at, &end);
        auto target = DnsName::from_wire(wire, rdata, &end);
        if (!owner || !target) return false;
        links.push_back({std::move(*owner), std::move(*target), type});
      }
      pos = rdata + rdlength;
    }
  }
  if (pos != wire.size()) return false;

  // RFC 2308: a negative answer is cacheable only with its SOA, for min(SOA TTL, MINIMUM).
  const bool negative = rcode_ == kRcodeNxDomain || counts[0] == 0;
  if ((rcode_ != kRcodeNoError && rcode_ != kRcodeNxDomain) || (negative && !has_soa)) {
    ttl_ = 0;
  } else {
    ttl_ = min_ttl == UINT32_MAX ? 0 : min_ttl;
    if (negative) ttl_ = std::min(ttl_, kMaxNegativeTtl);
  }

  // Follow the chain from the qname: a DNAME covering the current name, then the CNAME it
  // synthesized (or a plain CNAME), so the targets come out in resolution order.
  DnsName current = *qname;
  for (;;) {
    auto dname = std::find_if(links.begin(), links.end(), [&](const Link& link) {
      return !link.used && link.type == kTypeDname && current.is_subdomain_of(link.owner) &&
             !(current == link.owner);
    });
    if (dname != links.end()) {
      dname->used = true;
      cname_targets_.push_back(dname->target);
    }
    auto cname = std::find_if(links.begin(), links.end(), [&](const Link& link) {
      return !link.used && link.type == kTypeCname && link.owner == current;
    });
    if (cname == links.end()) break;
    cname->used = true;
    cname_targets_.push_back(cname->target);
    current = cname->target;
  }
  return true;
}

size_t Answer::render(const Query& query, uint32_t age, size_t max_size,
                      std::span<uint8_t> out) const {
  const Ede ede{ede_code_, ede_text_};
  const Ede* edns_ede = has_ede_ ? &ede : nullptr;
  const size_t opt_size = query.has_edns ? opt_record_size(edns_ede) : 0;
  const size_t limit = std::min(max_size, out.size());
  const bool truncated = wire_.size() + opt_size > limit;
  const size_t length = truncated ? question_end_ : wire_.size();
  if (length + opt_size > limit) return 0;

  uint8_t* p = out.data();
  std::memcpy(p, wire_.data(), length);
  write_u16(p, query.id);
  const bool ad = status_ == DnssecStatus::secure && (query.do_bit || query.ad) && !query.cd;
  p[2] = static_cast<uint8_t>(0x80 | (query.opcode & 0x0f) << 3 | (truncated ? 0x02 : 0) |
                              (query.rd ? 0x01 : 0));
  p[3] = static_cast<uint8_t>(0x80 | (ad ? 0x20 : 0) | (query.cd ? 0x10 : 0) | (rcode_ & 0x0f));
  // The client's spelling of the name (0x20 randomisation); the cache key matched it already.
  if (query.qname.size() == question_end_ - kHeaderSize - 4) {
    std::memcpy(p + kHeaderSize, query.qname.data(), query.qname.size());
  }
  uint16_t arcount = 0;
  if (truncated) {
    std::memset(p + 6, 0, 6);
  } else {
    arcount = read_u16(p + 10);
    for (uint16_t offset : ttl_offsets_) {
      const uint32_t ttl = read_u32(p + offset);
      write_u32(p + offset, ttl > age ? ttl - age : 0);
    }
  }
  if (query.has_edns) {
    write_u16(p + 10, static_cast<uint16_t>(arcount + 1));
    write_opt_record(p + length, rcode_, query.do_bit, edns_ede);
  }
  return length + opt_size;
}

size_t Answer::memory_size() const {
  size_t size = sizeof(Answer) + wire_.capacity() +
                ttl_offsets_.capacity() * sizeof(uint16_t) +
                cname_targets_.capacity() * sizeof(DnsName) + ede_text_.capacity();
  for (const DnsName& target : cname_targets_) size += target.wire().size();
  return size;
}

}  // namespace dnsvagt
