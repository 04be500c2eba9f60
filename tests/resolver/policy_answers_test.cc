#include "resolver/policy_answers.h"

#include <gtest/gtest.h>
#include <ldns/ldns.h>

#include <memory>
#include <string>
#include <vector>

#include "blocklists/list_parser.h"
#include "tests/resolver/wire_test_util.h"

namespace dnsvagt {
namespace {

using wiretest::ClientQuery;
using PacketPtr = std::unique_ptr<ldns_pkt, decltype(&ldns_pkt_free)>;

constexpr uint16_t kA = 1, kAaaa = 28, kMx = 15;

PolicyList list_named(std::string name, bool allow_list = false) {
  PolicyList list;
  list.name = std::move(name);
  list.allow_list = allow_list;
  return list;
}

std::shared_ptr<const Policy> example_policy(BlockAction action) {
  PolicyBuilder builder(action);
  builder.add_list(list_named("malware"),
                   parse_list("0.0.0.0 evil.example\n", ListFormat::hosts));
  builder.add_list(list_named("rpz"),
                   parse_list("nx.example CNAME .\n"
                              "*.wild.example CNAME .\n"
                              "nodata.example CNAME *.\n"
                              "drop.example CNAME rpz-drop.\n"
                              "local.example A 192.0.2.7\n"
                              "local.example AAAA 2001:db8::7\n",
                              ListFormat::rpz));
  return std::move(builder).build();
}

BlockingConfig blocking(BlockAction action) {
  BlockingConfig config;
  config.action = action;
  config.ttl = 123;
  config.sinkhole = {parse_address("192.0.2.99"), parse_address("2001:db8::99"),
                     parse_address("192.0.2.98")};
  return config;
}

// What a client gets back: the reply parsed, plus the raw bytes.
struct Reply {
  std::vector<uint8_t> wire;
  PacketPtr packet{nullptr, &ldns_pkt_free};
};

Reply ask(PolicyAnswers& answers, const std::shared_ptr<const Policy>& policy,
          std::string_view name, uint16_t qtype, const DnsName* cname_target = nullptr) {
  ClientQuery client(name, qtype, true);
  PolicyVerdict verdict = policy->check(cname_target ? cname_target->wire() : client.query.qname);
  EXPECT_TRUE(verdict.blocked) << name;
  std::shared_ptr<const Answer> answer =
      answers.blocked(policy, verdict, client.query.qname, qtype, 1, cname_target);
  Reply reply;
  if (!answer) return reply;
  reply.wire.resize(65535);
  reply.wire.resize(answer->render(client.query, 0, 1232, reply.wire));
  ldns_pkt* pkt = nullptr;
  EXPECT_EQ(ldns_wire2pkt(&pkt, reply.wire.data(), reply.wire.size()), LDNS_STATUS_OK);
  reply.packet.reset(pkt);
  return reply;
}

std::string record_text(const ldns_rr_list* list, size_t i) {
  char* text = ldns_rr2str(ldns_rr_list_rr(list, i));
  std::string line(text);
  free(text);
  while (!line.empty() && line.back() == '\n') line.pop_back();
  return line;
}

std::vector<std::string> records(const ldns_rr_list* list) {
  std::vector<std::string> lines;
  for (size_t i = 0; i < ldns_rr_list_rr_count(list); ++i) lines.push_back(record_text(list, i));
  return lines;
}

// The EDE option's bytes in the reply's OPT record: code, then EXTRA-TEXT.
std::string ede_option(const Reply& reply) {
  const ldns_rdf* options = ldns_pkt_edns_data(reply.packet.get());
  if (!options) return "";
  const uint8_t* data = ldns_rdf_data(options);
  size_t size = ldns_rdf_size(options);
  for (size_t at = 0; at + 4 <= size;) {
    uint16_t code = data[at] << 8 | data[at + 1];
    uint16_t length = data[at + 2] << 8 | data[at + 3];
    if (code == 15) return std::string(reinterpret_cast<const char*>(data + at + 4), length);
    at += 4 + length;
  }
  return "";
}

std::string ede_bytes(uint16_t code, const std::string& text) {
  return std::string{static_cast<char>(code >> 8), static_cast<char>(code)} + text;
}

const std::string kSoaTail = " 123\tIN\tSOA\tlocalhost. nobody.invalid. 1 3600 600 86400 123";

TEST(PolicyAnswers, NxdomainCarriesSoaWithBlockingTtlAndEdeNamingListAndEntry) {
  auto policy = example_policy(BlockAction::nxdomain);
  PolicyAnswers answers(blocking(BlockAction::nxdomain));
  Reply reply = ask(answers, policy, "WWW.Evil.Example", kA);
  ASSERT_TRUE(reply.packet);
  EXPECT_EQ(ldns_pkt_get_rcode(reply.packet.get()), LDNS_RCODE_NXDOMAIN);
  EXPECT_EQ(ldns_pkt_ancount(reply.packet.get()), 0);
  // The SOA owner (the entry) is compressed into the question: it shows the client's case.
  EXPECT_EQ(records(ldns_pkt_authority(reply.packet.get())),
            std::vector<std::string>{"Evil.Example.\t" + kSoaTail.substr(1)});
  EXPECT_EQ(ede_option(reply), ede_bytes(15, "blocked by list malware (entry evil.example)"));
  EXPECT_FALSE(ldns_pkt_ad(reply.packet.get()));
  EXPECT_EQ(ldns_pkt_id(reply.packet.get()), 0xabcd);
  // The client's spelling of the question comes back.
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(reply.wire.data() + 13), 3), "WWW");
}

