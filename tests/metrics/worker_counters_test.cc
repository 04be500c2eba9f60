#include "metrics/worker_counters.h"

#include <gtest/gtest.h>

#include <thread>

#include "metrics/metrics.h"

namespace dnsvagt {
namespace {

TEST(WorkerCountersTest, SumsEveryWorkerExactlyWhileTheyCountConcurrently) {
  constexpr size_t kWorkers = 4;
  constexpr uint64_t kQueriesPerWorker = 200000;
  Metrics metrics(kWorkers);
  uint32_t list = metrics.list_index("urlhaus");
  std::vector<std::thread> threads;
  for (size_t w = 0; w < kWorkers; ++w) {
    threads.emplace_back([&metrics, w, list] {
      WorkerCounters& counters = metrics.worker(w);
      for (uint64_t i = 0; i < kQueriesPerWorker; ++i) {
        counters.query(i % 2 ? Transport::tcp : Transport::udp);
        counters.response(i % 4 == 0 ? 3 : 0);
        if (i % 10 == 0) counters.blocked(list);
      }
    });
  }
  // Scrapes while the workers count must not disturb them.
  for (int i = 0; i < 20; ++i) metrics.snapshot();
  for (std::thread& thread : threads) thread.join();

  CounterTotals totals = metrics.snapshot().totals;
  EXPECT_EQ(totals.queries[static_cast<size_t>(Transport::udp)], kWorkers * kQueriesPerWorker / 2);
  EXPECT_EQ(totals.queries[static_cast<size_t>(Transport::tcp)], kWorkers * kQueriesPerWorker / 2);
  EXPECT_EQ(totals.responses[3], kWorkers * kQueriesPerWorker / 4);
  EXPECT_EQ(totals.responses[0], kWorkers * kQueriesPerWorker * 3 / 4);
  EXPECT_EQ(totals.blocked[list], kWorkers * kQueriesPerWorker / 10);
  EXPECT_EQ(totals.total_blocked(), kWorkers * kQueriesPerWorker / 10);
}

TEST(WorkerCountersTest, EachKindCountsInItsOwnSlot) {
  WorkerCounters counters;
  counters.dnssec(DnssecOutcome::secure);
  counters.dnssec(DnssecOutcome::secure);
  counters.dnssec(DnssecOutcome::bogus);
  counters.cache_lookup(true);
  counters.cache_lookup(false);
  counters.cache_lookup(false);
  counters.upstream_error(UpstreamErrorReason::timeout);
  counters.tcp_connection_opened();
  counters.tcp_connection_opened();
  counters.tcp_connection_closed();
  counters.query_log_dropped();
  CounterTotals totals;
  counters.add_to(totals);
  EXPECT_EQ(totals.dnssec[static_cast<size_t>(DnssecOutcome::secure)], 2u);
  EXPECT_EQ(totals.dnssec[static_cast<size_t>(DnssecOutcome::bogus)], 1u);
  EXPECT_EQ(totals.dnssec[static_cast<size_t>(DnssecOutcome::insecure)], 0u);
  EXPECT_EQ(totals.total_dnssec(), 3u);
  EXPECT_EQ(totals.cache_hits, 1u);
  EXPECT_EQ(totals.cache_misses, 2u);
  EXPECT_EQ(totals.upstream_errors[static_cast<size_t>(UpstreamErrorReason::timeout)], 1u);
  EXPECT_EQ(totals.tcp_opened - totals.tcp_closed, 1u);
  EXPECT_EQ(totals.query_log_dropped, 1u);
}

TEST(WorkerCountersTest, LargeRcodesAndListIndexesShareTheLastSlot) {
  WorkerCounters counters;
  counters.response(23);    // BADCOOKIE, exact
  counters.response(24);    // unassigned
  counters.response(4095);  // largest extended rcode
  counters.blocked(kOverflowListIndex);
  counters.blocked(kOverflowListIndex + 1000);
  CounterTotals totals;
  counters.add_to(totals);
  EXPECT_EQ(totals.responses[23], 1u);
  EXPECT_EQ(totals.responses[kRcodeSlots - 1], 2u);
  EXPECT_EQ(totals.blocked[kOverflowListIndex], 2u);
}

TEST(WorkerCountersTest, DurationBucketIsTheFirstBoundAtOrAboveTheValue) {
  WorkerCounters counters;
  counters.query_duration(0.00001);  // below 50us
  counters.query_duration(0.00005);  // exactly 50us: "le" is inclusive
  counters.query_duration(0.0003);   // (250us, 500us]
  counters.query_duration(10);       // above 5s: +Inf
  CounterTotals totals;
  counters.add_to(totals);
  EXPECT_EQ(totals.duration_buckets[0], 2u);
  EXPECT_EQ(totals.duration_buckets[3], 1u);
  EXPECT_EQ(totals.duration_buckets[kDurationBuckets.size()], 1u);
  EXPECT_EQ(totals.duration_count(), 4u);
  EXPECT_DOUBLE_EQ(totals.duration_sum, 0.00001 + 0.00005 + 0.0003 + 10);
}

TEST(WorkerCountersTest, RcodeLabelsFollowIana) {
  EXPECT_EQ(rcode_label(0), "NOERROR");
  EXPECT_EQ(rcode_label(2), "SERVFAIL");
  EXPECT_EQ(rcode_label(3), "NXDOMAIN");
  EXPECT_EQ(rcode_label(5), "REFUSED");
  EXPECT_EQ(rcode_label(16), "BADVERS");
  EXPECT_EQ(rcode_label(12), "RCODE12");
  EXPECT_FALSE(rcode_is_assigned(12));
  EXPECT_EQ(rcode_label(kRcodeSlots - 1), "other");
}

TEST(RecentEventRingTest, KeepsTheNewestEventsTruncated) {
  RecentEventRing ring;
  for (size_t i = 0; i < RecentEventRing::kCapacity + 7; ++i) {
    ring.record("host" + std::to_string(i) + ".example", "reason", 3);
  }
  ring.record(std::string(400, 'a'), std::string(400, 'r'), 3);
  std::vector<RecentEvent> events;
  ring.append_to(events);
  ASSERT_EQ(events.size(), RecentEventRing::kCapacity);
  bool has_oldest = false, has_newest = false;
  for (const RecentEvent& event : events) {
    has_oldest |= event.name == "host0.example";
    has_newest |= event.name == "host56.example";
    EXPECT_EQ(event.list_index, 3u);
  }
  EXPECT_FALSE(has_oldest);
  EXPECT_TRUE(has_newest);
  auto longest = std::max_element(events.begin(), events.end(), [](auto& a, auto& b) {
    return a.name.size() < b.name.size();
  });
  EXPECT_EQ(longest->name, std::string(RecentEventRing::kMaxNameLength, 'a'));
  EXPECT_EQ(longest->detail, std::string(RecentEventRing::kMaxDetailLength, 'r'));
}

}  // namespace
}  // namespace dnsvagt
