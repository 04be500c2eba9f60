// Benchmarks of the blocklists module: parse + compile of the largest shared feed and of a
// generated list of 1,000,000 domains (time, and resident memory the compiled policy adds),
// policy lookups that hit and miss, and the memory latency that bounds them.
#include <benchmark/benchmark.h>
#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "blocklists/list_parser.h"
#include "blocklists/policy.h"

namespace dnsvagt {
namespace {

constexpr size_t kGeneratedDomains = 1000000;

// Resident bytes of this process (/proc/self/statm), after returning freed heap to the system.
double resident_bytes() {
  malloc_trim(0);
  long pages_total = 0;
  long pages_resident = 0;
  FILE* statm = std::fopen("/proc/self/statm", "r");
  if (statm == nullptr || std::fscanf(statm, "%ld %ld", &pages_total, &pages_resident) != 2) {
    pages_resident = 0;
  }
  if (statm != nullptr) std::fclose(statm);
  return static_cast<double>(pages_resident) * static_cast<double>(sysconf(_SC_PAGESIZE));
}

std::string scale_feed_text() {
  const char* source = std::getenv("DNSVAGT_SOURCE_DIR");
  std::filesystem::path path = std::filesystem::path(source ? source : ".") / ".." / "shared" /
                               "data" / "feeds" / "scale" /
                               "hagezi_onlydomains_9lists_concat.txt";
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Names shaped like real list entries: 1-3 labels of 4-14 letters and digits under a TLD.
std::vector<std::string> generated_names(size_t count, uint32_t seed) {
  static const char* const kTlds[] = {"com", "net", "org", "de", "ru", "xyz", "info", "top",
                                      "shop", "online", "dk", "xn--p1ai"};
  std::mt19937 random(seed);
  std::uniform_int_distribution<int> label_length(4, 14);
  std::uniform_int_distribution<int> labels(1, 3);
  std::uniform_int_distribution<int> character(0, 35);
  std::uniform_int_distribution<size_t> tld(0, std::size(kTlds) - 1);
  std::vector<std::string> names;
  names.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    std::string name;
    for (int label = labels(random); label > 0; --label) {
      for (int n = label_length(random); n > 0; --n) {
        int c = character(random);
        name.push_back(static_cast<char>(c < 26 ? 'a' + c : '0' + c - 26));
      }
      name.push_back('.');
    }
    names.push_back(name + kTlds[tld(random)]);
  }
  return names;
}

const std::string& generated_list_text() {
  static const std::string text = [] {
    std::string result;
    for (const std::string& name : generated_names(kGeneratedDomains, 1)) result += name + "\n";
    return result;
  }();
  return text;
}

// The list text as a file, as the server reads it (from the list cache, a piece at a time).
class ListFileOnDisk {
 public:
  explicit ListFileOnDisk(const std::string& text) {
    char path[] = "/tmp/dnsvagt-bench-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0 || write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
      std::abort();
    }
    close(fd);
    path_ = path;
  }
  ~ListFileOnDisk() { std::filesystem::remove(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// What the list publisher does: the table is sized by the entry count the list had when it
// was accepted, then the file is parsed into the policy.
std::shared_ptr<const Policy> compile(const ListFileOnDisk& file, size_t expected_entries) {
  PolicyBuilder builder(BlockAction::nxdomain);
  builder.reserve(expected_entries);
  PolicyList list;
  list.name = "bench";
  list.path = file.path();
  builder.add_list_file(list);
  return std::move(builder).build();
}

// The entry count the gates found when the list was accepted.
size_t accepted_entries(const std::string& text) {
  EntryCounter counter(0);
  return parse_list(text, ListFormat::auto_detect, counter).entries;
}

void parse_and_compile(benchmark::State& state, const std::string& text) {
  if (text.empty()) {
    state.SkipWithError("list text not found (set DNSVAGT_SOURCE_DIR to the repository)");
    return;
  }
  double added = 0;
  size_t entries = 0;
  size_t heap = 0;
  ListFileOnDisk file(text);
  const size_t expected_entries = accepted_entries(text);
  for (auto _ : state) {
    double before = resident_bytes();
    std::shared_ptr<const Policy> policy = compile(file, expected_entries);
    state.PauseTiming();
    added = resident_bytes() - before;
    entries = policy->entry_count();
    heap = policy->memory_bytes();
    policy.reset();
    state.ResumeTiming();
  }
  state.counters["entries"] = static_cast<double>(entries);
  state.counters["resident_added_MB"] = added / 1e6;
  state.counters["set_heap_MB"] = static_cast<double>(heap) / 1e6;
  state.counters["bytes_per_entry"] = entries ? added / static_cast<double>(entries) : 0;
}

void BM_ParseCompileScaleFeed(benchmark::State& state) {
  static const std::string text = scale_feed_text();
  parse_and_compile(state, text);
}
BENCHMARK(BM_ParseCompileScaleFeed)->Unit(benchmark::kMillisecond)->Iterations(3);

void BM_ParseCompileGenerated1M(benchmark::State& state) {
  parse_and_compile(state, generated_list_text());
}
BENCHMARK(BM_ParseCompileGenerated1M)->Unit(benchmark::kMillisecond)->Iterations(3);

std::vector<uint8_t> to_wire(const std::string& name) {
  std::vector<uint8_t> wire;
  size_t start = 0;
  while (start <= name.size()) {
    size_t dot = std::min(name.find('.', start), name.size());
    wire.push_back(static_cast<uint8_t>(dot - start));
    for (size_t i = start; i < dot; ++i) {
      // Queries come in any case.
      wire.push_back(static_cast<uint8_t>(i % 3 == 0 ? std::toupper(name[i]) : name[i]));
    }
    start = dot + 1;
  }
  wire.push_back(0);
  return wire;
}

const Policy& generated_policy() {
  static const std::shared_ptr<const Policy> policy = [] {
    ListFileOnDisk file(generated_list_text());
    return compile(file, kGeneratedDomains);
  }();
  return *policy;
}

// Looks up `queries` round-robin; they are spread over the whole table (no cache favours).
void lookups(benchmark::State& state, const std::vector<std::vector<uint8_t>>& queries,
             bool expect_blocked) {
  const Policy& policy = generated_policy();
  size_t next = 0;
  int64_t blocked = 0;
  for (auto _ : state) {
    const std::vector<uint8_t>& query = queries[next];
    next = next + 1 == queries.size() ? 0 : next + 1;
    PolicyVerdict verdict = policy.check(std::span<const uint8_t>(query));
    blocked += verdict.blocked;
    benchmark::DoNotOptimize(verdict);
  }
  if (blocked != (expect_blocked ? state.iterations() : 0)) {
    state.SkipWithError("unexpected verdicts");
  }
}

void BM_LookupHitSubdomain(benchmark::State& state) {
  static const std::vector<std::vector<uint8_t>> queries = [] {
    std::vector<std::vector<uint8_t>> result;
    std::vector<std::string> names = generated_names(kGeneratedDomains, 1);
    std::mt19937 random(7);
    for (int i = 0; i < 65536; ++i) {
      result.push_back(to_wire("www." + names[random() % names.size()]));
    }
    return result;
  }();
  lookups(state, queries, true);
}
BENCHMARK(BM_LookupHitSubdomain);

// Hits as a resolver sees them: query names follow a Zipf popularity (s = 1) over the same
// million entries, so popular names are in the caches, as they are in a running server.
void BM_LookupHitZipf(benchmark::State& state) {
  static const std::vector<std::vector<uint8_t>> queries = [] {
    std::vector<std::string> names = generated_names(kGeneratedDomains, 1);
    std::vector<double> cumulative(names.size());
    double sum = 0;
    for (size_t rank = 0; rank < names.size(); ++rank) {
      sum += 1.0 / static_cast<double>(rank + 1);
      cumulative[rank] = sum;
    }
    std::mt19937 random(11);
    std::uniform_real_distribution<double> pick(0, sum);
    std::vector<std::vector<uint8_t>> result;
    for (int i = 0; i < 65536; ++i) {
      size_t rank = static_cast<size_t>(
          std::lower_bound(cumulative.begin(), cumulative.end(), pick(random)) -
          cumulative.begin());
      result.push_back(to_wire("www." + names[std::min(rank, names.size() - 1)]));
    }
    return result;
  }();
  lookups(state, queries, true);
}
BENCHMARK(BM_LookupHitZipf);

void BM_LookupMiss(benchmark::State& state) {
  static const std::vector<std::vector<uint8_t>> queries = [] {
    std::vector<std::vector<uint8_t>> result;
    for (const std::string& name : generated_names(65536, 2)) {
      // Short random names can be on the list by chance: keep only true misses.
      if (!generated_policy().check(name).blocked) result.push_back(to_wire("www." + name));
    }
    return result;
  }();
  lookups(state, queries, false);
}
BENCHMARK(BM_LookupMiss);

// The floor under a lookup in a table far larger than the caches: one read whose address
// depends on the previous one (a pointer chase through 64 MiB in random order). A hit costs
// two such reads (its slot, then its record to verify the name), a miss one.
void BM_DependentMemoryRead(benchmark::State& state) {
  constexpr size_t kLines = (64u << 20) / 64;
  std::vector<uint64_t> chase(kLines * 8);
  std::vector<uint32_t> order(kLines);
  for (uint32_t i = 0; i < kLines; ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), std::mt19937(3));
  for (size_t i = 0; i < kLines; ++i) chase[order[i] * 8] = order[(i + 1) % kLines] * 8;
  uint64_t at = 0;
  for (auto _ : state) {
    at = chase[at];
    benchmark::DoNotOptimize(at);
  }
}
BENCHMARK(BM_DependentMemoryRead);

}  // namespace
}  // namespace dnsvagt

BENCHMARK_MAIN();
