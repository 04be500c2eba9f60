// InFlight: a worker's upstream resolutions in flight, keyed like the cache, each with the
// clients waiting for it, so identical queries share one resolution and one answer timer.
#pragma once

#include <sys/time.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "resolver/query.h"
#include "resolver/reply_target.h"
#include "resolver/upstream.h"

struct event;
struct event_base;

namespace dnsvagt {

class InFlight {
 public:
  // A client waiting for the answer, with its query parsed once on arrival: the Query points
  // into `packet`, whose buffer moves with the Waiter (so it can be moved, never copied).
  struct Waiter {
    Waiter(const ReplyTarget& target, std::span<const uint8_t> packet, int64_t received_ns);
    Waiter(Waiter&&) noexcept = default;
    Waiter(const Waiter&) = delete;
    Waiter& operator=(const Waiter&) = delete;

    ReplyTarget target;
    std::vector<uint8_t> packet;
    Query query;
    int64_t received_ns;
  };

  // One resolution and everyone waiting for it (no one: a prefetch).
  struct Entry {
    Entry(InFlight& table, std::string key, std::span<const uint8_t> packet);
    ~Entry();
    Entry(const Entry&) = delete;
    Entry& operator=(const Entry&) = delete;

    InFlight& table;
    const std::string key;
    const std::vector<uint8_t> packet;  // the first asker's: its query keys the cache insert
    Query query;                        // points into `packet`
    std::vector<Waiter> waiters;
    event* answer_timer = nullptr;      // armed while clients wait: Handlers::late
    bool serving_stale = false;         // the timer fired: later askers get the expired answer
  };

  struct Handlers {
    std::function<void(Entry&, const UpstreamReply&)> answer;  // through deliver()
    // Clients have waited `answer_delay` (upstream.timeout): they are owed an answer now,
    // while the resolution goes on.
    std::function<void(Entry&)> late;
  };
  // Answer timers run on `base`, `answer_delay` after a client joins an entry whose timer is
  // not running.
  InFlight(event_base* base, Handlers handlers, std::chrono::milliseconds answer_delay);

  // The resolution of `query`'s answer, if one is in flight.
  const Entry* find(const Query& query) const;
  // Queues `target` (null: a prefetch) behind the resolution of `query`, making an entry if
  // none is in flight; true with a new entry, whose resolution the caller then starts.
  std::pair<Entry*, bool> join(std::span<const uint8_t> packet, const Query& query,
                               const ReplyTarget* target, int64_t received_ns);
  // Takes `entry` out of the table: a query arriving from now on starts a new resolution.
  std::unique_ptr<Entry> remove(Entry* entry);
  // Whether any client still waits (a prefetch alone owes no one an answer).
  bool answers_owed() const;
  void clear() { entries_.clear(); }

  // An Upstream::Callback, with the Entry as its context: hands the answer to the handler.
  static void deliver(void* entry, const UpstreamReply& reply);

 private:
  static void on_answer_timer(int, short, void* entry);

  event_base* base_;
  Handlers handlers_;
  timeval answer_delay_;
  std::unordered_map<std::string, std::unique_ptr<Entry>> entries_;  // by cache key
};

}  // namespace dnsvagt
