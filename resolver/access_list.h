// AccessList: which client addresses may use the resolver (server.allow); the others get
// REFUSED. Checked once per query, so it stays a short linear scan over a handful of prefixes.
#pragma once

#include <sys/socket.h>

#include <vector>

#include "config/config.h"

namespace dnsvagt {

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
