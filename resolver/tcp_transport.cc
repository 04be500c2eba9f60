#include "resolver/tcp_transport.h"

#include <openssl/ssl.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <optional>

#include "resolver/doh_session.h"
#include "resolver/tls_context.h"

namespace dnsvagt {
namespace {

// Per connection, while over either bound no more queries are read from it: a client that
// pipelines queries for large answers and never reads cannot make us hold more.
constexpr unsigned kMaxWaiting = 64;          // queries waiting for upstream
constexpr size_t kMaxUnwritten = 128 * 1024;  // reply bytes not yet written

bool over_bounds(unsigned waiting, size_t unwritten) {
  return waiting >= kMaxWaiting || unwritten >= kMaxUnwritten;
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

// A client's connection: its bufferevent, the replies it is owed and the state its bounds and
// deadlines are judged by. Targets waiting for upstream hold it, so their answers find it even
// after a close. DNS over HTTPS: the peer of its HTTP session.
struct TcpTransport::Connection : StreamConnection, DohSession::Peer {
  void send(uint32_t request, std::span<const uint8_t> reply) override {
    if (!bev) return;
    if (http) {
      http->reply(request, reply);
      return;
    }
    const uint8_t length[2] = {static_cast<uint8_t>(reply.size() >> 8),
                               static_cast<uint8_t>(reply.size())};
    evbuffer* output = bufferevent_get_output(bev);
    evbuffer_add(output, length, 2);
    evbuffer_add(output, reply.data(), reply.size());
  }
  // No reply for `request` (an RPZ drop): silence on DNS over TCP and TLS.
  void drop(uint32_t request) {
    if (bev && http) http->drop(request);
  }
  void query_waiting() override { ++waiting; }
  void done(uint32_t request) override {
    --waiting;
    if (!bev) return;
    drop(request);  // nothing if it was answered
    idle_since_ns = clock_ns(CLOCK_MONOTONIC);
    transport->update(this);
  }

  void write(std::span<const uint8_t> bytes) override {
    if (bev) evbuffer_add(bufferevent_get_output(bev), bytes.data(), bytes.size());
  }
  void query(uint32_t request, std::span<const uint8_t> message) override {
    ReplyTarget target = client;
    target.connection = transport->connections_.at(this);
    target.request = request;
    transport->errors_.guarded("answering a DNS over HTTPS query",
                               [&] { transport->answer(this, target, message); });
  }
  void refused(int status) override { transport->counters_.doh_error(status); }

  TcpTransport* transport;
  bufferevent* bev;  // null once closed; replies still in flight then go nowhere
  ReplyTarget client;
  bool from_proxy = false;    // in server.proxy_protocol_from: a PROXY header comes first
  bool start_read = false;    // the header, or that there is none, has been read
  bool handshaken = false;    // DNS over TLS or HTTPS: the handshake is done
  std::unique_ptr<DohSession> http;  // DNS over HTTPS, once handshaken
  bool receiving = false;     // inside http->receive(): not to be closed under it
  bool tls_after_start = false;  // DNS over TLS from a proxy: after the header, the handshake
  event* deadline = nullptr;  // fires at next_deadline()
  event* resume = nullptr;    // reads the queries left in the input once under the bounds again
  unsigned waiting = 0;       // queries whose answers are still to come
  bool input_closed = false;  // the client half-closed; close after the last answer
  bool paused = false;        // over a bound: not reading
  int64_t idle_since_ns = 0;    // monotonic: opened, last query read or last answer given
  int64_t query_since_ns = 0;   // first bytes of a query not yet whole arrived; 0: none
  int64_t unwritten_since_ns = 0;  // replies waiting to be written since; 0: none
};

TcpTransport::TcpTransport(event_base* base, Transport transport,
                           const std::vector<int>& sockets, const WorkerShared& shared,
                           QueryEngine& engine, WorkerCounters& counters,
                           ReplyAccounting& accounting, InternalErrors& errors)
    : base_(base),
      transport_(transport),
      shared_(shared),
      engine_(engine),
      counters_(counters),
      accounting_(accounting),
      errors_(errors),
      query_(kMaxReply),
      reply_(kMaxReply) {
  for (int fd : sockets) {
    // No LEV_OPT_CLOSE_ON_FREE: the Server owns the socket.
    listeners_.push_back(evconnlistener_new(base_, on_accept, this, 0, -1, fd));
  }
}

TcpTransport::~TcpTransport() {
  while (!connections_.empty()) close(connections_.begin()->first);
  for (evconnlistener* listener : listeners_) evconnlistener_free(listener);
}

void TcpTransport::stop_accepting() {
  accepting_ = false;
  for (evconnlistener* listener : listeners_) evconnlistener_disable(listener);
}

void TcpTransport::drain() {
  stop_accepting();
  draining_ = true;
  std::vector<Connection*> open;
  for (auto& [raw, connection] : connections_) open.push_back(raw);
  for (Connection* connection : open) {
    if (connection->http) connection->http->shut_down();
    update(connection);
  }
}

void TcpTransport::on_accept(evconnlistener*, int fd, sockaddr* address, int length,
                             void* transport) {
  auto* t = static_cast<TcpTransport*>(transport);
  t->errors_.guarded("accepting a TCP connection", [&] { t->accept(fd, address, length); });
}

void TcpTransport::accept(int fd, const sockaddr* address, int length) {
  const ServerConfig& server = shared_.config.server;
  if (!accepting_) {
    ::close(fd);
    return;
  }
  // Outside the ACL a connection gets nothing, not even a slot it could hold for the timeouts
  // and so shut TCP for everyone. A load balancer's clients are judged once its header names
  // them; it carries many, so the per-client limit is not its.
  const bool from_proxy = shared_.proxies.allows(address);
  if (!from_proxy && !shared_.access_list.allows(address)) {
    counters_.tcp_dropped(TcpDropReason::acl);
    ::close(fd);
    return;
  }
  const TcpRefusal refusal = shared_.tcp_slots->acquire(
      address, server.max_tcp_connections,
      from_proxy ? server.max_tcp_connections : server.max_tcp_connections_per_client);
  if (refusal != TcpRefusal::none) {
    counters_.tcp_dropped(refusal == TcpRefusal::total ? TcpDropReason::connection_limit
                                                       : TcpDropReason::per_client_limit);
    ::close(fd);
    return;
  }
  // A load balancer's PROXY header comes in the clear, before the TLS handshake.
  const bool tls = transport_ != Transport::tcp;
  const bool tls_now = tls && !from_proxy;
  bufferevent* bev = tls_now ? tls_bufferevent(fd, nullptr)
                             : bufferevent_socket_new(base_, fd, BEV_OPT_CLOSE_ON_FREE);
  if (!bev) {
    ::close(fd);
    shared_.tcp_slots->release(address);
    return;
  }
  auto connection = std::make_shared<Connection>();
  connection->transport = this;
  connection->tls_after_start = tls && !tls_now;
  connection->client.transport = transport_;
  memcpy(&connection->client.address, address, length);
  connection->client.address_length = length;
  connection->from_proxy = from_proxy;
  connection->deadline = evtimer_new(base_, on_deadline, connection.get());
  connection->resume = event_new(base_, -1, 0, on_resume, connection.get());
  connection->idle_since_ns = clock_ns(CLOCK_MONOTONIC);
  connections_.emplace(connection.get(), connection);
  counters_.tcp_connection_opened();
  attach(connection.get(), bev);
  update(connection.get());
}

bufferevent* TcpTransport::tls_bufferevent(int fd, bufferevent* underlying) {
  SSL* ssl = SSL_new(transport_ == Transport::doh ? shared_.doh_context.get()
                                                  : shared_.dot_context.get());
  if (!ssl) return nullptr;
  // The SSL (and `underlying`) are freed with the bufferevent (BEV_OPT_CLOSE_ON_FREE), or by
  // libevent if it cannot be made.
  bufferevent* bev =
      underlying ? bufferevent_openssl_filter_new(base_, underlying, ssl,
                                                  BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE)
                 : bufferevent_openssl_socket_new(base_, fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
                                                  BEV_OPT_CLOSE_ON_FREE);
  // A client that closes without a TLS close_notify has still closed: EOF, not an error.
  if (bev) bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
  return bev;
}

void TcpTransport::attach(Connection* connection, bufferevent* bev) {
  connection->bev = bev;
  // At most one whole message waits in the input: the rest stays in the socket buffer.
  bufferevent_setwatermark(bev, EV_READ, 0, 2 + kMaxReply);
  bufferevent_setcb(bev, on_read, on_write, on_event, connection);
  bufferevent_enable(bev, EV_READ | EV_WRITE);
}

void TcpTransport::on_read(bufferevent*, void* connection) {
  auto* c = static_cast<Connection*>(connection);
  c->transport->errors_.guarded("reading TCP queries", [&] { c->transport->read(c); });
}

void TcpTransport::on_resume(int, short, void* connection) {
  auto* c = static_cast<Connection*>(connection);
  if (c->bev) c->transport->errors_.guarded("reading TCP queries", [&] { c->transport->read(c); });
}

void TcpTransport::read(Connection* connection) {
  // read_start may close the connection (a refused PROXY header, a client outside the ACL),
  // which frees it unless this keeps it until the end.
  const std::shared_ptr<Connection> keep = connections_.at(connection);
  if (connection->start_read || read_start(connection)) read_queries(connection);
  if (!connection->bev) return;
  evbuffer* input = bufferevent_get_input(connection->bev);
  // The query deadline runs from the first byte of a query (or of a PROXY header) we are
  // ready to read.
  // (An HTTP/1.1 request that waits behind an answer being owed is ours to wait for.)
  const bool partial =
      !connection->paused && (!connection->http || connection->http->reading()) &&
      !over_bounds(connection->waiting,
                   evbuffer_get_length(bufferevent_get_output(connection->bev))) &&
      evbuffer_get_length(input) > 0;
  if (!partial) {
    connection->query_since_ns = 0;
  } else if (connection->query_since_ns == 0) {
    connection->query_since_ns = clock_ns(CLOCK_MONOTONIC);
  }
  update(connection);
}

bool TcpTransport::read_start(Connection* connection) {
  evbuffer* input = bufferevent_get_input(connection->bev);
  uint8_t start[kMaxProxyHeader];
  const ev_ssize_t copied = evbuffer_copyout(input, start, sizeof start);
  const ProxyStart judged = judge_proxy_start(
      {start, static_cast<size_t>(std::max<ev_ssize_t>(copied, 0))}, connection->from_proxy,
      false);
  switch (judged.kind) {
    case ProxyStart::Kind::incomplete:
      return false;
    case ProxyStart::Kind::refused:
      counters_.proxy_refused(transport_, judged.refusal);
      close(connection);
      return false;
    case ProxyStart::Kind::header:
      evbuffer_drain(input, judged.header.length);
      connection->client.take_client_from(judged.header);
      if (!shared_.access_list.allows(connection->client.client())) {
        counters_.tcp_dropped(TcpDropReason::acl);
        close(connection);
        return false;
      }
      break;
    case ProxyStart::Kind::no_header:
      break;
  }
  connection->start_read = true;
  if (!connection->tls_after_start) return true;
  bufferevent* tls = tls_bufferevent(-1, connection->bev);
  if (!tls) {
    close(connection);
    return false;
  }
  connection->tls_after_start = false;
  attach(connection, tls);
  return false;  // the client's queries come once the handshake is done
}

void TcpTransport::read_queries(Connection* connection) {
  if (transport_ == Transport::doh) {
    read_requests(connection);
    return;
  }
  QueryEngine::PolicyLease lease(engine_);
  evbuffer* input = bufferevent_get_input(connection->bev);
  ReplyTarget client = connection->client;
  client.connection = connections_.at(connection);
  evbuffer* output = bufferevent_get_output(connection->bev);
  while (connection->bev && !connection->paused &&
         !over_bounds(connection->waiting, evbuffer_get_length(output))) {
    std::optional<size_t> length = whole_message(input);
    if (!length) break;
    evbuffer_drain(input, 2);
    evbuffer_remove(input, query_.data(), *length);
    answer(connection, client, {query_.data(), *length});
  }
}

void TcpTransport::read_requests(Connection* connection) {
  // Before the handshake is done no bytes are the client's requests.
  if (!connection->http || !connection->http->reading() || connection->paused) return;
  QueryEngine::PolicyLease lease(engine_);
  evbuffer* input = bufferevent_get_input(connection->bev);
  const size_t length = evbuffer_get_length(input);
  if (length == 0) return;
  const uint8_t* bytes = evbuffer_pullup(input, -1);
  connection->receiving = true;
  const size_t taken = connection->http->receive({bytes, length});
  connection->receiving = false;
  if (connection->bev) evbuffer_drain(input, taken);
}

void TcpTransport::answer(Connection* connection, ReplyTarget& client,
                          std::span<const uint8_t> query) {
  const int64_t received_ns = clock_ns(CLOCK_MONOTONIC);
  connection->idle_since_ns = received_ns;
  connection->query_since_ns = 0;
  const Outcome outcome = engine_.answer(Request{query, client, received_ns}, reply_);
  if (!outcome.counted()) return;  // it waits for upstream
  std::span<const uint8_t> reply(reply_.data(), outcome.length);
  if (reply.empty()) {
    connection->drop(client.request);
  } else {
    connection->send(client.request, reply);
  }
  accounting_.count(outcome.facts, client.client(), transport_, reply, received_ns,
                    clock_ns(CLOCK_MONOTONIC), accounting_.wall_clock_ns());
}

void TcpTransport::on_write(bufferevent*, void* connection) {
  auto* c = static_cast<Connection*>(connection);
  c->transport->errors_.guarded("writing TCP replies", [&] { c->transport->update(c); });
}

void TcpTransport::on_event(bufferevent* bev, short events, void* connection) {
  auto* c = static_cast<Connection*>(connection);
  TcpTransport* transport = c->transport;
  transport->errors_.guarded("closing a TCP connection", [&] {
    if (events & BEV_EVENT_CONNECTED) {  // a TLS handshake done: queries come next
      transport->handshaken(c);
      return;
    }
    if (!c->handshaken && transport->transport_ != Transport::tcp) {
      transport->counters_.tcp_dropped(TcpDropReason::tls_handshake);
      transport->close(c);
    } else if (events & BEV_EVENT_EOF) {
      // A client may half-close after its last query and still wait for the answers.
      c->input_closed = true;
      bufferevent_disable(bev, EV_READ);
      transport->update(c);
    } else {
      transport->close(c);
    }
  });
}

void TcpTransport::handshaken(Connection* connection) {
  connection->handshaken = true;
  const SSL* ssl = bufferevent_openssl_get_ssl(connection->bev);
  if (shared_.client_groups.has_subjects()) {
    connection->client.certificate_group =
        shared_.client_groups.group_of_subject(peer_certificate_subject(ssl));
  }
  if (transport_ != Transport::doh) return;
  const bool http2 = alpn_chose_http2(ssl);
  connection->http =
      DohSession::make(http2 ? DohSession::Protocol::http2 : DohSession::Protocol::http1,
                       shared_.config.server.tls.doh_path, *connection);
  update(connection);
}

TcpTransport::Deadline TcpTransport::next_deadline(const Connection& connection) const {
  const ServerConfig& server = shared_.config.server;
  auto ns = [](std::chrono::seconds duration) { return int64_t{duration.count()} * 1000000000; };
  Deadline next{INT64_MAX, TcpDropReason::idle_timeout};
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

void TcpTransport::update(Connection* connection) {
  // read() updates it once its HTTP session has taken the input.
  if (!connection->bev || connection->receiving) return;
  const int64_t now = clock_ns(CLOCK_MONOTONIC);
  DohSession* http = connection->http.get();
  const size_t unwritten = evbuffer_get_length(bufferevent_get_output(connection->bev)) +
                           (http ? http->unsent() : 0);
  if (unwritten == 0 && connection->unwritten_since_ns) {
    connection->unwritten_since_ns = 0;
    connection->idle_since_ns = now;
  } else if (unwritten > 0 && connection->unwritten_since_ns == 0) {
    connection->unwritten_since_ns = now;
  }
  // Done: the client half-closed (or we drain, or its HTTP session ended), every answer given
  // and written, and no whole query left unread in the input.
  evbuffer* input = bufferevent_get_input(connection->bev);
  if ((connection->input_closed || draining_ || (http && http->finished())) &&
      connection->waiting == 0 && unwritten == 0 && (http || !whole_message(input))) {
    close(connection);
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
  } else if (!over && http && http->reading() && evbuffer_get_length(input) > 0) {
    event_active(connection->resume, EV_TIMEOUT, 0);  // HTTP/1.1 requests behind an answer
  }
  const Deadline next = next_deadline(*connection);
  if (next.at_ns == INT64_MAX) {
    evtimer_del(connection->deadline);
    return;
  }
  const int64_t in_ns = std::max<int64_t>(0, next.at_ns - now);
  const timeval in = {static_cast<time_t>(in_ns / 1000000000),
                      static_cast<suseconds_t>(in_ns % 1000000000 / 1000)};
  evtimer_add(connection->deadline, &in);
}

void TcpTransport::on_deadline(int, short, void* connection) {
  auto* c = static_cast<Connection*>(connection);
  TcpTransport* transport = c->transport;
  transport->errors_.guarded("timing out a TCP connection", [&] {
    const Deadline next = transport->next_deadline(*c);
    if (next.at_ns > clock_ns(CLOCK_MONOTONIC)) {
      transport->update(c);  // moved on since the timer was set
      return;
    }
    transport->counters_.tcp_dropped(next.reason);
    transport->close(c);
  });
}

void TcpTransport::close(Connection* connection) {
  bufferevent_free(connection->bev);
  connection->bev = nullptr;
  event_free(connection->deadline);
  connection->deadline = nullptr;
  event_free(connection->resume);
  connection->resume = nullptr;
  shared_.tcp_slots->release(connection->client.peer());
  counters_.tcp_connection_closed();
  connections_.erase(connection);  // may free it; waiters keep theirs alive
}

}  // namespace dnsvagt
