#include "resolver/query_engine.h"

#include <algorithm>
#include <ctime>
#include <utility>

#include "dns/dns_name.h"
#include "resolver/stale_reply.h"
#include "resolver/wire.h"

namespace dnsvagt {
namespace {

constexpr size_t kMaxEdeText = 300;
constexpr uint16_t kEdeNoReachableAuthority = 22;

size_t reply_limit(const Query& query, const ReplyTarget& target) {
  if (target.stream()) return kMaxReply;
  if (!query.has_edns) return 512;
  return std::min<size_t>(query.udp_size, kServerUdpSize);
}

size_t render_failure(const Query& query, uint16_t rcode, uint16_t ede_code,
                      std::string_view ede_text, size_t max_size, std::span<uint8_t> out) {
  std::span<uint8_t> limited = out.first(std::min(max_size, out.size()));
  if (ede_code == 0) return write_error_reply(query, rcode, nullptr, limited);
  Ede ede{ede_code, ede_text.substr(0, kMaxEdeText)};
  if (size_t length = write_error_reply(query, rcode, &ede, limited)) return length;
  ede.text = {};  // the explanation does not fit this client's buffer; the code still does
  return write_error_reply(query, rcode, &ede, limited);
}

}  // namespace

QueryEngine::QueryEngine(event_base* base, std::shared_ptr<WorkerShared> shared,
                         unsigned contexts_in_process, WorkerCounters& counters,
                         ReplyAccounting& accounting, InternalErrors& errors,
                         std::function<void()> answered)
    : shared_(std::move(shared)),
      counters_(counters),
      accounting_(accounting),
      errors_(errors),
      answered_(std::move(answered)),
      policy_stage_(shared_->config.blocking, accounting_),
      in_flight_(base,
                 InFlight::Handlers{
                     [this](InFlight::Entry& pending, const UpstreamReply& reply) {
                       errors_.guarded("handling an upstream answer",
                                       [&] { finish(&pending, reply); });
                     },
                     [this](InFlight::Entry& pending) {
                       errors_.guarded("answering late", [&] { answer_late(pending); });
                     }},
                 shared_->config.upstream.timeout),
      upstream_(std::make_unique<Upstream>(base, shared_->config, contexts_in_process)),
      reply_(kMaxReply) {}

Outcome QueryEngine::answer(const Request& request, std::span<uint8_t> out) {
  const Admission admission =
      admit(request.packet, request.target.client(), request.target.transport,
            request.received_ns, shared_->rate_limiter.get(), shared_->access_list, counters_,
            out);
  if (!admission.admitted) return admission.outcome;
  const Query& query = admission.query;
  try {
    return answer_allowed(request, query, out);
  } catch (const std::exception& error) {
    errors_.note("answering a query", error);
    return {render_failure(query, kRcodeServFail, 0, {}, reply_limit(query, request.target),
                           out),
            ReplyFacts{query.qname, query.qtype}};
  }
}

Outcome QueryEngine::answer_allowed(const Request& request, const Query& query,
                                    std::span<uint8_t> out) {
  // Blocklist policy (DESIGN.md "Data flow"): a blocked name is answered locally, before the
  // cache is asked and never upstream.
  const size_t max_size = reply_limit(query, request.target);
  const size_t group =
      shared_->client_groups.group_of(request.target.client(), request.target.certificate_group);
  ReplyFacts facts{query.qname, query.qtype};
  facts.group = shared_->client_groups.name(group);
  if (auto blocked = policy_stage_.check_name(policy_, query, group)) {
    return PolicyStage::render(*blocked, query, facts, max_size, out);
  }
  std::optional<AnswerCache::Hit> hit = shared_->cache.lookup(query, monotonic_seconds());
  const CacheUse use = use_cache(hit, in_flight_, query);
  if (use.prefetch) wait_for_upstream(request.packet, query, nullptr, request.received_ns);
  counters_.cache_lookup(use.answer);
  if (!use.answer) {
    wait_for_upstream(request.packet, query, &request.target, request.received_ns);
    return {};
  }
  facts.cache_hit = facts.validated = true;
  facts.dnssec = hit->answer->status();
  if (auto blocked = policy_stage_.check_cname_chain(policy_, query, *hit->answer, group)) {
    return PolicyStage::render(*blocked, query, facts, max_size, out);
  }
  const size_t length = hit->answer->render(query, hit->age, max_size, out);
  return {use.stale ? mark_reply_stale(out, length, max_size) : length, facts};
}

void QueryEngine::wait_for_upstream(std::span<const uint8_t> packet, const Query& query,
                                    const ReplyTarget* target, int64_t received_ns) {
  auto [pending, started] = in_flight_.join(packet, query, target, received_ns);
  if (target) target->query_waiting();
  if (!started) return;

  size_t name_end;
  std::optional<DnsName> name = DnsName::from_wire(packet, 12, &name_end);
  // The callback may run inside resolve() (local zones) and free `pending`: touch it no more.
  const bool prefetch = target == nullptr;
  if (!name || !upstream_->resolve(name->to_text(), query.qtype, query.qclass, query.cd,
                                   prefetch, InFlight::deliver, pending)) {
    UpstreamReply failure;
    failure.rcode = kRcodeServFail;
    finish(pending, failure);
  }
}

void QueryEngine::finish(InFlight::Entry* pending_raw, const UpstreamReply& reply) {
  // Out of the table first: a query arriving from here on starts a new resolution.
  std::unique_ptr<InFlight::Entry> pending = in_flight_.remove(pending_raw);
  const Query& key_query = pending->query;
  const Config& config = shared_->config;
  uint32_t now = monotonic_seconds();

  std::shared_ptr<const Answer> answer;
  uint16_t ede_code = 0;
  std::string_view ede_text;
  ReplyFacts facts;
  if (reply.rcode != 0) {
    ede_code = ede_code_for_failure(reply.rcode);
    counters_.upstream_error(UpstreamErrorReason::internal);
  } else if (reply.status == DnssecStatus::bogus) {
    ede_code = ede_code_for_bogus(reply.why_bogus);
    ede_text = reply.why_bogus;
    facts.validated = true;
    facts.dnssec = DnssecStatus::bogus;
    size_t name_end;
    if (std::optional<DnsName> name = DnsName::from_wire(pending->packet, 12, &name_end)) {
      counters_.record_bogus(name->to_text(), reply.why_bogus);
    }
  } else {
    answer = Answer::from_upstream(reply.packet, reply.status, key_query.do_bit,
                                   config.cache.max_ttl);
    if (answer && answer->rcode() != kRcodeServFail) {
      shared_->cache.insert(key_query, answer, now);
    } else {
      // libunbound answers SERVFAIL for timeouts and unreachable servers alike.
      counters_.upstream_error(UpstreamErrorReason::servfail);
    }
  }
  // RFC 8767: a failed refresh (never a bogus one) falls back to the expired answer.
  uint32_t age = 0;
  bool stale = false;
  bool failed = !answer || answer->rcode() == kRcodeServFail;
  if (failed && reply.status != DnssecStatus::bogus && config.cache.serve_stale) {
    if (std::optional<AnswerCache::Hit> hit = shared_->cache.lookup(key_query, now)) {
      answer = hit->answer;
      age = hit->age;
      stale = hit->stale;
    }
  }
  // A SERVFAIL is no answer: only data (or a proven absence) counts as a DNSSEC outcome.
  if (answer && answer->rcode() != kRcodeServFail) {
    facts.validated = true;
    facts.dnssec = answer->status();
  }
  reply_to_waiters(*pending, facts, answer.get(), age, stale, ede_code, ede_text);
  answered_();
}

// Renders `answer` (or, if null, SERVFAIL with the EDE) for everyone waiting on `pending`.
void QueryEngine::reply_to_waiters(InFlight::Entry& pending, ReplyFacts facts,
                                   const Answer* answer, uint32_t age, bool stale,
                                   uint16_t ede_code, std::string_view ede_text) {
  std::optional<PolicyLease> lease;
  if (answer && !pending.waiters.empty()) lease.emplace(*this);
  // CNAME cloaking: every waiter asked the same name and type, so the chain is checked once
  // per client group, not per waiter (waiters of one group mostly come together).
  std::optional<size_t> checked_group;
  GroupReply reply;
  int64_t sent_ns = clock_ns(CLOCK_MONOTONIC);
  int64_t sent_wall_ns = accounting_.wall_clock_ns();
  for (const InFlight::Waiter& waiter : pending.waiters) {
    const size_t group =
        shared_->client_groups.group_of(waiter.target.client(), waiter.target.certificate_group);
    if (checked_group != group) {
      checked_group = group;
      reply = reply_for_group(pending, group, facts, answer, age, stale);
    }
    const Query& query = waiter.query;
    const size_t max_size = reply_limit(query, waiter.target);
    std::span<uint8_t> out(reply_);
    size_t length;
    if (reply.drop) {
      length = 0;  // RPZ drop: no reply at all
    } else if (reply.answer) {
      length = reply.answer->render(query, reply.age, max_size, out);
      if (reply.stale) length = mark_reply_stale(out, length, max_size);
    } else {
      length = render_failure(query, kRcodeServFail, ede_code, ede_text, max_size, out);
    }
    if (length > 0 || reply.drop) {
      if (length > 0) waiter.target.send(out.first(length));
      reply.facts.qname = query.qname;
      reply.facts.qtype = query.qtype;
      accounting_.count(reply.facts, waiter.target.client(), waiter.target.transport,
                        out.first(length),
                        waiter.received_ns, sent_ns, sent_wall_ns);
    }
    waiter.target.done();
  }
  pending.waiters.clear();
}

QueryEngine::GroupReply QueryEngine::reply_for_group(const InFlight::Entry& pending,
                                                     size_t group, ReplyFacts facts,
                                                     const Answer* answer, uint32_t age,
                                                     bool stale) {
  GroupReply reply{facts, answer, age, stale};
  reply.facts.group = shared_->client_groups.name(group);
  if (!answer) return reply;
  try {
    reply.blocked = policy_stage_.check_cname_chain(policy_, pending.query, *answer, group);
  } catch (const std::exception& error) {
    errors_.note("checking a CNAME chain", error);
    reply.facts = ReplyFacts{};
    reply.facts.group = shared_->client_groups.name(group);
    reply.answer = nullptr;  // SERVFAIL for this group's waiters
    return reply;
  }
  if (reply.blocked) {
    reply.facts.list = reply.blocked->list;
    reply.answer = reply.blocked->answer.get();
    reply.drop = !reply.answer;
    reply.age = 0;
    reply.stale = false;
  }
  return reply;
}

// The clients' response timer (upstream.timeout): the resolution is taking too long. With an
// expired answer in the cache they get it now (RFC 8767), and so do later askers; without one
// they get SERVFAIL. The resolution goes on either way and its answer is cached.
void QueryEngine::answer_late(InFlight::Entry& pending) {
  ReplyFacts facts;
  if (std::optional<AnswerCache::Hit> hit =
          shared_->cache.lookup(pending.query, monotonic_seconds())) {
    pending.serving_stale = true;
    facts.validated = true;
    facts.dnssec = hit->answer->status();
    reply_to_waiters(pending, facts, hit->answer.get(), hit->age, hit->stale, 0, {});
  } else {
    counters_.upstream_error(UpstreamErrorReason::timeout);
    reply_to_waiters(pending, facts, nullptr, 0, false, kEdeNoReachableAuthority,
                     "no answer from upstream in time (upstream.timeout)");
  }
  answered_();
}

QueryEngine::PolicyLease::PolicyLease(QueryEngine& engine)
    : engine_(engine), outer_(std::move(engine.policy_)) {
  engine_.policy_ = engine_.shared_->policy.current();
}

QueryEngine::PolicyLease::~PolicyLease() { engine_.policy_ = std::move(outer_); }

}  // namespace dnsvagt
