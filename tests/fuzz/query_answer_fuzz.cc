// The path of a client query up to its reply when no upstream is involved: parse_query, the
// error replies, the policy check and, for a blocked name, the synthesized answer of every
// blocking action (RPZ actions and local data included) rendered at the client's size limit.
//
// Input: [flags][max_size:2][target length][target: wire name][query packet]
//   flags bits 0-2: blocking.action (mod 5); bit 3: check the target as a CNAME target
//   instead of the query name; bits 4-5: the rcode of the error reply; bit 6: EDE on it.
#include <array>
#include <cstring>
#include <memory>
#include <optional>

// After the standard headers: ldns' headers define bool and friends for C, which makes
// clang 14 misread the libstdc++ headers that come after them.
#include <ldns/ldns.h>

#include "blocklists/list_parser.h"
#include "blocklists/policy.h"
#include "resolver/answer.h"
#include "dns/dns_name.h"
#include "resolver/policy_answers.h"
#include "resolver/query.h"
#include "tests/fuzz/fuzz_input.h"

namespace dnsvagt {
namespace {

using fuzz::FuzzInput;

constexpr BlockAction kActions[] = {BlockAction::nxdomain, BlockAction::nodata,
                                    BlockAction::null, BlockAction::refused,
                                    BlockAction::sinkhole};
constexpr size_t kActionCount = std::size(kActions);
constexpr uint16_t kErrorRcodes[] = {2 /* SERVFAIL */, 3 /* NXDOMAIN */, 5 /* REFUSED */,
                                     16 /* BADVERS: extended bits in OPT */};

PolicyList list_named(std::string name, bool allow_list = false) {
  PolicyList list;
  list.name = std::move(name);
  list.allow_list = allow_list;
  return list;
}

// One of each kind of rule, so that mutating a seed's name reaches every action.
struct Setup {
  BlockingConfig config;
  std::shared_ptr<const Policy> policy;

