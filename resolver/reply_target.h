// ReplyTarget: where a reply goes, a UDP peer (with the address to answer from) or a stream
// connection; a query waiting for upstream keeps its target until the answer comes.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "metrics/worker_counters.h"
#include "resolver/proxy_header.h"

namespace dnsvagt {

// A client connection of a stream transport (TCP, DNS over TLS or HTTPS) as the query engine
// sees it, for the replies that come after the query was read: those of queries that waited
// for upstream. Kept alive by the targets that still owe it a reply, also after the client is
// gone. `request` tells a DNS over HTTPS connection's requests apart (0 on the others).
class StreamConnection {
 public:
  virtual ~StreamConnection() = default;
  // Queues one reply (framed as the transport frames it); nowhere once the connection closed.
  virtual void send(uint32_t request, std::span<const uint8_t> reply) = 0;
  // One of its queries waits for upstream: done() follows for it, perhaps before the
  // transport's call to the engine returns (an answer from a local zone).
  virtual void query_waiting() = 0;
  // One query that waited has had its reply (or its silence, an RPZ drop).
  virtual void done(uint32_t request) = 0;
};

// Room for one IP_PKTINFO or IPV6_PKTINFO control message.
inline constexpr size_t kControlSize = 64;

struct ReplyTarget {
  Transport transport = Transport::udp;
  int udp_fd = -1;
  sockaddr_storage address;  // the peer: where replies go
  socklen_t address_length = 0;
  // The client a PROXY protocol header named; none (0): the peer is the client.
  sockaddr_storage proxied_client;
  socklen_t proxied_client_length = 0;
  alignas(cmsghdr) uint8_t control[kControlSize];
  size_t control_length = 0;
  // mTLS: the client group (policy group number) its certificate's subject named; 0: the
  // client's address decides.
  size_t certificate_group = 0;
  std::shared_ptr<StreamConnection> connection;  // set for a stream transport
  uint32_t request = 0;  // DNS over HTTPS: which of the connection's requests asked

  const sockaddr* peer() const { return reinterpret_cast<const sockaddr*>(&address); }
  // Who asked, for the ACL, the rate limit, the query log and the metrics.
  const sockaddr* client() const {
    return proxied_client_length ? reinterpret_cast<const sockaddr*>(&proxied_client) : peer();
  }
  socklen_t client_length() const {
    return proxied_client_length ? proxied_client_length : address_length;
  }
  // The client of a valid header (a LOCAL one names none: the peer stays the client).
  void take_client_from(const ProxyHeader& header) {
    proxied_client = header.source;
    proxied_client_length = header.local ? 0 : header.source_length;
  }
  bool stream() const { return connection != nullptr; }
  // A late reply: over the connection, or as one datagram from the address asked. A full
  // socket buffer drops it as the network would; the client retries.
  void send(std::span<const uint8_t> reply) const;
  // A reply is owed later (see StreamConnection).
  void query_waiting() const {
    if (connection) connection->query_waiting();
  }
  // The end of a late reply, sent or not.
  void done() const {
    if (connection) connection->done(request);
  }
};

}  // namespace dnsvagt
