// Worker: one thread with its own libevent loop, its own UDP sockets and TCP listeners (all
// bound with SO_REUSEPORT), its own libunbound contexts and its own in-flight queries. It runs
// the query flow of DESIGN.md: parse, ACL, (policy), cache, upstream, cache store, reply.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "blocklists/policy.h"
#include "config/config.h"
#include "metrics/metrics.h"
#include "resolver/access_list.h"
#include "resolver/answer_cache.h"
#include "resolver/in_flight.h"
#include "resolver/query_log.h"
#include "resolver/query_pipeline.h"
#include "resolver/rate_limiter.h"
#include "resolver/reply_accounting.h"
#include "resolver/reply_target.h"
#include "resolver/tcp_slots.h"
#include "resolver/upstream.h"

struct bufferevent;
struct event;
struct event_base;
struct evconnlistener;

namespace dnsvagt {

// What all workers of one configuration share. A reload builds a new one.
struct WorkerShared {
  WorkerShared(Config config, TcpSlots* tcp_slots);
  Config config;
  AnswerCache cache;
  AccessList access_list;
  PublishedPolicy policy;  // the blocklists of this config; the list updater publishes here
  // server.rate_limit, null when off. The Server sets it, and keeps it over a reload that
  // leaves the limit as it was, so a SIGHUP does not refill every client's bucket.
  std::shared_ptr<RateLimiter> rate_limiter;
  TcpSlots* tcp_slots;  // open client connections, across reloads
};

// Sockets one worker serves; owned by the Server, so they outlive reloads.
struct WorkerSockets {
  std::vector<int> udp;
  std::vector<int> tcp;
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
  // the thread. join() waits for that.
  void stop();
  void join();
  // Monotonic seconds of the loop's last tick (for the systemd watchdog).
  int64_t last_heartbeat() const { return heartbeat_.load(std::memory_order_relaxed); }

 private:
  struct UdpBatch;

  void run();
  Outcome answer(std::span<const uint8_t> packet, const ReplyTarget& client,
                 std::span<uint8_t> out);
  // answer() for a well-formed query of an allowed client: policy, cache, upstream.
  Outcome answer_allowed(std::span<const uint8_t> packet, const Query& query,
                         const ReplyTarget& client, std::span<uint8_t> out);
  void wait_for_upstream(std::span<const uint8_t> packet, const Query& query,
                         const ReplyTarget* client);
  void finish(InFlight::Entry* pending, const UpstreamReply& reply);
  // `facts`: what all the replies share (their question is each waiter's own).
  void reply_to_waiters(InFlight::Entry& pending, ReplyFacts facts, const Answer* answer,
                        uint32_t age, bool stale, uint16_t ede_code, std::string_view ede_text);
  void answer_late(InFlight::Entry& pending);
  size_t render_failure(const Query& query, uint16_t rcode, uint16_t ede_code,
                        std::string_view ede_text, size_t max_size, std::span<uint8_t> out);
  void send(const ReplyTarget& client, std::span<const uint8_t> reply);
  void read_udp(int fd);
  void accept_tcp(int fd, const sockaddr* address, int length);
  void read_tcp(TcpConnection* connection);
  // After a reply was queued or written, or a query's answer arrived: closes a connection
  // that is done, reads on once it is back under its bounds, and sets its next deadline.
  void update_tcp(TcpConnection* connection);
  struct TcpDeadline {
    int64_t at_ns;  // monotonic; INT64_MAX: none
    TcpDropReason reason;
  };
  TcpDeadline next_deadline(const TcpConnection& connection) const;
  void close_tcp(TcpConnection* connection);
  // Last line of defence around a libevent callback: an exception cannot unwind through the
  // C event loop, and would end the process. Logs (at most once a minute) and counts it.
  void note_internal_error(const char* where, const std::exception& error);
  template <typename Work>
  void guarded(const char* where, Work&& work) noexcept;
  void begin_drain();
  void end_if_drained();

  // Holds the published blocklist policy in policy_ while one wakeup's queries are handled,
  // and lets it go at the end: a replaced policy is freed as soon as the last query using it
  // is done, not when each worker next wakes up. Once per wakeup, not per query, because the
  // atomic load takes a reference count all workers contend on. Nests (an upstream answer can
  // arrive inside a read): the inner lease restores the outer one's policy.
  class PolicyLease {
   public:
    explicit PolicyLease(Worker& worker);
    ~PolicyLease();
    PolicyLease(const PolicyLease&) = delete;
    PolicyLease& operator=(const PolicyLease&) = delete;

   private:
    Worker& worker_;
    std::shared_ptr<const Policy> outer_;
  };
  static void on_udp_readable(int fd, short events, void* worker);
  static void on_tcp_accept(evconnlistener* listener, int fd, sockaddr* address, int length,
                            void* worker);
  static void on_tcp_read(bufferevent* bev, void* connection);
  static void on_tcp_write(bufferevent* bev, void* connection);
  static void on_tcp_event(bufferevent* bev, short events, void* connection);
  static void on_tcp_deadline(int, short, void* connection);
  static void on_tcp_resume(int, short, void* connection);
  static void on_stop(int, short, void* worker);
  static void on_heartbeat(int, short, void* worker);
  static void on_drain_deadline(int, short, void* worker);

  std::shared_ptr<WorkerShared> shared_;
  WorkerSockets sockets_;
  WorkerCounters& counters_;
  ReplyAccounting accounting_;
  int64_t received_ns_ = 0;  // monotonic receipt time of the query (batch) being answered
  event_base* base_ = nullptr;
  std::unique_ptr<Upstream> upstream_;
  std::vector<event*> udp_events_;
  std::vector<evconnlistener*> tcp_listeners_;
  event* stop_event_ = nullptr;
  event* heartbeat_event_ = nullptr;
  event* drain_deadline_ = nullptr;
  bool draining_ = false;
  std::optional<InFlight> in_flight_;  // made once the loop is
  std::unordered_map<TcpConnection*, std::shared_ptr<TcpConnection>> connections_;
  std::unique_ptr<UdpBatch> udp_batch_;
  std::vector<uint8_t> tcp_query_;  // one framed query, copied out of the input buffer
  std::vector<uint8_t> reply_;      // 2 bytes of TCP length, then the reply
  std::atomic<int64_t> heartbeat_{0};
  int64_t internal_error_logged_ns_ = 0;
  std::shared_ptr<const Policy> policy_;
  PolicyStage policy_stage_;
  std::thread thread_;
};

}  // namespace dnsvagt
