#include "metrics/metrics.h"

#include <algorithm>

#include "version.h"

namespace dnsvagt {

const std::string& MetricsSnapshot::list_label(uint32_t list_index) const {
  static const std::string overflow = "_overflow";
  return list_index < list_names.size() ? list_names[list_index] : overflow;
}

Metrics::Metrics(size_t workers, WallTime started_at)
    : worker_count_(workers),
      started_at_(started_at),
      workers_(std::make_unique<WorkerCounters[]>(2 * workers)) {}

uint32_t Metrics::list_index(std::string_view name) {
  std::lock_guard lock(mutex_);
  auto found = list_indexes_.find(name);
  if (found != list_indexes_.end()) return found->second;
  if (list_names_.size() >= kMaxLists) return kOverflowListIndex;
  uint32_t index = static_cast<uint32_t>(list_names_.size());
  list_names_.emplace_back(name);
  list_indexes_.emplace(std::string(name), index);
  return index;
}

void Metrics::set_validation_enabled(bool enabled) {
  std::lock_guard lock(mutex_);
  validation_enabled_ = enabled;
}

void Metrics::set_trust_anchors(std::vector<TrustAnchorInfo> anchors) {
  std::lock_guard lock(mutex_);
  trust_anchors_ = std::move(anchors);
}

void Metrics::set_client_groups(std::vector<ClientGroup> groups) {
  std::lock_guard lock(mutex_);
  client_groups_ = std::move(groups);
}

void Metrics::set_lists(const std::vector<ListStatus>& lists) {
  for (const ListStatus& list : lists) list_index(list.name);
  std::lock_guard lock(mutex_);
  configured_lists_.clear();
  for (const ListStatus& list : lists) {
    configured_lists_.push_back(list.name);
    ListStatus& kept = lists_[list.name];
    kept.name = list.name;
    kept.allow = list.allow;
    kept.source = list.source;
    kept.format = list.format;
    kept.refresh = list.refresh;
  }
}

void Metrics::list_update_succeeded(std::string_view name, uint64_t entries, WallTime when) {
  std::lock_guard lock(mutex_);
  lists_[std::string(name)].succeeded(entries, when);
}

void Metrics::list_update_failed(std::string_view name, UpdateFailure reason, WallTime when) {
  std::lock_guard lock(mutex_);
  lists_[std::string(name)].failed(reason, when);
}

void Metrics::set_domain_audit(std::shared_ptr<const AuditReport> report) {
  std::lock_guard lock(mutex_);
  domain_audit_ = std::move(report);
}

void Metrics::set_cache_usage_source(std::function<CacheUsage()> source) {
  std::lock_guard lock(mutex_);
  cache_usage_source_ = std::move(source);
}

namespace {

// Keeps the newest `limit` events, newest first.
void keep_newest(std::vector<RecentEvent>& events, size_t limit) {
  std::sort(events.begin(), events.end(),
            [](const RecentEvent& a, const RecentEvent& b) { return a.time > b.time; });
  if (events.size() > limit) events.resize(limit);
}

}  // namespace

MetricsSnapshot Metrics::snapshot() const {
  MetricsSnapshot snapshot;
  snapshot.taken_at = std::chrono::system_clock::now();
  snapshot.started_at = started_at_;
  snapshot.version = DNSVAGT_VERSION;
  snapshot.workers = worker_count_;
  for (size_t i = 0; i < counter_sets(); ++i) {
    workers_[i].add_to(snapshot.totals);
    workers_[i].append_recent_bogus(snapshot.recent_bogus);
    workers_[i].append_recent_blocks(snapshot.recent_blocks);
  }
  snapshot.totals.query_log_dropped += query_log_lines_lost_.load(std::memory_order_relaxed);
  keep_newest(snapshot.recent_bogus, kRecentEvents);
  keep_newest(snapshot.recent_blocks, kRecentEvents);

  std::function<CacheUsage()> cache_usage_source;
  {
    std::lock_guard lock(mutex_);
    snapshot.validation_enabled = validation_enabled_;
    snapshot.trust_anchors = trust_anchors_;
    snapshot.client_groups = client_groups_;
    snapshot.list_names = list_names_;
    for (const std::string& name : configured_lists_) {
      ListStatus& list = snapshot.lists.emplace_back(lists_.find(name)->second);
      auto index = list_indexes_.find(name);
      if (index != list_indexes_.end()) list.blocked = snapshot.totals.blocked[index->second];
    }
    cache_usage_source = cache_usage_source_;
    snapshot.domain_audit = domain_audit_;
  }
  for (RecentEvent& event : snapshot.recent_blocks) event.detail = snapshot.list_label(event.list_index);
  // Outside the lock: the source may take the cache's own lock.
  if (cache_usage_source) snapshot.cache = cache_usage_source();
  return snapshot;
}

}  // namespace dnsvagt
