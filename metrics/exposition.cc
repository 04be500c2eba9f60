#include "metrics/exposition.h"

#include <chrono>
#include <set>

#include <prometheus/text_serializer.h>

namespace dnsvagt {

namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

double seconds_since_epoch(WallTime time) {
  return std::chrono::duration<double>(time.time_since_epoch()).count();
}

double seconds_or_zero(const std::optional<WallTime>& time) {
  return time ? seconds_since_epoch(*time) : 0;
}

// Builds one family; add() appends a sample whose label values follow the family's label names.
class FamilyBuilder {
 public:
  FamilyBuilder(std::string name, std::string help, MetricType type,
                std::vector<std::string> label_names = {})
      : label_names_(std::move(label_names)) {
    family_.name = std::move(name);
    family_.help = std::move(help);
    family_.type = type;
  }

  void add(double value, std::vector<std::string> label_values = {}) {
    ClientMetric& metric = family_.metric.emplace_back();
    for (size_t i = 0; i < label_names_.size(); ++i) {
      metric.label.push_back({label_names_[i], std::move(label_values[i])});
    }
    if (family_.type == MetricType::Counter) {
      metric.counter.value = value;
    } else {
      metric.gauge.value = value;
    }
  }

  MetricFamily take() { return std::move(family_); }

 private:
  std::vector<std::string> label_names_;
  MetricFamily family_;
};

MetricFamily duration_histogram(const CounterTotals& totals) {
  MetricFamily family{"dnsvagt_query_duration_seconds",
                      "Time from receiving a query to sending its response.",
                      MetricType::Histogram,
                      {}};
  ClientMetric& metric = family.metric.emplace_back();
  uint64_t cumulative = 0;
  for (size_t i = 0; i < kDurationBuckets.size(); ++i) {
    cumulative += totals.duration_buckets[i];
    metric.histogram.bucket.push_back({cumulative, kDurationBuckets[i]});
  }
  // The serializer writes the +Inf bucket from sample_count.
  metric.histogram.sample_count = totals.duration_count();
  metric.histogram.sample_sum = totals.duration_sum;
  return family;
}

}  // namespace

double domain_requirement_value(Verdict verdict) {
  switch (verdict) {
    case Verdict::met:
      return 1;
    case Verdict::not_met:
      return 0;
    case Verdict::cannot_tell:
      return -1;
  }
  return -1;
}

