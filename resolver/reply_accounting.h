// ReplyAccounting: the one place a worker's replies are counted, the RPZ drop's silence
// included: rcode, DNSSEC status, blocked list, duration, recent blocks and the query log line.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <ctime>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "metrics/metrics.h"
#include "resolver/answer.h"
#include "resolver/clock.h"
#include "resolver/query_log.h"

namespace dnsvagt {

inline constexpr uint32_t kNoList = UINT32_MAX;

// What the metrics and the query log need to know about one reply; the query pipeline
// returns it with the reply it rendered.
struct ReplyFacts {
  std::span<const uint8_t> qname;  // wire, as asked (in the query packet); empty: no question
  uint16_t qtype = 0;
  int rcode = -1;                  // -1: the rcode in the reply header (no extended bits)
  bool validated = false;          // data from resolution (cache or upstream): `dnssec` holds
  DnssecStatus dnssec = DnssecStatus::indeterminate;
  bool cache_hit = false;
  uint32_t list = kNoList;         // the blocking list's metrics index, if blocked
  std::string_view group = {};     // the client's group (config `clients`); empty: none
};

class ReplyAccounting {
 public:
  // Writes `counters` and pushes to `query_log` (null: no query log) from one thread only.
  ReplyAccounting(Metrics& metrics, WorkerCounters& counters, QueryLogQueue* query_log);

  // The metrics index of the list `list_name` (Policy::lists()[verdict.list].name), for
  // ReplyFacts::list: the reply is then counted in dnsvagt_blocked_queries_total{list}, the
  // compliance page's recent blocks and the query log line's "list", never as a DNSSEC answer.
  uint32_t list_index(std::string_view list_name);
  // The wall clock for a query log line; 0 without a query log (the read is skipped).
  int64_t wall_clock_ns() const { return query_log_ ? clock_ns(CLOCK_REALTIME) : 0; }
  // Counts one reply sent (or handed to the socket): rcode, DNSSEC status, blocked list,
  // duration since `received_ns`, and its query log line. An empty `reply` is a query an RPZ
  // drop answered with silence: counted as blocked and logged (rcode DROPPED), no response.
  void count(const ReplyFacts& facts, const sockaddr* client, Transport transport,
             std::span<const uint8_t> reply, int64_t received_ns, int64_t sent_ns,
             int64_t sent_wall_ns);

 private:
  Metrics& metrics_;
  WorkerCounters& counters_;
  QueryLogQueue* query_log_;
  // Metrics list indexes of the lists seen, and their names (for the log).
  std::unordered_map<std::string, uint32_t> list_indexes_;
  std::vector<std::string> list_names_;  // by metrics list index (overflow: last seen name)
};

}  // namespace dnsvagt
