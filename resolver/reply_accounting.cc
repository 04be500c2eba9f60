#include "resolver/reply_accounting.h"

#include <algorithm>
#include <optional>

#include "dns/dns_name.h"

namespace dnsvagt {

static_assert(static_cast<int>(DnssecStatus::indeterminate) ==
              static_cast<int>(DnssecOutcome::indeterminate));

ReplyAccounting::ReplyAccounting(Metrics& metrics, WorkerCounters& counters,
                                 QueryLogQueue* query_log)
    : metrics_(metrics), counters_(counters), query_log_(query_log) {}

uint32_t ReplyAccounting::list_index(std::string_view list_name) {
  auto found = list_indexes_.find(std::string(list_name));
  if (found == list_indexes_.end()) {
    // Once per list and worker: Metrics::list_index takes a lock.
    uint32_t index = metrics_.list_index(list_name);
    found = list_indexes_.emplace(std::string(list_name), index).first;
    if (list_names_.size() <= index) list_names_.resize(index + 1);
    list_names_[index] = list_name;
  }
  return found->second;
}

void ReplyAccounting::count(const ReplyFacts& facts, const sockaddr* client, Transport transport,
                            std::span<const uint8_t> reply, int64_t received_ns,
                            int64_t sent_ns, int64_t sent_wall_ns) {
  const bool dropped = reply.empty();
  uint16_t rcode = dropped              ? QueryLogEntry::kDropped
                   : facts.rcode >= 0 ? static_cast<uint16_t>(facts.rcode)
                                      : reply[3] & 0x0f;
  if (!dropped) counters_.response(rcode);
  bool validated = facts.validated && facts.list == kNoList;  // a blocked answer is ours
  if (validated) counters_.dnssec(static_cast<DnssecOutcome>(facts.dnssec));
  if (facts.list != kNoList) {
    counters_.blocked(facts.list);
    size_t name_end;
    std::optional<DnsName> name;
    if (!facts.qname.empty()) name = DnsName::from_wire(facts.qname, 0, &name_end);
    counters_.record_block(name ? name->to_text() : std::string(), facts.list);
  }
  int64_t latency_ns = std::max<int64_t>(0, sent_ns - received_ns);
  if (!dropped) counters_.query_duration(latency_ns * 1e-9);
  if (!query_log_) return;
  QueryLogEntry entry;
  entry.time_ns = sent_wall_ns;
  entry.latency_us = static_cast<uint32_t>(std::min<int64_t>(latency_ns / 1000, UINT32_MAX));
  entry.qtype = facts.qtype;
  entry.rcode = rcode;
  entry.dnssec = validated ? static_cast<int8_t>(facts.dnssec) : QueryLogEntry::kNoDnssec;
  entry.cache_hit = facts.cache_hit;
  entry.set_client(client);
  entry.transport = transport;
  entry.set_name(facts.qname);
  if (facts.list != kNoList) entry.set_list(list_names_[facts.list]);
  entry.set_group(facts.group);
  if (!query_log_->push(entry)) counters_.query_log_dropped();
}

}  // namespace dnsvagt
