#include "blocklists/feed_fetcher.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>

#include "blocklists/sha256.h"
#include "tests/blocklists/feed_server_process.h"
#include "tests/temp_dir.h"

namespace dnsvagt {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// Lines that gzip shrinks to a small fraction: a body far over a max_size it fits compressed.
std::string domains(int count) {
  std::string text = "# a test feed\n";
  for (int i = 0; i < count; ++i) text += "host" + std::to_string(i) + ".example.com\n";
  return text;
}

class FeedFetcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directory(dir_ + "/feeds");
    server_ = std::make_unique<FeedServerProcess>(dir_ + "/feeds");
    body_path_ = dir_ + "/feed.incoming.tmp";
    limits_.connect_timeout = 5s;
    limits_.total_timeout = 20s;
  }
  void TearDown() override { server_.reset(); }

  void serve(const std::string& name, const std::string& content) {
    std::ofstream(dir_ + "/feeds/" + name, std::ios::binary) << content;
  }
  std::string body() {
    std::ifstream in(body_path_, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
  }
  // Sets a fault of `server` (see FeedServerProcess::fault_url).
  void set_fault(const FeedServerProcess& server, const std::string& path,
                 const std::string& mode) {
    FetchResult set = fetch_feed(server.fault_url(path, mode), {}, limits_, dir_ + "/control");
    ASSERT_EQ(set.outcome, FetchResult::Outcome::fetched) << set.error;
  }
  // A feed server over HTTPS on the same files, with a self-signed certificate for 127.0.0.1
  // that limits_.ca_file trusts.
  std::unique_ptr<FeedServerProcess> https_server() {
    const std::string cert = dir_ + "/server.pem", key = dir_ + "/server.key";
    const std::string command =
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 "
        "-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -keyout " + key + " -out " +
        cert + " >/dev/null 2>&1";
    if (std::system(command.c_str()) != 0) throw std::runtime_error("openssl failed");
    limits_.ca_file = cert;
    return std::make_unique<FeedServerProcess>(dir_ + "/feeds", cert, key);
  }
  // A leftover of an earlier download at the body's path, to see it truncated or removed.
  void leave_stale_body() { std::ofstream(body_path_) << "stale bytes of an earlier download\n"; }

  const TempDir temp_dir_{"feed_fetcher_test"};
  const std::string dir_ = temp_dir_.path();
  std::unique_ptr<FeedServerProcess> server_;
  std::string body_path_;
  FetchLimits limits_;
};

TEST_F(FeedFetcherTest, BodyIsWrittenToTheFileWithItsSizeAndChecksum) {
  const std::string content = domains(20000);  // gzip'ed by the server
  serve("feed.txt", content);
  leave_stale_body();
  FetchResult result = fetch_feed(server_->url("/feed.txt"), {}, limits_, body_path_);
  ASSERT_EQ(result.outcome, FetchResult::Outcome::fetched) << result.error;
  EXPECT_EQ(result.http_status, 200);
  EXPECT_EQ(body(), content);  // decompressed, and nothing of the stale file left
  EXPECT_EQ(result.size, content.size());
  EXPECT_EQ(result.sha256, Sha256().update(content).hex());
  EXPECT_EQ(result.sha256.size(), 64u);
  EXPECT_FALSE(result.validators.etag.empty());
  EXPECT_FALSE(result.validators.last_modified.empty());
}