std::vector<MetricFamily> metric_families(const MetricsSnapshot& snapshot) {
  const CounterTotals& totals = snapshot.totals;
  std::vector<MetricFamily> families;

  FamilyBuilder queries("dnsvagt_queries_total", "Queries received, by transport.",
                        MetricType::Counter, {"transport"});
  for (size_t i = 0; i < kTransportCount; ++i) {
    queries.add(totals.queries[i], {to_string(static_cast<Transport>(i))});
  }
  families.push_back(queries.take());

  FamilyBuilder responses("dnsvagt_responses_total", "Responses sent, by response code.",
                          MetricType::Counter, {"rcode"});
  for (size_t slot = 0; slot < kRcodeSlots; ++slot) {
    if (rcode_is_assigned(slot) || totals.responses[slot] > 0) {
      responses.add(totals.responses[slot], {rcode_label(slot)});
    }
  }
  families.push_back(responses.take());

  FamilyBuilder dnssec("dnsvagt_dnssec_answers_total",
                       "Answers from resolution (cache or upstream), by DNSSEC status.",
                       MetricType::Counter, {"status"});
  for (size_t i = 0; i < kDnssecOutcomeCount; ++i) {
    dnssec.add(totals.dnssec[i], {to_string(static_cast<DnssecOutcome>(i))});
  }
  families.push_back(dnssec.take());

  FamilyBuilder blocked("dnsvagt_blocked_queries_total", "Queries blocked, by the list that matched.",
                        MetricType::Counter, {"list"});
  std::set<std::string> block_lists;
  for (const ListStatus& list : snapshot.lists) {
    if (!list.allow) block_lists.insert(list.name);
  }
  for (uint32_t index = 0; index <= kOverflowListIndex; ++index) {
    bool known = index < snapshot.list_names.size() && block_lists.count(snapshot.list_names[index]);
    if (known || totals.blocked[index] > 0) {
      blocked.add(totals.blocked[index], {snapshot.list_label(index)});
    }
  }
  families.push_back(blocked.take());

  FamilyBuilder cache_lookups("dnsvagt_cache_lookups_total", "Answer cache lookups, by result.",
                              MetricType::Counter, {"result"});
  cache_lookups.add(totals.cache_hits, {"hit"});
  cache_lookups.add(totals.cache_misses, {"miss"});
  families.push_back(cache_lookups.take());

  families.push_back(duration_histogram(totals));

  FamilyBuilder upstream_errors("dnsvagt_upstream_errors_total",
                                "Failed upstream resolutions, by reason (DNSSEC failures excluded).",
                                MetricType::Counter, {"reason"});
  for (size_t i = 0; i < kUpstreamErrorReasonCount; ++i) {
    upstream_errors.add(totals.upstream_errors[i], {to_string(static_cast<UpstreamErrorReason>(i))});
  }
  families.push_back(upstream_errors.take());

  FamilyBuilder entries("dnsvagt_list_entries", "Entries of the list version in use.",
                        MetricType::Gauge, {"list"});
  FamilyBuilder last_success("dnsvagt_list_last_success_timestamp_seconds",
                             "Unix time of the last update that confirmed a good version; 0 = never.",
                             MetricType::Gauge, {"list"});
  FamilyBuilder last_attempt("dnsvagt_list_last_attempt_timestamp_seconds",
                             "Unix time of the last update attempt; 0 = never.", MetricType::Gauge,
                             {"list"});
  FamilyBuilder refresh("dnsvagt_list_refresh_interval_seconds",
                        "Configured refresh interval of the list; 0 = never refreshed.",
                        MetricType::Gauge, {"list"});
  FamilyBuilder info("dnsvagt_list_info", "A configured list; kind is block or allow.",
                     MetricType::Gauge, {"list", "kind"});
  FamilyBuilder failures("dnsvagt_list_update_failures_total",
                         "Rejected list updates (the last good version stays), by reason.",
                         MetricType::Counter, {"list", "reason"});
  for (const ListStatus& list : snapshot.lists) {
    const std::string& name = list.name;
    entries.add(list.entries, {name});
    last_success.add(seconds_or_zero(list.last_success), {name});
    last_attempt.add(seconds_or_zero(list.last_attempt), {name});
    refresh.add(list.refresh.count(), {name});
    info.add(1, {name, list.allow ? "allow" : "block"});
    for (size_t i = 0; i < kUpdateFailureCount; ++i) {
      failures.add(list.failures[i], {name, to_string(static_cast<UpdateFailure>(i))});
    }
  }
  for (FamilyBuilder* family : {&entries, &last_success, &last_attempt, &refresh, &info, &failures}) {
    families.push_back(family->take());
  }

  FamilyBuilder validation("dnsvagt_dnssec_validation_enabled",
                           "1 if DNSSEC validation is on (dnssec.validate), else 0.",
                           MetricType::Gauge);
  validation.add(snapshot.validation_enabled ? 1 : 0);
  families.push_back(validation.take());

  FamilyBuilder build("dnsvagt_build_info", "Always 1; the version label names the build.",
                      MetricType::Gauge, {"version"});
  build.add(1, {snapshot.version});
  families.push_back(build.take());

  FamilyBuilder cache_entries("dnsvagt_cache_entries", "Answers in the cache.", MetricType::Gauge);
  cache_entries.add(snapshot.cache.entries);
  families.push_back(cache_entries.take());
  FamilyBuilder cache_bytes("dnsvagt_cache_bytes", "Bytes used by the answer cache.",
                            MetricType::Gauge);
  cache_bytes.add(snapshot.cache.bytes);
  families.push_back(cache_bytes.take());

  FamilyBuilder tcp("dnsvagt_tcp_connections", "Open client TCP connections.", MetricType::Gauge);
  // A scrape reads "opened" before "closed", so a connection opened and closed in between
  // can make closed exceed opened for a moment.
  tcp.add(totals.tcp_opened > totals.tcp_closed
              ? static_cast<double>(totals.tcp_opened - totals.tcp_closed)
              : 0);
  families.push_back(tcp.take());

  FamilyBuilder workers("dnsvagt_workers", "Worker threads.", MetricType::Gauge);
  workers.add(snapshot.workers);
  families.push_back(workers.take());

  FamilyBuilder start("process_start_time_seconds", "Start time of the process since unix epoch in seconds.",
                      MetricType::Gauge);
  start.add(seconds_since_epoch(snapshot.started_at));
  families.push_back(start.take());

  FamilyBuilder dropped("dnsvagt_query_log_dropped_total",
                        "Query log lines dropped because the writer fell behind.",
                        MetricType::Counter);
  dropped.add(totals.query_log_dropped);
  families.push_back(dropped.take());

  FamilyBuilder rate_limited(
      "dnsvagt_rate_limited_total",
      "Queries over server.rate_limit, by transport: UDP dropped unanswered, TCP refused.",
      MetricType::Counter, {"transport"});
  for (size_t i = 0; i < kTransportCount; ++i) {
    rate_limited.add(totals.rate_limited[i], {to_string(static_cast<Transport>(i))});
  }
  families.push_back(rate_limited.take());

  FamilyBuilder tcp_dropped("dnsvagt_tcp_connections_dropped_total",
                            "Client TCP connections refused at accept or closed by a limit, by "
                            "reason.",
                            MetricType::Counter, {"reason"});
  for (size_t i = 0; i < kTcpDropReasonCount; ++i) {
    tcp_dropped.add(totals.tcp_dropped[i], {to_string(static_cast<TcpDropReason>(i))});
  }
  families.push_back(tcp_dropped.take());

  FamilyBuilder proxy_refused("dnsvagt_proxy_headers_refused_total",
                              "Datagrams dropped and connections closed for their PROXY protocol "
                              "header (server.proxy_protocol_from), by transport and reason.",
                              MetricType::Counter, {"transport", "reason"});
  for (size_t t = 0; t < kTransportCount; ++t) {
    for (size_t r = 0; r < kProxyRefusalCount; ++r) {
      proxy_refused.add(totals.proxy_refused[t][r], {to_string(static_cast<Transport>(t)),
                                                     to_string(static_cast<ProxyRefusal>(r))});
    }
  }
  families.push_back(proxy_refused.take());

  FamilyBuilder doh_errors("dnsvagt_doh_errors_total",
                           "DNS over HTTPS requests refused with an HTTP error, by status (400 "
                           "bad request or dns parameter, 404 path, 405 method, 413 body too "
                           "large, 415 content type).",
                           MetricType::Counter, {"status"});
  for (size_t i = 0; i < kDohErrorStatuses.size(); ++i) {
    doh_errors.add(totals.doh_errors[i], {std::to_string(kDohErrorStatuses[i])});
  }
  families.push_back(doh_errors.take());

  FamilyBuilder internal_errors("dnsvagt_internal_errors_total",
                                "Queries (answered SERVFAIL) and events cut short by an internal "
                                "error; the log says what it was.",
                                MetricType::Counter);
  internal_errors.add(totals.internal_errors);
  families.push_back(internal_errors.take());

  FamilyBuilder requirement_met(
      "dnsvagt_domain_requirement_met",
      "Own-domain audit: 1 met, 0 not met, -1 cannot tell (no answer seen), by domain and "
      "requirement (17, 18, 19, 20, 23).",
      MetricType::Gauge, {"domain", "requirement"});
  FamilyBuilder audited("dnsvagt_domain_audit_timestamp_seconds",
                        "Unix time the last audit of audit.domains finished; 0 = none yet.",
                        MetricType::Gauge);
  if (const AuditReport* audit = snapshot.domain_audit.get()) {
    for (const DomainResult& domain : audit->domains) {
      for (const RequirementResult& result : domain.requirements) {
        requirement_met.add(domain_requirement_value(result.verdict),
                            {domain.domain, std::to_string(result.requirement)});
      }
    }
  }
  audited.add(snapshot.domain_audit ? seconds_since_epoch(snapshot.domain_audit->finished_at) : 0);
  families.push_back(requirement_met.take());
  families.push_back(audited.take());
  return families;
}

std::string exposition_text(const std::vector<MetricFamily>& families) {
  return prometheus::TextSerializer().Serialize(families);
}

std::vector<MetricFamily> MetricsCollectable::Collect() const {
  return metric_families(metrics_.snapshot());
}

}  // namespace dnsvagt
