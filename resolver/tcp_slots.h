// TcpSlots: the open client TCP connections of the whole process (all workers, across
// reloads), counted in total and per client, so that no single source can take the slots that
// server.max_tcp_connections shares among everyone.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

namespace dnsvagt {

enum class TcpRefusal : uint8_t { none, total, per_client };

class TcpSlots {
 public:
  // Takes a slot for a connection from `client` if fewer than `total_limit` are open and fewer
  // than `per_client_limit` from the same client: an IPv4 address, or an IPv6 /64 (what one
  // host normally holds). Otherwise says which limit refused it.
  TcpRefusal acquire(const sockaddr* client, unsigned total_limit, unsigned per_client_limit);
  // Gives back a slot acquire() took for `client`.
  void release(const sockaddr* client);
  unsigned open() const;

 private:
  static std::string client_key(const sockaddr* client);

  mutable std::mutex mutex_;  // taken once per connection opened or closed, never per query
  unsigned open_ = 0;
  std::unordered_map<std::string, unsigned> per_client_;
};

}  // namespace dnsvagt
