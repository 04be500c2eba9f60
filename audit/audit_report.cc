#include "audit/audit_report.h"

#include <algorithm>

namespace dnsvagt {

const char* to_string(Verdict verdict) {
  switch (verdict) {
    case Verdict::met:
      return "met";
    case Verdict::not_met:
      return "not_met";
    case Verdict::cannot_tell:
      return "cannot_tell";
  }
  return "?";
}

Verdict combined_verdict(std::span<const Check> checks) {
  auto any = [&](Verdict verdict) {
    return std::any_of(checks.begin(), checks.end(),
                       [verdict](const Check& check) { return check.verdict == verdict; });
  };
  if (any(Verdict::not_met)) return Verdict::not_met;
  if (checks.empty() || any(Verdict::cannot_tell)) return Verdict::cannot_tell;
  return Verdict::met;
}

const char* requirement_title(int requirement) {
  switch (requirement) {
    case 17:
      return "internet-facing services under .dk";
    case 18:
      return "DNSSEC on the domain and every delegated subdomain";
    case 19:
      return "incoming mail gateways in DNSSEC-signed zones";
    case 20:
      return "DANE (TLSA) for every incoming mail gateway";
    case 23:
      return "DMARC policy reject, SPF, DKIM";
  }
  return "?";
}

namespace {

template <typename Predicate>
bool any_requirement(const AuditReport& report, Predicate predicate) {
  for (const DomainResult& domain : report.domains) {
    for (const RequirementResult& result : domain.requirements) {
      if (predicate(result.verdict)) return true;
    }
  }
  return false;
}

}  // namespace

bool AuditReport::all_met() const {
  return !domains.empty() &&
         !any_requirement(*this, [](Verdict verdict) { return verdict != Verdict::met; });
}

bool AuditReport::any_not_met() const {
  return any_requirement(*this, [](Verdict verdict) { return verdict == Verdict::not_met; });
}

std::string to_text_table(const AuditReport& report) {
  std::string out;
  for (const DomainResult& domain : report.domains) {
    for (const RequirementResult& result : domain.requirements) {
      std::string verdict = result.verdict == Verdict::met       ? "met"
                            : result.verdict == Verdict::not_met ? "NOT MET"
                                                                 : "CANNOT TELL";
      out += domain.domain + "  " + std::to_string(result.requirement) + "  " + verdict + "  (" +
             requirement_title(result.requirement) + ")\n";
      for (const Check& check : result.checks) {
        out += "    [" + std::string(to_string(check.verdict)) + "] " + check.subject + ": " +
               check.evidence + "\n";
      }
    }
  }
  if (report.domains.empty()) out += "no domains audited\n";
  return out;
}

}  // namespace dnsvagt
