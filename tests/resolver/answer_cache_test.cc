#include "resolver/answer_cache.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "tests/resolver/wire_test_util.h"

namespace dnsvagt {
namespace {

using wiretest::ClientQuery;
using wiretest::upstream_packet;

std::shared_ptr<const Answer> a_answer(const std::string& name, uint32_t ttl,
                                       DnssecStatus status = DnssecStatus::insecure) {
  return Answer::from_upstream(
      upstream_packet(name + ". IN A", LDNS_RCODE_NOERROR,
                      {name + ". " + std::to_string(ttl) + " IN A 192.0.2.1"}),
      status, false, 86400);
}

AnswerCache::Options options(uint64_t max_bytes = 1 << 20) {
  AnswerCache::Options o;
  o.max_bytes = max_bytes;
  o.serve_stale = true;
  o.stale_seconds = 100;
  o.prefetch = true;
  return o;
}

TEST(AnswerCacheTest, MissThenHit) {
  AnswerCache cache(options());
  ClientQuery query("www.example.com", 1, false);
  EXPECT_FALSE(cache.lookup(query.query, 1000));
  auto answer = a_answer("www.example.com", 300);
  cache.insert(query.query, answer, 1000);
  auto hit = cache.lookup(query.query, 1010);
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->answer, answer);
  EXPECT_EQ(hit->age, 10u);
  EXPECT_FALSE(hit->stale);
  EXPECT_FALSE(hit->prefetch_due);
  EXPECT_EQ(cache.entries(), 1u);
  EXPECT_GE(cache.bytes(), answer->memory_size());
}

TEST(AnswerCacheTest, NameMatchesCaseInsensitively) {
  AnswerCache cache(options());
  ClientQuery stored("www.example.com", 1, false);
  cache.insert(stored.query, a_answer("www.example.com", 300), 0);
  ClientQuery mixed("WwW.eXaMpLe.CoM", 1, false);
  EXPECT_TRUE(cache.lookup(mixed.query, 1));
  ClientQuery other("www.example.co", 1, false);
  EXPECT_FALSE(cache.lookup(other.query, 1));
}

TEST(AnswerCacheTest, KeySeparatesTypeDoAndCd) {
  AnswerCache cache(options());
  ClientQuery plain("www.example.com", 1, false);
  cache.insert(plain.query, a_answer("www.example.com", 300), 0);

  ClientQuery aaaa("www.example.com", 28, false);
  EXPECT_FALSE(cache.lookup(aaaa.query, 1));
  ClientQuery with_do("www.example.com", 1, true, true);
  EXPECT_FALSE(cache.lookup(with_do.query, 1));
  ClientQuery with_cd("www.example.com", 1, false, false, 0x10);
  EXPECT_FALSE(cache.lookup(with_cd.query, 1));
  // EDNS without DO, and AD, are not part of the key.
  ClientQuery edns_no_do("www.example.com", 1, true, false, 0x20);
  EXPECT_TRUE(cache.lookup(edns_no_do.query, 1));

  auto do_answer = a_answer("www.example.com", 300);
  cache.insert(with_do.query, do_answer, 0);
  EXPECT_EQ(cache.lookup(with_do.query, 1)->answer, do_answer);
  EXPECT_NE(cache.lookup(plain.query, 1)->answer, do_answer);
  EXPECT_EQ(cache.entries(), 2u);
}

TEST(AnswerCacheTest, ReinsertReplaces) {
  AnswerCache cache(options());
  ClientQuery query("www.example.com", 1, false);
  cache.insert(query.query, a_answer("www.example.com", 300), 0);
  const uint64_t bytes = cache.bytes();
  auto newer = a_answer("www.example.com", 300);
  cache.insert(query.query, newer, 50);
  auto hit = cache.lookup(query.query, 60);
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->answer, newer);
  EXPECT_EQ(hit->age, 10u);
  EXPECT_EQ(cache.entries(), 1u);
  EXPECT_EQ(cache.bytes(), bytes);
}

TEST(AnswerCacheTest, NeverStoresUncacheableOrBogusAnswers) {
  AnswerCache cache(options());
  ClientQuery query("www.example.com", 1, false);
  cache.insert(query.query, a_answer("www.example.com", 0), 0);
  cache.insert(query.query, a_answer("www.example.com", 300, DnssecStatus::bogus), 0);
  cache.insert(query.query, nullptr, 0);
  EXPECT_FALSE(cache.lookup(query.query, 0));
  EXPECT_EQ(cache.entries(), 0u);
  EXPECT_EQ(cache.bytes(), 0u);
}

TEST(AnswerCacheTest, UncacheableAnswerKeepsTheOldOneForServeStale) {
  AnswerCache cache(options());
  ClientQuery query("www.example.com", 1, false);
  auto old = a_answer("www.example.com", 10);
  cache.insert(query.query, old, 0);
  cache.insert(query.query, a_answer("www.example.com", 0), 20);
  auto hit = cache.lookup(query.query, 20);
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->answer, old);
  EXPECT_TRUE(hit->stale);
}

TEST(AnswerCacheTest, ExpiredAnswersAreStaleThenGone) {
  AnswerCache cache(options());
  ClientQuery query("www.example.com", 1, false);
  cache.insert(query.query, a_answer("www.example.com", 60), 1000);
  auto fresh = cache.lookup(query.query, 1059);
  ASSERT_TRUE(fresh);
  EXPECT_FALSE(fresh->stale);
  auto stale = cache.lookup(query.query, 1060);
  ASSERT_TRUE(stale);
  EXPECT_TRUE(stale->stale);
  EXPECT_EQ(stale->age, 60u);
  EXPECT_TRUE(cache.lookup(query.query, 1159));    // ttl 60 + stale_seconds 100
  EXPECT_FALSE(cache.lookup(query.query, 1160));
  EXPECT_EQ(cache.entries(), 0u);                  // removed, not just hidden
  EXPECT_EQ(cache.bytes(), 0u);
}

