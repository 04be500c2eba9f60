// AccessList: which client addresses may use the resolver (server.allow); the others get
// REFUSED. Checked once per query, so it stays a short linear scan over a handful of prefixes.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <vector>

#include "config/config.h"
#include "dns/ip_address.h"

namespace dnsvagt {

// A client address as prefixes are matched against it (NetworkPrefix::contains): an
// IPv4-mapped IPv6 address (::ffff:a.b.c.d) is the IPv4 address it carries. `family` 0: the
// address is neither IPv4 nor IPv6 and matches no prefix.
struct PrefixMatchAddress {
  int family = 0;
  const uint8_t* bytes = nullptr;  // into the address it was made from
};
PrefixMatchAddress prefix_match_address(const sockaddr* address);
PrefixMatchAddress prefix_match_address(const IpAddress& address);

class AccessList {
 public:
  explicit AccessList(std::vector<NetworkPrefix> prefixes);

  // True if `address` (AF_INET or AF_INET6) lies in one of the prefixes. An IPv4-mapped IPv6
  // address (::ffff:a.b.c.d) is also matched against the IPv4 prefixes.
  bool allows(const sockaddr* address) const;

 private:
  std::vector<NetworkPrefix> prefixes_;
};

}  // namespace dnsvagt
