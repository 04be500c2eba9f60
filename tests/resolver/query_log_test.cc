#include "resolver/query_log.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "resolver/answer.h"

namespace dnsvagt {
namespace {

namespace fs = std::filesystem;
using std::chrono::system_clock;
using testing::ElementsAre;

constexpr uint8_t kWwwExample[] = {3, 'w', 'w', 'w', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0};

// 2026-11-28T01:02:03.456Z
const system_clock::time_point kTime =
    system_clock::time_point(std::chrono::milliseconds(1795827723456));

QueryLogEntry entry_for(const char* client, int64_t time_ns) {
  QueryLogEntry entry;
  sockaddr_storage storage = {};
  if (strchr(client, ':')) {
    auto* address = reinterpret_cast<sockaddr_in6*>(&storage);
    address->sin6_family = AF_INET6;
    inet_pton(AF_INET6, client, &address->sin6_addr);
  } else {
    auto* address = reinterpret_cast<sockaddr_in*>(&storage);
    address->sin_family = AF_INET;
    inet_pton(AF_INET, client, &address->sin_addr);
  }
  entry.set_client(reinterpret_cast<const sockaddr*>(&storage));
  entry.set_name(kWwwExample);
  entry.qtype = 1;
  entry.time_ns = time_ns;
  return entry;
}

int64_t ns_of(system_clock::time_point time) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(time.time_since_epoch()).count();
}

std::string line_of(const QueryLogEntry& entry) {
  std::string line;
  append_query_log_line(entry, line);
  return line;
}

TEST(QueryLogLineTest, ExactFormat) {
  QueryLogEntry entry = entry_for("192.0.2.1", ns_of(kTime) + 789000);
  entry.rcode = 0;
  entry.dnssec = static_cast<int8_t>(DnssecStatus::secure);
  entry.cache_hit = true;
  entry.latency_us = 120;
  EXPECT_EQ(line_of(entry),
            "{\"time\":\"2026-11-28T01:02:03.456Z\",\"client\":\"192.0.2.1\",\"transport\":\"udp\","
            "\"name\":\"www.example.\",\"type\":\"A\",\"rcode\":\"NOERROR\",\"dnssec\":\"secure\","
            "\"list\":null,\"group\":null,\"cache_hit\":true,\"latency_us\":120}\n");
}

TEST(QueryLogLineTest, BlockedIpv6UnknownTypeAndOddName) {
  QueryLogEntry entry = entry_for("2001:db8::1", ns_of(kTime));
  const uint8_t odd[] = {4, 'a', '"', '.', 0x01, 3, 'c', 'o', 'm', 0};
  entry.set_name(odd);
  entry.qtype = 65280;
  entry.rcode = 3;
  entry.set_list("urlhaus \"main\"");
  entry.set_group("guests");
  entry.latency_us = 7;
  entry.transport = Transport::doh;
  EXPECT_EQ(line_of(entry),
            "{\"time\":\"2026-11-28T01:02:03.456Z\",\"client\":\"2001:db8::1\","
            "\"transport\":\"doh\","
            "\"name\":\"a\\\\\\\"\\\\.\\\\001.com.\",\"type\":\"TYPE65280\",\"rcode\":\"NXDOMAIN\","
            "\"dnssec\":null,\"list\":\"urlhaus \\\"main\\\"\",\"group\":\"guests\","
            "\"cache_hit\":false,"
            "\"latency_us\":7}\n");
}

TEST(QueryLogLineTest, NoQuestionAndRootName) {
  QueryLogEntry entry = entry_for("192.0.2.1", ns_of(kTime));
  entry.set_name({});
  entry.rcode = 1;
  EXPECT_THAT(line_of(entry), testing::HasSubstr("\"name\":null,\"type\":null,\"rcode\":\"FORMERR\""));
  const uint8_t root[] = {0};
  entry.set_name(root);
  entry.qtype = 2;
  entry.rcode = 16;
  EXPECT_THAT(line_of(entry), testing::HasSubstr("\"name\":\".\",\"type\":\"NS\",\"rcode\":\"BADVERS\""));
}

TEST(QueryLogLineTest, DroppedQueryHasRcodeDropped) {
  QueryLogEntry entry = entry_for("192.0.2.1", ns_of(kTime));
  entry.rcode = QueryLogEntry::kDropped;
  entry.set_list("rpz");
  EXPECT_THAT(line_of(entry), testing::HasSubstr("\"rcode\":\"DROPPED\",\"dnssec\":null,"
                                                 "\"list\":\"rpz\""));
}

class QueryLogTest : public testing::Test {
 protected:
  void SetUp() override {
    directory_ = fs::temp_directory_path() /
                 ("query_log_test." + std::to_string(getpid()) + "." +
                  testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(directory_);
    fs::create_directories(directory_);
    path_ = (directory_ / "query.log").string();
  }
  void TearDown() override { fs::remove_all(directory_); }

  QueryLogOptions options() {
    QueryLogOptions options;
    options.path = path_;
    options.queue_capacity = 4;
    options.write_interval = std::chrono::hours(1);  // the tests call write_pending()
    options.clock = [this] { return now_; };
    return options;
  }

  std::vector<std::string> lines(const std::string& path) {
    std::ifstream file(path);
    std::vector<std::string> out;
    for (std::string line; std::getline(file, line);) out.push_back(line);
    return out;
  }

  std::vector<std::string> files() {
    std::vector<std::string> names;
    for (const auto& file : fs::directory_iterator(directory_)) {
      names.push_back(file.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
  }

  fs::path directory_;
  std::string path_;
  system_clock::time_point now_ = kTime;
};

TEST_F(QueryLogTest, WritesOneLinePerEntryFromEveryQueue) {
  QueryLog log(options(), 2);
  ASSERT_TRUE(log.queue(0).push(entry_for("192.0.2.1", ns_of(kTime))));
  ASSERT_TRUE(log.queue(1).push(entry_for("192.0.2.2", ns_of(kTime))));
  ASSERT_TRUE(log.queue(0).push(entry_for("192.0.2.3", ns_of(kTime))));
  EXPECT_EQ(log.write_pending(), 3u);
  std::vector<std::string> written = lines(path_);
  ASSERT_EQ(written.size(), 3u);
  EXPECT_THAT(written[0], testing::HasSubstr("\"client\":\"192.0.2.1\""));
  EXPECT_THAT(written[1], testing::HasSubstr("\"client\":\"192.0.2.3\""));
  EXPECT_THAT(written[2], testing::HasSubstr("\"client\":\"192.0.2.2\""));
}

TEST_F(QueryLogTest, AFullQueueDropsAndRecoversAfterTheWriterCatchesUp) {
  QueryLog log(options(), 1);
  int accepted = 0;
  for (int i = 0; i < 10; ++i) accepted += log.queue(0).push(entry_for("192.0.2.1", ns_of(kTime)));
  EXPECT_EQ(accepted, 4);  // the capacity; the other 6 are the caller's to count as dropped
  EXPECT_EQ(log.write_pending(), 4u);
  EXPECT_TRUE(log.queue(0).push(entry_for("192.0.2.1", ns_of(kTime))));
  EXPECT_EQ(log.write_pending(), 1u);
  EXPECT_EQ(lines(path_).size(), 5u);
}

TEST_F(QueryLogTest, TheWriterThreadEmptiesTheQueues) {
  QueryLogOptions o = options();
  o.write_interval = std::chrono::milliseconds(1);
  QueryLog log(o, 1);
  for (int i = 0; i < 100; ++i) {
    while (!log.queue(0).push(entry_for("192.0.2.1", ns_of(kTime)))) usleep(100);
  }
  for (int wait = 0; wait < 5000 && lines(path_).size() < 100; ++wait) usleep(1000);
  EXPECT_EQ(lines(path_).size(), 100u);
}

TEST_F(QueryLogTest, DestructionWritesWhatIsQueued) {
  {
    QueryLog log(options(), 1);
    ASSERT_TRUE(log.queue(0).push(entry_for("192.0.2.1", ns_of(kTime))));
  }
  EXPECT_EQ(lines(path_).size(), 1u);
}

TEST_F(QueryLogTest, RotatesDailyAtUtcMidnight) {
  now_ = system_clock::time_point(std::chrono::seconds(1795910399));  // 2026-11-28T23:59:59Z
  QueryLog log(options(), 1);
  log.queue(0).push(entry_for("192.0.2.1", ns_of(now_)));
  log.write_pending();
  now_ += std::chrono::seconds(2);  // 2026-11-29T00:00:01Z
  log.queue(0).push(entry_for("192.0.2.2", ns_of(now_)));
  log.write_pending();
  now_ += std::chrono::hours(1);
  log.write_pending();  // same day: nothing to rotate
  now_ += std::chrono::hours(24);
  log.write_pending();  // a new day, also without queries
  EXPECT_THAT(files(), ElementsAre("query.log", "query.log.2026-11-28.1", "query.log.2026-11-29.1"));
  EXPECT_THAT(lines(path_ + ".2026-11-28.1"), ElementsAre(testing::HasSubstr("192.0.2.1")));
  EXPECT_THAT(lines(path_ + ".2026-11-29.1"), ElementsAre(testing::HasSubstr("192.0.2.2")));
  EXPECT_TRUE(lines(path_).empty());
}

TEST_F(QueryLogTest, RotatesBeforeExceedingTheSize) {
  QueryLogOptions o = options();
  size_t line_size = line_of(entry_for("192.0.2.1", ns_of(kTime))).size();
  o.rotation.max_bytes = 2 * line_size + 1;  // two lines per file
  QueryLog log(o, 1);
  for (int i = 0; i < 5; ++i) {
    log.queue(0).push(entry_for("192.0.2.1", ns_of(kTime)));
    if (i % 2) log.write_pending();  // rotation inside a batch and between batches
  }
  log.write_pending();
  EXPECT_THAT(files(), ElementsAre("query.log", "query.log.2026-11-28.1", "query.log.2026-11-28.2"));
  EXPECT_EQ(lines(path_ + ".2026-11-28.1").size(), 2u);
  EXPECT_EQ(lines(path_ + ".2026-11-28.2").size(), 2u);
  EXPECT_EQ(lines(path_).size(), 1u);
}

void set_mtime(const std::string& path, system_clock::time_point time) {
  timespec times[2];
  times[0].tv_sec = times[1].tv_sec = system_clock::to_time_t(time);
  times[0].tv_nsec = times[1].tv_nsec = 0;
  ASSERT_EQ(utimensat(AT_FDCWD, path.c_str(), times, 0), 0);
}

TEST_F(QueryLogTest, DeletesRotatedFilesOlderThanTheRetention) {
  for (const char* name : {"query.log.2025-10-01.1", "query.log.2026-11-01.1", "query.log.old",
                           "other.log.2025-10-01.1"}) {
    std::ofstream(directory_ / name) << "x\n";
  }
  set_mtime((directory_ / "query.log.2025-10-01.1").string(), kTime - std::chrono::days(401));
  set_mtime((directory_ / "query.log.2026-11-01.1").string(), kTime - std::chrono::days(27));
  set_mtime((directory_ / "query.log.old").string(), kTime - std::chrono::days(500));
  set_mtime((directory_ / "other.log.2025-10-01.1").string(), kTime - std::chrono::days(500));
  QueryLogOptions o = options();
  o.retention = std::chrono::days(400);
  QueryLog log(o, 1);  // checks at open, then at every rotation and hourly
  EXPECT_THAT(files(), ElementsAre("other.log.2025-10-01.1", "query.log",
                                   "query.log.2026-11-01.1", "query.log.old"));
  now_ += std::chrono::days(10);
  log.write_pending();
  EXPECT_THAT(files(), ElementsAre("other.log.2025-10-01.1", "query.log",
                                   "query.log.2026-11-01.1", "query.log.old"));
  now_ += std::chrono::days(370);
  log.write_pending();
  EXPECT_THAT(files(), ElementsAre("other.log.2025-10-01.1", "query.log", "query.log.old"));
}

TEST_F(QueryLogTest, ReconfigureReopensAMovedFile) {
  QueryLog log(options(), 1);
  log.queue(0).push(entry_for("192.0.2.1", ns_of(kTime)));
  log.write_pending();
  fs::rename(path_, path_ + ".moved");  // what logrotate does before it sends SIGHUP
  log.reconfigure(options());
  log.queue(0).push(entry_for("192.0.2.2", ns_of(kTime)));
  log.write_pending();
  EXPECT_THAT(lines(path_ + ".moved"), ElementsAre(testing::HasSubstr("192.0.2.1")));
  EXPECT_THAT(lines(path_), ElementsAre(testing::HasSubstr("192.0.2.2")));
}

TEST_F(QueryLogTest, AnUnopenableFileThrows) {
  QueryLogOptions o = options();
  o.path = (directory_ / "missing" / "query.log").string();
  EXPECT_THROW(QueryLog(o, 1), std::runtime_error);
  QueryLog log(options(), 1);
  EXPECT_THROW(log.reconfigure(o), std::runtime_error);
  log.queue(0).push(entry_for("192.0.2.1", ns_of(kTime)));
  log.write_pending();  // still the old file
  EXPECT_EQ(lines(path_).size(), 1u);
}

}  // namespace
}  // namespace dnsvagt
