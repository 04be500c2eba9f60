// Cost of counting on the query path: the WorkerCounters updates one query makes, for an
// answered query and for a blocked one (which also records a recent event).
#include <benchmark/benchmark.h>

#include "metrics/metrics.h"

namespace dnsvagt {
namespace {

// Shared by the threads of a multi-threaded run; each thread counts on its own worker.
Metrics& bench_metrics() {
  static Metrics metrics(8);
  return metrics;
}

void BM_AnsweredQueryCounters(benchmark::State& state) {
  WorkerCounters& counters = bench_metrics().worker(state.thread_index());
  double seconds = 0.0004;
  for (auto _ : state) {
    counters.query(Transport::udp);
    counters.cache_lookup(false);
    counters.dnssec(DnssecOutcome::secure);
    counters.response(0);
    counters.query_duration(seconds);
    benchmark::DoNotOptimize(seconds);
  }
}
BENCHMARK(BM_AnsweredQueryCounters)->ThreadRange(1, 2);

void BM_BlockedQueryCountersAndEvent(benchmark::State& state) {
  Metrics& metrics = bench_metrics();
  uint32_t list = metrics.list_index("urlhaus");
  WorkerCounters& counters = metrics.worker(state.thread_index());
  for (auto _ : state) {
    counters.query(Transport::udp);
    counters.blocked(list);
    counters.record_block("tracker.malware.example.com", list);
    counters.response(3);
    counters.query_duration(0.00003);
  }
}
BENCHMARK(BM_BlockedQueryCountersAndEvent)->ThreadRange(1, 2);

void BM_Snapshot(benchmark::State& state) {
  Metrics& metrics = bench_metrics();
  for (auto _ : state) benchmark::DoNotOptimize(metrics.snapshot());
}
BENCHMARK(BM_Snapshot);

}  // namespace
}  // namespace dnsvagt

BENCHMARK_MAIN();
