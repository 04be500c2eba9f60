#include "blocklists/list_store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "blocklists/sha256.h"
#include "tests/blocklists/store_content.h"
#include "tests/temp_dir.h"

namespace dnsvagt {
namespace {

namespace fs = std::filesystem;

std::string sha256_of(const std::string& data) { return Sha256().update(data).hex(); }

class ListStoreTest : public ::testing::Test {
 protected:
  void write(const std::string& file, const std::string& data) {
    std::ofstream(dir_ + "/" + file, std::ios::binary) << data;
  }
  std::string read(const std::string& file) {
    std::ifstream in(dir_ + "/" + file, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
  }
  static StoredListInfo info_for(const std::string& source) {
    StoredListInfo info;
    info.source = source;
    info.validators = {"\"abc-1\"", "Wed, 21 Oct 2015 07:28:00 GMT"};
    info.fetched_at = WallClock::time_point(std::chrono::seconds(1700000000));
    info.checked_at = WallClock::time_point(std::chrono::seconds(1700000100));
    info.entries = 2;
    return info;
  }
  // The disk as a crash leaves it after a save of `fresh` committed its metadata but before it
  // renamed the content into place; returns the committed info.
  StoredListInfo interrupt_save_after_commit(ListStore& store, const std::string& fresh) {
    save_content(store, "feed", "old.example\n", info_for("u"));
    StoredListInfo info = info_for("u");
    info.size = fresh.size();
    info.sha256 = sha256_of(fresh);
    write("feed.list.new", fresh);
    write("feed.meta", format_list_info(info));
    return info;
  }

  const TempDir temp_dir_{"list_store_test"};
  const std::string dir_ = temp_dir_.path();
};

TEST_F(ListStoreTest, MissingListIsMissing) {
  ListStore store(dir_);
  EXPECT_EQ(store.load("feed").status, ListStore::LoadStatus::missing);
}

TEST_F(ListStoreTest, SaveThenLoadRoundTrips) {
  ListStore store(dir_);
  const std::string content = "example.com\nexample.net\n";
  StoredListInfo saved =
      save_content(store, "feed", content, info_for("https://127.0.0.1/feed"));
  EXPECT_EQ(saved.size, content.size());
  EXPECT_EQ(saved.sha256, sha256_of(content));

  ListStore reopened(dir_);
  ListStore::Loaded loaded = reopened.load("feed");
  ASSERT_EQ(loaded.status, ListStore::LoadStatus::ok) << loaded.problem;
  EXPECT_EQ(loaded.content, content);
  EXPECT_EQ(loaded.info, saved);
  EXPECT_EQ(read("feed.list"), content);  // the content stays readable as the list itself
}

TEST_F(ListStoreTest, SaveInfoKeepsContentAndUpdatesValidators) {
  ListStore store(dir_);
  StoredListInfo info = save_content(store, "feed", "example.com\n", info_for("u"));
  info.validators.etag = "\"abc-2\"";
  info.checked_at += std::chrono::seconds(60);
  store.save_info("feed", info);
  ListStore::Loaded loaded = store.load("feed");
  ASSERT_EQ(loaded.status, ListStore::LoadStatus::ok);
  EXPECT_EQ(loaded.info.validators.etag, "\"abc-2\"");
  EXPECT_EQ(loaded.info.checked_at, info.checked_at);
}

TEST_F(ListStoreTest, ChangedContentIsDamaged) {
  ListStore store(dir_);
  save_content(store, "feed", "example.com\nexample.net\n", info_for("u"));
  write("feed.list", "example.com\nexample.org\n");
  ListStore::Loaded loaded = store.load("feed");
  EXPECT_EQ(loaded.status, ListStore::LoadStatus::damaged);
  EXPECT_NE(loaded.problem.find("checksum"), std::string::npos) << loaded.problem;
  EXPECT_TRUE(loaded.content.empty());
}

TEST_F(ListStoreTest, TruncatedMetadataIsDamaged) {
  ListStore store(dir_);
  save_content(store, "feed", "example.com\n", info_for("u"));
  std::string meta = read("feed.meta");
  write("feed.meta", meta.substr(0, meta.find("sha256")));
  EXPECT_EQ(store.load("feed").status, ListStore::LoadStatus::damaged);
}

TEST_F(ListStoreTest, ContentWithoutMetadataIsDamaged) {
  write("feed.list", "example.com\n");
  ListStore store(dir_);
  EXPECT_EQ(store.load("feed").status, ListStore::LoadStatus::damaged);
}

TEST_F(ListStoreTest, TempFilesAreIgnoredAndRemoved) {
  ListStore store(dir_);
  save_content(store, "feed", "example.com\n", info_for("u"));
  write("feed.list.tmp", "half a wri");
  write("feed.meta.tmp", "dnsvagt-list-meta 1\nsha");
  ListStore::Loaded loaded = store.load("feed");
  ASSERT_EQ(loaded.status, ListStore::LoadStatus::ok);
  EXPECT_EQ(loaded.content, "example.com\n");
  store.remove_temp_files();
  EXPECT_FALSE(fs::exists(dir_ + "/feed.list.tmp"));
  EXPECT_FALSE(fs::exists(dir_ + "/feed.meta.tmp"));
  EXPECT_TRUE(fs::exists(dir_ + "/feed.list"));
}

// A crash after the new metadata was committed but before the content was renamed.
TEST_F(ListStoreTest, LoadFinishesASaveInterruptedAfterItsCommit) {
  ListStore store(dir_);
  const std::string fresh = "new.example\nnewer.example\n";
  interrupt_save_after_commit(store, fresh);
  ListStore::Loaded loaded = store.load("feed");
  ASSERT_EQ(loaded.status, ListStore::LoadStatus::ok) << loaded.problem;
  EXPECT_EQ(loaded.content, fresh);
  EXPECT_EQ(read("feed.list"), fresh);
  EXPECT_FALSE(fs::exists(dir_ + "/feed.list.new"));
}

// A crash after the new content was staged but before the metadata named it.
TEST_F(ListStoreTest, LoadDropsContentStagedBeforeACommit) {
  ListStore store(dir_);
  save_content(store, "feed", "old.example\n", info_for("u"));
  write("feed.list.new", "new.example\n");
  ListStore::Loaded loaded = store.load("feed");
  ASSERT_EQ(loaded.status, ListStore::LoadStatus::ok);
  EXPECT_EQ(loaded.content, "old.example\n");
  EXPECT_FALSE(fs::exists(dir_ + "/feed.list.new"));
}

TEST_F(ListStoreTest, CheckOfAGoodSaveIsOkWithTheInfoAndNoContent) {
  ListStore store(dir_);
  // Larger than the pieces the check reads, so the checksum spans several of them.
  std::string content;
  for (int i = 0; content.size() < 300 * 1024; ++i) content += "n" + std::to_string(i) + ".example\n";
  StoredListInfo saved = save_content(store, "feed", content, info_for("u"));
  ListStore reopened(dir_);
  ListStore::Loaded checked = reopened.check("feed");
  ASSERT_EQ(checked.status, ListStore::LoadStatus::ok) << checked.problem;
  EXPECT_EQ(checked.info, saved);
  EXPECT_EQ(checked.info.sha256, sha256_of(content));
  EXPECT_EQ(checked.info.entries, 2u);
  EXPECT_TRUE(checked.content.empty());
  EXPECT_TRUE(checked.problem.empty());
  EXPECT_EQ(read("feed.list"), content);  // what a caller then parses, from list_path
  EXPECT_EQ(reopened.list_path("feed"), dir_ + "/feed.list");
}

TEST_F(ListStoreTest, CheckFindsChangedContentDamaged) {
  ListStore store(dir_);
  save_content(store, "feed", "example.com\nexample.net\n", info_for("u"));
  write("feed.list", "example.com\nexample.org\n");
  ListStore::Loaded checked = store.check("feed");
  EXPECT_EQ(checked.status, ListStore::LoadStatus::damaged);
  EXPECT_NE(checked.problem.find("checksum"), std::string::npos) << checked.problem;
  EXPECT_TRUE(checked.content.empty());
  // A missing content is damaged too.
  fs::remove(dir_ + "/feed.list");
  checked = store.check("feed");
  EXPECT_EQ(checked.status, ListStore::LoadStatus::damaged);
  EXPECT_NE(checked.problem.find("missing"), std::string::npos) << checked.problem;
}

// As LoadFinishesASaveInterruptedAfterItsCommit, by check().
TEST_F(ListStoreTest, CheckFinishesASaveInterruptedAfterItsCommit) {
  ListStore store(dir_);
  const std::string fresh = "new.example\nnewer.example\n";
  const StoredListInfo info = interrupt_save_after_commit(store, fresh);
  ListStore::Loaded checked = store.check("feed");
  ASSERT_EQ(checked.status, ListStore::LoadStatus::ok) << checked.problem;
  EXPECT_EQ(checked.info, info);
  EXPECT_TRUE(checked.content.empty());
  EXPECT_EQ(read("feed.list"), fresh);
  EXPECT_FALSE(fs::exists(dir_ + "/feed.list.new"));
  EXPECT_EQ(store.load("feed").content, fresh);
}

TEST_F(ListStoreTest, CheckOfAnUnknownNameIsMissing) {
  ListStore store(dir_);
  save_content(store, "other", "example.com\n", info_for("u"));
  ListStore::Loaded checked = store.check("feed");
  EXPECT_EQ(checked.status, ListStore::LoadStatus::missing);
  EXPECT_TRUE(checked.problem.empty());
  EXPECT_TRUE(checked.content.empty());
}

TEST_F(ListStoreTest, SaveFileMovesTheFileInAndCommitsIt) {
  ListStore store(dir_);
  save_content(store, "feed", "old.example\n", info_for("u"));
  const std::string incoming = store.incoming_path("feed");
  EXPECT_EQ(incoming, dir_ + "/feed.incoming.tmp");
  const std::string fresh = "new.example\nnewer.example\n";
  write("feed.incoming.tmp", fresh);
  StoredListInfo info = info_for("https://127.0.0.1/v2");
  info.size = fresh.size();
  info.sha256 = sha256_of(fresh);
  store.save_file("feed", incoming, info);
  EXPECT_FALSE(fs::exists(incoming));  // moved, not copied
  EXPECT_FALSE(fs::exists(dir_ + "/feed.list.new"));
  EXPECT_EQ(read("feed.list"), fresh);
  EXPECT_EQ(parse_list_info(read("feed.meta")), info);
  ListStore reopened(dir_);
  ListStore::Loaded checked = reopened.check("feed");
  ASSERT_EQ(checked.status, ListStore::LoadStatus::ok) << checked.problem;
  EXPECT_EQ(checked.info, info);
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(dir_)) files.push_back(entry.path().filename());
  std::sort(files.begin(), files.end());
  EXPECT_EQ(files, (std::vector<std::string>{"feed.list", "feed.meta"}));
}

TEST_F(ListStoreTest, SaveFileOfAMissingFileThrowsAndKeepsTheVersion) {
  ListStore store(dir_);
  StoredListInfo saved = save_content(store, "feed", "old.example\n", info_for("u"));
  StoredListInfo info = info_for("u");
  info.sha256 = sha256_of("never written\n");
  EXPECT_THROW(store.save_file("feed", store.incoming_path("feed"), info), StoreError);
  ListStore::Loaded loaded = store.load("feed");
  ASSERT_EQ(loaded.status, ListStore::LoadStatus::ok) << loaded.problem;
  EXPECT_EQ(loaded.info, saved);
  EXPECT_EQ(loaded.content, "old.example\n");
}

// A crash while a new version was being written (downloaded or copied), before a save took it.
TEST_F(ListStoreTest, IncomingFileOfACrashIsNeverLoadedAndIsRemoved) {
  ListStore store(dir_);
  save_content(store, "feed", "old.example\n", info_for("u"));
  write("feed.incoming.tmp", "new.example\nhalf a downlo");
  ListStore::Loaded loaded = store.load("feed");
  ASSERT_EQ(loaded.status, ListStore::LoadStatus::ok) << loaded.problem;
  EXPECT_EQ(loaded.content, "old.example\n");
  store.remove_temp_files();
  EXPECT_FALSE(fs::exists(dir_ + "/feed.incoming.tmp"));
  EXPECT_EQ(store.load("feed").content, "old.example\n");
  // An incoming file alone is no list either.
  write("other.incoming.tmp", "example.com\n");
  EXPECT_EQ(store.check("other").status, ListStore::LoadStatus::missing);
}

TEST_F(ListStoreTest, RejectedVersionIsKeptApart) {
  ListStore store(dir_);
  save_content(store, "feed", "good.example\n", info_for("u"));
  write("feed.incoming.tmp", "<html>error</html>");
  store.keep_rejected("feed", store.incoming_path("feed"));
  EXPECT_EQ(read("feed.rejected"), "<html>error</html>");
  EXPECT_EQ(store.rejected_path("feed"), dir_ + "/feed.rejected");
  EXPECT_FALSE(fs::exists(dir_ + "/feed.incoming.tmp"));
  EXPECT_EQ(store.load("feed").content, "good.example\n");
}

TEST_F(ListStoreTest, NamesThatLeaveTheDirectoryAreRefused) {
  ListStore store(dir_);
  write("x.incoming.tmp", "x\n");
  StoredListInfo info = info_for("u");
  info.sha256 = sha256_of("x\n");
  EXPECT_THROW(store.incoming_path(".."), StoreError);
  EXPECT_THROW(store.save_file("..", dir_ + "/x.incoming.tmp", info), StoreError);
  EXPECT_THROW(store.keep_rejected("..", dir_ + "/x.incoming.tmp"), StoreError);
  EXPECT_TRUE(fs::exists(dir_ + "/x.incoming.tmp"));
}

TEST(ListInfoFormat, RoundTripsAndRejectsForeignText) {
  StoredListInfo info;
  info.source = "https://127.0.0.1:8443/feed.txt";
  info.validators = {"W/\"a b\"", "Wed, 21 Oct 2015 07:28:00 GMT"};
  info.fetched_at = WallClock::time_point(std::chrono::seconds(42));
  info.checked_at = WallClock::time_point(std::chrono::seconds(43));
  info.entries = 7;
  info.size = 99;
  info.sha256 = sha256_of("x");
  EXPECT_EQ(parse_list_info(format_list_info(info)), info);
  EXPECT_THROW(parse_list_info("example.com\n"), std::invalid_argument);
}

TEST(Sha256, KnownDigest) {
  EXPECT_EQ(sha256_of("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace
}  // namespace dnsvagt
