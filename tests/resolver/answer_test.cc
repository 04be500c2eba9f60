#include "resolver/answer.h"

#include <gtest/gtest.h>
#include <ldns/ldns.h>

#include <memory>
#include <string>
#include <vector>

#include "tests/resolver/wire_test_util.h"

namespace dnsvagt {
namespace {

using wiretest::ClientQuery;
using wiretest::upstream_packet;

using PacketPtr = std::unique_ptr<ldns_pkt, decltype(&ldns_pkt_free)>;

const std::string kSig =
    " 8 3 3600 20300101000000 20200101000000 12345 example.com. dGVzdHNpZ25hdHVyZQ==";
const std::string kSoa =
    "example.com. 3600 IN SOA ns.example.com. admin.example.com. 1 7200 900 1209600 300";

std::vector<uint8_t> signed_a_packet() {
  return upstream_packet("www.example.com. IN A", LDNS_RCODE_NOERROR,
                         {"www.example.com. 3600 IN A 192.0.2.1",
                          "www.example.com. 3600 IN A 192.0.2.2",
                          "www.example.com. 3600 IN RRSIG A" + kSig},
                         {"example.com. 7200 IN NS ns.example.com.",
                          "example.com. 7200 IN RRSIG NS" + kSig},
                         {"ns.example.com. 7200 IN A 192.0.2.53"});
}

std::vector<uint8_t> render(const Answer& answer, const ClientQuery& client, uint32_t age = 0,
                            size_t max_size = 65535) {
  std::vector<uint8_t> out(65535);
  out.resize(answer.render(client.query, age, max_size, out));
  return out;
}

PacketPtr parse(const std::vector<uint8_t>& wire) {
  ldns_pkt* pkt = nullptr;
  EXPECT_EQ(ldns_wire2pkt(&pkt, wire.data(), wire.size()), LDNS_STATUS_OK);
  return PacketPtr(pkt, &ldns_pkt_free);
}

// The RDATA of a zone-file line, uncompressed wire.
std::vector<uint8_t> rdata_of(const std::string& line) {
  ldns_rr* record = wiretest::zone_line_rr(line);
  ldns_buffer* buffer = ldns_buffer_new(512);
  EXPECT_EQ(ldns_rr_rdata2buffer_wire(buffer, record), LDNS_STATUS_OK);
  std::vector<uint8_t> rdata(ldns_buffer_begin(buffer),
                             ldns_buffer_begin(buffer) + ldns_buffer_position(buffer));
  ldns_buffer_free(buffer);
  ldns_rr_free(record);
  return rdata;
}

size_t count_type(const ldns_rr_list* list, ldns_rr_type type) {
  size_t count = 0;
  for (size_t i = 0; i < ldns_rr_list_rr_count(list); ++i) {
    if (ldns_rr_get_type(ldns_rr_list_rr(list, i)) == type) ++count;
  }
  return count;
}

TEST(AnswerTest, NonDoAnswerDropsOptAndDnssecRecords) {
  auto answer = Answer::from_upstream(signed_a_packet(), DnssecStatus::secure, false, 86400);
  ASSERT_TRUE(answer);
  ClientQuery client("www.example.com", 1, false);
  auto reply = parse(render(*answer, client));
  ASSERT_TRUE(reply);
  EXPECT_EQ(ldns_pkt_ancount(reply.get()), 2);
  EXPECT_EQ(count_type(ldns_pkt_answer(reply.get()), LDNS_RR_TYPE_RRSIG), 0u);
  EXPECT_EQ(ldns_pkt_nscount(reply.get()), 1);
  EXPECT_EQ(count_type(ldns_pkt_authority(reply.get()), LDNS_RR_TYPE_RRSIG), 0u);
  EXPECT_EQ(ldns_pkt_arcount(reply.get()), 1);  // the glue, no OPT
  EXPECT_FALSE(ldns_pkt_edns(reply.get()));
}

TEST(AnswerTest, DoAnswerKeepsRrsigsAndEchoesDo) {
  auto answer = Answer::from_upstream(signed_a_packet(), DnssecStatus::secure, true, 86400);
  ASSERT_TRUE(answer);
  ClientQuery client("www.example.com", 1, true, true);
  auto wire = render(*answer, client);
  ASSERT_GE(wire.size(), 12u);
  EXPECT_EQ(wire[11], 2);  // glue + our OPT
  auto reply = parse(wire);
  ASSERT_TRUE(reply);
  EXPECT_EQ(count_type(ldns_pkt_answer(reply.get()), LDNS_RR_TYPE_RRSIG), 1u);
  EXPECT_EQ(count_type(ldns_pkt_authority(reply.get()), LDNS_RR_TYPE_RRSIG), 1u);
  EXPECT_EQ(ldns_pkt_arcount(reply.get()), 1);  // ldns keeps the OPT apart
  EXPECT_TRUE(ldns_pkt_edns(reply.get()));
  EXPECT_TRUE(ldns_pkt_edns_do(reply.get()));
  EXPECT_EQ(ldns_pkt_edns_udp_size(reply.get()), kServerUdpSize);
}

TEST(AnswerTest, ExplicitRrsigQueryKeepsAnswerRrsigsForNonDo) {
  auto packet = upstream_packet("www.example.com. IN RRSIG", LDNS_RCODE_NOERROR,
                                {"www.example.com. 3600 IN RRSIG A" + kSig});
  auto answer = Answer::from_upstream(packet, DnssecStatus::insecure, false, 86400);
  ASSERT_TRUE(answer);
  ClientQuery client("www.example.com", 46, false);
  auto reply = parse(render(*answer, client));
  EXPECT_EQ(count_type(ldns_pkt_answer(reply.get()), LDNS_RR_TYPE_RRSIG), 1u);
}

TEST(AnswerTest, ReusesNameCompression) {
  auto packet = upstream_packet("www.example.com. IN A", LDNS_RCODE_NOERROR,
                                {"www.example.com. 60 IN A 192.0.2.1",
                                 "www.example.com. 60 IN A 192.0.2.2",
                                 "www.example.com. 60 IN A 192.0.2.3"});
  auto answer = Answer::from_upstream(packet, DnssecStatus::insecure, false, 86400);
  ASSERT_TRUE(answer);
  ClientQuery client("www.example.com", 1, false);
  // header 12 + question 21 + 3 * (pointer 2 + fixed 10 + address 4)
  EXPECT_EQ(render(*answer, client).size(), 12u + 21u + 3u * 16u);
}

TEST(AnswerTest, HeaderComesFromTheClientQuery) {
  auto answer = Answer::from_upstream(signed_a_packet(), DnssecStatus::insecure, false, 86400);
  ASSERT_TRUE(answer);
  ClientQuery client("www.example.com", 1, false, false, 0x10);  // CD
  auto wire = render(*answer, client);
  ASSERT_GE(wire.size(), 12u);
  EXPECT_EQ(wire[0], 0xab);
  EXPECT_EQ(wire[1], 0xcd);
  EXPECT_EQ(wire[2], 0x81);  // QR, opcode 0, AA=0, TC=0, RD
  EXPECT_EQ(wire[3], 0x90);  // RA, CD, rcode 0, no AD (insecure)
}

TEST(AnswerTest, AdFollowsStatusDoAdAndCd) {
  for (auto status : {DnssecStatus::secure, DnssecStatus::insecure,
                      DnssecStatus::indeterminate}) {
    auto answer = Answer::from_upstream(signed_a_packet(), status, true, 86400);
    ASSERT_TRUE(answer);
    for (int bits = 0; bits < 8; ++bits) {
      const bool do_bit = bits & 1, ad = bits & 2, cd = bits & 4;
      const uint8_t flags_lo = static_cast<uint8_t>((ad ? 0x20 : 0) | (cd ? 0x10 : 0));
      ClientQuery client("www.example.com", 1, true, do_bit, flags_lo);
      auto wire = render(*answer, client);
      ASSERT_GE(wire.size(), 12u);
      const bool expected = status == DnssecStatus::secure && (do_bit || ad) && !cd;
      EXPECT_EQ((wire[3] & 0x20) != 0, expected)
          << to_string(status) << " do=" << do_bit << " ad=" << ad << " cd=" << cd;
      EXPECT_EQ((wire[3] & 0x10) != 0, cd);
    }
  }
}

TEST(AnswerTest, TtlsAgeAndFloorAtZero) {
  auto answer = Answer::from_upstream(signed_a_packet(), DnssecStatus::secure, true, 86400);
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->ttl(), 3600u);
  ClientQuery client("www.example.com", 1, true, true);
  auto aged = parse(render(*answer, client, 1000));
  for (size_t i = 0; i < ldns_pkt_ancount(aged.get()); ++i) {
    EXPECT_EQ(ldns_rr_ttl(ldns_rr_list_rr(ldns_pkt_answer(aged.get()), i)), 2600u);
  }
  EXPECT_EQ(ldns_rr_ttl(ldns_rr_list_rr(ldns_pkt_authority(aged.get()), 0)), 6200u);
  EXPECT_EQ(ldns_rr_ttl(ldns_rr_list_rr(ldns_pkt_additional(aged.get()), 0)), 6200u);

