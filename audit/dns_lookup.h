// DnsLookup: how the audit asks the DNS, one name and type at a time, and what it learns: the
// records with their DNSSEC status, a proven absence, a bogus answer, or no answer at all.
// resolver/audit_resolver.h implements it on dnsvagt's own validating libunbound setup.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace dnsvagt {

enum class LookupOutcome {
  data,      // records of the type at the name
  nodata,    // the name exists, no records of the type
  nxdomain,  // the name does not exist
  bogus,     // DNSSEC validation failed: validating resolvers answer SERVFAIL
  failed,    // SERVFAIL that is not bogus, REFUSED, unreachable servers: no answer seen
  timeout,   // no answer within the audit's timeout
};

// The DNSSEC status of data, a NODATA or an NXDOMAIN: proven by signatures from a trust
// anchor (secure), proven unsigned (insecure), or not known (validation off).
enum class Security { secure, insecure, unknown };

struct LookupResult {
  LookupOutcome outcome = LookupOutcome::failed;
  Security security = Security::unknown;
  // For data: each record's rdata in zone-file text ("10 mx.example.dk."), except TXT, whose
  // strings are joined into one text as SPF, DMARC and DKIM read them.
  std::vector<std::string> records;
  std::string why;  // bogus: the validator's reason; failed: the rcode or error
};

class DnsLookup {
 public:
  virtual ~DnsLookup() = default;
  // `name` without the trailing dot; `type` an RR type number (1 A, 15 MX, 43 DS, ...).
  virtual LookupResult lookup(const std::string& name, uint16_t type) = 0;
};

// Record types the audit asks for.
namespace rr_type {
inline constexpr uint16_t kA = 1, kSoa = 6, kMx = 15, kTxt = 16, kAaaa = 28, kDs = 43,
                          kTlsa = 52;
}

}  // namespace dnsvagt
