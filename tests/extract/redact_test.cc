#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "lote/base/digest.h"
#include "lote/extract/patterns.h"
#include "lote/extract/redactor.h"

namespace lote::extract {
namespace {

Entity Make(std::string type, uint32_t start, uint32_t end, std::string value_json = "") {
  Entity e;
  e.type = std::move(type);
  e.start = start;
  e.end = end;
  e.value_json = std::move(value_json);
  return e;
}

PiiRedactor MakeRedactor(RedactionMode mode, std::string key = "") {
  RedactorOptions o;
  o.mode = mode;
  o.key = Secret(std::move(key));
  auto r = PiiRedactor::Create(std::move(o));
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return std::move(r).value();
}

// "Señora 😀 Peña: 300 123 4567" -- the phone is code points [15, 27), bytes [20, 32).
const std::string kText = "Señora 😀 Peña: 300 123 4567";
const std::vector<Entity> kPhone = {Make("PHONE", 15, 27, "\"+573001234567\"")};

TEST(PiiRedactor, MaskKeepsLengthInCodePoints) {
  auto r = MakeRedactor(RedactionMode::kMask).Redact(kText, kPhone);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->text, "Señora 😀 Peña: ************");
  ASSERT_EQ(r->spans.size(), 1u);
  EXPECT_EQ(r->spans[0], (RedactedSpan{"PHONE", 15, 27}));
}

TEST(PiiRedactor, TypeModeWritesTheTypeAndReportsRedactedOffsets) {
  std::vector<Entity> es = {Make("PER", 9, 13), kPhone[0]};
  auto r = MakeRedactor(RedactionMode::kType).Redact(kText, es);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->text, "Señora 😀 [PER]: [PHONE]");
  ASSERT_EQ(r->spans.size(), 2u);
  EXPECT_EQ(r->spans[0], (RedactedSpan{"PER", 9, 14}));
  EXPECT_EQ(r->spans[1], (RedactedSpan{"PHONE", 16, 23}));
}

TEST(PiiRedactor, HashModeTokenIsHmacOfTheNormalizedValue) {
  auto redactor = MakeRedactor(RedactionMode::kHash, "k3y");
  auto r = redactor.Redact(kText, kPhone);
  ASSERT_TRUE(r.ok());
  const std::string token = "[PHONE_" + HmacSha256Hex("k3y", "+573001234567").substr(0, 16) + "]";
  EXPECT_EQ(r->text, "Señora 😀 Peña: " + token);
  EXPECT_EQ(r->spans[0], (RedactedSpan{"PHONE", 15, 15 + static_cast<uint32_t>(token.size())}));
  // No clear value left.
  EXPECT_EQ(r->text.find("300"), std::string::npos);
  EXPECT_EQ(r->text.find("4567"), std::string::npos);
}

TEST(PiiRedactor, SameValueGivesSameTokenAcrossTextsAndFormats) {
  PatternExtractor extractor;
  auto redactor = MakeRedactor(RedactionMode::kHash, "secret");
  const std::string a = "Llámame al +57 300-123-4567";
  const std::string b = "mi cel: 3001234567 gracias";
  auto ea = extractor.Extract(a);
  auto eb = extractor.Extract(b);
  ASSERT_TRUE(ea.ok() && eb.ok());
  auto ra = redactor.Redact(a, *ea);
  auto rb = redactor.Redact(b, *eb);
  ASSERT_TRUE(ra.ok() && rb.ok());
  const std::string token =
      "[PHONE_" + HmacSha256Hex("secret", "+573001234567").substr(0, 16) + "]";
  EXPECT_EQ(ra->text, "Llámame al " + token);
  EXPECT_EQ(rb->text, "mi cel: " + token + " gracias");
}

TEST(PiiRedactor, DifferentKeysGiveDifferentTokens) {
  auto r1 = MakeRedactor(RedactionMode::kHash, "key-one").Redact(kText, kPhone);
  auto r2 = MakeRedactor(RedactionMode::kHash, "key-two").Redact(kText, kPhone);
  ASSERT_TRUE(r1.ok() && r2.ok());
  EXPECT_NE(r1->text, r2->text);
}

