#include "resolver/query_pipeline.h"

#include <arpa/inet.h>
#include <event2/event.h>
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "blocklists/list_parser.h"
#include "resolver/wire.h"
#include "tests/resolver/wire_test_util.h"

namespace dnsvagt {
namespace {

using wiretest::ClientQuery;

sockaddr_in ipv4(const char* text) {
  sockaddr_in address = {};
  address.sin_family = AF_INET;
  inet_pton(AF_INET, text, &address.sin_addr);
  return address;
}

class AdmitTest : public testing::Test {
 protected:
  Admission admit_from(const char* client, std::span<const uint8_t> packet,
                       Transport transport = Transport::udp) {
    const sockaddr_in address = ipv4(client);
    return admit(packet, reinterpret_cast<const sockaddr*>(&address), transport, 0,
                 limiter_.get(), access_list_, counters_, out_);
  }
  CounterTotals totals() const {
    CounterTotals t;
    counters_.add_to(t);
    return t;
  }
  uint8_t rcode_of_reply() const { return out_[3] & 0x0f; }

  AccessList access_list_{{parse_prefix("127.0.0.0/8")}};
  std::unique_ptr<RateLimiter> limiter_;
  WorkerCounters counters_;
  std::vector<uint8_t> out_ = std::vector<uint8_t>(4096);
  ClientQuery query_{"www.example.com", kTypeA, true};
};

TEST_F(AdmitTest, AWellFormedQueryOfAnAllowedClientGoesOn) {
  const Admission admission = admit_from("127.0.0.1", query_.packet);
  EXPECT_TRUE(admission.admitted);
  EXPECT_EQ(admission.query.qtype, kTypeA);
  EXPECT_FALSE(admission.outcome.counted());
  EXPECT_EQ(totals().queries[static_cast<size_t>(Transport::udp)], 1u);
}

TEST_F(AdmitTest, OutsideTheAclRefusedWithoutAmplification) {
  Admission admission = admit_from("192.0.2.1", query_.packet);
  EXPECT_FALSE(admission.admitted);
  ASSERT_GT(admission.outcome.length, 0u);
  EXPECT_LE(admission.outcome.length, query_.packet.size());
  EXPECT_EQ(rcode_of_reply(), kRcodeRefused);
  // A query too short to hold the REFUSED reply gets nothing.
  std::vector<uint8_t> bare(query_.packet.begin(), query_.packet.begin() + kHeaderSize);
  bare[5] = 0;  // no question
  bare[11] = 0;
  out_.assign(4096, 0);
  admission = admit_from("192.0.2.1", bare);
  EXPECT_FALSE(admission.admitted);
  EXPECT_LE(admission.outcome.length, bare.size());
}

TEST_F(AdmitTest, ParseVerdictsAreAnswered) {
  std::vector<uint8_t> notimp = query_.packet;
  notimp[2] |= 0x10;  // opcode 2 (STATUS)
  Admission admission = admit_from("127.0.0.1", notimp);
  EXPECT_FALSE(admission.admitted);
  EXPECT_TRUE(admission.outcome.counted());
  EXPECT_EQ(rcode_of_reply(), kRcodeNotImp);

  std::vector<uint8_t> badvers = query_.packet;
  badvers[badvers.size() - 5] = 1;  // EDNS version 1
  admission = admit_from("127.0.0.1", badvers);
  EXPECT_FALSE(admission.admitted);
  EXPECT_EQ(admission.outcome.facts.rcode, kRcodeBadVers);  // not in the header's 4 bits

  std::vector<uint8_t> response = query_.packet;
  response[2] |= 0x80;  // QR: not worth a reply
  admission = admit_from("127.0.0.1", response);
  EXPECT_FALSE(admission.admitted);
  EXPECT_FALSE(admission.outcome.counted());
}

TEST_F(AdmitTest, OverTheRateLimitUdpIsDroppedAndTcpRefused) {
  limiter_ = std::make_unique<RateLimiter>(RateLimit{1, 1});
  EXPECT_TRUE(admit_from("127.0.0.1", query_.packet).admitted);
  Admission udp = admit_from("127.0.0.1", query_.packet);
  EXPECT_FALSE(udp.admitted);
  EXPECT_FALSE(udp.outcome.counted());
  Admission tcp = admit_from("127.0.0.1", query_.packet, Transport::tcp);
  EXPECT_FALSE(tcp.admitted);
  EXPECT_GT(tcp.outcome.length, 0u);
  EXPECT_EQ(rcode_of_reply(), kRcodeRefused);
  const CounterTotals t = totals();
  EXPECT_EQ(t.rate_limited[static_cast<size_t>(Transport::udp)], 1u);
  EXPECT_EQ(t.rate_limited[static_cast<size_t>(Transport::tcp)], 1u);
}

class UseCacheTest : public testing::Test {
 protected:
  ~UseCacheTest() override {
    in_flight_.clear();
    event_base_free(base_);
  }
  static AnswerCache::Hit hit(bool stale, bool prefetch_due) {
    return AnswerCache::Hit{nullptr, 0, stale, prefetch_due};
  }

