#include "blocklists/lookup_report.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "blocklists/list_parser.h"

namespace dnsvagt {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

PolicyList named(std::string name, bool allow_list = false) {
  PolicyList list;
  list.name = std::move(name);
  list.allow_list = allow_list;
  return list;
}

std::shared_ptr<const Policy> two_lists_and_an_allow() {
  PolicyBuilder builder(BlockAction::nxdomain);
  PolicyList malware;
  malware.name = "malware";
  builder.add_list(malware, parse_list("0.0.0.0 evil.example\n", ListFormat::hosts));
  PolicyList tif;
  tif.name = "tif";
  builder.add_list(tif, parse_list("||evil.example^\n||www.evil.example^\n", ListFormat::adblock));
  PolicyList allow;
  allow.name = "exceptions";
  allow.allow_list = true;
  builder.add_list(allow, parse_list("ok.evil.example\n", ListFormat::domains));
  PolicyList broken;
  broken.name = "broken";
  broken.error = "cannot read /nonexistent";
  builder.add_list(broken, ParsedList());
  return std::move(builder).build();
}

TEST(LookupReport, ListsEveryMatchingListAndEntry) {
  LookupReport report = lookup_report(*two_lists_and_an_allow(), "WWW.Evil.Example.");
  EXPECT_TRUE(report.valid);
  EXPECT_TRUE(report.blocked);
  EXPECT_THAT(report.text, HasSubstr("www.evil.example (as given: WWW.Evil.Example.)\n"));
  EXPECT_THAT(report.text, HasSubstr("list \"tif\": block entry \"www.evil.example\", answer nxdomain\n"));
  EXPECT_THAT(report.text, HasSubstr("list \"tif\": block entry \"evil.example\""));
  EXPECT_THAT(report.text, HasSubstr("list \"malware\": block entry \"evil.example\""));
  EXPECT_THAT(report.text,
              HasSubstr("result: blocked by list \"tif\", entry \"www.evil.example\", answer nxdomain"));
  EXPECT_THAT(report.text, HasSubstr("warning: list \"broken\" not loaded: cannot read /nonexistent"));
}

TEST(LookupReport, SaysWhenAnAllowEntryOverrides) {
  LookupReport report = lookup_report(*two_lists_and_an_allow(), "a.ok.evil.example");
  EXPECT_FALSE(report.blocked);
  EXPECT_THAT(report.text, HasSubstr("allow list \"exceptions\": allow entry \"ok.evil.example\""));
  EXPECT_THAT(report.text, HasSubstr("result: not blocked, allow entry \"ok.evil.example\" of allow "
                                     "list \"exceptions\" wins over 2 block entries"));
}

TEST(LookupReport, ForAClientUsesAndNamesItsGroup) {
  PolicyBuilder builder(BlockAction::nxdomain);
  builder.add_list(named("malware"), parse_list("evil.example\n", ListFormat::domains));
  builder.add_list(named("tif"), parse_list("www.evil.example\n", ListFormat::domains));
  builder.add_list(named("exceptions", true),
                   parse_list("ok.evil.example\n", ListFormat::domains));
  builder.set_client_groups({ClientGroup{"guests", {}, {"tif"}, {}, BlockAction::refused, {}},
                             ClientGroup{"servers", {}, {}, {"exceptions"},
                                         BlockAction::nxdomain, {}}});
  auto policy = std::move(builder).build();
  LookupReport report = lookup_report(*policy, "www.evil.example", LookupClient{"10.0.0.7", 1});
  EXPECT_TRUE(report.blocked);
  EXPECT_THAT(report.text, HasSubstr("client 10.0.0.7: group \"guests\": block lists \"tif\"; "
                                     "allow lists none; answer refused\n"));
  EXPECT_THAT(report.text, HasSubstr("list \"malware\": block entry \"evil.example\", answer "
                                     "refused (the list does not apply to this client)\n"));
  EXPECT_THAT(report.text, HasSubstr("result: blocked by list \"tif\", entry "
                                     "\"www.evil.example\", answer refused\n"));
  report = lookup_report(*policy, "evil.example", LookupClient{"10.0.0.8", 2});
  EXPECT_FALSE(report.blocked);
  EXPECT_THAT(report.text, HasSubstr("client 10.0.0.8: group \"servers\": block lists none; "
                                     "allow lists \"exceptions\"; answer nxdomain\n"));
  EXPECT_THAT(report.text,
              HasSubstr("result: not blocked, no list that applies to this client matches\n"));
  report = lookup_report(*policy, "evil.example", LookupClient{"192.0.2.1", 0});
  EXPECT_TRUE(report.blocked);
  EXPECT_THAT(report.text, HasSubstr("client 192.0.2.1: in no client group: every list "
                                     "applies; answer nxdomain\n"));
}

TEST(LookupReport, SaysWhenNothingMatches) {
  LookupReport report = lookup_report(*two_lists_and_an_allow(), "example.org");
  EXPECT_TRUE(report.valid);
  EXPECT_FALSE(report.blocked);
  EXPECT_THAT(report.text, HasSubstr("result: not blocked, no list matches"));
  EXPECT_THAT(report.text, Not(HasSubstr("entry")));
}

TEST(LookupReport, AcceptsUnicodeAndRejectsNonNames) {
  PolicyBuilder builder(BlockAction::nxdomain);
  PolicyList idn;
  idn.name = "idn";
  builder.add_list(idn, parse_list("||xn--bcher-kva.de^\n", ListFormat::adblock));
  auto policy = std::move(builder).build();
  EXPECT_TRUE(lookup_report(*policy, "www.bücher.de").blocked);
  LookupReport bad = lookup_report(*policy, "not a name");
  EXPECT_FALSE(bad.valid);
  EXPECT_THAT(bad.text, HasSubstr("is not a domain name"));
  EXPECT_FALSE(lookup_report(*policy, "192.0.2.1").valid);
}

TEST(LookupReport, FromConfigWithNoLists) {
  Config config;
  LookupReport report = lookup_report(config, "example.com");
  EXPECT_FALSE(report.blocked);
  EXPECT_THAT(report.text, HasSubstr("no list matches"));
}

}  // namespace
}  // namespace dnsvagt
