#include "dns/domain_text.h"

#include <gtest/gtest.h>

namespace dnsvagt {
namespace {

std::string normalized(std::string_view text) {
  std::string out;
  EXPECT_EQ(normalize_domain(text, out), NameStatus::ok) << text << ": " << out;
  return out;
}

NameStatus status_of(std::string_view text) {
  std::string out;
  return normalize_domain(text, out);
}

TEST(NormalizeDomain, LowercasesAndDropsTrailingDot) {
  EXPECT_EQ(normalized("WWW.Example.COM."), "www.example.com");
  EXPECT_EQ(normalized("DNS1.P04.NSONE.NET"), "dns1.p04.nsone.net");
}

TEST(NormalizeDomain, UnicodeBecomesPunycode) {
  EXPECT_EQ(normalized("bücher.de"), "xn--bcher-kva.de");
  EXPECT_EQ(normalized("рус"), "xn--p1acf");
  EXPECT_EQ(normalized("कॉम"), "xn--11b4c3d");
  // Non-transitional (IDNA 2008): ß stays a letter of its own instead of becoming "ss".
  EXPECT_EQ(normalized("faß.de"), "xn--fa-hia.de");
  // Punycode passes through unchanged (but lowercased).
  EXPECT_EQ(normalized("Backup.XN----8sba7bmrlhv0a.xn--p1ai"), "backup.xn----8sba7bmrlhv0a.xn--p1ai");
}

TEST(NormalizeDomain, AcceptsUnderscoresDoubleHyphensAndMaximumLabels) {
  EXPECT_EQ(normalized("metamsk_us_logi.godaddysites.com"), "metamsk_us_logi.godaddysites.com");
  EXPECT_EQ(normalized("0-10--app-final.agent.datadoghq.com"), "0-10--app-final.agent.datadoghq.com");
  std::string label63(63, 'a');
  EXPECT_EQ(normalized(label63 + ".link"), label63 + ".link");
  EXPECT_EQ(normalized("inf"), "inf");  // single-label names are entries (whole-TLD blocks)
}

TEST(NormalizeDomain, RejectsMalformedNamesWithAReason) {
  std::string reason;
  EXPECT_EQ(normalize_domain("https://ynuf.aliapp.org/saveWb.json?", reason), NameStatus::invalid);
  EXPECT_EQ(reason, "character ':' in name");
  EXPECT_EQ(normalize_domain("a..b", reason), NameStatus::invalid);
  EXPECT_EQ(reason, "empty label");
  EXPECT_EQ(normalize_domain("-ab.com", reason), NameStatus::invalid);
  EXPECT_EQ(normalize_domain("ab-.com", reason), NameStatus::invalid);
  EXPECT_EQ(normalize_domain(std::string(64, 'a') + ".com", reason), NameStatus::invalid);
  EXPECT_EQ(reason, "label longer than 63 characters");
  std::string long_name;
  for (int i = 0; i < 64; ++i) long_name += "abc.";
  long_name += "com";  // 259 characters
  EXPECT_EQ(normalize_domain(long_name, reason), NameStatus::invalid);
  EXPECT_EQ(normalize_domain("", reason), NameStatus::invalid);
  EXPECT_EQ(normalize_domain(".", reason), NameStatus::invalid);
  EXPECT_EQ(normalize_domain("*.example.com", reason), NameStatus::invalid);
}

TEST(NormalizeDomain, ClassifiesReservedNamesAndAddresses) {
  for (const char* name : {"localhost", "LOCALHOST", "localhost.localdomain", "local",
                           "broadcasthost", "ip6-localhost", "ip6-loopback", "ip6-localnet",
                           "ip6-mcastprefix", "ip6-allnodes", "ip6-allrouters", "ip6-allhosts"}) {
    EXPECT_EQ(status_of(name), NameStatus::reserved_name) << name;
  }
  for (const char* name : {"0.0.0.0", "37.1.209.213", "::1", "fe80::1%lo0", "ff02::2"}) {
    EXPECT_EQ(status_of(name), NameStatus::ip_address) << name;
  }
  // Looks numeric, but is a name.
  EXPECT_EQ(normalized("1.2.3.4.example"), "1.2.3.4.example");
  EXPECT_EQ(normalized("localhost.example.com"), "localhost.example.com");
}

TEST(IsIpAddress, AcceptsV4V6AndZoneIndex) {
  EXPECT_TRUE(is_ip_address("127.0.0.1"));
  EXPECT_TRUE(is_ip_address("255.255.255.255"));
  EXPECT_TRUE(is_ip_address("fe80::1%lo0"));
  EXPECT_TRUE(is_ip_address("ff00::0"));
  EXPECT_FALSE(is_ip_address("256.1.1.1"));
  EXPECT_FALSE(is_ip_address("example.com"));
  EXPECT_FALSE(is_ip_address(""));
}

TEST(WireName, RoundTrips) {
  std::string wire;
  append_wire_name("www.example.com", wire);
  EXPECT_EQ(wire, std::string("\3www\7example\3com"));
  EXPECT_EQ(wire_to_text(wire), "www.example.com");
  EXPECT_EQ(wire_to_text(wire + std::string(1, '\0')), "www.example.com");
}

}  // namespace
}  // namespace dnsvagt

namespace dnsvagt {
namespace {

// Found by list_parser_fuzz: names whose IDN conversion is cut short or yields nothing.
TEST(DomainText, NamesThatIdnConversionEmptiesAreInvalid) {
  std::string out;
  EXPECT_EQ(normalize_domain(std::string_view("x\0\xc3\xa6.example", 12), out), NameStatus::invalid);
  EXPECT_EQ(normalize_domain("\xef\xbb\xbf", out), NameStatus::invalid);
  EXPECT_EQ(normalize_domain("\xc2\xad", out), NameStatus::invalid);  // soft hyphen
}

}  // namespace
}  // namespace dnsvagt
