#include "resolver/client_groups.h"

#include "resolver/access_list.h"

namespace dnsvagt {

ClientGroups::ClientGroups(const std::vector<ClientGroup>& groups) : names_(1) {
  for (const ClientGroup& group : groups) {
    names_.push_back(group.name);
    for (const NetworkPrefix& prefix : group.networks) networks_.push_back({prefix, names_.size() - 1});
    for (const std::string& dn : group.certificate_subjects) subjects_.push_back({dn, names_.size() - 1});
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

size_t ClientGroups::group_of_subject(std::string_view subject) const {
  size_t group = Policy::kDefaultGroup;
  size_t longest = 0;
  for (const Subject& named : subjects_) {
    // The DN itself, or one below it: the subject ends with ",DN" at an RDN boundary (a
    // comma that is not escaped as "\,"). The longest, i.e. nearest, DN wins.
    const bool below = subject.size() > named.dn.size() + 1 && subject.ends_with(named.dn) &&
                       subject[subject.size() - named.dn.size() - 1] == ',' &&
                       subject[subject.size() - named.dn.size() - 2] != '\\';
    if ((subject == named.dn || below) && named.dn.size() > longest) {
      group = named.group;
      longest = named.dn.size();
    }
  }
  return group;
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
