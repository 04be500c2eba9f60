// AnswerCache: complete answers keyed by (name case-insensitively, type, class, DO, CD), shared
// by all workers, bounded in bytes, with TTL aging, serve-stale (RFC 8767) and prefetch hints.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>

#include "resolver/answer.h"
#include "resolver/query.h"

namespace dnsvagt {

class AnswerCache {
 public:
  struct Options {
    uint64_t max_bytes = 256ull << 20;
    bool serve_stale = true;
    uint32_t stale_seconds = 86400;   // how long past expiry an answer may still be served stale
    bool prefetch = true;
  };
  explicit AnswerCache(Options options);
  ~AnswerCache();  // out of line: Impl is incomplete here

  struct Hit {
    std::shared_ptr<const Answer> answer;
    uint32_t age = 0;           // seconds since stored (for TTL aging)
    bool stale = false;         // expired, usable only as serve-stale fallback
    // Fresh, in the last 10% of its TTL, and hit at least twice since stored: refresh it now.
    // Given once per stored answer, so only one worker refreshes; the insert re-arms it.
    bool prefetch_due = false;
  };

  // `now` is a monotonic clock in seconds. Returns expired entries only while serve_stale
  // allows (with stale = true); callers decide whether to use them.
  std::optional<Hit> lookup(const Query& query, uint32_t now);
  // Stores `answer` for `query`'s key, replacing the entry there, and evicts the least
  // recently used entries of the key's shard (1/64 of max_bytes) beyond the bound. Answers
  // with ttl() == 0 and bogus answers are not stored (an older entry stays for serve-stale).
  void insert(const Query& query, std::shared_ptr<const Answer> answer, uint32_t now);
  void clear();

  size_t entries() const;
  uint64_t bytes() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace dnsvagt
