// WorkerCounters: the per-query counters of one worker thread. Only its owner writes it (plain
// relaxed load+store, no locked instructions, no shared cache lines); scrapes sum all workers.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace dnsvagt {

enum class Transport : uint8_t { udp, tcp, dot, doh };
inline constexpr size_t kTransportCount = 4;

// The DNSSEC status of an answer's data, as libunbound reports it.
enum class DnssecOutcome : uint8_t { secure, insecure, bogus, indeterminate };
inline constexpr size_t kDnssecOutcomeCount = 4;

// Why an upstream resolution failed (not DNSSEC: a bogus answer is a DnssecOutcome).
enum class UpstreamErrorReason : uint8_t {
  servfail,  // upstream (or libunbound) answered SERVFAIL without a DNSSEC cause
  timeout,   // no answer in time
  network,   // send/connect failure, unreachable
  tls,       // DNS over TLS handshake or certificate failure
  internal,  // libunbound returned an error code (out of memory, ...)
};
inline constexpr size_t kUpstreamErrorReasonCount = 5;

// Why a client TCP connection was refused at accept or closed by a limit.
enum class TcpDropReason : uint8_t {
  acl,               // the client is outside server.allow
  connection_limit,  // server.max_tcp_connections reached
  per_client_limit,  // server.max_tcp_connections_per_client reached
  idle_timeout,      // server.tcp_idle_timeout
  query_timeout,     // server.tcp_query_timeout: a query did not arrive whole in time
  write_timeout,     // server.tcp_write_timeout: the client did not read its replies in time
  tls_handshake,     // DNS over TLS: the handshake failed (not TLS, no common protocol, ...)
};
inline constexpr size_t kTcpDropReasonCount = 7;

// Why the first bytes from a peer were refused for what they said, or did not say, about a
// PROXY protocol header (server.proxy_protocol_from). A refused datagram is dropped, a refused
// connection closed.
enum class ProxyRefusal : uint8_t {
  untrusted,  // a header from a peer outside server.proxy_protocol_from
  missing,    // no header from a peer inside it
  invalid,    // a header that is malformed or not one we accept
};
inline constexpr size_t kProxyRefusalCount = 3;

// The HTTP statuses a DNS over HTTPS request is refused with (resolver/doh_request.h).
inline constexpr std::array<int, 5> kDohErrorStatuses = {400, 404, 405, 413, 415};

const char* to_string(Transport transport);
const char* to_string(DnssecOutcome outcome);
const char* to_string(UpstreamErrorReason reason);
const char* to_string(TcpDropReason reason);
const char* to_string(ProxyRefusal refusal);

// Response codes are counted exactly for 0..23 (every assigned RCODE up to BADCOOKIE);
// anything larger shares the last slot.
inline constexpr size_t kRcodeSlots = 25;
// The Prometheus label of an rcode slot: "NOERROR", "NXDOMAIN", ...; "RCODE12" for an unassigned
// value, "other" for the shared slot.
std::string rcode_label(size_t slot);
// True for the assigned rcodes that are exported (as zero) before they are first seen.
bool rcode_is_assigned(size_t slot);

// Block lists are counted by a small stable index (Metrics::list_index); names that do not fit
// share kOverflowListIndex.
inline constexpr uint32_t kMaxLists = 256;
inline constexpr uint32_t kOverflowListIndex = kMaxLists;

// Upper bounds (seconds) of the query duration histogram buckets, 50us..5s; +Inf is implicit.
inline constexpr std::array<double, 16> kDurationBuckets = {
    0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
    0.025,   0.05,   0.1,     0.25,   0.5,   1.0,   2.5,    5.0};

// One recent event for the compliance page: a bogus answer (detail = validator's reason) or a
// blocked query (list_index says which list).
struct RecentEvent {
  std::chrono::system_clock::time_point time;
  std::string name;
  std::string detail;
  uint32_t list_index = 0;
};

// A fixed-capacity ring of the newest events of one worker. record() never waits: if a scrape
// holds the lock, the event is dropped (the counters stay exact; this is only a sample).
class RecentEventRing {
 public:
  static constexpr size_t kCapacity = 50;
  static constexpr size_t kMaxNameLength = 255;
  static constexpr size_t kMaxDetailLength = 200;

  void record(std::string_view name, std::string_view detail, uint32_t list_index);
  // Appends the held events to `out` (any order).
  void append_to(std::vector<RecentEvent>& out) const;

 private:
  struct Slot {
    int64_t time_ns = 0;
    uint32_t list_index = 0;
    uint8_t name_length = 0;
    uint8_t detail_length = 0;
    char name[kMaxNameLength];
    char detail[kMaxDetailLength];
  };
  mutable std::mutex mutex_;
  size_t next_ = 0;  // slot written next
  size_t used_ = 0;
  std::array<Slot, kCapacity> slots_;
};

