#include "resolver/internal_errors.h"

#include "resolver/logging.h"
#include "resolver/reply_accounting.h"

namespace dnsvagt {
namespace {

constexpr int64_t kLogInterval = int64_t{60} * 1000000000;

}  // namespace

void InternalErrors::note(const char* where, const std::exception& error) {
  counters_.internal_error();
  const int64_t now = clock_ns(CLOCK_MONOTONIC);
  if (logged_ns_ == 0 || now - logged_ns_ >= kLogInterval) {
    logged_ns_ = now;
    log_error("internal error %s: %s (logged at most once a minute per worker; "
              "dnsvagt_internal_errors_total counts every one)",
              where, error.what());
  }
}

}  // namespace dnsvagt
