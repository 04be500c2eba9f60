#include "blocklists/list_updater.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>
#include <vector>

#include "tests/blocklists/feed_server_process.h"
#include "tests/blocklists/store_content.h"
#include "tests/eventually.h"
#include "tests/temp_dir.h"

namespace dnsvagt {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::string domains(int count, const std::string& prefix) {
  std::string text;
  for (int i = 0; i < count; ++i) text += prefix + std::to_string(i) + ".example.com\n";
  return text;
}

class ListUpdaterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_.cache_dir = dir_ + "/cache";
    options_.file_poll_interval = 20ms;
    options_.first_retry = 50ms;
    options_.connect_timeout = 2s;
  }
  void TearDown() override { updater_.reset(); }

  void write_file(const std::string& path, const std::string& data) {
    // Via rename, as editors and deploy tools do: a poll never sees half a file.
    std::ofstream(path + ".part", std::ios::binary) << data;
    fs::rename(path + ".part", path);
  }
  ListSource file_list(const std::string& name) {
    ListSource list;
    list.name = name;
    list.file = dir_ + "/" + name + ".txt";
    list.max_shrink = 0.5;
    return list;
  }
  void start() {
    UpdaterHooks hooks;
    auto publish = policy_publisher(policy_, config_);
    hooks.publish = [this, publish](std::vector<PolicyList>&& lists, uint64_t entries) {
      publish(std::move(lists), entries);
      ++publishes_;
    };
    hooks.log = [this](LogLevel, const std::string& message) {
      std::lock_guard lock(log_mutex_);
      log_ += message + "\n";
    };
    updater_ = std::make_unique<ListUpdater>(config_, options_, hooks);
    updater_->start();
  }
  bool blocked(const std::string& name) { return policy_.current()->check(name).blocked; }
  ListStatus status(size_t index) { return updater_->statuses().at(index); }
  bool in_use(size_t index) { return updater_->version_in_use(index).has_value(); }
  std::string log() {
    std::lock_guard lock(log_mutex_);
    return log_;
  }
  uint64_t failures(size_t index, UpdateFailure reason) {
    return status(index).failures[static_cast<size_t>(reason)];
  }
  // The names of the files in the cache directory, sorted.
  std::vector<std::string> cache_files() {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(config_.cache_dir)) {
      names.push_back(entry.path().filename());
    }
    std::sort(names.begin(), names.end());
    return names;
  }
  // True once no new version's file (or other temp file) is in the cache directory.
  bool no_temp_files() {
    std::vector<std::string> names = cache_files();
    return std::none_of(names.begin(), names.end(),
                        [](const std::string& name) { return name.ends_with(".tmp"); });
  }

  const TempDir temp_dir_{"list_updater_test"};
  const std::string dir_ = temp_dir_.path();
  BlockingConfig config_;
  UpdaterOptions options_;
  PublishedPolicy policy_;
  std::atomic<int> publishes_{0};
  std::mutex log_mutex_;
  std::string log_;  // every line the updater logged
  std::unique_ptr<ListUpdater> updater_;
};

TEST_F(ListUpdaterTest, FileListBlocksFromStart) {
  config_.lists.push_back(file_list("local"));
  write_file(config_.lists[0].file, domains(10, "a"));
  start();
  EXPECT_TRUE(blocked("a3.example.com"));
  EXPECT_FALSE(blocked("b3.example.com"));
  ListStatus local = status(0);
  EXPECT_TRUE(in_use(0));
  EXPECT_EQ(local.entries, 10u);
  EXPECT_EQ(local.source, config_.lists[0].file);
  EXPECT_TRUE(local.last_success.has_value());
}

TEST_F(ListUpdaterTest, ChangedFileIsPublished) {
  config_.lists.push_back(file_list("local"));
  write_file(config_.lists[0].file, domains(10, "a"));
  start();
  write_file(config_.lists[0].file, domains(12, "b"));
  EXPECT_TRUE(eventually([&] { return blocked("b11.example.com"); }));
  EXPECT_FALSE(blocked("a3.example.com"));
  EXPECT_EQ(status(0).entries, 12u);
}

