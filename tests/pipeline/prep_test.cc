#include "lote/pipeline/prep.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "lote/text/utf8.h"

namespace lote::pipeline {
namespace {

TEST(Prep, StripsTagsScriptsAndDecodesEntities) {
  EXPECT_EQ(StripHtml("<p>Hola&nbsp;se&ntilde;or</p>"), " Hola\u00a0señor ");
  EXPECT_EQ(StripHtml("a<br/>b"), "a b");
  EXPECT_EQ(StripHtml("x<script>alert('x')</script>y"), "x y");
  EXPECT_EQ(StripHtml("x<STYLE>p{}</style>y"), "x y");
  EXPECT_EQ(StripHtml("<!-- nota -->ok"), " ok");
  EXPECT_EQ(StripHtml("&#241;&#xF1;&amp;&lt;"), "ññ&<");
}

TEST(Prep, LeavesTextThatOnlyLooksLikeHtmlAlone) {
  EXPECT_EQ(StripHtml("si x<5 y y>3"), "si x<5 y y>3");
  EXPECT_EQ(StripHtml("AT&T cobra &unknown; y &#0;"), "AT&T cobra &unknown; y &#0;");
  EXPECT_EQ(StripHtml("a < b"), "a < b");
}

TEST(Prep, RemovesControlAndInvisibleCharacters) {
  EXPECT_EQ(StripControl("a\x01"
                         "b\tc\u200bd\ufeffe\u202ef"),
            "ab cdef");
}

TEST(Prep, CollapsesUnicodeWhitespace) {
  EXPECT_EQ(CollapseWhitespace("  hola \u00a0\u2003 mundo\n "), "hola mundo");
  EXPECT_EQ(CollapseWhitespace(" \t "), "");
}

// The fast paths skip texts with nothing to change; every character class they must not skip,
// one at a time, inside otherwise clean Spanish text.
TEST(Prep, FastPathsStillCatchEveryCharacterTheyChange) {
  EXPECT_EQ(StripControl("añox"), "añox");             // C1 control
  EXPECT_EQ(StripControl("año­x"), "añox");               // soft hyphen
  EXPECT_EQ(StripControl("año⁠x"), "añox");            // word joiner
  EXPECT_EQ(StripControl("año﻿x"), "añox");            // BOM
  EXPECT_EQ(StripControl("añox"), "añox");              // DEL
  EXPECT_EQ(StripControl("año señor ü"), "año señor ü");  // nothing to do
  EXPECT_EQ(CollapseWhitespace("año x"), "año x");
  EXPECT_EQ(CollapseWhitespace("año　x"), "año x");
  EXPECT_EQ(CollapseWhitespace("año x"), "año x");
  EXPECT_EQ(CollapseWhitespace("año  x"), "año x");
  EXPECT_EQ(CollapseWhitespace("año x "), "año x");
  EXPECT_EQ(CollapseWhitespace(" año x"), "año x");
  EXPECT_EQ(CollapseWhitespace("año señor"), "año señor");
  Preprocessor prep(PrepOptions{});
  PrepResult r;
  ASSERT_TRUE(prep.Process("Café y ñ", &r).ok());  // combining marks (0xCC 0x81)
  EXPECT_EQ(r.text, "Café y ñ");
  ASSERT_TRUE(prep.Process("Å", &r).ok());  // ANGSTROM SIGN: NFC is U+00C5
  EXPECT_EQ(r.text, "Å");
}

TEST(Prep, ProcessChainsStepsAndComposesNfc) {
  Preprocessor prep(PrepOptions{});
  PrepResult r;
  ASSERT_TRUE(prep.Process("<b>Quiero\r\n  pagar</b> la tarjeta de cre\u0301dito", &r).ok());
  EXPECT_EQ(r.text, "Quiero pagar la tarjeta de crédito");
  EXPECT_EQ(r.lang, "es");
  EXPECT_FALSE(r.truncated);
}

TEST(Prep, RejectsInvalidUtf8ByDefaultAndReplacesWhenAsked) {
  PrepOptions options;
  Preprocessor reject(options);
  PrepResult r;
  Status s = reject.Process(
      "ab\xff"
      "cd",
      &r);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "invalid UTF-8 at byte 2");
  options.invalid_utf8 = text::InvalidUtf8Policy::kReplace;
  Preprocessor replace(options);
  ASSERT_TRUE(replace
                  .Process("ab\xff"
                           "cd",
                           &r)
                  .ok());
  EXPECT_EQ(r.text, "ab\ufffdcd");
  EXPECT_TRUE(r.replaced_invalid_utf8);
}

TEST(Prep, RejectsTextsEmptyAfterCleaning) {
  Preprocessor prep(PrepOptions{});
  PrepResult r;
  Status s = prep.Process("  <br> \u200b ", &r);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "empty after cleaning");
}

