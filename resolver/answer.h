// Answer: a complete response from upstream (or synthesized by policy), kept in wire form and
// re-rendered for each client: its ID, flags, question case, EDNS, AD rule, aged TTLs, truncation.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "dns/dns_name.h"
#include "resolver/query.h"

namespace dnsvagt {

enum class DnssecStatus : uint8_t { secure, insecure, bogus, indeterminate };
const char* to_string(DnssecStatus status);

class Answer {
 public:
  // From libunbound's answer packet (ID 0, DO=1, RRSIGs included, never truncated).
  // keep_dnssec_records: keep RRSIG/NSEC/NSEC3 (for DO clients); otherwise they are dropped.
  // TTLs are capped at max_ttl. Returns nullptr if the packet does not parse.
  static std::shared_ptr<const Answer> from_upstream(std::span<const uint8_t> packet,
                                                     DnssecStatus status,
                                                     bool keep_dnssec_records,
                                                     uint32_t max_ttl);

  // One record of a locally made answer: owner, type, TTL and uncompressed RDATA; its class
  // is the question's.
  struct LocalRecord {
    DnsName owner;
    uint16_t type = 0;
    uint32_t ttl = 0;
    std::vector<uint8_t> rdata;
  };

  // A locally made answer (policy, blocked names), built in wire form so that every name a
  // client can send can be answered (zone-file text cannot hold some of them): rcode, answer
  // and authority records, and an EDE attached to every rendering to an EDNS client. Owners
  // that are the query name or a suffix of it point into the question. Status indeterminate
  // (never AD). Throws std::length_error if the records do not fit one DNS message.
  static std::shared_ptr<const Answer> synthesize(const DnsName& qname, uint16_t qtype,
                                                  uint16_t qclass, uint16_t rcode,
                                                  std::span<const LocalRecord> answer_rrs,
                                                  std::span<const LocalRecord> authority_rrs,
                                                  uint16_t ede_code, std::string ede_text);

  // Writes the reply to `query` into `out`: ID, opcode, RD and CD from the query, QR and RA set,
  // the client's question bytes (case preserved), TTLs reduced by `age` seconds (never below 0),
  // AD only when status is secure and the client set DO or AD (and not CD), our OPT record when
  // the client sent EDNS (with the EDE, if any). If the reply exceeds `max_size` (the client's
  // UDP limit) it is cut to header + question + OPT with TC=1. Returns the length written.
  size_t render(const Query& query, uint32_t age, size_t max_size,
                std::span<uint8_t> out) const;

  uint16_t rcode() const { return rcode_; }
  DnssecStatus status() const { return status_; }
  // Seconds this answer may be cached: the smallest TTL, or for negative answers the SOA
  // rules of RFC 2308, at most 3 hours; 0 = do not cache.
  uint32_t ttl() const { return ttl_; }
  // CNAME/DNAME targets in the answer section, in chain order (for CNAME-cloaking checks).
  const std::vector<DnsName>& cname_targets() const { return cname_targets_; }
  // Bytes this entry holds (for the cache's size bound).
  size_t memory_size() const;

 private:
  Answer(std::vector<uint8_t> wire, DnssecStatus status, uint16_t rcode);
  // Walks `wire_` once: question end, TTL offsets, ttl_, cname_targets_. False if malformed.
  bool index_records();

  std::vector<uint8_t> wire_;          // header + question + records (compressed), no OPT
  std::vector<uint16_t> ttl_offsets_;  // where each record's TTL sits in wire_
  std::vector<DnsName> cname_targets_;
  uint16_t question_end_ = 0;          // header + question: what a truncated reply keeps
  uint16_t rcode_ = 0;                 // extended: may exceed 15
  DnssecStatus status_ = DnssecStatus::indeterminate;
  uint32_t ttl_ = 0;
  bool has_ede_ = false;
  uint16_t ede_code_ = 0;
  std::string ede_text_;
};

}  // namespace dnsvagt
