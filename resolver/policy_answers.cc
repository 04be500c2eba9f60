#include "resolver/policy_answers.h"

#include <arpa/inet.h>

#include <cstring>
#include <string_view>

#include "resolver/wire.h"

namespace dnsvagt {
namespace {

// Enough for a flood of distinct blocked names without holding much memory: a full table is
// dropped at once rather than kept in LRU order (rebuilding one answer is cheap).
constexpr size_t kMaxCachedAnswers = 4096;

int family_of(uint16_t qtype) {
  if (qtype == kTypeA) return AF_INET;
  if (qtype == kTypeAaaa) return AF_INET6;
  return 0;
}

// "example.com" of the rules "example.com", "*.example.com" and "|example.com^".
std::string_view entry_name(std::string_view rule) {
  if (rule.starts_with("*.")) rule.remove_prefix(2);
  if (rule.starts_with("|")) rule.remove_prefix(1);
  if (rule.ends_with("^")) rule.remove_suffix(1);
  return rule;
}

std::vector<uint8_t> address_rdata(const LocalAddress& address) {
  const size_t size = address.family == AF_INET ? 4 : 16;
  return std::vector<uint8_t>(address.bytes.begin(), address.bytes.begin() + size);
}

// SOA localhost. nobody.invalid. 1 3600 600 86400 <ttl>
std::vector<uint8_t> soa_rdata(uint32_t ttl) {
  static const uint8_t kNames[] = {9, 'l', 'o', 'c', 'a', 'l', 'h', 'o', 's', 't', 0,
                                   6, 'n', 'o', 'b', 'o', 'd', 'y',
                                   7, 'i', 'n', 'v', 'a', 'l', 'i', 'd', 0};
  std::vector<uint8_t> rdata(std::begin(kNames), std::end(kNames));
  for (uint32_t value : {1u, 3600u, 600u, 86400u, ttl}) {
    for (int shift = 24; shift >= 0; shift -= 8) rdata.push_back(static_cast<uint8_t>(value >> shift));
  }
  return rdata;
}

std::string blocked_reason(const Policy& policy, const PolicyVerdict& verdict,
                           const DnsName* cname_target) {
  std::string text = "blocked by list " + policy.lists()[verdict.list].name + " (entry " +
                     policy.entry_rule(verdict.entry) + ")";
  if (cname_target) text += " via CNAME target " + cname_target->to_text();
  return text;
}

}  // namespace

PolicyAnswers::PolicyAnswers(const BlockingConfig& config)
    : ttl_(config.ttl), sinkhole_(config.sinkhole) {}

std::shared_ptr<const Answer> PolicyAnswers::synthesize(const Policy& policy,
                                                        const PolicyVerdict& verdict,
                                                        const DnsName& qname, uint16_t qtype,
                                                        uint16_t qclass,
                                                        const DnsName* cname_target) const {
  const int family = qclass == kClassIn ? family_of(qtype) : 0;
  std::vector<Answer::LocalRecord> addresses;
  auto add_addresses = [&](std::span<const LocalAddress> candidates) {
    for (const LocalAddress& address : candidates) {
      if (family && address.family == family) {
        addresses.push_back({qname, qtype, ttl_, address_rdata(address)});
      }
    }
  };

  uint16_t rcode = kRcodeNoError;
  switch (verdict.action) {
    case PolicyAction::nxdomain: rcode = kRcodeNxDomain; break;
    case PolicyAction::nodata: break;
    case PolicyAction::refused: rcode = kRcodeRefused; break;
    case PolicyAction::null: {
      LocalAddress unspecified;
      unspecified.family = family;
      add_addresses({&unspecified, 1});
      break;
    }
    case PolicyAction::sinkhole: add_addresses(sinkhole_); break;
    case PolicyAction::local_data: add_addresses(verdict.local_data); break;
    case PolicyAction::drop: return nullptr;
  }
  std::vector<Answer::LocalRecord> authority;
  if (rcode != kRcodeRefused && addresses.empty()) {
    std::optional<DnsName> apex;
    if (!cname_target) apex = DnsName::from_text(entry_name(policy.entry_rule(verdict.entry)));
    authority.push_back({apex ? *apex : qname, kTypeSoa, ttl_, soa_rdata(ttl_)});
  }
  return Answer::synthesize(qname, qtype, qclass, rcode, addresses, authority, kEdeBlocked,
                            blocked_reason(policy, verdict, cname_target));
}

std::shared_ptr<const Answer> PolicyAnswers::blocked(const std::shared_ptr<const Policy>& policy,
                                                     const PolicyVerdict& verdict,
                                                     std::span<const uint8_t> qname,
                                                     uint16_t qtype, uint16_t qclass,
                                                     const DnsName* cname_target) {
  if (verdict.action == PolicyAction::drop) return nullptr;
  if (policy_.owner_before(policy) || policy.owner_before(policy_)) {
    answers_.clear();
    policy_ = policy;
  }
  key_.clear();
  for (uint8_t byte : qname) key_.push_back(static_cast<char>(fold_case(byte)));
  const uint32_t entry = verdict.entry;
  const uint8_t fixed[11] = {static_cast<uint8_t>(qtype >> 8), static_cast<uint8_t>(qtype),
                             static_cast<uint8_t>(qclass >> 8), static_cast<uint8_t>(qclass),
                             static_cast<uint8_t>(verdict.list >> 8),
                             static_cast<uint8_t>(verdict.list),
                             static_cast<uint8_t>(entry >> 24), static_cast<uint8_t>(entry >> 16),
                             static_cast<uint8_t>(entry >> 8), static_cast<uint8_t>(entry),
                             static_cast<uint8_t>(verdict.action)};
  key_.append(reinterpret_cast<const char*>(fixed), sizeof fixed);
  if (cname_target) {
    for (uint8_t byte : cname_target->wire()) key_.push_back(static_cast<char>(fold_case(byte)));
  }
  if (auto found = answers_.find(key_); found != answers_.end()) return found->second;

  size_t end = 0;
  std::optional<DnsName> name = DnsName::from_wire(qname, 0, &end);
  if (!name) throw std::invalid_argument("blocked query name is not a wire name");
  std::shared_ptr<const Answer> answer =
      synthesize(*policy, verdict, name->lowercased(), qtype, qclass, cname_target);
  if (answers_.size() >= kMaxCachedAnswers) answers_.clear();
  answers_.emplace(key_, answer);
  return answer;
}

}  // namespace dnsvagt
