// MetricsServer: the HTTP listener of metrics.listen, serving /metrics (Prometheus text format),
// /healthz, and the compliance summary at /compliance (HTML) and /compliance.json.
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>

#include "metrics/metrics.h"

class CivetServer;

namespace dnsvagt {

class MetricsServerError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

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
  class Handler;
  std::unique_ptr<Handler> handler_;
  std::unique_ptr<CivetServer> server_;
  uint16_t port_ = 0;
};

}  // namespace dnsvagt
