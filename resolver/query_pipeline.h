// The query pipeline's stages that need no socket and no event loop, starting with admission:
// rate limit, ACL and the parse verdicts, which answer (or drop) a query before policy.
#pragma once

#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <span>

#include "metrics/worker_counters.h"
#include "resolver/access_list.h"
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

}  // namespace dnsvagt
