#include "dns/ascii_text.h"

#include <gtest/gtest.h>

namespace dnsvagt {
namespace {

// UTF-8 (Ä is C3 84) and other bytes outside ASCII stay as they are, whatever the locale.
TEST(AsciiText, FoldsAndTrimsOnlyAscii) {
  EXPECT_EQ(ascii_lowercase("V=SPF1 Include:_SPF.Example.DK \xC3\x84Z@[`{"),
            "v=spf1 include:_spf.example.dk \xC3\x84z@[`{");
  EXPECT_EQ(ascii_trimmed(" \t\v\f v=DMARC1 ; p=none \r\n"), "v=DMARC1 ; p=none");
  EXPECT_TRUE(ascii_trimmed(" \t ").empty());
  EXPECT_EQ(ascii_trimmed("\xA0x\xA0").size(), 3u);  // A0 (no-break space in Latin-1) stays
}

TEST(AsciiText, ComparesIgnoringTheCaseOfAsciiLettersOnly) {
  EXPECT_TRUE(ascii_equal_ignoring_case("Content-Type", "content-type"));
  EXPECT_FALSE(ascii_equal_ignoring_case("content-type", "content-typ"));
  EXPECT_FALSE(ascii_equal_ignoring_case("\xC3\x84", "\xC3\xA4"));  // Ä is not ä here
  EXPECT_FALSE(ascii_equal_ignoring_case("[", "{"));                  // 0x5B vs 0x7B
}

}  // namespace
}  // namespace dnsvagt
