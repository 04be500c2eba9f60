// The cache-hit path of one query, piece by piece and whole: parse_query, AnswerCache::lookup
// (hit) and Answer::render of a typical ~100-byte answer to an EDNS client; and what one
// libunbound lookup costs per arrangement of contexts (per worker on its event loop, or one
// context shared by the workers), which decided the resolver's design; and what the rate
// limiter, one table all workers share, costs a query.
#include <arpa/inet.h>
#include <benchmark/benchmark.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <unbound-event.h>
#include <unbound.h>

#include <string>
#include <vector>

#include "resolver/answer.h"
#include "resolver/answer_cache.h"
#include "resolver/query.h"
#include "resolver/rate_limiter.h"
#include "tests/resolver/wire_test_util.h"

namespace dnsvagt {
namespace {

using wiretest::ClientQuery;
using wiretest::upstream_packet;

// www.example.com A: two addresses plus the NS of the zone, about 100 bytes on the wire.
std::shared_ptr<const Answer> typical_answer(const std::string& name) {
  return Answer::from_upstream(
      upstream_packet(name + ". IN A", LDNS_RCODE_NOERROR,
                      {name + ". 3600 IN A 192.0.2.1", name + ". 3600 IN A 192.0.2.2"},
                      {"example.com. 7200 IN NS ns.example.com."}),
      DnssecStatus::secure, false, 86400);
}

// A cache as a server holds it: many names, the benchmarked one among them.
struct WarmCache {
  AnswerCache cache{AnswerCache::Options{}};
  ClientQuery client{"WwW.ExAmPlE.cOm", 1, true, false, 0x20};

