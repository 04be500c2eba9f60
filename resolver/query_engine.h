// QueryEngine: one worker's way from a query to its reply (DESIGN.md "Data flow"): admission,
// blocklist policy and cache, and for a miss the in-flight table and upstream, whose answer
// goes to every target waiting for it. Transports hand it queries; it owns no socket.
#pragma once

#include <event2/event.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string_view>

#include "blocklists/policy.h"
#include "metrics/worker_counters.h"
#include "resolver/in_flight.h"
#include "resolver/internal_errors.h"
#include "resolver/query_pipeline.h"
#include "resolver/reply_accounting.h"
#include "resolver/reply_target.h"
#include "resolver/upstream.h"
#include "resolver/worker_shared.h"

namespace dnsvagt {

// One query as a transport hands it over.
struct Request {
  std::span<const uint8_t> packet;
  const ReplyTarget& target;
  int64_t received_ns;  // monotonic
};

// The largest reply: a TCP message.
inline constexpr size_t kMaxReply = 65535;

class QueryEngine {
 public:
  // Builds the libunbound contexts on `base`; throws std::runtime_error. `answered` runs after
  // the clients waiting for an upstream answer got it (the worker's drain watches that).
  QueryEngine(event_base* base, std::shared_ptr<WorkerShared> shared,
              unsigned contexts_in_process, WorkerCounters& counters,
              ReplyAccounting& accounting, InternalErrors& errors,
              std::function<void()> answered);

  // The reply to `request` in `out` (at least kMaxReply bytes for a stream transport, the
  // largest UDP reply for UDP). A query that waits for upstream gets no reply now (and is
  // not counted): its answer goes to its target later, through ReplyTarget, and is counted
  // here. Never throws: a query that cannot be answered gets SERVFAIL and is counted as an
  // internal error.
  Outcome answer(const Request& request, std::span<uint8_t> out);
  // Whether a client still waits for an upstream answer.
  bool answers_owed() const { return in_flight_.answers_owed(); }

  // Holds the published blocklist policy while one wakeup's queries are handled, and lets it
  // go at the end: a replaced policy is freed as soon as the last query using it is done, not
  // when each worker next wakes up. Once per wakeup, not per query, because the atomic load
  // takes a reference count all workers contend on. Nests (an upstream answer can arrive
  // inside a read): the inner lease restores the outer one's policy.
  class PolicyLease {
   public:
    explicit PolicyLease(QueryEngine& engine);
    ~PolicyLease();
    PolicyLease(const PolicyLease&) = delete;
    PolicyLease& operator=(const PolicyLease&) = delete;

   private:
    QueryEngine& engine_;
    std::shared_ptr<const Policy> outer_;
  };

 private:
  // answer() for a well-formed query of an allowed client: policy, cache, upstream.
  Outcome answer_allowed(const Request& request, const Query& query, std::span<uint8_t> out);
  // Queues `target` (null: a prefetch) behind the resolution of `query`, starting one if no
  // identical query is in flight.
  void wait_for_upstream(std::span<const uint8_t> packet, const Query& query,
                         const ReplyTarget* target, int64_t received_ns);
  void finish(InFlight::Entry* pending, const UpstreamReply& reply);
  // `facts`: what all the replies share (their question is each waiter's own).
  void reply_to_waiters(InFlight::Entry& pending, ReplyFacts facts, const Answer* answer,
                        uint32_t age, bool stale, uint16_t ede_code, std::string_view ede_text);
  void answer_late(InFlight::Entry& pending);
  // What the waiters of one client group get: the answer, or the block its CNAME chain meets
  // under the group's lists (`answer` null: SERVFAIL).
  struct GroupReply {
    ReplyFacts facts;
    const Answer* answer = nullptr;
    uint32_t age = 0;
    bool stale = false;
    bool drop = false;  // RPZ drop: no reply at all
    std::optional<PolicyStage::Blocked> blocked = {};  // holds `answer` when blocked
  };
  GroupReply reply_for_group(const InFlight::Entry& pending, size_t group, ReplyFacts facts,
                             const Answer* answer, uint32_t age, bool stale);

  std::shared_ptr<WorkerShared> shared_;
  WorkerCounters& counters_;
  ReplyAccounting& accounting_;
  InternalErrors& errors_;
  std::function<void()> answered_;
  PolicyStage policy_stage_;
  std::shared_ptr<const Policy> policy_;  // while a PolicyLease holds it
  InFlight in_flight_;
  std::unique_ptr<Upstream> upstream_;  // after in_flight_: its queries end first
  std::vector<uint8_t> reply_;          // a waiter's reply
};

}  // namespace dnsvagt
