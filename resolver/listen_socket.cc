#include "resolver/listen_socket.h"

#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>
#include <system_error>

namespace dnsvagt {
namespace {

[[noreturn]] void fail(const char* what, const Endpoint& endpoint, int error) {
  throw std::runtime_error(std::string("cannot ") + what + " " + endpoint.to_string() + ": " +
                           std::generic_category().message(error));
}

int open_socket(int type, const Endpoint& endpoint, const char* kind) {
  sockaddr_storage address;
  socklen_t length;
  if (!make_sockaddr(endpoint, address, length)) fail(kind, endpoint, EINVAL);
  int fd = socket(address.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) fail(kind, endpoint, errno);
  int on = 1;
  bool ok = setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) == 0 &&
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) == 0;
  if (ok && address.ss_family == AF_INET6) {
    ok = setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on) == 0;
  }
  if (ok && type == SOCK_DGRAM && is_wildcard(endpoint)) {
    ok = address.ss_family == AF_INET
             ? setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof on) == 0
             : setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on, sizeof on) == 0;
  }
  if (!ok || bind(fd, reinterpret_cast<sockaddr*>(&address), length) != 0) {
    int error = errno;
    close(fd);
    fail(kind, endpoint, error);
  }
  return fd;
}

}  // namespace

bool is_wildcard(const Endpoint& endpoint) {
  sockaddr_storage address;
  socklen_t length;
  if (!make_sockaddr(endpoint, address, length)) return false;
  if (address.ss_family == AF_INET) {
    return reinterpret_cast<sockaddr_in*>(&address)->sin_addr.s_addr == htonl(INADDR_ANY);
  }
  return IN6_IS_ADDR_UNSPECIFIED(&reinterpret_cast<sockaddr_in6*>(&address)->sin6_addr);
}

int open_udp_socket(const Endpoint& endpoint) {
  return open_socket(SOCK_DGRAM, endpoint, "bind UDP");
}

int open_tcp_listener(const Endpoint& endpoint) {
  int fd = open_socket(SOCK_STREAM, endpoint, "bind TCP");
  // Each write is a whole answer (or a TLS handshake flight): sent at once, not held back by
  // Nagle until the client's delayed ACK of the previous one, 40 ms later (HTTP/2 SETTINGS
  // then a response; a length prefix and its message in two TLS records). Set here, once:
  // Linux gives an accepted socket the listener's TCP_NODELAY.
  const int on = 1;
  if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on) != 0) {
    int error = errno;
    close(fd);
    fail("set TCP_NODELAY on", endpoint, error);
  }
  if (listen(fd, 256) != 0) {
    int error = errno;
    close(fd);
    fail("listen on TCP", endpoint, error);
  }
  return fd;
}

}  // namespace dnsvagt
