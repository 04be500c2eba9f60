// A minimal HTTP/1.0 GET over a raw socket, for tests of the metrics listener without a client
// library: returns the status code and body, bounded in time.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
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

inline HttpResponse http_get(uint16_t port, const std::string& target) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("socket failed");
  timeval timeout{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    close(fd);
    throw std::runtime_error("connect to 127.0.0.1:" + std::to_string(port) + " failed");
  }
  std::string request = "GET " + target + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
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
