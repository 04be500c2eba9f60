// The clocks the resolver reads: nanoseconds of a clock, and coarse monotonic seconds (the
// cache's time and the watchdog's heartbeat, where a tick's precision is plenty).
#pragma once

#include <cstdint>
#include <ctime>

namespace dnsvagt {

// Query durations run from receipt to send. A UDP batch reads the clock once after recvmmsg
// and once after sendmmsg (every query of the batch gets that span); a TCP query and each
// upstream answer read it themselves. The vDSO makes a read cost ~20 ns.
inline int64_t clock_ns(clockid_t clock) {
  timespec now;
  clock_gettime(clock, &now);
  return int64_t{now.tv_sec} * 1000000000 + now.tv_nsec;
}

inline uint32_t monotonic_seconds() {
  timespec now;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
  return static_cast<uint32_t>(now.tv_sec);
}

}  // namespace dnsvagt
