#include "blocklists/list_parser.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

namespace dnsvagt {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// The rule texts of all entries ("example.com", "*.example.com", "|example.com^"), sorted.
std::set<std::string> rules(const ParsedList& parsed, EntryKind kind = EntryKind::block) {
  std::set<std::string> result;
  for (size_t i = 0; i < parsed.size(); ++i) {
    if (parsed.kind(i) == kind) result.insert(parsed.entry(i).rule_text());
  }
  return result;
}

TEST(HostsFormat, SystemHeaderCommentsSeveralNamesAndQuirks) {
  const std::string text =
      "\xEF\xBB\xBF# Title: test hosts\r\n"
      "! AdBlock-style comment in a hosts file\r\n"
      "127.0.0.1  localhost\r\n"
      "127.0.0.1 localhost.localdomain\r\n"
      "255.255.255.255 broadcasthost\r\n"
      "::1 ip6-localhost ip6-loopback\r\n"
      "fe80::1%lo0 localhost\r\n"
      "ff02::2 ip6-allrouters\r\n"
      "0.0.0.0 0.0.0.0\r\n"
      "0.0.0.0 Ads.Example.COM.\r\n"
      "0.0.0.0\tone.example\ttwo.example three.example \t\r\n"
      "0.0.0.0 inline.example # a comment\r\n"
      "0.0.0.0 inline.example#glued comment\r\n"
      "# [163.com]\r\n"
      "   \r\n"
      "0.0.0.0 https://ynuf.aliapp.org/saveWb.json?\r\n"
      "bad.example\r\n"
      "0.0.0.0\r\n"
      "0.0.0.0 bücher.de\r\n"
      "0.0.0.0 last.example ";  // no final newline, trailing blank
  ParsedList parsed = parse_list(text, ListFormat::hosts);
  EXPECT_EQ(parsed.stats.format, ListFormat::hosts);
  EXPECT_FALSE(parsed.stats.format_detected);
  EXPECT_EQ(parsed.stats.lines, 20u);
  EXPECT_THAT(rules(parsed), ElementsAre("ads.example.com", "inline.example", "last.example",
                                         "one.example", "three.example", "two.example",
                                         "xn--bcher-kva.de"));
  EXPECT_EQ(parsed.stats.entries, 7u);
  EXPECT_EQ(parsed.stats.duplicates, 1u);  // inline.example twice
  EXPECT_EQ(parsed.stats.ignored, 8u);     // 7 localhost-type names and "0.0.0.0"
  EXPECT_EQ(parsed.stats.invalid, 3u);
  ASSERT_EQ(parsed.stats.invalid_samples.size(), 3u);
  EXPECT_EQ(parsed.stats.invalid_samples[0].line, 16u);
  EXPECT_EQ(parsed.stats.invalid_samples[0].text, "https://ynuf.aliapp.org/saveWb.json?");
  EXPECT_EQ(parsed.stats.invalid_samples[1].line, 17u);
  EXPECT_EQ(parsed.stats.invalid_samples[1].reason, "a hosts line starts with an IP address");
  EXPECT_EQ(parsed.stats.invalid_samples[2].line, 18u);
}

TEST(HostsFormat, EveryNameCoversItsSubdomains) {
  ParsedList parsed = parse_list("0.0.0.0 a.example\n", ListFormat::hosts);
  ASSERT_EQ(parsed.size(), 1u);
  EXPECT_EQ(parsed.scope(0), EntryScope::name_and_below);
  EXPECT_EQ(parsed.kind(0), EntryKind::block);
  EXPECT_EQ(parsed.action(0), EntryAction::list_default);
}

TEST(DomainsFormat, CommentsBlankLinesWildcardsAndBareAddresses) {
  const std::string text =
      "# header\n"
      "\n"
      "Example.COM\n"
      "example.com.\n"
      "sub.example.org # inline comment\n"
      "*.wild.example\n"
      "37.1.209.213\n"
      "localhost\n"
      "two names.example\n"
      "bad..example\n"
      "xn--p1ai\n"
      "рф\n";
  ParsedList parsed = parse_list(text, ListFormat::domains);
  EXPECT_THAT(rules(parsed),
              ElementsAre("*.wild.example", "example.com", "sub.example.org", "xn--p1ai"));
  EXPECT_EQ(parsed.stats.lines, 12u);
  EXPECT_EQ(parsed.stats.duplicates, 2u);  // example.com. and рф (= xn--p1ai)
  EXPECT_EQ(parsed.stats.ignored, 2u);
  EXPECT_EQ(parsed.stats.invalid, 2u);
  EXPECT_EQ(parsed.stats.invalid_samples[0].line, 9u);
  EXPECT_EQ(parsed.stats.invalid_samples[1].reason, "empty label");
}

TEST(DomainsFormat, ReportsOnlyTheFirstFiveInvalidLinesButLoadsTheRest) {
  std::string text;
  for (int i = 0; i < 8; ++i) text += "bad name " + std::to_string(i) + "\n";
  text += "good.example\n";
  ParsedList parsed = parse_list(text, ListFormat::domains);
  EXPECT_EQ(parsed.stats.invalid, 8u);
  ASSERT_EQ(parsed.stats.invalid_samples.size(), 5u);
  EXPECT_EQ(parsed.stats.invalid_samples[4].line, 5u);
  EXPECT_EQ(parsed.stats.entries, 1u);
  EXPECT_THAT(parsed.stats.summary(), HasSubstr("invalid line 1 (more than one name on a line)"));
}

TEST(AdblockFormat, BlockAllowAnchorsAndHeaders) {
  const std::string text =
      "[Adblock Plus 2.0]\n"
      "! Title: test\n"
      "! Blocked by CNAME ||leadpages.net^$third-party\n"
      "||Block.Example^\n"
      "||*.actor^\n"
      "||drexilon.xn--q9jyb4c^\n"
      "@@||allow.example^\n"
      "@@||allow-end.example^|\n"
      "@@|ezodn.com^|\n"
      "|exact.example^\n"
      "plain.example\n"
      "||1.2.3.4^\n";
  ParsedList parsed = parse_list(text, ListFormat::adblock);
  EXPECT_THAT(rules(parsed), ElementsAre("*.actor", "block.example", "drexilon.xn--q9jyb4c",
                                         "plain.example", "|exact.example^"));
  EXPECT_THAT(rules(parsed, EntryKind::allow),
              ElementsAre("allow-end.example", "allow.example", "|ezodn.com^"));
  EXPECT_EQ(parsed.stats.entries, 8u);
  EXPECT_EQ(parsed.stats.allow_entries, 3u);
  EXPECT_EQ(parsed.stats.ignored, 1u);
  EXPECT_EQ(parsed.stats.skipped, 0u);
  EXPECT_EQ(parsed.stats.invalid, 0u);
}

TEST(AdblockFormat, SkipsRulesThatAreNotExactlyADomain) {
  const std::string text =
      "||africa^$doc,domain=~nation.africa\n"      // modifier
      "||*.agency^$denyallow=apptoro.agency\n"     // modifier
      "@@||*-go.kelkoogroup.net^\n"                // wildcard inside a label
      "@@||cdn.us*.exponea.com^|\n"                // wildcard inside a label
      "@@-ds.metric.gstatic.com^|\n"               // no anchor: a substring pattern
      "||example.com/ads/*\n"                      // path, no ^
      "||example.com^/path\n"                      // path after ^
      "||nosep.example\n"                          // prefix pattern: also example.community
      "example.com##.banner\n"                     // cosmetic
      "/ads[0-9]+\\.example/\n"                    // regular expression
      "||ok.example^\n";
  ParsedList parsed = parse_list(text, ListFormat::adblock);
  EXPECT_THAT(rules(parsed), ElementsAre("ok.example"));
  EXPECT_EQ(parsed.stats.skipped, 10u);
  ASSERT_EQ(parsed.stats.skipped_samples.size(), 5u);
  EXPECT_EQ(parsed.stats.skipped_samples[0].reason, "rule with $modifiers");
  EXPECT_EQ(parsed.stats.skipped_samples[2].line, 3u);
  EXPECT_EQ(parsed.stats.skipped_samples[4].reason, "pattern without a domain anchor");
}

TEST(AdblockFormat, UnicodeRuleBecomesPunycode) {
  ParsedList parsed = parse_list("||пример.рф^\n", ListFormat::adblock);
  EXPECT_THAT(rules(parsed), ElementsAre("xn--e1afmkfd.xn--p1ai"));
}

TEST(DetectFormat, VotesOnRuleLinesNotComments) {
  EXPECT_EQ(detect_format("# c\n0.0.0.0 a.example\n127.0.0.1 b.example\n"), ListFormat::hosts);
  // A hosts file whose header is AdBlock-style (`!` comments) is still hosts.
  EXPECT_EQ(detect_format("! Title: x\n! Homepage: y\n0.0.0.0 a.example\n"), ListFormat::hosts);
  EXPECT_EQ(detect_format("a.example\nb.example\n"), ListFormat::domains);
  EXPECT_EQ(detect_format("[Adblock Plus]\n! c\n||a.example^\n"), ListFormat::adblock);
  EXPECT_EQ(detect_format("@@||a.example^\n@@||b.example^\n"), ListFormat::adblock);
  EXPECT_EQ(detect_format("$TTL 300\n@ SOA localhost. root.localhost. 1 2 3 4 5\n"
                          "  NS localhost.\na.example CNAME .\n"),
            ListFormat::rpz);
  EXPECT_EQ(detect_format("; comment\na.example CNAME .\nb.example IN A 192.0.2.1\n"),
            ListFormat::rpz);
  EXPECT_EQ(detect_format(""), ListFormat::domains);
  EXPECT_EQ(detect_format("# only comments\n"), ListFormat::domains);
}

TEST(ParseList, AutoDetectRecordsTheChoice) {
  ParsedList parsed = parse_list("||a.example^\n", ListFormat::auto_detect);
  EXPECT_EQ(parsed.stats.format, ListFormat::adblock);
  EXPECT_TRUE(parsed.stats.format_detected);
  EXPECT_THAT(parsed.stats.summary(), HasSubstr("adblock (detected): 1 lines, 1 entries"));
}

}  // namespace
}  // namespace dnsvagt
