#include "resolver/udp_transport.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>

#include "resolver/query.h"

namespace dnsvagt {
namespace {

constexpr size_t kMaxQuery = 4096;   // a larger query is not a query we answer
constexpr int kBatch = 32;           // datagrams per recvmmsg/sendmmsg
constexpr int kBatchesPerWakeup = 4;  // then let the loop serve TCP and upstream answers

// The control message a reply needs to leave from the address the query came to (wildcard
// sockets only): IP_PKTINFO with the source set, or IPV6_PKTINFO as received.
size_t reply_control(msghdr& received, uint8_t* out) {
  for (cmsghdr* c = CMSG_FIRSTHDR(&received); c; c = CMSG_NXTHDR(&received, c)) {
    msghdr reply = {};
    reply.msg_control = out;
    reply.msg_controllen = kControlSize;
    cmsghdr* r = CMSG_FIRSTHDR(&reply);
    if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
      in_pktinfo info;
      memcpy(&info, CMSG_DATA(c), sizeof info);
      info.ipi_spec_dst = info.ipi_addr;
      info.ipi_ifindex = 0;
      r->cmsg_level = IPPROTO_IP;
      r->cmsg_type = IP_PKTINFO;
      r->cmsg_len = CMSG_LEN(sizeof info);
      memcpy(CMSG_DATA(r), &info, sizeof info);
      return CMSG_SPACE(sizeof info);
    }
    if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
      r->cmsg_level = IPPROTO_IPV6;
      r->cmsg_type = IPV6_PKTINFO;
      r->cmsg_len = CMSG_LEN(sizeof(in6_pktinfo));
      memcpy(CMSG_DATA(r), CMSG_DATA(c), sizeof(in6_pktinfo));
      return CMSG_SPACE(sizeof(in6_pktinfo));
    }
  }
  return 0;
}

}  // namespace

struct UdpTransport::Batch {
  mmsghdr messages[kBatch];
  iovec vectors[kBatch];
  sockaddr_storage addresses[kBatch];
  alignas(cmsghdr) uint8_t controls[kBatch][kControlSize];
  uint8_t queries[kBatch][kMaxQuery];
  mmsghdr replies[kBatch];
  iovec reply_vectors[kBatch];
  alignas(cmsghdr) uint8_t reply_controls[kBatch][kControlSize];
  uint8_t reply_packets[kBatch][kServerUdpSize];
  ReplyFacts facts[kBatch];  // by reply
  sockaddr_storage clients[kBatch];  // by reply: who asked (the peer, or whom its header named)
};

UdpTransport::UdpTransport(event_base* base, const std::vector<int>& sockets,
                           const WorkerShared& shared, QueryEngine& engine,
                           WorkerCounters& counters, ReplyAccounting& accounting,
                           InternalErrors& errors)
    : shared_(shared),
      engine_(engine),
      counters_(counters),
      accounting_(accounting),
      errors_(errors),
      batch_(std::make_unique<Batch>()) {
  for (int fd : sockets) {
    events_.push_back(event_new(base, fd, EV_READ | EV_PERSIST, on_readable, this));
    event_add(events_.back(), nullptr);
  }
}

UdpTransport::~UdpTransport() {
  for (event* e : events_) event_free(e);
}

void UdpTransport::stop_reading() {
  for (event* e : events_) event_del(e);
}

void UdpTransport::on_readable(int fd, short, void* transport) {
  auto* t = static_cast<UdpTransport*>(transport);
  t->errors_.guarded("reading UDP queries", [&] { t->read(fd); });
}

void UdpTransport::read(int fd) {
  QueryEngine::PolicyLease lease(engine_);
  Batch& b = *batch_;
  ReplyTarget client;
  client.udp_fd = fd;
  for (int round = 0; round < kBatchesPerWakeup; ++round) {
    for (int i = 0; i < kBatch; ++i) {
      b.vectors[i] = {b.queries[i], kMaxQuery};
      msghdr& m = b.messages[i].msg_hdr;
      m = {};
      m.msg_name = &b.addresses[i];
      m.msg_namelen = sizeof b.addresses[i];
      m.msg_iov = &b.vectors[i];
      m.msg_iovlen = 1;
      m.msg_control = b.controls[i];
      m.msg_controllen = kControlSize;
    }
    int received = recvmmsg(fd, b.messages, kBatch, MSG_DONTWAIT, nullptr);
    if (received <= 0) return;
    const int64_t received_ns = clock_ns(CLOCK_MONOTONIC);
    int replies = 0;
    for (int i = 0; i < received; ++i) {
      msghdr& m = b.messages[i].msg_hdr;
      if (m.msg_flags & MSG_TRUNC) continue;
      memcpy(&client.address, &b.addresses[i], m.msg_namelen);
      client.address_length = m.msg_namelen;
      client.proxied_client_length = 0;
      std::span<const uint8_t> query(b.queries[i], b.messages[i].msg_len);
      const bool from_proxy = shared_.proxies.allows(client.peer());
      if (from_proxy || may_start_proxy_header(query)) {
        const ProxyStart start = judge_proxy_start(query, from_proxy, true);
        if (start.kind == ProxyStart::Kind::refused) {
          counters_.proxy_refused(Transport::udp, start.refusal);
          continue;
        }
        if (start.kind == ProxyStart::Kind::header) {
          client.take_client_from(start.header);
          query = query.subspan(start.header.length);
        }
      }
      client.control_length = reply_control(m, client.control);
      const Outcome outcome = engine_.answer(Request{query, client, received_ns},
                                             {b.reply_packets[replies], kServerUdpSize});
      const size_t length = outcome.length;
      if (length == 0) {
        if (outcome.counted()) {  // an RPZ drop: its silence is "sent" now
          accounting_.count(outcome.facts, client.client(), Transport::udp, {}, received_ns,
                            clock_ns(CLOCK_MONOTONIC), accounting_.wall_clock_ns());
        }
        continue;
      }
      b.facts[replies] = outcome.facts;
      memcpy(&b.clients[replies], client.client(), client.client_length());
      memcpy(b.reply_controls[replies], client.control, client.control_length);
      b.reply_vectors[replies] = {b.reply_packets[replies], length};
      msghdr& r = b.replies[replies].msg_hdr;
      r = {};
      r.msg_name = &b.addresses[i];
      r.msg_namelen = m.msg_namelen;
      r.msg_iov = &b.reply_vectors[replies];
      r.msg_iovlen = 1;
      if (client.control_length) {
        r.msg_control = b.reply_controls[replies];
        r.msg_controllen = client.control_length;
      }
      ++replies;
    }
    for (int sent = 0; sent < replies;) {
      int n = sendmmsg(fd, b.replies + sent, replies - sent, MSG_DONTWAIT);
      if (n <= 0) break;  // socket buffer full: the rest is lost as on a busy network
      sent += n;
    }
    if (replies > 0) {
      int64_t sent_ns = clock_ns(CLOCK_MONOTONIC);
      int64_t sent_wall_ns = accounting_.wall_clock_ns();
      for (int r = 0; r < replies; ++r) {
        accounting_.count(b.facts[r], reinterpret_cast<const sockaddr*>(&b.clients[r]),
                          Transport::udp, {b.reply_packets[r], b.reply_vectors[r].iov_len}, received_ns,
                          sent_ns, sent_wall_ns);
      }
    }
    if (received < kBatch) return;
  }
}

}  // namespace dnsvagt
