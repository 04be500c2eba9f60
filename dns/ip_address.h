// An IPv4 or IPv6 address as an A or AAAA record carries it: the addresses dnsvagt answers
// with for blocked names (blocking.sinkhole, RPZ local data).
#pragma once

#include <array>
#include <cstdint>
#include <string>

namespace dnsvagt {

struct IpAddress {
  int family = 0;                   // AF_INET or AF_INET6
  std::array<uint8_t, 16> bytes{};  // network byte order; the first 4 for AF_INET
  std::string to_string() const;    // "192.0.2.1", "2001:db8::1" (inet_ntop); "?" if no family
  bool operator==(const IpAddress&) const = default;
};

}  // namespace dnsvagt
