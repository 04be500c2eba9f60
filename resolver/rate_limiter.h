// RateLimiter: the token bucket of each client network (server.rate_limit), one table shared by
// all workers, so a client meets one limit whichever worker, socket or transport it reaches.
//
// Clients are keyed by network: IPv4 by `ipv4_prefix` bits (32: the address), IPv6 by
// `ipv6_prefix` bits (56: what a site is usually delegated). A single IPv6 host commonly has a
// whole /64 and may pick any source address in it, so keying by /128 would hand it 2^64
// buckets. IPv4-mapped IPv6 addresses (dual-stack sockets) are keyed as IPv4.
//
// The buckets live in a fixed table, so memory stays bounded however many sources there are:
// sets of kWays slots, a network's set picked by a seeded hash. A network new to its set, when
// the set is full, takes over the slot whose bucket is fullest, keeping that bucket as it is
// (not refilling it). Hence table churn never creates tokens:
// - evicting a full bucket forgets nothing: a client that is not in the table has a full
//   bucket anyway, so "new" and "idle long enough to refill" are the same;
// - a client that is being limited has the emptiest bucket in its set and is evicted last; a
//   flood of new source addresses cannot make the table forget it;
// - when every bucket of a set is drained (such a flood), a newcomer inherits a drained one.
// An evicted client that comes back takes over the then fullest bucket of its set, which holds
// no more than its own would have (it was the fullest when it left, and all refill alike).
// So no network is ever allowed more than an exact bucket of its own would allow; a full table
// only makes the limit stricter, for newcomers to sets of limited clients. The seed does not
// guard this bound; it only keeps a flood from aiming at one set.
//
// A bucket is one number, the time at which it is full again (GCRA's "theoretical arrival
// time"): a query takes a token by pushing that time one interval (1/qps) later, allowed while
// it stays within burst intervals of now. Times from different threads may be slightly out of
// order; an earlier `now_ns` only sees fewer tokens.
//
// Thread-safe: a spin lock per set, which shares the set's two cache lines. Workers wait for
// each other only when clients of the same set arrive at the same moment, and the lock is held
// for a few dozen instructions, never across a system call. (A 40-byte mutex would not fit
// beside the slots.)
#pragma once

#include <sys/socket.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>

#include "config/config.h"

namespace dnsvagt {

class RateLimiter {
 public:
  static constexpr size_t kDefaultClients = 65536;  // 2 MiB

  // `limit.qps` (> 0) tokens per second, at most `limit.burst` saved up (at least 1). `clients`
  // is the table size in networks (rounded up to a power of two of at least kWays).
  explicit RateLimiter(const RateLimit& limit, size_t clients = kDefaultClients);

  // Takes a token from the bucket of the client's network; false if it has none. `now_ns` is
  // monotonic. Addresses of other families than AF_INET/AF_INET6 are always allowed.
  bool allow(const sockaddr* address, int64_t now_ns);

 private:
  static constexpr unsigned kWays = 4;
  struct Network {
    uint64_t high = 0, low = 0;  // IPv6 bits, prefix-masked; IPv4 as ::ffff:a.b.c.d
    bool operator==(const Network&) const = default;
  };
  struct Slot {
    Network network;
    int64_t full_at_ns = 0;
  };
  struct alignas(64) Set {
    std::atomic<bool> locked{false};
    uint8_t used = 0;  // ways in use, filled in order and never emptied
    Slot slots[kWays];
  };
  class SetLock;

  std::optional<Network> network_of(const sockaddr* address) const;
  Network ipv4_network(uint32_t address) const;
  Slot& slot_for(Set& set, const Network& network);

  const int64_t interval_ns_;  // one token
  const int64_t depth_ns_;     // burst tokens
  const uint32_t ipv4_mask_;
  const uint64_t ipv6_mask_high_;
  const uint64_t ipv6_mask_low_;
  const uint64_t seed_;
  size_t set_mask_;  // sets - 1
  std::unique_ptr<Set[]> sets_;
};

}  // namespace dnsvagt