  event_base* base_ = event_base_new();
  InFlight in_flight_{base_, InFlight::Handlers{}, std::chrono::milliseconds(1800)};
  ClientQuery query_{"www.example.com", kTypeA, true};
};

TEST_F(UseCacheTest, AMissGoesUpstream) {
  const CacheUse use = use_cache(std::nullopt, in_flight_, query_.query);
  EXPECT_FALSE(use.answer);
  EXPECT_FALSE(use.prefetch);
}

TEST_F(UseCacheTest, AFreshAnswerIsUsedAndPrefetchedOnceWhenDue) {
  CacheUse use = use_cache(hit(false, false), in_flight_, query_.query);
  EXPECT_TRUE(use.answer);
  EXPECT_FALSE(use.stale);
  EXPECT_FALSE(use.prefetch);
  EXPECT_TRUE(use_cache(hit(false, true), in_flight_, query_.query).prefetch);
  in_flight_.join(query_.packet, query_.query, nullptr, 0);
  use = use_cache(hit(false, true), in_flight_, query_.query);
  EXPECT_TRUE(use.answer);
  EXPECT_FALSE(use.prefetch);  // a refresh is already on its way
}

TEST_F(UseCacheTest, AnExpiredAnswerIsUsedOnlyOnceItsRefreshIsOverdue) {
  EXPECT_FALSE(use_cache(hit(true, false), in_flight_, query_.query).answer);
  InFlight::Entry* refresh = in_flight_.join(query_.packet, query_.query, nullptr, 0).first;
  EXPECT_FALSE(use_cache(hit(true, false), in_flight_, query_.query).answer);
  refresh->serving_stale = true;
  const CacheUse use = use_cache(hit(true, false), in_flight_, query_.query);
  EXPECT_TRUE(use.answer);
  EXPECT_TRUE(use.stale);
  EXPECT_FALSE(use.prefetch);
}

class PolicyStageTest : public testing::Test {
 protected:
  PolicyStageTest() : metrics_(1), accounting_(metrics_, metrics_.worker(0), nullptr) {
    PolicyBuilder builder(BlockAction::nxdomain);
    PolicyList list;
    list.name = "rpz";
    builder.add_list(list, parse_list("*.ads.example CNAME .\ndrop.example CNAME rpz-drop.\n",
                                      ListFormat::rpz));
    policy_ = std::move(builder).build();
  }
  // A cached answer for www.example whose CNAME chain leads to tracker.ads.example.
  static std::shared_ptr<const Answer> cloaked_answer() {
    return Answer::from_upstream(
        wiretest::upstream_packet("www.example. IN A", LDNS_RCODE_NOERROR,
                                  {"www.example. 300 IN CNAME tracker.ads.example.",
                                   "tracker.ads.example. 300 IN A 192.0.2.1"}),
        DnssecStatus::insecure, false, 86400);
  }