TEST(PolicyAnswers, NodataIsNoerrorWithSoaAndNoAnswer) {
  auto policy = example_policy(BlockAction::nodata);
  PolicyAnswers answers(blocking(BlockAction::nodata));
  Reply reply = ask(answers, policy, "evil.example", kA);
  ASSERT_TRUE(reply.packet);
  EXPECT_EQ(ldns_pkt_get_rcode(reply.packet.get()), LDNS_RCODE_NOERROR);
  EXPECT_EQ(ldns_pkt_ancount(reply.packet.get()), 0);
  EXPECT_EQ(ldns_pkt_nscount(reply.packet.get()), 1);
  EXPECT_EQ(ede_option(reply), ede_bytes(15, "blocked by list malware (entry evil.example)"));
}

TEST(PolicyAnswers, NullAnswersUnspecifiedAddressesAndNodataForOtherTypes) {
  auto policy = example_policy(BlockAction::null);
  PolicyAnswers answers(blocking(BlockAction::null));
  Reply a = ask(answers, policy, "evil.example", kA);
  EXPECT_EQ(records(ldns_pkt_answer(a.packet.get())),
            std::vector<std::string>{"evil.example.\t123\tIN\tA\t0.0.0.0"});
  EXPECT_EQ(ldns_pkt_nscount(a.packet.get()), 0);
  Reply aaaa = ask(answers, policy, "evil.example", kAaaa);
  EXPECT_EQ(records(ldns_pkt_answer(aaaa.packet.get())),
            std::vector<std::string>{"evil.example.\t123\tIN\tAAAA\t::"});
  Reply mx = ask(answers, policy, "evil.example", kMx);
  EXPECT_EQ(ldns_pkt_get_rcode(mx.packet.get()), LDNS_RCODE_NOERROR);
  EXPECT_EQ(ldns_pkt_ancount(mx.packet.get()), 0);
  EXPECT_EQ(ldns_pkt_nscount(mx.packet.get()), 1);
  EXPECT_EQ(ede_option(mx), ede_bytes(15, "blocked by list malware (entry evil.example)"));
}

TEST(PolicyAnswers, SinkholeAnswersTheConfiguredAddressesOfTheFamily) {
  auto policy = example_policy(BlockAction::sinkhole);
  PolicyAnswers answers(blocking(BlockAction::sinkhole));
  Reply a = ask(answers, policy, "x.evil.example", kA);
  EXPECT_EQ(records(ldns_pkt_answer(a.packet.get())),
            (std::vector<std::string>{"x.evil.example.\t123\tIN\tA\t192.0.2.99",
                                      "x.evil.example.\t123\tIN\tA\t192.0.2.98"}));
  Reply aaaa = ask(answers, policy, "x.evil.example", kAaaa);
  EXPECT_EQ(records(ldns_pkt_answer(aaaa.packet.get())),
            std::vector<std::string>{"x.evil.example.\t123\tIN\tAAAA\t2001:db8::99"});
  Reply mx = ask(answers, policy, "x.evil.example", kMx);
  EXPECT_EQ(ldns_pkt_ancount(mx.packet.get()), 0);
  EXPECT_EQ(ldns_pkt_nscount(mx.packet.get()), 1);
}