TEST(Prep, TruncatesOrRejectsOverLongTextsAtCodePointBoundaries) {
  PrepOptions options;
  options.max_chars = 5;
  Preprocessor truncate(options);
  PrepResult r;
  ASSERT_TRUE(truncate.Process("ññññññññ", &r).ok());
  EXPECT_EQ(r.text, "ñññññ");
  EXPECT_TRUE(r.truncated);
  options.over_long = OverLongPolicy::kReject;
  Preprocessor reject(options);
  Status s = reject.Process("ññññññññ", &r);
  EXPECT_EQ(s.message(), "too long: 8 code points > max_chars 5");
}

TEST(Prep, DetectsLanguageWithCld2AndStopWordsForShortTexts) {
  EXPECT_EQ(DetectLanguage("hola", 40), "es");
  EXPECT_EQ(DetectLanguage("my card", 40), "en");
  EXPECT_EQ(DetectLanguage("¿y?", 40), "es");
  EXPECT_EQ(DetectLanguage("12345", 40), "und");
  EXPECT_EQ(DetectLanguage("Buenas tardes, quisiera saber por qué me cobraron dos veces la cuota "
                           "de manejo de la tarjeta este mes",
                           40),
            "es");
  EXPECT_EQ(DetectLanguage("Good afternoon, I would like to know why I was charged twice for the "
                           "card fee this month",
                           40),
            "en");
  EXPECT_EQ(DetectLanguage("Guten Tag, ich möchte wissen, warum mir die Kartengebühr in diesem "
                           "Monat zweimal berechnet wurde",
                           40),
            "other");
}

TEST(Prep, PreprocessVersionChangesWithAnyOption) {
  PrepOptions a;
  PrepOptions b;
  EXPECT_EQ(PreprocessVersion(a), PreprocessVersion(b));
  EXPECT_EQ(PreprocessVersion(a).size(), 12u);
  b.max_chars = 4999;
  EXPECT_NE(PreprocessVersion(a), PreprocessVersion(b));
  b = a;
  b.dedup_content = true;
  EXPECT_NE(PreprocessVersion(a), PreprocessVersion(b));
}

TEST(Prep, ParsesPolicyNames) {
  EXPECT_EQ(*ParseOverLongPolicy("reject"), OverLongPolicy::kReject);
  EXPECT_EQ(*ParseInvalidUtf8Policy("replace"), text::InvalidUtf8Policy::kReplace);
  EXPECT_EQ(ParseOverLongPolicy("cut").status().code(), StatusCode::kInvalidArgument);
}

// The fast path: whatever IsAlreadyClean accepts, every step leaves as it is. Random strings
// from pieces each step cares about (HTML, entities, controls, white space of every kind,
// Latin-1 letters, NBSP, soft hyphen, zero-width and bidi marks, combining marks, emoji, bad
// UTF-8); Process on an accepted string returns it unchanged.
TEST(Prep, TheAlreadyCleanFastPathAcceptsOnlyWhatEveryStepLeavesUnchanged) {
  const std::vector<std::string> pieces = {"hola",
                                           "pay",
                                           " ",
                                           "  ",
                                           "<b>",
                                           "&amp;",
                                           "&",
                                           "<",
                                           "\t",
                                           "\n",
                                           "\r",
                                           "\x01",
                                           "\x7f",
                                           "\xc3\xb1",
                                           "\xc3\x81",
                                           "\xc2\xbf",
                                           "\xc2\xa1",
                                           "\xc2\xa0",
                                           "\xc2\xad",
                                           "\xc2\x85",
                                           "\xe2\x80\x8b",
                                           "\xe2\x80\xae",
                                           "n\xcc\x83",
                                           "\xf0\x9f\x98\x80",
                                           "\xc3",
                                           "\xff",
                                           "1.000",
                                           "$",
                                           "x",
                                           "\xc3\x97",
                                           "\xc3\xbf"};
  uint64_t state = 20241206;
  auto next = [&] {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<size_t>(state >> 33);
  };
  Preprocessor prep{PrepOptions{}};
  int accepted = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string s;
    const size_t n = 1 + next() % 8;
    for (size_t k = 0; k < n; ++k) s += pieces[next() % pieces.size()];
    if (!IsAlreadyClean(s)) continue;
    ++accepted;
    ASSERT_TRUE(text::IsValidUtf8(s)) << s;
    EXPECT_EQ(s.find_first_of("<&"), std::string::npos) << s;
    EXPECT_EQ(StripControl(s), s) << s;
    EXPECT_EQ(CollapseWhitespace(s), s) << s;
    for (unsigned char c : s) EXPECT_LT(c, 0xCC) << s;  // no code point >= U+0300: NFC as is
    PrepResult r;
    ASSERT_TRUE(prep.Process(s, &r).ok()) << s;
    EXPECT_EQ(r.text, s);
  }
  EXPECT_GT(accepted, 1000);  // the generator does reach the fast path
  EXPECT_TRUE(IsAlreadyClean("Señor, ¿cuánto debo? 1.000 pesos"));
  EXPECT_FALSE(IsAlreadyClean("dos  espacios"));
  EXPECT_FALSE(IsAlreadyClean(" borde"));
  EXPECT_FALSE(
      IsAlreadyClean("nbsp\xc2\xa0"
                     "aqui"));
  EXPECT_FALSE(IsAlreadyClean(""));
}

}  // namespace
}  // namespace lote::pipeline