  auto expired = parse(render(*answer, client, 5000));
  EXPECT_EQ(ldns_rr_ttl(ldns_rr_list_rr(ldns_pkt_answer(expired.get()), 0)), 0u);
  EXPECT_EQ(ldns_rr_ttl(ldns_rr_list_rr(ldns_pkt_authority(expired.get()), 0)), 2200u);
  // The stored answer itself is unchanged by rendering.
  auto fresh = parse(render(*answer, client, 0));
  EXPECT_EQ(ldns_rr_ttl(ldns_rr_list_rr(ldns_pkt_answer(fresh.get()), 0)), 3600u);
}

TEST(AnswerTest, TtlsAreCappedAtMaxTtl) {
  auto packet = upstream_packet("www.example.com. IN A", LDNS_RCODE_NOERROR,
                                {"www.example.com. 604800 IN A 192.0.2.1"});
  auto answer = Answer::from_upstream(packet, DnssecStatus::insecure, false, 86400);
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->ttl(), 86400u);
  ClientQuery client("www.example.com", 1, false);
  auto reply = parse(render(*answer, client));
  EXPECT_EQ(ldns_rr_ttl(ldns_rr_list_rr(ldns_pkt_answer(reply.get()), 0)), 86400u);
}

TEST(AnswerTest, QuestionKeepsTheClientsCase) {
  auto answer = Answer::from_upstream(signed_a_packet(), DnssecStatus::secure, false, 86400);
  ASSERT_TRUE(answer);
  ClientQuery client("wWw.ExAmPlE.cOm", 1, false);
  auto wire = render(*answer, client);
  ASSERT_GT(wire.size(), 12u + client.query.qname.size());
  EXPECT_TRUE(std::equal(client.query.qname.begin(), client.query.qname.end(), wire.begin() + 12));
}

