#include "lote/text/utf8.h"

#include <gtest/gtest.h>

#include <random>
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

// Inverse of EscapeControl, to check that nothing is lost.
std::string Unescape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\') {
      out += s[i];
      continue;
    }
    const char kind = s[++i];
    if (kind == 'n') out += '\n';
    if (kind == 'r') out += '\r';
    if (kind == 't') out += '\t';
    if (kind == '\\') out += '\\';
    if (kind == 'x') {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    }
    if (kind == 'u') {
      AppendUtf8(static_cast<char32_t>(std::stoi(std::string(s.substr(i + 1, 4)), nullptr, 16)),
                 &out);
      i += 4;
    }
  }
  return out;
}

bool HasControlByte(std::string_view s) {
  for (const char c : s) {
    const auto b = static_cast<unsigned char>(c);
    if (b < 0x20 || b == 0x7F) return true;
  }
  return false;
}

TEST(Utf8, EscapeControlKeepsPrintableTextUnchanged) {
  const std::string text = std::string("Señor, ¿cuánto cobran? ÁÉÍÓÚ üÜ ñÑ € «hola» 100%") +
                           "😡🙏🏽 👨‍👩‍👧 🇨🇴";
  EXPECT_EQ(EscapeControl(text), text);
  EXPECT_EQ(EscapeControl(""), "");
  EXPECT_EQ(EscapeControl("\u00A0"), "\u00A0");  // NBSP: the first code point after C1
  EXPECT_EQ(EscapeControl("\u200D"), "\u200D");  // ZWJ joins emoji: not a control
}

TEST(Utf8, EscapeControlMakesForgedLogLinesAndTerminalSequencesVisible) {
  EXPECT_EQ(EscapeControl("a.jsonl\nlote: error: forged"), "a.jsonl\\nlote: error: forged");
  EXPECT_EQ(EscapeControl("x\r\n\ty"), "x\\r\\n\\ty");
  EXPECT_EQ(EscapeControl("\x1B[31mrojo\x1B[0m"), "\\x1b[31mrojo\\x1b[0m");
  EXPECT_EQ(EscapeControl("\r\x1B[K\x1B]0;title\x07"), "\\r\\x1b[K\\x1b]0;title\\x07");
  EXPECT_EQ(EscapeControl(std::string("a\0b", 3)), "a\\x00b");
  EXPECT_EQ(EscapeControl("\x7F\x08\x0B\x0C\x1F"), "\\x7f\\x08\\x0b\\x0c\\x1f");
  // C1 controls, encoded as UTF-8: NEL (a line break to some viewers) and CSI.
  EXPECT_EQ(EscapeControl("a\u0085b\u009B2J"), "a\\u0085b\\u009b2J");
  EXPECT_EQ(EscapeControl("a\u2028b\u2029c"), "a\\u2028b\\u2029c");
  EXPECT_EQ(EscapeControl("pago\u202Eoxe.txt"), "pago\\u202eoxe.txt");
  EXPECT_EQ(EscapeControl("\u2066x\u2069"), "\\u2066x\\u2069");
}

TEST(Utf8, EscapeControlEscapesBackslashSoEscapesCannotBeForged) {
  EXPECT_EQ(EscapeControl("C:\\new"), "C:\\\\new");
  EXPECT_EQ(EscapeControl("\\x1b[31m"), "\\\\x1b[31m");
  EXPECT_NE(EscapeControl("\\n"), EscapeControl("\n"));
}

TEST(Utf8, EscapeControlShowsEveryInvalidByte) {
  EXPECT_EQ(EscapeControl("\xFF"), "\\xff");
  EXPECT_EQ(EscapeControl("a\x9B"
                          "2J"),
            "a\\x9b2J");  // 8-bit CSI, not UTF-8
  EXPECT_EQ(EscapeControl("año\xC3"), "año\\xc3");
  EXPECT_EQ(EscapeControl("\xC0\xAF"), "\\xc0\\xaf");                    // overlong '/'
  EXPECT_EQ(EscapeControl("\xED\xA0\x80"), "\\xed\\xa0\\x80");           // surrogate
  EXPECT_EQ(EscapeControl("\xF4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80");  // > U+10FFFF
  EXPECT_EQ(EscapeControl("\xE2\x82"
                          "x"),
            "\\xe2\\x82x");  // truncated €
}

TEST(Utf8, EscapeControlOfRandomBytesIsPrintableValidAndReversible) {
  std::mt19937 rng(12);
  // Bytes that matter most: controls, backslash, lead and continuation bytes, C1 as UTF-8.
  const std::string interesting = "\n\r\t\x1B\x7F\\\x80\x85\x9B\xBF\xC2\xC3\xE2\x80\xF0\xFF x";
  for (int round = 0; round < 20000; ++round) {
    std::string s;
    const int len = static_cast<int>(rng() % 12);
    for (int k = 0; k < len; ++k) {
      s += rng() % 2 ? interesting[rng() % interesting.size()] : static_cast<char>(rng() % 256);
    }
    const std::string escaped = EscapeControl(s);
    ASSERT_TRUE(IsValidUtf8(escaped)) << escaped;
    ASSERT_FALSE(HasControlByte(escaped)) << escaped;
    ASSERT_EQ(Unescape(escaped), s) << escaped;
  }
}

}  // namespace
}  // namespace lote::text
