#include "resolver/tcp_slots.h"

#include <netinet/in.h>

namespace dnsvagt {

std::string TcpSlots::client_key(const sockaddr* client) {
  if (client->sa_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(client);
    return std::string(reinterpret_cast<const char*>(&v4->sin_addr), 4);
  }
  if (client->sa_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(client);
    return std::string(reinterpret_cast<const char*>(&v6->sin6_addr), 8);
  }
  return {};
}

TcpRefusal TcpSlots::acquire(const sockaddr* client, unsigned total_limit,
                             unsigned per_client_limit) {
  const std::string key = client_key(client);
  std::lock_guard lock(mutex_);
  if (open_ >= total_limit) return TcpRefusal::total;
  unsigned& from_client = per_client_[key];
  if (from_client >= per_client_limit) return TcpRefusal::per_client;
  ++from_client;
  ++open_;
  return TcpRefusal::none;
}

void TcpSlots::release(const sockaddr* client) {
  const std::string key = client_key(client);
  std::lock_guard lock(mutex_);
  --open_;
  auto found = per_client_.find(key);
  if (found != per_client_.end() && --found->second == 0) per_client_.erase(found);
}

unsigned TcpSlots::open() const {
  std::lock_guard lock(mutex_);
  return open_;
}

}  // namespace dnsvagt