TEST(AnswerTest, TruncatesToHeaderQuestionAndOpt) {
  std::vector<std::string> records;
  for (int i = 0; i < 20; ++i) {
    records.push_back("big.example.com. 300 IN TXT \"" + std::string(40, 'a' + i) + "\"");
  }
  auto packet = upstream_packet("big.example.com. IN TXT", LDNS_RCODE_NOERROR, records);
  auto answer = Answer::from_upstream(packet, DnssecStatus::secure, false, 86400);
  ASSERT_TRUE(answer);

  ClientQuery plain("big.example.com", 16, false);
  auto truncated = render(*answer, plain, 0, 512);
  ASSERT_EQ(truncated.size(), 12u + 17u + 4u);
  EXPECT_EQ(truncated[2] & 0x02, 0x02);  // TC
  auto parsed = parse(truncated);
  EXPECT_EQ(ldns_pkt_ancount(parsed.get()), 0);
  EXPECT_EQ(ldns_pkt_nscount(parsed.get()), 0);
  EXPECT_EQ(ldns_pkt_arcount(parsed.get()), 0);
  EXPECT_EQ(ldns_pkt_qdcount(parsed.get()), 1);

  ClientQuery edns("big.example.com", 16, true, true, 0, 4096);
  auto with_opt = render(*answer, edns, 0, 512);
  ASSERT_EQ(with_opt.size(), 12u + 17u + 4u + 11u);
  auto parsed_opt = parse(with_opt);
  EXPECT_TRUE(ldns_pkt_tc(parsed_opt.get()));
  EXPECT_TRUE(ldns_pkt_edns(parsed_opt.get()));

  auto full = render(*answer, edns, 0, edns.query.udp_size);
  EXPECT_GT(full.size(), 512u);
  EXPECT_EQ(full[2] & 0x02, 0);
  EXPECT_EQ(ldns_pkt_ancount(parse(full).get()), 20);
}

