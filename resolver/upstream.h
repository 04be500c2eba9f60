// Upstream: one worker's libunbound contexts on the worker's event_base. A validating context
// answers ordinary queries; a second, iterator-only context answers CD=1 queries, which want
// the data without validation. Also maps libunbound's failure reasons to EDE codes.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_set>

#include "config/config.h"
#include "resolver/answer.h"
#include "resolver/unbound_config.h"

struct event_base;
struct ub_ctx;

namespace dnsvagt {

struct UpstreamReply {
  int rcode = 0;                      // nonzero: resolution failed, `packet` must not be used
  std::span<const uint8_t> packet;    // the answer (ID 0, RRSIGs included)
  DnssecStatus status = DnssecStatus::indeterminate;
  std::string_view why_bogus;         // libunbound's explanation when status is bogus
};

class Upstream {
 public:
  using Callback = void (*)(void* context, const UpstreamReply& reply);

  // Configures and starts the contexts (every option must be set before the first query, so
  // this resolves "localhost." once to make libunbound load its config and trust anchors).
  // `contexts_in_process` sizes each context's share of the cache budget. Throws
  // std::runtime_error naming what failed (bad anchor file, bad option, ...).
  Upstream(event_base* base, const Config& config, unsigned contexts_in_process);
  ~Upstream();
  Upstream(const Upstream&) = delete;
  Upstream& operator=(const Upstream&) = delete;

  // Starts resolving `name` (text form). `done` runs on the event loop thread, possibly
  // before resolve() returns (answers from local zones). Returns false, without calling
  // `done`, when libunbound refuses to start the query.
  // `refresh`: a prefetch, resolved past libunbound's own cache (when validating).
  bool resolve(const std::string& name, uint16_t qtype, uint16_t qclass, bool checking_disabled,
               bool refresh, Callback done, void* context);

  // Contexts with a cache one worker creates (for sizing their caches; the prefetch context
  // keeps none).
  static unsigned contexts_per_worker(const Config& config);

 private:
  struct Request;
  static void on_result(void* request, int rcode, void* packet, int packet_length, int sec,
                        char* why_bogus, int was_ratelimited);
  ub_ctx* make_context(event_base* base, const Config& config, UnboundContextRole role);

  // Requests libunbound still holds; freed here if the contexts go away first.
  std::unordered_set<Request*> in_flight_;
  ub_ctx* validating_ = nullptr;
  ub_ctx* checking_disabled_ = nullptr;  // same as validating_ when validation is off
  ub_ctx* refreshing_ = nullptr;         // prefetches; same as validating_ without cache.prefetch
  bool validation_enabled_ = true;
};

// The EDE code (RFC 8914) for libunbound's why_bogus text: 7 signature expired, 8 not yet
// valid, 9 DNSKEY missing, 10 RRSIGs missing, 12 NSEC missing, else 6 DNSSEC Bogus.
uint16_t ede_code_for_bogus(std::string_view why_bogus);

// The EDE code for a failed resolution (libunbound rcode != 0).
uint16_t ede_code_for_failure(int rcode);

}  // namespace dnsvagt
