#include "resolver/rate_limiter.h"

#include <netinet/in.h>

#include <algorithm>
#include <bit>
#include <limits>
#include <random>
#include <thread>

namespace dnsvagt {
namespace {

// The top `bits` (0..64) of a 64-bit word.
uint64_t prefix_mask(unsigned bits) { return bits == 0 ? 0 : ~uint64_t{0} << (64 - bits); }

// splitmix64's finalizer: every input bit moves every output bit.
uint64_t mix(uint64_t x) {
  x = (x ^ x >> 30) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ x >> 27) * 0x94d049bb133111ebull;
  return x ^ x >> 31;
}

uint64_t load_big_endian(const uint8_t* bytes) {
  uint64_t value = 0;
  for (int i = 0; i < 8; ++i) value = value << 8 | bytes[i];
  return value;
}

}  // namespace

class RateLimiter::SetLock {
 public:
  explicit SetLock(Set& set) : set_(set) {
    while (set_.locked.exchange(true, std::memory_order_acquire)) {
      // The holder is a few dozen instructions from done, unless it was preempted.
      for (int spins = 0; set_.locked.load(std::memory_order_relaxed); ++spins) {
        if (spins >= 64) std::this_thread::yield();
      }
    }
  }
  ~SetLock() { set_.locked.store(false, std::memory_order_release); }
  SetLock(const SetLock&) = delete;
  SetLock& operator=(const SetLock&) = delete;

 private:
  Set& set_;
};

RateLimiter::RateLimiter(const RateLimit& limit, size_t clients)
    : interval_ns_(std::max<int64_t>((1000000000 + limit.qps / 2) / limit.qps, 1)),
      depth_ns_(interval_ns_ * std::max<uint32_t>(limit.burst, 1)),
      ipv4_mask_(static_cast<uint32_t>(prefix_mask(limit.ipv4_prefix) >> 32)),
      ipv6_mask_high_(prefix_mask(std::min(limit.ipv6_prefix, 64u))),
      ipv6_mask_low_(prefix_mask(limit.ipv6_prefix - std::min(limit.ipv6_prefix, 64u))),
      seed_((uint64_t{std::random_device{}()} << 32) | std::random_device{}()) {
  size_t sets = std::bit_ceil(std::max<size_t>(clients, kWays)) / kWays;
  set_mask_ = sets - 1;
  sets_ = std::make_unique<Set[]>(sets);
}

RateLimiter::Network RateLimiter::ipv4_network(uint32_t address) const {
  return {0, uint64_t{0xffff} << 32 | (address & ipv4_mask_)};
}

std::optional<RateLimiter::Network> RateLimiter::network_of(const sockaddr* address) const {
  if (address->sa_family == AF_INET) {
    return ipv4_network(ntohl(reinterpret_cast<const sockaddr_in*>(address)->sin_addr.s_addr));
  }
  if (address->sa_family != AF_INET6) return std::nullopt;
  const in6_addr& ip = reinterpret_cast<const sockaddr_in6*>(address)->sin6_addr;
  if (IN6_IS_ADDR_V4MAPPED(&ip)) {
    return ipv4_network(static_cast<uint32_t>(load_big_endian(ip.s6_addr + 8)));
  }
  return Network{load_big_endian(ip.s6_addr) & ipv6_mask_high_,
                 load_big_endian(ip.s6_addr + 8) & ipv6_mask_low_};
}

RateLimiter::Slot& RateLimiter::slot_for(Set& set, const Network& network) {
  for (unsigned way = 0; way < set.used; ++way) {
    if (set.slots[way].network == network) return set.slots[way];
  }
  if (set.used < kWays) {
    Slot& fresh = set.slots[set.used++];
    fresh = {network, std::numeric_limits<int64_t>::min()};  // full
    return fresh;
  }
  // Take over the fullest bucket as it is (see the header: churn must not create tokens).
  Slot* fullest = &set.slots[0];
  for (Slot& slot : set.slots) {
    if (slot.full_at_ns < fullest->full_at_ns) fullest = &slot;
  }
  fullest->network = network;
  return *fullest;
}

bool RateLimiter::allow(const sockaddr* address, int64_t now_ns) {
  std::optional<Network> network = network_of(address);
  if (!network) return true;
  Set& set = sets_[mix(mix(network->high ^ seed_) ^ network->low) & set_mask_];
  SetLock lock(set);
  Slot& slot = slot_for(set, *network);
  int64_t full_at_ns = std::max(slot.full_at_ns, now_ns) + interval_ns_;
  if (full_at_ns - now_ns > depth_ns_) return false;
  slot.full_at_ns = full_at_ns;
  return true;
}

}  // namespace dnsvagt
