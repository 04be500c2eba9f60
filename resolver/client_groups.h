// ClientGroups: which client group (config `clients`) a query's client belongs to, so that the
// policy answers it with that group's lists and action: by the subject of its TLS client
// certificate, else by its address. The address is asked once per query (a linear scan over
// the groups' few prefixes), the subject once per connection.
#pragma once

#include <sys/socket.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "blocklists/policy.h"
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
  // The group the server gives a client: the one its certificate's subject named
  // (`certificate_group`, from group_of_subject; kDefaultGroup: none), else its address's.
  template <typename Address>
  size_t group_of(const Address& address, size_t certificate_group) const {
    return certificate_group != Policy::kDefaultGroup ? certificate_group : group_of(address);
  }
  // The policy group of a client certificate's subject (RFC 4514 form, as OpenSSL prints it
  // with XN_FLAG_RFC2253): the group naming it or the nearest DN above it; kDefaultGroup when
  // none does, and the address decides.
  size_t group_of_subject(std::string_view subject) const;
  // Whether any group names certificate subjects (else no connection needs its subject read).
  bool has_subjects() const { return !subjects_.empty(); }
  // The name of a group group_of() returned; "" for the default group.
  const std::string& name(size_t group) const { return names_[group]; }

 private:
  struct Network {
    NetworkPrefix prefix;
    size_t group;
  };
  size_t longest_match(int family, const uint8_t* bytes) const;

  struct Subject {
    std::string dn;
    size_t group;
  };

  std::vector<Network> networks_;  // in config order
  std::vector<Subject> subjects_;
  std::vector<std::string> names_;  // by group number
};

}  // namespace dnsvagt
