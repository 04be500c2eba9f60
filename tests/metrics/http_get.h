// A minimal HTTP/1.0 GET over a raw socket, for tests of the metrics listener without a client
// library: returns the status code and body, bounded in time. Also the raw connection under
// it, for tests that hold connections open or send what no client would.
#pragma once

#include <netdb.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace dnsvagt::testing {

struct HttpResponse {
  int status = 0;
  std::string headers;
  std::string body;
};

// A TCP connection whose sends and receives give up after 5 seconds; closed when destroyed.
class TcpConnection {
 public:
  // `address` is a numeric IPv4 or IPv6 address such as "127.0.0.1" or "::1".
  TcpConnection(const std::string& address, uint16_t port) {
    addrinfo hints{};
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* server = nullptr;
    if (getaddrinfo(address.c_str(), std::to_string(port).c_str(), &hints, &server) != 0) {
      throw std::runtime_error("bad address " + address);
    }
    fd_ = socket(server->ai_family, SOCK_STREAM, 0);
    if (fd_ < 0) {
      freeaddrinfo(server);
      throw std::runtime_error("socket failed");
    }
    set_timeout(5);
    bool connected = connect(fd_, server->ai_addr, server->ai_addrlen) == 0;
    freeaddrinfo(server);
    if (!connected) {
      close(fd_);
      throw std::runtime_error("connect to " + address + " port " + std::to_string(port) +
                               " failed");
    }
  }
  ~TcpConnection() { close(fd_); }
  TcpConnection(const TcpConnection&) = delete;
  TcpConnection& operator=(const TcpConnection&) = delete;

  void set_timeout(int seconds) {
    timeval timeout{seconds, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  }
  // False if the peer reset the connection or the send timed out.
  bool send_all(const std::string& data) {
    return send(fd_, data.data(), data.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(data.size());
  }
  // One response of a connection kept open: its headers and a Content-Length body; throws
  // on a timeout or an early end.
  std::string receive_one() {
    std::string raw;
    char buffer[4096];
    for (;;) {
      const size_t header_end = raw.find("\r\n\r\n");
      const size_t length = raw.find("Content-Length: ");
      if (header_end != std::string::npos && length != std::string::npos &&
          raw.size() >= header_end + 4 + std::stoul(raw.substr(length + 16))) {
        return raw;
      }
      const ssize_t got = recv(fd_, buffer, sizeof buffer, 0);
      if (got <= 0) throw std::runtime_error("connection ended or timed out: " + raw);
      raw.append(buffer, got);
    }
  }
  // Everything until the peer closes (or resets) the connection; throws on a timeout.
  std::string receive_all() {
    std::string raw;
    char buffer[4096];
    ssize_t got;
    while ((got = recv(fd_, buffer, sizeof buffer, 0)) > 0) raw.append(buffer, got);
    if (got < 0 && errno != ECONNRESET) throw std::runtime_error("recv failed or timed out");
    return raw;
  }

 private:
  int fd_ = -1;
};

// The parts of a whole HTTP response; throws if `raw` is not one.
inline HttpResponse parse_response(const std::string& raw) {
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

inline std::string get_request(const std::string& target) {
  return "GET " + target + " HTTP/1.0\r\nHost: localhost\r\n\r\n";
}

inline HttpResponse http_get(const std::string& address, uint16_t port, const std::string& target) {
  TcpConnection connection(address, port);
  if (!connection.send_all(get_request(target))) throw std::runtime_error("send failed");
  return parse_response(connection.receive_all());
}

}  // namespace dnsvagt::testing