  explicit Setup(BlockAction action) {
    config.action = action;
    config.sinkhole = {parse_address("192.0.2.99"), parse_address("2001:db8::99"),
                       parse_address("192.0.2.98")};
    PolicyBuilder builder(action);
    builder.add_list(list_named("malware"),
                     parse_list("0.0.0.0 evil.example\n0.0.0.0 ads.test\n", ListFormat::hosts));
    builder.add_list(list_named("trackers"),
                     parse_list("||track.example^\n|exact.example^\n", ListFormat::adblock));
    builder.add_list(list_named("rpz"), parse_list("nx.example CNAME .\n"
                                                   "*.wild.example CNAME .\n"
                                                   "nodata.example CNAME *.\n"
                                                   "drop.example CNAME rpz-drop.\n"
                                                   "pass.evil.example CNAME rpz-passthru.\n"
                                                   "local.example A 192.0.2.7\n"
                                                   "local.example AAAA 2001:db8::7\n",
                                                   ListFormat::rpz));
    builder.add_list(list_named("exceptions", true),
                     parse_list("good.evil.example\n", ListFormat::domains));
    policy = std::move(builder).build();
  }
};

const Setup& setup_for(uint8_t flags) {
  static const std::array<Setup, kActionCount> setups{Setup(kActions[0]), Setup(kActions[1]),
                                                      Setup(kActions[2]), Setup(kActions[3]),
                                                      Setup(kActions[4])};
  return setups[(flags & 7) % kActionCount];
}

// Whatever we send must be a DNS message to the client that asked: its ID, QR set, and
// parseable by an independent parser.
void check_reply(std::span<const uint8_t> reply, const Query& query) {
  FUZZ_CHECK(reply.size() >= 12);
  FUZZ_CHECK((reply[0] << 8 | reply[1]) == query.id);
  FUZZ_CHECK((reply[2] & 0x80) != 0);
  ldns_pkt* packet = nullptr;
  FUZZ_CHECK(ldns_wire2pkt(&packet, reply.data(), reply.size()) == LDNS_STATUS_OK);
  ldns_pkt_free(packet);
}

bool same_verdict(const PolicyVerdict& a, const PolicyVerdict& b) {
  return a.blocked == b.blocked && a.allowed == b.allowed && a.list == b.list &&
         a.entry == b.entry && a.action == b.action &&
         a.local_data.size() == b.local_data.size();
}

// The verdict on `wire` must not depend on case, nor on whether the name came as text.
PolicyVerdict checked_verdict(const Policy& policy, std::span<const uint8_t> wire) {
  const PolicyVerdict verdict = policy.check(wire);
  std::array<uint8_t, kMaxNameWire> folded;
  FUZZ_CHECK(wire.size() <= folded.size());
  // Length bytes are at most 63, below 'A': folding every byte folds the letters only.
  for (size_t i = 0; i < wire.size(); ++i) folded[i] = fold_case(wire[i]);
  FUZZ_CHECK(same_verdict(verdict, policy.check(std::span(folded.data(), wire.size()))));
  size_t end = 0;
  const std::optional<DnsName> name = DnsName::from_wire(wire, 0, &end);
  FUZZ_CHECK(name.has_value() && end == wire.size());
  const std::string text = name->to_text();
  if (text.find('\\') == std::string::npos) {
    FUZZ_CHECK(same_verdict(verdict, policy.check(std::string_view(text))));
  }
  return verdict;
}

std::array<uint8_t, 65535> full_reply, small_reply;

// Renders `answer` with no limit but the TCP one and within `max_size`; the smaller must be
// the same reply when it fits, else the truncated one. Returns the full reply's length.
size_t render_checked(const Answer& answer, const Query& query, size_t max_size) {
  const size_t full = answer.render(query, 0, full_reply.size(), full_reply);
  FUZZ_CHECK(full > 0);
  check_reply(std::span(full_reply).first(full), query);
  const size_t small = answer.render(query, 0, max_size, small_reply);
  FUZZ_CHECK(small <= max_size);
  if (full <= max_size) {
    FUZZ_CHECK(small == full && std::memcmp(small_reply.data(), full_reply.data(), full) == 0);
  } else if (small > 0) {
    FUZZ_CHECK((small_reply[2] & 0x02) != 0);  // TC
    check_reply(std::span(small_reply).first(small), query);
  }
  return full;
}

void answer_blocked(const Setup& setup, const Query& query, const PolicyVerdict& verdict,
                    const DnsName* cname_target, size_t max_size) {
  size_t end = 0;
  const std::optional<DnsName> qname = DnsName::from_wire(query.qname, 0, &end);
  FUZZ_CHECK(qname.has_value() && end == query.qname.size());
  PolicyAnswers answers(setup.config);
  const std::shared_ptr<const Answer> answer =
      answers.blocked(setup.policy, verdict, query.qname, query.qtype, query.qclass, cname_target);
  FUZZ_CHECK((answer == nullptr) == (verdict.action == PolicyAction::drop));
  if (!answer) return;
  const size_t length = render_checked(*answer, query, max_size);
  const std::vector<uint8_t> first(full_reply.begin(), full_reply.begin() + length);
  // The same answer from PolicyAnswers' cache, and made anew, renders the same bytes.
  const auto cached = answers.blocked(setup.policy, verdict, query.qname, query.qtype,
                                      query.qclass, cname_target);
  PolicyAnswers fresh(setup.config);
  const auto anew = fresh.blocked(setup.policy, verdict, query.qname, query.qtype, query.qclass,
                                  cname_target);
  for (const auto& again : {cached, anew}) {
    FUZZ_CHECK(again != nullptr);
    FUZZ_CHECK(render_checked(*again, query, max_size) == length &&
               std::memcmp(full_reply.data(), first.data(), length) == 0);
  }
}

}  // namespace

void fuzz_one(fuzz::FuzzInput& input) {
  const uint8_t flags = input.byte();
  const size_t max_size = input.u16();
  const std::span<const uint8_t> target_wire = input.bytes(input.byte());
  const std::span<const uint8_t> packet = input.rest();

  Query query;
  const QueryParse parsed = parse_query(packet, query);
  if (parsed == QueryParse::drop) return;
  if (query.has_question) FUZZ_CHECK(query.qname.size() <= kMaxNameWire);

  const Ede ede{6, "DNSSEC Bogus"};
  const uint16_t rcode = parsed == QueryParse::formerr  ? 1
                         : parsed == QueryParse::notimp ? 4
                         : parsed == QueryParse::badvers
                             ? 16
                             : kErrorRcodes[flags >> 4 & 3];
  const size_t error_length = write_error_reply(query, rcode, (flags & 0x40) ? &ede : nullptr,
                                                std::span(small_reply).first(
                                                    std::min(max_size, small_reply.size())));
  FUZZ_CHECK(error_length <= max_size);
  if (error_length > 0) check_reply(std::span(small_reply).first(error_length), query);
  if (parsed != QueryParse::ok) return;

  const Setup& setup = setup_for(flags);
  std::optional<DnsName> cname_target;
  size_t target_end = 0;
  if (flags & 8) cname_target = DnsName::from_wire(target_wire, 0, &target_end);
  const PolicyVerdict verdict =
      checked_verdict(*setup.policy, cname_target ? cname_target->wire() : query.qname);
  if (verdict.blocked) {
    answer_blocked(setup, query, verdict, cname_target ? &*cname_target : nullptr, max_size);
  }
}

}  // namespace dnsvagt
