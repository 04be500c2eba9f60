#include "metrics/metrics.h"

#include <gtest/gtest.h>

#include "version.h"

namespace dnsvagt {
namespace {

using std::chrono::hours;
using std::chrono::seconds;

TEST(MetricsTest, ListIndexesAreStableAndBounded) {
  Metrics metrics(1);
  uint32_t urlhaus = metrics.list_index("urlhaus");
  uint32_t local = metrics.list_index("local");
  EXPECT_NE(urlhaus, local);
  EXPECT_EQ(metrics.list_index("urlhaus"), urlhaus);
  for (uint32_t i = 2; i < kMaxLists; ++i) metrics.list_index("list" + std::to_string(i));
  EXPECT_EQ(metrics.list_index("one-too-many"), kOverflowListIndex);
  EXPECT_EQ(metrics.list_index("local"), local);
  MetricsSnapshot snapshot = metrics.snapshot();
  EXPECT_EQ(snapshot.list_label(local), "local");
  EXPECT_EQ(snapshot.list_label(kOverflowListIndex), "_overflow");
}

TEST(MetricsTest, SnapshotJoinsListConfigStatusAndBlocks) {
  WallTime start = std::chrono::system_clock::now() - hours(1);
  Metrics metrics(2, start);
  metrics.set_lists({{.name = "urlhaus", .source = "https://example.org/hosts.txt", .format = "hosts"},
                     {.name = "exceptions",
                      .allow = true,
                      .source = "/etc/dnsvagt/allow.txt",
                      .format = "domains"}});
  metrics.list_update_succeeded("urlhaus", 1200, start + seconds(5));
  metrics.list_update_failed("urlhaus", UpdateFailure::shrink, start + seconds(3605));
  metrics.list_update_failed("urlhaus", UpdateFailure::shrink, start + seconds(7205));
  uint32_t urlhaus = metrics.list_index("urlhaus");
  metrics.worker(0).blocked(urlhaus);
  metrics.worker(1).blocked(urlhaus);

  MetricsSnapshot snapshot = metrics.snapshot();
  EXPECT_EQ(snapshot.started_at, start);
  EXPECT_EQ(snapshot.version, DNSVAGT_VERSION);
  ASSERT_EQ(snapshot.lists.size(), 2u);
  const ListStatus& list = snapshot.lists[0];
  EXPECT_EQ(list.name, "urlhaus");
  EXPECT_EQ(list.entries, 1200u);
  EXPECT_EQ(list.last_success, start + seconds(5));
  EXPECT_EQ(list.last_attempt, start + seconds(7205));
  EXPECT_EQ(list.failures[static_cast<size_t>(UpdateFailure::shrink)], 2u);
  EXPECT_EQ(list.total_failures(), 2u);
  EXPECT_TRUE(list.failing());
  EXPECT_EQ(list.blocked, 2u);
  EXPECT_EQ(snapshot.lists[1].entries, 0u);
  EXPECT_FALSE(snapshot.lists[1].last_success.has_value());

  // A reload keeps the status of a list that stays configured.
  metrics.set_lists({{.name = "urlhaus",
                      .source = "https://example.org/v2.txt",
                      .format = "hosts",
                      .refresh = hours(2)}});
  snapshot = metrics.snapshot();
  ASSERT_EQ(snapshot.lists.size(), 1u);
  EXPECT_EQ(snapshot.lists[0].source, "https://example.org/v2.txt");
  EXPECT_EQ(snapshot.lists[0].entries, 1200u);
}

TEST(MetricsTest, RecentEventsAreMergedNewestFirstAndBounded) {
  Metrics metrics(3);
  uint32_t urlhaus = metrics.list_index("urlhaus");
  for (int i = 0; i < 40; ++i) {
    metrics.worker(i % 3).record_block("bad" + std::to_string(i) + ".example", urlhaus);
  }
  metrics.worker(1).record_bogus("dnssec-failed.org", "signature expired");
  MetricsSnapshot snapshot = metrics.snapshot();
  ASSERT_EQ(snapshot.recent_blocks.size(), 40u);
  for (size_t i = 1; i < snapshot.recent_blocks.size(); ++i) {
    EXPECT_GE(snapshot.recent_blocks[i - 1].time, snapshot.recent_blocks[i].time);
  }
  EXPECT_EQ(snapshot.recent_blocks.front().detail, "urlhaus");
  ASSERT_EQ(snapshot.recent_bogus.size(), 1u);
  EXPECT_EQ(snapshot.recent_bogus[0].name, "dnssec-failed.org");
  EXPECT_EQ(snapshot.recent_bogus[0].detail, "signature expired");

  for (int i = 40; i < 150; ++i) {
    metrics.worker(i % 3).record_block("bad" + std::to_string(i) + ".example", urlhaus);
  }
  snapshot = metrics.snapshot();
  ASSERT_EQ(snapshot.recent_blocks.size(), Metrics::kRecentEvents);
  for (const RecentEvent& event : snapshot.recent_blocks) {
    EXPECT_GE(std::stoi(event.name.substr(3)), 150 - 3 * 50) << event.name;
  }
}

TEST(MetricsTest, SettersAndCacheSourceShowInTheSnapshot) {
  Metrics metrics(4);
  metrics.set_validation_enabled(true);
  metrics.set_trust_anchors({{".", "/var/lib/dnsvagt/root.key", true}});
  metrics.set_cache_usage_source([] { return CacheUsage{17, 4096}; });
  MetricsSnapshot snapshot = metrics.snapshot();
  EXPECT_TRUE(snapshot.validation_enabled);
  ASSERT_EQ(snapshot.trust_anchors.size(), 1u);
  EXPECT_EQ(snapshot.trust_anchors[0].zone, ".");
  EXPECT_EQ(snapshot.cache.entries, 17u);
  EXPECT_EQ(snapshot.cache.bytes, 4096u);
  EXPECT_EQ(snapshot.workers, 4u);
}

}  // namespace
}  // namespace dnsvagt
