#include "resolver/tcp_slots.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstring>

namespace dnsvagt {
namespace {

sockaddr_storage address(const char* text) {
  sockaddr_storage storage{};
  if (std::strchr(text, ':')) {
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&storage);
    v6->sin6_family = AF_INET6;
    EXPECT_EQ(inet_pton(AF_INET6, text, &v6->sin6_addr), 1);
  } else {
    auto* v4 = reinterpret_cast<sockaddr_in*>(&storage);
    v4->sin_family = AF_INET;
    EXPECT_EQ(inet_pton(AF_INET, text, &v4->sin_addr), 1);
  }
  return storage;
}

const sockaddr* as_sockaddr(const sockaddr_storage& storage) {
  return reinterpret_cast<const sockaddr*>(&storage);
}

TEST(TcpSlots, OneClientCannotTakeMoreThanItsShare) {
  TcpSlots slots;
  auto hog = address("192.0.2.1"), other = address("192.0.2.2");
  EXPECT_EQ(slots.acquire(as_sockaddr(hog), 10, 2), TcpRefusal::none);
  EXPECT_EQ(slots.acquire(as_sockaddr(hog), 10, 2), TcpRefusal::none);
  EXPECT_EQ(slots.acquire(as_sockaddr(hog), 10, 2), TcpRefusal::per_client);
  EXPECT_EQ(slots.acquire(as_sockaddr(other), 10, 2), TcpRefusal::none);
  EXPECT_EQ(slots.open(), 3u);
  slots.release(as_sockaddr(hog));
  EXPECT_EQ(slots.acquire(as_sockaddr(hog), 10, 2), TcpRefusal::none);
}

TEST(TcpSlots, TheTotalLimitHoldsForEveryone) {
  TcpSlots slots;
  auto a = address("192.0.2.1"), b = address("192.0.2.2");
  EXPECT_EQ(slots.acquire(as_sockaddr(a), 2, 5), TcpRefusal::none);
  EXPECT_EQ(slots.acquire(as_sockaddr(b), 2, 5), TcpRefusal::none);
  EXPECT_EQ(slots.acquire(as_sockaddr(b), 2, 5), TcpRefusal::total);
  slots.release(as_sockaddr(a));
  slots.release(as_sockaddr(b));
  EXPECT_EQ(slots.open(), 0u);
}

TEST(TcpSlots, AnIpv6ClientIsItsSlash64) {
  TcpSlots slots;
  auto first = address("2001:db8:0:1::1"), same_64 = address("2001:db8:0:1::ffff");
  auto next_64 = address("2001:db8:0:2::1");
  EXPECT_EQ(slots.acquire(as_sockaddr(first), 10, 1), TcpRefusal::none);
  EXPECT_EQ(slots.acquire(as_sockaddr(same_64), 10, 1), TcpRefusal::per_client);
  EXPECT_EQ(slots.acquire(as_sockaddr(next_64), 10, 1), TcpRefusal::none);
}

}  // namespace
}  // namespace dnsvagt
