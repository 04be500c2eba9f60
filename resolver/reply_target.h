// ReplyTarget: where a reply goes, a UDP peer (with the address to answer from) or a TCP
// connection; a query waiting for upstream keeps its target until the answer comes.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <memory>

namespace dnsvagt {

struct TcpConnection;  // the worker's; kept alive by the replies still owed to it

// Room for one IP_PKTINFO or IPV6_PKTINFO control message.
inline constexpr size_t kControlSize = 64;

struct ReplyTarget {
  int udp_fd = -1;
  sockaddr_storage address;
  socklen_t address_length = 0;
  alignas(cmsghdr) uint8_t control[kControlSize];
  size_t control_length = 0;
  std::shared_ptr<TcpConnection> connection;  // set for TCP
};

}  // namespace dnsvagt
