#include "resolver/query.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "dns/dns_name.h"

namespace dnsvagt {
namespace {

// Builds packets byte by byte so every malformation can be expressed.
struct Packet {
  std::vector<uint8_t> bytes;

  Packet& u8(uint8_t v) { bytes.push_back(v); return *this; }
  Packet& u16(uint16_t v) { return u8(v >> 8).u8(v & 0xff); }
  Packet& u32(uint32_t v) { return u16(v >> 16).u16(v & 0xffff); }
  Packet& header(uint16_t id, uint8_t flags_hi, uint8_t flags_lo, uint16_t qd, uint16_t an,
                 uint16_t ns, uint16_t ar) {
    return u16(id).u8(flags_hi).u8(flags_lo).u16(qd).u16(an).u16(ns).u16(ar);
  }
  Packet& name(std::string_view text) {
    const DnsName parsed = DnsName::from_text(text).value();
    bytes.insert(bytes.end(), parsed.wire().begin(), parsed.wire().end());
    return *this;
  }
  Packet& question(std::string_view text, uint16_t qtype = 1) {
    return name(text).u16(qtype).u16(1);
  }
  // OPT: udp size, extended rcode, version, flags (DO = 0x8000), raw rdata.
  Packet& opt(uint16_t udp_size, uint8_t version = 0, uint16_t flags = 0,
              std::vector<uint8_t> rdata = {}) {
    u8(0).u16(41).u16(udp_size).u8(0).u8(version).u16(flags).u16(rdata.size());
    bytes.insert(bytes.end(), rdata.begin(), rdata.end());
    return *this;
  }
};

Packet simple_query(uint16_t ar = 0) {
  Packet p;
  p.header(0xbeef, 0x01, 0x00, 1, 0, 0, ar).question("www.Example.com");
  return p;
}

QueryParse parse(const Packet& p, Query& q) { return parse_query(p.bytes, q); }

TEST(ParseQueryTest, PlainQuery) {
  Packet p;
  p.header(0x1234, 0x01, 0x30, 1, 0, 0, 0).question("WwW.example.com", 28);
  Query q;
  ASSERT_EQ(parse(p, q), QueryParse::ok);
  EXPECT_EQ(q.id, 0x1234);
  EXPECT_EQ(q.opcode, 0);
  EXPECT_TRUE(q.rd);
  EXPECT_TRUE(q.ad);
  EXPECT_TRUE(q.cd);
  EXPECT_TRUE(q.has_question);
  EXPECT_EQ(q.qtype, 28);
  EXPECT_EQ(q.qclass, 1);
  EXPECT_EQ(q.qname.data(), p.bytes.data() + 12);  // points into the packet, case kept
  EXPECT_EQ(q.qname.size(), 17u);
  EXPECT_EQ(q.qname[1], 'W');
  EXPECT_FALSE(q.has_edns);
  EXPECT_FALSE(q.do_bit);
  EXPECT_EQ(q.udp_size, 512);
}

TEST(ParseQueryTest, FlagsClear) {
  Packet p;
  p.header(1, 0x00, 0x00, 1, 0, 0, 0).question("a");
  Query q;
  ASSERT_EQ(parse(p, q), QueryParse::ok);
  EXPECT_FALSE(q.rd);
  EXPECT_FALSE(q.ad);
  EXPECT_FALSE(q.cd);
}

TEST(ParseQueryTest, DropsShortPacketsAndResponses) {
  Query q;
  std::vector<uint8_t> short_packet(11, 0);
  EXPECT_EQ(parse_query(short_packet, q), QueryParse::drop);
  EXPECT_EQ(parse_query({}, q), QueryParse::drop);
  Packet response;
  response.header(1, 0x81, 0x80, 1, 0, 0, 0).question("example.com");
  EXPECT_EQ(parse(response, q), QueryParse::drop);
}

TEST(ParseQueryTest, OtherOpcodesAreNotImplementedWithQuestionEchoed) {
  Packet notify;
  notify.header(7, 0x04 << 3, 0, 1, 0, 0, 0).question("example.com", 6);
  Query q;
  EXPECT_EQ(parse(notify, q), QueryParse::notimp);
  EXPECT_EQ(q.opcode, 4);
  EXPECT_TRUE(q.has_question);
  EXPECT_EQ(q.qtype, 6);

  Packet status;
  status.header(7, 0x02 << 3, 0, 0, 0, 0, 0);
  EXPECT_EQ(parse(status, q), QueryParse::notimp);
  EXPECT_EQ(q.opcode, 2);
  EXPECT_FALSE(q.has_question);
}

TEST(ParseQueryTest, QuestionCountMustBeOne) {
  Query q;
  Packet none;
  none.header(1, 0x01, 0, 0, 0, 0, 0);
  EXPECT_EQ(parse(none, q), QueryParse::formerr);
  EXPECT_FALSE(q.has_question);
  Packet two;
  two.header(1, 0x01, 0, 2, 0, 0, 0).question("a.example").question("b.example");
  EXPECT_EQ(parse(two, q), QueryParse::formerr);
  EXPECT_FALSE(q.has_question);
}

TEST(ParseQueryTest, AnswerOrAuthorityRecordsAreFormerr) {
  Query q;
  Packet an;
  an.header(1, 0x01, 0, 1, 1, 0, 0).question("a.example");
  an.name("a.example").u16(1).u16(1).u32(60).u16(4).u32(0x7f000001);
  EXPECT_EQ(parse(an, q), QueryParse::formerr);
  EXPECT_TRUE(q.has_question);  // echoed in the FORMERR
  Packet ns;
  ns.header(1, 0x01, 0, 1, 0, 1, 0).question("a.example");
  ns.name("a.example").u16(1).u16(1).u32(60).u16(4).u32(0x7f000001);
  EXPECT_EQ(parse(ns, q), QueryParse::formerr);
}

TEST(ParseQueryTest, TruncatedQuestionsAreFormerr) {
  Packet full = simple_query();
  for (size_t cut = 12; cut < full.bytes.size(); ++cut) {
    std::vector<uint8_t> truncated(full.bytes.begin(), full.bytes.begin() + cut);
    Query q;
    EXPECT_EQ(parse_query(truncated, q), QueryParse::formerr) << "cut at " << cut;
    EXPECT_FALSE(q.has_question);
  }
}

TEST(ParseQueryTest, CompressedQuestionNameIsFormerr) {
  Packet p;
  p.header(1, 0x01, 0, 1, 0, 0, 0).u8(1).u8('a').u8(0xc0).u8(12).u16(1).u16(1);
  Query q;
  EXPECT_EQ(parse(p, q), QueryParse::formerr);
  Packet into_header;
  into_header.header(1, 0x01, 0, 1, 0, 0, 0).u8(0xc0).u8(0).u16(1).u16(1);
  EXPECT_EQ(parse(into_header, q), QueryParse::formerr);
}

TEST(ParseQueryTest, TrailingGarbageIsFormerr) {
  Packet p = simple_query();
  p.u8(0);
  Query q;
  EXPECT_EQ(parse(p, q), QueryParse::formerr);
  Packet after_opt = simple_query(1);
  after_opt.opt(4096).u16(0xffff);
  EXPECT_EQ(parse(after_opt, q), QueryParse::formerr);
}

TEST(ParseQueryTest, EdnsUdpSizeIsClampedTo512) {
  struct Case { uint16_t sent, expected; };
  for (auto [sent, expected] : {Case{4096, 4096}, Case{1232, 1232}, Case{512, 512},
                                Case{100, 512}, Case{0, 512}, Case{65535, 65535}}) {
    Packet p = simple_query(1);
    p.opt(sent);
    Query q;
    ASSERT_EQ(parse(p, q), QueryParse::ok) << sent;
    EXPECT_TRUE(q.has_edns);
    EXPECT_EQ(q.udp_size, expected) << sent;
  }
}

TEST(ParseQueryTest, DoBitComesFromOptFlags) {
  Query q;
  Packet with_do = simple_query(1);
  with_do.opt(1232, 0, 0x8000);
  ASSERT_EQ(parse(with_do, q), QueryParse::ok);
  EXPECT_TRUE(q.do_bit);
  Packet without_do = simple_query(1);
  without_do.opt(1232, 0, 0x7fff);  // every other flag bit set
  ASSERT_EQ(parse(without_do, q), QueryParse::ok);
  EXPECT_FALSE(q.do_bit);
}

TEST(ParseQueryTest, EdnsVersionAboveZeroIsBadvers) {
  Packet p = simple_query(1);
  p.opt(1232, 1, 0x8000);
  Query q;
  EXPECT_EQ(parse(p, q), QueryParse::badvers);
  EXPECT_TRUE(q.has_edns);
  EXPECT_TRUE(q.has_question);
  EXPECT_EQ(q.edns_version, 1);
}

TEST(ParseQueryTest, TwoOptRecordsAreFormerr) {
  Packet p = simple_query(2);
  p.opt(1232).opt(1232);
  Query q;
  EXPECT_EQ(parse(p, q), QueryParse::formerr);
}

TEST(ParseQueryTest, OptMustBeOwnedByRoot) {
  Packet p = simple_query(1);
  p.name("example.com").u16(41).u16(1232).u32(0).u16(0);
  Query q;
  EXPECT_EQ(parse(p, q), QueryParse::formerr);
}

TEST(ParseQueryTest, OptOptionsMustFillRdata) {
  Query q;
  Packet cookie = simple_query(1);  // 8-byte client cookie: well formed
  cookie.opt(1232, 0, 0, {0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8});
  EXPECT_EQ(parse(cookie, q), QueryParse::ok);
  Packet overlong = simple_query(1);  // option claims 9 bytes, has 8
  overlong.opt(1232, 0, 0, {0, 10, 0, 9, 1, 2, 3, 4, 5, 6, 7, 8});
  EXPECT_EQ(parse(overlong, q), QueryParse::formerr);
  Packet stub = simple_query(1);  // 2 stray bytes
  stub.opt(1232, 0, 0, {0, 10});
  EXPECT_EQ(parse(stub, q), QueryParse::formerr);
}

TEST(ParseQueryTest, TruncatedAdditionalRecordIsFormerr) {
  Packet full = simple_query(1);
  full.opt(1232, 0, 0x8000, {0, 10, 0, 2, 9, 9});
  const size_t question_end = simple_query().bytes.size();
  for (size_t cut = question_end; cut < full.bytes.size(); ++cut) {
    std::vector<uint8_t> truncated(full.bytes.begin(), full.bytes.begin() + cut);
    Query q;
    EXPECT_EQ(parse_query(truncated, q), QueryParse::formerr) << "cut at " << cut;
  }
}

TEST(ParseQueryTest, OtherAdditionalRecordsAreSkipped) {
  // OPT followed by a TSIG-shaped record whose owner is compressed onto the qname.
  Packet p = simple_query(2);
  p.opt(1400, 0, 0x8000);
  p.u8(0xc0).u8(12).u16(250).u16(255).u32(0).u16(3).u8(1).u8(2).u8(3);
  Query q;
  ASSERT_EQ(parse(p, q), QueryParse::ok);
  EXPECT_TRUE(q.has_edns);
  EXPECT_TRUE(q.do_bit);
  EXPECT_EQ(q.udp_size, 1400);
}

TEST(ParseQueryTest, RandomAndMutatedPacketsNeverCrash) {
  std::mt19937 rng(20240601);
  std::vector<Packet> seeds;
  seeds.push_back(simple_query());
  seeds.push_back(simple_query(1).opt(4096, 0, 0x8000, {0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8}));
  seeds.push_back(simple_query(2).opt(1232).opt(1232));
  size_t outcomes[5] = {};
  for (int i = 0; i < 100000; ++i) {
    std::vector<uint8_t> packet;
    if (i % 4 == 0) {
      packet.resize(rng() % 64);
      for (auto& b : packet) b = static_cast<uint8_t>(rng());
    } else {
      packet = seeds[rng() % seeds.size()].bytes;
      for (int m = 1 + rng() % 4; m > 0; --m) {
        switch (rng() % 3) {
          case 0: packet[rng() % packet.size()] = static_cast<uint8_t>(rng()); break;
          case 1: packet.resize(rng() % (packet.size() + 1)); break;
          case 2: packet.push_back(static_cast<uint8_t>(rng())); break;
        }
        if (packet.empty()) break;
      }
    }
    Query q;
    const QueryParse result = parse_query(packet, q);
    ++outcomes[static_cast<int>(result)];
    if (q.has_question) {
      ASSERT_GE(q.qname.data(), packet.data());
      ASSERT_LE(q.qname.data() + q.qname.size(), packet.data() + packet.size());
      ASSERT_GE(q.qname.size(), 1u);
      ASSERT_LE(q.qname.size(), 255u);
    }
    if (result == QueryParse::ok) {
      ASSERT_TRUE(q.has_question);
    }
    uint8_t reply[1024];
    if (result != QueryParse::drop) {
      const Ede ede{15, "Blocked (fuzz)"};
      ASSERT_GT(write_error_reply(q, 1, &ede, reply), 0u);
    }
  }
  // The mutations must have reached every outcome, or the loop tests little.
  for (size_t count : outcomes) EXPECT_GT(count, 0u);
}

// --- write_error_reply ---

std::vector<uint8_t> reply_to(const Packet& p, QueryParse expected, uint16_t rcode,
                              const Ede* ede = nullptr) {
  Query q;
  EXPECT_EQ(parse(p, q), expected);
  std::vector<uint8_t> out(512);
  out.resize(write_error_reply(q, rcode, ede, out));
  return out;
}

TEST(ErrorReplyTest, FormerrWithoutQuestionIsBareHeader) {
  Packet p;
  p.header(0xabcd, 0x01, 0x10, 0, 0, 0, 0);  // RD, CD
  EXPECT_EQ(reply_to(p, QueryParse::formerr, 1),
            (std::vector<uint8_t>{0xab, 0xcd, 0x81, 0x91, 0, 0, 0, 0, 0, 0, 0, 0}));
}

TEST(ErrorReplyTest, NotimpEchoesOpcodeAndQuestion) {
  Packet p;
  p.header(0x0102, 0x04 << 3, 0x20, 1, 0, 0, 0).name("a").u16(6).u16(1);  // NOTIFY, AD
  EXPECT_EQ(reply_to(p, QueryParse::notimp, 4),
            (std::vector<uint8_t>{0x01, 0x02, 0xa0, 0x84, 0, 1, 0, 0, 0, 0, 0, 0,
                                  1, 'a', 0, 0, 6, 0, 1}));
}

TEST(ErrorReplyTest, RefusedWithEdnsCarriesOptAndEde) {
  Packet p;
  p.header(0x0001, 0x01, 0x00, 1, 0, 0, 1).name("X").u16(1).u16(1).opt(4096, 0, 0x8000);
  const Ede ede{15, "Blocked"};
  EXPECT_EQ(reply_to(p, QueryParse::ok, 5, &ede),
            (std::vector<uint8_t>{
                0x00, 0x01, 0x81, 0x85, 0, 1, 0, 0, 0, 0, 0, 1,  // header, REFUSED
                1, 'X', 0, 0, 1, 0, 1,                          // question, case kept
                0, 0, 41, 0x04, 0xd0, 0, 0, 0x80, 0,            // OPT 1232, DO echoed
                0, 13, 0, 15, 0, 9, 0, 15,                      // EDE, info-code 15
                'B', 'l', 'o', 'c', 'k', 'e', 'd'}));
}

TEST(ErrorReplyTest, EdeNeedsClientEdns) {
  Packet p;
  p.header(0x0001, 0x01, 0x00, 1, 0, 0, 0).name("X").u16(1).u16(1);
  const Ede ede{15, "Blocked"};
  EXPECT_EQ(reply_to(p, QueryParse::ok, 2, &ede).size(), 12u + 7u);  // no OPT, no EDE
}

TEST(ErrorReplyTest, BadversPutsHighRcodeBitsInOpt) {
  Packet p;
  p.header(0x0042, 0x00, 0x00, 1, 0, 0, 1).name("X").u16(1).u16(1).opt(1232, 2);
  EXPECT_EQ(reply_to(p, QueryParse::badvers, 16),
            (std::vector<uint8_t>{0x00, 0x42, 0x80, 0x80, 0, 1, 0, 0, 0, 0, 0, 1,
                                  1, 'X', 0, 0, 1, 0, 1,
                                  0, 0, 41, 0x04, 0xd0, 1, 0, 0, 0, 0, 0}));
}

TEST(ErrorReplyTest, NeverLargerThanHeaderQuestionAndOpt) {
  // A query padded with a large option gets a reply of the same fixed size (no amplification,
  // nor reflection of the padding).
  std::vector<uint8_t> padding_option = {0, 12, 1, 44};  // PADDING, 300 bytes
  padding_option.resize(304, 0);
  Packet padded = simple_query(1);
  padded.opt(4096, 0, 0, padding_option);
  auto reply = reply_to(padded, QueryParse::ok, 2);
  EXPECT_EQ(reply.size(), simple_query().bytes.size() + 11);
  EXPECT_LT(reply.size(), padded.bytes.size());
}

TEST(ErrorReplyTest, TooSmallBufferWritesNothing) {
  Packet p = simple_query();
  Query q;
  ASSERT_EQ(parse(p, q), QueryParse::ok);
  std::vector<uint8_t> out(p.bytes.size() - 1);
  EXPECT_EQ(write_error_reply(q, 2, nullptr, out), 0u);
  out.resize(p.bytes.size());
  EXPECT_EQ(write_error_reply(q, 2, nullptr, out), p.bytes.size());
}

}  // namespace
}  // namespace dnsvagt
