#include "resolver/client_groups.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include "blocklists/policy.h"

namespace dnsvagt {
namespace {

ClientGroup group(std::string name, std::vector<const char*> networks) {
  ClientGroup result;
  result.name = std::move(name);
  for (const char* network : networks) result.networks.push_back(parse_prefix(network));
  return result;
}

size_t group_of(const ClientGroups& groups, const char* address) {
  sockaddr_storage storage = {};
  if (inet_pton(AF_INET, address, &reinterpret_cast<sockaddr_in*>(&storage)->sin_addr) == 1) {
    storage.ss_family = AF_INET;
  } else {
    EXPECT_EQ(inet_pton(AF_INET6, address, &reinterpret_cast<sockaddr_in6*>(&storage)->sin6_addr),
              1);
    storage.ss_family = AF_INET6;
  }
  const size_t chosen = groups.group_of(reinterpret_cast<const sockaddr*>(&storage));
  EXPECT_EQ(groups.group_of(parse_address(address)), chosen) << address;
  return chosen;
}

TEST(ClientGroupsTest, TheLongestMatchingPrefixChoosesTheGroup) {
  ClientGroups groups({group("internal", {"10.0.0.0/8", "fd00::/8"}),
                       group("guests", {"10.100.0.0/16", "fd00:100::/64"}),
                       group("printer", {"10.100.0.9"})});
  EXPECT_EQ(group_of(groups, "10.1.2.3"), 1u);
  EXPECT_EQ(group_of(groups, "10.100.2.3"), 2u);
  EXPECT_EQ(group_of(groups, "10.100.0.9"), 3u);
  EXPECT_EQ(group_of(groups, "fd00:100::5"), 2u);
  EXPECT_EQ(group_of(groups, "fd00:101::5"), 1u);
  EXPECT_EQ(group_of(groups, "192.0.2.1"), Policy::kDefaultGroup);
  EXPECT_EQ(group_of(groups, "2001:db8::1"), Policy::kDefaultGroup);
  EXPECT_EQ(groups.name(2), "guests");
  EXPECT_EQ(groups.name(Policy::kDefaultGroup), "");
}

TEST(ClientGroupsTest, AnIpv4MappedIpv6ClientIsMatchedAsIpv4) {
  ClientGroups groups({group("guests", {"192.168.100.0/24"}), group("v6", {"::ffff:0:0/96"})});
  EXPECT_EQ(group_of(groups, "::ffff:192.168.100.7"), 1u);
  EXPECT_EQ(group_of(groups, "192.168.100.7"), 1u);
  // As IPv4, the address is outside the IPv6 prefix written for the mapped range.
  EXPECT_EQ(group_of(groups, "::ffff:192.0.2.1"), Policy::kDefaultGroup);
}

TEST(ClientGroupsTest, ATieGoesToTheGroupListedFirst) {
  ClientGroups groups({group("first", {"10.0.0.0/8"}), group("second", {"10.0.0.0/8"})});
  EXPECT_EQ(group_of(groups, "10.0.0.1"), 1u);
}

ClientGroup subject_group(std::string name, std::vector<std::string> subjects) {
  ClientGroup result;
  result.name = std::move(name);
  result.certificate_subjects = std::move(subjects);
  return result;
}

TEST(ClientGroupsTest, ACertificateSubjectIsInTheGroupOfItsNearestNamedDn) {
  const ClientGroups groups({group("internal", {"10.0.0.0/8"}),
                             subject_group("guests", {"OU=guests,O=Authority"}),
                             subject_group("kiosk", {"CN=kiosk-1,OU=guests,O=Authority"})});
  EXPECT_TRUE(groups.has_subjects());
  EXPECT_EQ(groups.group_of_subject("OU=guests,O=Authority"), 2u);
  EXPECT_EQ(groups.group_of_subject("CN=pc-17,OU=guests,O=Authority"), 2u);
  EXPECT_EQ(groups.group_of_subject("CN=kiosk-1,OU=guests,O=Authority"), 3u);
  // Not below it: another OU, a longer RDN value, an escaped comma, no certificate.
  EXPECT_EQ(groups.group_of_subject("CN=pc-17,OU=staff,O=Authority"), Policy::kDefaultGroup);
  EXPECT_EQ(groups.group_of_subject("CN=x,OU=xguests,O=Authority"), Policy::kDefaultGroup);
  EXPECT_EQ(groups.group_of_subject("CN=a\\,OU=guests,O=Authority"), Policy::kDefaultGroup);
  EXPECT_EQ(groups.group_of_subject(""), Policy::kDefaultGroup);
  EXPECT_FALSE(ClientGroups({group("internal", {"10.0.0.0/8"})}).has_subjects());
}

TEST(ClientGroupsTest, NoGroupsPutEveryClientInTheDefaultGroup) {
  ClientGroups groups({});
  EXPECT_EQ(group_of(groups, "127.0.0.1"), Policy::kDefaultGroup);
}

}  // namespace
}  // namespace dnsvagt
