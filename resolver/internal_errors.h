// InternalErrors: the last line of defence around a libevent callback. An exception cannot
// unwind through the C event loop and would end the process: it is logged and counted instead.
#pragma once

#include <cstdint>
#include <exception>

#include "metrics/worker_counters.h"

namespace dnsvagt {

class InternalErrors {
 public:
  // Counts in `counters`, from the worker's thread only.
  explicit InternalErrors(WorkerCounters& counters) : counters_(counters) {}

  // Counts every error in dnsvagt_internal_errors_total and logs at most one a minute: a
  // client that can trigger one must not flood the log.
  void note(const char* where, const std::exception& error);

  // Runs `work`, noting what it throws.
  template <typename Work>
  void guarded(const char* where, Work&& work) noexcept {
    try {
      work();
    } catch (const std::exception& error) {
      note(where, error);
    }
  }

 private:
  WorkerCounters& counters_;
  int64_t logged_ns_ = 0;
};

}  // namespace dnsvagt