// Sums over all workers at one scrape (plain numbers; same layout as the counters).
struct CounterTotals {
  std::array<uint64_t, kTransportCount> queries{};
  std::array<uint64_t, kRcodeSlots> responses{};
  std::array<uint64_t, kDnssecOutcomeCount> dnssec{};
  uint64_t cache_hits = 0;
  uint64_t cache_misses = 0;
  std::array<uint64_t, kMaxLists + 1> blocked{};
  std::array<uint64_t, kUpstreamErrorReasonCount> upstream_errors{};
  std::array<uint64_t, kDurationBuckets.size() + 1> duration_buckets{};  // not cumulative
  double duration_sum = 0;
  uint64_t tcp_opened = 0;
  uint64_t tcp_closed = 0;
  uint64_t query_log_dropped = 0;
  std::array<uint64_t, kTransportCount> rate_limited{};
  std::array<uint64_t, kTcpDropReasonCount> tcp_dropped{};
  std::array<std::array<uint64_t, kProxyRefusalCount>, kTransportCount> proxy_refused{};
  std::array<uint64_t, kDohErrorStatuses.size()> doh_errors{};
  uint64_t internal_errors = 0;

  uint64_t total_queries() const;
  uint64_t total_blocked() const;
  uint64_t total_dnssec() const;
  uint64_t duration_count() const;
};

class alignas(64) WorkerCounters {
 public:
  // Call each once per event, on the owning worker thread only.
  void query(Transport transport) { bump(queries_[static_cast<size_t>(transport)]); }
  void response(uint16_t rcode) { bump(responses_[rcode < kRcodeSlots ? rcode : kRcodeSlots - 1]); }
  // Once per answer whose data came from resolution (cache or upstream), with its status.
  void dnssec(DnssecOutcome outcome) { bump(dnssec_[static_cast<size_t>(outcome)]); }
  void cache_lookup(bool hit) { bump(hit ? cache_hits_ : cache_misses_); }
  void blocked(uint32_t list_index) {
    bump(blocked_[list_index < kOverflowListIndex ? list_index : kOverflowListIndex]);
  }
  void upstream_error(UpstreamErrorReason reason) {
    bump(upstream_errors_[static_cast<size_t>(reason)]);
  }
  void query_duration(double seconds);
  void tcp_connection_opened() { bump(tcp_opened_); }
  void tcp_connection_closed() { bump(tcp_closed_); }
  void query_log_dropped() { bump(query_log_dropped_); }
  // A query over server.rate_limit (UDP: dropped unanswered; TCP: answered REFUSED).
  void rate_limited(Transport transport) {
    bump(rate_limited_[static_cast<size_t>(transport)]);
  }
  void tcp_dropped(TcpDropReason reason) { bump(tcp_dropped_[static_cast<size_t>(reason)]); }
  void proxy_refused(Transport transport, ProxyRefusal refusal) {
    bump(proxy_refused_[static_cast<size_t>(transport)][static_cast<size_t>(refusal)]);
  }
  // A DNS over HTTPS request refused with one of kDohErrorStatuses (another counts as 400).
  void doh_error(int status);
  // A query (answered SERVFAIL) or an event that an internal error cut short.
  void internal_error() { bump(internal_errors_); }

  // Recent events for the compliance page, in addition to dnssec(bogus) / blocked(index).
  void record_bogus(std::string_view name, std::string_view reason) {
    recent_bogus_.record(name, reason, 0);
  }
  void record_block(std::string_view name, uint32_t list_index) {
    recent_blocks_.record(name, {}, list_index);
  }

  // Reader side (any thread).
  void add_to(CounterTotals& totals) const;
  void append_recent_bogus(std::vector<RecentEvent>& out) const { recent_bogus_.append_to(out); }
  void append_recent_blocks(std::vector<RecentEvent>& out) const { recent_blocks_.append_to(out); }

 private:
  using Counter = std::atomic<uint64_t>;
  // Only the owner writes, so a load+store is an exact increment without a locked instruction;
  // readers on other threads see each value whole.
  static void bump(Counter& counter) {
    counter.store(counter.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }

  std::array<Counter, kTransportCount> queries_{};
  std::array<Counter, kRcodeSlots> responses_{};
  std::array<Counter, kDnssecOutcomeCount> dnssec_{};
  Counter cache_hits_{0};
  Counter cache_misses_{0};
  std::array<Counter, kUpstreamErrorReasonCount> upstream_errors_{};
  std::array<Counter, kDurationBuckets.size() + 1> duration_buckets_{};
  std::atomic<double> duration_sum_{0};
  Counter tcp_opened_{0};
  Counter tcp_closed_{0};
  Counter query_log_dropped_{0};
  std::array<Counter, kTransportCount> rate_limited_{};
  std::array<Counter, kTcpDropReasonCount> tcp_dropped_{};
  std::array<std::array<Counter, kProxyRefusalCount>, kTransportCount> proxy_refused_{};
  std::array<Counter, kDohErrorStatuses.size()> doh_errors_{};
  Counter internal_errors_{0};
  std::array<Counter, kMaxLists + 1> blocked_{};
  RecentEventRing recent_bogus_;
  RecentEventRing recent_blocks_;
};

}  // namespace dnsvagt