  WarmCache() {
    for (int i = 0; i < 10000; ++i) {
      const std::string name = "host" + std::to_string(i) + ".example.com";
      ClientQuery query(name, 1, true, false, 0x20);
      cache.insert(query.query, typical_answer(name), 0);
    }
    cache.insert(client.query, typical_answer("www.example.com"), 0);
  }
};

WarmCache& warm_cache() {
  static WarmCache warm;
  return warm;
}

void BM_ParseQuery(benchmark::State& state) {
  const ClientQuery client("www.example.com", 1, true, true);
  Query query;
  for (auto _ : state) {
    benchmark::DoNotOptimize(parse_query(client.packet, query));
    benchmark::DoNotOptimize(query);
  }
}
BENCHMARK(BM_ParseQuery);

void BM_CacheLookupHit(benchmark::State& state) {
  WarmCache& warm = warm_cache();
  for (auto _ : state) {
    auto hit = warm.cache.lookup(warm.client.query, 100);
    benchmark::DoNotOptimize(hit);
  }
}
BENCHMARK(BM_CacheLookupHit)->ThreadRange(1, 2);

void BM_Render(benchmark::State& state) {
  const auto answer = typical_answer("www.example.com");
  const ClientQuery client("WwW.ExAmPlE.cOm", 1, true, false, 0x20);
  std::vector<uint8_t> out(65535);
  size_t length = 0;
  for (auto _ : state) {
    length = answer->render(client.query, 100, client.query.udp_size, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["reply_bytes"] = static_cast<double>(length);
}
BENCHMARK(BM_Render);

void BM_CacheHitPath(benchmark::State& state) {
  WarmCache& warm = warm_cache();
  std::vector<uint8_t> out(65535);
  Query query;
  for (auto _ : state) {
    parse_query(warm.client.packet, query);
    auto hit = warm.cache.lookup(query, 100);
    benchmark::DoNotOptimize(hit->answer->render(query, hit->age, query.udp_size, out));
  }
}
BENCHMARK(BM_CacheHitPath)->ThreadRange(1, 2);

// libunbound answers these from its local data: the cost measured is libunbound's own per-call
// work (query set-up, module pass, answer packet), the same in both arrangements, plus how
// the call reaches it.
constexpr char kLocalName[] = "bench.example.";
constexpr char kLocalData[] = "bench.example. 3600 IN A 192.0.2.1";

void on_event_answer(void* done, int, void*, int, int, char*, int) {
  *static_cast<bool*>(done) = true;
}

// dnsvagt's arrangement: each worker thread owns a context driven by its own event_base.
void BM_UnboundContextPerWorker(benchmark::State& state) {
  event_base* base = event_base_new();
  ub_ctx* context = ub_ctx_create_event(base);
  if (ub_ctx_data_add(context, kLocalData) != 0) state.SkipWithError("ub_ctx_data_add failed");
  for (auto _ : state) {
    bool done = false;
    int id = 0;
    if (ub_resolve_event(context, kLocalName, 1, 1, &done, on_event_answer, &id) != 0) {
      state.SkipWithError("ub_resolve_event failed");
      break;
    }
    while (!done) event_base_loop(base, EVLOOP_ONCE);
  }
  ub_ctx_delete(context);
  event_base_free(base);
}
BENCHMARK(BM_UnboundContextPerWorker)->ThreadRange(1, 2);

// The alternative: one context shared by every worker through the thread-safe ub_resolve.
ub_ctx* shared_context() {
  static ub_ctx* context = [] {
    ub_ctx* created = ub_ctx_create();
    ub_ctx_data_add(created, kLocalData);
    return created;
  }();
  return context;
}

void BM_UnboundSharedContext(benchmark::State& state) {
  ub_ctx* context = shared_context();
  for (auto _ : state) {
    ub_result* result = nullptr;
    if (ub_resolve(context, kLocalName, 1, 1, &result) != 0 || !result->havedata) {
      state.SkipWithError("ub_resolve failed");
      break;
    }
    ub_resolve_free(result);
  }
}
BENCHMARK(BM_UnboundSharedContext)->ThreadRange(1, 2);

// One limiter for every benchmark thread, as for the workers; a rate no client here reaches.
RateLimiter& shared_limiter() {
  static RateLimiter limiter(RateLimit{1000000, 1000000});
  return limiter;
}

// A host in 2001:<thread>:<network>00::/56 (network: 24 bits).
sockaddr_in6 ipv6_client(int thread, uint32_t network) {
  sockaddr_in6 address = {};
  address.sin6_family = AF_INET6;
  inet_pton(AF_INET6, "2001::1", &address.sin6_addr);
  uint8_t* bytes = address.sin6_addr.s6_addr;
  bytes[3] = static_cast<uint8_t>(thread);
  for (int i = 0; i < 3; ++i) bytes[4 + i] = static_cast<uint8_t>(network >> (16 - 8 * i));
  return address;
}

// A known client, a different one per thread: the common case, sets taken by one thread each.
void BM_RateLimiterKnownClient(benchmark::State& state) {
  RateLimiter& limiter = shared_limiter();
  const sockaddr_in6 client = ipv6_client(state.thread_index(), 1);
  int64_t now_ns = 1000000000;
  for (auto _ : state) {
    benchmark::DoNotOptimize(limiter.allow(reinterpret_cast<const sockaddr*>(&client), now_ns));
    now_ns += 100;
  }
}
BENCHMARK(BM_RateLimiterKnownClient)->ThreadRange(1, 2);

// Both threads on one client: its set's lock goes back and forth between the cores.
void BM_RateLimiterOneClientEverywhere(benchmark::State& state) {
  RateLimiter& limiter = shared_limiter();
  const sockaddr_in6 client = ipv6_client(0, 0);
  int64_t now_ns = 1000000000;
  for (auto _ : state) {
    benchmark::DoNotOptimize(limiter.allow(reinterpret_cast<const sockaddr*>(&client), now_ns));
    now_ns += 100;
  }
}
BENCHMARK(BM_RateLimiterOneClientEverywhere)->ThreadRange(1, 2);

// A new client every query (a flood from random sources): a miss in a full table each time,
// in sets spread over 2 MiB, so mostly a cache miss too.
void BM_RateLimiterNewClients(benchmark::State& state) {
  RateLimiter& limiter = shared_limiter();
  uint32_t network = 2;
  int64_t now_ns = 1000000000;
  for (auto _ : state) {
    const sockaddr_in6 client = ipv6_client(state.thread_index(), network++ & 0xffffff);
    benchmark::DoNotOptimize(limiter.allow(reinterpret_cast<const sockaddr*>(&client), now_ns));
    now_ns += 100;
  }
}
BENCHMARK(BM_RateLimiterNewClients)->ThreadRange(1, 2);

}  // namespace
}  // namespace dnsvagt

BENCHMARK_MAIN();
