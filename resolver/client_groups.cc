#include "resolver/client_groups.h"

#include "blocklists/policy.h"
#include "resolver/access_list.h"

namespace dnsvagt {

ClientGroups::ClientGroups(const std::vector<ClientGroup>& groups) : names_(1) {
  for (const ClientGroup& group : groups) {
    names_.push_back(group.name);
    for (const NetworkPrefix& prefix : group.networks) networks_.push_back({prefix, names_.size() - 1});
  }
}

size_t ClientGroups::group_of(const sockaddr* address) const {
  const PrefixMatchAddress client = prefix_match_address(address);
  return longest_match(client.family, client.bytes);
}

size_t ClientGroups::group_of(const IpAddress& address) const {
  const PrefixMatchAddress client = prefix_match_address(address);
  return longest_match(client.family, client.bytes);
}

size_t ClientGroups::longest_match(int family, const uint8_t* bytes) const {
  size_t group = Policy::kDefaultGroup;
  int longest = -1;
  for (const Network& network : networks_) {
    // Strictly longer: on a tie the group listed first keeps the client.
    if (network.prefix.length > longest && network.prefix.contains(family, bytes)) {
      group = network.group;
      longest = network.prefix.length;
    }
  }
  return group;
}

}  // namespace dnsvagt