TEST(AnswerTest, OutputBufferBoundsTheReplyToo) {
  auto answer = Answer::from_upstream(signed_a_packet(), DnssecStatus::secure, false, 86400);
  ASSERT_TRUE(answer);
  ClientQuery client("www.example.com", 1, false);
  std::vector<uint8_t> tiny(20);
  EXPECT_EQ(answer->render(client.query, 0, 65535, tiny), 0u);  // not even the question fits
  std::vector<uint8_t> small(40);
  EXPECT_EQ(answer->render(client.query, 0, 65535, small), 33u);  // truncated
  EXPECT_EQ(small[2] & 0x02, 0x02);
}

TEST(AnswerTest, NegativeTtlFollowsRfc2308) {
  auto nxdomain = Answer::from_upstream(
      upstream_packet("nx.example.com. IN A", LDNS_RCODE_NXDOMAIN, {}, {kSoa}),
      DnssecStatus::insecure, false, 86400);
  ASSERT_TRUE(nxdomain);
  EXPECT_EQ(nxdomain->rcode(), 3);
  EXPECT_EQ(nxdomain->ttl(), 300u);  // MINIMUM below the SOA TTL

  const std::string short_soa =
      "example.com. 60 IN SOA ns.example.com. admin.example.com. 1 7200 900 1209600 300";
  auto nodata = Answer::from_upstream(
      upstream_packet("www.example.com. IN AAAA", LDNS_RCODE_NOERROR, {}, {short_soa}),
      DnssecStatus::insecure, false, 86400);
  ASSERT_TRUE(nodata);
  EXPECT_EQ(nodata->ttl(), 60u);  // SOA TTL below MINIMUM

  auto no_soa = Answer::from_upstream(
      upstream_packet("nx.example.com. IN A", LDNS_RCODE_NXDOMAIN, {}),
      DnssecStatus::insecure, false, 86400);
  ASSERT_TRUE(no_soa);
  EXPECT_EQ(no_soa->ttl(), 0u);

  auto servfail = Answer::from_upstream(
      upstream_packet("www.example.com. IN A", LDNS_RCODE_SERVFAIL, {}),
      DnssecStatus::indeterminate, false, 86400);
  ASSERT_TRUE(servfail);
  EXPECT_EQ(servfail->rcode(), 2);
  EXPECT_EQ(servfail->ttl(), 0u);
}

TEST(AnswerTest, PositiveTtlIsTheSmallestAnswerOrAuthorityTtl) {
  auto answer = Answer::from_upstream(
      upstream_packet("www.example.com. IN A", LDNS_RCODE_NOERROR,
                      {"www.example.com. 900 IN A 192.0.2.1"},
                      {"example.com. 120 IN NS ns.example.com."},
                      {"ns.example.com. 5 IN A 192.0.2.53"}),
      DnssecStatus::insecure, false, 86400);
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->ttl(), 120u);  // the additional section does not count
}

TEST(AnswerTest, CnameTargetsInChainOrder) {
  // Records deliberately out of order; the chain is a -> b -> c -> d.
  auto packet = upstream_packet("a.example.com. IN A", LDNS_RCODE_NOERROR,
                                {"c.example.net. 60 IN CNAME d.example.org.",
                                 "a.example.com. 60 IN CNAME b.example.com.",
                                 "d.example.org. 60 IN A 192.0.2.1",
                                 "B.example.com. 60 IN CNAME c.example.net."});
  auto answer = Answer::from_upstream(packet, DnssecStatus::insecure, false, 86400);
  ASSERT_TRUE(answer);
  ASSERT_EQ(answer->cname_targets().size(), 3u);
  EXPECT_EQ(answer->cname_targets()[0].to_text(), "b.example.com.");
  EXPECT_EQ(answer->cname_targets()[1].to_text(), "c.example.net.");
  EXPECT_EQ(answer->cname_targets()[2].to_text(), "d.example.org.");
}

