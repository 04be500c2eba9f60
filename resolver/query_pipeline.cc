#include "resolver/query_pipeline.h"

#include "resolver/wire.h"

namespace dnsvagt {
namespace {

// No EDE code says "rate limited"; 0 (Other) with a text tells an operator's dig why.
constexpr Ede kRateLimited = {0, "rate limited (server.rate_limit)"};

}  // namespace

Admission admit(std::span<const uint8_t> packet, const sockaddr* client, Transport transport,
                int64_t received_ns, RateLimiter* limiter, const AccessList& access_list,
                WorkerCounters& counters, std::span<uint8_t> out) {
  counters.query(transport);
  Admission admission;
  // Over-limit UDP is dropped unparsed: an answer, even REFUSED, would help a flood from
  // spoofed sources. Over-limit TCP (its source is real) gets REFUSED: a client left without
  // an answer would wait and retry, and a stub moves on to its next server.
  const bool limited = limiter && !limiter->allow(client, received_ns);
  if (limited) {
    counters.rate_limited(transport);
    if (transport == Transport::udp) return admission;
  }
  const Query& query = admission.query;
  const QueryParse parsed = parse_query(packet, admission.query);
  if (parsed == QueryParse::drop) return admission;
  Outcome& outcome = admission.outcome;
  outcome.facts = ReplyFacts{query.qname, query.qtype};
  if (!access_list.allows(client)) {
    // Never more bytes back than came in: REFUSED must not amplify.
    const size_t length = write_error_reply(query, kRcodeRefused, nullptr, out);
    outcome.length = length <= packet.size() ? length : 0;
    return admission;
  }
  if (limited) {
    outcome.length = write_error_reply(query, kRcodeRefused, &kRateLimited, out);
    return admission;
  }
  switch (parsed) {
    case QueryParse::drop: break;
    case QueryParse::formerr:
      outcome.length = write_error_reply(query, kRcodeFormErr, nullptr, out);
      break;
    case QueryParse::notimp:
      outcome.length = write_error_reply(query, kRcodeNotImp, nullptr, out);
      break;
    case QueryParse::badvers:
      outcome.facts.rcode = kRcodeBadVers;  // its upper bits are in the OPT record
      outcome.length = write_error_reply(query, kRcodeBadVers, nullptr, out);
      break;
    case QueryParse::ok:
      admission.admitted = true;
      break;
  }
  return admission;
}

CacheUse use_cache(const std::optional<AnswerCache::Hit>& hit, const InFlight& in_flight,
                   const Query& query) {
  if (!hit) return {};
  // The table is asked only when it matters: its key costs a copy of the name.
  if (!hit->stale) return {true, false, hit->prefetch_due && !in_flight.find(query)};
  const InFlight::Entry* refresh = in_flight.find(query);
  return {refresh && refresh->serving_stale, true, false};
}

PolicyStage::PolicyStage(const BlockingConfig& config, ReplyAccounting& accounting)
    : cname_check_(config.cname_check), answers_(config), accounting_(accounting) {}

std::optional<PolicyStage::Blocked> PolicyStage::check_name(
    const std::shared_ptr<const Policy>& policy, const Query& query, size_t group) {
  // Without lists, skip hashing the name's suffixes (~0.1 us, a few % of a cache hit).
  if (policy->entry_count() == 0) return std::nullopt;
  PolicyVerdict verdict = policy->check(query.qname, group);
  if (!verdict.blocked) return std::nullopt;
  const uint32_t list = accounting_.list_index(policy->lists()[verdict.list].name);
  return Blocked{answers_.blocked(policy, verdict, query.qname, query.qtype, query.qclass),
                 list};
}

std::optional<PolicyStage::Blocked> PolicyStage::check_cname_chain(
    const std::shared_ptr<const Policy>& policy, const Query& query, const Answer& answer,
    size_t group) {
  if (!cname_check_) return std::nullopt;
  size_t target;
  PolicyVerdict verdict =
      policy->check_answer(query.qname, answer.cname_targets(), &target, group);
  if (!verdict.blocked) return std::nullopt;
  const uint32_t list = accounting_.list_index(policy->lists()[verdict.list].name);
  return Blocked{answers_.blocked(policy, verdict, query.qname, query.qtype, query.qclass,
                                  &answer.cname_targets()[target]),
                 list};
}

Outcome PolicyStage::render(const Blocked& blocked, const Query& query, ReplyFacts facts,
                            size_t max_size, std::span<uint8_t> out) {
  facts.list = blocked.list;
  if (!blocked.answer) return {0, facts, true};
  return {blocked.answer->render(query, 0, max_size, out), facts};
}

}  // namespace dnsvagt
