// MetricsServer: the HTTP listener of metrics.listen, serving /metrics (Prometheus text format),
// /healthz, and the compliance summary at /compliance (HTML) and /compliance.json.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <thread>

#include "metrics/metrics.h"

struct event_base;
struct evhttp;
struct evhttp_request;
struct event;

namespace dnsvagt {

class MetricsServerError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// libevent's evhttp on a thread of its own: prometheus::Exposer cannot serve pages besides
// metrics, and Debian's civetweb (under it) is built without IPv6.
class MetricsServer {
 public:
  // `listen` is "127.0.0.1:9153" or "[::1]:9153" (port 0 picks a free port). Serves until
  // destroyed; throws MetricsServerError if it cannot listen. `metrics` must outlive it.
  MetricsServer(const std::string& listen, const Metrics& metrics);
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  uint16_t port() const { return port_; }

 private:
  static void handle_request(evhttp_request* request, void* server);
  static void handle_stop(int fd, short events, void* server);
  void serve(evhttp_request* request);
  void release();

  const Metrics& metrics_;
  event_base* base_ = nullptr;
  evhttp* http_ = nullptr;
  int stop_fd_ = -1;  // eventfd: the destructor wakes the loop to stop it
  event* stop_event_ = nullptr;
  uint16_t port_ = 0;
  std::thread thread_;
};

}  // namespace dnsvagt
