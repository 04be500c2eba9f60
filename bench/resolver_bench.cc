// The cache-hit path of one query, piece by piece and whole: parse_query, AnswerCache::lookup
// (hit) and Answer::render of a typical ~100-byte answer to an EDNS client.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "resolver/answer.h"
#include "resolver/answer_cache.h"
#include "resolver/query.h"
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

}  // namespace
}  // namespace dnsvagt

BENCHMARK_MAIN();
