#include "resolver/audit_resolver.h"

#include <event2/event.h>
#include <ldns/ldns.h>
#include <unistd.h>

#include <stdexcept>

#include "resolver/trust_anchor.h"
#include "resolver/upstream.h"

namespace dnsvagt {
namespace {

// The audit's share of the libunbound cache budget: as one of this many contexts, so that it
// takes little memory beside the workers' (libunbound's minimum, 1 MiB, is plenty for it).
constexpr unsigned kAuditCacheShare = 64;
constexpr std::chrono::milliseconds kStopPoll{100};

// A TXT record's character-strings joined, as SPF, DMARC and DKIM read them.
std::string txt_text(const ldns_rr* rr) {
  std::string text;
  for (size_t i = 0; i < ldns_rr_rd_count(rr); ++i) {
    const ldns_rdf* rdf = ldns_rr_rdf(rr, i);
    if (ldns_rdf_size(rdf) < 1) continue;
    text.append(reinterpret_cast<const char*>(ldns_rdf_data(rdf)) + 1, ldns_rdf_size(rdf) - 1);
  }
  return text;
}

std::string rdata_text(const ldns_rr* rr) {
  std::string text;
  for (size_t i = 0; i < ldns_rr_rd_count(rr); ++i) {
    char* field = ldns_rdf2str(ldns_rr_rdf(rr, i));
    if (!field) continue;
    text += (text.empty() ? "" : " ") + std::string(field);
    free(field);
  }
  return text;
}

LookupResult result_of(const UpstreamReply& reply, uint16_t type) {
  LookupResult result;
  if (reply.status == DnssecStatus::bogus) {
    result.outcome = LookupOutcome::bogus;
    result.why = std::string(reply.why_bogus);
    return result;
  }
  if (reply.rcode != 0) {
    result.why = "libunbound could not resolve it (rcode " + std::to_string(reply.rcode) + ")";
    return result;
  }
  result.security = reply.status == DnssecStatus::secure     ? Security::secure
                    : reply.status == DnssecStatus::insecure ? Security::insecure
                                                             : Security::unknown;
  ldns_pkt* packet = nullptr;
  if (ldns_wire2pkt(&packet, reply.packet.data(), reply.packet.size()) != LDNS_STATUS_OK) {
    result.why = "the answer does not parse";
    return result;
  }
  ldns_pkt_rcode rcode = ldns_pkt_get_rcode(packet);
  if (rcode == LDNS_RCODE_NXDOMAIN) {
    result.outcome = LookupOutcome::nxdomain;
  } else if (rcode != LDNS_RCODE_NOERROR) {
    // libunbound answers SERVFAIL for timeouts and unreachable servers alike.
    ldns_lookup_table* name = ldns_lookup_by_id(ldns_rcodes, rcode);
    result.why = name ? name->name : "rcode " + std::to_string(rcode);
  } else {
    ldns_rr_list* answer = ldns_pkt_answer(packet);
    for (size_t i = 0; i < ldns_rr_list_rr_count(answer); ++i) {
      const ldns_rr* rr = ldns_rr_list_rr(answer, i);
      if (ldns_rr_get_type(rr) != type) continue;
      result.records.push_back(type == LDNS_RR_TYPE_TXT ? txt_text(rr) : rdata_text(rr));
    }
    result.outcome = result.records.empty() ? LookupOutcome::nodata : LookupOutcome::data;
  }
  ldns_pkt_free(packet);
  return result;
}

}  // namespace

struct AuditResolver::Pending {
  event_base* base;
  uint16_t type;
  bool done = false;
  LookupResult result;
};

AuditResolver::AuditResolver(const Config& config, const std::atomic<bool>* stopping)
    : timeout_(config.audit.timeout), stopping_(stopping) {
  base_ = event_base_new();
  if (!base_) throw std::runtime_error("cannot create an event base for the audit");
  // No prefetch context: the audit asks each name once.
  Config resolver_config = config;
  resolver_config.cache.prefetch = false;
  try {
    upstream_ = std::make_unique<Upstream>(base_, resolver_config, kAuditCacheShare);
  } catch (...) {
    event_base_free(base_);
    throw;
  }
}

AuditResolver::~AuditResolver() {
  upstream_.reset();  // before the base its events are on
  event_base_free(base_);
}

void AuditResolver::on_reply(void* opaque, const UpstreamReply& reply) {
  auto* pending = static_cast<Pending*>(opaque);
  pending->result = result_of(reply, pending->type);
  pending->done = true;
  event_base_loopbreak(pending->base);
}

Config with_read_only_root_anchor(Config config) {
  DnssecConfig& dnssec = config.dnssec;
  if (dnssec.root_trust_anchor_file.empty()) return config;
  if (access(dnssec.root_trust_anchor_file.c_str(), R_OK) == 0) {
    dnssec.trust_anchor_files.push_back(dnssec.root_trust_anchor_file);
  } else {
    dnssec.trust_anchors.insert(dnssec.trust_anchors.end(), std::begin(kRootTrustAnchors),
                                std::end(kRootTrustAnchors));
  }
  dnssec.root_trust_anchor_file.clear();
  return config;
}

LookupResult AuditResolver::lookup(const std::string& name, uint16_t type) {
  // Braces, not make_unique: clang 14 (the fuzz build) has no parenthesized aggregate init.
  Pending* pending =
      pending_.emplace_back(std::unique_ptr<Pending>(new Pending{base_, type, false, {}})).get();
  LookupResult timed_out{LookupOutcome::timeout, Security::unknown, {}, {}};
  if (stopping_ && *stopping_) return timed_out;
  if (!upstream_->resolve(name + ".", type, LDNS_RR_CLASS_IN, false, false, on_reply, pending)) {
    return {LookupOutcome::failed, Security::unknown, {}, "libunbound refused the query"};
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout_;
  while (!pending->done) {
    auto left = std::chrono::duration_cast<std::chrono::microseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || (stopping_ && *stopping_)) return timed_out;
    left = std::min<std::chrono::microseconds>(left, kStopPoll);
    timeval wait = {static_cast<time_t>(left.count() / 1000000),
                    static_cast<suseconds_t>(left.count() % 1000000)};
    // Returns at the reply (on_reply breaks the loop) or when `wait` is up.
    event_base_loopexit(base_, &wait);
    event_base_dispatch(base_);
  }
  return pending->result;
}

}  // namespace dnsvagt
