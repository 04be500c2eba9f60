// Worker: one thread with its own libevent loop, its own UDP sockets and TCP listeners (all
// bound with SO_REUSEPORT), its own query engine (libunbound contexts, in-flight queries). It
// runs the loop, beats the watchdog's heartbeat and drains on stop.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "metrics/metrics.h"
#include "resolver/internal_errors.h"
#include "resolver/query_engine.h"
#include "resolver/query_log.h"
#include "resolver/reply_accounting.h"
#include "resolver/tcp_transport.h"
#include "resolver/udp_transport.h"
#include "resolver/worker_shared.h"

struct event;
struct event_base;

namespace dnsvagt {

// Sockets one worker serves; owned by the Server, so they outlive reloads.
struct WorkerSockets {
  std::vector<int> udp;
  std::vector<int> tcp;
  std::vector<int> dot;  // TCP listeners for DNS over TLS
  std::vector<int> doh;  // TCP listeners for DNS over HTTPS
};

class Worker {
 public:
  // Builds the event loop and the libunbound contexts; throws std::runtime_error. Only this
  // worker's thread writes metrics.worker(counter_slot) and pushes to `query_log` (null: no
  // query log) while it runs: a reload's workers use other slots (see Telemetry).
  Worker(std::shared_ptr<WorkerShared> shared, WorkerSockets sockets,
         unsigned contexts_in_process, Metrics& metrics, size_t counter_slot,
         QueryLogQueue* query_log);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  void start();
  // Thread-safe: stop reading the sockets, finish the queries in flight (at most ~2 s), end
  // the thread. join() waits for that. With keep_connections (a reload, whose new workers
  // accept from now on) the open TCP, DoT and DoH connections are served on, under this
  // worker's configuration, until they close or time out, for at most kLingerTime; then they
  // are drained as by a stop. A later stop() without it drains them at once.
  void stop(bool keep_connections = false);
  void join();
  // Whether the thread has ended (join() then returns at once).
  bool ended() const { return ended_.load(std::memory_order_acquire); }
  // Monotonic seconds of the loop's last tick (for the systemd watchdog).
  int64_t last_heartbeat() const { return heartbeat_.load(std::memory_order_relaxed); }

 private:
  // Stops taking queries; with keep_connections the open connections are served on (lingering).
  void begin_drain(bool keep_connections);
  void end_if_drained();

  static void on_stop(int, short, void* worker);
  static void on_heartbeat(int, short, void* worker);
  static void on_drain_deadline(int, short, void* worker);

  std::shared_ptr<WorkerShared> shared_;
  WorkerSockets sockets_;
  WorkerCounters& counters_;
  ReplyAccounting accounting_;
  InternalErrors errors_;
  event_base* base_ = nullptr;
  // Made on the loop, and freed before it in reverse order: the transports' connections
  // first, then the engine's upstream queries.
  std::optional<QueryEngine> engine_;
  std::optional<UdpTransport> udp_;
  std::optional<TcpTransport> tcp_;
  std::optional<TcpTransport> dot_;
  std::optional<TcpTransport> doh_;
  event* stop_event_ = nullptr;
  event* heartbeat_event_ = nullptr;
  event* drain_deadline_ = nullptr;
  enum class Phase {
    serving,
    lingering,  // stopped taking queries, serving the connections open at the stop
    draining,   // answering what is owed, then ending
  };
  Phase phase_ = Phase::serving;
  std::atomic<bool> keep_connections_{false};
  std::atomic<bool> ended_{false};
  std::atomic<int64_t> heartbeat_{0};
  std::thread thread_;
};

}  // namespace dnsvagt
