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

}  // namespace
}  // namespace dnsvagt
