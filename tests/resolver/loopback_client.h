// Test helpers that talk to a server on 127.0.0.1 as a client would: one UDP question and its
// answer, TCP framing, and the header fields and EDE code of a reply.
#pragma once

#include <arpa/inet.h>
#include <ldns/ldns.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <optional>
#include <vector>

#include "resolver/wire.h"

namespace dnsvagt::loopback {

inline uint16_t bound_port(int fd) {
  sockaddr_in address = {};
  socklen_t length = sizeof address;
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  return ntohs(address.sin_port);
}

inline sockaddr_in address(uint16_t port) {
  sockaddr_in address = {};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
  return address;
}

// A port nothing listens on right now (the kernel's pick for a socket closed at once).
inline uint16_t free_port() {
  const int fd = socket(AF_INET, SOCK_DGRAM, 0);
  const sockaddr_in any = address(0);
  bind(fd, reinterpret_cast<const sockaddr*>(&any), sizeof any);
  const uint16_t port = bound_port(fd);
  close(fd);
  return port;
}

inline void set_receive_timeout(int fd, int seconds) {
  const timeval timeout = {seconds, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
}

// Sends `query` to 127.0.0.1:port; the reply, or empty after `timeout_seconds`.
inline std::vector<uint8_t> ask_udp(uint16_t port, const std::vector<uint8_t>& query,
                                    int timeout_seconds = 5) {
  const int fd = socket(AF_INET, SOCK_DGRAM, 0);
  set_receive_timeout(fd, timeout_seconds);
  const sockaddr_in server = address(port);
  sendto(fd, query.data(), query.size(), 0, reinterpret_cast<const sockaddr*>(&server),
         sizeof server);
  std::vector<uint8_t> reply(65535);
  const ssize_t n = recv(fd, reply.data(), reply.size(), 0);
  close(fd);
  reply.resize(n > 0 ? n : 0);
  return reply;
}

inline int connect_tcp(uint16_t port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  set_receive_timeout(fd, 5);
  const sockaddr_in server = address(port);
  if (connect(fd, reinterpret_cast<const sockaddr*>(&server), sizeof server) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

inline bool send_framed(int fd, const std::vector<uint8_t>& query) {
  std::vector<uint8_t> framed = {static_cast<uint8_t>(query.size() >> 8),
                                 static_cast<uint8_t>(query.size())};
  framed.insert(framed.end(), query.begin(), query.end());
  return send(fd, framed.data(), framed.size(), 0) == static_cast<ssize_t>(framed.size());
}

// One framed reply; empty if the connection ends or times out first.
inline std::vector<uint8_t> read_framed(int fd) {
  uint8_t prefix[2];
  if (recv(fd, prefix, 2, MSG_WAITALL) != 2) return {};
  std::vector<uint8_t> reply(prefix[0] << 8 | prefix[1]);
  if (recv(fd, reply.data(), reply.size(), MSG_WAITALL) != static_cast<ssize_t>(reply.size())) {
    return {};
  }
  return reply;
}

// The rcode of a reply's header; -1 for no reply.
inline int rcode_of(const std::vector<uint8_t>& reply) {
  return reply.size() >= kHeaderSize ? reply[3] & 0x0f : -1;
}

// The code of the first EDNS option of `reply`'s OPT record if it is an EDE, read with ldns.
inline std::optional<uint16_t> ede_of(const std::vector<uint8_t>& reply) {
  ldns_pkt* packet = nullptr;
  if (ldns_wire2pkt(&packet, reply.data(), reply.size()) != LDNS_STATUS_OK) return std::nullopt;
  std::optional<uint16_t> code;
  const ldns_rdf* options = ldns_pkt_edns_data(packet);
  if (options && ldns_rdf_size(options) >= 6 && read_u16(ldns_rdf_data(options)) == kOptionEde) {
    code = read_u16(ldns_rdf_data(options) + 4);
  }
  ldns_pkt_free(packet);
  return code;
}

}  // namespace dnsvagt::loopback
