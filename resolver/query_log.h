// QueryLog: the JSON-lines query log of logging.query_log (requirement 16). Workers hand each
// query to a queue of their own without waiting; a writer thread formats, writes and rotates.
#pragma once

#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "config/config.h"
#include "metrics/metrics.h"

namespace dnsvagt {

// One answered query, as a worker records it: fixed size, no allocation.
struct QueryLogEntry {
  static constexpr size_t kMaxName = 255;  // wire form, the DNS limit
  static constexpr size_t kMaxList = 63;   // list names longer than this are cut
  static constexpr size_t kMaxGroup = 63;  // the longest client group name the config takes
  static constexpr int8_t kNoDnssec = -1;
  static constexpr uint16_t kDropped = UINT16_MAX;  // rcode of a query dropped without a reply

  int64_t time_ns = 0;         // wall clock (UNIX epoch) when the reply was sent
  uint32_t latency_us = 0;     // receipt to send
  uint16_t qtype = 0;
  uint16_t rcode = 0;
  int8_t dnssec = kNoDnssec;   // a DnssecStatus for answers that came through validation
  bool cache_hit = false;
  Transport transport = Transport::udp;
  uint8_t family = 0;          // AF_INET or AF_INET6
  uint8_t name_length = 0;     // 0: the query had no question
  uint8_t list_length = 0;     // 0: not blocked
  uint8_t group_length = 0;    // 0: the client is in no client group
  uint8_t address[16] = {};
  uint8_t name[kMaxName] = {};
  char list[kMaxList] = {};
  char group[kMaxGroup] = {};

  // Setters that cut to the field sizes.
  void set_client(const sockaddr* client);
  void set_name(std::span<const uint8_t> wire_name);
  void set_list(std::string_view list_name);
  void set_group(std::string_view group_name);
};

// A single-producer, single-consumer ring of entries: one worker pushes, the writer pops.
class QueryLogQueue {
 public:
  explicit QueryLogQueue(size_t capacity);
  // False when the ring is full (the writer fell behind): the entry is dropped.
  bool push(const QueryLogEntry& entry);
  // Writer side: calls `take` for each queued entry, oldest first; returns how many.
  size_t drain(const std::function<void(const QueryLogEntry&)>& take);

 private:
  std::unique_ptr<QueryLogEntry[]> entries_;
  const size_t capacity_;
  alignas(64) std::atomic<uint64_t> head_{0};  // next to write; only the producer stores it
  alignas(64) std::atomic<uint64_t> tail_{0};  // next to read; only the consumer stores it
};

struct QueryLogOptions {
  std::string path;
  LogRotation rotation;  // daily at UTC midnight, or before the file grows past a size
  std::chrono::seconds retention{400 * 86400};  // rotated files whose last line is older go
  size_t queue_capacity = 8192;                  // entries per worker queue
  std::chrono::milliseconds write_interval{20};  // how often the writer empties the queues
  std::function<std::chrono::system_clock::time_point()> clock = std::chrono::system_clock::now;

  static QueryLogOptions from_config(const LoggingConfig& config);
};

class QueryLog {
 public:
  // Opens (creates) the file and starts the writer thread. Throws std::runtime_error if the
  // file cannot be opened. Lines it cannot write are counted in `metrics` (if not null).
  QueryLog(QueryLogOptions options, size_t queues, Metrics* metrics = nullptr);
  // Writes what is still queued, then stops.
  ~QueryLog();
  QueryLog(const QueryLog&) = delete;
  QueryLog& operator=(const QueryLog&) = delete;

  QueryLogQueue& queue(size_t i) { return *queues_[i]; }
  size_t queue_count() const { return queues_.size(); }

  // Closes and reopens the file under the (possibly new) options: SIGHUP, so external logrotate
  // works, and a changed path or rotation takes effect. Throws std::runtime_error if the new file
  // cannot be opened (the old one is then kept).
  void reconfigure(QueryLogOptions options);

  // Empties the queues into the file now (the writer thread does this every write_interval);
  // returns the lines written. Thread-safe.
  size_t write_pending();

  // The rotated file name for `day` (UNIX days, UTC) and sequence number `n` >= 1:
  // "<path>.2026-11-28.1".
  static std::string rotated_name(const std::string& path, int64_t day, unsigned n);

 private:
  void open_file();     // writer_mutex_ held
  void rotate();        // writer_mutex_ held
  void delete_expired();  // writer_mutex_ held
  void flush(std::string& buffer);  // writer_mutex_ held
  void run();

  std::vector<std::unique_ptr<QueryLogQueue>> queues_;
  Metrics* const metrics_;

  std::mutex writer_mutex_;  // guards everything below
  QueryLogOptions options_;
  int fd_ = -1;
  uint64_t size_ = 0;
  int64_t period_day_ = 0;  // the UTC day the open file's lines belong to (daily rotation)
  int64_t retention_checked_ns_ = 0;
  bool write_failing_ = false;

  std::mutex stop_mutex_;
  std::condition_variable stop_wake_;
  bool stopping_ = false;
  std::thread thread_;
};

// One JSON line (with '\n') for `entry`, appended to `out`:
// {"time":"2026-11-28T01:02:03.456Z","client":"192.0.2.1","name":"www.example.","type":"A",
//  "rcode":"NOERROR","dnssec":"secure","list":null,"group":null,"cache_hit":true,
//  "latency_us":120}
void append_query_log_line(const QueryLogEntry& entry, std::string& out);

}  // namespace dnsvagt
