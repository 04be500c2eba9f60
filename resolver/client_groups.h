// ClientGroups: which client group (config `clients`) a query's client belongs to, so that the
// policy answers it with that group's lists and action. Asked once per query: a linear scan
// over the groups' few prefixes.
#pragma once

#include <sys/socket.h>

#include <cstddef>
#include <string>
#include <vector>

#include "config/config.h"
#include "dns/ip_address.h"

namespace dnsvagt {

class ClientGroups {
 public:
  explicit ClientGroups(const std::vector<ClientGroup>& groups);

  // The policy group (Policy::groups(): i + 1 for groups[i]) of the client at `address`: the
  // group with the longest prefix holding it, the first group listed on a tie, and
  // Policy::kDefaultGroup when no prefix does. An IPv4-mapped IPv6 address is matched as IPv4.
  size_t group_of(const sockaddr* address) const;
  size_t group_of(const IpAddress& address) const;
  // The name of a group group_of() returned; "" for the default group.
  const std::string& name(size_t group) const { return names_[group]; }

 private:
  struct Network {
    NetworkPrefix prefix;
    size_t group;
  };
  size_t longest_match(int family, const uint8_t* bytes) const;

  std::vector<Network> networks_;  // in config order
  std::vector<std::string> names_;  // by group number
};

}  // namespace dnsvagt
