#include "blocklists/list_parser.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>
#include <unordered_set>

#include "tests/temp_dir.h"

namespace dnsvagt {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using namespace std::string_literals;

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

TEST(ParseList, FlagsBinaryContent) {
  EXPECT_FALSE(parse_list("a.example\nb.example\n", ListFormat::auto_detect).stats.binary);
  EXPECT_TRUE(parse_list("a.example\nb.exa\0mple\n"s, ListFormat::domains)
                  .stats.binary);
  EXPECT_TRUE(parse_list("\0"s, ListFormat::hosts).stats.binary);
}

TEST(ParseList, FlagsContentThatStartsLikeAnHtmlOrXmlPage) {
  for (const char* page : {"<!DOCTYPE html>\n<html></html>\n", "<!doctype HTML><p>x</p>",
                           "\n  <HTML>\n<body>Service Unavailable</body></HTML>\n",
                           "\xEF\xBB\xBF\r\n\t<?xml version=\"1.0\"?>\n<error/>\n", "<head>",
                           "<body>\n", "<html"}) {
    SCOPED_TRACE(page);
    ParsedList parsed = parse_list(page, ListFormat::auto_detect);
    EXPECT_TRUE(parsed.stats.html);
    EXPECT_FALSE(parsed.stats.binary);
  }
  for (const char* list : {"", "\n\n", "a.example\n<html>\n", "# <html>\n", "<!doctype htm",
                           "<htm", "|<html>^\n", "<hea d>\n"}) {
    SCOPED_TRACE(list);
    EXPECT_FALSE(parse_list(list, ListFormat::auto_detect).stats.html);
  }
}

// --- parse_list_file: the same result as parse_list, read a piece (64 KiB) at a time ---------

constexpr size_t kMiB = 1024 * 1024;

// A file in a directory of its own, removed with it.
class TempFile {
 public:
  explicit TempFile(const std::string& content) : path_(dir_.write("list.txt", content)) {}
  const std::string& path() const { return path_; }

 private:
  const TempDir dir_{"list_parser_test"};
  const std::string path_;
};

void expect_same_issues(const std::vector<LineIssue>& file, const std::vector<LineIssue>& whole) {
  ASSERT_EQ(file.size(), whole.size());
  for (size_t i = 0; i < file.size(); ++i) {
    EXPECT_EQ(file[i].line, whole[i].line) << i;
    EXPECT_EQ(file[i].text, whole[i].text) << i;
    EXPECT_EQ(file[i].reason, whole[i].reason) << i;
  }
}

void expect_same_stats(const ParseStats& file, const ParseStats& whole) {
  EXPECT_EQ(file.format, whole.format);
  EXPECT_EQ(file.format_detected, whole.format_detected);
  EXPECT_EQ(file.binary, whole.binary);
  EXPECT_EQ(file.html, whole.html);
  EXPECT_EQ(file.lines, whole.lines);
  EXPECT_EQ(file.entries, whole.entries);
  EXPECT_EQ(file.allow_entries, whole.allow_entries);
  EXPECT_EQ(file.duplicates, whole.duplicates);
  EXPECT_EQ(file.ignored, whole.ignored);
  EXPECT_EQ(file.skipped, whole.skipped);
  EXPECT_EQ(file.unsupported, whole.unsupported);
  EXPECT_EQ(file.invalid, whole.invalid);
  expect_same_issues(file.invalid_samples, whole.invalid_samples);
  expect_same_issues(file.skipped_samples, whole.skipped_samples);
}

void expect_same_entries(const ParsedList& file, const ParsedList& whole) {
  ASSERT_EQ(file.size(), whole.size());
  for (size_t i = 0; i < file.size(); ++i) {
    ASSERT_EQ(file.name(i), whole.name(i)) << i;
    ASSERT_EQ(file.scope(i), whole.scope(i)) << i;
    ASSERT_EQ(file.kind(i), whole.kind(i)) << i;
    ASSERT_EQ(file.action(i), whole.action(i)) << i;
    ASSERT_EQ(file.local_data(i), whole.local_data(i)) << i;
  }
}

// The list in the file at `path` as parse_list_file reads it, into a ParsedList.
ParsedList parse_file(const std::string& path, ListFormat format) {
  ParsedListBuilder builder(1024);
  ParseStats stats = parse_list_file(path, format, builder);
  return std::move(builder).finish(std::move(stats));
}

// A hosts list of about 3.3 MiB with CRLF line ends, a byte-order mark, comments, duplicates
// far apart, invalid lines after the first MiB (two of them across the 2 and 3 MiB marks,
// where reading ends a piece) and a last line without a line end; with what it holds,
// counted while writing it.
struct BigHostsList {
  std::string text;
  uint64_t lines = 0;
  uint64_t entries = 0;
  uint64_t duplicates = 0;
  std::vector<std::pair<uint64_t, std::string>> invalid;  // line number, text

