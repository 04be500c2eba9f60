// TcpTransport: one worker's TCP listeners and client connections (RFC 7766), plain, DNS over
// TLS (RFC 7858) or DNS over HTTPS (RFC 8484, through a DohSession): the ACL and connection
// limits at accept, the PROXY header of a connection from a load balancer, queries read from
// each connection within its bounds, and the idle, query and write deadlines. Hands each query
// to the query engine.
#pragma once

#include <event2/event.h>

#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

#include "metrics/worker_counters.h"
#include "resolver/internal_errors.h"
#include "resolver/query_engine.h"
#include "resolver/reply_accounting.h"
#include "resolver/worker_shared.h"

struct bufferevent;
struct evbuffer;
struct evconnlistener;

namespace dnsvagt {

class TcpTransport {
 public:
  // Accepts on `sockets` (owned by the Server: a reload's workers take them over) on `base`;
  // `transport` dot or doh: each connection is TLS with shared.dot_context or doh_context.
  TcpTransport(event_base* base, Transport transport, const std::vector<int>& sockets,
               const WorkerShared& shared, QueryEngine& engine, WorkerCounters& counters,
               ReplyAccounting& accounting, InternalErrors& errors);
  ~TcpTransport();  // closes every connection; replies still owed go nowhere
  TcpTransport(const TcpTransport&) = delete;
  TcpTransport& operator=(const TcpTransport&) = delete;

  // Accepts no more connections; those open are served as before.
  void stop_accepting();
  // Accepts no more connections, reads no more queries, and closes each connection once the
  // answers it is owed are written.
  void drain();
  size_t open_connections() const { return connections_.size(); }

 private:
  struct Connection;
  struct Deadline {
    int64_t at_ns;  // monotonic; INT64_MAX: none
    TcpDropReason reason;
  };

  void accept(int fd, const sockaddr* address, int length);
  // DNS over TLS or HTTPS: a TLS bufferevent on `fd`, or over `underlying` (a connection whose
  // PROXY header came in the clear before the handshake); null if none can be made.
  bufferevent* tls_bufferevent(int fd, bufferevent* underlying);
  void attach(Connection* connection, bufferevent* bev);
  void read(Connection* connection);
  // The PROXY header at the start of a connection, or its absence: false while more bytes are
  // needed, when the connection was closed for it, and when its TLS handshake begins now.
  bool read_start(Connection* connection);
  void read_queries(Connection* connection);
  // DNS over HTTPS: what the connection's input holds, to its HTTP session.
  void read_requests(Connection* connection);
  // Answers one query of `client` (its connection's target) at once, or has it wait.
  void answer(Connection* connection, ReplyTarget& client, std::span<const uint8_t> query);
  // The handshake is done: DNS over HTTPS starts the HTTP version ALPN chose.
  void handshaken(Connection* connection);
  // After a reply was queued or written, or a query's answer arrived: closes a connection
  // that is done, reads on once it is back under its bounds, and sets its next deadline.
  void update(Connection* connection);
  Deadline next_deadline(const Connection& connection) const;
  void close(Connection* connection);

  static void on_accept(evconnlistener* listener, int fd, sockaddr* address, int length,
                        void* transport);
  static void on_read(bufferevent* bev, void* connection);
  static void on_write(bufferevent* bev, void* connection);
  static void on_event(bufferevent* bev, short events, void* connection);
  static void on_deadline(int, short, void* connection);
  static void on_resume(int, short, void* connection);

  event_base* base_;
  const Transport transport_;
  const WorkerShared& shared_;
  QueryEngine& engine_;
  WorkerCounters& counters_;
  ReplyAccounting& accounting_;
  InternalErrors& errors_;
  bool draining_ = false;
  std::vector<evconnlistener*> listeners_;
  std::unordered_map<Connection*, std::shared_ptr<Connection>> connections_;
  bool accepting_ = true;
  std::vector<uint8_t> query_;  // one framed query, copied out of the input buffer
  std::vector<uint8_t> reply_;
};

}  // namespace dnsvagt
