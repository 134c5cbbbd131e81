#include "lote/text/normalizer.h"

#include <gtest/gtest.h>
#include <utf8proc.h>

#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "lote/text/utf8.h"

namespace lote::text {
namespace {

using Range = std::pair<uint32_t, uint32_t>;

// Original code point range of every normalized byte.
std::vector<Range> Origins(const NormalizedText& n) {
  std::vector<Range> r;
  for (size_t i = 0; i < n.text.size(); ++i) r.emplace_back(n.orig_start[i], n.orig_end[i]);
  return r;
}

std::string Reference(const std::string& s) {
  utf8proc_uint8_t* r =
      utf8proc_NFKC_Casefold(reinterpret_cast<const utf8proc_uint8_t*>(s.c_str()));
  std::string out(reinterpret_cast<const char*>(r));
  std::free(r);
  return out;
}

// Checks the invariants the header promises: one origin per byte, non-decreasing, in bounds.
void ExpectWellFormedMap(const NormalizedText& n, std::string_view input) {
  ASSERT_EQ(n.orig_start.size(), n.text.size());
  ASSERT_EQ(n.orig_end.size(), n.text.size());
  ASSERT_TRUE(IsValidUtf8(n.text));
  const size_t count = CodePointCount(input);
  for (size_t i = 0; i < n.text.size(); ++i) {
    ASSERT_LT(n.orig_start[i], n.orig_end[i]) << "byte " << i;
    ASSERT_LE(n.orig_end[i], count) << "byte " << i;
    if (i > 0) {
      ASSERT_LE(n.orig_start[i - 1], n.orig_start[i]) << "byte " << i;
      ASSERT_LE(n.orig_end[i - 1], n.orig_end[i]) << "byte " << i;
    }
  }
}

TEST(Normalizer, LowercasesAsciiKeepingOneToOneOffsets) {
  NormalizedText n;
  Normalizer().Normalize("Hola MUNDO", &n);
  EXPECT_EQ(n.text, "hola mundo");
  for (uint32_t i = 0; i < n.text.size(); ++i) EXPECT_EQ(Origins(n)[i], Range(i, i + 1));
  EXPECT_EQ(n.ToOriginal(5, 10), Range(5, 10));
}

TEST(Normalizer, FoldsSpanishAccentsKeepingOffsets) {
  NormalizerOptions options;
  options.strip_accents = true;
  NormalizedText n;
  Normalizer(options).Normalize("Información AÑO Pingüino", &n);
  EXPECT_EQ(n.text, "informacion año pinguino");
  // "ó" (code point 8) became one byte; "Ñ" (code point 13) stayed two bytes.
  EXPECT_EQ(n.ToOriginal(8, 9), Range(8, 9));
  EXPECT_EQ(n.ToOriginal(9, 11), Range(9, 11));
  EXPECT_EQ(n.text.substr(12, 4), "año");
  EXPECT_EQ(n.ToOriginal(13, 15), Range(13, 14));
  EXPECT_EQ(n.ToOriginal(12, 16), Range(12, 15));
  EXPECT_EQ(n.ToOriginal(n.text.size() - 8, n.text.size()), Range(16, 24));
  ExpectWellFormedMap(n, "Información AÑO Pingüino");
}

TEST(Normalizer, KeepsAccentsByDefault) {
  EXPECT_EQ(Normalizer().NormalizeToString("Información ÁRBOL Ñandú"), "información árbol ñandú");
}

TEST(Normalizer, FoldsEnyeOnlyWhenAsked) {
  NormalizerOptions options;
  options.strip_accents = true;
  options.fold_enye = true;
  EXPECT_EQ(Normalizer(options).NormalizeToString("Año niño N\u0303"), "ano nino n");
}

TEST(Normalizer, ComposesCombiningSequencesCoveringBothCodePoints) {
  const std::string input = "cafe\u0301 n\u0303";  // decomposed é and ñ
  NormalizedText n;
  Normalizer().Normalize(input, &n);
  EXPECT_EQ(n.text, "café ñ");
  EXPECT_EQ(Origins(n),
            (std::vector<Range>{{0, 1}, {1, 2}, {2, 3}, {3, 5}, {3, 5}, {5, 6}, {6, 8}, {6, 8}}));
  ExpectWellFormedMap(n, input);
}

TEST(Normalizer, StripsCombiningAccentsFromDecomposedInput) {
  NormalizerOptions options;
  options.strip_accents = true;
  NormalizedText n;
  Normalizer(options).Normalize("cafe\u0301", &n);
  EXPECT_EQ(n.text, "cafe");
  EXPECT_EQ(n.ToOriginal(3, 4), Range(3, 4));  // the dropped mark needs no byte of its own
}

TEST(Normalizer, ReordersMarksKeepingRangesMonotonic) {
  const std::string input = "a\u0301\u0323x";  // acute (230) before dot below (220)
  NormalizedText n;
  Normalizer().Normalize(input, &n);
  EXPECT_EQ(n.text, "\u1EA1\u0301x");  // ạ + acute: canonical order, then composition
  EXPECT_EQ(n.text, Reference(input));
  EXPECT_EQ(n.ToOriginal(0, 3), Range(0, 3));
  EXPECT_EQ(n.ToOriginal(3, 5), Range(1, 3));
  EXPECT_EQ(n.ToOriginal(5, 6), Range(3, 4));
  ExpectWellFormedMap(n, input);
}

TEST(Normalizer, ExpandsLigaturesMappingEveryByteToTheLigature) {
  NormalizedText n;
  Normalizer().Normalize("ﬁn ﬃ", &n);
  EXPECT_EQ(n.text, "fin ffi");
  EXPECT_EQ(Origins(n),
            (std::vector<Range>{{0, 1}, {0, 1}, {1, 2}, {2, 3}, {3, 4}, {3, 4}, {3, 4}}));
}

TEST(Normalizer, FoldsFullWidthCharactersToAscii) {
  NormalizedText n;
  Normalizer().Normalize("ＰＡＧＯ　１２３", &n);  // includes U+3000 ideographic space
  EXPECT_EQ(n.text, "pago 123");
  EXPECT_EQ(n.ToOriginal(0, 4), Range(0, 4));
  EXPECT_EQ(n.ToOriginal(4, 5), Range(4, 5));
  EXPECT_EQ(n.ToOriginal(5, 8), Range(5, 8));
}

TEST(Normalizer, FoldsCapitalSharpSToSs) {
  NormalizedText n;
  Normalizer().Normalize("ẞtraße", &n);
  EXPECT_EQ(n.text, "sstrasse");
  EXPECT_EQ(n.ToOriginal(0, 2), Range(0, 1));
  EXPECT_EQ(n.ToOriginal(2, 5), Range(1, 4));
  EXPECT_EQ(n.ToOriginal(5, 7), Range(4, 5));
  EXPECT_EQ(n.ToOriginal(7, 8), Range(5, 6));
}

TEST(Normalizer, KeepsEmojiSequencesUnchanged) {
  const std::string emoji =
      "😡🙏🏽 👨‍👩‍👧 ❤️ 🇨🇴 1️⃣ "
      "🏴\U000E0067\U000E0062\U000E0065\U000E006E\U000E0067\U000E007F ©";
  NormalizedText n;
  Normalizer().Normalize(emoji, &n);
  EXPECT_EQ(n.text, emoji);
  ExpectWellFormedMap(n, emoji);
  NormalizerOptions strip;
  strip.strip_accents = true;
  EXPECT_EQ(Normalizer(strip).NormalizeToString(emoji), emoji);
}

TEST(Normalizer, DropsSoftHyphenAndZeroWidthSpaceLikeNfkcCasefold) {
  const std::string input = "in\u00ADfor\u200Bmación";
  NormalizedText n;
  Normalizer().Normalize(input, &n);
  EXPECT_EQ(n.text, "información");
  EXPECT_EQ(n.text, Reference(input));
  EXPECT_EQ(n.ToOriginal(2, 3), Range(3, 4));  // 'f' is code point 3
  ExpectWellFormedMap(n, input);
}

TEST(Normalizer, CollapsesAndTrimsAllUnicodeWhiteSpace) {
  const std::string input = " \t hola\u00A0\t\n\u2003mundo\u3000\r\n";
  NormalizedText n;
  Normalizer().Normalize(input, &n);
  EXPECT_EQ(n.text, "hola mundo");
  EXPECT_EQ(n.ToOriginal(0, 4), Range(3, 7));
  EXPECT_EQ(n.ToOriginal(4, 5), Range(7, 11));  // the space covers the whole run
  EXPECT_EQ(n.ToOriginal(5, 10), Range(11, 16));
  ExpectWellFormedMap(n, input);
}

TEST(Normalizer, KeepsWhiteSpaceWhenCollapseIsOff) {
  NormalizerOptions options;
  options.collapse_whitespace = false;
  EXPECT_EQ(Normalizer(options).NormalizeToString(" a\u00A0\tb "), " a \tb ");
}

TEST(Normalizer, OptionsTurnStepsOff) {
  NormalizerOptions options;
  options.nfkc = false;
  options.case_fold = false;
  EXPECT_EQ(Normalizer(options).NormalizeToString("ﬁ ÉL e\u0301"), "ﬁ ÉL é");  // NFC only
  EXPECT_EQ(Normalizer().NormalizeToString(""), "");
  EXPECT_EQ(Normalizer().NormalizeToString(" \t\n"), "");
}

TEST(Normalizer, FingerprintNamesEveryOption) {
  EXPECT_EQ(NormalizerOptions().Fingerprint(),
            "nfkc=1,case_fold=1,strip_accents=0,fold_enye=0,ws=1");
  NormalizerOptions options;
  options.strip_accents = true;
  options.collapse_whitespace = false;
  EXPECT_EQ(options.Fingerprint(), "nfkc=1,case_fold=1,strip_accents=1,fold_enye=0,ws=0");
}

TEST(Normalizer, MatchesUtf8procNfkcCasefoldOnTypicalText) {
  NormalizerOptions options;
  options.collapse_whitespace = false;
  const Normalizer normalizer(options);
  const std::vector<std::string> texts = {
      "Hola!! me cobraron $50.000 el 15/03/2024, escríbanme a juan.perez@gmail.com 😡🙏🏽",
      "¿Por qué me descontaron la CUOTA DE MANEJO? ¡Qué abuso!",
      "ÁÉÍÓÚÜÑ áéíóúüñ àèìòù ÂÊÎÔÛ ç Ç ß ẞ ﬁ ﬂ ½ ² ™ № Ⅻ",
      "Ｆｕｌｌ　ｗｉｄｔｈ ｶﾀｶﾅ ｶﾞ",
      "Ελληνικά ΣΊΣΥΦΟΣ Кириллица ՖԱ İstanbul ǅ ŉ ǰ ΐ",
      "한국어 테스트 \u1100\u1161\u11A8 日本語のテキスト",
      "e\u0301 a\u0308\u0301 o\u0323\u0302 \u0301leading mark",
      "العربية עברית हिन्दी ไทย",
      "\u00A0nbsp\u2009thin\u202Fnarrow",
      "x\uFDFAy \u3300 \u33C6",
  };
  for (const std::string& text : texts) {
    NormalizedText n;
    normalizer.Normalize(text, &n);
    EXPECT_EQ(n.text, Reference(text)) << Excerpt(text);
    ExpectWellFormedMap(n, text);
  }
}

// Random valid strings drawn from the ranges where normalization does interesting things.
std::string RandomText(std::mt19937* rng, bool with_emoji_joiners) {
  static const std::vector<std::pair<char32_t, char32_t>> kRanges = {
      {0x20, 0x7E},       {0x20, 0x7E},       {0x09, 0x0D},       {0x80, 0x24F},
      {0x300, 0x36F},     {0x370, 0x3FF},     {0x400, 0x4FF},     {0x591, 0x5F4},
      {0x900, 0x97F},     {0xE00, 0xE7F},     {0x1100, 0x11FF},   {0xAC00, 0xAC40},
      {0x1E00, 0x1EFF},   {0x2000, 0x206F},   {0x2100, 0x218F},   {0x3000, 0x30FF},
      {0xFB00, 0xFB4F},   {0xFE00, 0xFE0F},   {0xFF00, 0xFFEF},   {0x1F300, 0x1F6FF},
      {0x1F1E6, 0x1F1FF}, {0x1D400, 0x1D7FF}, {0x10000, 0x10FFFF}};
  std::uniform_int_distribution<size_t> length(0, 24);
  std::uniform_int_distribution<size_t> pick(0, kRanges.size() - 1);
  std::string s;
  for (size_t n = length(*rng); n > 0; --n) {
    const auto [lo, hi] = kRanges[pick(*rng)];
    char32_t cp = std::uniform_int_distribution<char32_t>(lo, hi)(*rng);
    if (cp >= 0xD800 && cp <= 0xDFFF) continue;
    const bool joiner = cp == 0x200D || (cp >= 0xFE00 && cp <= 0xFE0F) ||
                        (cp >= 0xE0020 && cp <= 0xE007F) || (cp >= 0xE0100 && cp <= 0xE01EF);
    if (joiner && !with_emoji_joiners) continue;
    AppendUtf8(cp, &s);
  }
  return s;
}

TEST(Normalizer, RandomTextMapsMonotonicallyWithinBounds) {
  std::mt19937 rng(20240315);
  const std::vector<Normalizer> normalizers = {
      Normalizer(), Normalizer({.strip_accents = true}),
      Normalizer({.nfkc = false, .case_fold = false, .collapse_whitespace = false}),
      Normalizer({.strip_accents = true, .fold_enye = true, .collapse_whitespace = false})};
  NormalizedText n;  // reused on purpose: stale contents must never leak into a result
  for (int iteration = 0; iteration < 20000; ++iteration) {
    const std::string text = RandomText(&rng, /*with_emoji_joiners=*/true);
    for (const Normalizer& normalizer : normalizers) {
      normalizer.Normalize(text, &n);
      ExpectWellFormedMap(n, text);
      if (HasFatalFailure()) {
        ADD_FAILURE() << "input: " << text << " options: " << normalizer.options().Fingerprint();
        return;
      }
    }
  }
}

TEST(Normalizer, RandomTextEqualsUtf8procNfkcCasefold) {
  std::mt19937 rng(7);
  const Normalizer normalizer({.collapse_whitespace = false});
  NormalizedText n;
  for (int iteration = 0; iteration < 20000; ++iteration) {
    const std::string text = RandomText(&rng, /*with_emoji_joiners=*/false);
    normalizer.Normalize(text, &n);
    ASSERT_EQ(n.text, Reference(text)) << "iteration " << iteration;
  }
}

TEST(Normalizer, ReadsInvalidUtf8AsReplacementCharactersWithoutOverrunning) {
  // Precondition violated on purpose: the result must still be memory-safe and valid UTF-8.
  for (const std::string input : {"a\xC3", "\xC3", "e\xCC", "x\xE2\x82", "\xF0\x9F\x98",
                                  "\xED\xA0\x80é", "\xC3\xC3\xA9", "ab\x80\x80"}) {
    NormalizedText n;
    Normalizer().Normalize(input, &n);
    EXPECT_TRUE(IsValidUtf8(n.text)) << Excerpt(input);
    EXPECT_EQ(n.text, Normalizer().NormalizeToString(ReplaceInvalidUtf8(input))) << Excerpt(input);
  }
}

TEST(Normalizer, RandomBytesGiveTheSameTextAsTheirRepairedForm) {
  std::mt19937 rng(99);
  std::uniform_int_distribution<int> byte(0, 255), length(0, 16);
  const Normalizer normalizer;
  NormalizedText n;
  for (int iteration = 0; iteration < 20000; ++iteration) {
    std::string input;
    for (int i = length(rng); i > 0; --i) input.push_back(static_cast<char>(byte(rng)));
    normalizer.Normalize(input, &n);
    ASSERT_TRUE(IsValidUtf8(n.text));
    ASSERT_EQ(n.text, normalizer.NormalizeToString(ReplaceInvalidUtf8(input)));
  }
}

TEST(Normalizer, ReusesOutputBuffersOnceWarmed) {
  const Normalizer normalizer;
  NormalizedText n;
  normalizer.Normalize(std::string(200, 'x') + " información ﬁ 😡", &n);
  const char* text = n.text.data();
  const uint32_t* starts = n.orig_start.data();
  for (const char* input : {"corto", "Mañana pago $50.000 ﬁ", "", "ÁRBOL   grande 🙏🏽"}) {
    normalizer.Normalize(input, &n);
    EXPECT_EQ(n.text.data(), text);
    EXPECT_EQ(n.orig_start.data(), starts);
  }
  EXPECT_EQ(n.text, "árbol grande 🙏🏽");
}

}  // namespace
}  // namespace lote::text