  BigHostsList() {
    std::unordered_set<std::string> names;
    auto line = [&](const std::string& content) {
      text += content;
      text += "\r\n";
      ++lines;
    };
    // A line of one name; `canonical` is how the parser spells it.
    auto host = [&](const std::string& name, const std::string& canonical) {
      line("0.0.0.0 " + name);
      if (names.insert(canonical).second) {
        ++entries;
      } else {
        ++duplicates;
      }
    };
    // An invalid line; the parser reports the line, or only the name if the address is there.
    auto bad = [&](const std::string& content, const std::string& reported) {
      line(content);
      invalid.emplace_back(lines, reported);
    };
    text = "\xEF\xBB\xBF";
    line("# Title: a big hosts list");
    line("");
    bool straddled_2 = false;
    bool straddled_3 = false;
    bool after_1 = false;
    bool in_middle = false;
    char name[32];
    for (size_t i = 0; text.size() < 3 * kMiB + 300 * 1024; ++i) {
      // One iteration writes at most about 110 bytes: a line of 180 bytes that starts less
      // than 140 bytes before a piece's end crosses it.
      std::string crossing = "crossing..the-piece-end-" + std::to_string(i) + ".example";
      crossing.resize(172, 'x');
      if (!straddled_2 && text.size() > 2 * kMiB - 140) {
        EXPECT_LT(text.size(), 2 * kMiB - 40);
        bad("0.0.0.0 " + crossing, crossing);
        straddled_2 = true;
      } else if (!straddled_3 && text.size() > 3 * kMiB - 140) {
        EXPECT_LT(text.size(), 3 * kMiB - 40);
        bad("0.0.0.0 " + crossing, crossing);
        straddled_3 = true;
      } else if (!after_1 && text.size() > kMiB + 5000) {
        bad("no-address.example", "no-address.example");
        after_1 = true;
      } else if (!in_middle && text.size() > 2 * kMiB + kMiB / 2) {
        bad("0.0.0.0 two..dots.example", "two..dots.example");
        bad("0.0.0.0\thttps://middle.example/path", "https://middle.example/path");
        in_middle = true;
      }
      if (i % 1000 == 999) line("# section " + std::to_string(i / 1000));
      if (i % 40000 == 39999) host("host000007.example", "host000007.example");  // far apart
      if (i % 70000 == 69999) host("HOST000011.example. # loud", "host000011.example");
      std::snprintf(name, sizeof name, "host%06zu.example", i);
      host(name, name);
    }
    bad("0.0.0.0 bad..tail.example", "bad..tail.example");
    bad("0.0.0.0 https://tail.example/path", "https://tail.example/path");
    host("host000001.example", "host000001.example");  // a duplicate of an entry 3 MiB back
    line("0.0.0.0 last.example");  // no line end
    text.resize(text.size() - 2);
    names.insert("last.example");
    ++entries;
  }
};

TEST(ParseListFile, LargeListGivesTheSameStatsAndEntriesAsParsingItWhole) {
  const BigHostsList list;
  ASSERT_GT(list.text.size(), 3 * kMiB);
  ASSERT_EQ(list.invalid.size(), 7u);
  const TempFile file(list.text);

  const ParsedList whole = parse_list(list.text, ListFormat::auto_detect);
  const ParsedList streamed = parse_file(file.path(), ListFormat::auto_detect);
  expect_same_stats(streamed.stats, whole.stats);
  expect_same_entries(streamed, whole);

  // And both are right, as the list was written.
  EXPECT_EQ(streamed.stats.format, ListFormat::hosts);
  EXPECT_TRUE(streamed.stats.format_detected);
  EXPECT_EQ(streamed.stats.lines, list.lines);
  EXPECT_EQ(streamed.stats.entries, list.entries);
  EXPECT_EQ(streamed.size(), list.entries);
  EXPECT_EQ(streamed.stats.duplicates, list.duplicates);
  EXPECT_GE(list.duplicates, 5u);
  EXPECT_EQ(streamed.stats.invalid, list.invalid.size());
  ASSERT_EQ(streamed.stats.invalid_samples.size(), ParseStats::kMaxSamples);
  for (size_t i = 0; i < ParseStats::kMaxSamples; ++i) {
    EXPECT_EQ(streamed.stats.invalid_samples[i].line, list.invalid[i].first) << i;
    EXPECT_EQ(streamed.stats.invalid_samples[i].text, list.invalid[i].second) << i;
  }
  EXPECT_EQ(streamed.name(0), "host000000.example");  // the byte-order mark is not in it
  EXPECT_EQ(streamed.name(streamed.size() - 1), "last.example");  // no '\r' either
}

TEST(ParseListFile, GivenFormatAndSmallFiles) {
  for (const std::string text : {"", "\n", "a.example", "a.example\r\n", "a.example\nb.example\n",
                                 "# only a comment\n", "a.example\n\n\nbad..example"}) {
    SCOPED_TRACE(text);
    const TempFile file(text);
    const ParsedList whole = parse_list(text, ListFormat::domains);
    const ParsedList streamed = parse_file(file.path(), ListFormat::domains);
    expect_same_stats(streamed.stats, whole.stats);
    expect_same_entries(streamed, whole);
    EXPECT_FALSE(streamed.stats.format_detected);
  }
}

// A file read a piece at a time counts lines as the whole text does, a byte-order mark alone
// included (list_parser_fuzz found an RPZ file of only a BOM counted as one line).
TEST(ParseListFile, RpzLinesCountAsInMemory) {
  for (const std::string text : {"\xEF\xBB\xBF", "\xEF\xBB\xBF\n", "\xEF\xBB\xBF$TTL 60",
                                 "\n", "a.example CNAME .", "a.example CNAME .\n\n"}) {
    SCOPED_TRACE(text);
    const TempFile file(text);
    expect_same_stats(parse_file(file.path(), ListFormat::rpz).stats,
                      parse_list(text, ListFormat::rpz).stats);
  }
}

// An RPZ zone of more than a MiB: its $ORIGIN (first line) still applies at the end.
TEST(ParseListFile, RpzZoneIsParsedWhole) {
  std::string text =
      "$ORIGIN rpz.example.net.\n"
      "$TTL 60\n"
      "@ SOA ns.example.net. admin.example.net. 1 3600 600 86400 60\n"
      "@ NS ns.example.net.\n";
  for (size_t i = 0; text.size() < kMiB + kMiB / 4; ++i) {
    text += "name" + std::to_string(i) + ".example CNAME .\n";
  }
  uint64_t lines = static_cast<uint64_t>(std::count(text.begin(), text.end(), '\n'));
  text += "late.example.rpz.example.net. CNAME .\n";  // absolute, in the zone
  text += "*.late.example CNAME *.\n";
  text += "local.example A 192.0.2.1\n";
  text += "local.example AAAA 2001:db8::1\n";
  text += "outside.example. CNAME .\n";  // absolute, outside the zone: invalid
  const TempFile file(text);

  for (ListFormat format : {ListFormat::rpz, ListFormat::auto_detect}) {
    SCOPED_TRACE(to_string(format));
    const ParsedList whole = parse_list(text, format);
    const ParsedList streamed = parse_file(file.path(), format);
    expect_same_stats(streamed.stats, whole.stats);
    expect_same_entries(streamed, whole);

    EXPECT_EQ(streamed.stats.format, ListFormat::rpz);
    EXPECT_EQ(streamed.stats.lines, lines + 5);
    EXPECT_EQ(streamed.stats.invalid, 1u);
    ASSERT_EQ(streamed.stats.invalid_samples.size(), 1u);
    EXPECT_EQ(streamed.stats.invalid_samples[0].line, lines + 5);
    std::set<std::string> found = rules(streamed);
    EXPECT_TRUE(found.count("|late.example^")) << "the $ORIGIN was lost";
    EXPECT_TRUE(found.count("*.late.example"));
    EXPECT_FALSE(found.count("|late.example.rpz.example.net^"));
    ASSERT_EQ(streamed.name(streamed.size() - 1), "local.example");
    EXPECT_EQ(streamed.action(streamed.size() - 1), EntryAction::local_data);
    EXPECT_EQ(streamed.local_data(streamed.size() - 1).size(), 2u);
  }
}

// The flags come from every piece: a NUL byte far into the file, an HTML start after blanks
// that fill the first piece, and one that a piece's end cuts in two.
TEST(ParseListFile, FlagsBinaryAndHtmlAsParseListDoesAcrossPieces) {
  constexpr size_t kPiece = 64 * 1024;
  std::string late_nul;
  for (int i = 0; late_nul.size() < kPiece + kPiece / 2; ++i) {
    late_nul += "n" + std::to_string(i) + ".example\n";
  }
  late_nul += "tail\0.example\n"s;
  const std::string blanks_then_page = std::string(kPiece + 10, '\n') + "<HTML><body>x</body>\n";
  const std::string page_across_the_end =
      "\xEF\xBB\xBF" + std::string(kPiece - 7, ' ') + "<!DOCTYPE html>\n<html></html>\n";
  const std::string blanks_then_list = std::string(kPiece + 10, '\n') + "a.example\n<html>\n";
  struct Case {
    const char* what;
    const std::string& text;
    bool binary, html;
  };
  for (const Case& c : {Case{"late NUL", late_nul, true, false},
                        Case{"page after a piece of blanks", blanks_then_page, false, true},
                        Case{"page across a piece's end", page_across_the_end, false, true},
                        Case{"list after a piece of blanks", blanks_then_list, false, false}}) {
    SCOPED_TRACE(c.what);
    const TempFile file(c.text);
    const ParsedList whole = parse_list(c.text, ListFormat::auto_detect);
    const ParsedList streamed = parse_file(file.path(), ListFormat::auto_detect);
    EXPECT_EQ(whole.stats.binary, c.binary);
    EXPECT_EQ(whole.stats.html, c.html);
    expect_same_stats(streamed.stats, whole.stats);
  }
  // An RPZ zone is read whole, and looked at as well.
  const std::string zone = "$ORIGIN rpz.example.net.\nx.example CNAME .\n\0\n"s;
  const TempFile file(zone);
  EXPECT_TRUE(parse_file(file.path(), ListFormat::rpz).stats.binary);
}

TEST(ParseListFile, MissingFileThrowsNamingIt) {
  const std::string path = "/nonexistent-dir-of-list-parser-test/feed.txt";
  ParsedListBuilder builder(16);
  try {
    parse_list_file(path, ListFormat::auto_detect, builder);
    FAIL() << "no exception";
  } catch (const std::runtime_error& error) {
    EXPECT_THAT(error.what(), HasSubstr(path));
  }
}

// --- EntryCounter: the counts of a ParsedList, from hashes only ----------------------------

void expect_counter_agrees(std::string_view text, ListFormat format) {
  const ParsedList parsed = parse_list(text, format);
  EntryCounter counter(16);  // far too small a guess: it grows
  const ParseStats counted = parse_list(text, format, counter);
  EXPECT_EQ(counted.format, parsed.stats.format);
  EXPECT_EQ(counted.lines, parsed.stats.lines);
  EXPECT_EQ(counted.entries, parsed.stats.entries);
  EXPECT_EQ(counted.allow_entries, parsed.stats.allow_entries);
  EXPECT_EQ(counted.duplicates, parsed.stats.duplicates);
  EXPECT_EQ(counted.invalid, parsed.stats.invalid);
  EXPECT_EQ(counted.ignored, parsed.stats.ignored);
  EXPECT_EQ(counted.skipped, parsed.stats.skipped);
  EXPECT_EQ(counted.unsupported, parsed.stats.unsupported);
}

std::filesystem::path feeds_dir() {
  const char* source = std::getenv("DNSVAGT_SOURCE_DIR");
  // ctest sets it (and runs tests in the source directory, the fallback).
  std::filesystem::path root = source ? source : ".";
  return root / ".." / "shared" / "data" / "feeds";
}

TEST(EntryCounter, CountsEveryFeedAsAParsedListDoes) {
  const std::filesystem::path dir = feeds_dir();
  if (!std::filesystem::is_directory(dir)) GTEST_SKIP() << "no feeds at " << dir;
  size_t feeds = 0;
  for (const auto& item : std::filesystem::recursive_directory_iterator(dir)) {
    // The feeds are in the folders (hosts/, rpz/, ...); beside them only their description.
    if (!item.is_regular_file() || item.path().parent_path() == dir) continue;
    SCOPED_TRACE(item.path().string());
    std::ifstream in(item.path(), std::ios::binary);
    ASSERT_TRUE(in);
    std::stringstream text;
    text << in.rdbuf();
    expect_counter_agrees(text.str(), ListFormat::auto_detect);
    ++feeds;
  }
  EXPECT_GE(feeds, 10u);
}

TEST(EntryCounter, CountsTheBigListAsAParsedListDoes) {
  expect_counter_agrees(BigHostsList().text, ListFormat::auto_detect);
}

// Local data of one name merges into one entry; a repeated address, or local data for a name
// listed without any, is a duplicate, for EntryCounter as for a ParsedList.
TEST(EntryCounter, RepeatedLocalDataIsADuplicateAsInAParsedList) {
  const std::string text =
      "a.example A 192.0.2.1\n"
      "a.example AAAA 2001:db8::1\n"
      "a.example A 192.0.2.1\n"  // the same address again
      "b.example CNAME .\n"
      "b.example A 192.0.2.2\n"  // local data for a name whose first entry has none
      "c.example CNAME .\n"
      "c.example CNAME .\n";
  const ParsedList parsed = parse_list(text, ListFormat::rpz);
  EXPECT_EQ(parsed.stats.entries, 3u);
  EXPECT_EQ(parsed.stats.duplicates, 3u);
  EntryCounter counter(16);
  const ParseStats counted = parse_list(text, ListFormat::rpz, counter);
  EXPECT_EQ(counted.entries, 3u);
  EXPECT_EQ(counted.duplicates, 3u);
  expect_counter_agrees(text, ListFormat::rpz);
}

TEST(EntryCounter, CountsLocalDataPastTheCapAsInvalidAsAParsedListDoes) {
  std::string text;
  for (size_t i = 1; i <= kMaxLocalDataPerName + 5; ++i) {
    text += "a.example A 192.0.2." + std::to_string(i) + "\n";
  }
  text += "a.example A 192.0.2.1\n";  // a repeat, not one more
  EntryCounter counter(16);
  const ParseStats counted = parse_list(text, ListFormat::rpz, counter);
  EXPECT_EQ(counted.entries, 1u);
  EXPECT_EQ(counted.invalid, 5u);
  ASSERT_FALSE(counted.invalid_samples.empty());
  EXPECT_EQ(counted.invalid_samples[0].line, kMaxLocalDataPerName + 1);
  EXPECT_EQ(counted.invalid_samples[0].reason, "more than 32 local-data records for a.example");
  expect_counter_agrees(text, ListFormat::rpz);
}

TEST(EntryCounter, TellsScopeAndKindApart) {
  const std::string text =
      "||a.example^\n"
      "|a.example^\n"
      "@@||a.example^\n"
      "||*.a.example^\n"
      "||a.example^\n";
  EntryCounter counter(16);
  const ParseStats counted = parse_list(text, ListFormat::adblock, counter);
  EXPECT_EQ(counted.entries, 4u);
  EXPECT_EQ(counted.allow_entries, 1u);
  EXPECT_EQ(counted.duplicates, 1u);
}

}  // namespace
}  // namespace dnsvagt
