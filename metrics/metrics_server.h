// MetricsServer: the HTTP listener of metrics.listen, serving /metrics (Prometheus text format),
// /healthz, and the compliance summary at /compliance (HTML) and /compliance.json.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "metrics/metrics.h"

struct bufferevent;
struct event_base;
struct evhttp;
struct evhttp_request;
struct event;

namespace dnsvagt {

struct Endpoint;  // config/config.h

class MetricsServerError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// What clients can hold of the listener, so that they cannot starve scrapes or take the
// process's file descriptors. A request with a body is always refused.
struct MetricsServerLimits {
  size_t max_connections = 64;       // connections beyond are closed unanswered
  std::chrono::seconds timeout{10};  // idle or unfinished this long: closed
  size_t max_header_bytes = 16384;   // a request with larger headers is refused
};

// libevent's evhttp on a thread of its own: prometheus::Exposer cannot serve pages besides
// metrics, and Debian's civetweb (under it) is built without IPv6.
class MetricsServer {
 public:
  // Listens on `listen` (port 0 picks a free port). Serves until destroyed; throws
  // MetricsServerError if it cannot listen. `metrics` must outlive it.
  MetricsServer(const Endpoint& listen, const Metrics& metrics,
                const MetricsServerLimits& limits = {});
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  uint16_t port() const { return port_; }

 private:
  static void handle_request(evhttp_request* request, void* server);
  static void handle_stop(int fd, short events, void* server);
  static bufferevent* open_connection(event_base* base, void* server);
  static void refuse_pending(int fd, short events, void* server);
  void forget_closed();
  void serve(evhttp_request* request);
  void release();

  const Metrics& metrics_;
  const size_t max_connections_;
  // On the loop's thread only, each with a reference of ours: the connections counted, and
  // those refused whose socket is still to be shut down (by refuse_event_).
  std::vector<bufferevent*> connections_;
  std::vector<bufferevent*> refusing_;
  event* refuse_event_ = nullptr;
  event_base* base_ = nullptr;
  evhttp* http_ = nullptr;
  int stop_fd_ = -1;  // eventfd: the destructor wakes the loop to stop it
  event* stop_event_ = nullptr;
  uint16_t port_ = 0;
  std::thread thread_;
};

}  // namespace dnsvagt
