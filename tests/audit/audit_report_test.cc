// How checks combine into a requirement's verdict (not met wins, cannot tell is never met),
// whether a report is all met, and its plain-text table.
#include "audit/audit_report.h"

#include <gtest/gtest.h>

namespace dnsvagt {
namespace {

Check check(Verdict verdict) { return {verdict, "subject", "evidence"}; }

TEST(CombinedVerdict, NotMetWinsThenCannotTell) {
  std::vector<Check> all_met = {check(Verdict::met), check(Verdict::met)};
  EXPECT_EQ(combined_verdict(all_met), Verdict::met);
  std::vector<Check> one_unknown = {check(Verdict::met), check(Verdict::cannot_tell)};
  EXPECT_EQ(combined_verdict(one_unknown), Verdict::cannot_tell);
  std::vector<Check> mixed = {check(Verdict::cannot_tell), check(Verdict::not_met),
                              check(Verdict::met)};
  EXPECT_EQ(combined_verdict(mixed), Verdict::not_met);
}

TEST(CombinedVerdict, NothingCheckedCannotTell) {
  EXPECT_EQ(combined_verdict({}), Verdict::cannot_tell);
}

AuditReport report_of(std::vector<Verdict> verdicts) {
  AuditReport report;
  DomainResult& domain = report.domains.emplace_back();
  domain.domain = "example.dk";
  int requirement = 17;
  for (Verdict verdict : verdicts) {
    domain.requirements.push_back({requirement++, verdict, {check(verdict)}});
  }
  return report;
}

TEST(AuditReport, AllMetOnlyWhenEveryRequirementIsMet) {
  EXPECT_TRUE(report_of({Verdict::met, Verdict::met}).all_met());
  EXPECT_FALSE(report_of({Verdict::met, Verdict::cannot_tell}).all_met());
  EXPECT_FALSE(report_of({Verdict::not_met, Verdict::met}).all_met());
  EXPECT_FALSE(AuditReport{}.all_met());
}

TEST(AuditReport, AnyNotMetTellsNotMetFromCannotTell) {
  EXPECT_FALSE(report_of({Verdict::met, Verdict::cannot_tell}).any_not_met());
  EXPECT_TRUE(report_of({Verdict::cannot_tell, Verdict::not_met}).any_not_met());
}

TEST(TextTable, ALinePerRequirementWithItsChecks) {
  std::string table = to_text_table(report_of({Verdict::met, Verdict::not_met,
                                               Verdict::cannot_tell}));
  EXPECT_NE(table.find("example.dk  17  met  (internet-facing services under .dk)\n"
                       "    [met] subject: evidence\n"),
            std::string::npos)
      << table;
  EXPECT_NE(table.find("example.dk  18  NOT MET"), std::string::npos) << table;
  EXPECT_NE(table.find("example.dk  19  CANNOT TELL"), std::string::npos) << table;
}

}  // namespace
}  // namespace dnsvagt
