#include "resolver/doh_request.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace dnsvagt {
namespace {

const std::vector<uint8_t> kQuery = {0x00, 0x00, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
                                     0x00, 0x00, 0x03, 'w',  'w',  'w',  0x00, 0x00, 0x01, 0x00,
                                     0x01, 0xfb, 0xff};
// kQuery in base64url without padding: '-' and '_' stand for '+' and '/'.
constexpr std::string_view kQueryParameter = "AAABAAABAAAAAAAAA3d3dwAAAQAB-_8";

DohJudgement get(std::string_view target) { return judge_doh_request({"GET", target, "", {}}, "/dns-query"); }

DohJudgement post(std::string_view content_type, const std::vector<uint8_t>& body,
                  bool too_large = false) {
  return judge_doh_request({"POST", "/dns-query", content_type, body, too_large}, "/dns-query");
}

TEST(DohRequest, GetDecodesTheDnsParameterInBase64url) {
  const std::string target = "/dns-query?dns=" + std::string(kQueryParameter);
  EXPECT_EQ(get(target).status, 200);
  EXPECT_EQ(get(target).query, kQuery);
  // Other parameters do not matter; padding is tolerated.
  EXPECT_EQ(get("/dns-query?ct=x&dns=" + std::string(kQueryParameter) + "=&z").query, kQuery);
}

TEST(DohRequest, PostTakesTheBodyOfADnsMessage) {
  EXPECT_EQ(post("application/dns-message", kQuery).query, kQuery);
  EXPECT_EQ(post("Application/DNS-Message; charset=x", kQuery).status, 200);
}

TEST(DohRequest, RefusalsAreTheStatusesOfRfc8484AndHttp) {
  const std::string good = "/dns-query?dns=" + std::string(kQueryParameter);
  EXPECT_EQ(judge_doh_request({"PUT", good, "", {}}, "/dns-query").status, 405);
  EXPECT_EQ(judge_doh_request({"HEAD", good, "", {}}, "/dns-query").status, 405);
  EXPECT_EQ(get("/other?dns=" + std::string(kQueryParameter)).status, 404);
  EXPECT_EQ(get("/dns-query/x?dns=" + std::string(kQueryParameter)).status, 404);
  EXPECT_EQ(get("/dns-query").status, 400);
  EXPECT_EQ(get("/dns-query?dnsx=" + std::string(kQueryParameter)).status, 400);
  EXPECT_EQ(get("/dns-query?dns=!!!!").status, 400);
  EXPECT_EQ(get("/dns-query?dns=AAAAA").status, 400);         // 5 characters: no whole byte
  EXPECT_EQ(get("/dns-query?dns=AAECAw").status, 400);        // 4 bytes: shorter than a header
  EXPECT_EQ(get("/dns-query?dns=AA+BAA").status, 400);        // the standard alphabet's '+'
  EXPECT_EQ(post("text/plain", kQuery).status, 415);
  EXPECT_EQ(post("", kQuery).status, 415);
  EXPECT_EQ(post("application/dns-message", {}, true).status, 413);
  EXPECT_EQ(post("application/dns-message", {1, 2, 3}).status, 400);
}

TEST(DohRequest, TheConfiguredPathIsTheOneAnswered) {
  const std::string target = "/resolve?dns=" + std::string(kQueryParameter);
  EXPECT_EQ(judge_doh_request({"GET", target, "", {}}, "/resolve").status, 200);
  EXPECT_EQ(judge_doh_request({"GET", target, "", {}}, "/dns-query").status, 404);
}

// An answer: www. A 300 10.0.0.1, a SOA-less authority of one NS with TTL `ns_ttl`, an OPT.
std::vector<uint8_t> answer_with_ttls(uint32_t a_ttl, uint32_t ns_ttl) {
  std::vector<uint8_t> packet = {0x00, 0x00, 0x81, 0x80, 0x00, 0x01, 0x00, 0x01, 0x00, 0x01,
                                 0x00, 0x01, 0x03, 'w',  'w',  'w',  0x00, 0x00, 0x01, 0x00, 0x01};
  auto u32 = [&packet](uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) packet.push_back(static_cast<uint8_t>(v >> shift));
  };
  packet.insert(packet.end(), {0xc0, 0x0c, 0x00, 0x01, 0x00, 0x01});
  u32(a_ttl);
  packet.insert(packet.end(), {0x00, 0x04, 10, 0, 0, 1});
  packet.insert(packet.end(), {0x00, 0x00, 0x02, 0x00, 0x01});
  u32(ns_ttl);
  packet.insert(packet.end(), {0x00, 0x02, 0xc0, 0x0c});
  packet.insert(packet.end(), {0x00, 0x00, 0x29, 0x04, 0xd0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00});
  return packet;
}

TEST(DohMaxAge, IsTheSmallestTtlOfTheRecordsOptAside) {
  EXPECT_EQ(doh_max_age(answer_with_ttls(300, 86400)), 300u);
  EXPECT_EQ(doh_max_age(answer_with_ttls(3600, 60)), 60u);
}

TEST(DohMaxAge, NoneWithoutRecordsOrForAMessageThatDoesNotParse) {
  EXPECT_EQ(doh_max_age(kQuery), std::nullopt);
  std::vector<uint8_t> cut = answer_with_ttls(300, 60);
  cut.resize(cut.size() - 20);
  EXPECT_EQ(doh_max_age(cut), std::nullopt);
  EXPECT_EQ(doh_max_age(std::vector<uint8_t>{1, 2, 3}), std::nullopt);
}

TEST(HttpReason, NamesTheStatusesSent) {
  EXPECT_STREQ(http_reason(404), "Not Found");
  EXPECT_STREQ(http_reason(413), "Content Too Large");
  EXPECT_STREQ(http_reason(599), "Error");
}

}  // namespace
}  // namespace dnsvagt
