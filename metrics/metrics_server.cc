#include "metrics/metrics_server.h"

#include <CivetServer.h>

#include "metrics/compliance.h"
#include "metrics/exposition.h"

namespace dnsvagt {

namespace {

void send(mg_connection* connection, int status, const char* content_type,
          const std::string& body) {
  mg_printf(connection,
            "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
            "Cache-Control: no-store\r\nConnection: close\r\n\r\n",
            status, mg_get_response_code_text(connection, status), content_type, body.size());
  mg_write(connection, body.data(), body.size());
}

}  // namespace

// One handler for every path: each request reads one snapshot.
class MetricsServer::Handler : public CivetHandler {
 public:
  explicit Handler(const Metrics& metrics) : metrics_(metrics) {}

  bool handleGet(CivetServer*, mg_connection* connection) override {
    const mg_request_info* request = mg_get_request_info(connection);
    std::string uri = request->local_uri ? request->local_uri : "";
    try {
      if (uri == "/metrics") {
        send(connection, 200, "text/plain; version=0.0.4; charset=utf-8",
             exposition_text(metric_families(metrics_.snapshot())));
      } else if (uri == "/healthz") {
        send(connection, 200, "text/plain; charset=utf-8", "ok\n");
      } else if (uri == "/compliance.json" || (uri == "/compliance" && wants_json(connection))) {
        send(connection, 200, "application/json",
             to_json(build_compliance_report(metrics_.snapshot())));
      } else if (uri == "/compliance") {
        send(connection, 200, "text/html; charset=utf-8",
             to_html(build_compliance_report(metrics_.snapshot())));
      } else {
        send(connection, 404, "text/plain; charset=utf-8", "not found\n");
      }
    } catch (const std::exception& error) {
      send(connection, 500, "text/plain; charset=utf-8", std::string(error.what()) + "\n");
    }
    return true;
  }

 private:
  static bool wants_json(mg_connection* connection) {
    std::string format;
    return CivetServer::getParam(connection, "format", format) && format == "json";
  }

  const Metrics& metrics_;
};

MetricsServer::MetricsServer(const std::string& listen, const Metrics& metrics)
    : handler_(std::make_unique<Handler>(metrics)) {
  std::vector<std::string> options = {"listening_ports", listen, "num_threads", "2",
                                      "request_timeout_ms", "10000"};
  try {
    server_ = std::make_unique<CivetServer>(options);
  } catch (const CivetException& error) {
    throw MetricsServerError("metrics.listen " + listen + ": cannot listen: " + error.what());
  }
  server_->addHandler("/", handler_.get());
  std::vector<int> ports = server_->getListeningPorts();
  if (!ports.empty()) port_ = static_cast<uint16_t>(ports.front());
}

MetricsServer::~MetricsServer() {
  if (server_) server_->close();
}

}  // namespace dnsvagt
