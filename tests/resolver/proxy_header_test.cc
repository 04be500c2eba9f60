#include "resolver/proxy_header.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <string>
#include <vector>

namespace dnsvagt {
namespace {

using Bytes = std::vector<uint8_t>;
using Status = ProxyHeader::Status;

// A v2 header: `command_byte` (0x21 PROXY, 0x20 LOCAL), `family_byte` (0x11 TCP/IPv4, 0x12
// UDP/IPv4, 0x21 TCP/IPv6, 0x22 UDP/IPv6), then `rest` (addresses and TLVs) with its length.
Bytes header(uint8_t command_byte, uint8_t family_byte, const Bytes& rest) {
  Bytes out(std::begin(kProxySignature), std::end(kProxySignature));
  out.push_back(command_byte);
  out.push_back(family_byte);
  out.push_back(static_cast<uint8_t>(rest.size() >> 8));
  out.push_back(static_cast<uint8_t>(rest.size()));
  out.insert(out.end(), rest.begin(), rest.end());
  return out;
}

// 192.0.2.10:53000 -> 198.51.100.1:53
const Bytes kIpv4Block = {192, 0, 2, 10, 198, 51, 100, 1, 0xcf, 0x08, 0, 53};

std::string source_text(const ProxyHeader& parsed) {
  char text[INET6_ADDRSTRLEN] = {};
  if (parsed.source.ss_family == AF_INET) {
    const auto& a = reinterpret_cast<const sockaddr_in&>(parsed.source);
    inet_ntop(AF_INET, &a.sin_addr, text, sizeof text);
    return std::string(text) + ":" + std::to_string(ntohs(a.sin_port));
  }
  const auto& a = reinterpret_cast<const sockaddr_in6&>(parsed.source);
  inet_ntop(AF_INET6, &a.sin6_addr, text, sizeof text);
  return "[" + std::string(text) + "]:" + std::to_string(ntohs(a.sin6_port));
}

TEST(ProxyHeaderTest, ReadsTheClientOfAnIpv4TcpConnection) {
  Bytes data = header(0x21, 0x11, kIpv4Block);
  data.insert(data.end(), {0, 29, 0xab, 0xcd});  // the client's first bytes
  const ProxyHeader parsed = parse_proxy_header(data);
  ASSERT_EQ(parsed.status, Status::ok) << parsed.error;
  EXPECT_EQ(parsed.length, 16u + 12u);
  EXPECT_FALSE(parsed.local);
  EXPECT_TRUE(parsed.stream);
  EXPECT_EQ(source_text(parsed), "192.0.2.10:53000");
  EXPECT_EQ(parsed.source_length, sizeof(sockaddr_in));
  const auto& destination = reinterpret_cast<const sockaddr_in&>(parsed.destination);
  EXPECT_EQ(ntohs(destination.sin_port), 53);
}

TEST(ProxyHeaderTest, ReadsAnIpv6DatagramAndSkipsTlvs) {
  Bytes block(36, 0);
  block[0] = 0x20;  // 2001:db8::1
  block[1] = 0x01;
  block[2] = 0x0d;
  block[3] = 0xb8;
  block[15] = 1;
  block[32] = 0x30;  // port 12345
  block[33] = 0x39;
  block[35] = 53;
  block.insert(block.end(), {0x04, 0, 2, 'x', 'y', 0xe0, 0, 0});  // two TLVs, one empty
  const ProxyHeader parsed = parse_proxy_header(header(0x21, 0x22, block));
  ASSERT_EQ(parsed.status, Status::ok) << parsed.error;
  EXPECT_FALSE(parsed.stream);
  EXPECT_EQ(parsed.length, 16u + 36u + 8u);
  EXPECT_EQ(source_text(parsed), "[2001:db8::1]:12345");
}

TEST(ProxyHeaderTest, LocalIsAcceptedWithoutAddressesAndItsBlockSkipped) {
  for (uint8_t family : {0x00, 0x11, 0x31}) {  // UNSPEC, IPv4, UNIX: all discarded
    const ProxyHeader parsed = parse_proxy_header(header(0x20, family, Bytes(20, 7)));
    ASSERT_EQ(parsed.status, Status::ok) << parsed.error;
    EXPECT_TRUE(parsed.local);
    EXPECT_EQ(parsed.length, 36u);
    EXPECT_EQ(parsed.source_length, 0u);
  }
}

TEST(ProxyHeaderTest, APartialHeaderAsksForMoreAndAWrongStartDoesNot) {
  const Bytes whole = header(0x21, 0x11, kIpv4Block);
  for (size_t size : {size_t{1}, size_t{11}, size_t{12}, size_t{15}, size_t{16}, whole.size() - 1}) {
    EXPECT_EQ(parse_proxy_header({whole.data(), size}).status, Status::incomplete) << size;
  }
  EXPECT_EQ(parse_proxy_header({}).status, Status::incomplete);
  const Bytes dns_query = {0xab, 0xcd, 0x01, 0x00, 0, 1};
  const ProxyHeader parsed = parse_proxy_header(dns_query);
  EXPECT_EQ(parsed.status, Status::invalid);
  EXPECT_EQ(parsed.error, "no PROXY protocol v2 signature");
  const std::string v1 = "PROXY TCP4 192.0.2.1 192.0.2.2 1 2\r\n";
  EXPECT_EQ(parse_proxy_header({reinterpret_cast<const uint8_t*>(v1.data()), v1.size()}).status,
            Status::invalid);
}

TEST(ProxyHeaderTest, RejectsWhatItCannotUseWithAReason) {
  auto error_of = [](const Bytes& data) {
    const ProxyHeader parsed = parse_proxy_header(data);
    EXPECT_EQ(parsed.status, Status::invalid);
    return std::string(parsed.error);
  };
  EXPECT_EQ(error_of(header(0x11, 0x11, kIpv4Block)), "PROXY protocol version is not 2");
  EXPECT_EQ(error_of(header(0x22, 0x11, kIpv4Block)),
            "PROXY protocol command is neither LOCAL nor PROXY");
  EXPECT_EQ(error_of(header(0x21, 0x31, Bytes(216, 0))),
            "PROXY command without an IPv4 or IPv6 address");
  EXPECT_EQ(error_of(header(0x21, 0x01, {})), "PROXY command without an IPv4 or IPv6 address");
  EXPECT_EQ(error_of(header(0x21, 0x10, kIpv4Block)), "PROXY command not over TCP or UDP");
  EXPECT_EQ(error_of(header(0x21, 0x21, kIpv4Block)), "PROXY protocol address block cut short");
  Bytes overrun = kIpv4Block;
  overrun.insert(overrun.end(), {0x01, 0, 5, 'a'});
  EXPECT_EQ(error_of(header(0x21, 0x11, overrun)), "PROXY protocol TLV runs past the header");
  Bytes stub = kIpv4Block;
  stub.insert(stub.end(), {0x01, 0});
  EXPECT_EQ(error_of(header(0x21, 0x11, stub)), "PROXY protocol TLV runs past the header");
  Bytes huge = kIpv4Block;
  huge.resize(kMaxProxyHeader - 16 + 1, 0);
  EXPECT_EQ(error_of(header(0x21, 0x11, huge)), "PROXY protocol header longer than 512 bytes");
}

using Kind = ProxyStart::Kind;

TEST(JudgeProxyStartTest, APeerOutsideTheProxiesSendsDnsAndNeverAHeader) {
  const Bytes query = {0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0};
  EXPECT_EQ(judge_proxy_start(query, false, true).kind, Kind::no_header);
  EXPECT_EQ(judge_proxy_start(query, false, false).kind, Kind::no_header);
  const Bytes with_header = header(0x21, 0x12, kIpv4Block);
  for (const bool whole : {true, false}) {
    const ProxyStart judged = judge_proxy_start(with_header, false, whole);
    EXPECT_EQ(judged.kind, Kind::refused);
    EXPECT_EQ(judged.refusal, ProxyRefusal::untrusted);
  }
  // A connection's first bytes that may still become a signature: wait and see.
  const Bytes five(with_header.begin(), with_header.begin() + 5);
  EXPECT_EQ(judge_proxy_start(five, false, false).kind, Kind::incomplete);
  EXPECT_EQ(judge_proxy_start({}, false, false).kind, Kind::incomplete);
  // The same bytes as a whole datagram are no header (and no query: the parser says so).
  EXPECT_EQ(judge_proxy_start(five, false, true).kind, Kind::no_header);
}

TEST(JudgeProxyStartTest, AProxyMustSendAValidHeader) {
  const Bytes with_header = header(0x21, 0x12, kIpv4Block);
  const ProxyStart judged = judge_proxy_start(with_header, true, true);
  ASSERT_EQ(judged.kind, Kind::header);
  EXPECT_EQ(source_text(judged.header), "192.0.2.10:53000");

  const Bytes query = {0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0};
  for (const bool whole : {true, false}) {
    EXPECT_EQ(judge_proxy_start(query, true, whole).refusal, ProxyRefusal::missing);
    EXPECT_EQ(judge_proxy_start(query, true, whole).kind, Kind::refused);
  }
  EXPECT_EQ(judge_proxy_start({}, true, true).refusal, ProxyRefusal::missing);

  // Cut short: a datagram is refused, a connection waits for the rest.
  const Bytes cut(with_header.begin(), with_header.end() - 1);
  EXPECT_EQ(judge_proxy_start(cut, true, false).kind, Kind::incomplete);
  const ProxyStart short_datagram = judge_proxy_start(cut, true, true);
  EXPECT_EQ(short_datagram.kind, Kind::refused);
  EXPECT_EQ(short_datagram.refusal, ProxyRefusal::invalid);

  Bytes version_one = with_header;
  version_one[12] = 0x11;
  const ProxyStart bad = judge_proxy_start(version_one, true, false);
  EXPECT_EQ(bad.kind, Kind::refused);
  EXPECT_EQ(bad.refusal, ProxyRefusal::invalid);
  EXPECT_EQ(bad.header.error, "PROXY protocol version is not 2");
}

}  // namespace
}  // namespace dnsvagt