TEST_F(ListUpdaterTest, ShrunkFileIsRejectedAndKept) {
  config_.lists.push_back(file_list("local"));
  write_file(config_.lists[0].file, domains(100, "a"));
  start();
  write_file(config_.lists[0].file, domains(10, "b"));
  ASSERT_TRUE(eventually([&] {
    return status(0).failures[static_cast<size_t>(UpdateFailure::shrink)] == 1;
  }));
  EXPECT_TRUE(blocked("a99.example.com"));
  EXPECT_FALSE(blocked("b1.example.com"));
  EXPECT_EQ(status(0).entries, 100u);
  EXPECT_EQ(status(0).last_failure_reason, UpdateFailure::shrink);
  EXPECT_TRUE(fs::exists(config_.cache_dir + "/local.rejected"));
}

// A local file is copied into the cache directory to be judged; the copy becomes the stored
// or the rejected version, or goes, and nothing of it is left behind.
TEST_F(ListUpdaterTest, FileUpdatesLeaveNoTempFileBehind) {
  config_.lists.push_back(file_list("local"));
  write_file(config_.lists[0].file, domains(100, "a"));
  start();
  EXPECT_TRUE(no_temp_files());
  // Accepted.
  write_file(config_.lists[0].file, domains(120, "b"));
  ASSERT_TRUE(eventually([&] { return status(0).entries == 120; }));
  EXPECT_TRUE(eventually([&] { return no_temp_files(); }));
  // The status counts a version when it is accepted; its policy is published a moment later.
  EXPECT_TRUE(eventually([&] { return blocked("b119.example.com"); }));
  // The same content again (a new file): only confirmed.
  const auto confirmed = status(0).last_success;
  write_file(config_.lists[0].file, domains(120, "b"));
  ASSERT_TRUE(eventually([&] { return status(0).last_success != confirmed; }));
  EXPECT_TRUE(eventually([&] { return no_temp_files(); }));
  // Rejected: kept as local.rejected.
  write_file(config_.lists[0].file, domains(10, "c"));
  ASSERT_TRUE(eventually([&] { return failures(0, UpdateFailure::shrink) == 1; }));
  EXPECT_TRUE(eventually([&] { return no_temp_files(); }));
  // Failed while copying: a directory where the file was opens but cannot be read.
  fs::remove(config_.lists[0].file);
  fs::create_directory(config_.lists[0].file);
  ASSERT_TRUE(eventually([&] { return failures(0, UpdateFailure::io) == 1; }));
  updater_->stop();
  EXPECT_TRUE(no_temp_files());
  EXPECT_EQ(cache_files(),
            (std::vector<std::string>{"local.list", "local.meta", "local.rejected"}));
  EXPECT_EQ(status(0).entries, 120u);
  EXPECT_TRUE(blocked("b119.example.com"));
}

TEST_F(ListUpdaterTest, FileGrownPastMaxSizeIsTooLarge) {
  config_.lists.push_back(file_list("local"));
  config_.lists[0].max_size = 1000;
  write_file(config_.lists[0].file, domains(10, "a"));
  start();
  EXPECT_TRUE(blocked("a9.example.com"));
  write_file(config_.lists[0].file, domains(100, "b"));
  ASSERT_TRUE(eventually([&] { return failures(0, UpdateFailure::too_large) == 1; }));
  updater_->stop();
  EXPECT_TRUE(no_temp_files());
  EXPECT_TRUE(blocked("a9.example.com"));
}

// A feed is downloaded into the cache directory: an accepted, a rejected and a failed download
// leave only the stored and the rejected version.
TEST_F(ListUpdaterTest, FeedUpdatesLeaveNoTempFileBehind) {
  const std::string feeds = dir_ + "/feeds";
  fs::create_directory(feeds);
  write_file(feeds + "/good.txt", domains(10, "g"));
  write_file(feeds + "/page.txt", "<!DOCTYPE html>\n<html><body>Maintenance</body></html>\n");
  FeedServerProcess server(feeds);
  for (const char* name : {"good", "page", "gone"}) {
    ListSource feed;
    feed.name = name;
    feed.url = server.url("/" + std::string(name) + ".txt");  // gone.txt: 404
    config_.lists.push_back(feed);
  }
  start();
  ASSERT_TRUE(eventually([&] { return in_use(0); }));
  ASSERT_TRUE(eventually([&] { return failures(1, UpdateFailure::parse_budget) >= 1; }));
  ASSERT_TRUE(eventually([&] { return failures(2, UpdateFailure::http_status) >= 1; }));
  updater_->stop();
  EXPECT_TRUE(no_temp_files());
  EXPECT_EQ(cache_files(), (std::vector<std::string>{"good.list", "good.meta", "page.rejected"}));
  EXPECT_TRUE(blocked("g9.example.com"));
  EXPECT_EQ(status(0).entries, 10u);
  EXPECT_EQ(updater_->version_in_use(0)->sha256, Sha256().update(domains(10, "g")).hex());
}

