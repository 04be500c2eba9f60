#include "resolver/stale_reply.h"

#include <gtest/gtest.h>

#include <vector>

namespace dnsvagt {
namespace {

// example. A 3600 192.0.2.1 (answer, compressed owner), plus an OPT record when `edns`.
std::vector<uint8_t> reply(bool edns) {
  std::vector<uint8_t> p = {0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, static_cast<uint8_t>(edns ? 1 : 0),
                            7,    'e',  'x',  'a',  'm', 'p', 'l', 'e', 0, 0, 1, 0, 1,
                            0xc0, 12,   0,    1,    0,   1,   0,   0,   0x0e, 0x10, 0, 4,
                            192,  0,    2,    1};
  if (edns) {
    std::vector<uint8_t> opt = {0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0};
    p.insert(p.end(), opt.begin(), opt.end());
  }
  return p;
}

uint32_t answer_ttl(const std::vector<uint8_t>& p) {
  return uint32_t(p[31]) << 24 | uint32_t(p[32]) << 16 | uint32_t(p[33]) << 8 | p[34];
}

TEST(StaleReplyTest, SetsTtlsAndAddsStaleAnswerEde) {
  std::vector<uint8_t> p = reply(true);
  size_t length = p.size();
  p.resize(512);
  size_t marked = mark_reply_stale(p, length, 512);
  ASSERT_EQ(marked, length + 6);
  EXPECT_EQ(answer_ttl(p), kStaleTtl);
  // OPT rdlength 6, then option 15 length 2 info-code 3.
  EXPECT_EQ(p[length - 2], 0);
  EXPECT_EQ(p[length - 1], 6);
  std::vector<uint8_t> ede(p.begin() + length, p.begin() + marked);
  EXPECT_EQ(ede, (std::vector<uint8_t>{0, 15, 0, 2, 0, 3}));
}

TEST(StaleReplyTest, WithoutEdnsOnlyTtlsChange) {
  std::vector<uint8_t> p = reply(false);
  size_t length = p.size();
  EXPECT_EQ(mark_reply_stale(p, length, 512), length);
  EXPECT_EQ(answer_ttl(p), kStaleTtl);
}

TEST(StaleReplyTest, LeavesEdeOutWhenItWouldExceedTheLimit) {
  std::vector<uint8_t> p = reply(true);
  size_t length = p.size();
  p.resize(512);
  EXPECT_EQ(mark_reply_stale(p, length, length + 5), length);
  EXPECT_EQ(answer_ttl(p), kStaleTtl);
}

TEST(StaleReplyTest, RejectsTruncatedPackets) {
  std::vector<uint8_t> p = reply(true);
  EXPECT_EQ(mark_reply_stale(p, 30, 512), 0u);
  EXPECT_EQ(mark_reply_stale(p, 5, 512), 0u);
}

}  // namespace
}  // namespace dnsvagt
