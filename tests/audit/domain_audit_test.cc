// The checks of one domain from lookup results given as a table: which lookups each
// requirement rests on, and how secure, insecure, bogus, failed and timed-out answers judge it.
// (tests/integration/test_audit.py runs the same checks through libunbound against NSD.)
#include "audit/domain_audit.h"

#include <gtest/gtest.h>

#include <map>

namespace dnsvagt {
namespace {

using namespace rr_type;

LookupResult data(std::vector<std::string> records, Security security = Security::secure) {
  return {LookupOutcome::data, security, std::move(records), ""};
}
LookupResult nodata(Security security = Security::secure) {
  return {LookupOutcome::nodata, security, {}, ""};
}
LookupResult nxdomain() { return {LookupOutcome::nxdomain, Security::secure, {}, ""}; }
LookupResult bogus() { return {LookupOutcome::bogus, Security::unknown, {}, "no keys"}; }
LookupResult servfail() { return {LookupOutcome::failed, Security::unknown, {}, "SERVFAIL"}; }

// Answers from a table; a name and type not in it does not exist (NXDOMAIN).
class TableLookup : public DnsLookup {
 public:
  LookupResult lookup(const std::string& name, uint16_t type) override {
    ++asked[{name, type}];
    auto found = answers.find({name, type});
    return found == answers.end() ? nxdomain() : found->second;
  }
  std::map<std::pair<std::string, uint16_t>, LookupResult> answers;
  std::map<std::pair<std::string, uint16_t>, int> asked;
};

// example.dk as it should be: signed with a DS, mail to mx.example.dk with TLSA, SPF,
// DMARC reject, a DKIM key at s1.
TableLookup compliant() {
  TableLookup dns;
  dns.answers = {
      {{"example.dk", kSoa}, data({"ns.example.dk. h.example.dk. 1 3600 600 86400 300"})},
      {{"example.dk", kDs}, data({"12345 13 2 ABCD"})},
      {{"example.dk", kMx}, data({"10 mx.example.dk."})},
      {{"mx.example.dk", kA}, data({"192.0.2.25"})},
      {{"_25._tcp.mx.example.dk", kTlsa}, data({"3 1 1 ABAB"})},
      {{"example.dk", kTxt}, data({"v=spf1 mx -all", "google-site-verification=x"})},
      {{"_dmarc.example.dk", kTxt}, data({"v=DMARC1; p=reject"})},
      {{"s1._domainkey.example.dk", kTxt}, data({"v=DKIM1; k=ed25519; p=AAAA"})},
  };
  return dns;
}

AuditDomain example() {
  AuditDomain domain;
  domain.name = "example.dk";
  domain.dkim_selectors = {"s1"};
  return domain;
}

std::map<int, Verdict> verdicts(const DomainResult& result) {
  std::map<int, Verdict> by_requirement;
  for (const RequirementResult& r : result.requirements) by_requirement[r.requirement] = r.verdict;
  return by_requirement;
}

const std::map<int, Verdict> kAllMet = {{17, Verdict::met}, {18, Verdict::met},
                                        {19, Verdict::met}, {20, Verdict::met},
                                        {23, Verdict::met}};

TEST(AuditDomain, ACompliantDomainMeetsEverythingAskingEachLookupOnce) {
  TableLookup dns = compliant();
  DomainResult result = audit_domain(example(), dns);
  EXPECT_EQ(result.domain, "example.dk");
  EXPECT_EQ(verdicts(result), kAllMet) << to_text_table({{}, {result}});
  for (const auto& [question, count] : dns.asked) EXPECT_EQ(count, 1) << question.first;
}

TEST(AuditDomain, Requirement17OutsideDkNeedsTheException) {
  AuditDomain domain = example();
  domain.name = "example.eu";
  TableLookup dns;
  EXPECT_EQ(audit_domain(domain, dns).requirements[0].verdict, Verdict::not_met);
  domain.foreign_cooperation = true;
  EXPECT_EQ(audit_domain(domain, dns).requirements[0].verdict, Verdict::met);
}

TEST(AuditDomain, InsecureDataIsNotMetWhereSecurityIsRequired) {
  TableLookup dns = compliant();
  dns.answers[{"example.dk", kDs}] = nodata();                                  // 18
  dns.answers[{"mx.example.dk", kA}] = data({"192.0.2.25"}, Security::insecure);  // 19
  dns.answers[{"_25._tcp.mx.example.dk", kTlsa}] = data({"3 1 1 AB"}, Security::insecure);
  auto result = verdicts(audit_domain(example(), dns));
  EXPECT_EQ(result[18], Verdict::not_met);
  EXPECT_EQ(result[19], Verdict::not_met);
  EXPECT_EQ(result[20], Verdict::not_met);
  EXPECT_EQ(result[23], Verdict::met);
}

TEST(AuditDomain, BogusIsNotMetAndFailureCannotTell) {
  TableLookup dns = compliant();
  dns.answers[{"_25._tcp.mx.example.dk", kTlsa}] = bogus();
  dns.answers[{"_dmarc.example.dk", kTxt}] = servfail();
  DomainResult result = audit_domain(example(), dns);
  auto by_requirement = verdicts(result);
  EXPECT_EQ(by_requirement[20], Verdict::not_met);
  EXPECT_EQ(by_requirement[23], Verdict::cannot_tell);
  EXPECT_NE(result.requirements[3].checks.back().evidence.find("bogus answer"), std::string::npos);
}

TEST(AuditDomain, WithoutValidationSecurityCannotBeTold) {
  TableLookup dns = compliant();
  for (auto& [question, answer] : dns.answers) answer.security = Security::unknown;
  auto result = verdicts(audit_domain(example(), dns));
  EXPECT_EQ(result[18], Verdict::cannot_tell);
  EXPECT_EQ(result[19], Verdict::cannot_tell);
  EXPECT_EQ(result[20], Verdict::cannot_tell);
  EXPECT_EQ(result[23], Verdict::met);  // SPF, DMARC and DKIM do not need DNSSEC
}

TEST(AuditDomain, NoMailGatewayNeedsNoTlsa) {
  TableLookup dns = compliant();
  dns.answers[{"example.dk", kMx}] = nodata();
  EXPECT_EQ(verdicts(audit_domain(example(), dns)), kAllMet);
  dns.answers[{"example.dk", kMx}] = data({"0 ."});  // null MX
  EXPECT_EQ(verdicts(audit_domain(example(), dns)), kAllMet);
}

TEST(AuditDomain, SubdomainsWithDelegationAndMailFlow) {
  TableLookup dns = compliant();
  AuditDomain domain = example();
  domain.subdomains = {{"post.example.dk", true}, {"www.example.dk", false}};
  // post is a delegated zone without a DS; www lives in example.dk's zone.
  dns.answers[{"post.example.dk", kSoa}] = data({"ns.post.example.dk. h. 1 2 3 4 5"},
                                                Security::insecure);
  dns.answers[{"post.example.dk", kDs}] = nodata();
  dns.answers[{"www.example.dk", kSoa}] = nodata();
  dns.answers[{"post.example.dk", kTxt}] = data({"v=spf1 -all"}, Security::insecure);
  dns.answers[{"www.example.dk", kTxt}] = data({"v=spf1 -all"});
  DomainResult result = audit_domain(domain, dns);
  auto by_requirement = verdicts(result);
  EXPECT_EQ(by_requirement[18], Verdict::not_met);
  // DMARC p=reject without sp= covers the subdomains; post's DKIM key is missing.
  EXPECT_EQ(by_requirement[23], Verdict::not_met);
  std::string table = to_text_table({{}, {result}});
  EXPECT_NE(table.find("[not_met] post.example.dk DS: no DS at the parent"), std::string::npos)
      << table;
  EXPECT_NE(table.find("[met] www.example.dk SOA: not a delegated zone"), std::string::npos)
      << table;
  EXPECT_NE(table.find("[not_met] s1._domainkey.post.example.dk TXT"), std::string::npos) << table;
  EXPECT_EQ(table.find("s1._domainkey.www.example.dk"), std::string::npos) << table;
}

TEST(AuditDomain, DmarcSubdomainPolicyAndSubdomainRecords) {
  TableLookup dns = compliant();
  AuditDomain domain = example();
  domain.subdomains = {{"www.example.dk", false}};
  dns.answers[{"www.example.dk", kSoa}] = nodata();
  dns.answers[{"www.example.dk", kTxt}] = data({"v=spf1 -all"});
  dns.answers[{"_dmarc.example.dk", kTxt}] = data({"v=DMARC1; p=reject; sp=none"});
  EXPECT_EQ(verdicts(audit_domain(domain, dns))[23], Verdict::not_met);
  dns.answers[{"_dmarc.example.dk", kTxt}] = data({"v=DMARC1; p=reject; sp=reject"});
  EXPECT_EQ(verdicts(audit_domain(domain, dns))[23], Verdict::met);
  dns.answers[{"_dmarc.www.example.dk", kTxt}] = data({"v=DMARC1; p=quarantine"});
  EXPECT_EQ(verdicts(audit_domain(domain, dns))[23], Verdict::not_met);
}

TEST(AuditDomain, DkimKeys) {
  TableLookup dns = compliant();
  dns.answers[{"s1._domainkey.example.dk", kTxt}] = data({"v=DKIM1; p="});  // revoked
  EXPECT_EQ(verdicts(audit_domain(example(), dns))[23], Verdict::not_met);
  AuditDomain no_selectors = example();
  no_selectors.dkim_selectors.clear();
  dns = compliant();
  EXPECT_EQ(verdicts(audit_domain(no_selectors, dns))[23], Verdict::cannot_tell);
}

TEST(Describe, EvidenceOfEachOutcome) {
  EXPECT_EQ(describe(data({"10 mx.example.dk."})), "10 mx.example.dk. (secure)");
  EXPECT_EQ(describe(nodata(Security::insecure)), "no records (insecure)");
  EXPECT_EQ(describe(bogus()), "bogus answer (DNSSEC validation failed): no keys");
  EXPECT_EQ(describe(servfail()), "no answer: SERVFAIL");
  EXPECT_EQ(describe({LookupOutcome::timeout, Security::unknown, {}, ""}),
            "no answer within the audit timeout");
}

}  // namespace
}  // namespace dnsvagt
