// Telemetry: the process's Metrics, the metrics.listen HTTP listener and the query log, set up
// from the config at start and kept (or changed) on reload; workers take their counters from it.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "blocklists/list_updater.h"
#include "config/config.h"
#include "metrics/metrics.h"
#include "metrics/metrics_server.h"
#include "resolver/query_log.h"

namespace dnsvagt {

struct WorkerShared;

class Telemetry {
 public:
  // Starts the metrics listener (if metrics.listen is set) and the query log (unless
  // logging.query_log is ""). Throws std::runtime_error naming what failed: exit code 2.
  Telemetry(const Config& config, unsigned workers);
  ~Telemetry();
  Telemetry(const Telemetry&) = delete;
  Telemetry& operator=(const Telemetry&) = delete;

  // SIGHUP: a changed metrics.listen gets a new listener, the query log file is reopened (for
  // external logrotate) under the new logging settings. Logs what fails and keeps the rest.
  void reload(const Config& config);

  // A generation of workers started with `config`; `shared` is theirs (its cache is what
  // dnsvagt_cache_entries/bytes show from now on). Sets validation, trust anchors and lists.
  void generation_started(const Config& config, const std::shared_ptr<WorkerShared>& shared);

  Metrics& metrics() { return *metrics_; }
  // The query log queue of counter slot `slot` (< metrics().counter_sets()); null when off.
  QueryLogQueue* query_log_queue(size_t slot);

  // Fills hooks.succeeded and hooks.failed so list updates reach the metrics.
  void connect(UpdaterHooks& hooks);

  uint16_t metrics_port() const;  // 0 when there is no listener

 private:
  void start_query_log(const Config& config);

  std::unique_ptr<Metrics> metrics_;
  std::optional<Endpoint> metrics_listen_;  // what the running listener serves, if any
  std::unique_ptr<MetricsServer> metrics_server_;
  std::unique_ptr<QueryLog> query_log_;
  bool query_log_enabled_ = false;
};

// The trust anchors `config` makes libunbound load: the root file, each dnssec.trust_anchors
// line ("config"), each dnssec.trust_anchor_files file (its first anchor's owner); "?" and not
// loaded where there is no DS or DNSKEY record to read.
std::vector<TrustAnchorInfo> configured_trust_anchors(const Config& config, bool loaded);

// The configured block and allow lists, in config order.
std::vector<ListStatus> configured_lists(const BlockingConfig& blocking);

}  // namespace dnsvagt
