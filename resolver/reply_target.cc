#include "resolver/reply_target.h"

namespace dnsvagt {

void ReplyTarget::send(std::span<const uint8_t> reply) const {
  if (connection) {
    connection->send(request, reply);
    return;
  }
  iovec vector{const_cast<uint8_t*>(reply.data()), reply.size()};
  msghdr message = {};
  message.msg_name = const_cast<sockaddr_storage*>(&address);
  message.msg_namelen = address_length;
  message.msg_iov = &vector;
  message.msg_iovlen = 1;
  if (control_length) {
    message.msg_control = const_cast<uint8_t*>(control);
    message.msg_controllen = control_length;
  }
  (void)sendmsg(udp_fd, &message, MSG_DONTWAIT);
}

}  // namespace dnsvagt
