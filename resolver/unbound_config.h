// The unbound.conf text that configures one libunbound context from a Config: forwarding,
// trust anchors, negative trust anchors, cache sizes. A file rather than ub_ctx_set_option()
// calls, because only the file syntax can express forward-zone clauses and local-zone overrides.
#pragma once

#include <string>
#include <vector>

#include "config/config.h"

namespace dnsvagt {

struct UnboundContextRole {
  bool validating = true;     // false: the CD=1 (or validation off) context, iterator only
  unsigned contexts = 1;      // how many contexts share the cache budget (all workers' ones)
  // The prefetch context: keeps no answers, so a refresh near expiry reaches the upstream
  // instead of libunbound's own copy, which ages in step with the front cache.
  bool refresh = false;
};

std::string unbound_config_text(const Config& config, UnboundContextRole role);

// Bytes of cache.size left for the shared AnswerCache; the rest is split among the libunbound
// contexts (their caches only help to build answers, the front cache serves repeats).
uint64_t answer_cache_bytes(const CacheConfig& cache);

// A local zone libunbound 1.17 sets up by itself (RFC 6761, RFC 6303 and the other AS112
// zones, RFC 8375, RFC 7686) and answers without asking anyone.
struct BuiltInZone {
  std::string name;       // lowercase, absolute: "10.in-addr.arpa."
  bool loopback = false;  // localhost. and the reverse zones of 127.0.0.0/8 and ::1
};
const std::vector<BuiltInZone>& builtin_local_zones();

// True if any forward server is reached over DNS over TLS.
bool forwards_over_tls(const UpstreamConfig& upstream);

// "192.0.2.1@853#dns.example" as forward-addr wants it.
std::string forward_addr_text(const UpstreamServer& server);

}  // namespace dnsvagt
