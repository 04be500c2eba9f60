#include "resolver/access_list.h"

#include <netinet/in.h>

#include <cstring>

namespace dnsvagt {
namespace {

PrefixMatchAddress unmapped(const uint8_t* ipv6) {
  static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(ipv6, kMapped, sizeof kMapped) == 0) return {AF_INET, ipv6 + 12};
  return {AF_INET6, ipv6};
}

}  // namespace

PrefixMatchAddress prefix_match_address(const sockaddr* address) {
  if (address->sa_family == AF_INET) {
    return {AF_INET, reinterpret_cast<const uint8_t*>(
                         &reinterpret_cast<const sockaddr_in*>(address)->sin_addr)};
  }
  if (address->sa_family == AF_INET6) {
    return unmapped(reinterpret_cast<const sockaddr_in6*>(address)->sin6_addr.s6_addr);
  }
  return {};
}

PrefixMatchAddress prefix_match_address(const IpAddress& address) {
  if (address.family == AF_INET) return {AF_INET, address.bytes.data()};
  if (address.family == AF_INET6) return unmapped(address.bytes.data());
  return {};
}

AccessList::AccessList(std::vector<NetworkPrefix> prefixes) : prefixes_(std::move(prefixes)) {}

bool AccessList::allows(const sockaddr* address) const {
  const PrefixMatchAddress client = prefix_match_address(address);
  if (client.family == 0) return false;
  for (const NetworkPrefix& prefix : prefixes_) {
    if (prefix.contains(client.family, client.bytes)) return true;
  }
  return false;
}

}  // namespace dnsvagt
