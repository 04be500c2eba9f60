// The audit of one own domain: requirement 17 from its name (and exception), 18, 19, 20 and
// 23 from what DNS lookups through a validating resolver return, each check with its evidence.
#pragma once

#include <span>
#include <string>

#include "audit/audit_report.h"
#include "audit/dns_lookup.h"
#include "config/config.h"

namespace dnsvagt {

DomainResult audit_domain(const AuditDomain& domain, DnsLookup& dns);

// Every domain in order; finished_at is when the last one was done.
AuditReport audit_domains(std::span<const AuditDomain> domains, DnsLookup& dns);

// A lookup result as evidence: the records and their DNSSEC status, or why there are none.
std::string describe(const LookupResult& result);

}  // namespace dnsvagt
