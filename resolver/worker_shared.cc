#include "resolver/worker_shared.h"

#include <utility>

#include "resolver/unbound_config.h"

namespace dnsvagt {

WorkerShared::WorkerShared(Config config_in, TcpSlots* tcp_slots_in)
    : config(std::move(config_in)),
      cache(AnswerCache::Options{answer_cache_bytes(config.cache), config.cache.serve_stale,
                                 86400, config.cache.prefetch}),
      access_list(config.server.allow),
      proxies(config.server.proxy_protocol_from),
      dot_context(config.server.tls.listen.empty()
                      ? nullptr
                      : make_tls_context(config.server.tls, Transport::dot)),
      doh_context(config.server.tls.doh_listen.empty()
                      ? nullptr
                      : make_tls_context(config.server.tls, Transport::doh)),
      client_groups(config.clients),
      tcp_slots(tcp_slots_in) {}

}  // namespace dnsvagt
