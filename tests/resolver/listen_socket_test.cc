#include "resolver/listen_socket.h"

#include <netinet/tcp.h>
#include <unistd.h>

#include <gtest/gtest.h>

namespace dnsvagt {
namespace {

uint16_t bound_port(int fd) {
  sockaddr_in address{};
  socklen_t length = sizeof address;
  EXPECT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length), 0);
  return ntohs(address.sin_port);
}

int nodelay(int fd) {
  int value = -1;
  socklen_t length = sizeof value;
  EXPECT_EQ(getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &value, &length), 0);
  return value;
}

// A client connection is never held back by Nagle: the transports rely on the listener's
// TCP_NODELAY reaching every accepted socket and set none of their own.
TEST(ListenSocket, AcceptedTcpConnectionsHaveNoDelay) {
  const int listener = open_tcp_listener(Endpoint{"127.0.0.1", 0});
  const int client = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(client, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(bound_port(listener));
  ASSERT_EQ(connect(client, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  int accepted = -1;
  for (int attempt = 0; accepted < 0 && attempt < 1000; ++attempt) {
    accepted = accept(listener, nullptr, nullptr);  // the listener is non-blocking
    if (accepted < 0) usleep(1000);
  }
  ASSERT_GE(accepted, 0);
  EXPECT_NE(nodelay(accepted), 0);
  close(accepted);
  close(client);
  close(listener);
}

TEST(ListenSocket, AnAddressThisMachineDoesNotHaveIsAClearError) {
  try {
    close(open_tcp_listener(Endpoint{"192.0.2.1", 53}));
    ADD_FAILURE() << "bound 192.0.2.1, a documentation address";
  } catch (const std::runtime_error& error) {
    EXPECT_STREQ(error.what(), "cannot bind TCP 192.0.2.1:53: Cannot assign requested address");
  }
}

}  // namespace
}  // namespace dnsvagt
