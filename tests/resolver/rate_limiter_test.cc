#include "resolver/rate_limiter.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

namespace dnsvagt {
namespace {

constexpr int64_t kSecond = 1000000000;

sockaddr_storage ipv4(const char* text) {
  sockaddr_storage storage = {};
  auto* address = reinterpret_cast<sockaddr_in*>(&storage);
  address->sin_family = AF_INET;
  inet_pton(AF_INET, text, &address->sin_addr);
  return storage;
}

sockaddr_storage ipv6(const char* text) {
  sockaddr_storage storage = {};
  auto* address = reinterpret_cast<sockaddr_in6*>(&storage);
  address->sin6_family = AF_INET6;
  inet_pton(AF_INET6, text, &address->sin6_addr);
  return storage;
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
  RateLimiter limiter(10, 5);
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
  RateLimiter limiter(1, 2);
  sockaddr_storage a = ipv4("192.0.2.1"), b = ipv4("192.0.2.2"), c = ipv6("2001:db8::1");
  EXPECT_EQ(allowed_of(limiter, a, 5, kSecond), 2);
  EXPECT_EQ(allowed_of(limiter, b, 5, kSecond), 2);
  EXPECT_EQ(allowed_of(limiter, c, 5, kSecond), 2);
  EXPECT_EQ(allowed_of(limiter, a, 1, kSecond), 0);
}

TEST(RateLimiterTest, SameAddressBytesInOtherFamiliesDiffer) {
  RateLimiter limiter(1, 1);
  sockaddr_storage v4 = ipv4("0.0.0.0"), v6 = ipv6("::");
  EXPECT_TRUE(limiter.allow(as_sockaddr(v4), kSecond));
  EXPECT_TRUE(limiter.allow(as_sockaddr(v6), kSecond));
  EXPECT_FALSE(limiter.allow(as_sockaddr(v4), kSecond));
}

TEST(RateLimiterTest, ATableFullOfOtherClientsEvictsTheLeastRecent) {
  // 4 slots: the limited client is evicted by 4 newer clients and comes back with a full bucket.
  RateLimiter limiter(1, 1, 4);
  sockaddr_storage limited = ipv4("192.0.2.1");
  EXPECT_TRUE(limiter.allow(as_sockaddr(limited), kSecond));
  EXPECT_FALSE(limiter.allow(as_sockaddr(limited), kSecond));
  for (int i = 0; i < 4; ++i) {
    sockaddr_storage other = ipv4(("198.51.100." + std::to_string(i + 1)).c_str());
    EXPECT_TRUE(limiter.allow(as_sockaddr(other), kSecond + 1 + i));
  }
  EXPECT_TRUE(limiter.allow(as_sockaddr(limited), kSecond + 10));
}

TEST(RateLimiterTest, ManyClientsStayWithinTheTable) {
  RateLimiter limiter(1, 1, 64);
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < 10000; ++i) {
      sockaddr_storage client = ipv4(("10.0." + std::to_string(i / 256) + "." +
                                      std::to_string(i % 256)).c_str());
      limiter.allow(as_sockaddr(client), kSecond + round);
    }
  }
  // Still exact for a client that fits: the newest one.
  sockaddr_storage last = ipv4("10.1.0.0");
  EXPECT_TRUE(limiter.allow(as_sockaddr(last), 5 * kSecond));
  EXPECT_FALSE(limiter.allow(as_sockaddr(last), 5 * kSecond));
}

TEST(RateLimiterTest, OtherFamiliesAreNotLimited) {
  RateLimiter limiter(1, 1);
  sockaddr_storage unix_address = {};
  unix_address.ss_family = AF_UNIX;
  EXPECT_EQ(allowed_of(limiter, unix_address, 10, kSecond), 10);
}

}  // namespace
}  // namespace dnsvagt
