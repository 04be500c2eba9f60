#include "blocklists/list_gates.h"

#include <gtest/gtest.h>

#include "blocklists/list_parser.h"

namespace dnsvagt {
namespace {

ListSource source(uint64_t min_entries = 1, double max_shrink = 0.5) {
  ListSource list;
  list.name = "feed";
  list.url = "http://127.0.0.1/feed";
  list.min_entries = min_entries;
  list.max_shrink = max_shrink;
  return list;
}

std::string domains(int count, const std::string& prefix = "host") {
  std::string text = "# a list\n";
  for (int i = 0; i < count; ++i) text += prefix + std::to_string(i) + ".example.com\n";
  return text;
}

GateVerdict judge(const std::string& content, const ListSource& list,
                  std::optional<uint64_t> last = std::nullopt) {
  ParsedList parsed = parse_list(content, list.format);
  return check_list_gates(parsed.stats, list, last);
}

// The stats of a list of `entries` good entries and nothing else.
ParseStats stats_of(uint64_t entries) {
  ParseStats stats;
  stats.lines = entries;
  stats.entries = entries;
  return stats;
}

TEST(ListGates, AcceptsAPlainList) {
  GateVerdict verdict = judge(domains(100), source(), 90);
  EXPECT_TRUE(verdict.accepted()) << verdict.detail;
}

TEST(ListGates, AcceptsAFewInvalidLines) {
  std::string content = domains(100) + "not a domain line\nbad..name\n";
  EXPECT_TRUE(judge(content, source()).accepted());
}

TEST(ListGates, RejectsAnHtmlErrorPage) {
  const std::string page =
      "<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>\n"
      "<body><h1>Bad Gateway</h1>\n<p>The proxy server received an invalid response</p>\n"
      "</body></html>\n";
  GateVerdict verdict = judge(page, source());
  EXPECT_EQ(verdict.failure, UpdateFailure::parse_budget) << verdict.detail;
  EXPECT_EQ(verdict.detail, "an HTML or XML page, not a list");
}

TEST(ListGates, RejectsAnHtmlPageWithoutDoctypeAsDomains) {
  ListSource list = source();
  list.format = ListFormat::domains;
  std::string page = "\n  <HTML>\n<body>Service Unavailable</body></HTML>\n";
  EXPECT_EQ(judge(page, list).failure, UpdateFailure::parse_budget);
}

TEST(ListGates, RejectsBinaryData) {
  std::string garbage = domains(50);
  garbage += std::string("\x1f\x8b\x08\0\0\0\0\0", 8);
  GateVerdict verdict = judge(garbage, source());
  EXPECT_EQ(verdict.failure, UpdateFailure::parse_budget);
  EXPECT_EQ(verdict.detail, "binary data (NUL bytes), not a text list");
}

// An HTML start anywhere but at the beginning is a list's business (here: invalid lines).
TEST(ListGates, HtmlAfterTheStartIsNoPage) {
  EXPECT_TRUE(judge(domains(100) + "<html>\n", source()).accepted());
}

// The gates see no content: what parsing found in it decides, whatever the entries.
TEST(ListGates, JudgesBinaryAndHtmlByTheStatsFlags) {
  ParseStats binary = stats_of(1000);
  binary.binary = true;
  GateVerdict verdict = check_list_gates(binary, source(), 1000);
  EXPECT_EQ(verdict.failure, UpdateFailure::parse_budget);
  EXPECT_EQ(verdict.detail, "binary data (NUL bytes), not a text list");

  ParseStats html = stats_of(1000);
  html.html = true;
  verdict = check_list_gates(html, source(), 1000);
  EXPECT_EQ(verdict.failure, UpdateFailure::parse_budget);
  EXPECT_EQ(verdict.detail, "an HTML or XML page, not a list");

  EXPECT_TRUE(check_list_gates(stats_of(1000), source(), 1000).accepted());
}

TEST(ListGates, RejectsMostlyInvalidLines) {
  ListSource list = source();
  list.format = ListFormat::hosts;
  std::string content = "0.0.0.0 good.example.com\n";
  for (int i = 0; i < 20; ++i) content += "this is prose, not a hosts line " + std::to_string(i) + "\n";
  EXPECT_EQ(judge(content, list).failure, UpdateFailure::parse_budget);
}

TEST(ListGates, RejectsAnEmptyBody) {
  EXPECT_EQ(judge("", source()).failure, UpdateFailure::too_small);
  EXPECT_EQ(judge("# only comments\n\n", source()).failure, UpdateFailure::too_small);
}

TEST(ListGates, RejectsFewerThanMinEntries) {
  EXPECT_EQ(judge(domains(9), source(10)).failure, UpdateFailure::too_small);
  EXPECT_TRUE(judge(domains(10), source(10)).accepted());
}

TEST(ListGates, RejectsAVersionThatShrankTooMuch) {
  GateVerdict verdict = judge(domains(10), source(1, 0.5), 100);
  EXPECT_EQ(verdict.failure, UpdateFailure::shrink);
  EXPECT_NE(verdict.detail.find("100"), std::string::npos) << verdict.detail;
}

TEST(ListGates, AcceptsShrinkUpToMaxShrink) {
  EXPECT_TRUE(judge(domains(50), source(1, 0.5), 100).accepted());
  EXPECT_EQ(judge(domains(49), source(1, 0.5), 100).failure, UpdateFailure::shrink);
  EXPECT_TRUE(judge(domains(1), source(1, 1.0), 100).accepted());  // max_shrink 1: never
}

TEST(ListGates, FirstVersionHasNoShrinkCheck) {
  EXPECT_TRUE(judge(domains(1), source(1, 0.1), std::nullopt).accepted());
}

TEST(ListGates, GrowthIsFine) {
  EXPECT_TRUE(judge(domains(1000), source(1, 0.0), 10).accepted());
}

}  // namespace
}  // namespace dnsvagt