// A download whose checksum is the version in use only confirms it; its file goes.
TEST_F(ListUpdaterTest, UnchangedDownloadConfirmsTheVersionAndLeavesNoFile) {
  const std::string feeds = dir_ + "/feeds";
  fs::create_directory(feeds);
  write_file(feeds + "/feed.txt", domains(5, "cached"));
  FeedServerProcess server(feeds);
  ListSource feed;
  feed.name = "feed";
  feed.url = server.url("/feed.txt");
  config_.lists.push_back(feed);
  StoredListInfo cached;
  {
    ListStore store(config_.cache_dir);
    StoredListInfo info;
    info.source = feed.url;
    info.entries = 5;
    cached = save_content(store, "feed", domains(5, "cached"), info);  // no validators: a 200
  }
  start();
  ASSERT_TRUE(eventually([&] {
    return status(0).last_success > WallClock::time_point(std::chrono::hours(1));
  }));
  updater_->stop();
  EXPECT_TRUE(no_temp_files());
  EXPECT_EQ(cache_files(), (std::vector<std::string>{"feed.list", "feed.meta"}));
  ListStore::Loaded stored = ListStore(config_.cache_dir).check("feed");
  ASSERT_EQ(stored.status, ListStore::LoadStatus::ok) << stored.problem;
  EXPECT_EQ(stored.info.sha256, cached.sha256);
  EXPECT_EQ(stored.info.fetched_at, cached.fetched_at);  // not a new version
  EXPECT_GT(stored.info.checked_at, cached.checked_at);
  EXPECT_FALSE(stored.info.validators.etag.empty());  // now known
  EXPECT_EQ(status(0).failures, (std::array<uint64_t, kUpdateFailureCount>{}));
}

// A download that is not the pinned content is a failed update; the version in use stays,
// and, not being the pinned one either, is fetched again unconditionally rather than
// confirmed by a 304.
TEST_F(ListUpdaterTest, DownloadOtherThanThePinnedSha256IsAFailureAndTheCachedCopyStays) {
  const std::string feeds = dir_ + "/feeds";
  fs::create_directory(feeds);
  write_file(feeds + "/feed.txt", domains(5, "served"));
  FeedServerProcess server(feeds);
  ListSource feed;
  feed.name = "feed";
  feed.url = server.url("/feed.txt");
  feed.sha256 = Sha256().update(domains(5, "pinned")).hex();
  config_.lists.push_back(feed);
  {
    ListStore store(config_.cache_dir);
    StoredListInfo info;
    info.source = feed.url;
    info.checked_at = WallClock::now();  // not due yet, but for the pin
    save_content(store, "feed", domains(5, "cached"), info);
  }
  start();
  EXPECT_TRUE(blocked("cached4.example.com"));
  ASSERT_TRUE(eventually([&] { return failures(0, UpdateFailure::checksum) >= 2; }));  // retried
  EXPECT_TRUE(blocked("cached4.example.com"));
  EXPECT_FALSE(blocked("served4.example.com"));
  EXPECT_TRUE(in_use(0));
  EXPECT_EQ(status(0).last_failure_reason, UpdateFailure::checksum);
  EXPECT_NE(log().find("is not the pinned sha256 " + feed.sha256), std::string::npos) << log();

  write_file(feeds + "/feed.txt", domains(5, "pinned"));
  EXPECT_TRUE(eventually([&] { return blocked("pinned4.example.com"); }));
  EXPECT_EQ(updater_->version_in_use(0)->sha256, feed.sha256);
}

TEST_F(ListUpdaterTest, ListsAreIndependent) {
  config_.lists.push_back(file_list("one"));
  config_.lists.push_back(file_list("two"));
  write_file(config_.lists[0].file, domains(10, "a"));
  write_file(config_.lists[1].file, domains(10, "b"));
  start();
  write_file(config_.lists[0].file, "<html><body>oops</body></html>\n");
  write_file(config_.lists[1].file, domains(11, "c"));
  EXPECT_TRUE(eventually([&] { return blocked("c10.example.com"); }));
  EXPECT_TRUE(eventually([&] {
    return status(0).failures[static_cast<size_t>(UpdateFailure::parse_budget)] == 1;
  }));
  EXPECT_TRUE(blocked("a1.example.com"));
}