TEST(PolicyAnswers, RefusedHasNoRecordsButTheEde) {
  auto policy = example_policy(BlockAction::refused);
  PolicyAnswers answers(blocking(BlockAction::refused));
  Reply reply = ask(answers, policy, "evil.example", kA);
  EXPECT_EQ(ldns_pkt_get_rcode(reply.packet.get()), LDNS_RCODE_REFUSED);
  EXPECT_EQ(ldns_pkt_ancount(reply.packet.get()), 0);
  EXPECT_EQ(ldns_pkt_nscount(reply.packet.get()), 0);
  EXPECT_EQ(ede_option(reply), ede_bytes(15, "blocked by list malware (entry evil.example)"));
}

TEST(PolicyAnswers, RpzActionsOverrideTheConfiguredAction) {
  auto policy = example_policy(BlockAction::null);
  PolicyAnswers answers(blocking(BlockAction::null));
  Reply nx = ask(answers, policy, "nx.example", kA);
  EXPECT_EQ(ldns_pkt_get_rcode(nx.packet.get()), LDNS_RCODE_NXDOMAIN);
  EXPECT_EQ(ede_option(nx), ede_bytes(15, "blocked by list rpz (entry |nx.example^)"));
  Reply wild = ask(answers, policy, "a.wild.example", kA);
  EXPECT_EQ(ldns_pkt_get_rcode(wild.packet.get()), LDNS_RCODE_NXDOMAIN);
  EXPECT_EQ(records(ldns_pkt_authority(wild.packet.get())),
            std::vector<std::string>{"wild.example.\t" + kSoaTail.substr(1)});
  EXPECT_EQ(ede_option(wild), ede_bytes(15, "blocked by list rpz (entry *.wild.example)"));
  Reply nodata = ask(answers, policy, "nodata.example", kA);
  EXPECT_EQ(ldns_pkt_get_rcode(nodata.packet.get()), LDNS_RCODE_NOERROR);
  EXPECT_EQ(ldns_pkt_ancount(nodata.packet.get()), 0);
  Reply local = ask(answers, policy, "local.example", kAaaa);
  EXPECT_EQ(records(ldns_pkt_answer(local.packet.get())),
            std::vector<std::string>{"local.example.\t123\tIN\tAAAA\t2001:db8::7"});
  Reply local_mx = ask(answers, policy, "local.example", kMx);
  EXPECT_EQ(ldns_pkt_ancount(local_mx.packet.get()), 0);
  EXPECT_EQ(ldns_pkt_nscount(local_mx.packet.get()), 1);
}

TEST(PolicyAnswers, DropHasNoAnswer) {
  auto policy = example_policy(BlockAction::nxdomain);
  PolicyAnswers answers(blocking(BlockAction::nxdomain));
  ClientQuery client("drop.example", kA, true);
  PolicyVerdict verdict = policy->check(client.query.qname);
  ASSERT_TRUE(verdict.blocked);
  EXPECT_EQ(verdict.action, PolicyAction::drop);
  EXPECT_EQ(answers.blocked(policy, verdict, client.query.qname, kA, 1), nullptr);
}

TEST(PolicyAnswers, CnameTargetBlockAnswersTheQueryNameAndNamesTheTarget) {
  auto policy = example_policy(BlockAction::nxdomain);
  PolicyAnswers answers(blocking(BlockAction::nxdomain));
  DnsName target = DnsName::from_text("cdn.evil.example").value();
  Reply reply = ask(answers, policy, "www.innocent.example", kA, &target);
  EXPECT_EQ(ldns_pkt_get_rcode(reply.packet.get()), LDNS_RCODE_NXDOMAIN);
  EXPECT_EQ(records(ldns_pkt_authority(reply.packet.get())),
            std::vector<std::string>{"www.innocent.example.\t" + kSoaTail.substr(1)});
  EXPECT_EQ(ede_option(reply),
            ede_bytes(15, "blocked by list malware (entry evil.example) via CNAME target "
                          "cdn.evil.example."));
}

