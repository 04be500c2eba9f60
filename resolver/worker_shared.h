// WorkerShared: what all workers of one configuration share (config, answer cache, ACL and
// PROXY sources, client groups, the TLS contexts, the published blocklist policy, rate limiter,
// TCP slots). A reload builds a new one, which reads the certificate and key again.
#pragma once

#include <memory>

#include "blocklists/policy.h"
#include "config/config.h"
#include "resolver/access_list.h"
#include "resolver/answer_cache.h"
#include "resolver/client_groups.h"
#include "resolver/rate_limiter.h"
#include "resolver/tcp_slots.h"
#include "resolver/tls_context.h"

namespace dnsvagt {

struct WorkerShared {
  WorkerShared(Config config, TcpSlots* tcp_slots);
  Config config;
  AnswerCache cache;
  AccessList access_list;
  AccessList proxies;  // server.proxy_protocol_from
  std::shared_ptr<SSL_CTX> dot_context;  // server.tls; null without DNS over TLS
  std::shared_ptr<SSL_CTX> doh_context;  // server.tls; null without DNS over HTTPS
  ClientGroups client_groups;  // config `clients`, numbered as the published policy's groups
  PublishedPolicy policy;  // the blocklists of this config; the list updater publishes here
  // server.rate_limit, null when off. The Server sets it, and keeps it over a reload that
  // leaves the limit as it was, so a SIGHUP does not refill every client's bucket.
  std::shared_ptr<RateLimiter> rate_limiter;
  TcpSlots* tcp_slots;  // open client connections, across reloads
};

}  // namespace dnsvagt
