#include "metrics/worker_counters.h"

#include <algorithm>
#include <cstring>
#include <numeric>

namespace dnsvagt {

const char* to_string(Transport transport) {
  switch (transport) {
    case Transport::udp: return "udp";
    case Transport::tcp: return "tcp";
    case Transport::dot: return "dot";
    case Transport::doh: return "doh";
  }
  return "unknown";
}

const char* to_string(DnssecOutcome outcome) {
  switch (outcome) {
    case DnssecOutcome::secure: return "secure";
    case DnssecOutcome::insecure: return "insecure";
    case DnssecOutcome::bogus: return "bogus";
    case DnssecOutcome::indeterminate: return "indeterminate";
  }
  return "unknown";
}

const char* to_string(UpstreamErrorReason reason) {
  switch (reason) {
    case UpstreamErrorReason::servfail: return "servfail";
    case UpstreamErrorReason::timeout: return "timeout";
    case UpstreamErrorReason::network: return "network";
    case UpstreamErrorReason::tls: return "tls";
    case UpstreamErrorReason::internal: return "internal";
  }
  return "unknown";
}

const char* to_string(TcpDropReason reason) {
  switch (reason) {
    case TcpDropReason::acl: return "acl";
    case TcpDropReason::connection_limit: return "connection_limit";
    case TcpDropReason::per_client_limit: return "per_client_limit";
    case TcpDropReason::idle_timeout: return "idle_timeout";
    case TcpDropReason::query_timeout: return "query_timeout";
    case TcpDropReason::write_timeout: return "write_timeout";
    case TcpDropReason::tls_handshake: return "tls_handshake";
  }
  return "unknown";
}

const char* to_string(ProxyRefusal refusal) {
  switch (refusal) {
    case ProxyRefusal::untrusted: return "untrusted";
    case ProxyRefusal::missing: return "missing";
    case ProxyRefusal::invalid: return "invalid";
  }
  return "unknown";
}

namespace {

// IANA "DNS RCODEs" 0..23; empty = unassigned. 16 is BADVERS (OPT) and BADSIG (TSIG); a
// response's rcode is the OPT one.
constexpr std::array<const char*, kRcodeSlots - 1> kRcodeNames = {
    "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP",  "REFUSED", "YXDOMAIN", "YXRRSET",
    "NXRRSET", "NOTAUTH", "NOTZONE",  "DSOTYPENI", "",       "",        "",         "",
    "BADVERS", "BADKEY",  "BADTIME",  "BADMODE",  "BADNAME", "BADALG",  "BADTRUNC", "BADCOOKIE"};

}  // namespace

bool rcode_is_assigned(size_t slot) {
  return slot < kRcodeNames.size() && kRcodeNames[slot][0] != '\0';
}

std::string rcode_label(size_t slot) {
  if (slot >= kRcodeNames.size()) return "other";
  if (!rcode_is_assigned(slot)) return "RCODE" + std::to_string(slot);
  return kRcodeNames[slot];
}

void RecentEventRing::record(std::string_view name, std::string_view detail,
                             uint32_t list_index) {
  std::unique_lock lock(mutex_, std::try_to_lock);
  if (!lock.owns_lock()) return;
  Slot& slot = slots_[next_];
  slot.time_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                     std::chrono::system_clock::now().time_since_epoch())
                     .count();
  slot.list_index = list_index;
  slot.name_length = static_cast<uint8_t>(std::min(name.size(), kMaxNameLength));
  // An empty view may hold a null pointer, which memcpy must not get even for 0 bytes.
  if (slot.name_length > 0) std::memcpy(slot.name, name.data(), slot.name_length);
  slot.detail_length = static_cast<uint8_t>(std::min(detail.size(), kMaxDetailLength));
  if (slot.detail_length > 0) std::memcpy(slot.detail, detail.data(), slot.detail_length);
  next_ = (next_ + 1) % kCapacity;
  used_ = std::min(used_ + 1, kCapacity);
}

void RecentEventRing::append_to(std::vector<RecentEvent>& out) const {
  std::lock_guard lock(mutex_);
  for (size_t i = 0; i < used_; ++i) {
    const Slot& slot = slots_[i];
    out.push_back(RecentEvent{
        std::chrono::system_clock::time_point(
            std::chrono::duration_cast<std::chrono::system_clock::duration>(
                std::chrono::nanoseconds(slot.time_ns))),
        std::string(slot.name, slot.name_length), std::string(slot.detail, slot.detail_length),
        slot.list_index});
  }
}

uint64_t CounterTotals::total_queries() const {
  return std::accumulate(queries.begin(), queries.end(), uint64_t{0});
}
uint64_t CounterTotals::total_blocked() const {
  return std::accumulate(blocked.begin(), blocked.end(), uint64_t{0});
}
uint64_t CounterTotals::total_dnssec() const {
  return std::accumulate(dnssec.begin(), dnssec.end(), uint64_t{0});
}
uint64_t CounterTotals::duration_count() const {
  return std::accumulate(duration_buckets.begin(), duration_buckets.end(), uint64_t{0});
}

void WorkerCounters::query_duration(double seconds) {
  // Buckets hold "<= upper bound" counts; the first bound >= seconds is the bucket.
  size_t bucket = std::lower_bound(kDurationBuckets.begin(), kDurationBuckets.end(), seconds) -
                  kDurationBuckets.begin();
  bump(duration_buckets_[bucket]);
  duration_sum_.store(duration_sum_.load(std::memory_order_relaxed) + seconds,
                      std::memory_order_relaxed);
}

namespace {

template <size_t N>
void add_all(std::array<uint64_t, N>& sums, const std::array<std::atomic<uint64_t>, N>& counters) {
  for (size_t i = 0; i < N; ++i) sums[i] += counters[i].load(std::memory_order_relaxed);
}

}  // namespace

void WorkerCounters::add_to(CounterTotals& totals) const {
  add_all(totals.queries, queries_);
  add_all(totals.responses, responses_);
  add_all(totals.dnssec, dnssec_);
  totals.cache_hits += cache_hits_.load(std::memory_order_relaxed);
  totals.cache_misses += cache_misses_.load(std::memory_order_relaxed);
  add_all(totals.blocked, blocked_);
  add_all(totals.upstream_errors, upstream_errors_);
  add_all(totals.duration_buckets, duration_buckets_);
  totals.duration_sum += duration_sum_.load(std::memory_order_relaxed);
  totals.tcp_opened += tcp_opened_.load(std::memory_order_relaxed);
  totals.tcp_closed += tcp_closed_.load(std::memory_order_relaxed);
  totals.query_log_dropped += query_log_dropped_.load(std::memory_order_relaxed);
  add_all(totals.rate_limited, rate_limited_);
  add_all(totals.tcp_dropped, tcp_dropped_);
  for (size_t t = 0; t < kTransportCount; ++t) add_all(totals.proxy_refused[t], proxy_refused_[t]);
  add_all(totals.doh_errors, doh_errors_);
  totals.internal_errors += internal_errors_.load(std::memory_order_relaxed);
}

void WorkerCounters::doh_error(int status) {
  const auto* found = std::find(kDohErrorStatuses.begin(), kDohErrorStatuses.end(), status);
  bump(doh_errors_[found == kDohErrorStatuses.end() ? 0 : found - kDohErrorStatuses.begin()]);
}

}  // namespace dnsvagt