TEST_F(FeedFetcherTest, EmptyBodyIsAnEmptyFile) {
  serve("empty.txt", "");
  FetchResult result = fetch_feed(server_->url("/empty.txt"), {}, limits_, body_path_);
  ASSERT_EQ(result.outcome, FetchResult::Outcome::fetched) << result.error;
  EXPECT_TRUE(fs::exists(body_path_));
  EXPECT_EQ(fs::file_size(body_path_), 0u);
  EXPECT_EQ(result.size, 0u);
  EXPECT_EQ(result.sha256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST_F(FeedFetcherTest, NotModifiedLeavesNoFile) {
  serve("feed.txt", domains(10));
  FetchResult first = fetch_feed(server_->url("/feed.txt"), {}, limits_, body_path_);
  ASSERT_EQ(first.outcome, FetchResult::Outcome::fetched) << first.error;
  FetchResult again = fetch_feed(server_->url("/feed.txt"), first.validators, limits_, body_path_);
  EXPECT_EQ(again.outcome, FetchResult::Outcome::not_modified) << again.error;
  EXPECT_EQ(again.http_status, 304);
  EXPECT_EQ(again.validators, first.validators);
  EXPECT_FALSE(fs::exists(body_path_));
}

TEST_F(FeedFetcherTest, HttpErrorLeavesNoFile) {
  leave_stale_body();
  FetchResult result = fetch_feed(server_->url("/missing.txt"), {}, limits_, body_path_);
  EXPECT_EQ(result.outcome, FetchResult::Outcome::failed);
  EXPECT_EQ(result.failure, UpdateFailure::http_status);
  EXPECT_EQ(result.http_status, 404);
  EXPECT_FALSE(fs::exists(body_path_));
}

// The server's Content-Length is of the gzip'ed body, under max_size: the size is enforced on
// the body as written.
TEST_F(FeedFetcherTest, BodyOverMaxSizeIsAbortedAndLeavesNoFile) {
  const std::string content = domains(20000);
  serve("feed.txt", content);
  limits_.max_size = content.size() - 1;
  FetchResult result = fetch_feed(server_->url("/feed.txt"), {}, limits_, body_path_);
  EXPECT_EQ(result.outcome, FetchResult::Outcome::failed);
  EXPECT_EQ(result.failure, UpdateFailure::too_large) << result.error;
  EXPECT_FALSE(fs::exists(body_path_));

  limits_.max_size = content.size();  // exactly max_size is fine
  result = fetch_feed(server_->url("/feed.txt"), {}, limits_, body_path_);
  ASSERT_EQ(result.outcome, FetchResult::Outcome::fetched) << result.error;
  EXPECT_EQ(body(), content);
}

TEST_F(FeedFetcherTest, ConnectFailureLeavesNoFile) {
  leave_stale_body();
  FetchResult result = fetch_feed("http://127.0.0.1:1/feed.txt", {}, limits_, body_path_);
  EXPECT_EQ(result.outcome, FetchResult::Outcome::failed);
  EXPECT_EQ(result.failure, UpdateFailure::connect);
  EXPECT_FALSE(fs::exists(body_path_));
}

TEST_F(FeedFetcherTest, StopLeavesNoFile) {
  serve("feed.txt", domains(10));
  const std::atomic<bool> stop{true};
  FetchResult result = fetch_feed(server_->url("/feed.txt"), {}, limits_, body_path_, &stop);
  EXPECT_EQ(result.outcome, FetchResult::Outcome::failed);
  EXPECT_FALSE(fs::exists(body_path_));
}

TEST_F(FeedFetcherTest, UnwritableBodyPathIsAnIoFailure) {
  serve("feed.txt", domains(10));
  FetchResult result =
      fetch_feed(server_->url("/feed.txt"), {}, limits_, dir_ + "/no-such-dir/feed.incoming.tmp");
  EXPECT_EQ(result.outcome, FetchResult::Outcome::failed);
  EXPECT_EQ(result.failure, UpdateFailure::io);
  EXPECT_NE(result.error.find("no-such-dir"), std::string::npos) << result.error;
}

// A redirect must not take an https feed to http: its content would travel unauthenticated,
// for anyone on the path to change.
TEST_F(FeedFetcherTest, HttpsFeedRedirectedToHttpFailsAndLeavesNoFile) {
  serve("feed.txt", domains(10));
  const std::unique_ptr<FeedServerProcess> https = https_server();
  set_fault(*https, "/moved.txt", "redirect&to=" + server_->url("/feed.txt"));
  leave_stale_body();
  FetchResult result = fetch_feed(https->url("/moved.txt"), {}, limits_, body_path_);
  EXPECT_EQ(result.outcome, FetchResult::Outcome::failed);
  EXPECT_EQ(result.failure, UpdateFailure::insecure_redirect) << result.error;
  EXPECT_EQ(result.error, "redirect from https to " + server_->url("/feed.txt") +
                              " refused: an https feed is only followed to https");
  EXPECT_FALSE(fs::exists(body_path_));
}

TEST_F(FeedFetcherTest, HttpsFeedRedirectedToHttpsIsFollowed) {
  const std::string content = domains(10);
  serve("feed.txt", content);
  const std::unique_ptr<FeedServerProcess> https = https_server();
  set_fault(*https, "/moved.txt", "redirect&to=" + https->url("/feed.txt"));
  FetchResult result = fetch_feed(https->url("/moved.txt"), {}, limits_, body_path_);
  ASSERT_EQ(result.outcome, FetchResult::Outcome::fetched) << result.error;
  EXPECT_EQ(body(), content);
}

TEST_F(FeedFetcherTest, HttpFeedRedirectedToHttpIsFollowed) {
  const std::string content = domains(10);
  serve("feed.txt", content);
  set_fault(*server_, "/moved.txt", "redirect&to=" + server_->url("/feed.txt"));
  FetchResult result = fetch_feed(server_->url("/moved.txt"), {}, limits_, body_path_);
  ASSERT_EQ(result.outcome, FetchResult::Outcome::fetched) << result.error;
  EXPECT_EQ(body(), content);
}

TEST_F(FeedFetcherTest, PinnedSha256MustMatchTheBody) {
  const std::string content = domains(10);
  serve("feed.txt", content);
  limits_.sha256 = Sha256().update(content).hex();
  FetchResult result = fetch_feed(server_->url("/feed.txt"), {}, limits_, body_path_);
  ASSERT_EQ(result.outcome, FetchResult::Outcome::fetched) << result.error;
  EXPECT_EQ(body(), content);

  serve("feed.txt", content + "changed.example.com\n");
  const std::string changed = Sha256().update(content + "changed.example.com\n").hex();
  result = fetch_feed(server_->url("/feed.txt"), {}, limits_, body_path_);
  EXPECT_EQ(result.outcome, FetchResult::Outcome::failed);
  EXPECT_EQ(result.failure, UpdateFailure::checksum);
  EXPECT_EQ(result.error, "content SHA-256 " + changed + " is not the pinned sha256 " +
                              limits_.sha256);
  EXPECT_FALSE(fs::exists(body_path_));
}

}  // namespace
}  // namespace dnsvagt
