#include "resolver/answer_cache.h"

#include <array>
#include <functional>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "dns/dns_name.h"
#include "resolver/wire.h"

namespace dnsvagt {
namespace {

// Shards keep workers on different names from contending for one lock.
constexpr size_t kShards = 64;
// Per entry beyond the answer and the key: list node, map node and bucket, shared_ptr block.
constexpr size_t kEntryOverhead = 160;

struct Entry {
  std::string key;
  std::shared_ptr<const Answer> answer;
  uint32_t stored = 0;
  uint32_t ttl = 0;
  uint32_t hits = 0;
  bool prefetch_signalled = false;
  size_t cost = 0;
};

struct Shard {
  std::mutex mutex;
  std::list<Entry> lru;  // most recently used first
  // Keys view Entry::key inside the list nodes, which never move.
  std::unordered_map<std::string_view, std::list<Entry>::iterator> index;
  uint64_t bytes = 0;

  void erase(std::list<Entry>::iterator entry) {
    bytes -= entry->cost;
    index.erase(std::string_view(entry->key));
    lru.erase(entry);
  }
};

}  // namespace

struct AnswerCache::Impl {
  Options options;
  uint64_t shard_budget;
  std::array<Shard, kShards> shards;

  explicit Impl(Options o) : options(o), shard_budget(o.max_bytes / kShards) {}

  Shard& shard_for(std::string_view key) {
    // The high half: the map's buckets use the low bits of the same hash.
    return shards[(std::hash<std::string_view>{}(key) >> 32) % kShards];
  }
};

AnswerCache::AnswerCache(Options options) : impl_(std::make_unique<Impl>(options)) {}
AnswerCache::~AnswerCache() = default;

std::optional<AnswerCache::Hit> AnswerCache::lookup(const Query& query, uint32_t now) {
  uint8_t buffer[kMaxCacheKey];
  const std::string_view key = cache_key(query, buffer);
  if (key.empty()) return std::nullopt;
  Shard& shard = impl_->shard_for(key);
  std::lock_guard lock(shard.mutex);
  const auto found = shard.index.find(key);
  if (found == shard.index.end()) return std::nullopt;
  const auto entry = found->second;
  const uint32_t age = now > entry->stored ? now - entry->stored : 0;
  Hit hit{entry->answer, age, false, false};
  if (age >= entry->ttl) {
    const uint64_t stale_until = uint64_t{entry->ttl} + impl_->options.stale_seconds;
    if (!impl_->options.serve_stale || age >= stale_until) {
      shard.erase(entry);
      return std::nullopt;
    }
    hit.stale = true;
  } else {
    ++entry->hits;
    // One hint per stored answer: every worker seeing it would refresh the same name.
    const uint64_t remaining = entry->ttl - age;
    if (impl_->options.prefetch && !entry->prefetch_signalled && entry->hits >= 2 &&
        remaining * 10 <= entry->ttl) {
      entry->prefetch_signalled = true;
      hit.prefetch_due = true;
    }
  }
  shard.lru.splice(shard.lru.begin(), shard.lru, entry);
  return hit;
}

void AnswerCache::insert(const Query& query, std::shared_ptr<const Answer> answer,
                         uint32_t now) {
  if (!answer || answer->ttl() == 0 || answer->status() == DnssecStatus::bogus) return;
  uint8_t buffer[kMaxCacheKey];
  const std::string_view key = cache_key(query, buffer);
  if (key.empty()) return;
  const size_t cost = answer->memory_size() + key.size() + kEntryOverhead;
  if (cost > impl_->shard_budget) return;

  Shard& shard = impl_->shard_for(key);
  std::lock_guard lock(shard.mutex);
  if (const auto found = shard.index.find(key); found != shard.index.end()) {
    shard.erase(found->second);
  }
  const uint32_t ttl = answer->ttl();
  shard.lru.push_front(Entry{std::string(key), std::move(answer), now, ttl, 0, false, cost});
  shard.index.emplace(std::string_view(shard.lru.front().key), shard.lru.begin());
  shard.bytes += cost;
  while (shard.bytes > impl_->shard_budget) shard.erase(std::prev(shard.lru.end()));
}

void AnswerCache::clear() {
  for (Shard& shard : impl_->shards) {
    std::lock_guard lock(shard.mutex);
    shard.index.clear();
    shard.lru.clear();
    shard.bytes = 0;
  }
}

size_t AnswerCache::entries() const {
  size_t count = 0;
  for (Shard& shard : impl_->shards) {
    std::lock_guard lock(shard.mutex);
    count += shard.lru.size();
  }
  return count;
}

uint64_t AnswerCache::bytes() const {
  uint64_t total = 0;
  for (Shard& shard : impl_->shards) {
    std::lock_guard lock(shard.mutex);
    total += shard.bytes;
  }
  return total;
}

}  // namespace dnsvagt
