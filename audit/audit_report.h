// The results of an own-domain audit: per domain and requirement a verdict (met, not met,
// cannot tell) with the checks and evidence it rests on; and the plain-text table of them.
#pragma once

#include <chrono>
#include <span>
#include <string>
#include <vector>

namespace dnsvagt {

// "Cannot tell" (no answer, a SERVFAIL that is not bogus, a timeout) is never "met" and never
// "not met": the audit did not see the records.
enum class Verdict { met, not_met, cannot_tell };

// "met", "not_met", "cannot_tell": the JSON and metric form.
const char* to_string(Verdict verdict);

// One thing looked at: what (a name and record type, or a rule), and what was found there.
struct Check {
  Verdict verdict = Verdict::cannot_tell;
  std::string subject;   // "example.dk DS", "_25._tcp.mx.example.dk TLSA", "domain name"
  std::string evidence;  // the records and validation status, or why there are none
};

// The verdict of a requirement from its checks: not met if any check is not met, else cannot
// tell if any check cannot tell or there are none, else met.
Verdict combined_verdict(std::span<const Check> checks);

struct RequirementResult {
  int requirement = 0;  // 17, 18, 19, 20 or 23
  Verdict verdict = Verdict::cannot_tell;
  std::vector<Check> checks;
};

struct DomainResult {
  std::string domain;
  std::vector<RequirementResult> requirements;  // in the order of kAuditedRequirements
};

inline constexpr int kAuditedRequirements[] = {17, 18, 19, 20, 23};

// What each audited requirement asks, in a line.
const char* requirement_title(int requirement);

struct AuditReport {
  std::chrono::system_clock::time_point finished_at;
  std::vector<DomainResult> domains;

  // Every requirement of every domain met (and at least one domain audited).
  bool all_met() const;
  // Some requirement of some domain is not met (rather than only cannot tell).
  bool any_not_met() const;
};

// A table for a terminal: a line per domain and requirement, its checks indented below.
std::string to_text_table(const AuditReport& report);

}  // namespace dnsvagt
