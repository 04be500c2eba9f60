#include "resolver/worker.h"

#include <event2/event.h>

#include <stdexcept>

#include "resolver/clock.h"

namespace dnsvagt {
namespace {

constexpr timeval kDrainTime = {2, 0};
// How long connections open at a reload are served on by the old workers: most end sooner by
// server.tcp_idle_timeout; a busy one is then drained, and its client reconnects.
constexpr timeval kLingerTime = {60, 0};
constexpr timeval kFlushTime = {0, 100000};  // lets the last TCP replies leave after a drain
constexpr timeval kHeartbeat = {1, 0};

}  // namespace

Worker::Worker(std::shared_ptr<WorkerShared> shared, WorkerSockets sockets,
               unsigned contexts_in_process, Metrics& metrics, size_t counter_slot,
               QueryLogQueue* query_log)
    : shared_(std::move(shared)),
      sockets_(std::move(sockets)),
      counters_(metrics.worker(counter_slot)),
      accounting_(metrics, counters_, query_log),
      errors_(counters_) {
  // With the changelist, epoll learns of a descriptor's changes once per loop turn: a TLS or
  // HTTP/2 connection that stops waiting to write after one answer and starts again with the
  // next, in the same turn, costs no epoll_ctl. None of our descriptors is dup()ed (the
  // changelist's one caveat).
  event_config* config = event_config_new();
  if (!config) throw std::bad_alloc();
  event_config_set_flag(config, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
  base_ = event_base_new_with_config(config);
  event_config_free(config);
  if (!base_) throw std::runtime_error("cannot create an event loop");
  try {
    engine_.emplace(base_, shared_, contexts_in_process, counters_, accounting_, errors_,
                    [this] { end_if_drained(); });
  } catch (...) {
    event_base_free(base_);
    throw;
  }
  udp_.emplace(base_, sockets_.udp, *shared_, *engine_, counters_, accounting_, errors_);
  tcp_.emplace(base_, Transport::tcp, sockets_.tcp, *shared_, *engine_, counters_, accounting_,
               errors_);
  dot_.emplace(base_, Transport::dot, sockets_.dot, *shared_, *engine_, counters_, accounting_,
               errors_);
  doh_.emplace(base_, Transport::doh, sockets_.doh, *shared_, *engine_, counters_, accounting_,
               errors_);
  stop_event_ = event_new(base_, -1, 0, on_stop, this);
  heartbeat_event_ = event_new(base_, -1, EV_PERSIST, on_heartbeat, this);
  event_add(heartbeat_event_, &kHeartbeat);
  drain_deadline_ = evtimer_new(base_, on_drain_deadline, this);
  heartbeat_.store(monotonic_seconds(), std::memory_order_relaxed);
}

Worker::~Worker() {
  join();
  // The thread has ended: this thread owns the counters now.
  doh_.reset();
  dot_.reset();
  tcp_.reset();
  udp_.reset();
  engine_.reset();
  event_free(stop_event_);
  event_free(heartbeat_event_);
  event_free(drain_deadline_);
  event_base_free(base_);
}

void Worker::start() {
  thread_ = std::thread([this] {
    event_base_dispatch(base_);
    ended_.store(true, std::memory_order_release);
  });
}

void Worker::stop(bool keep_connections) {
  keep_connections_.store(keep_connections, std::memory_order_relaxed);
  event_active(stop_event_, EV_READ, 0);
}

void Worker::join() {
  if (thread_.joinable()) thread_.join();
}

void Worker::on_stop(int, short, void* worker) {
  auto* w = static_cast<Worker*>(worker);
  w->errors_.guarded("draining", [w] {
    const bool keep_connections = w->keep_connections_.load(std::memory_order_relaxed);
    if (w->phase_ == Phase::serving || (w->phase_ == Phase::lingering && !keep_connections)) {
      w->begin_drain(keep_connections);
    }
  });
}

void Worker::begin_drain(bool keep_connections) {
  phase_ = keep_connections ? Phase::lingering : Phase::draining;
  udp_->stop_reading();
  for (TcpTransport* transport : {&*tcp_, &*dot_, &*doh_}) {
    keep_connections ? transport->stop_accepting() : transport->drain();
  }
  // A drain after lingering replaces the linger deadline.
  evtimer_add(drain_deadline_, keep_connections ? &kLingerTime : &kDrainTime);
  end_if_drained();
}

void Worker::end_if_drained() {
  if (phase_ == Phase::serving || engine_->answers_owed()) return;
  if (phase_ == Phase::lingering &&
      tcp_->open_connections() + dot_->open_connections() + doh_->open_connections() > 0) {
    return;
  }
  event_base_loopexit(base_, &kFlushTime);
}

void Worker::on_drain_deadline(int, short, void* worker) {
  auto* w = static_cast<Worker*>(worker);
  if (w->phase_ == Phase::lingering) {
    w->errors_.guarded("draining", [w] { w->begin_drain(false); });
  } else {
    event_base_loopexit(w->base_, nullptr);
  }
}

void Worker::on_heartbeat(int, short, void* worker) {
  auto* w = static_cast<Worker*>(worker);
  w->heartbeat_.store(monotonic_seconds(), std::memory_order_relaxed);
  // A lingering worker's connections close by themselves: it ends once the last has.
  if (w->phase_ == Phase::lingering) {
    w->errors_.guarded("draining", [w] { w->end_if_drained(); });
  }
}

}  // namespace dnsvagt
