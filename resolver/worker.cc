#include "resolver/worker.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <ctime>
#include <stdexcept>

#include "resolver/dns_name.h"
#include "resolver/logging.h"
#include "resolver/stale_reply.h"
#include "resolver/unbound_config.h"
#include "resolver/wire.h"

namespace dnsvagt {
namespace {

constexpr size_t kTcpMaxMessage = 65535;
constexpr size_t kUdpMaxQuery = 4096;  // a larger query is not a query we answer
constexpr int kUdpBatch = 32;          // datagrams per recvmmsg/sendmmsg
constexpr int kUdpBatchesPerWakeup = 4;  // then let the loop serve TCP and upstream answers
constexpr timeval kDrainTime = {2, 0};
constexpr timeval kFlushTime = {0, 100000};  // lets the last TCP replies leave after a drain
constexpr timeval kHeartbeat = {1, 0};
constexpr size_t kMaxEdeText = 300;
constexpr uint16_t kEdeNoReachableAuthority = 22;
// Per TCP connection, while over either bound no more queries are read from it: a client
// that pipelines queries for large answers and never reads cannot make us hold more.
constexpr unsigned kTcpMaxWaiting = 64;       // queries waiting for upstream
constexpr size_t kTcpMaxUnwritten = 128 * 1024;  // reply bytes not yet written
constexpr int64_t kInternalErrorLogInterval = int64_t{60} * 1000000000;

uint32_t monotonic_seconds() {
  timespec now;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
  return static_cast<uint32_t>(now.tv_sec);
}

size_t reply_limit(const Query& query, bool tcp) {
  if (tcp) return kTcpMaxMessage;
  if (!query.has_edns) return 512;
  return std::min<size_t>(query.udp_size, kServerUdpSize);
}

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

// A client's TCP connection: its bufferevent, the replies it is owed and the state its bounds
// and deadlines are judged by. Waiters hold it, so their answers find it even after a close.
struct TcpConnection {
  Worker* worker;
  bufferevent* bev;  // null once closed; replies still in flight then go nowhere
  ReplyTarget client;
  event* deadline = nullptr;  // fires at next_deadline()
  event* resume = nullptr;    // reads the queries left in the input once under the bounds again
  unsigned waiting = 0;       // queries whose answers are still to come
  bool input_closed = false;  // the client half-closed; close after the last answer
  bool paused = false;        // over a bound: not reading
  int64_t idle_since_ns = 0;    // monotonic: opened, last query read or last answer given
  int64_t query_since_ns = 0;   // first bytes of a query not yet whole arrived; 0: none
  int64_t unwritten_since_ns = 0;  // replies waiting to be written since; 0: none
};

struct Worker::UdpBatch {
  mmsghdr messages[kUdpBatch];
  iovec vectors[kUdpBatch];
  sockaddr_storage addresses[kUdpBatch];
  alignas(cmsghdr) uint8_t controls[kUdpBatch][kControlSize];
  uint8_t queries[kUdpBatch][kUdpMaxQuery];
  mmsghdr replies[kUdpBatch];
  iovec reply_vectors[kUdpBatch];
  alignas(cmsghdr) uint8_t reply_controls[kUdpBatch][kControlSize];
  uint8_t reply_packets[kUdpBatch][kServerUdpSize];
  ReplyFacts facts[kUdpBatch];  // by reply
  int query_of[kUdpBatch];      // the query a reply answers
};

template <typename Work>
void Worker::guarded(const char* where, Work&& work) noexcept {
  try {
    work();
  } catch (const std::exception& error) {
    note_internal_error(where, error);
  }
}

void Worker::note_internal_error(const char* where, const std::exception& error) {
  counters_.internal_error();
  const int64_t now = clock_ns(CLOCK_MONOTONIC);
  // Never a line per query: a client that can trigger this must not flood the log.
  if (internal_error_logged_ns_ == 0 || now - internal_error_logged_ns_ >= kInternalErrorLogInterval) {
    internal_error_logged_ns_ = now;
    log_error("internal error %s: %s (logged at most once a minute per worker; "
              "dnsvagt_internal_errors_total counts every one)",
              where, error.what());
  }
}

WorkerShared::WorkerShared(Config config_in, TcpSlots* tcp_slots_in)
    : config(std::move(config_in)),
      cache(AnswerCache::Options{answer_cache_bytes(config.cache), config.cache.serve_stale,
                                 86400, config.cache.prefetch}),
      access_list(config.server.allow),
      tcp_slots(tcp_slots_in) {}

Worker::Worker(std::shared_ptr<WorkerShared> shared, WorkerSockets sockets,
               unsigned contexts_in_process, Metrics& metrics, size_t counter_slot,
               QueryLogQueue* query_log)
    : shared_(std::move(shared)),
      sockets_(std::move(sockets)),
      counters_(metrics.worker(counter_slot)),
      accounting_(metrics, counters_, query_log),
      udp_batch_(std::make_unique<UdpBatch>()),
      tcp_query_(kTcpMaxMessage),
      reply_(2 + kTcpMaxMessage),
      policy_stage_(shared_->config.blocking, accounting_) {
  base_ = event_base_new();
  if (!base_) throw std::runtime_error("cannot create an event loop");
  try {
    upstream_ = std::make_unique<Upstream>(base_, shared_->config, contexts_in_process);
  } catch (...) {
    event_base_free(base_);
    throw;
  }
  for (int fd : sockets_.udp) {
    udp_events_.push_back(event_new(base_, fd, EV_READ | EV_PERSIST, on_udp_readable, this));
    event_add(udp_events_.back(), nullptr);
  }
  for (int fd : sockets_.tcp) {
    // The Server owns the socket (no LEV_OPT_CLOSE_ON_FREE): a reload's workers take it over.
    tcp_listeners_.push_back(evconnlistener_new(base_, on_tcp_accept, this, 0, -1, fd));
  }
  stop_event_ = event_new(base_, -1, 0, on_stop, this);
  heartbeat_event_ = event_new(base_, -1, EV_PERSIST, on_heartbeat, this);
  event_add(heartbeat_event_, &kHeartbeat);
  drain_deadline_ = evtimer_new(base_, on_drain_deadline, this);
  in_flight_.emplace(
      base_,
      InFlight::Handlers{
          [this](InFlight::Entry& pending, const UpstreamReply& reply) {
            guarded("handling an upstream answer", [&] { finish(&pending, reply); });
          },
          [this](InFlight::Entry& pending) {
            guarded("answering late", [&] { answer_late(pending); });
          }},
      shared_->config.upstream.timeout);
  heartbeat_.store(monotonic_seconds(), std::memory_order_relaxed);
}

Worker::~Worker() {
  join();
  // The thread has ended: this thread owns the counters now.
  while (!connections_.empty()) close_tcp(connections_.begin()->first);
  upstream_.reset();  // before the loop it runs on
  in_flight_->clear();
  for (event* e : udp_events_) event_free(e);
  for (evconnlistener* listener : tcp_listeners_) evconnlistener_free(listener);
  event_free(stop_event_);
  event_free(heartbeat_event_);
  event_free(drain_deadline_);
  event_base_free(base_);
}

void Worker::start() { thread_ = std::thread([this] { run(); }); }

void Worker::stop() { event_active(stop_event_, EV_READ, 0); }

void Worker::join() {
  if (thread_.joinable()) thread_.join();
}

void Worker::run() { event_base_dispatch(base_); }

Outcome Worker::answer(std::span<const uint8_t> packet, const ReplyTarget& client,
                       std::span<uint8_t> out) {
  const Admission admission =
      admit(packet, reinterpret_cast<const sockaddr*>(&client.address),
            client.connection ? Transport::tcp : Transport::udp, received_ns_,
            shared_->rate_limiter.get(), shared_->access_list, counters_, out);
  if (!admission.admitted) return admission.outcome;
  const Query& query = admission.query;
  try {
    return answer_allowed(packet, query, client, out);
  } catch (const std::exception& error) {
    note_internal_error("answering a query", error);
    return {render_failure(query, kRcodeServFail, 0, {},
                           reply_limit(query, client.connection != nullptr), out),
            ReplyFacts{query.qname, query.qtype}};
  }
}

Outcome Worker::answer_allowed(std::span<const uint8_t> packet, const Query& query,
                               const ReplyTarget& client, std::span<uint8_t> out) {
  // Blocklist policy (DESIGN.md "Data flow"): a blocked name is answered locally, before the
  // cache is asked and never upstream.
  size_t max_size = reply_limit(query, client.connection != nullptr);
  ReplyFacts facts{query.qname, query.qtype};
  if (auto blocked = policy_stage_.check_name(policy_, query)) {
    return PolicyStage::render(*blocked, query, facts, max_size, out);
  }
  std::optional<AnswerCache::Hit> hit = shared_->cache.lookup(query, monotonic_seconds());
  const CacheUse use = use_cache(hit, *in_flight_, query);
  if (use.prefetch) wait_for_upstream(packet, query, nullptr);
  counters_.cache_lookup(use.answer);
  if (!use.answer) {
    wait_for_upstream(packet, query, &client);
    return {};
  }
  facts.cache_hit = facts.validated = true;
  facts.dnssec = hit->answer->status();
  if (auto blocked = policy_stage_.check_cname_chain(policy_, query, *hit->answer)) {
    return PolicyStage::render(*blocked, query, facts, max_size, out);
  }
  const size_t length = hit->answer->render(query, hit->age, max_size, out);
  return {use.stale ? mark_reply_stale(out, length, max_size) : length, facts};
}

// Queues `client` (nullptr: a prefetch) behind the resolution of `query`, starting one if no
// identical query is in flight.
void Worker::wait_for_upstream(std::span<const uint8_t> packet, const Query& query,
                               const ReplyTarget* client) {
  auto [pending, started] = in_flight_->join(packet, query, client, received_ns_);
  if (client && client->connection) ++client->connection->waiting;
  if (!started) return;

  size_t name_end;
  std::optional<DnsName> name = DnsName::from_wire(packet, 12, &name_end);
  // The callback may run inside resolve() (local zones) and free `pending`: touch it no more.
  const bool prefetch = client == nullptr;
  if (!name || !upstream_->resolve(name->to_text(), query.qtype, query.qclass, query.cd,
                                   prefetch, InFlight::deliver, pending)) {
    UpstreamReply failure;
    failure.rcode = kRcodeServFail;
    finish(pending, failure);
  }
}

void Worker::finish(InFlight::Entry* pending_raw, const UpstreamReply& reply) {
  // Out of the table first: a query arriving from here on starts a new resolution.
  std::unique_ptr<InFlight::Entry> pending = in_flight_->remove(pending_raw);
  const Query& key_query = pending->query;
  const Config& config = shared_->config;
  uint32_t now = monotonic_seconds();

  std::shared_ptr<const Answer> answer;
  uint16_t ede_code = 0;
  std::string_view ede_text;
  ReplyFacts facts;
  if (reply.rcode != 0) {
    ede_code = ede_code_for_failure(reply.rcode);
    counters_.upstream_error(UpstreamErrorReason::internal);
  } else if (reply.status == DnssecStatus::bogus) {
    ede_code = ede_code_for_bogus(reply.why_bogus);
    ede_text = reply.why_bogus;
    facts.validated = true;
    facts.dnssec = DnssecStatus::bogus;
    size_t name_end;
    if (std::optional<DnsName> name = DnsName::from_wire(pending->packet, 12, &name_end)) {
      counters_.record_bogus(name->to_text(), reply.why_bogus);
    }
  } else {
    answer = Answer::from_upstream(reply.packet, reply.status, key_query.do_bit,
                                   config.cache.max_ttl);
    if (answer && answer->rcode() != kRcodeServFail) {
      shared_->cache.insert(key_query, answer, now);
    } else {
      // libunbound answers SERVFAIL for timeouts and unreachable servers alike.
      counters_.upstream_error(UpstreamErrorReason::servfail);
    }
  }
  // RFC 8767: a failed refresh (never a bogus one) falls back to the expired answer.
  uint32_t age = 0;
  bool stale = false;
  bool failed = !answer || answer->rcode() == kRcodeServFail;
  if (failed && reply.status != DnssecStatus::bogus && config.cache.serve_stale) {
    if (std::optional<AnswerCache::Hit> hit = shared_->cache.lookup(key_query, now)) {
      answer = hit->answer;
      age = hit->age;
      stale = hit->stale;
    }
  }
  // A SERVFAIL is no answer: only data (or a proven absence) counts as a DNSSEC outcome.
  if (answer && answer->rcode() != kRcodeServFail) {
    facts.validated = true;
    facts.dnssec = answer->status();
  }
  reply_to_waiters(*pending, facts, answer.get(), age, stale, ede_code, ede_text);
  end_if_drained();
}

// Renders `answer` (or, if null, SERVFAIL with the EDE) for everyone waiting on `pending`.
void Worker::reply_to_waiters(InFlight::Entry& pending, ReplyFacts facts, const Answer* answer,
                              uint32_t age, bool stale, uint16_t ede_code,
                              std::string_view ede_text) {
  // CNAME cloaking, checked once: every waiter asked the same name and type.
  std::optional<PolicyStage::Blocked> blocked;
  if (answer && !pending.waiters.empty()) {
    PolicyLease lease(*this);
    try {
      blocked = policy_stage_.check_cname_chain(policy_, pending.query, *answer);
    } catch (const std::exception& error) {
      note_internal_error("checking a CNAME chain", error);
      facts = ReplyFacts{};
      answer = nullptr;  // SERVFAIL for everyone waiting
    }
    if (blocked) {
      facts.list = blocked->list;
      answer = blocked->answer.get();
      age = 0;
      stale = false;
    }
  }
  int64_t sent_ns = clock_ns(CLOCK_MONOTONIC);
  int64_t sent_wall_ns = accounting_.wall_clock_ns();
  for (const InFlight::Waiter& waiter : pending.waiters) {
    const Query& query = waiter.query;
    bool tcp = waiter.target.connection != nullptr;
    size_t max_size = reply_limit(query, tcp);
    std::span<uint8_t> out(reply_.data() + 2, kTcpMaxMessage);
    size_t length;
    if (blocked && !answer) {
      length = 0;  // RPZ drop: no reply at all
    } else if (answer) {
      length = answer->render(query, age, max_size, out);
      if (stale) length = mark_reply_stale(out, length, max_size);
    } else {
      length = render_failure(query, kRcodeServFail, ede_code, ede_text, max_size, out);
    }
    if (tcp) {
      --waiter.target.connection->waiting;
      waiter.target.connection->idle_since_ns = sent_ns;
    }
    if (length > 0 || (blocked && !answer)) {
      if (length > 0) send(waiter.target, out.first(length));
      facts.qname = query.qname;
      facts.qtype = query.qtype;
      accounting_.count(facts, reinterpret_cast<const sockaddr*>(&waiter.target.address),
                        out.first(length), waiter.received_ns, sent_ns, sent_wall_ns);
    }
    if (tcp) update_tcp(waiter.target.connection.get());
  }
  pending.waiters.clear();
}

// The clients' response timer (upstream.timeout): the resolution is taking too long. With an
// expired answer in the cache they get it now (RFC 8767), and so do later askers; without one
// they get SERVFAIL. The resolution goes on either way and its answer is cached.
void Worker::answer_late(InFlight::Entry& pending) {
  ReplyFacts facts;
  if (std::optional<AnswerCache::Hit> hit =
          shared_->cache.lookup(pending.query, monotonic_seconds())) {
    pending.serving_stale = true;
    facts.validated = true;
    facts.dnssec = hit->answer->status();
    reply_to_waiters(pending, facts, hit->answer.get(), hit->age, hit->stale, 0, {});
  } else {
    counters_.upstream_error(UpstreamErrorReason::timeout);
    reply_to_waiters(pending, facts, nullptr, 0, false, kEdeNoReachableAuthority,
                     "no answer from upstream in time (upstream.timeout)");
  }
  end_if_drained();
}

size_t Worker::render_failure(const Query& query, uint16_t rcode, uint16_t ede_code,
                              std::string_view ede_text, size_t max_size,
                              std::span<uint8_t> out) {
  std::span<uint8_t> limited = out.first(std::min(max_size, out.size()));
  if (ede_code == 0) return write_error_reply(query, rcode, nullptr, limited);
  Ede ede{ede_code, ede_text.substr(0, kMaxEdeText)};
  if (size_t length = write_error_reply(query, rcode, &ede, limited)) return length;
  ede.text = {};  // the explanation does not fit this client's buffer; the code still does
  return write_error_reply(query, rcode, &ede, limited);
}

void Worker::send(const ReplyTarget& client, std::span<const uint8_t> reply) {
  if (TcpConnection* connection = client.connection.get()) {
    if (!connection->bev) return;
    uint8_t length[2] = {static_cast<uint8_t>(reply.size() >> 8),
                         static_cast<uint8_t>(reply.size())};
    evbuffer* output = bufferevent_get_output(connection->bev);
    evbuffer_add(output, length, 2);
    evbuffer_add(output, reply.data(), reply.size());
    return;
  }
  iovec vector{const_cast<uint8_t*>(reply.data()), reply.size()};
  msghdr message = {};
  message.msg_name = const_cast<sockaddr_storage*>(&client.address);
  message.msg_namelen = client.address_length;
  message.msg_iov = &vector;
  message.msg_iovlen = 1;
  if (client.control_length) {
    message.msg_control = const_cast<uint8_t*>(client.control);
    message.msg_controllen = client.control_length;
  }
  // A full socket buffer drops the reply as the network would; the client retries.
  (void)sendmsg(client.udp_fd, &message, MSG_DONTWAIT);
}

void Worker::on_udp_readable(int fd, short, void* worker) {
  auto* w = static_cast<Worker*>(worker);
  w->guarded("reading UDP queries", [&] { w->read_udp(fd); });
}

void Worker::read_udp(int fd) {
  PolicyLease lease(*this);
  UdpBatch& b = *udp_batch_;
  ReplyTarget client;
  client.udp_fd = fd;
  for (int round = 0; round < kUdpBatchesPerWakeup; ++round) {
    for (int i = 0; i < kUdpBatch; ++i) {
      b.vectors[i] = {b.queries[i], kUdpMaxQuery};
      msghdr& m = b.messages[i].msg_hdr;
      m = {};
      m.msg_name = &b.addresses[i];
      m.msg_namelen = sizeof b.addresses[i];
      m.msg_iov = &b.vectors[i];
      m.msg_iovlen = 1;
      m.msg_control = b.controls[i];
      m.msg_controllen = kControlSize;
    }
    int received = recvmmsg(fd, b.messages, kUdpBatch, MSG_DONTWAIT, nullptr);
    if (received <= 0) return;
    received_ns_ = clock_ns(CLOCK_MONOTONIC);
    int replies = 0;
    for (int i = 0; i < received; ++i) {
      msghdr& m = b.messages[i].msg_hdr;
      if (m.msg_flags & MSG_TRUNC) continue;
      memcpy(&client.address, &b.addresses[i], m.msg_namelen);
      client.address_length = m.msg_namelen;
      client.control_length = reply_control(m, client.control);
      Outcome outcome = answer({b.queries[i], b.messages[i].msg_len}, client,
                               {b.reply_packets[replies], kServerUdpSize});
      const size_t length = outcome.length;
      if (length == 0) {
        if (outcome.counted()) {  // an RPZ drop: its silence is "sent" now
          accounting_.count(outcome.facts, reinterpret_cast<const sockaddr*>(&client.address),
                            {}, received_ns_, clock_ns(CLOCK_MONOTONIC),
                            accounting_.wall_clock_ns());
        }
        continue;
      }
      b.facts[replies] = outcome.facts;
      b.query_of[replies] = i;
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
        accounting_.count(b.facts[r],
                          reinterpret_cast<const sockaddr*>(&b.addresses[b.query_of[r]]),
                          {b.reply_packets[r], b.reply_vectors[r].iov_len}, received_ns_,
                          sent_ns, sent_wall_ns);
      }
    }
    if (received < kUdpBatch) return;
  }
}

void Worker::on_tcp_accept(evconnlistener*, int fd, sockaddr* address, int length,
                           void* worker) {
  auto* w = static_cast<Worker*>(worker);
  w->guarded("accepting a TCP connection", [&] { w->accept_tcp(fd, address, length); });
}

void Worker::accept_tcp(int fd, const sockaddr* address, int length) {
  const ServerConfig& server = shared_->config.server;
  if (draining_) {
    close(fd);
    return;
  }
  // Outside the ACL a connection gets nothing, not even a slot it could hold for the timeouts
  // and so shut TCP for everyone.
  if (!shared_->access_list.allows(address)) {
    counters_.tcp_dropped(TcpDropReason::acl);
    close(fd);
    return;
  }
  const TcpRefusal refusal = shared_->tcp_slots->acquire(
      address, server.max_tcp_connections, server.max_tcp_connections_per_client);
  if (refusal != TcpRefusal::none) {
    counters_.tcp_dropped(refusal == TcpRefusal::total ? TcpDropReason::connection_limit
                                                       : TcpDropReason::per_client_limit);
    close(fd);
    return;
  }
  bufferevent* bev = bufferevent_socket_new(base_, fd, BEV_OPT_CLOSE_ON_FREE);
  if (!bev) {
    close(fd);
    shared_->tcp_slots->release(address);
    return;
  }
  auto connection = std::make_shared<TcpConnection>();
  connection->worker = this;
  connection->bev = bev;
  memcpy(&connection->client.address, address, length);
  connection->client.address_length = length;
  connection->deadline = evtimer_new(base_, on_tcp_deadline, connection.get());
  connection->resume = event_new(base_, -1, 0, on_tcp_resume, connection.get());
  connection->idle_since_ns = clock_ns(CLOCK_MONOTONIC);
  connections_.emplace(connection.get(), connection);
  counters_.tcp_connection_opened();
  // At most one whole message waits in the input: the rest stays in the socket buffer.
  bufferevent_setwatermark(bev, EV_READ, 0, 2 + kTcpMaxMessage);
  bufferevent_setcb(bev, on_tcp_read, on_tcp_write, on_tcp_event, connection.get());
  bufferevent_enable(bev, EV_READ | EV_WRITE);
  update_tcp(connection.get());
}

void Worker::on_tcp_read(bufferevent*, void* connection) {
  auto* c = static_cast<TcpConnection*>(connection);
  c->worker->guarded("reading TCP queries", [&] { c->worker->read_tcp(c); });
}

void Worker::on_tcp_resume(int, short, void* connection) {
  auto* c = static_cast<TcpConnection*>(connection);
  if (c->bev) c->worker->guarded("reading TCP queries", [&] { c->worker->read_tcp(c); });
}

namespace {

// Over either bound, no more queries are read from the connection until replies are out.
bool over_bounds(unsigned waiting, size_t unwritten) {
  return waiting >= kTcpMaxWaiting || unwritten >= kTcpMaxUnwritten;
}

// The length of the whole framed message at the start of `input`, or nullopt if it has not
// all arrived yet.
std::optional<size_t> whole_message(evbuffer* input) {
  uint8_t prefix[2];
  if (evbuffer_copyout(input, prefix, 2) < 2) return std::nullopt;
  const size_t length = size_t{prefix[0]} << 8 | prefix[1];
  if (evbuffer_get_length(input) < 2 + length) return std::nullopt;
  return length;
}

}  // namespace

void Worker::read_tcp(TcpConnection* connection) {
  PolicyLease lease(*this);
  evbuffer* input = bufferevent_get_input(connection->bev);
  ReplyTarget client = connection->client;
  client.connection = connections_.at(connection);
  evbuffer* output = bufferevent_get_output(connection->bev);
  while (connection->bev && !connection->paused &&
         !over_bounds(connection->waiting, evbuffer_get_length(output))) {
    std::optional<size_t> length = whole_message(input);
    if (!length) break;
    evbuffer_drain(input, 2);
    evbuffer_remove(input, tcp_query_.data(), *length);
    received_ns_ = clock_ns(CLOCK_MONOTONIC);
    connection->idle_since_ns = received_ns_;
    connection->query_since_ns = 0;
    Outcome outcome = answer({tcp_query_.data(), *length}, client,
                             {reply_.data() + 2, kTcpMaxMessage});
    if (outcome.counted()) {
      std::span<const uint8_t> reply(reply_.data() + 2, outcome.length);
      if (!reply.empty()) send(client, reply);
      accounting_.count(outcome.facts, reinterpret_cast<const sockaddr*>(&client.address), reply,
                        received_ns_, clock_ns(CLOCK_MONOTONIC), accounting_.wall_clock_ns());
    }
  }
  if (!connection->bev) return;
  // The query deadline runs from the first byte of a query we are ready to read.
  const bool partial = !connection->paused &&
                       !over_bounds(connection->waiting, evbuffer_get_length(output)) &&
                       evbuffer_get_length(input) > 0;
  if (!partial) {
    connection->query_since_ns = 0;
  } else if (connection->query_since_ns == 0) {
    connection->query_since_ns = clock_ns(CLOCK_MONOTONIC);
  }
  update_tcp(connection);
}

void Worker::on_tcp_write(bufferevent*, void* connection) {
  auto* c = static_cast<TcpConnection*>(connection);
  c->worker->guarded("writing TCP replies", [&] { c->worker->update_tcp(c); });
}

void Worker::on_tcp_event(bufferevent* bev, short events, void* connection) {
  auto* c = static_cast<TcpConnection*>(connection);
  Worker* worker = c->worker;
  worker->guarded("closing a TCP connection", [&] {
    if (events & BEV_EVENT_EOF) {
      // A client may half-close after its last query and still wait for the answers.
      c->input_closed = true;
      bufferevent_disable(bev, EV_READ);
      worker->update_tcp(c);
    } else {
      worker->close_tcp(c);
    }
  });
}

Worker::TcpDeadline Worker::next_deadline(const TcpConnection& connection) const {
  const ServerConfig& server = shared_->config.server;
  auto ns = [](std::chrono::seconds duration) { return int64_t{duration.count()} * 1000000000; };
  TcpDeadline next{INT64_MAX, TcpDropReason::idle_timeout};
  auto consider = [&next](int64_t at_ns, TcpDropReason reason) {
    if (at_ns < next.at_ns) next = {at_ns, reason};
  };
  if (connection.unwritten_since_ns) {
    consider(connection.unwritten_since_ns + ns(server.tcp_write_timeout),
             TcpDropReason::write_timeout);
  }
  if (connection.query_since_ns) {
    consider(connection.query_since_ns + ns(server.tcp_query_timeout),
             TcpDropReason::query_timeout);
  }
  // Idle only counts while no answer is owed or unwritten.
  if (connection.waiting == 0 && connection.unwritten_since_ns == 0) {
    consider(connection.idle_since_ns + ns(server.tcp_idle_timeout), TcpDropReason::idle_timeout);
  }
  return next;
}

void Worker::update_tcp(TcpConnection* connection) {
  if (!connection->bev) return;
  const int64_t now = clock_ns(CLOCK_MONOTONIC);
  const size_t unwritten = evbuffer_get_length(bufferevent_get_output(connection->bev));
  if (unwritten == 0 && connection->unwritten_since_ns) {
    connection->unwritten_since_ns = 0;
    connection->idle_since_ns = now;
  } else if (unwritten > 0 && connection->unwritten_since_ns == 0) {
    connection->unwritten_since_ns = now;
  }
  // Done: the client half-closed (or we drain), every answer given and written, and no whole
  // query left unread in the input.
  if ((connection->input_closed || draining_) && connection->waiting == 0 && unwritten == 0 &&
      !whole_message(bufferevent_get_input(connection->bev))) {
    close_tcp(connection);
    return;
  }
  const bool over = over_bounds(connection->waiting, unwritten);
  if (over && !connection->paused) {
    connection->paused = true;
    connection->query_since_ns = 0;  // the input waits for us now, not for the client
    bufferevent_disable(connection->bev, EV_READ);
  } else if (!over && connection->paused) {
    connection->paused = false;
    if (!connection->input_closed && !draining_) bufferevent_enable(connection->bev, EV_READ);
    // Queries already in the input raise no read event: read them in a callback of their own,
    // not inside whatever gave back room (an upstream answer, a write).
    event_active(connection->resume, EV_TIMEOUT, 0);
  }
  const TcpDeadline next = next_deadline(*connection);
  if (next.at_ns == INT64_MAX) {
    evtimer_del(connection->deadline);
    return;
  }
  const int64_t in_ns = std::max<int64_t>(0, next.at_ns - now);
  const timeval in = {static_cast<time_t>(in_ns / 1000000000),
                      static_cast<suseconds_t>(in_ns % 1000000000 / 1000)};
  evtimer_add(connection->deadline, &in);
}

void Worker::on_tcp_deadline(int, short, void* connection) {
  auto* c = static_cast<TcpConnection*>(connection);
  Worker* worker = c->worker;
  worker->guarded("timing out a TCP connection", [&] {
    const TcpDeadline next = worker->next_deadline(*c);
    if (next.at_ns > clock_ns(CLOCK_MONOTONIC)) {
      worker->update_tcp(c);  // moved on since the timer was set
      return;
    }
    worker->counters_.tcp_dropped(next.reason);
    worker->close_tcp(c);
  });
}

void Worker::close_tcp(TcpConnection* connection) {
  bufferevent_free(connection->bev);
  connection->bev = nullptr;
  event_free(connection->deadline);
  connection->deadline = nullptr;
  event_free(connection->resume);
  connection->resume = nullptr;
  shared_->tcp_slots->release(reinterpret_cast<const sockaddr*>(&connection->client.address));
  counters_.tcp_connection_closed();
  connections_.erase(connection);  // may free it; waiters keep theirs alive
}

void Worker::on_stop(int, short, void* worker) { static_cast<Worker*>(worker)->begin_drain(); }

void Worker::begin_drain() {
  draining_ = true;
  for (event* e : udp_events_) event_del(e);
  for (evconnlistener* listener : tcp_listeners_) evconnlistener_disable(listener);
  std::vector<TcpConnection*> open;
  for (auto& [raw, connection] : connections_) open.push_back(raw);
  for (TcpConnection* connection : open) update_tcp(connection);
  evtimer_add(drain_deadline_, &kDrainTime);
  end_if_drained();
}

void Worker::end_if_drained() {
  if (!draining_) return;
  if (!in_flight_->answers_owed()) event_base_loopexit(base_, &kFlushTime);
}

void Worker::on_drain_deadline(int, short, void* worker) {
  event_base_loopexit(static_cast<Worker*>(worker)->base_, nullptr);
}

void Worker::on_heartbeat(int, short, void* worker) {
  static_cast<Worker*>(worker)->heartbeat_.store(monotonic_seconds(), std::memory_order_relaxed);
}

Worker::PolicyLease::PolicyLease(Worker& worker)
    : worker_(worker), outer_(std::move(worker.policy_)) {
  worker_.policy_ = worker_.shared_->policy.current();
}

Worker::PolicyLease::~PolicyLease() { worker_.policy_ = std::move(outer_); }

}  // namespace dnsvagt
