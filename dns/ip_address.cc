#include "dns/ip_address.h"

#include <arpa/inet.h>

namespace dnsvagt {

std::string IpAddress::to_string() const {
  char text[INET6_ADDRSTRLEN] = "";
  if (inet_ntop(family, bytes.data(), text, sizeof text) == nullptr) return "?";
  return text;
}

}  // namespace dnsvagt
