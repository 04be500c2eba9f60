// SPF records (RFC 7208) as requirement 23 checks them: which TXT strings are SPF records, the
// terms of one, and a record's DNS lookups (at most 10, includes and redirects counted) and
// the "all" it ends in.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "audit/audit_report.h"

namespace dnsvagt {

// "v=spf1" alone or followed by a space, case-insensitive (RFC 7208 4.5).
bool is_spf_record(std::string_view txt);

struct SpfRecord {
  int lookup_terms = 0;                  // include, a, mx, ptr, exists, redirect (4.6.4)
  std::vector<std::string> includes;     // include: domains, in order
  std::optional<std::string> redirect;   // the redirect= domain (ignored when there is an all)
  std::optional<char> all;               // the all mechanism's qualifier: '+', '-', '~' or '?'
  std::string problem;                   // a syntax error (a permerror); "" = none
};

SpfRecord parse_spf(std::string_view record);

// What looking up the SPF record of an include: or redirect= domain gave.
struct SpfFetch {
  enum class Result { record, no_record, failed };
  Result result = Result::failed;
  std::string text;  // the record; for failed, why (SERVFAIL, timeout, bogus, two records)
};
using SpfFetcher = std::function<SpfFetch(const std::string& domain)>;

struct SpfEvaluation {
  Verdict verdict = Verdict::cannot_tell;
  int lookups = 0;           // counted until the limit was passed or a lookup failed
  std::optional<char> all;   // the qualifier the evaluation ends with (own or the redirect's)
  std::string evidence;      // what the verdict rests on
};

inline constexpr int kSpfLookupLimit = 10;

// Judges an SPF record: met when evaluating it takes at most 10 DNS lookups and it ends in
// -all or ~all (its own, or its redirect target's). Include and redirect targets are fetched
// with `fetch`; a target without a record is a permerror (not met), one that cannot be
// fetched leaves the count unknown (cannot tell) unless the limit is passed anyway.
SpfEvaluation evaluate_spf(std::string_view record, const SpfFetcher& fetch);

}  // namespace dnsvagt
