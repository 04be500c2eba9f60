// PolicyAnswers: the replies to queries the blocklists block (DESIGN.md "Data flow"), per
// blocking.action or an RPZ entry's own action, each with EDE 15 naming the list and entry.
// One per worker; it keeps the answers it made for the current policy, so repeated blocked
// queries cost a hash lookup instead of building a packet.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "blocklists/policy.h"
#include "config/config.h"
#include "resolver/answer.h"
#include "dns/dns_name.h"

namespace dnsvagt {

constexpr uint16_t kEdeBlocked = 15;  // RFC 8914 "Blocked"

// The replies to blocked queries. The EDE's EXTRA-TEXT is "blocked by list urlhaus (entry
// example.com)", plus " via CNAME target NAME" when the block hit a name the answer's CNAME
// chain leads to. Negative answers carry "<apex> <ttl> SOA localhost. nobody.invalid. 1 3600 600
// 86400 <ttl>" in the authority section, apex being the blocking entry's name (the query name
// for a CNAME-target block), so clients cache them for blocking.ttl.
class PolicyAnswers {
 public:
  explicit PolicyAnswers(const BlockingConfig& config);

  // The answer to a query for `qname` (uncompressed wire, any case) and `qtype`/`qclass`
  // blocked by `verdict` of `policy`; nullptr when the action is drop (no reply at all).
  // `cname_target`: the name of the answer's CNAME chain the block hit, if it was not the query
  // name. Addresses are answered in class IN only; other classes get the negative answer.
  std::shared_ptr<const Answer> blocked(const std::shared_ptr<const Policy>& policy,
                                        const PolicyVerdict& verdict,
                                        std::span<const uint8_t> qname, uint16_t qtype,
                                        uint16_t qclass, const DnsName* cname_target = nullptr);

 private:
  std::shared_ptr<const Answer> synthesize(const Policy& policy, const PolicyVerdict& verdict,
                                           const DnsName& qname, uint16_t qtype,
                                           uint16_t qclass, const DnsName* cname_target) const;

  const uint32_t ttl_;
  const std::vector<LocalAddress> sinkhole_;
  // Answers made for `policy_` only (compared by owner, so a freed policy's address reused by
  // a new one never matches), keyed by lowercased qname, qtype, qclass, list, entry, action
  // (client groups answer one entry differently) and CNAME target.
  std::weak_ptr<const Policy> policy_;
  std::unordered_map<std::string, std::shared_ptr<const Answer>> answers_;
  std::string key_;  // reused per lookup
};

}  // namespace dnsvagt
