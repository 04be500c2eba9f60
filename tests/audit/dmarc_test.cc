// DMARC rules of requirement 23: what is a DMARC record, its tags, and the policies for the
// domain and its subdomains (sp= falls back to p=).
#include "audit/dmarc.h"

#include <gtest/gtest.h>

namespace dnsvagt {
namespace {

TEST(IsDmarcRecord, FirstTagIsTheVersion) {
  EXPECT_TRUE(is_dmarc_record("v=DMARC1; p=reject"));
  EXPECT_TRUE(is_dmarc_record(" v = DMARC1 ;p=none"));
  EXPECT_TRUE(is_dmarc_record("v=DMARC1"));
  EXPECT_FALSE(is_dmarc_record("p=reject; v=DMARC1"));
  EXPECT_FALSE(is_dmarc_record("v=dmarc1; p=reject"));  // the value is case-sensitive
  EXPECT_FALSE(is_dmarc_record("v=DMARC10; p=reject"));
  EXPECT_FALSE(is_dmarc_record("v=spf1 -all"));
}

TEST(ParseDmarc, PoliciesOfTheDomainAndItsSubdomains) {
  DmarcRecord record = parse_dmarc("v=DMARC1; p=Reject; sp=quarantine; rua=mailto:d@example.dk");
  EXPECT_EQ(record.problem, "");
  EXPECT_EQ(record.policy, "reject");
  EXPECT_EQ(record.subdomain_policy, "quarantine");
  EXPECT_EQ(record.tags.at("rua"), "mailto:d@example.dk");
}

TEST(ParseDmarc, WithoutSpTheSubdomainsGetP) {
  DmarcRecord record = parse_dmarc("v=DMARC1;p=reject;");
  EXPECT_EQ(record.subdomain_policy, "reject");
  EXPECT_EQ(parse_dmarc("v=DMARC1; p=none").subdomain_policy, "none");
}

TEST(ParseDmarc, TheFirstOfATagGivenTwiceWins) {
  EXPECT_EQ(parse_dmarc("v=DMARC1; p=none; p=reject").policy, "none");
}

TEST(ParseDmarc, ProblemsReceiversWouldDiscardTheRecordFor) {
  EXPECT_EQ(parse_dmarc("v=DMARC1; rua=mailto:x@example.dk").problem, "no p= tag");
  EXPECT_NE(parse_dmarc("v=DMARC1; p=block").problem, "");
  EXPECT_NE(parse_dmarc("v=DMARC1; p=reject; sp=always").problem, "");
  EXPECT_NE(parse_dmarc("v=DMARC1; p=reject; junk").problem, "");
  EXPECT_NE(parse_dmarc("p=reject").problem, "");
}

TEST(ParseTagList, DkimKeyRecords) {
  auto tags = parse_tag_list("v=DKIM1; K=rsa; p=MIGf MA0G ;");
  EXPECT_EQ(tags.at("k"), "rsa");
  EXPECT_EQ(tags.at("p"), "MIGf MA0G");
  EXPECT_EQ(parse_tag_list("v=DKIM1; p=").at("p"), "");
}

}  // namespace
}  // namespace dnsvagt
