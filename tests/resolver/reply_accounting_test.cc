#include "resolver/reply_accounting.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "resolver/wire.h"
#include "tests/resolver/wire_test_util.h"

namespace dnsvagt {
namespace {

using wiretest::ClientQuery;

class ReplyAccountingTest : public testing::Test {
 protected:
  ReplyAccountingTest()
      : metrics_(1), log_(16), accounting_(metrics_, metrics_.worker(0), &log_) {
    client_.sin_family = AF_INET;
    inet_pton(AF_INET, "192.0.2.7", &client_.sin_addr);
  }
  void count(const ReplyFacts& facts, std::vector<uint8_t> reply) {
    accounting_.count(facts, reinterpret_cast<const sockaddr*>(&client_), Transport::tcp, reply,
                      1000000, 3000000, 42);
  }
  CounterTotals totals() const { return metrics_.snapshot().totals; }
  std::vector<QueryLogEntry> logged() {
    std::vector<QueryLogEntry> entries;
    log_.drain([&](const QueryLogEntry& entry) { entries.push_back(entry); });
    return entries;
  }
  static std::vector<uint8_t> reply_with_rcode(uint8_t rcode) {
    std::vector<uint8_t> reply(kHeaderSize, 0);
    reply[2] = 0x81;
    reply[3] = static_cast<uint8_t>(0x80 | rcode);
    return reply;
  }

  Metrics metrics_;
  QueryLogQueue log_;
  ReplyAccounting accounting_;
  sockaddr_in client_ = {};
  ClientQuery query_{"ads.example", kTypeA, true};
};

TEST_F(ReplyAccountingTest, AResolvedReplyCountsRcodeStatusDurationAndLogLine) {
  ReplyFacts facts{query_.query.qname, kTypeA};
  facts.validated = facts.cache_hit = true;
  facts.dnssec = DnssecStatus::secure;
  count(facts, reply_with_rcode(kRcodeNxDomain));
  const CounterTotals t = totals();
  EXPECT_EQ(t.responses[kRcodeNxDomain], 1u);
  EXPECT_EQ(t.dnssec[static_cast<size_t>(DnssecOutcome::secure)], 1u);
  EXPECT_EQ(t.total_blocked(), 0u);
  EXPECT_EQ(t.duration_count(), 1u);
  std::vector<QueryLogEntry> entries = logged();
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].rcode, kRcodeNxDomain);
  EXPECT_EQ(entries[0].latency_us, 2000u);
  EXPECT_EQ(entries[0].time_ns, 42);
  EXPECT_EQ(entries[0].dnssec, static_cast<int8_t>(DnssecStatus::secure));
  EXPECT_TRUE(entries[0].cache_hit);
  EXPECT_EQ(entries[0].list_length, 0u);
  EXPECT_EQ(entries[0].group_length, 0u);
}

TEST_F(ReplyAccountingTest, AnExtendedRcodeComesFromTheFactsNotTheHeader) {
  ReplyFacts facts{query_.query.qname, kTypeA};
  facts.rcode = kRcodeBadVers;
  count(facts, reply_with_rcode(0));
  EXPECT_EQ(totals().responses[kRcodeBadVers], 1u);
  EXPECT_EQ(logged()[0].rcode, kRcodeBadVers);
}

TEST_F(ReplyAccountingTest, ABlockedReplyIsCountedByListNeverAsADnssecAnswer) {
  ReplyFacts facts{query_.query.qname, kTypeA};
  facts.validated = true;  // e.g. a cached answer whose CNAME chain is blocked
  facts.list = accounting_.list_index("urlhaus");
  facts.group = "guests";
  EXPECT_EQ(accounting_.list_index("urlhaus"), facts.list);
  count(facts, reply_with_rcode(kRcodeNxDomain));
  const CounterTotals t = totals();
  EXPECT_EQ(t.blocked[facts.list], 1u);
  EXPECT_EQ(t.total_dnssec(), 0u);
  EXPECT_EQ(t.responses[kRcodeNxDomain], 1u);
  const QueryLogEntry entry = logged().at(0);
  EXPECT_EQ(std::string(entry.list, entry.list_length), "urlhaus");
  EXPECT_EQ(std::string(entry.group, entry.group_length), "guests");
  EXPECT_EQ(entry.dnssec, QueryLogEntry::kNoDnssec);
  EXPECT_EQ(entry.transport, Transport::tcp);
  const MetricsSnapshot snapshot = metrics_.snapshot();
  ASSERT_EQ(snapshot.recent_blocks.size(), 1u);
  EXPECT_EQ(snapshot.recent_blocks[0].name, "ads.example.");
}

TEST_F(ReplyAccountingTest, AnRpzDropIsBlockedAndLoggedWithoutAResponse) {
  ReplyFacts facts{query_.query.qname, kTypeA};
  facts.list = accounting_.list_index("rpz");
  count(facts, {});
  const CounterTotals t = totals();
  EXPECT_EQ(t.blocked[facts.list], 1u);
  EXPECT_EQ(t.total_queries(), 0u);
  uint64_t responses = 0;
  for (uint64_t n : t.responses) responses += n;
  EXPECT_EQ(responses, 0u);
  EXPECT_EQ(t.duration_count(), 0u);
  EXPECT_EQ(logged().at(0).rcode, QueryLogEntry::kDropped);
}

TEST(ReplyAccountingWithoutLog, SkipsTheWallClock) {
  Metrics metrics(1);
  ReplyAccounting accounting(metrics, metrics.worker(0), nullptr);
  EXPECT_EQ(accounting.wall_clock_ns(), 0);
}

}  // namespace
}  // namespace dnsvagt
