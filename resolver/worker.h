// Worker: one thread with its own libevent loop, its own UDP sockets and TCP listeners (all
// bound with SO_REUSEPORT), its own libunbound contexts and its own in-flight queries. It runs
// the query flow of DESIGN.md: parse, ACL, (policy), cache, upstream, cache store, reply.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "config/config.h"
#include "resolver/access_list.h"
#include "resolver/answer_cache.h"
#include "resolver/upstream.h"

struct bufferevent;
struct event;
struct event_base;
struct evconnlistener;

namespace dnsvagt {

// What all workers of one configuration share. A reload builds a new one.
struct WorkerShared {
  WorkerShared(Config config, std::atomic<unsigned>* tcp_connections);
  Config config;
  AnswerCache cache;
  AccessList access_list;
  std::atomic<unsigned>* tcp_connections;  // open client connections, across reloads
};

// Sockets one worker serves; owned by the Server, so they outlive reloads.
struct WorkerSockets {
  std::vector<int> udp;
  std::vector<int> tcp;
};

class Worker {
 public:
  // Builds the event loop and the libunbound contexts; throws std::runtime_error.
  Worker(std::shared_ptr<WorkerShared> shared, WorkerSockets sockets,
         unsigned contexts_in_process);
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
  struct TcpConnection;
  struct Client;
  struct Waiter;
  struct Pending;
  struct UdpBatch;

  void run();
  size_t answer(std::span<const uint8_t> packet, const Client& client, std::span<uint8_t> out);
  void wait_for_upstream(std::span<const uint8_t> packet, const Query& query,
                         const Client* client, bool stale_available);
  void finish(Pending* pending, const UpstreamReply& reply);
  void reply_to_waiters(Pending& pending, const Answer* answer, uint32_t age, bool stale,
                        uint16_t ede_code, std::string_view ede_text);
  void serve_stale(Pending& pending);
  size_t render_failure(const Query& query, uint16_t rcode, uint16_t ede_code,
                        std::string_view ede_text, size_t max_size, std::span<uint8_t> out);
  void send(const Client& client, std::span<const uint8_t> reply);
  void read_udp(int fd);
  void accept_tcp(int fd, const sockaddr* address, int length);
  void read_tcp(TcpConnection* connection);
  void close_tcp(TcpConnection* connection);
  void close_tcp_if_done(TcpConnection* connection);
  void begin_drain();
  void end_if_drained();

  static void on_upstream_reply(void* pending, const UpstreamReply& reply);
  static void on_stale_timer(int, short, void* pending);
  static void on_udp_readable(int fd, short events, void* worker);
  static void on_tcp_accept(evconnlistener* listener, int fd, sockaddr* address, int length,
                            void* worker);
  static void on_tcp_read(bufferevent* bev, void* connection);
  static void on_tcp_write(bufferevent* bev, void* connection);
  static void on_tcp_event(bufferevent* bev, short events, void* connection);
  static void on_stop(int, short, void* worker);
  static void on_heartbeat(int, short, void* worker);
  static void on_drain_deadline(int, short, void* worker);

  std::shared_ptr<WorkerShared> shared_;
  WorkerSockets sockets_;
  event_base* base_ = nullptr;
  std::unique_ptr<Upstream> upstream_;
  std::vector<event*> udp_events_;
  std::vector<evconnlistener*> tcp_listeners_;
  event* stop_event_ = nullptr;
  event* heartbeat_event_ = nullptr;
  event* drain_deadline_ = nullptr;
  bool draining_ = false;
  std::unordered_map<std::string, std::unique_ptr<Pending>> pending_;  // by cache key
  std::unordered_map<TcpConnection*, std::shared_ptr<TcpConnection>> connections_;
  std::unique_ptr<UdpBatch> udp_batch_;
  std::vector<uint8_t> tcp_query_;  // one framed query, copied out of the input buffer
  std::vector<uint8_t> reply_;      // 2 bytes of TCP length, then the reply
  std::atomic<int64_t> heartbeat_{0};
  std::thread thread_;
};

}  // namespace dnsvagt
