#include "resolver/telemetry.h"

#include <stdexcept>

#include "blocklists/list_source.h"
#include "resolver/logging.h"
#include "resolver/trust_anchor.h"
#include "resolver/worker_shared.h"

namespace dnsvagt {
namespace {

std::unique_ptr<MetricsServer> start_metrics_server(const Endpoint& listen,
                                                    const Metrics& metrics) {
  try {
    auto server = std::make_unique<MetricsServer>(listen, metrics);
    log_info("metrics on http://%s/metrics (also /healthz, /compliance, /compliance.json)",
             listen.to_string().c_str());
    return server;
  } catch (const MetricsServerError& error) {
    throw std::runtime_error("cannot serve metrics on " + listen.to_string() +
                             " (metrics.listen): " + error.what());
  }
}

}  // namespace

std::vector<TrustAnchorInfo> configured_trust_anchors(const Config& config, bool loaded) {
  std::vector<TrustAnchorInfo> anchors;
  const DnssecConfig& dnssec = config.dnssec;
  if (!dnssec.root_trust_anchor_file.empty()) {
    anchors.push_back({".", dnssec.root_trust_anchor_file, loaded});
  }
  for (const std::string& line : dnssec.trust_anchors) {
    std::string owner = trust_anchor_owner(line);
    anchors.push_back({owner.empty() ? "?" : owner, "config", loaded && !owner.empty()});
  }
  for (const std::string& path : dnssec.trust_anchor_files) {
    std::vector<std::string> owners = trust_anchor_file_owners(path);
    anchors.push_back({owners.empty() ? "?" : owners.front(), path, loaded && !owners.empty()});
  }
  return anchors;
}

std::vector<ListStatus> configured_lists(const BlockingConfig& blocking) {
  std::vector<ListStatus> lists;
  for (bool allow : {false, true}) {
    for (const ListSource& source : allow ? blocking.allow : blocking.lists) {
      lists.push_back(configured_status(source, allow));
    }
  }
  return lists;
}

Telemetry::Telemetry(const Config& config, unsigned workers)
    : metrics_(std::make_unique<Metrics>(workers)), metrics_listen_(config.metrics.listen) {
  if (metrics_listen_) metrics_server_ = start_metrics_server(*metrics_listen_, *metrics_);
  start_query_log(config);
}

Telemetry::~Telemetry() = default;

void Telemetry::start_query_log(const Config& config) {
  if (config.logging.query_log.empty()) return;
  query_log_ = std::make_unique<QueryLog>(QueryLogOptions::from_config(config.logging),
                                          metrics_->counter_sets(), metrics_.get());
  query_log_enabled_ = true;
  log_info("query log: %s (rotation %s)", config.logging.query_log.c_str(),
           config.logging.query_log_rotate.to_string().c_str());
}

void Telemetry::reload(const Config& config) {
  if (config.metrics.listen != metrics_listen_) {
    try {
      metrics_server_.reset();  // first: the new listener may want the same port
      if (config.metrics.listen) {
        metrics_server_ = start_metrics_server(*config.metrics.listen, *metrics_);
      }
      metrics_listen_ = config.metrics.listen;
    } catch (const std::exception& error) {
      log_error("%s; serving no metrics until the next reload", error.what());
      metrics_listen_.reset();
    }
  }
  try {
    if (config.logging.query_log.empty()) {
      query_log_enabled_ = false;  // the old generation's last lines still reach the old file
    } else if (!query_log_) {
      start_query_log(config);
    } else {
      query_log_->reconfigure(QueryLogOptions::from_config(config.logging));
      query_log_enabled_ = true;
    }
  } catch (const std::exception& error) {
    log_error("query log: %s", error.what());
  }
}

void Telemetry::generation_started(const Config& config,
                                   const std::shared_ptr<WorkerShared>& shared) {
  metrics_->set_validation_enabled(config.dnssec.validate);
  // The workers' libunbound contexts started, so every anchor they were given has loaded.
  metrics_->set_trust_anchors(configured_trust_anchors(config, config.dnssec.validate));
  metrics_->set_lists(configured_lists(config.blocking));
  metrics_->set_client_groups(config.clients);
  std::weak_ptr<WorkerShared> weak = shared;
  metrics_->set_cache_usage_source([weak] {
    std::shared_ptr<WorkerShared> current = weak.lock();
    return current ? CacheUsage{current->cache.entries(), current->cache.bytes()} : CacheUsage{};
  });
}

QueryLogQueue* Telemetry::query_log_queue(size_t slot) {
  return query_log_enabled_ ? &query_log_->queue(slot) : nullptr;
}

void Telemetry::connect(UpdaterHooks& hooks) {
  Metrics* metrics = metrics_.get();
  hooks.succeeded = [metrics](const std::string& name, uint64_t entries,
                              WallClock::time_point when) {
    metrics->list_update_succeeded(name, entries, when);
  };
  hooks.failed = [metrics](const std::string& name, UpdateFailure reason,
                           WallClock::time_point when) {
    metrics->list_update_failed(name, reason, when);
  };
}

uint16_t Telemetry::metrics_port() const { return metrics_server_ ? metrics_server_->port() : 0; }

}  // namespace dnsvagt
