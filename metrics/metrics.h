// Metrics: the process-wide metrics state: one WorkerCounters per worker, the block list index,
// and the slowly changing state set off the query path (lists, trust anchors, validation).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "audit/audit_report.h"
#include "blocklists/list_status.h"
#include "config/config.h"
#include "metrics/worker_counters.h"

namespace dnsvagt {

using WallTime = std::chrono::system_clock::time_point;

// A DNSSEC trust anchor as the resolver loaded it.
struct TrustAnchorInfo {
  std::string zone;    // "." for the root
  std::string source;  // the file, or "config" for dnssec.trust_anchors lines
  bool loaded = false;
};

struct CacheUsage {
  uint64_t entries = 0;
  uint64_t bytes = 0;
};

// Everything the exposition and the compliance report show, read at one instant.
struct MetricsSnapshot {
  WallTime taken_at;
  WallTime started_at;
  std::string version;
  size_t workers = 0;
  bool validation_enabled = false;
  std::vector<TrustAnchorInfo> trust_anchors;
  CacheUsage cache;
  CounterTotals totals;
  std::vector<std::string> list_names;  // by list index
  std::vector<ListStatus> lists;        // the configured lists, in config order
  std::vector<ClientGroup> client_groups;  // config `clients`: who gets which lists
  std::vector<RecentEvent> recent_bogus;   // newest first; detail = validator's reason
  std::vector<RecentEvent> recent_blocks;  // newest first; detail = list name
  // The last periodic audit of audit.domains (requirements 17-20, 23); null before the first
  // one finished or when no domains are configured.
  std::shared_ptr<const AuditReport> domain_audit;

  // The label of a list index: its name, or "_overflow" for the shared slot.
  const std::string& list_label(uint32_t list_index) const;
};

class Metrics {
 public:
  static constexpr size_t kRecentEvents = 50;  // per kind, in a snapshot

  explicit Metrics(size_t workers, WallTime started_at = std::chrono::system_clock::now());
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  size_t workers() const { return worker_count_; }
  // The counters of worker `i` (< counter_sets()); to be written only by that worker's thread.
  // There are two sets per worker: while a reload's new workers start, the old ones still
  // answer their last queries, so each generation writes the set its predecessor did not.
  WorkerCounters& worker(size_t i) { return workers_[i]; }
  size_t counter_sets() const { return 2 * worker_count_; }

  // The stable index of a list name for WorkerCounters::blocked(), registering a new name.
  // Names beyond kMaxLists share kOverflowListIndex. Thread-safe; not for the query path.
  uint32_t list_index(std::string_view name);

  // Setters of the slowly changing state, thread-safe, called on start and reload.
  void set_validation_enabled(bool enabled);
  void set_trust_anchors(std::vector<TrustAnchorInfo> anchors);
  void set_client_groups(std::vector<ClientGroup> groups);
  // Replaces the configured lists (registering their names): their config facts are taken
  // from `lists`, what their updates found is kept by name (a reload must not reset counters).
  void set_lists(const std::vector<ListStatus>& lists);
  // A fetch or check confirmed a good version with `entries` entries (also when unchanged).
  void list_update_succeeded(std::string_view name, uint64_t entries, WallTime when);
  void list_update_failed(std::string_view name, UpdateFailure reason, WallTime when);
  // The periodic audit finished a run (null: no domains are audited any more). Any thread.
  void set_domain_audit(std::shared_ptr<const AuditReport> report);
  // Called at every scrape, on the scrape thread; must be thread-safe.
  void set_cache_usage_source(std::function<CacheUsage()> source);
  // Query log lines the writer could not write (disk full, I/O error): counted with those the
  // workers dropped, in dnsvagt_query_log_dropped_total. Any thread.
  void query_log_lines_lost(uint64_t lines) {
    query_log_lines_lost_.fetch_add(lines, std::memory_order_relaxed);
  }

  MetricsSnapshot snapshot() const;

 private:
  const size_t worker_count_;
  const WallTime started_at_;
  std::unique_ptr<WorkerCounters[]> workers_;
  std::atomic<uint64_t> query_log_lines_lost_{0};

  mutable std::mutex mutex_;  // guards everything below
  std::vector<std::string> list_names_;
  std::map<std::string, uint32_t, std::less<>> list_indexes_;
  bool validation_enabled_ = false;
  std::vector<TrustAnchorInfo> trust_anchors_;
  std::vector<ClientGroup> client_groups_;
  std::vector<std::string> configured_lists_;  // names, in config order
  std::map<std::string, ListStatus, std::less<>> lists_;  // every list reported or configured
  std::function<CacheUsage()> cache_usage_source_;
  std::shared_ptr<const AuditReport> domain_audit_;
};

}  // namespace dnsvagt
