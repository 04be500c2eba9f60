#include "blocklists/policy.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "blocklists/list_parser.h"
#include "blocklists/list_source.h"

namespace dnsvagt {
namespace {

PolicyList list_named(std::string name, bool allow_list = false) {
  PolicyList list;
  list.name = std::move(name);
  list.allow_list = allow_list;
  return list;
}

// Two block lists (hosts and RPZ) and one allow list.
std::shared_ptr<const Policy> example_policy(BlockAction action = BlockAction::nxdomain) {
  PolicyBuilder builder(action);
  builder.add_list(list_named("malware"),
                   parse_list("0.0.0.0 evil.example\n0.0.0.0 ads.example\n", ListFormat::hosts));
  builder.add_list(list_named("rpz"),
                   parse_list("nx.example CNAME .\n"
                              "*.nx.example CNAME *.\n"
                              "drop.example CNAME rpz-drop.\n"
                              "pass.evil.example CNAME rpz-passthru.\n"
                              "local.example A 192.0.2.7\n"
                              "local.example AAAA 2001:db8::7\n",
                              ListFormat::rpz));
  builder.add_list(list_named("exceptions", true),
                   parse_list("good.evil.example\n", ListFormat::domains));
  return std::move(builder).build();
}

TEST(Policy, BlocksWithTheConfiguredActionAndNamesListAndEntry) {
  auto policy = example_policy(BlockAction::sinkhole);
  PolicyVerdict verdict = policy->check("www.evil.example");
  EXPECT_TRUE(verdict.blocked);
  EXPECT_FALSE(verdict.allowed);
  EXPECT_EQ(policy->lists()[verdict.list].name, "malware");
  EXPECT_EQ(policy->entry_rule(verdict.entry), "evil.example");
  EXPECT_EQ(verdict.action, PolicyAction::sinkhole);
  EXPECT_FALSE(policy->check("example").blocked);
  EXPECT_FALSE(policy->check("notevil.example").blocked);
}

// Lists A and B both block shared.example; A's allow list allows a name below it. Groups:
// 1 "b_only" (list B, no allow list, action refused), 2 "a_allow" (both lists, A's allow list),
// 3 "rpz" (the RPZ list only, action null).
std::shared_ptr<const Policy> grouped_policy() {
  PolicyBuilder builder(BlockAction::nxdomain);
  builder.add_list(list_named("a"), parse_list("shared.example\nonly-a.example\n",
                                               ListFormat::domains));
  builder.add_list(list_named("b"), parse_list("shared.example\n", ListFormat::domains));
  builder.add_list(list_named("rpz"), parse_list("nx.example CNAME .\nnull.example CNAME *.\n"
                                                 "plain.example A 192.0.2.7\n",
                                                 ListFormat::rpz));
  builder.add_list(list_named("a_allow", true),
                   parse_list("ok.shared.example\n", ListFormat::domains));
  builder.set_client_groups({
      ClientGroup{"b_only", {}, {"b"}, {}, BlockAction::refused, {}},
      ClientGroup{"a_allow", {}, {"a", "b"}, {"a_allow"}, BlockAction::nxdomain, {}},
      ClientGroup{"rpz", {}, {"rpz"}, {}, BlockAction::null, {}},
  });
  return std::move(builder).build();
}

TEST(PolicyGroups, AGroupSeesOnlyItsListsWithItsAction) {
  auto policy = grouped_policy();
  ASSERT_EQ(policy->groups().size(), 4u);
  EXPECT_EQ(policy->groups()[1].name, "b_only");
  // Default group: every list; A, listed first, decides.
  PolicyVerdict verdict = policy->check("shared.example");
  ASSERT_TRUE(verdict.blocked);
  EXPECT_EQ(policy->lists()[verdict.list].name, "a");
  EXPECT_EQ(verdict.action, PolicyAction::nxdomain);
  EXPECT_TRUE(policy->check("ok.shared.example").allowed);
  // B only: blocked by B with the group's action; A's entries and allow list do not apply.
  verdict = policy->check("shared.example", 1);
  ASSERT_TRUE(verdict.blocked);
  EXPECT_EQ(policy->lists()[verdict.list].name, "b");
  EXPECT_EQ(verdict.action, PolicyAction::refused);
  EXPECT_FALSE(policy->check("only-a.example", 1).blocked);
  verdict = policy->check("ok.shared.example", 1);
  EXPECT_TRUE(verdict.blocked);
  EXPECT_FALSE(verdict.allowed);
  // With A's allow list the allow entry wins over both lists.
  EXPECT_TRUE(policy->check("ok.shared.example", 2).allowed);
  EXPECT_TRUE(policy->check("only-a.example", 2).blocked);
  // Not in the group's lists: nothing matches.
  EXPECT_FALSE(policy->check("nx.example", 1).blocked);
}

TEST(PolicyGroups, RpzEntriesKeepTheirOwnActionInEveryGroup) {
  auto policy = grouped_policy();
  EXPECT_EQ(policy->check("nx.example", 3).action, PolicyAction::nxdomain);
  EXPECT_EQ(policy->check("null.example", 3).action, PolicyAction::nodata);
  EXPECT_EQ(policy->check("plain.example", 3).action, PolicyAction::local_data);
  // An RPZ entry with an explicit NXDOMAIN is no entry "without an action" even where the
  // configured action is nxdomain too.
  EXPECT_EQ(policy->check("nx.example", Policy::kDefaultGroup).action, PolicyAction::nxdomain);
}

TEST(PolicyGroups, ExplicitRpzNxdomainIsNotTheGroupActionWhenTheyShareAClass) {
  PolicyBuilder builder(BlockAction::nxdomain);
  builder.add_list(list_named("mixed"), parse_list("nx.example CNAME .\n", ListFormat::rpz));
  builder.add_list(list_named("plain"), parse_list("plain.example\n", ListFormat::domains));
  builder.set_client_groups({ClientGroup{"g", {}, {"mixed", "plain"}, {}, BlockAction::null, {}}});
  auto policy = std::move(builder).build();
  EXPECT_EQ(policy->check("nx.example", 1).action, PolicyAction::nxdomain);
  EXPECT_EQ(policy->check("plain.example", 1).action, PolicyAction::null);
}

TEST(PolicyGroups, CnameTargetsAreJudgedWithTheGroupsLists) {
  auto policy = grouped_policy();
  struct Name {
    std::vector<uint8_t> bytes;
    std::span<const uint8_t> wire() const { return bytes; }
  };
  // "www.example." then "x.only-a.example."
  std::vector<Name> targets{{{1, 'x', 6, 'o', 'n', 'l', 'y', '-', 'a', 7, 'e', 'x', 'a', 'm', 'p',
                              'l', 'e', 0}}};
  const std::vector<uint8_t> qname{3, 'w', 'w', 'w', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0};
  size_t target = 99;
  EXPECT_TRUE(policy->check_answer(qname, targets, &target).blocked);
  EXPECT_EQ(target, 0u);
  EXPECT_FALSE(policy->check_answer(qname, targets, &target, 1).blocked);
}

TEST(PolicyGroups, AllMatchesSayWhetherTheirListApplies) {
  auto policy = grouped_policy();
  std::vector<Policy::Match> matches = policy->all_matches("shared.example", 1);
  ASSERT_EQ(matches.size(), 2u);
  for (const Policy::Match& match : matches) {
    EXPECT_EQ(match.applies, policy->lists()[match.list].name == "b");
    EXPECT_EQ(match.action, PolicyAction::refused);
  }
}

TEST(PolicyGroups, APolicyBuiltWithoutGroupsAnswersEveryGroupAsTheDefault) {
  auto policy = example_policy();
  EXPECT_TRUE(policy->check("evil.example", 3).blocked);
  EXPECT_FALSE(Policy().check("evil.example", 3).blocked);
}

TEST(Policy, AllowEntryOnTheNameOrAParentWins) {
  auto policy = example_policy();
  PolicyVerdict verdict = policy->check("good.evil.example");
  EXPECT_FALSE(verdict.blocked);
  EXPECT_TRUE(verdict.allowed);
  EXPECT_EQ(policy->lists()[verdict.list].name, "exceptions");
  EXPECT_TRUE(policy->check("deep.good.evil.example").allowed);
  // The allow entry is below the block entry: the parent stays blocked.
  EXPECT_TRUE(policy->check("evil.example").blocked);
  // RPZ passthru is an allow entry too, even across lists; for its name only.
  EXPECT_TRUE(policy->check("pass.evil.example").allowed);
  EXPECT_TRUE(policy->check("x.pass.evil.example").blocked);
}

TEST(Policy, RpzEntriesCarryTheirOwnAction) {
  auto policy = example_policy(BlockAction::null);
  EXPECT_EQ(policy->check("nx.example").action, PolicyAction::nxdomain);
  EXPECT_EQ(policy->check("a.nx.example").action, PolicyAction::nodata);
  EXPECT_EQ(policy->entry_rule(policy->check("a.nx.example").entry), "*.nx.example");
  EXPECT_EQ(policy->check("drop.example").action, PolicyAction::drop);
  EXPECT_FALSE(policy->check("www.drop.example").blocked);  // RPZ exact trigger: name only
  PolicyVerdict local = policy->check("LOCAL.example.");
  EXPECT_EQ(local.action, PolicyAction::local_data);
  ASSERT_EQ(local.local_data.size(), 2u);
  EXPECT_EQ(local.local_data[0].to_string(), "192.0.2.7");
  EXPECT_EQ(local.local_data[1].family, AF_INET6);
}

TEST(Policy, WireAndTextAgree) {
  auto policy = example_policy();
  const uint8_t name[] = {3,   'W', 'W', 'W', 4,   'E', 'v', 'I', 'l',
                          7,   'e', 'x', 'a', 'm', 'p', 'l', 'e', 0};
  PolicyVerdict verdict = policy->check(std::span<const uint8_t>(name, sizeof name));
  EXPECT_TRUE(verdict.blocked);
  EXPECT_EQ(verdict.entry, policy->check("www.evil.example").entry);
}

// A name as the resolver keeps a CNAME target: uncompressed wire form behind wire().
struct WireName {
  explicit WireName(std::string_view text) {
    for (size_t start = 0; start < text.size();) {
      const size_t end = std::min(text.find('.', start), text.size());
      bytes.push_back(static_cast<uint8_t>(end - start));
      bytes.insert(bytes.end(), text.begin() + start, text.begin() + end);
      start = end + 1;
    }
    bytes.push_back(0);
  }
  std::span<const uint8_t> wire() const { return bytes; }
  std::vector<uint8_t> bytes;
};

TEST(Policy, CheckAnswerBlocksByTheFirstBlockedCnameTarget) {
  auto policy = example_policy();
  const WireName query("www.harmless.example");
  const std::vector<WireName> chain = {WireName("cdn.harmless.example"),
                                       WireName("pass.evil.example"),  // allowed, by RPZ
                                       WireName("x.ads.example"), WireName("evil.example")};
  size_t target = 99;
  PolicyVerdict verdict = policy->check_answer(query.wire(), chain, &target);
  EXPECT_TRUE(verdict.blocked);
  EXPECT_EQ(target, 2u);  // an allowed target does not allow the rest of the chain
  EXPECT_EQ(policy->lists()[verdict.list].name, "malware");
  EXPECT_FALSE(policy->check_answer(query.wire(), std::vector<WireName>(), &target).blocked);
  EXPECT_FALSE(policy->check_answer(query.wire(), std::vector<WireName>{chain[0]}, &target)
                   .blocked);
}

TEST(Policy, CheckAnswerLetsAnAllowedNamesDataThrough) {
  auto policy = example_policy();
  size_t target = 99;
  const std::vector<WireName> chain = {WireName("evil.example")};
  EXPECT_FALSE(policy->check_answer(WireName("good.evil.example").wire(), chain, &target).blocked);
  EXPECT_EQ(target, 99u);
}

TEST(Policy, AllMatchesListsEveryListMostSpecificFirst) {
  auto policy = example_policy();
  std::vector<Policy::Match> matches = policy->all_matches("good.evil.example");
  ASSERT_EQ(matches.size(), 2u);
  EXPECT_EQ(policy->lists()[matches[0].list].name, "exceptions");
  EXPECT_EQ(matches[0].kind, EntryKind::allow);
  EXPECT_EQ(policy->lists()[matches[1].list].name, "malware");
  EXPECT_EQ(matches[1].kind, EntryKind::block);
}

TEST(Policy, EmptyPolicyBlocksNothing) {
  Policy policy;
  EXPECT_FALSE(policy.check("evil.example").blocked);
  EXPECT_TRUE(policy.lists().empty());
}

ListSource file_list(std::string name, std::string file) {
  ListSource source;
  source.name = std::move(name);
  source.file = std::move(file);
  return source;
}

ListSource url_list(std::string name, std::string url) {
  ListSource source;
  source.name = std::move(name);
  source.url = std::move(url);
  return source;
}

class TempDir {
 public:
  TempDir() {
    path_ = std::filesystem::temp_directory_path() /
            ("dnsvagt-policy-test-" + std::to_string(getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string write(const std::string& name, const std::string& text) const {
    std::string file = (path_ / name).string();
    std::ofstream(file, std::ios::binary) << text;
    return file;
  }
  std::string path() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

TEST(BuildPolicy, LoadsFileListsCachedUrlListsAndAllowLists) {
  TempDir dir;
  BlockingConfig config;
  config.cache_dir = dir.path();
  config.action = BlockAction::nodata;
  dir.write("feed.list", "||tracker.example^\n");
  config.lists = {file_list("local", dir.write("block.txt", "0.0.0.0 evil.example\n")),
                  url_list("feed", "https://feeds.invalid/list.txt"),
                  url_list("never", "https://feeds.invalid/never.txt"),
                  file_list("missing", dir.path() + "/does-not-exist.txt")};
  config.allow = {file_list("ok", dir.write("allow.txt", "||www.evil.example^\n"))};

  auto policy = build_policy(config);
  ASSERT_EQ(policy->lists().size(), 5u);
  EXPECT_EQ(policy->lists()[0].stats.entries, 1u);
  EXPECT_EQ(policy->lists()[1].path, list_cache_path(dir.path(), "feed"));
  EXPECT_EQ(policy->lists()[1].stats.format, ListFormat::adblock);
  EXPECT_TRUE(policy->lists()[1].stats.format_detected);
  EXPECT_TRUE(policy->lists()[2].error.empty());
  EXPECT_NE(policy->lists()[2].note.find("no cached copy"), std::string::npos);
  EXPECT_NE(policy->lists()[3].error.find("does-not-exist.txt"), std::string::npos);
  EXPECT_TRUE(policy->lists()[4].allow_list);

  PolicyVerdict verdict = policy->check("a.evil.example");
  EXPECT_TRUE(verdict.blocked);
  EXPECT_EQ(verdict.action, PolicyAction::nodata);
  EXPECT_EQ(policy->lists()[policy->check("x.tracker.example").list].name, "feed");
  EXPECT_TRUE(policy->check("www.evil.example").allowed);
}

TEST(BuildPolicy, ListLargerThanMaxSizeIsAnError) {
  TempDir dir;
  BlockingConfig config;
  config.lists = {file_list("big", dir.write("big.txt", "a.example\nb.example\n"))};
  config.lists[0].max_size = 10;
  auto policy = build_policy(config);
  EXPECT_NE(policy->lists()[0].error.find("max_size"), std::string::npos);
  EXPECT_FALSE(policy->check("a.example").blocked);
}

// --- PolicyBuilder::add_list_file: compiling straight from the list's file -----------------

PolicyList file_named(std::string name, std::string path, ListFormat format,
                      bool allow_list = false) {
  PolicyList list = list_named(std::move(name), allow_list);
  list.path = std::move(path);
  list.format = format;
  return list;
}

// The verdict for `name` as one comparable line: "blocked malware evil.example nxdomain".
std::string describe(const Policy& policy, const std::string& name) {
  PolicyVerdict verdict = policy.check(name);
  if (!verdict.blocked && !verdict.allowed) return "passed";
  std::string text = verdict.blocked ? "blocked " : "allowed ";
  text += policy.lists()[verdict.list].name + " " + policy.entry_rule(verdict.entry);
  if (verdict.blocked) text += std::string(" ") + to_string(verdict.action);
  for (const LocalAddress& address : verdict.local_data) text += " " + address.to_string();
  return text;
}

struct ListText {
  std::string name;
  bool allow_list;
  ListFormat format;
  std::string text;
};

const std::vector<ListText>& example_lists() {
  static const std::vector<ListText> lists = {
      {"malware", false, ListFormat::hosts,
       "# malware\r\n0.0.0.0 evil.example ads.example\r\n0.0.0.0 evil.example\r\n"
       "0.0.0.0 bad..example\r\n0.0.0.0 tracker.example"},
      {"rpz", false, ListFormat::rpz,
       "nx.example CNAME .\n"
       "*.nx.example CNAME *.\n"
       "drop.example CNAME rpz-drop.\n"
       "pass.evil.example CNAME rpz-passthru.\n"
       "local.example A 192.0.2.7\n"
       "tracker.example CNAME .\n"
       "local.example AAAA 2001:db8::7\n"
       "local.example A 192.0.2.7\n"},
      {"adblock", false, ListFormat::auto_detect,
       "[Adblock Plus 2.0]\n||ads.example^\n|exact.example^\n@@||ok.ads.example^\n"
       "||ads.example^\n"},
      {"exceptions", true, ListFormat::domains, "good.evil.example\nlocal.example\n"},
  };
  return lists;
}

const std::vector<std::string> kProbeNames = {
    "evil.example", "www.evil.example", "ads.example", "x.ads.example", "ok.ads.example",
    "tracker.example", "a.tracker.example", "nx.example", "a.nx.example", "drop.example",
    "pass.evil.example", "local.example", "exact.example", "www.exact.example",
    "good.evil.example", "bad..example", "example", "unlisted.example"};

TEST(PolicyBuilderFile, GivesTheVerdictsOfAParsedListAndSetsTheStats) {
  TempDir dir;
  PolicyBuilder from_parsed(BlockAction::sinkhole);
  PolicyBuilder from_files(BlockAction::sinkhole);
  std::vector<ParseStats> expected_stats;
  for (const ListText& list : example_lists()) {
    ParsedList parsed = parse_list(list.text, list.format);
    expected_stats.push_back(parsed.stats);
    PolicyList parsed_list = list_named(list.name, list.allow_list);
    parsed_list.stats = parsed.stats;
    from_parsed.add_list(std::move(parsed_list), parsed);
    from_files.add_list_file(
        file_named(list.name, dir.write(list.name, list.text), list.format, list.allow_list));
  }
  ASSERT_EQ(from_files.lists().size(), example_lists().size());
  auto expected = std::move(from_parsed).build();
  auto policy = std::move(from_files).build();
  EXPECT_EQ(policy->entry_count(), expected->entry_count());
  EXPECT_EQ(policy->entry_count(), 14u);
  for (const std::string& name : kProbeNames) {
    EXPECT_EQ(describe(*policy, name), describe(*expected, name)) << name;
  }
  // The verdicts are right, not only equal.
  EXPECT_EQ(describe(*policy, "www.evil.example"), "blocked malware evil.example sinkhole");
  EXPECT_EQ(describe(*policy, "ok.ads.example"), "allowed adblock ok.ads.example");
  EXPECT_EQ(describe(*policy, "a.nx.example"), "blocked rpz *.nx.example nodata");
  EXPECT_EQ(describe(*policy, "good.evil.example"), "allowed exceptions good.evil.example");
  EXPECT_EQ(describe(*policy, "www.exact.example"), "passed");
  EXPECT_EQ(describe(*policy, "pass.evil.example"), "allowed rpz |pass.evil.example^");

  for (size_t i = 0; i < expected_stats.size(); ++i) {
    SCOPED_TRACE(policy->lists()[i].name);
    const ParseStats& stats = policy->lists()[i].stats;
    EXPECT_TRUE(policy->lists()[i].error.empty()) << policy->lists()[i].error;
    EXPECT_EQ(stats.format, expected_stats[i].format);
    EXPECT_EQ(stats.format_detected, expected_stats[i].format_detected);
    EXPECT_EQ(stats.lines, expected_stats[i].lines);
    EXPECT_EQ(stats.entries, expected_stats[i].entries);
    // In an allow list every entry allows, whatever the parser made of it.
    EXPECT_EQ(stats.allow_entries, policy->lists()[i].allow_list
                                       ? expected_stats[i].entries
                                       : expected_stats[i].allow_entries);
    EXPECT_EQ(stats.duplicates, expected_stats[i].duplicates);
    EXPECT_EQ(stats.invalid, expected_stats[i].invalid);
    EXPECT_EQ(policy->lists()[i].path, dir.path() + "/" + policy->lists()[i].name);
  }
  EXPECT_EQ(policy->lists()[0].stats.entries, 3u);
  EXPECT_EQ(policy->lists()[0].stats.duplicates, 1u);
  EXPECT_EQ(policy->lists()[0].stats.invalid, 1u);
  EXPECT_EQ(policy->lists()[2].stats.format, ListFormat::adblock);
  EXPECT_TRUE(policy->lists()[2].stats.format_detected);
}

TEST(PolicyBuilderFile, DuplicatesMergeWithinAListButNotAcrossLists) {
  TempDir dir;
  PolicyBuilder builder(BlockAction::nxdomain);
  builder.add_list_file(file_named("one", dir.write("one.txt",
                                                    "0.0.0.0 a.example\n"
                                                    "0.0.0.0 A.Example.\n"
                                                    "0.0.0.0 b.example a.example\n"),
                                   ListFormat::hosts));
  builder.add_list_file(
      file_named("two", dir.write("two.txt", "a.example\nc.example\n"), ListFormat::domains));
  // Scope and kind tell entries of one name apart.
  builder.add_list_file(file_named("three", dir.write("three.txt",
                                                      "||d.example^\n|d.example^\n"
                                                      "@@||d.example^\n||*.d.example^\n"
                                                      "|d.example^\n"),
                                   ListFormat::adblock));
  auto policy = std::move(builder).build();
  ASSERT_EQ(policy->lists().size(), 3u);
  EXPECT_EQ(policy->lists()[0].stats.entries, 2u);
  EXPECT_EQ(policy->lists()[0].stats.duplicates, 2u);
  EXPECT_EQ(policy->lists()[1].stats.entries, 2u);
  EXPECT_EQ(policy->lists()[1].stats.duplicates, 0u);
  EXPECT_EQ(policy->lists()[2].stats.entries, 4u);
  EXPECT_EQ(policy->lists()[2].stats.duplicates, 1u);
  EXPECT_EQ(policy->entry_count(), 2u + 2u + 4u);

  std::vector<Policy::Match> matches = policy->all_matches("a.example");
  ASSERT_EQ(matches.size(), 2u);
  EXPECT_EQ(policy->lists()[matches[0].list].name, "one");
  EXPECT_EQ(policy->lists()[matches[1].list].name, "two");
  EXPECT_EQ(policy->entry_rule(matches[0].entry), "a.example");
  EXPECT_EQ(policy->entry_rule(matches[1].entry), "a.example");
  EXPECT_EQ(policy->all_matches("www.d.example").size(), 3u);  // ||d^, @@||d^, ||*.d^
  EXPECT_EQ(policy->all_matches("d.example").size(), 3u);      // ||d^, @@||d^, |d^
}

TEST(PolicyBuilderFile, RpzLocalDataOfOneNameMergesAcrossLines) {
  TempDir dir;
  PolicyBuilder builder(BlockAction::nxdomain);
  builder.add_list_file(file_named("rpz", dir.write("zone.rpz",
                                                    "local.example A 192.0.2.7\n"
                                                    "other.example CNAME .\n"
                                                    "local.example AAAA 2001:db8::7\n"
                                                    "local.example A 192.0.2.7\n"
                                                    "local.example A 192.0.2.8\n"),
                                   ListFormat::rpz));
  auto policy = std::move(builder).build();
  EXPECT_EQ(policy->entry_count(), 2u);
  EXPECT_EQ(policy->lists()[0].stats.entries, 2u);
  EXPECT_EQ(policy->lists()[0].stats.duplicates, 1u);  // 192.0.2.7 twice
  PolicyVerdict verdict = policy->check("local.example");
  ASSERT_TRUE(verdict.blocked);
  EXPECT_EQ(verdict.action, PolicyAction::local_data);
  ASSERT_EQ(verdict.local_data.size(), 3u);
  EXPECT_EQ(verdict.local_data[0].to_string(), "192.0.2.7");
  EXPECT_EQ(verdict.local_data[1].family, AF_INET6);
  EXPECT_EQ(verdict.local_data[1].to_string(), "2001:db8::7");
  EXPECT_EQ(verdict.local_data[2].to_string(), "192.0.2.8");
  EXPECT_EQ(policy->all_matches("local.example").size(), 1u);
}

TEST(PolicyBuilderFile, RpzLocalDataPastTheCapPerNameIsInvalidAndTheRestLoads) {
  TempDir dir;
  std::string zone = "other.example CNAME .\n";
  for (size_t i = 1; i <= kMaxLocalDataPerName + 3; ++i) {
    zone += "local.example AAAA 2001:db8::" + std::to_string(i) + "\n";
  }
  zone += "after.example CNAME .\n";
  PolicyBuilder builder(BlockAction::nxdomain);
  builder.add_list_file(file_named("rpz", dir.write("zone.rpz", zone), ListFormat::rpz));
  auto policy = std::move(builder).build();
  const ParseStats& stats = policy->lists()[0].stats;
  EXPECT_EQ(stats.entries, 3u);
  EXPECT_EQ(stats.invalid, 3u);
  ASSERT_EQ(stats.invalid_samples.size(), 3u);
  EXPECT_EQ(stats.invalid_samples[0].line, kMaxLocalDataPerName + 2);
  EXPECT_EQ(stats.invalid_samples[0].text, "local.example AAAA 2001:db8::33");
  EXPECT_EQ(stats.invalid_samples[0].reason, "more than 32 local-data records for local.example");
  PolicyVerdict verdict = policy->check("local.example");
  ASSERT_TRUE(verdict.blocked);
  EXPECT_EQ(verdict.local_data.size(), kMaxLocalDataPerName);
  EXPECT_TRUE(policy->check("after.example").blocked);
}

TEST(PolicyBuilderFile, MissingFileSetsTheListsErrorAndThePolicyStillBuilds) {
  TempDir dir;
  const std::string missing = dir.path() + "/not-there.txt";
  PolicyBuilder builder(BlockAction::nxdomain);
  builder.add_list_file(file_named("gone", missing, ListFormat::domains));
  ASSERT_EQ(builder.lists().size(), 1u);
  EXPECT_NE(builder.lists()[0].error.find(missing), std::string::npos) << builder.lists()[0].error;
  // A list that arrives with an error is not read at all.
  PolicyList failed =
      file_named("failed", dir.write("failed.txt", "failed.example\n"), ListFormat::domains);
  failed.error = "download failed";
  builder.add_list_file(std::move(failed));
  builder.add_list_file(
      file_named("good", dir.write("good.txt", "good.example\n"), ListFormat::domains));
  auto policy = std::move(builder).build();
  ASSERT_EQ(policy->lists().size(), 3u);
  EXPECT_NE(policy->lists()[0].error.find(missing), std::string::npos);
  EXPECT_EQ(policy->lists()[0].stats.entries, 0u);
  EXPECT_EQ(policy->lists()[1].error, "download failed");
  EXPECT_EQ(policy->lists()[1].stats.lines, 0u);
  EXPECT_TRUE(policy->lists()[2].error.empty());
  EXPECT_EQ(policy->entry_count(), 1u);
  EXPECT_FALSE(policy->check("failed.example").blocked);
  EXPECT_EQ(describe(*policy, "www.good.example"), "blocked good good.example nxdomain");
}

// reserve() is a guess: far off either way, the policy is the same.
TEST(PolicyBuilderFile, ReserveWithAWrongGuessStillBuildsAWorkingPolicy) {
  TempDir dir;
  std::string text;
  const size_t count = 20000;
  for (size_t i = 0; i < count; ++i) text += "name" + std::to_string(i) + ".example\n";
  const std::string path = dir.write("names.txt", text);
  for (size_t guess : {size_t{0}, size_t{1}, size_t{20'000'000}}) {
    SCOPED_TRACE(guess);
    PolicyBuilder builder(BlockAction::nodata);
    builder.reserve(guess);
    builder.add_list_file(file_named("names", path, ListFormat::domains));
    builder.add_list(list_named("more"), parse_list("extra.example\nname7.example\n",
                                                    ListFormat::domains));
    auto policy = std::move(builder).build();
    EXPECT_EQ(policy->lists()[0].stats.entries, count);
    ASSERT_EQ(policy->entry_count(), count + 2);
    for (size_t i = 0; i < count; i += 7) {
      const std::string name = "name" + std::to_string(i) + ".example";
      ASSERT_EQ(describe(*policy, "sub." + name), "blocked names " + name + " nodata");
    }
    EXPECT_EQ(describe(*policy, "extra.example"), "blocked more extra.example nodata");
    EXPECT_EQ(policy->all_matches("name7.example").size(), 2u);
    EXPECT_FALSE(policy->check("name20000.example").blocked);
    // The table is rebuilt at the set's size: a huge guess leaves no huge table behind.
    EXPECT_LT(policy->memory_bytes(), 2u * 1024 * 1024);
  }
}

TEST(PublishedPolicy, ReadersKeepTheirPolicyWhileANewOneIsPublished) {
  PublishedPolicy published;
  EXPECT_FALSE(published.current()->check("evil.example").blocked);
  std::shared_ptr<const Policy> held = published.current();
  published.publish(example_policy());
  EXPECT_FALSE(held->check("evil.example").blocked);  // the old one, still valid
  EXPECT_TRUE(published.current()->check("evil.example").blocked);

  // Readers and a publisher at once: every reader sees either policy, whole.
  std::atomic<bool> stop{false};
  std::atomic<int> inconsistent{0};
  std::thread reader([&] {
    while (!stop) {
      auto policy = published.current();
      if (policy->check("evil.example").blocked != (policy->entry_count() > 0)) ++inconsistent;
    }
  });
  for (int i = 0; i < 200; ++i) {
    published.publish(i % 2 ? example_policy() : std::make_shared<const Policy>());
  }
  stop = true;
  reader.join();
  EXPECT_EQ(inconsistent, 0);
}

// A query still holds the replaced policy: the publisher waits for it, then frees the policy
// itself (it holds the last reference), so nothing is unmapped on a query thread.
TEST(ReleaseWhenUnused, WaitsForTheLastQueryThenFreesThePolicy) {
  std::shared_ptr<const Policy> replaced = example_policy();
  std::weak_ptr<const Policy> watch = replaced;
  std::shared_ptr<const Policy> query = replaced;  // a query in flight
  std::atomic<bool> releasing{false};
  std::atomic<bool> freed_on_return{false};
  std::thread publisher([&] {
    releasing = true;
    release_when_unused(std::move(replaced), std::chrono::seconds(30));
    freed_on_return = watch.expired();
  });
  while (!releasing) std::this_thread::yield();
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // let it wait on the query
  EXPECT_FALSE(watch.expired());
  query.reset();  // the query ends
  publisher.join();
  EXPECT_TRUE(freed_on_return);
}

// A query that outlives the wait keeps the policy alive; it frees it when it ends.
TEST(ReleaseWhenUnused, GivesUpAfterTheWaitAndTheLastQueryFreesThePolicy) {
  std::shared_ptr<const Policy> replaced = example_policy();
  std::weak_ptr<const Policy> watch = replaced;
  std::shared_ptr<const Policy> query = replaced;
  release_when_unused(std::move(replaced), std::chrono::milliseconds(10));
  EXPECT_FALSE(watch.expired());
  EXPECT_TRUE(query->check("evil.example").blocked);
  query.reset();
  EXPECT_TRUE(watch.expired());
}

}  // namespace
}  // namespace dnsvagt