// A label of 63 bytes 0xff: a 64-byte wire label, but 252 characters of \DDD escapes as text,
// so a name under a listed domain that zone-file text cannot hold (owner names of 255
// characters or more). It must get its answer like any other name.
std::string escaped_ff_label() {
  std::string text;
  for (int i = 0; i < 63; ++i) text += "\\255";
  return text;
}

bool owner_is_question(const Reply& reply, const ldns_rr* record) {
  const ldns_rr* question = ldns_rr_list_rr(ldns_pkt_question(reply.packet.get()), 0);
  return ldns_dname_compare(ldns_rr_owner(record), ldns_rr_owner(question)) == 0;
}

TEST(PolicyAnswers, ANameTooLongAsTextGetsItsAddressAnswer) {
  auto policy = example_policy(BlockAction::null);
  PolicyAnswers answers(blocking(BlockAction::null));
  Reply reply = ask(answers, policy, escaped_ff_label() + ".evil.example", kA);
  ASSERT_TRUE(reply.packet);
  ASSERT_EQ(ldns_pkt_ancount(reply.packet.get()), 1);
  const ldns_rr* record = ldns_rr_list_rr(ldns_pkt_answer(reply.packet.get()), 0);
  EXPECT_TRUE(owner_is_question(reply, record));
  EXPECT_EQ(ldns_rr_get_type(record), LDNS_RR_TYPE_A);
}

TEST(PolicyAnswers, ANameTooLongAsTextBlockedByItsCnameTargetGetsNxdomainWithSoa) {
  auto policy = example_policy(BlockAction::nxdomain);
  PolicyAnswers answers(blocking(BlockAction::nxdomain));
  DnsName target = DnsName::from_text("cdn.evil.example").value();
  Reply reply = ask(answers, policy, escaped_ff_label() + ".wildcard.innocent.example", kA, &target);
  ASSERT_TRUE(reply.packet);
  EXPECT_EQ(ldns_pkt_get_rcode(reply.packet.get()), LDNS_RCODE_NXDOMAIN);
  ASSERT_EQ(ldns_pkt_nscount(reply.packet.get()), 1);
  const ldns_rr* soa = ldns_rr_list_rr(ldns_pkt_authority(reply.packet.get()), 0);
  EXPECT_EQ(ldns_rr_get_type(soa), LDNS_RR_TYPE_SOA);
  EXPECT_TRUE(owner_is_question(reply, soa));
}

TEST(PolicyAnswers, OtherClassesGetTheNegativeAnswerInTheirClass) {
  auto policy = example_policy(BlockAction::null);
  PolicyAnswers answers(blocking(BlockAction::null));
  ClientQuery client("evil.example", kA, false);
  auto answer = answers.blocked(policy, policy->check(client.query.qname), client.query.qname,
                                kA, 3);
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->rcode(), 0);
  std::vector<uint8_t> wire(512);
  wire.resize(answer->render(client.query, 0, 512, wire));
  ldns_pkt* pkt = nullptr;
  ASSERT_EQ(ldns_wire2pkt(&pkt, wire.data(), wire.size()), LDNS_STATUS_OK);
  PacketPtr parsed(pkt, &ldns_pkt_free);
  EXPECT_EQ(ldns_pkt_ancount(pkt), 0);  // no IN addresses in class CH
  ASSERT_EQ(ldns_pkt_nscount(pkt), 1);
  EXPECT_EQ(ldns_rr_get_class(ldns_rr_list_rr(ldns_pkt_authority(pkt), 0)), LDNS_RR_CLASS_CH);
}

TEST(PolicyAnswers, ReusesAnAnswerForTheSamePolicyAndRebuildsForANewOne) {
  PolicyAnswers answers(blocking(BlockAction::nxdomain));
  auto first = example_policy(BlockAction::nxdomain);
  ClientQuery lower("evil.example", kA, true);
  ClientQuery upper("EVIL.example", kA, true);
  auto a = answers.blocked(first, first->check(lower.query.qname), lower.query.qname, kA, 1);
  auto b = answers.blocked(first, first->check(upper.query.qname), upper.query.qname, kA, 1);
  EXPECT_EQ(a, b);
  auto second = example_policy(BlockAction::nodata);
  auto c = answers.blocked(second, second->check(lower.query.qname), lower.query.qname, kA, 1);
  EXPECT_NE(a, c);
  EXPECT_EQ(c->rcode(), 0);
}

}  // namespace
}  // namespace dnsvagt
