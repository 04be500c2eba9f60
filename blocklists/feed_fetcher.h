// Downloads one list feed over HTTP(S) with libcurl into a file: verified TLS, gzip, bounded
// time, size and redirects, and conditional requests (ETag / Last-Modified) so an unchanged
// feed costs a 304.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

#include "blocklists/update_failure.h"

namespace dnsvagt {


// The validators of a cached copy, sent back as If-None-Match / If-Modified-Since.
struct Validators {
  std::string etag;           // as the server sent it, quotes included
  std::string last_modified;  // the Last-Modified header's text
  bool empty() const { return etag.empty() && last_modified.empty(); }
  bool operator==(const Validators&) const = default;
};

struct FetchLimits {
  std::chrono::seconds connect_timeout{10};
  // The whole transfer; a feed of max_size on a slow link must still fit in it.
  std::chrono::seconds total_timeout{600};
  // A transfer slower than low_speed_bytes per second for low_speed_time is abandoned, so a
  // body that stalls halfway fails long before total_timeout.
  uint32_t low_speed_bytes = 100;
  std::chrono::seconds low_speed_time{30};
  uint64_t max_size = 256ull << 20;
  long max_redirects = 5;
  std::string ca_file;  // "" = the system CA store only
  std::string sha256;   // lowercase hex the body's SHA-256 must be; "" = any body
};

struct FetchResult {
  enum class Outcome { fetched, not_modified, failed };
  Outcome outcome = Outcome::failed;
  long http_status = 0;   // 0 if no response
  uint64_t size = 0;      // fetched only: bytes of the body (decompressed)
  std::string sha256;     // fetched only: lowercase hex SHA-256 of the body
  Validators validators;  // fetched: the new ones; not_modified: the ones sent back
  UpdateFailure failure = UpdateFailure::connect;  // failed only
  std::string error;      // failed only: for logs
};

// Fetches `url`, conditionally if `cached` has validators, writing the body (decompressed) to
// `body_path` as it arrives (created or truncated; removed unless the outcome is fetched), so
// a download never sits in memory. Never throws for network, HTTP or disk problems (they are
// a failed result; the disk's is UpdateFailure::io). Redirects of an https URL are followed
// only to https (else insecure_redirect); a body whose SHA-256 is not limits.sha256 (if set)
// is a checksum failure. `stop`, if given, aborts the transfer when set.
FetchResult fetch_feed(const std::string& url, const Validators& cached, const FetchLimits& limits,
                       const std::string& body_path, const std::atomic<bool>* stop = nullptr);

}  // namespace dnsvagt
