// Listening sockets for server.listen: one UDP socket and one TCP listener per worker and
// address, all bound with SO_REUSEPORT so the kernel spreads clients over the workers.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <string>

#include "config/config.h"

namespace dnsvagt {

// Throw std::runtime_error "cannot bind UDP 127.0.0.1:53: Address already in use".
// The UDP socket asks for the packets' destination address when bound to a wildcard address,
// so replies leave from the address the client asked.
int open_udp_socket(const Endpoint& endpoint);
int open_tcp_listener(const Endpoint& endpoint);

// True if `endpoint` is 0.0.0.0 or ::.
bool is_wildcard(const Endpoint& endpoint);

}  // namespace dnsvagt
