// SPF rules of requirement 23: which TXT strings are SPF records, the terms that cost DNS
// lookups, includes and redirects followed, the limit of 10, and the "all" a record ends in.
#include "audit/spf.h"

#include <gtest/gtest.h>

#include <map>

namespace dnsvagt {
namespace {

TEST(IsSpfRecord, VersionTagAloneOrFollowedByASpace) {
  EXPECT_TRUE(is_spf_record("v=spf1 -all"));
  EXPECT_TRUE(is_spf_record("V=SPF1 mx ~all"));
  EXPECT_TRUE(is_spf_record("v=spf1"));
  EXPECT_FALSE(is_spf_record("v=spf10 -all"));
  EXPECT_FALSE(is_spf_record("v=DMARC1; p=reject"));
  EXPECT_FALSE(is_spf_record(" v=spf1 -all"));
  EXPECT_FALSE(is_spf_record("spf1"));
}

TEST(ParseSpf, CountsTheTermsThatCostALookup) {
  SpfRecord record = parse_spf(
      "v=spf1 a mx:mail.example.dk ptr include:_spf.example.dk exists:%{i}.x.example "
      "ip4:192.0.2.0/24 ip6:2001:db8::/32 a/24 redirect=_r.example.dk exp=explain.example.dk");
  EXPECT_EQ(record.problem, "");
  EXPECT_EQ(record.lookup_terms, 7);  // a, mx, ptr, include, exists, a/24, redirect
  EXPECT_EQ(record.includes, (std::vector<std::string>{"_spf.example.dk"}));
  EXPECT_EQ(record.redirect, "_r.example.dk");
  EXPECT_FALSE(record.all);
}

TEST(ParseSpf, AllWithItsQualifier) {
  EXPECT_EQ(parse_spf("v=spf1 mx -all").all, '-');
  EXPECT_EQ(parse_spf("v=spf1 mx ~ALL").all, '~');
  EXPECT_EQ(parse_spf("v=spf1 all").all, '+');
  EXPECT_EQ(parse_spf("v=spf1 ?all -all").all, '?');  // terms after the first all are never read
}

TEST(ParseSpf, SyntaxErrorsArePermanentErrors) {
  EXPECT_NE(parse_spf("v=spf1 foo -all").problem, "");
  EXPECT_NE(parse_spf("v=spf1 include -all").problem, "");
  EXPECT_NE(parse_spf("v=spf1 all:x").problem, "");
  EXPECT_NE(parse_spf("v=spf1 redirect=a redirect=b").problem, "");
  EXPECT_NE(parse_spf("not spf").problem, "");
}

using RecordMap = std::map<std::string, std::string>;

// SPF records of domains, for include and redirect targets; "!name" fails to fetch.
class Records {
 public:
  explicit Records(RecordMap records) : records_(std::move(records)) {}
  SpfFetch operator()(const std::string& domain) {
    ++fetches;
    if (domain.starts_with("!")) return {SpfFetch::Result::failed, "SERVFAIL"};
    auto found = records_.find(domain);
    if (found == records_.end()) return {SpfFetch::Result::no_record, "NXDOMAIN"};
    return {SpfFetch::Result::record, found->second};
  }
  int fetches = 0;

