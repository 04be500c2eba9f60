#include "resolver/rate_limiter.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <string>
#include <thread>

namespace dnsvagt {
namespace {

constexpr int64_t kSecond = 1000000000;

sockaddr_storage ipv4(const std::string& text) {
  sockaddr_storage storage = {};
  auto* address = reinterpret_cast<sockaddr_in*>(&storage);
  address->sin_family = AF_INET;
  inet_pton(AF_INET, text.c_str(), &address->sin_addr);
  return storage;
}

sockaddr_storage ipv6(const std::string& text) {
  sockaddr_storage storage = {};
  auto* address = reinterpret_cast<sockaddr_in6*>(&storage);
  address->sin6_family = AF_INET6;
  inet_pton(AF_INET6, text.c_str(), &address->sin6_addr);
  return storage;
}

// 10.0.x.y for i = x * 256 + y.
sockaddr_storage numbered(int i) {
  return ipv4("10.0." + std::to_string(i / 256) + "." + std::to_string(i % 256));
}

const sockaddr* as_sockaddr(const sockaddr_storage& storage) {
  return reinterpret_cast<const sockaddr*>(&storage);
}

int allowed_of(RateLimiter& limiter, const sockaddr_storage& client, int queries, int64_t now) {
  int allowed = 0;
  for (int i = 0; i < queries; ++i) allowed += limiter.allow(as_sockaddr(client), now);
  return allowed;
}

TEST(RateLimiterTest, BurstThenRefillAtQps) {
  RateLimiter limiter(RateLimit{10, 5});
  sockaddr_storage client = ipv4("192.0.2.1");
  int64_t start = 100 * kSecond;
  EXPECT_EQ(allowed_of(limiter, client, 20, start), 5);
  // 10 qps: 0.5 s buys 5 tokens, never more than the burst.
  EXPECT_EQ(allowed_of(limiter, client, 20, start + kSecond / 2), 5);
  EXPECT_EQ(allowed_of(limiter, client, 20, start + 100 * kSecond), 5);
  // A tenth of a second: one token.
  EXPECT_EQ(allowed_of(limiter, client, 3, start + 100 * kSecond + kSecond / 10), 1);
}

TEST(RateLimiterTest, ClientsHaveTheirOwnBuckets) {
  RateLimiter limiter(RateLimit{1, 2});
  sockaddr_storage a = ipv4("192.0.2.1"), b = ipv4("192.0.2.2"), c = ipv6("2001:db8::1");
  EXPECT_EQ(allowed_of(limiter, a, 5, kSecond), 2);
  EXPECT_EQ(allowed_of(limiter, b, 5, kSecond), 2);
  EXPECT_EQ(allowed_of(limiter, c, 5, kSecond), 2);
  EXPECT_EQ(allowed_of(limiter, a, 1, kSecond), 0);
}

TEST(RateLimiterTest, SameAddressBytesInOtherFamiliesDiffer) {
  RateLimiter limiter(RateLimit{1, 1});
  sockaddr_storage v4 = ipv4("0.0.0.0"), v6 = ipv6("::");
  EXPECT_TRUE(limiter.allow(as_sockaddr(v4), kSecond));
  EXPECT_TRUE(limiter.allow(as_sockaddr(v6), kSecond));
  EXPECT_FALSE(limiter.allow(as_sockaddr(v4), kSecond));
}

TEST(RateLimiterTest, Ipv6AddressesInOneSlash56ShareABucket) {
  RateLimiter limiter(RateLimit{1, 4});
  // 2001:db8:0:1200::/56 holds both; a host may pick any address of its /64 and beyond.
  EXPECT_EQ(allowed_of(limiter, ipv6("2001:db8:0:12ab::1"), 2, kSecond), 2);
  EXPECT_EQ(allowed_of(limiter, ipv6("2001:db8:0:12cd:ffff::9"), 5, kSecond), 2);
  // The next /56 has a bucket of its own.
  EXPECT_EQ(allowed_of(limiter, ipv6("2001:db8:0:1300::1"), 5, kSecond), 4);
}

TEST(RateLimiterTest, PrefixLengthsAreConfigurable) {
  RateLimiter by_host(RateLimit{1, 1, 32, 128});
  EXPECT_EQ(allowed_of(by_host, ipv6("2001:db8::1"), 2, kSecond), 1);
  EXPECT_EQ(allowed_of(by_host, ipv6("2001:db8::2"), 2, kSecond), 1);

  RateLimiter by_site(RateLimit{1, 1, 24, 48});
  EXPECT_EQ(allowed_of(by_site, ipv4("192.0.2.1"), 2, kSecond), 1);
  EXPECT_EQ(allowed_of(by_site, ipv4("192.0.2.200"), 1, kSecond), 0);
  EXPECT_EQ(allowed_of(by_site, ipv4("192.0.3.1"), 1, kSecond), 1);
  EXPECT_EQ(allowed_of(by_site, ipv6("2001:db8:0:ff00::1"), 1, kSecond), 1);
  EXPECT_EQ(allowed_of(by_site, ipv6("2001:db8::1"), 1, kSecond), 0);

  RateLimiter everyone(RateLimit{1, 1, 0, 0});
  EXPECT_EQ(allowed_of(everyone, ipv4("192.0.2.1"), 1, kSecond), 1);
  EXPECT_EQ(allowed_of(everyone, ipv4("198.51.100.1"), 1, kSecond), 0);
  EXPECT_EQ(allowed_of(everyone, ipv6("2001:db8::1"), 1, kSecond), 1);
  EXPECT_EQ(allowed_of(everyone, ipv6("fd00::1"), 1, kSecond), 0);
}

TEST(RateLimiterTest, Ipv4MappedAddressesAreKeyedAsIpv4) {
  RateLimiter limiter(RateLimit{1, 2, 24, 56});
  EXPECT_EQ(allowed_of(limiter, ipv6("::ffff:192.0.2.1"), 1, kSecond), 1);
  EXPECT_EQ(allowed_of(limiter, ipv4("192.0.2.7"), 2, kSecond), 1);
  // Not lumped into the /56 of all mapped addresses.
  EXPECT_EQ(allowed_of(limiter, ipv6("::ffff:198.51.100.1"), 2, kSecond), 2);
}

TEST(RateLimiterTest, ALimitedClientStaysLimitedThroughAFloodOfNewClients) {
  // One set of 4: a flood of new addresses must not make the table forget a drained bucket
  // (nor refill it when the limited client, as the least recent, is the one to go).
  RateLimiter limiter(RateLimit{1, 3}, 4);
  sockaddr_storage limited = ipv4("192.0.2.1");
  EXPECT_EQ(allowed_of(limiter, limited, 5, kSecond), 3);
  for (int i = 0; i < 1000; ++i) limiter.allow(as_sockaddr(numbered(i)), kSecond + 1 + i);
  EXPECT_EQ(allowed_of(limiter, limited, 1, kSecond + 1000), 0);
}

TEST(RateLimiterTest, ChurnCreatesNoTokens) {
  // One set of 4, all drained: new and evicted clients alike share what the set earns.
  RateLimiter limiter(RateLimit{1, 5}, 4);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(allowed_of(limiter, numbered(i), 10, kSecond), 5);
  int allowed = 0;
  for (int i = 4; i < 100; ++i) allowed += allowed_of(limiter, numbered(i), 10, kSecond);
  for (int i = 0; i < 4; ++i) allowed += allowed_of(limiter, numbered(i), 10, kSecond);
  EXPECT_EQ(allowed, 0);
  // A second later the 4 buckets have earned a token each, and that is all there is.
  allowed = 0;
  for (int i = 0; i < 100; ++i) allowed += allowed_of(limiter, numbered(i), 10, 2 * kSecond);
  EXPECT_EQ(allowed, 4);
}

TEST(RateLimiterTest, AnIdleClientsSlotGivesANewcomerAFullBurst) {
  RateLimiter limiter(RateLimit{1, 5}, 4);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(allowed_of(limiter, numbered(i), 10, kSecond), 5);
  // 10.0.0.0 has not asked for 5 s: its bucket is full, and that is what the newcomer gets.
  for (int i = 1; i < 4; ++i) EXPECT_EQ(allowed_of(limiter, numbered(i), 10, 6 * kSecond), 5);
  EXPECT_EQ(allowed_of(limiter, numbered(4), 10, 6 * kSecond), 5);
  // The client it replaced, back at once, finds only drained buckets: a full table errs
  // towards limiting.
  EXPECT_EQ(allowed_of(limiter, numbered(0), 10, 6 * kSecond), 0);
}

TEST(RateLimiterTest, ManyClientsStayWithinTheTable) {
  RateLimiter limiter(RateLimit{1, 1}, 64);
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < 10000; ++i) limiter.allow(as_sockaddr(numbered(i)), kSecond + round);
  }
  // Still exact for a client that comes later, once the table has refilled.
  sockaddr_storage last = ipv4("10.1.0.0");
  EXPECT_TRUE(limiter.allow(as_sockaddr(last), 5 * kSecond));
  EXPECT_FALSE(limiter.allow(as_sockaddr(last), 5 * kSecond));
}

TEST(RateLimiterTest, TwoThreadsDrainingOneClientGetTheBurstOnce) {
  constexpr int kBurst = 200000;
  RateLimiter limiter(RateLimit{1, kBurst});
  sockaddr_storage client = ipv6("2001:db8::1");
  int allowed[2] = {};
  std::thread threads[2];
  for (int t = 0; t < 2; ++t) {
    threads[t] = std::thread([&, t] { allowed[t] = allowed_of(limiter, client, kBurst, kSecond); });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(allowed[0] + allowed[1], kBurst);
}

TEST(RateLimiterTest, OtherFamiliesAreNotLimited) {
  RateLimiter limiter(RateLimit{1, 1});
  sockaddr_storage unix_address = {};
  unix_address.ss_family = AF_UNIX;
  EXPECT_EQ(allowed_of(limiter, unix_address, 10, kSecond), 10);
}

}  // namespace
}  // namespace dnsvagt
