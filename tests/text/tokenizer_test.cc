#include "lote/text/tokenizer.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "lote/text/normalizer.h"
#include "lote/text/utf8.h"

namespace lote::text {
namespace {

const char* KindName(TokenKind kind) {
  switch (kind) {
    case TokenKind::kWord:
      return "W";
    case TokenKind::kNumber:
      return "N";
    case TokenKind::kUrl:
      return "U";
    case TokenKind::kEmail:
      return "E";
    case TokenKind::kEmoji:
      return "J";
    case TokenKind::kPunct:
      return "P";
    case TokenKind::kSymbol:
      return "S";
  }
  return "?";
}

// "W:hola" per token, so failures show the whole token list.
std::vector<std::string> Tokens(std::string_view text) {
  std::vector<Token> tokens;
  Tokenizer().Tokenize(text, &tokens);
  std::vector<std::string> out;
  for (const Token& t : tokens) {
    out.push_back(std::string(KindName(t.kind)) + ":" +
                  std::string(text.substr(t.begin, t.end - t.begin)));
  }
  return out;
}

using V = std::vector<std::string>;

TEST(Tokenizer, SplitsASpanishBankingComplaint) {
  const std::string text =
      "Hola!! me cobraron $50.000 el 15/03/2024, escribanme a juan.perez@gmail.com o "
      "www.banco.co 😡🙏🏽";
  EXPECT_EQ(Tokens(text), (V{"W:Hola", "P:!", "P:!", "W:me", "W:cobraron", "N:$50.000", "W:el",
                             "N:15/03/2024", "P:,", "W:escribanme", "W:a", "E:juan.perez@gmail.com",
                             "W:o", "U:www.banco.co", "J:😡", "J:🙏🏽"}));
  std::vector<Token> tokens;
  Tokenizer().Tokenize(text, &tokens);
  ASSERT_EQ(tokens.size(), 16u);
  EXPECT_EQ(tokens[5].begin, 19u);
  EXPECT_EQ(tokens[5].end, 26u);
  EXPECT_EQ(tokens[14].begin, 91u);
  EXPECT_EQ(tokens[14].end, 95u);
  EXPECT_EQ(tokens[15].begin, 95u);
  EXPECT_EQ(tokens[15].end, 103u);
}

TEST(Tokenizer, TreatsSpanishLettersAsLettersAndInvertedMarksAsPunct) {
  EXPECT_EQ(Tokens("¿Por qué el año pasó así? ¡Pingüino!"),
            (V{"P:¿", "W:Por", "W:qué", "W:el", "W:año", "W:pasó", "W:así", "P:?", "P:¡",
               "W:Pingüino", "P:!"}));
}

TEST(Tokenizer, KeepsNumbersWithSeparatorsWhole) {
  EXPECT_EQ(Tokens("1,5 50.000 $1'500.000 3001234567 10:30 2024-03-15 €20 15%"),
            (V{"N:1,5", "N:50.000", "N:$1'500.000", "N:3001234567", "N:10:30", "N:2024-03-15",
               "N:€20", "N:15", "P:%"}));
  EXPECT_EQ(Tokens("+57 300 123 4567"), (V{"S:+", "N:57", "N:300", "N:123", "N:4567"}));
  EXPECT_EQ(Tokens("pagué 50.000."), (V{"W:pagué", "N:50.000", "P:."}));
  EXPECT_EQ(Tokens("$ 20 $x"), (V{"S:$", "N:20", "S:$", "W:x"}));
}

TEST(Tokenizer, MixesDigitsAndLettersIntoWords) {
  EXPECT_EQ(Tokens("4x4 covid19 2do 1.5kg"), (V{"W:4x4", "W:covid19", "W:2do", "N:1.5", "W:kg"}));
}

TEST(Tokenizer, KeepsInnerApostrophesAndHyphens) {
  EXPECT_EQ(Tokens("don't Juan-Pablo l’agence mi_usuario 'hola' -no- ya-"),
            (V{"W:don't", "W:Juan-Pablo", "W:l’agence", "W:mi_usuario", "P:'", "W:hola", "P:'",
               "P:-", "W:no", "P:-", "W:ya", "P:-"}));
}

TEST(Tokenizer, KeepsUrlsWithoutTrailingPunctuation) {
  EXPECT_EQ(Tokens("ver https://banco.co/pagos?id=5&x=1. o (http://x.co/a_(b)) WWW.Banco.com.co!"),
            (V{"W:ver", "U:https://banco.co/pagos?id=5&x=1", "P:.", "W:o", "P:(",
               "U:http://x.co/a_(b)", "P:)", "U:WWW.Banco.com.co", "P:!"}));
  EXPECT_EQ(Tokens("https:// www."), (V{"W:https", "P::", "P:/", "P:/", "W:www", "P:."}));
  EXPECT_EQ(Tokens("https://es.wikipedia.org/wiki/Año😡"),
            (V{"U:https://es.wikipedia.org/wiki/Año", "J:😡"}));
}

TEST(Tokenizer, KeepsEmailAddressesWhole) {
  EXPECT_EQ(Tokens("a juan.perez+banco@mail.gmail.com. y maría_1@bancó.co"),
            (V{"W:a", "E:juan.perez+banco@mail.gmail.com", "P:.", "W:y", "E:maría_1@bancó.co"}));
  EXPECT_EQ(Tokens("@banco juan@ juan@localhost 123@x.co"),
            (V{"P:@", "W:banco", "W:juan", "P:@", "W:juan", "P:@", "W:localhost", "E:123@x.co"}));
}

TEST(Tokenizer, KeepsEmojiClustersWhole) {
  EXPECT_EQ(
      Tokens(
          "👨‍👩‍👧 👍🏻👍 🇨🇴🇲🇽 ❤️ 1️⃣ #️⃣ 👩🏽‍💻 "
          "🏴\U000E0067\U000E0062\U000E0065"
          "\U000E006E\U000E0067\U000E007F"),
      (V{"J:👨‍👩‍👧", "J:👍🏻", "J:👍", "J:🇨🇴", "J:🇲🇽", "J:❤️", "J:1️⃣",
         "J:#️⃣", "J:👩🏽‍💻",
         "J:🏴\U000E0067\U000E0062\U000E0065\U000E006E\U000E0067\U000E007F"}));
  EXPECT_EQ(Tokens("gracias😊!"), (V{"W:gracias", "J:😊", "P:!"}));
}

TEST(Tokenizer, SeparatesOnUnicodeWhiteSpaceAndFormatCharacters) {
  EXPECT_EQ(Tokens("a\u00A0b\u2003c\u200Bd\te\r\nf"),
            (V{"W:a", "W:b", "W:c", "W:d", "W:e", "W:f"}));
  EXPECT_TRUE(Tokens("").empty());
  EXPECT_TRUE(Tokens(" \t\n ").empty());
}

TEST(Tokenizer, ClassifiesSymbolsAndPunctuation) {
  EXPECT_EQ(Tokens("a+b=c «ok» 100° →"),
            (V{"W:a", "S:+", "W:b", "S:=", "W:c", "P:«", "W:ok", "P:»", "N:100", "S:°", "S:→"}));
}

TEST(Tokenizer, WorksOnNormalizedText) {
  NormalizedText n;
  Normalizer().Normalize("ME COBRARON  $50.000 ＥＮ ｗｗｗ.ｂａｎｃｏ.ｃｏ", &n);
  EXPECT_EQ(Tokens(n.text), (V{"W:me", "W:cobraron", "N:$50.000", "W:en", "U:www.banco.co"}));
}

TEST(Tokenizer, TurnsInvalidUtf8IntoSymbolTokensWithoutOverrunning) {
  // Precondition violated on purpose: each maximal invalid subpart reads as U+FFFD (a symbol),
  // and truncated sequences at the end are never read past.
  EXPECT_EQ(Tokens("hola \xE2\x82"), (V{"W:hola", "S:\xE2\x82"}));
  EXPECT_EQ(Tokens("x\xF0\x9F"), (V{"W:x", "S:\xF0\x9F"}));
  EXPECT_EQ(Tokens("1\xEF\xB8"), (V{"N:1", "S:\xEF\xB8"}));
  EXPECT_EQ(Tokens("a\x80\x80"
                   "b"),
            (V{"W:a", "S:\x80", "S:\x80", "W:b"}));
}

TEST(Tokenizer, RandomBytesGiveOrderedTokensInBounds) {
  std::mt19937 rng(5);
  std::uniform_int_distribution<int> byte(0, 255), length(0, 16);
  std::vector<Token> tokens;
  for (int iteration = 0; iteration < 20000; ++iteration) {
    std::string text;
    for (int i = length(rng); i > 0; --i) text.push_back(static_cast<char>(byte(rng)));
    Tokenizer().Tokenize(text, &tokens);
    uint32_t previous_end = 0;
    for (const Token& t : tokens) {
      ASSERT_LE(previous_end, t.begin);
      ASSERT_LT(t.begin, t.end);
      ASSERT_LE(t.end, text.size());
      previous_end = t.end;
    }
  }
}

TEST(Tokenizer, ClearsTheOutputVector) {
  std::vector<Token> tokens = {{0, 1, TokenKind::kWord}};
  Tokenizer().Tokenize("uno dos", &tokens);
  ASSERT_EQ(tokens.size(), 2u);
  EXPECT_EQ(tokens[0].begin, 0u);
  EXPECT_EQ(tokens[1].end, 7u);
}

TEST(Tokenizer, RandomTextGivesOrderedNonEmptyTokensOnCodePointBoundaries) {
  std::mt19937 rng(42);
  const std::string alphabet[] = {
      "a", "Z",    "ñ",       "é",      "1", "0", ".",    ",",      "/",      "@",
      "-", "'",    " ",       "\t",     "$", "😡", "🏽", "\u200D", "\uFE0F", "🇨",
      "w", "www.", "http://", "\u0301", "¿", "€", ":",    "_",      "\u00A0"};
  std::uniform_int_distribution<size_t> pick(0, std::size(alphabet) - 1);
  std::vector<Token> tokens;
  for (int iteration = 0; iteration < 20000; ++iteration) {
    std::string text;
    for (int i = 0; i < 20; ++i) text += alphabet[pick(rng)];
    Tokenizer().Tokenize(text, &tokens);
    uint32_t previous_end = 0;
    for (const Token& t : tokens) {
      ASSERT_LE(previous_end, t.begin) << text;
      ASSERT_LT(t.begin, t.end) << text;
      ASSERT_LE(t.end, text.size()) << text;
      ASSERT_TRUE(IsValidUtf8(std::string_view(text).substr(t.begin, t.end - t.begin))) << text;
      previous_end = t.end;
    }
  }
}

}  // namespace
}  // namespace lote::text
