// RateLimiter: a token bucket per client address (server.rate_limit), kept by one worker thread
// in a small fixed table; a client that has not been seen lately gives its slot to a new one.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <vector>

namespace dnsvagt {

// Not thread-safe: each worker owns one, so the effective limit is per worker thread. The
// kernel spreads UDP over the workers' SO_REUSEPORT sockets by source address and port, so a
// client that keeps its source port meets exactly `qps`; one that varies it may get up to
// `qps` per worker.
class RateLimiter {
 public:
  // `qps` tokens per second, at most `burst` saved up (burst >= 1 is enforced). `clients` is
  // the table size (rounded up to a power of two of at least 4).
  RateLimiter(uint32_t qps, uint32_t burst, size_t clients = 8192);

  // Takes a token from the client's bucket; false if it has none. `now_ns` is monotonic.
  // Addresses of other families than AF_INET/AF_INET6 are always allowed.
  bool allow(const sockaddr* address, int64_t now_ns);

 private:
  static constexpr size_t kWays = 4;  // slots a client may occupy: the oldest of them is evicted
  struct Slot {
    uint8_t key[17] = {};  // family (4 or 6), then the address
    bool used = false;
    double tokens = 0;
    int64_t last_ns = 0;
  };

  const double tokens_per_ns_;
  const double burst_;
  const uint64_t seed_;
  size_t set_mask_;  // sets - 1; a set is kWays consecutive slots
  std::vector<Slot> slots_;
};

}  // namespace dnsvagt
