#include "blocklists/rpz_parser.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "blocklists/list_parser.h"

namespace dnsvagt {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

// The index of the entry (name, scope) or -1.
int find_entry(const ParsedList& parsed, std::string_view name, EntryScope scope) {
  for (size_t i = 0; i < parsed.size(); ++i) {
    if (parsed.name(i) == name && parsed.scope(i) == scope) return static_cast<int>(i);
  }
  return -1;
}

// The names of all entries, "*." before those that cover the names below.
std::vector<std::string> entry_names(const ParsedList& parsed) {
  std::vector<std::string> names;
  for (size_t i = 0; i < parsed.size(); ++i) {
    names.push_back((parsed.scope(i) == EntryScope::below ? "*." : "") +
                    std::string(parsed.name(i)));
  }
  return names;
}

// The sample of a problem line: its number and part of the reason.
MATCHER_P2(LineIssueAt, line, reason_part, "") {
  return arg.line == static_cast<size_t>(line) && arg.reason.find(reason_part) != std::string::npos;
}

// What the entry (name, scope) does, or nothing without such an entry.
std::optional<EntryAction> action_of(const ParsedList& parsed, std::string_view name,
                                     EntryScope scope = EntryScope::name) {
  const int i = find_entry(parsed, name, scope);
  if (i < 0) return std::nullopt;
  return parsed.action(i);
}

// The local-data addresses of the entry for `name`, as text; none without such an entry.
std::vector<std::string> addresses_of(const ParsedList& parsed, std::string_view name) {
  std::vector<std::string> addresses;
  const int i = find_entry(parsed, name, EntryScope::name);
  if (i < 0) return addresses;
  for (const LocalAddress& address : parsed.local_data(i)) addresses.push_back(address.to_string());
  return addresses;
}

std::optional<EntryKind> kind_of(const ParsedList& parsed, std::string_view name) {
  const int i = find_entry(parsed, name, EntryScope::name);
  if (i < 0) return std::nullopt;
  return parsed.kind(i);
}

TEST(RpzFormat, TriggersAndActions) {
  const std::string text =
      "$TTL 300\n"
      "@ SOA localhost. root.localhost. 1757835180 43200 3600 86400 300\n"
      "  NS  localhost.\n"
      ";\n"
      "; comment\n"
      "nx.example CNAME .\n"
      "*.nx.example CNAME .\n"
      "NoData.Example CNAME *.\n"
      "pass.example CNAME rpz-passthru.\n"
      "drop.example CNAME rpz-drop.\n"
      "local.example A 192.0.2.1\n"
      "local.example A 192.0.2.2\n"
      "local.example AAAA 2001:db8::1\n"
      "local.example A 192.0.2.1\n"
      "nx.example CNAME .\n"
      "1.0.218.230.rpz-ip CNAME .\n"
      "32.1.2.0.192.rpz-client-ip CNAME .\n"
      "ns.example.rpz-nsdname CNAME .\n"
      "32.1.2.0.192.rpz-nsip CNAME .\n"
      "rewrite.example CNAME other.example.\n"
      "tcp.example CNAME rpz-tcp-only.\n"
      "txt.example TXT \"local text\"\n";
  ParsedList parsed = parse_list(text, ListFormat::rpz);
  EXPECT_EQ(parsed.stats.lines, 22u);
  EXPECT_EQ(parsed.stats.entries, 6u);
  EXPECT_EQ(parsed.stats.duplicates, 2u);  // the second nx.example and 192.0.2.1
  EXPECT_EQ(parsed.stats.unsupported, 7u);
  EXPECT_EQ(parsed.stats.invalid, 0u);

  EXPECT_EQ(action_of(parsed, "nx.example"), EntryAction::nxdomain);
  EXPECT_EQ(action_of(parsed, "nx.example", EntryScope::below), EntryAction::nxdomain);
  EXPECT_EQ(action_of(parsed, "nodata.example"), EntryAction::nodata);
  EXPECT_EQ(kind_of(parsed, "pass.example"), EntryKind::allow);
  EXPECT_EQ(action_of(parsed, "drop.example"), EntryAction::drop);
  EXPECT_EQ(action_of(parsed, "local.example"), EntryAction::local_data);
  const int local = find_entry(parsed, "local.example", EntryScope::name);
  std::vector<LocalAddress> addresses = parsed.local_data(local);
  ASSERT_EQ(addresses.size(), 3u);
  EXPECT_EQ(addresses[0].family, AF_INET);
  EXPECT_EQ(addresses[0].to_string(), "192.0.2.1");
  EXPECT_EQ(addresses[1].to_string(), "192.0.2.2");
  EXPECT_EQ(addresses[2].family, AF_INET6);
  EXPECT_EQ(addresses[2].to_string(), "2001:db8::1");

  ASSERT_EQ(parsed.stats.skipped_samples.size(), 5u);
  EXPECT_EQ(parsed.stats.skipped_samples[0].line, 16u);
  EXPECT_EQ(parsed.stats.skipped_samples[0].reason, "rpz-ip trigger");
  EXPECT_EQ(parsed.stats.skipped_samples[0].text, "1.0.218.230.rpz-ip CNAME .");
  EXPECT_EQ(parsed.stats.skipped_samples[4].reason, "CNAME rewrite to other.example.");
}

TEST(RpzFormat, MultiLineSoaWithCommentsClassAndBlankLines) {
  const std::string text =
      "; Title: AdGuard style\r\n"
      "\r\n"
      "$TTL 300\r\n"
      "@    IN   SOA   localhost. root.localhost. (\r\n"
      "           1736755208296        ; Serial\r\n"
      "                  604800        ; Refresh\r\n"
      "                   86400        ; Retry\r\n"
      "                  777600        ; Expire\r\n"
      "                     300 )      ; Negative Cache TTL\r\n"
      ";\r\n"
      "@    IN   NS    localhost.\r\n"
      "\r\n"
      "0-10--app-final.agent.datadoghq.com CNAME .\r\n"
      "b.example IN CNAME .\r\n";
  ParsedList parsed = parse_list(text, ListFormat::auto_detect);
  EXPECT_EQ(parsed.stats.format, ListFormat::rpz);
  EXPECT_EQ(parsed.stats.invalid, 0u) << parsed.stats.summary();
  EXPECT_THAT(entry_names(parsed),
              UnorderedElementsAre("0-10--app-final.agent.datadoghq.com", "b.example"));
}

TEST(RpzFormat, OwnersAreRelativeToTheOrigin) {
  const std::string text =
      "$ORIGIN rpz.example.net.\n"
      "$TTL 60\n"
      "@ SOA ns.example.net. admin.example.net. 1 3600 600 86400 60\n"
      "@ NS ns.example.net.\n"
      "bad.example CNAME .\n"
      "absolute.example.rpz.example.net. CNAME .\n"
      "outside.example. CNAME .\n"
      "$ORIGIN sub.rpz.example.net.\n"
      "deep CNAME .\n"
      "relative-target.example CNAME rpz-passthru\n";
  ParsedList parsed = parse_list(text, ListFormat::rpz);
  EXPECT_THAT(entry_names(parsed), UnorderedElementsAre("bad.example", "absolute.example",
                                                        "deep.sub", "relative-target.example.sub"));
  EXPECT_EQ(kind_of(parsed, "relative-target.example.sub"), EntryKind::allow);
  EXPECT_EQ(parsed.stats.invalid, 1u);
  EXPECT_THAT(parsed.stats.invalid_samples, ElementsAre(LineIssueAt(7, "outside the zone")));
}

TEST(RpzFormat, ZoneFragmentWithoutSoa) {
  ParsedList parsed = parse_list("a.example CNAME .\n*.b.example CNAME .\n", ListFormat::rpz);
  EXPECT_THAT(entry_names(parsed), UnorderedElementsAre("a.example", "*.b.example"));
}

TEST(RpzFormat, SyntaxErrorsAreCountedWithLineNumbersAndTheRestLoads) {
  const std::string text =
      "a.example CNAME .\n"
      "broken.example A not-an-address\n"
      "b.example CNAME .\n"
      "c.example BOGUSTYPE .\n"
      "d.example CNAME .";
  ParsedList parsed = parse_list(text, ListFormat::rpz);
  EXPECT_EQ(parsed.stats.entries, 3u);
  EXPECT_EQ(parsed.stats.invalid, 2u);
  ASSERT_THAT(parsed.stats.invalid_samples, ElementsAre(LineIssueAt(2, ""), LineIssueAt(4, "")));
  EXPECT_EQ(parsed.stats.invalid_samples[0].text, "broken.example A not-an-address");
}

// ldns reads a type number past 16 bits into its enum as it is (a UBSan enum error in the
// fuzzer); such a record is invalid, with its line, and the others load.
TEST(RpzFormat, TypeNumberOver65535IsInvalid) {
  const std::string text =
      "a.example CNAME .\n"
      "b.example TYPE98777600 \\# 0\n"
      "c.example TYPE65535 \\# 0\n"
      "d.example CNAME .\n";
  ParsedList parsed = parse_list(text, ListFormat::rpz);
  EXPECT_EQ(parsed.stats.entries, 2u);
  EXPECT_EQ(parsed.stats.invalid, 1u);
  EXPECT_THAT(parsed.stats.invalid_samples,
              ElementsAre(LineIssueAt(2, "TYPE98777600 is over 65535")));
  EXPECT_EQ(parsed.stats.unsupported, 1u);  // TYPE65535: local data of a type not served
}

// libldns 1.8.3 leaked the data of a CERT record of certificate type 0 (found by fuzzing, a
// leak under ASan); dnsvagt serves no CERT data, so ldns never parses it. Such records count
// as unsupported, their owners still carry to the records after them, and a type written as
// a number is read as its name.
TEST(RpzFormat, RecordsOfTypesNotServedAreUnsupportedWithoutParsingTheirData) {
  const std::string text =
      "x.example CERT 0 1 2 AAAA\n"
      "y.example 300 IN CERT 65536 1 2 AAAA\n"
      "cert-owner.example TXT \"just text\"\n"
      "  A 10.0.0.1\n"
      "z.example TYPE1 \\# 4 0a000002\n"
      "w.example NOSUCHTYPE 1\n";
  ParsedList parsed = parse_list(text, ListFormat::rpz);
  EXPECT_EQ(parsed.stats.unsupported, 3u);
  EXPECT_THAT(parsed.stats.skipped_samples,
              ElementsAre(LineIssueAt(1, "local data of type CERT"),
                          LineIssueAt(2, "local data of type CERT"),
                          LineIssueAt(3, "local data of type TXT")));
  EXPECT_THAT(addresses_of(parsed, "cert-owner.example"), ElementsAre("10.0.0.1"));
  EXPECT_THAT(addresses_of(parsed, "z.example"), ElementsAre("10.0.0.2"));
  EXPECT_THAT(parsed.stats.invalid_samples, ElementsAre(LineIssueAt(6, "type")));
}

// A zone with `records` A records of distinct addresses for `name`, 10.0.0.1 up.
std::string local_data_zone(std::string_view name, int records) {
  std::string text;
  for (int i = 1; i <= records; ++i) {
    text += std::string(name) + " A 10." + std::to_string(i >> 16) + "." +
            std::to_string((i >> 8) & 255) + "." + std::to_string(i & 255) + "\n";
  }
  return text;
}

TEST(RpzFormat, LocalDataPastTheCapPerNameIsInvalidWithLineAndNameAndTheRestLoads) {
  const std::string text = local_data_zone("big.example", kMaxLocalDataPerName + 8) +
                           "big.example A 10.0.0.1\n"  // a repeat stays a duplicate
                           "after.example CNAME .\n";
  ParsedList parsed = parse_list(text, ListFormat::rpz);
  EXPECT_EQ(parsed.stats.entries, 2u);
  EXPECT_EQ(parsed.stats.duplicates, 1u);
  EXPECT_EQ(parsed.stats.invalid, 8u);
  int big = find_entry(parsed, "big.example", EntryScope::name);
  ASSERT_GE(big, 0);
  EXPECT_EQ(parsed.local_data(big).size(), kMaxLocalDataPerName);
  EXPECT_EQ(parsed.local_data(big).back().to_string(), "10.0.0.32");
  ASSERT_FALSE(parsed.stats.invalid_samples.empty());
  const LineIssue& first = parsed.stats.invalid_samples[0];
  EXPECT_EQ(first.line, kMaxLocalDataPerName + 1);
  EXPECT_EQ(first.text, "big.example A 10.0.0.33");
  EXPECT_EQ(first.reason, "more than 32 local-data records for big.example");
  EXPECT_GE(find_entry(parsed, "after.example", EntryScope::name), 0);
}

// The cap keeps the merge of one name's records linear: 200000 records for one name took
// minutes when each was compared with every earlier one (no clock here: the suite's timeout
// is what a quadratic merge would run into).
TEST(RpzFormat, ManyLocalDataRecordsForOneNameAreCappedAndCounted) {
  ParsedList parsed = parse_list(local_data_zone("big.example", 200000), ListFormat::rpz);
  EXPECT_EQ(parsed.stats.entries, 1u);
  EXPECT_EQ(parsed.stats.invalid, 200000u - kMaxLocalDataPerName);
}

TEST(RpzFormat, EmptyZone) {
  ParsedList parsed = parse_list("", ListFormat::rpz);
  EXPECT_EQ(parsed.stats.entries, 0u);
  EXPECT_EQ(parsed.stats.invalid, 0u);
}

}  // namespace
}  // namespace dnsvagt
