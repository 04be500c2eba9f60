#include "resolver/policy_answers.h"

#include <arpa/inet.h>

#include <string_view>

namespace dnsvagt {
namespace {

constexpr uint16_t kRcodeNoError = 0;
constexpr uint16_t kRcodeNxDomain = 3;
constexpr uint16_t kRcodeRefused = 5;
constexpr uint16_t kTypeA = 1;
constexpr uint16_t kTypeAaaa = 28;
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

int address_family(const std::string& text) {
  uint8_t bytes[16];
  if (inet_pton(AF_INET, text.c_str(), bytes) == 1) return AF_INET;
  if (inet_pton(AF_INET6, text.c_str(), bytes) == 1) return AF_INET6;
  return 0;
}

}  // namespace

std::string blocked_reason(const Policy& policy, const PolicyVerdict& verdict,
                           const DnsName* cname_target) {
  std::string text = "blocked by list " + policy.lists()[verdict.list].name + " (entry " +
                     policy.entry_rule(verdict.entry) + ")";
  if (cname_target) text += " via CNAME target " + cname_target->to_text();
  return text;
}

std::shared_ptr<const Answer> synthesize_blocked_answer(const BlockingConfig& config,
                                                        const Policy& policy,
                                                        const PolicyVerdict& verdict,
                                                        const DnsName& qname, uint16_t qtype,
                                                        const DnsName* cname_target) {
  const std::string ttl = std::to_string(config.ttl);
  const std::string owner = qname.to_text();
  std::string apex = owner;
  if (!cname_target) {
    std::optional<DnsName> entry = DnsName::from_text(entry_name(policy.entry_rule(verdict.entry)));
    if (entry) apex = entry->to_text();
  }
  const std::vector<std::string> soa = {apex + " " + ttl +
                                        " IN SOA localhost. nobody.invalid. 1 3600 600 86400 " +
                                        ttl};
  std::vector<std::string> addresses;
  const int family = family_of(qtype);
  auto add_address = [&](const std::string& text) {
    addresses.push_back(owner + " " + ttl + (family == AF_INET ? " IN A " : " IN AAAA ") + text);
  };

  uint16_t rcode = kRcodeNoError;
  switch (verdict.action) {
    case PolicyAction::nxdomain: rcode = kRcodeNxDomain; break;
    case PolicyAction::nodata: break;
    case PolicyAction::refused: rcode = kRcodeRefused; break;
    case PolicyAction::null:
      if (family) add_address(family == AF_INET ? "0.0.0.0" : "::");
      break;
    case PolicyAction::sinkhole:
      for (const std::string& address : config.sinkhole) {
        if (family && address_family(address) == family) add_address(address);
      }
      break;
    case PolicyAction::local_data:
      for (const LocalAddress& address : verdict.local_data) {
        if (family && address.family == family) add_address(address.to_string());
      }
      break;
    case PolicyAction::drop: return nullptr;
  }
  const bool negative = rcode != kRcodeRefused && addresses.empty();
  return Answer::synthesize(qname, qtype, rcode, addresses,
                            negative ? soa : std::vector<std::string>{}, kEdeBlocked,
                            blocked_reason(policy, verdict, cname_target));
}

PolicyAnswers::PolicyAnswers(const BlockingConfig& config) : config_(config) {}

std::shared_ptr<const Answer> PolicyAnswers::blocked(const std::shared_ptr<const Policy>& policy,
                                                     const PolicyVerdict& verdict,
                                                     std::span<const uint8_t> qname,
                                                     uint16_t qtype,
                                                     const DnsName* cname_target) {
  if (verdict.action == PolicyAction::drop) return nullptr;
  if (policy_.owner_before(policy) || policy.owner_before(policy_)) {
    answers_.clear();
    policy_ = policy;
  }
  key_.clear();
  for (uint8_t byte : qname) key_.push_back(static_cast<char>(fold_case(byte)));
  const uint32_t entry = verdict.entry;
  const uint8_t fixed[8] = {static_cast<uint8_t>(qtype >> 8), static_cast<uint8_t>(qtype),
                            static_cast<uint8_t>(verdict.list >> 8),
                            static_cast<uint8_t>(verdict.list),
                            static_cast<uint8_t>(entry >> 24), static_cast<uint8_t>(entry >> 16),
                            static_cast<uint8_t>(entry >> 8), static_cast<uint8_t>(entry)};
  key_.append(reinterpret_cast<const char*>(fixed), sizeof fixed);
  if (cname_target) {
    for (uint8_t byte : cname_target->wire()) key_.push_back(static_cast<char>(fold_case(byte)));
  }
  if (auto found = answers_.find(key_); found != answers_.end()) return found->second;

  size_t end = 0;
  std::optional<DnsName> name = DnsName::from_wire(qname, 0, &end);
  if (!name) return nullptr;
  std::shared_ptr<const Answer> answer = synthesize_blocked_answer(
      config_, *policy, verdict, name->lowercased(), qtype, cname_target);
  if (answers_.size() >= kMaxCachedAnswers) answers_.clear();
  answers_.emplace(key_, answer);
  return answer;
}

}  // namespace dnsvagt
