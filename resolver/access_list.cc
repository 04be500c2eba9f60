#include "resolver/access_list.h"

#include <netinet/in.h>

#include <cstring>

namespace dnsvagt {

AccessList::AccessList(std::vector<NetworkPrefix> prefixes) : prefixes_(std::move(prefixes)) {}

bool AccessList::allows(const sockaddr* address) const {
  int family = address->sa_family;
  const uint8_t* bytes = nullptr;
  if (family == AF_INET) {
    bytes = reinterpret_cast<const uint8_t*>(
        &reinterpret_cast<const sockaddr_in*>(address)->sin_addr);
  } else if (family == AF_INET6) {
    const in6_addr& v6 = reinterpret_cast<const sockaddr_in6*>(address)->sin6_addr;
    bytes = v6.s6_addr;
    if (IN6_IS_ADDR_V4MAPPED(&v6)) {
      family = AF_INET;
      bytes += 12;
    }
  } else {
    return false;
  }
  for (const NetworkPrefix& prefix : prefixes_) {
    if (prefix.contains(family, bytes)) return true;
  }
  return false;
}

}  // namespace dnsvagt