TEST(AnswerTest, DnameTargetPrecedesItsSynthesizedCname) {
  auto packet = upstream_packet("www.old.example. IN A", LDNS_RCODE_NOERROR,
                                {"old.example. 60 IN DNAME new.example.",
                                 "www.old.example. 60 IN CNAME www.new.example.",
                                 "www.new.example. 60 IN A 192.0.2.1"});
  auto answer = Answer::from_upstream(packet, DnssecStatus::insecure, false, 86400);
  ASSERT_TRUE(answer);
  ASSERT_EQ(answer->cname_targets().size(), 2u);
  EXPECT_EQ(answer->cname_targets()[0].to_text(), "new.example.");
  EXPECT_EQ(answer->cname_targets()[1].to_text(), "www.new.example.");
}

TEST(AnswerTest, NegativeAnswersAreCachedForThreeHoursAtMost) {
  auto nxdomain = Answer::from_upstream(
      upstream_packet("gone.example. IN A", LDNS_RCODE_NXDOMAIN, {},
                      {"example. 86400 IN SOA ns.example. host.example. 1 7200 900 1209600 86400"}),
      DnssecStatus::insecure, false, 86400);
  auto nodata = Answer::from_upstream(
      upstream_packet("www.example. IN AAAA", LDNS_RCODE_NOERROR, {},
                      {"example. 86400 IN SOA ns.example. host.example. 1 7200 900 1209600 86400"}),
      DnssecStatus::insecure, false, 86400);
  ASSERT_TRUE(nxdomain && nodata);
  EXPECT_EQ(nxdomain->ttl(), 10800u);
  EXPECT_EQ(nodata->ttl(), 10800u);
}

TEST(AnswerTest, GarbageDoesNotParse) {
  std::vector<uint8_t> garbage = {1, 2, 3, 4, 5};
  EXPECT_EQ(Answer::from_upstream(garbage, DnssecStatus::secure, true, 86400), nullptr);
  auto truncated = signed_a_packet();
  truncated.resize(truncated.size() - 30);
  EXPECT_EQ(Answer::from_upstream(truncated, DnssecStatus::secure, true, 86400), nullptr);
}

TEST(AnswerTest, SynthesizedNxdomainCarriesSoaAndEde) {
  auto name = DnsName::from_text("ads.example.com").value();
  const std::vector<Answer::LocalRecord> soa = {
      {name, 6, 300, rdata_of("ads.example.com. 300 IN SOA localhost. nobody.invalid. 1 3600 600 86400 300")}};
  auto answer = Answer::synthesize(name, 1, 1, 3, {}, soa, 15, "blocked by urlhaus");
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->rcode(), 3);
  EXPECT_EQ(answer->status(), DnssecStatus::indeterminate);
  EXPECT_EQ(answer->ttl(), 300u);

  ClientQuery edns("ADS.example.com", 1, true, true);
  auto wire = render(*answer, edns);
  const std::string text = "blocked by urlhaus";
  // The reply ends with our OPT: EDE option 15, length 2 + text, INFO-CODE 15, text.
  std::vector<uint8_t> opt_tail = {0, 0, 41, 0x04, 0xd0, 0, 0, 0x80, 0,
                                   0, static_cast<uint8_t>(6 + text.size()),
                                   0, 15, 0, static_cast<uint8_t>(2 + text.size()), 0, 15};
  opt_tail.insert(opt_tail.end(), text.begin(), text.end());
  ASSERT_GT(wire.size(), opt_tail.size());
  EXPECT_TRUE(std::equal(opt_tail.begin(), opt_tail.end(), wire.end() - opt_tail.size()));
  auto parsed = parse(wire);
  EXPECT_EQ(ldns_pkt_get_rcode(parsed.get()), LDNS_RCODE_NXDOMAIN);
  EXPECT_EQ(ldns_pkt_nscount(parsed.get()), 1);
  EXPECT_EQ(count_type(ldns_pkt_authority(parsed.get()), LDNS_RR_TYPE_SOA), 1u);
  EXPECT_FALSE(ldns_pkt_ad(parsed.get()));
  EXPECT_EQ(wire[13], 'A');  // the client's spelling

  ClientQuery plain("ads.example.com", 1, false);
  auto no_edns = render(*answer, plain);
  EXPECT_EQ(no_edns.size(), wire.size() - opt_tail.size());
  EXPECT_EQ(no_edns[11], 0);  // arcount: no OPT, so no EDE
}