TEST(AnswerCacheTest, WithoutServeStaleExpiredIsAMiss) {
  auto o = options();
  o.serve_stale = false;
  AnswerCache cache(o);
  ClientQuery query("www.example.com", 1, false);
  cache.insert(query.query, a_answer("www.example.com", 60), 0);
  EXPECT_TRUE(cache.lookup(query.query, 59));
  EXPECT_FALSE(cache.lookup(query.query, 60));
  EXPECT_EQ(cache.entries(), 0u);
}

TEST(AnswerCacheTest, PrefetchHintForPopularAnswersNearExpiry) {
  AnswerCache cache(options());
  ClientQuery query("www.example.com", 1, false);
  cache.insert(query.query, a_answer("www.example.com", 100), 0);
  // In the last 10% but only the first hit: not popular yet.
  EXPECT_FALSE(cache.lookup(query.query, 91)->prefetch_due);
  // Popular but early: no.
  ClientQuery other("other.example.com", 1, false);
  cache.insert(other.query, a_answer("other.example.com", 100), 0);
  EXPECT_FALSE(cache.lookup(other.query, 10)->prefetch_due);
  EXPECT_FALSE(cache.lookup(other.query, 89)->prefetch_due);
  // Second hit in the last 10%: yes, once.
  EXPECT_TRUE(cache.lookup(query.query, 92)->prefetch_due);
  EXPECT_FALSE(cache.lookup(query.query, 93)->prefetch_due);
  EXPECT_TRUE(cache.lookup(other.query, 90)->prefetch_due);
  // Stale answers are never prefetch hints.
  EXPECT_FALSE(cache.lookup(query.query, 100)->prefetch_due);
  // A fresh insert re-arms the hint.
  cache.insert(query.query, a_answer("www.example.com", 100), 200);
  cache.lookup(query.query, 200);
  EXPECT_TRUE(cache.lookup(query.query, 295)->prefetch_due);
}

TEST(AnswerCacheTest, PrefetchCanBeTurnedOff) {
  auto o = options();
  o.prefetch = false;
  AnswerCache cache(o);
  ClientQuery query("www.example.com", 1, false);
  cache.insert(query.query, a_answer("www.example.com", 100), 0);
  cache.lookup(query.query, 1);
  EXPECT_FALSE(cache.lookup(query.query, 95)->prefetch_due);
}

TEST(AnswerCacheTest, SizeBoundEvictsLeastRecentlyUsed) {
  const uint64_t max_bytes = 64 * 1024;
  AnswerCache cache(options(max_bytes));
  ClientQuery keep("keep.example.com", 1, false);
  cache.insert(keep.query, a_answer("keep.example.com", 300), 0);
  const int inserted = 2000;
  for (int i = 0; i < inserted; ++i) {
    const std::string name = "n" + std::to_string(i) + ".example.com";
    ClientQuery query(name, 1, false);
    cache.insert(query.query, a_answer(name, 300), 0);
    ASSERT_TRUE(cache.lookup(keep.query, 1)) << "evicted after " << i;  // kept recent
    ASSERT_LE(cache.bytes(), max_bytes);
  }
  EXPECT_LT(cache.entries(), static_cast<size_t>(inserted) / 2);
  EXPECT_GT(cache.entries(), 64u);
  ClientQuery first("n0.example.com", 1, false);
  EXPECT_FALSE(cache.lookup(first.query, 1));
  ClientQuery last("n" + std::to_string(inserted - 1) + ".example.com", 1, false);
  EXPECT_TRUE(cache.lookup(last.query, 1));
}

TEST(AnswerCacheTest, ClearEmpties) {
  AnswerCache cache(options());
  ClientQuery query("www.example.com", 1, false);
  cache.insert(query.query, a_answer("www.example.com", 300), 0);
  cache.clear();
  EXPECT_EQ(cache.entries(), 0u);
  EXPECT_EQ(cache.bytes(), 0u);
  EXPECT_FALSE(cache.lookup(query.query, 0));
}

TEST(AnswerCacheTest, ConcurrentWorkersShareTheCache) {
  const uint64_t max_bytes = 256 * 1024;
  AnswerCache cache(options(max_bytes));
  constexpr int kNames = 300;
  std::vector<std::shared_ptr<const Answer>> answers;
  std::vector<std::unique_ptr<ClientQuery>> queries;
  for (int i = 0; i < kNames; ++i) {
    const std::string name = "host" + std::to_string(i) + ".example.com";
    answers.push_back(a_answer(name, 30));
    queries.push_back(std::make_unique<ClientQuery>(name, 1, false));
  }
  std::atomic<int> wrong{0};
  std::atomic<int> hits{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < 4; ++t) {
    workers.emplace_back([&, t] {
      for (int round = 0; round < 20000; ++round) {
        const int i = (round * 7 + t * 13) % kNames;
        const uint32_t now = static_cast<uint32_t>(round / 500);  // entries expire and return
        if (auto hit = cache.lookup(queries[i]->query, now)) {
          ++hits;
          if (hit->answer != answers[i]) ++wrong;
        } else {
          cache.insert(queries[i]->query, answers[i], now);
        }
        if (round % 1000 == 0 && t == 0) cache.bytes();  // metrics scrape meanwhile
      }
    });
  }
  for (auto& worker : workers) worker.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_GT(hits.load(), 0);
  EXPECT_LE(cache.bytes(), max_bytes);
  EXPECT_LE(cache.entries(), static_cast<size_t>(kNames));
}

}  // namespace
}  // namespace dnsvagt
