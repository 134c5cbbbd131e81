#include "lote/text/utf8.h"

#include <gtest/gtest.h>

#include <string>

namespace lote::text {
namespace {

TEST(Utf8, AcceptsSpanishTextAndEmoji) {
  EXPECT_TRUE(IsValidUtf8("Señor, ¿cuánto cobran? 😡🙏🏽"));
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("\xF4\x8F\xBF\xBF"));  // U+10FFFF, the last code point
  EXPECT_TRUE(IsValidUtf8("\xEE\x80\x80"));      // U+E000, first after the surrogates
  EXPECT_TRUE(ValidateUtf8("pago de $50.000").ok());
}

TEST(Utf8, FindsTheFirstInvalidByte) {
  EXPECT_EQ(FindInvalidUtf8("abc\x80"), 3u);             // stray continuation byte
  EXPECT_EQ(FindInvalidUtf8("\xC0\xAF"), 0u);            // overlong '/'
  EXPECT_EQ(FindInvalidUtf8("ok \xE0\x80\xAF"), 3u);     // overlong 3-byte
  EXPECT_EQ(FindInvalidUtf8("\xF0\x80\x80\xAF"), 0u);    // overlong 4-byte
  EXPECT_EQ(FindInvalidUtf8("a\xED\xA0\x80"), 1u);       // surrogate U+D800
  EXPECT_EQ(FindInvalidUtf8("\xF4\x90\x80\x80"), 0u);    // U+110000
  EXPECT_EQ(FindInvalidUtf8("\xF5\x80\x80\x80"), 0u);    // lead byte beyond F4
  EXPECT_EQ(FindInvalidUtf8("año\xC3"), 4u);             // truncated at the end
  EXPECT_EQ(FindInvalidUtf8("12345678\xE2\x82 x"), 8u);  // truncated in the middle
  EXPECT_EQ(FindInvalidUtf8("\xFF"), 0u);
}

TEST(Utf8, ValidateNamesTheByteOffset) {
  const Status status = ValidateUtf8("hola\xED\xA0\x80");
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "invalid UTF-8 at byte 4");
}

TEST(Utf8, ReplacesEachMaximalSubpartWithOneReplacementCharacter) {
  // Examples of Unicode 15, section 3.9 (Table 3-8 and the text around it).
  EXPECT_EQ(ReplaceInvalidUtf8("a\xF1\x80\x80"
                               "b"),
            "a\uFFFD"
            "b");                                             // truncated 4-byte: one
  EXPECT_EQ(ReplaceInvalidUtf8("\xC0\xAF"), "\uFFFD\uFFFD");  // C0 never starts one
  EXPECT_EQ(ReplaceInvalidUtf8("\xE0\x80\xAF"), "\uFFFD\uFFFD\uFFFD");
  EXPECT_EQ(ReplaceInvalidUtf8("\xED\xA0\x80"), "\uFFFD\uFFFD\uFFFD");
  EXPECT_EQ(ReplaceInvalidUtf8("\xF4\x90\x80\x80"), "\uFFFD\uFFFD\uFFFD\uFFFD");
  EXPECT_EQ(ReplaceInvalidUtf8("\x61\xF1\x80\x80\xE1\x80\xC2\x62\x80\x63\x80\xBF\x64"),
            "a\uFFFD\uFFFD\uFFFD"
            "b\uFFFD"
            "c\uFFFD\uFFFD"
            "d");
  EXPECT_EQ(ReplaceInvalidUtf8("niño"), "niño");
  EXPECT_TRUE(IsValidUtf8(ReplaceInvalidUtf8("\xE2\x82\xF0\x9F\x98")));
}

TEST(Utf8, DecodesAndEncodesRoundTrip) {
  const std::string s = "aé€😀";
  size_t pos = 0;
  EXPECT_EQ(DecodeUtf8(s, &pos), U'a');
  EXPECT_EQ(pos, 1u);
  EXPECT_EQ(DecodeUtf8(s, &pos), U'é');
  EXPECT_EQ(pos, 3u);
  EXPECT_EQ(DecodeUtf8(s, &pos), U'€');
  EXPECT_EQ(pos, 6u);
  EXPECT_EQ(DecodeUtf8(s, &pos), U'😀');
  EXPECT_EQ(pos, 10u);
  std::string out;
  for (char32_t cp : {U'a', U'é', U'€', U'😀'}) AppendUtf8(cp, &out);
  EXPECT_EQ(out, s);
  EXPECT_EQ(CodePointCount(s), 4u);
}

TEST(Utf8, ExcerptCutsLongTextAndNeutralizesControls) {
  EXPECT_EQ(Excerpt("corto"), "corto");
  EXPECT_EQ(Excerpt("señor cliente", 5), "señor...");
  EXPECT_EQ(Excerpt("a\nb\tc\x1B[31m"), "a b c [31m");
  EXPECT_EQ(Excerpt("a\xFF"
                    "b"),
            "a\uFFFD"
            "b");
  EXPECT_EQ(Excerpt("abc", 3), "abc");
  EXPECT_EQ(Excerpt("x\u202Ey"), "x y");  // right-to-left override
}

}  // namespace
}  // namespace lote::text