 private:
  RecordMap records_;
};

SpfEvaluation evaluate(std::string_view record, Records& records) {
  return evaluate_spf(record, [&](const std::string& domain) { return records(domain); });
}

TEST(EvaluateSpf, CountsIncludedRecordsAndEndsInTheRecordsOwnAll) {
  Records records({{"a.example", "v=spf1 a mx include:b.example ?all"},
                   {"b.example", "v=spf1 ip4:192.0.2.1 -all"}});
  SpfEvaluation evaluation = evaluate("v=spf1 mx include:a.example ~all", records);
  EXPECT_EQ(evaluation.lookups, 5);  // mx, include:a; a, mx, include:b
  EXPECT_EQ(evaluation.all, '~');    // an included record's ?all decides nothing here
  EXPECT_EQ(evaluation.verdict, Verdict::met) << evaluation.evidence;
}

TEST(EvaluateSpf, TenLookupsAreMetElevenAreNot) {
  Records records{RecordMap{}};
  std::string ten = "v=spf1";
  for (int i = 0; i < 10; ++i) ten += " a:h" + std::to_string(i) + ".example";
  EXPECT_EQ(evaluate(ten + " -all", records).verdict, Verdict::met);
  SpfEvaluation eleven = evaluate(ten + " mx -all", records);
  EXPECT_EQ(eleven.verdict, Verdict::not_met);
  EXPECT_NE(eleven.evidence.find("more than 10 DNS lookups"), std::string::npos)
      << eleven.evidence;
}

TEST(EvaluateSpf, AnIncludeLoopPassesTheLimitAndStops) {
  Records records(RecordMap{{"loop.example", "v=spf1 include:loop.example -all"}});
  SpfEvaluation evaluation = evaluate("v=spf1 include:loop.example -all", records);
  EXPECT_EQ(evaluation.verdict, Verdict::not_met);
  EXPECT_EQ(evaluation.lookups, 11);
  EXPECT_EQ(records.fetches, 10);
}

TEST(EvaluateSpf, ARedirectGivesTheAll) {
  Records records({{"_spf.example", "v=spf1 mx -all"}, {"_open.example", "v=spf1 +all"}});
  SpfEvaluation redirected = evaluate("v=spf1 a redirect=_spf.example", records);
  EXPECT_EQ(redirected.verdict, Verdict::met) << redirected.evidence;
  EXPECT_EQ(redirected.lookups, 3);
  EXPECT_EQ(evaluate("v=spf1 redirect=_open.example", records).verdict, Verdict::not_met);
  // With an all of its own the redirect is never followed (RFC 7208 6.1).
  EXPECT_EQ(evaluate("v=spf1 redirect=_open.example -all", records).verdict, Verdict::met);
}

TEST(EvaluateSpf, AllOtherThanFailOrSoftfailIsNotMet) {
  Records records{RecordMap{}};
  for (const char* record : {"v=spf1 mx ?all", "v=spf1 mx +all", "v=spf1 mx all", "v=spf1 mx"}) {
    SpfEvaluation evaluation = evaluate(record, records);
    EXPECT_EQ(evaluation.verdict, Verdict::not_met) << record;
    EXPECT_NE(evaluation.evidence.find("-all or ~all required"), std::string::npos) << record;
  }
}

TEST(EvaluateSpf, AnIncludeWithoutARecordIsNotMet) {
  Records records{RecordMap{}};
  SpfEvaluation evaluation = evaluate("v=spf1 include:gone.example -all", records);
  EXPECT_EQ(evaluation.verdict, Verdict::not_met);
  EXPECT_NE(evaluation.evidence.find("include:gone.example has no SPF record"), std::string::npos)
      << evaluation.evidence;
}

TEST(EvaluateSpf, AnIncludeThatCannotBeFetchedCannotTell) {
  Records records{RecordMap{}};
  SpfEvaluation evaluation = evaluate("v=spf1 include:!down.example -all", records);
  EXPECT_EQ(evaluation.verdict, Verdict::cannot_tell);
  EXPECT_NE(evaluation.evidence.find("SERVFAIL"), std::string::npos) << evaluation.evidence;
  // ... unless the record is over the limit anyway.
  std::string many = "v=spf1 include:!down.example";
  for (int i = 0; i < 10; ++i) many += " a";
  EXPECT_EQ(evaluate(many + " -all", records).verdict, Verdict::not_met);
}

TEST(EvaluateSpf, AMacroTargetCannotBeCounted) {
  Records records{RecordMap{}};
  SpfEvaluation evaluation = evaluate("v=spf1 include:%{d}.spf.example -all", records);
  EXPECT_EQ(evaluation.verdict, Verdict::cannot_tell);
  EXPECT_EQ(records.fetches, 0);
}

}  // namespace
}  // namespace dnsvagt
