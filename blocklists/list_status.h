// ListStatus: what is known about one configured list at a moment: which list it is and what
// its updates found. The list updater keeps one per list; the metrics keep one per list name
// (across reloads, which replace the updater) and show it on /metrics and the compliance page.
#pragma once

// Header-only, like update_failure.h: the metrics target links no blocklists code (nor the
// config's), so this record holds the config's facts as text and needs nothing but std.

#include <array>
#include <chrono>
#include <cstdint>
#include <numeric>
#include <optional>
#include <string>

#include "blocklists/update_failure.h"

namespace dnsvagt {

// Every member has a default, so {.name = ..., .source = ...} describes a list not yet updated.
struct ListStatus {
  using Time = std::chrono::system_clock::time_point;

  // From the config (blocking.lists or blocking.allow).
  std::string name;
  bool allow = false;   // an allow list (exceptions) rather than a block list
  std::string source;   // the feed URL or the local file path
  std::string format;   // as configured: "auto", "hosts", "domains", "adblock", "rpz"
  std::chrono::seconds refresh{3600};  // 0 = never refreshed (no staleness check)

  // What its updates found.
  uint64_t entries = 0;  // entries of the version in use
  std::optional<Time> last_success{};  // last fetch or check that confirmed a good version
  std::optional<Time> last_attempt{};
  std::optional<Time> last_failure{};
  UpdateFailure last_failure_reason = UpdateFailure::http_status;  // when last_failure is set
  std::array<uint64_t, kUpdateFailureCount> failures{};            // by UpdateFailure

  // Queries this list blocked since the start: filled in by the metrics' snapshot (the updater
  // sees no queries).
  uint64_t blocked = 0;

  // A fetch or check confirmed a good version with `version_entries` entries.
  void succeeded(uint64_t version_entries, Time when) {
    entries = version_entries;
    last_success = when;
    last_attempt = when;
  }
  void failed(UpdateFailure reason, Time when) {
    ++failures[static_cast<size_t>(reason)];
    last_failure = when;
    last_failure_reason = reason;
    last_attempt = when;
  }

  uint64_t total_failures() const {
    return std::accumulate(failures.begin(), failures.end(), uint64_t{0});
  }
  // The most recent attempt failed.
  bool failing() const { return last_failure && (!last_success || *last_failure > *last_success); }
};

}  // namespace dnsvagt
