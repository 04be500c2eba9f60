#include "resolver/rate_limiter.h"

#include <netinet/in.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <random>

namespace dnsvagt {

RateLimiter::RateLimiter(uint32_t qps, uint32_t burst, size_t clients)
    : tokens_per_ns_(qps / 1e9),
      burst_(std::max<uint32_t>(burst, 1)),
      // A secret seed: a client cannot pick addresses that all land in one set.
      seed_((uint64_t{std::random_device{}()} << 32) | std::random_device{}()) {
  size_t slots = std::bit_ceil(std::max(clients, kWays));
  set_mask_ = slots / kWays - 1;
  slots_.resize(slots);
}

bool RateLimiter::allow(const sockaddr* address, int64_t now_ns) {
  uint8_t key[17] = {};
  size_t key_length;
  if (address->sa_family == AF_INET) {
    key[0] = 4;
    memcpy(key + 1, &reinterpret_cast<const sockaddr_in*>(address)->sin_addr, 4);
    key_length = 5;
  } else if (address->sa_family == AF_INET6) {
    key[0] = 6;
    memcpy(key + 1, &reinterpret_cast<const sockaddr_in6*>(address)->sin6_addr, 16);
    key_length = 17;
  } else {
    return true;
  }
  uint64_t hash = seed_;
  for (size_t i = 0; i < key_length; ++i) hash = (hash ^ key[i]) * 0x100000001b3ull;
  hash ^= hash >> 29;
  Slot* set = &slots_[((hash >> 7) & set_mask_) * kWays];

  Slot* slot = nullptr;
  Slot* oldest = set;
  for (size_t way = 0; way < kWays; ++way) {
    Slot& candidate = set[way];
    if (candidate.used && memcmp(candidate.key, key, sizeof key) == 0) {
      slot = &candidate;
      break;
    }
    if (!candidate.used || (oldest->used && candidate.last_ns < oldest->last_ns)) {
      oldest = &candidate;
    }
  }
  if (!slot) {
    // A new client (or one evicted since) starts with a full bucket.
    slot = oldest;
    memcpy(slot->key, key, sizeof key);
    slot->used = true;
    slot->tokens = burst_;
    slot->last_ns = now_ns;
  }
  if (now_ns > slot->last_ns) {
    slot->tokens = std::min(burst_, slot->tokens + (now_ns - slot->last_ns) * tokens_per_ns_);
    slot->last_ns = now_ns;
  }
  if (slot->tokens < 1) return false;
  slot->tokens -= 1;
  return true;
}

}  // namespace dnsvagt
