// metrics_scrape: prints what a MetricsServer with sample traffic serves at a path (default
// /metrics), fetched over HTTP, so scripts can check a real scrape (promtool, dashboard names).
#include <iostream>

#include "config/config.h"
#include "metrics/metrics_server.h"
#include "tests/metrics/http_get.h"

int main(int argc, char** argv) {
  using namespace dnsvagt;
  std::string path = argc > 1 ? argv[1] : "/metrics";
  Metrics metrics(2);
  metrics.set_validation_enabled(true);
  metrics.set_trust_anchors({{".", "/var/lib/dnsvagt/root.key", true}});
  metrics.set_lists({{.name = "urlhaus", .source = "https://example.org/hosts.txt", .format = "hosts"},
                     {.name = "exceptions",
                      .allow = true,
                      .source = "/etc/dnsvagt/allow.txt",
                      .format = "domains"}});
  metrics.list_update_succeeded("urlhaus", 1000, std::chrono::system_clock::now());
  metrics.list_update_failed("exceptions", UpdateFailure::io, std::chrono::system_clock::now());
  uint32_t urlhaus = metrics.list_index("urlhaus");
  WorkerCounters& worker = metrics.worker(1);
  worker.query(Transport::udp);
  worker.response(3);
  worker.response(12);
  worker.dnssec(DnssecOutcome::secure);
  worker.blocked(urlhaus);
  worker.record_block("malware.example", urlhaus);
  worker.record_bogus("dnssec-failed.org", "signature expired");
  worker.query_duration(0.0004);
  auto audit = std::make_shared<AuditReport>();
  audit->finished_at = std::chrono::system_clock::now();
  audit->domains.push_back({"example.dk", {{17, Verdict::met, {}}, {18, Verdict::not_met, {}},
                                           {19, Verdict::cannot_tell, {}}}});
  metrics.set_domain_audit(audit);
  try {
    MetricsServer server(Endpoint{"127.0.0.1", 0}, metrics);
    auto response = testing::http_get("127.0.0.1", server.port(), path);
    std::cout << response.body;
    return response.status == 200 ? 0 : 1;
  } catch (const std::exception& error) {
    std::cerr << "metrics_scrape: " << error.what() << "\n";
    return 1;
  }
}
