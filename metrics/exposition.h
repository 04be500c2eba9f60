// The Prometheus view of Metrics: every family of the DESIGN.md metrics contract plus the
// operational extras, as a prometheus-cpp Collectable read at scrape time.
#pragma once

#include <string>
#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include "metrics/metrics.h"

namespace dnsvagt {

// The families of one snapshot. Counters of every known label value are present from the start
// (zero), so rate() works from the first scrape.
std::vector<prometheus::MetricFamily> metric_families(const MetricsSnapshot& snapshot);

// The value of dnsvagt_domain_requirement_met: 1 met, 0 not met, -1 cannot tell, so that
// "== 1" never counts a requirement the audit could not see.
double domain_requirement_value(Verdict verdict);

// The families in the Prometheus text exposition format (version 0.0.4).
std::string exposition_text(const std::vector<prometheus::MetricFamily>& families);

class MetricsCollectable : public prometheus::Collectable {
 public:
  explicit MetricsCollectable(const Metrics& metrics) : metrics_(metrics) {}
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  const Metrics& metrics_;
};

}  // namespace dnsvagt