TEST(AnswerTest, SynthesizedSinkholeAndRefused) {
  auto name = DnsName::from_text("ads.example.com").value();
  const std::vector<Answer::LocalRecord> address = {{name, 1, 300, {0, 0, 0, 0}}};
  auto sinkhole = Answer::synthesize(name, 1, 1, 0, address, {}, 15, "blocked by local");
  ClientQuery client("ads.example.com", 1, false);
  auto parsed = parse(render(*sinkhole, client));
  ASSERT_EQ(ldns_pkt_ancount(parsed.get()), 1);
  EXPECT_EQ(ldns_rr_get_type(ldns_rr_list_rr(ldns_pkt_answer(parsed.get()), 0)),
            LDNS_RR_TYPE_A);
  EXPECT_EQ(sinkhole->ttl(), 300u);

  auto refused = Answer::synthesize(name, 1, 1, 5, {}, {}, 15, "blocked by local");
  EXPECT_EQ(refused->ttl(), 0u);
  auto refused_reply = render(*refused, client);
  EXPECT_EQ(refused_reply[3] & 0x0f, 5);
}

TEST(AnswerTest, SynthesizedRecordsAnswerInTheQuestionsClass) {
  auto name = DnsName::from_text("ads.example.com").value();
  const std::vector<Answer::LocalRecord> soa = {{name, 6, 300, rdata_of(
      "ads.example.com. 300 IN SOA localhost. nobody.invalid. 1 3600 600 86400 300")}};
  auto answer = Answer::synthesize(name, 16, 3, 3, {}, soa, 15, "blocked");
  ClientQuery client("ads.example.com", 16, false);
  auto wire = render(*answer, client);
  auto parsed = parse(wire);
  ASSERT_EQ(ldns_pkt_nscount(parsed.get()), 1);
  EXPECT_EQ(ldns_rr_get_class(ldns_rr_list_rr(ldns_pkt_authority(parsed.get()), 0)),
            LDNS_RR_CLASS_CH);
}

TEST(AnswerTest, SynthesizeRefusesMoreThanOneMessageHolds) {
  auto name = DnsName::from_text("ads.example.com").value();
  const std::vector<Answer::LocalRecord> big(300, {name, 16, 300, std::vector<uint8_t>(255, 'x')});
  EXPECT_THROW(Answer::synthesize(name, 16, 1, 0, big, {}, 15, "x"), std::length_error);
  const std::vector<Answer::LocalRecord> fits(200, {name, 16, 300, std::vector<uint8_t>(255, 'x')});
  EXPECT_TRUE(Answer::synthesize(name, 16, 1, 0, fits, {}, 15, "x"));
}

TEST(AnswerTest, MemorySizeCountsTheWire) {
  auto small = Answer::from_upstream(
      upstream_packet("www.example.com. IN A", LDNS_RCODE_NOERROR,
                      {"www.example.com. 60 IN A 192.0.2.1"}),
      DnssecStatus::insecure, false, 86400);
  auto big = Answer::from_upstream(signed_a_packet(), DnssecStatus::secure, true, 86400);
  ASSERT_TRUE(small && big);
  EXPECT_GT(small->memory_size(), 49u);
  EXPECT_GT(big->memory_size(), small->memory_size() + 100);
}

}  // namespace
}  // namespace dnsvagt
