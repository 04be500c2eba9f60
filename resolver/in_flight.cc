#include "resolver/in_flight.h"

#include <event2/event.h>

#include <algorithm>

#include "resolver/wire.h"

namespace dnsvagt {
namespace {

// The cache key, so that one resolution serves what one cache entry holds.
std::string in_flight_key(const Query& query) {
  uint8_t buffer[kMaxCacheKey];
  return std::string(cache_key(query, buffer));
}

}  // namespace

InFlight::Waiter::Waiter(const ReplyTarget& target_in, std::span<const uint8_t> packet_in,
                         int64_t received_ns_in)
    : target(target_in), packet(packet_in.begin(), packet_in.end()), received_ns(received_ns_in) {
  parse_query(packet, query);
}

InFlight::Entry::Entry(InFlight& table_in, std::string key_in, std::span<const uint8_t> packet_in)
    : table(table_in), key(std::move(key_in)), packet(packet_in.begin(), packet_in.end()) {
  parse_query(packet, query);
}

InFlight::Entry::~Entry() {
  if (answer_timer) event_free(answer_timer);
}

InFlight::InFlight(event_base* base, Handlers handlers, std::chrono::milliseconds answer_delay)
    : base_(base),
      handlers_(std::move(handlers)),
      answer_delay_{static_cast<time_t>(answer_delay.count() / 1000),
                    static_cast<suseconds_t>(answer_delay.count() % 1000 * 1000)} {}

const InFlight::Entry* InFlight::find(const Query& query) const {
  auto found = entries_.find(in_flight_key(query));
  return found == entries_.end() ? nullptr : found->second.get();
}

std::pair<InFlight::Entry*, bool> InFlight::join(std::span<const uint8_t> packet,
                                                 const Query& query, const ReplyTarget* target,
                                                 int64_t received_ns) {
  std::string key = in_flight_key(query);
  auto [it, inserted] = entries_.try_emplace(key);
  if (inserted) it->second = std::make_unique<Entry>(*this, key, packet);
  Entry* entry = it->second.get();
  if (target) {
    entry->waiters.emplace_back(*target, packet, received_ns);
    // Clients are not kept waiting on libunbound's retries and back-off (tens of seconds
    // with a dead upstream); one who joins after the timer fired gets a timer of its own.
    if (!entry->answer_timer) entry->answer_timer = evtimer_new(base_, on_answer_timer, entry);
    if (!evtimer_pending(entry->answer_timer, nullptr)) {
      evtimer_add(entry->answer_timer, &answer_delay_);
    }
  }
  return {entry, inserted};
}

std::unique_ptr<InFlight::Entry> InFlight::remove(Entry* entry) {
  return std::move(entries_.extract(entry->key).mapped());
}

bool InFlight::answers_owed() const {
  return std::any_of(entries_.begin(), entries_.end(),
                     [](const auto& entry) { return !entry.second->waiters.empty(); });
}

void InFlight::deliver(void* entry, const UpstreamReply& reply) {
  auto* e = static_cast<Entry*>(entry);
  e->table.handlers_.answer(*e, reply);
}

void InFlight::on_answer_timer(int, short, void* entry) {
  auto* e = static_cast<Entry*>(entry);
  e->table.handlers_.late(*e);
}

}  // namespace dnsvagt
