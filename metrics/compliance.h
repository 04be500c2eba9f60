// The compliance summary for auditors: whether DNSSEC answers are validated (requirement 21)
// and malicious domains are blocked by current lists (requirement 22), with the figures behind
// it, and the last audit of the authority's own domains (requirements 17-20, 23).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "metrics/metrics.h"

namespace dnsvagt {

struct RequirementVerdict {
  bool met = true;
  std::vector<std::string> reasons;  // why it is at risk; empty when met
};

struct ComplianceReport {
  MetricsSnapshot data;  // taken_at is the time of the report
  // Requirement 21: validation on, a loaded trust anchor for every configured one.
  RequirementVerdict validation;
  std::optional<double> validated_share;  // secure / all answers with a DNSSEC status
  // Requirement 22: block lists configured, none older than twice its refresh interval, not all
  // of them failing or empty.
  RequirementVerdict blocking;
  std::optional<double> block_share;  // blocked / queries
};

ComplianceReport build_compliance_report(MetricsSnapshot snapshot);

std::string to_json(const ComplianceReport& report);
// A self-contained HTML page (inline style, no scripts or external assets).
std::string to_html(const ComplianceReport& report);

// The own-domain audit (requirements 17-20, 23) for auditors: as JSON (an object with
// audited_at, all_met and a row per domain and requirement with its checks), and as a
// self-contained HTML page. The compliance page shows the same next to 21 and 22.
std::string audit_json(const AuditReport& report);
std::string audit_html(const AuditReport& report);

// "2024-05-01T12:00:00Z"
std::string rfc3339_utc(WallTime time);

}  // namespace dnsvagt
