#include "resolver/access_list.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

namespace dnsvagt {
namespace {

NetworkPrefix prefix(int family, const char* address, int length) {
  NetworkPrefix p;
  p.family = family;
  inet_pton(family, address, p.address);
  p.length = length;
  p.text = address;
  return p;
}

sockaddr_storage v4(const char* address) {
  sockaddr_storage s = {};
  auto* a = reinterpret_cast<sockaddr_in*>(&s);
  a->sin_family = AF_INET;
  inet_pton(AF_INET, address, &a->sin_addr);
  return s;
}

sockaddr_storage v6(const char* address) {
  sockaddr_storage s = {};
  auto* a = reinterpret_cast<sockaddr_in6*>(&s);
  a->sin6_family = AF_INET6;
  inet_pton(AF_INET6, address, &a->sin6_addr);
  return s;
}

bool allows(const AccessList& list, sockaddr_storage address) {
  return list.allows(reinterpret_cast<const sockaddr*>(&address));
}

TEST(AccessListTest, MatchesPrefixesOfBothFamilies) {
  AccessList list({prefix(AF_INET, "10.0.0.0", 8), prefix(AF_INET, "192.168.1.0", 24),
                   prefix(AF_INET6, "fc00::", 7)});
  EXPECT_TRUE(allows(list, v4("10.200.3.4")));
  EXPECT_TRUE(allows(list, v4("192.168.1.77")));
  EXPECT_FALSE(allows(list, v4("192.168.2.1")));
  EXPECT_FALSE(allows(list, v4("11.0.0.1")));
  EXPECT_TRUE(allows(list, v6("fd12::1")));
  EXPECT_FALSE(allows(list, v6("2001:db8::1")));
}

TEST(AccessListTest, V4MappedAddressesUseTheV4Prefixes) {
  AccessList list({prefix(AF_INET, "127.0.0.0", 8)});
  EXPECT_TRUE(allows(list, v6("::ffff:127.0.0.1")));
  EXPECT_FALSE(allows(list, v6("::ffff:8.8.8.8")));
}

TEST(AccessListTest, EmptyListAllowsNobody) {
  AccessList list({});
  EXPECT_FALSE(allows(list, v4("127.0.0.1")));
}

}  // namespace
}  // namespace dnsvagt
