// The query pipeline's stages that need no socket and no event loop: admission (rate limit,
// ACL, parse verdicts), the blocklist policy and the cache, each answering a query or passing
// it on.
#pragma once

#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>

#include "blocklists/policy.h"
#include "config/config.h"
#include "metrics/worker_counters.h"
#include "resolver/access_list.h"
#include "resolver/answer.h"
#include "resolver/answer_cache.h"
#include "resolver/in_flight.h"
#include "resolver/policy_answers.h"
#include "resolver/query.h"
#include "resolver/rate_limiter.h"
#include "resolver/reply_accounting.h"

namespace dnsvagt {

// One reply the query pipeline produced: its length in the caller's buffer, and its facts.
struct Outcome {
  size_t length = 0;
  ReplyFacts facts;
  bool silent = false;  // an RPZ drop: no reply, yet counted as blocked and logged
  // Not counted: a query dropped unanswered, or one now waiting for upstream.
  bool counted() const { return length > 0 || silent; }
};

// What admit() made of a packet: a well-formed query of an allowed client within its rate
// (admitted: policy, cache and upstream answer it), or the reply it gets here.
struct Admission {
  bool admitted = false;
  Query query;      // points into the packet
  Outcome outcome;  // not admitted: the reply in `out`, or none
};

// Counts the query and judges it, the ACL before anything else: outside it a client learns
// nothing from us, not even how we judge its packets. `limiter` null: no rate limit.
Admission admit(std::span<const uint8_t> packet, const sockaddr* client, Transport transport,
                int64_t received_ns, RateLimiter* limiter, const AccessList& access_list,
                WorkerCounters& counters, std::span<uint8_t> out);

// What to do with a cache lookup's `hit`: answer with it (a fresh answer, or an expired one
// while its refresh in `in_flight` is overdue, RFC 8767), start a prefetch nobody waits for,
// or else resolve upstream (a miss, or an expired answer not yet served).
struct CacheUse {
  bool answer = false;
  bool stale = false;     // the answer is expired: the reply says so
  bool prefetch = false;  // fresh, due for a refresh and none in flight
};
CacheUse use_cache(const std::optional<AnswerCache::Hit>& hit, const InFlight& in_flight,
                   const Query& query);

// The blocklist stages of one worker (DESIGN.md "Data flow"): the query name before the cache
// is asked, and the CNAME chain of every answer used, against the policy the caller holds.
class PolicyStage {
 public:
  PolicyStage(const BlockingConfig& config, ReplyAccounting& accounting);

  // The reply a blocked query gets; `answer` null: none at all (RPZ drop).
  struct Blocked {
    std::shared_ptr<const Answer> answer;
    uint32_t list;  // ReplyFacts::list
  };
  // Set if the query name is blocked for a client of policy group `group`, in any class: a
  // name that is blocked in IN must not leak to its servers through a CH or ANY query.
  std::optional<Blocked> check_name(const std::shared_ptr<const Policy>& policy,
                                    const Query& query, size_t group);
  // CNAME cloaking: set if blocking.cname_check is on and Policy::check_answer blocks
  // `answer` for `group`. Checked on every use of an answer (the cache holds answers as
  // upstream gave them), so a list change applies to cached answers at once and one group's
  // verdict never reaches another group's client.
  std::optional<Blocked> check_cname_chain(const std::shared_ptr<const Policy>& policy,
                                           const Query& query, const Answer& answer,
                                           size_t group);
  // The blocked reply in `out`, with `facts` (the query's) marked as blocked.
  static Outcome render(const Blocked& blocked, const Query& query, ReplyFacts facts,
                        size_t max_size, std::span<uint8_t> out);

 private:
  const bool cname_check_;
  PolicyAnswers answers_;
  ReplyAccounting& accounting_;
};

}  // namespace dnsvagt