  Metrics metrics_;
  ReplyAccounting accounting_;
  std::shared_ptr<const Policy> policy_;
  std::vector<uint8_t> out_ = std::vector<uint8_t>(4096);
};

TEST_F(PolicyStageTest, ABlockedNameIsAnsweredAndMarkedWithItsList) {
  PolicyStage stage(BlockingConfig{}, accounting_);
  ClientQuery query("x.ads.example", kTypeA, true);
  std::optional<PolicyStage::Blocked> blocked = stage.check_name(policy_, query.query, Policy::kDefaultGroup);
  ASSERT_TRUE(blocked);
  EXPECT_EQ(blocked->list, metrics_.list_index("rpz"));
  const Outcome outcome = PolicyStage::render(*blocked, query.query,
                                              ReplyFacts{query.query.qname, kTypeA}, 512, out_);
  EXPECT_GT(outcome.length, 0u);
  EXPECT_EQ(outcome.facts.list, blocked->list);
  EXPECT_EQ(out_[3] & 0x0f, kRcodeNxDomain);
  ClientQuery allowed("www.example", kTypeA, true);
  EXPECT_FALSE(stage.check_name(policy_, allowed.query, Policy::kDefaultGroup));
}

TEST_F(PolicyStageTest, AnRpzDropIsASilentOutcomeThatIsCounted) {
  PolicyStage stage(BlockingConfig{}, accounting_);
  ClientQuery query("drop.example", kTypeA, true);
  std::optional<PolicyStage::Blocked> blocked = stage.check_name(policy_, query.query, Policy::kDefaultGroup);
  ASSERT_TRUE(blocked);
  EXPECT_EQ(blocked->answer, nullptr);
  const Outcome outcome = PolicyStage::render(*blocked, query.query, ReplyFacts{}, 512, out_);
  EXPECT_EQ(outcome.length, 0u);
  EXPECT_TRUE(outcome.silent);
  EXPECT_TRUE(outcome.counted());
}

// A group without the list: the same cached answer is blocked for one client and not for
// another, and the same entry is answered with each group's action.
TEST_F(PolicyStageTest, EachClientGroupGetsItsOwnVerdictAndAnswer) {
  PolicyBuilder builder(BlockAction::nxdomain);
  PolicyList ads;
  ads.name = "ads";
  builder.add_list(ads, parse_list("ads.example\n", ListFormat::domains));
  builder.set_client_groups({ClientGroup{"servers", {}, {}, {}, BlockAction::nxdomain, {}},
                             ClientGroup{"guests", {}, {"ads"}, {}, BlockAction::refused, {}}});
  policy_ = std::move(builder).build();
  PolicyStage stage(BlockingConfig{}, accounting_);
  ClientQuery query("www.example", kTypeA, true);
  const std::shared_ptr<const Answer> answer = cloaked_answer();
  ASSERT_TRUE(answer);
  EXPECT_TRUE(stage.check_cname_chain(policy_, query.query, *answer, Policy::kDefaultGroup));
  EXPECT_FALSE(stage.check_cname_chain(policy_, query.query, *answer, 1));
  ClientQuery blocked_query("x.ads.example", kTypeA, true);
  EXPECT_FALSE(stage.check_name(policy_, blocked_query.query, 1));
  // One worker's answer store must not hand the default group's NXDOMAIN to a guest.
  for (auto [group, rcode] : {std::pair{Policy::kDefaultGroup, kRcodeNxDomain},
                              std::pair{size_t{2}, kRcodeRefused}}) {
    std::optional<PolicyStage::Blocked> blocked =
        stage.check_name(policy_, blocked_query.query, group);
    ASSERT_TRUE(blocked);
    PolicyStage::render(*blocked, blocked_query.query, ReplyFacts{}, 512, out_);
    EXPECT_EQ(out_[3] & 0x0f, rcode) << "group " << group;
  }
}

TEST_F(PolicyStageTest, ACnameChainIsCheckedOnlyWithCnameCheckOn) {
  ClientQuery query("www.example", kTypeA, true);
  const std::shared_ptr<const Answer> answer = cloaked_answer();
  ASSERT_TRUE(answer);
  PolicyStage checking(BlockingConfig{}, accounting_);
  EXPECT_TRUE(checking.check_cname_chain(policy_, query.query, *answer, Policy::kDefaultGroup));
  BlockingConfig off;
  off.cname_check = false;
  PolicyStage not_checking(off, accounting_);
  EXPECT_FALSE(not_checking.check_cname_chain(policy_, query.query, *answer, Policy::kDefaultGroup));
}

}  // namespace
}  // namespace dnsvagt
