// UpdateFailure: why a list update was not activated, shared by the list updater that finds it
// and the metrics that count it (dnsvagt_list_update_failures_total{reason}).
#pragma once

#include <cstddef>
#include <cstdint>

namespace dnsvagt {

// Why a list update was not activated. The fetch reasons (checksum included) come from
// fetch_feed(); the gate reasons (parse_budget, too_small, shrink) from check_list_gates(); io
// from the disk (also when fetch_feed cannot write the download).
enum class UpdateFailure : uint8_t {
  http_status,   // the server answered with a status other than 200 or 304
  timeout,       // no connection, no data or no end within the time limits
  tls,           // TLS handshake or certificate verification failed
  connect,       // DNS, connection refused or reset, body cut short
  too_large,     // over the list's max_size
  parse_budget,  // too many lines that are not rules (an HTML page, binary data)
  too_small,     // fewer than min_entries entries
  shrink,        // lost more than max_shrink of the last good version's entries
  io,            // the local file or the cache could not be read or written
  insecure_redirect,  // an https feed redirected to a URL that is not https
  checksum,      // the content's SHA-256 is not the list's pinned sha256
};
inline constexpr size_t kUpdateFailureCount = 11;
// The metric label: "http_status", "timeout", ...
constexpr const char* to_string(UpdateFailure failure) {
  switch (failure) {
    case UpdateFailure::http_status: return "http_status";
    case UpdateFailure::timeout: return "timeout";
    case UpdateFailure::tls: return "tls";
    case UpdateFailure::connect: return "connect";
    case UpdateFailure::too_large: return "too_large";
    case UpdateFailure::parse_budget: return "parse_budget";
    case UpdateFailure::too_small: return "too_small";
    case UpdateFailure::shrink: return "shrink";
    case UpdateFailure::io: return "io";
    case UpdateFailure::insecure_redirect: return "insecure_redirect";
    case UpdateFailure::checksum: return "checksum";
  }
  return "unknown";
}

}  // namespace dnsvagt
