#include "metrics/json_text.h"

#include <gtest/gtest.h>

namespace dnsvagt {
namespace {

TEST(JsonText, QuotesBackslashesAndControlCharactersAreEscaped) {
  EXPECT_EQ(json_string("a\"b\\c\n\x01\x7f"), "\"a\\\"b\\\\c\\u000a\\u0001\\u007f\"");
}

TEST(JsonText, ValidUtf8StaysAsItIs) {
  EXPECT_EQ(json_string("bl\xc3\xa5liste \xe2\x82\xac \xf0\x9f\x98\x80"),
            "\"bl\xc3\xa5liste \xe2\x82\xac \xf0\x9f\x98\x80\"");
}

TEST(JsonText, BytesThatAreNotUtf8BecomeEscapes) {
  // A lone continuation byte, a truncated sequence, an overlong form, a surrogate.
  EXPECT_EQ(json_string("\x80"), "\"\\u0080\"");
  EXPECT_EQ(json_string("\xc3"), "\"\\u00c3\"");
  EXPECT_EQ(json_string("\xc0\xaf"), "\"\\u00c0\\u00af\"");
  EXPECT_EQ(json_string("\xed\xa0\x80"), "\"\\u00ed\\u00a0\\u0080\"");
}

TEST(JsonText, AppendsToWhatIsThere) {
  std::string out = "{\"k\": ";
  append_json_string("v", out);
  EXPECT_EQ(out, "{\"k\": \"v\"");
}

}  // namespace
}  // namespace dnsvagt