TEST(PiiRedactor, EntityWithoutValueHashesItsLowerCasedText) {
  std::vector<Entity> upper = {Make("PER", 0, 11)};
  std::vector<Entity> lower = {Make("PER", 0, 11)};
  auto redactor = MakeRedactor(RedactionMode::kHash, "k");
  auto a = redactor.Redact("ÁLVARO PEÑA llamó", upper);
  auto b = redactor.Redact("álvaro peña escribió", lower);
  ASSERT_TRUE(a.ok() && b.ok());
  const std::string token = "[PER_" + HmacSha256Hex("k", "álvaro peña").substr(0, 16) + "]";
  EXPECT_EQ(a->text, token + " llamó");
  EXPECT_EQ(b->text, token + " escribió");
}

TEST(PiiRedactor, MergesOverlappingEntitiesIntoOneSpan) {
  // A model PER [0,6) overlapping a pattern EMAIL [0,17): one span named by the longest.
  const std::string text = "ana.ro@correo.com y más";
  std::vector<Entity> es = {Make("PER", 0, 6), Make("EMAIL", 0, 17, "\"ana.ro@correo.com\""),
                            Make("URL", 7, 17)};
  auto r = MakeRedactor(RedactionMode::kType).Redact(text, es);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->text, "[EMAIL] y más");
  ASSERT_EQ(r->spans.size(), 1u);
  EXPECT_EQ(r->spans[0], (RedactedSpan{"EMAIL", 0, 7}));

  // Partial overlap: the merged span covers both.
  std::vector<Entity> partial = {Make("PER", 0, 4), Make("PHONE", 2, 8)};
  auto m = MakeRedactor(RedactionMode::kMask).Redact("abcdefghij", partial);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->text, "********ij");
  EXPECT_EQ(m->spans[0], (RedactedSpan{"PHONE", 0, 8}));
}

TEST(PiiRedactor, OnlyRedactsTheConfiguredTypes) {
  RedactorOptions o;
  o.mode = RedactionMode::kType;
  o.types = {"PHONE"};
  auto redactor = PiiRedactor::Create(o);
  ASSERT_TRUE(redactor.ok());
  const std::string text = "Pagué $50.000 desde el 3001234567";
  PatternExtractor extractor;
  auto es = extractor.Extract(text);
  ASSERT_TRUE(es.ok());
  ASSERT_EQ(es->size(), 2u);
  auto r = redactor->Redact(text, *es);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->text, "Pagué $50.000 desde el [PHONE]");
}

TEST(PiiRedactor, DefaultTypesCoverPatternTypesAndPer) {
  const auto& types = DefaultPiiTypes();
  for (const std::string& t : PatternTypes()) {
    EXPECT_NE(std::find(types.begin(), types.end(), t), types.end()) << t;
  }
  EXPECT_NE(std::find(types.begin(), types.end(), "PER"), types.end());
}

TEST(PiiRedactor, EndToEndLeavesNoClearValue) {
  PatternExtractor extractor;
  const std::string text =
      "Soy CC 1.020.345.678, tarjeta 4111-1111-1111-1111, correo ana@x.co, cel 310 555 1234 🙏";
  auto es = extractor.Extract(text);
  ASSERT_TRUE(es.ok());
  auto r = MakeRedactor(RedactionMode::kHash, "k").Redact(text, *es);
  ASSERT_TRUE(r.ok());
  for (const char* clear : {"1.020.345.678", "1111", "ana@x.co", "555"}) {
    EXPECT_EQ(r->text.find(clear), std::string::npos) << clear;
  }
  EXPECT_EQ(r->spans.size(), 4u);
  EXPECT_NE(r->text.find("🙏"), std::string::npos);
}

TEST(PiiRedactor, HashModeNeedsAKey) {
  RedactorOptions o;
  o.mode = RedactionMode::kHash;
  auto r = PiiRedactor::Create(o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
}

TEST(PiiRedactor, RejectsSpansOutsideTheTextWithoutQuotingIt) {
  std::vector<Entity> es = {Make("PHONE", 5, 40)};
  auto r = MakeRedactor(RedactionMode::kMask).Redact("mi cel 3001234567", es);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message().find("3001234567"), std::string::npos);
}

TEST(PiiRedactor, ParsesModeNames) {
  EXPECT_EQ(*ParseRedactionMode("mask"), RedactionMode::kMask);
  EXPECT_EQ(*ParseRedactionMode("hash"), RedactionMode::kHash);
  EXPECT_FALSE(ParseRedactionMode("blur").ok());
}

}  // namespace
}  // namespace lote::extract
