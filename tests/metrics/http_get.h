// A minimal HTTP/1.0 GET over a raw socket, for tests of the metrics listener without a client
// library: returns the status code and body, bounded in time.
#pragma once

#include <netdb.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdint>
#include <stdexcept>
#include <string>

namespace dnsvagt::testing {

struct HttpResponse {
  int status = 0;
  std::string headers;
  std::string body;
};

// `address` is a numeric IPv4 or IPv6 address such as "127.0.0.1" or "::1".
inline HttpResponse http_get(const std::string& address, uint16_t port, const std::string& target) {
  addrinfo hints{};
  hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* server = nullptr;
  if (getaddrinfo(address.c_str(), std::to_string(port).c_str(), &hints, &server) != 0) {
    throw std::runtime_error("bad address " + address);
  }
  int fd = socket(server->ai_family, SOCK_STREAM, 0);
  if (fd < 0) {
    freeaddrinfo(server);
    throw std::runtime_error("socket failed");
  }
  timeval timeout{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  bool connected = connect(fd, server->ai_addr, server->ai_addrlen) == 0;
  freeaddrinfo(server);
  if (!connected) {
    close(fd);
    throw std::runtime_error("connect to " + address + " port " + std::to_string(port) + " failed");
  }
  std::string request = "GET " + target + " HTTP/1.0\r\nHost: localhost\r\n\r\n";
  if (send(fd, request.data(), request.size(), 0) != static_cast<ssize_t>(request.size())) {
    close(fd);
    throw std::runtime_error("send failed");
  }
  std::string raw;
  char buffer[4096];
  ssize_t got;
  while ((got = recv(fd, buffer, sizeof buffer, 0)) > 0) raw.append(buffer, got);
  close(fd);
  if (got < 0) throw std::runtime_error("recv failed or timed out");

  HttpResponse response;
  size_t header_end = raw.find("\r\n\r\n");
  if (raw.compare(0, 9, "HTTP/1.1 ") != 0 && raw.compare(0, 9, "HTTP/1.0 ") != 0) {
    throw std::runtime_error("not an HTTP response: " + raw.substr(0, 80));
  }
  response.status = std::stoi(raw.substr(9, 3));
  response.headers = raw.substr(0, header_end);
  if (header_end != std::string::npos) response.body = raw.substr(header_end + 4);
  return response;
}

}  // namespace dnsvagt::testing
