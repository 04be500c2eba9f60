#include "dns/dns_name.h"

#include <gtest/gtest.h>

#include <unordered_set>
#include <vector>

namespace dnsvagt {
namespace {

std::vector<uint8_t> bytes(std::string_view s) { return {s.begin(), s.end()}; }

DnsName name(std::string_view text) {
  auto parsed = DnsName::from_text(text);
  EXPECT_TRUE(parsed.has_value()) << text;
  return parsed.value_or(DnsName());
}

TEST(DnsNameTest, FromTextBuildsWireWithAndWithoutTrailingDot) {
  const auto expected = bytes(std::string_view("\3www\7Example\3com\0", 17));
  auto a = name("www.Example.com");
  auto b = name("www.Example.com.");
  EXPECT_EQ(std::vector<uint8_t>(a.wire().begin(), a.wire().end()), expected);
  EXPECT_EQ(std::vector<uint8_t>(b.wire().begin(), b.wire().end()), expected);
  EXPECT_EQ(a.to_text(), "www.Example.com.");
  EXPECT_EQ(a.label_count(), 3u);
}

TEST(DnsNameTest, RootName) {
  DnsName root;
  EXPECT_EQ(root.wire().size(), 1u);
  EXPECT_EQ(root.to_text(), ".");
  EXPECT_EQ(root.label_count(), 0u);
  EXPECT_EQ(name("."), root);
  EXPECT_TRUE(name("example.com").is_subdomain_of(root));
}

TEST(DnsNameTest, RejectsInvalidText) {
  EXPECT_FALSE(DnsName::from_text(""));
  EXPECT_FALSE(DnsName::from_text(".."));
  EXPECT_FALSE(DnsName::from_text("a..b"));
  EXPECT_FALSE(DnsName::from_text(".a"));
  EXPECT_FALSE(DnsName::from_text("a\\"));        // dangling escape
  EXPECT_FALSE(DnsName::from_text("a\\25"));      // short \DDD
  EXPECT_FALSE(DnsName::from_text("a\\256"));     // \DDD above 255
  EXPECT_FALSE(DnsName::from_text(std::string(64, 'a')));
  EXPECT_TRUE(DnsName::from_text(std::string(63, 'a')));
}

TEST(DnsNameTest, LongestNameIs255Bytes) {
  // 4 labels of 63 = 256 bytes with lengths, +1 root = 257: too long. 3*64 + 62 = 254 +1 = 255.
  const std::string label63(63, 'x');
  const std::string ok = label63 + "." + label63 + "." + label63 + "." + std::string(61, 'y');
  auto parsed = DnsName::from_text(ok);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->wire().size(), 255u);
  EXPECT_FALSE(DnsName::from_text(ok + "y"));
}

TEST(DnsNameTest, EscapesRoundTrip) {
  auto dotted = name("a\\.b.example");
  EXPECT_EQ(dotted.label_count(), 2u);
  EXPECT_EQ(dotted.wire()[0], 3);
  EXPECT_EQ(dotted.to_text(), "a\\.b.example.");

  auto decimal = name("\\065\\032\\000.x");
  ASSERT_EQ(decimal.wire()[0], 3);
  EXPECT_EQ(decimal.wire()[1], 'A');
  EXPECT_EQ(decimal.wire()[2], ' ');
  EXPECT_EQ(decimal.wire()[3], 0);
  EXPECT_EQ(decimal.to_text(), "A\\032\\000.x.");
  EXPECT_EQ(name(decimal.to_text()), decimal);

  EXPECT_EQ(name("semi\\;colon").to_text(), "semi\\;colon.");
  EXPECT_EQ(name("back\\\\slash").wire()[0], 10);
}

TEST(DnsNameTest, ComparesAndHashesCaseInsensitively) {
  EXPECT_EQ(name("WWW.EXAMPLE.COM"), name("www.example.com."));
  EXPECT_EQ(name("WWW.EXAMPLE.COM").hash(), name("www.example.com.").hash());
  EXPECT_NE(name("www.example.com"), name("www.example.org"));
  EXPECT_NE(name("a.bc"), name("ab.c"));  // same letters, different labels
  // RFC 4343: only ASCII folds; 0xC4 and 0xE4 are different bytes.
  EXPECT_NE(name("\\196"), name("\\228"));

  std::unordered_set<DnsName, DnsNameHash> set{name("Example.COM")};
  EXPECT_EQ(set.count(name("example.com")), 1u);
  EXPECT_EQ(set.count(name("example.co")), 0u);
}

TEST(DnsNameTest, LowercasedKeepsLengthsAndFoldsLetters) {
  auto lower = name("WwW.ExAmPlE.").lowercased();
  EXPECT_EQ(lower.to_text(), "www.example.");
}

TEST(DnsNameTest, SubdomainRespectsLabelBoundaries) {
  EXPECT_TRUE(name("a.b.Example.com").is_subdomain_of(name("example.COM")));
  EXPECT_TRUE(name("example.com").is_subdomain_of(name("example.com")));
  EXPECT_FALSE(name("badexample.com").is_subdomain_of(name("example.com")));
  EXPECT_FALSE(name("example.com").is_subdomain_of(name("www.example.com")));
  EXPECT_FALSE(name("com").is_subdomain_of(name("example.com")));
}

TEST(DnsNameTest, FromWireFollowsBackwardPointers) {
  // Offset 0: "example.com", offset 13: "www" + pointer to 0.
  std::vector<uint8_t> packet = bytes(std::string_view("\7example\3com\0\3www\xc0\x00", 19));
  size_t end = 0;
  auto www = DnsName::from_wire(packet, 13, &end);
  ASSERT_TRUE(www);
  EXPECT_EQ(end, 19u);
  EXPECT_EQ(www->to_text(), "www.example.com.");
  auto plain = DnsName::from_wire(packet, 0, &end);
  ASSERT_TRUE(plain);
  EXPECT_EQ(end, 13u);
}

TEST(DnsNameTest, FromWireRejectsLoopsAndForwardPointers) {
  size_t end = 0;
  // Pointer to itself.
  auto self = bytes(std::string_view("\xc0\x00", 2));
  EXPECT_FALSE(DnsName::from_wire(self, 0, &end));
  // Label then pointer back to the label's start: a loop.
  auto loop = bytes(std::string_view("\1a\xc0\x00", 4));
  EXPECT_FALSE(DnsName::from_wire(loop, 0, &end));
  // Two pointers bouncing: 0 -> 2 (forward).
  auto forward = bytes(std::string_view("\xc0\x02\xc0\x00", 4));
  EXPECT_FALSE(DnsName::from_wire(forward, 0, &end));
  // Chain where the second jump lands inside the first run: 4 -> 0 ("\1a" then ptr to 0).
  auto bounce = bytes(std::string_view("\1a\xc0\x04\1b\xc0\x00", 8));
  EXPECT_FALSE(DnsName::from_wire(bounce, 4, &end));
  // Pointer past the end, truncated pointer, truncated label, missing root.
  EXPECT_FALSE(DnsName::from_wire(bytes(std::string_view("\xc0\x05", 2)), 0, &end));
  EXPECT_FALSE(DnsName::from_wire(bytes(std::string_view("\xc0", 1)), 0, &end));
  EXPECT_FALSE(DnsName::from_wire(bytes(std::string_view("\5ab", 3)), 0, &end));
  EXPECT_FALSE(DnsName::from_wire(bytes(std::string_view("\1a", 2)), 0, &end));
  // Label type bits 01 and 10 are not lengths.
  EXPECT_FALSE(DnsName::from_wire(bytes(std::string_view("\x41" "a\0", 3)), 0, &end));
}

TEST(DnsNameTest, FromWireRejectsNamesOver255BytesEvenViaPointers) {
  // Five runs of 63-byte labels chained by pointers: each valid alone, 321 bytes together.
  std::vector<uint8_t> packet;
  std::vector<size_t> starts;
  for (int i = 0; i < 5; ++i) {
    starts.push_back(packet.size());
    packet.push_back(63);
    packet.insert(packet.end(), 63, 'a');
    if (i == 0) {
      packet.push_back(0);
    } else {
      packet.push_back(0xc0 | static_cast<uint8_t>(starts[i - 1] >> 8));
      packet.push_back(static_cast<uint8_t>(starts[i - 1]));
    }
  }
  size_t end = 0;
  EXPECT_TRUE(DnsName::from_wire(packet, starts[2], &end));   // 3*64+1 = 193 bytes
  EXPECT_FALSE(DnsName::from_wire(packet, starts[3], &end));  // 4*64+1 = 257 bytes
}

// One text form for names off the wire: what ends a label or confuses a zone-file parser or a
// log reader is escaped, everything else outside printable ASCII as \DDD.
TEST(NameTextTest, EscapesWhatWouldEndALabelOrBreakALine) {
  const std::string wire("\x06" "a.b\"c;" "\x04" "\xff\n @" "\x00", 13);
  EXPECT_EQ(name_text(bytes(wire)), "a\\.b\\\"c\\;.\\255\\010\\032\\@.");
  EXPECT_EQ(name_text(bytes(std::string_view("\0", 1))), ".");
  EXPECT_EQ(name_text({}), ".");
  // A span that ends without the root label (canonical list names) and a label cut short.
  EXPECT_EQ(name_text(bytes(std::string_view("\3www\7example", 12))), "www.example.");
  EXPECT_EQ(name_text(bytes(std::string_view("\5ab", 3))), "ab.");
  EXPECT_EQ(DnsName::from_text("WWW.Example.com")->to_text(), "WWW.Example.com.");
}

}  // namespace
}  // namespace dnsvagt