TEST_F(ListUpdaterTest, BrokenFileAtRestartFallsBackToTheCachedCopy) {
  config_.lists.push_back(file_list("local"));
  write_file(config_.lists[0].file, domains(20, "a"));
  start();
  updater_.reset();
  fs::remove(config_.lists[0].file);
  PublishedPolicy fresh;
  policy_.publish(fresh.current());  // nothing blocked until the restarted updater publishes
  start();
  EXPECT_TRUE(blocked("a19.example.com"));
  EXPECT_EQ(status(0).failures[static_cast<size_t>(UpdateFailure::io)], 1u);
  EXPECT_TRUE(in_use(0));
}

// A feed that cannot be reached: start-up serves the cached copy and does not wait.
TEST_F(ListUpdaterTest, FeedStartsFromCacheWhenUnreachable) {
  ListSource feed;
  feed.name = "feed";
  feed.url = "http://127.0.0.1:1/feed.txt";  // nothing listens on port 1
  config_.lists.push_back(feed);
  {
    ListStore store(config_.cache_dir);
    StoredListInfo info;
    info.source = feed.url;
    info.validators.etag = "\"v1\"";
    save_content(store, "feed", domains(5, "cached"), info);  // checked at 1970: due at once
  }
  start();
  EXPECT_TRUE(blocked("cached4.example.com"));
  EXPECT_EQ(updater_->version_in_use(0)->validators.etag, "\"v1\"");
  ASSERT_TRUE(eventually([&] {
    return status(0).failures[static_cast<size_t>(UpdateFailure::connect)] >= 2;  // retried
  }));
  EXPECT_TRUE(blocked("cached4.example.com"));
  EXPECT_TRUE(in_use(0));
}

TEST_F(ListUpdaterTest, CacheOfAnotherSourceIsUsedWithoutItsValidators) {
  ListSource feed;
  feed.name = "feed";
  feed.url = "http://127.0.0.1:1/new.txt";
  config_.lists.push_back(feed);
  {
    ListStore store(config_.cache_dir);
    StoredListInfo info;
    info.source = "http://127.0.0.1:1/old.txt";
    info.validators.etag = "\"old\"";
    info.checked_at = WallClock::now();
    save_content(store, "feed", domains(5, "cached"), info);
  }
  start();
  EXPECT_TRUE(blocked("cached4.example.com"));
  EXPECT_EQ(updater_->version_in_use(0)->validators.etag, "");
  // Fetched at once although the copy was checked just now (from the old source).
  EXPECT_TRUE(eventually([&] { return failures(0, UpdateFailure::connect) >= 1; }));
}

TEST_F(ListUpdaterTest, DamagedCacheIsReportedAndNotUsed) {
  ListSource feed;
  feed.name = "feed";
  feed.url = "http://127.0.0.1:1/feed.txt";
  config_.lists.push_back(feed);
  {
    ListStore store(config_.cache_dir);
    save_content(store, "feed", domains(5, "cached"), {});
  }
  std::ofstream(config_.cache_dir + "/feed.list", std::ios::app) << "tampered.example.com\n";
  start();
  EXPECT_FALSE(blocked("cached4.example.com"));
  EXPECT_FALSE(blocked("tampered.example.com"));
  EXPECT_FALSE(in_use(0));
  EXPECT_EQ(status(0).failures[static_cast<size_t>(UpdateFailure::io)], 1u);
}

TEST_F(ListUpdaterTest, AllowListWinsAndIsUpdated) {
  config_.lists.push_back(file_list("block"));
  config_.allow.push_back(file_list("allow"));
  write_file(config_.lists[0].file, domains(10, "a"));
  write_file(config_.allow[0].file, "a1.example.com\n");
  start();
  EXPECT_FALSE(blocked("a1.example.com"));
  EXPECT_TRUE(blocked("a2.example.com"));
  EXPECT_TRUE(status(1).allow);
  write_file(config_.allow[0].file, "a2.example.com\n");
  EXPECT_TRUE(eventually([&] { return !blocked("a2.example.com"); }));
  EXPECT_TRUE(blocked("a1.example.com"));
}

TEST_F(ListUpdaterTest, StopIsPromptWhileAFeedIsBeingRetried) {
  ListSource feed;
  feed.name = "feed";
  feed.url = "http://127.0.0.1:1/feed.txt";
  feed.refresh = 3600s;
  config_.lists.push_back(feed);
  start();
  EXPECT_FALSE(in_use(0));
  updater_->stop();  // must return although the next retry is far away
  SUCCEED();
}

}  // namespace
}  // namespace dnsvagt
