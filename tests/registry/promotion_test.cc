// Promotion by test: McNemar's p-values against hand-computed ones, the needed golden-set size,
// and each reason a candidate is or is not promoted.
#include "lote/registry/promotion.h"

#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

namespace lote::registry {
namespace {

TEST(McNemar, ExactForFewDisagreementsChiSquareForMany) {
  // b = 1, c = 9: P(X <= 1) for X ~ Bin(10, 1/2) is 11 / 1024; two-sided twice that.
  McNemarResult r = McNemar(1, 9);
  EXPECT_EQ(r.test, "exact_binomial");
  EXPECT_NEAR(r.p_value, 22.0 / 1024, 1e-12);
  EXPECT_DOUBLE_EQ(McNemar(5, 5).p_value, 1.0);
  EXPECT_DOUBLE_EQ(McNemar(0, 0).p_value, 1.0);
  // b = 10, c = 30: (|10 - 30| - 1)^2 / 40 = 9.025; chi-square(1) survival = erfc(sqrt(x / 2)).
  r = McNemar(10, 30);
  EXPECT_EQ(r.test, "chi_square_cc");
  EXPECT_DOUBLE_EQ(r.statistic, 9.025);
  EXPECT_NEAR(r.p_value, std::erfc(std::sqrt(9.025 / 2)), 1e-12);
  EXPECT_DOUBLE_EQ(McNemar(30, 10).p_value, r.p_value);  // symmetric
}

TEST(McNemar, SampleSizeFollowsConnor) {
  // Discordance 0.1, effect 0.04, alpha 0.05, power 0.8:
  // (1.959964 * sqrt(0.1) + 0.841621 * sqrt(0.1 - 0.0016))^2 / 0.0016.
  const double root = 1.959964 * std::sqrt(0.1) + 0.841621 * std::sqrt(0.1 - 0.0016);
  auto n = McNemarSampleSize(0.1, 0.04, 0.05, 0.8);
  ASSERT_TRUE(n.has_value());
  EXPECT_NEAR(static_cast<double>(*n), std::ceil(root * root / 0.0016), 1);
  EXPECT_FALSE(McNemarSampleSize(0.1, 0, 0.05, 0.8).has_value());
  EXPECT_FALSE(McNemarSampleSize(0.1, -0.02, 0.05, 0.8).has_value());
  EXPECT_FALSE(McNemarSampleSize(0.001, 0.04, 0.05, 0.8).has_value());  // effect > discordance
}

// `n` rows of label `gold`: the champion right on `champ`, the candidate on `cand` of them (the
// first ones), both with score `score`.
void Add(std::vector<GoldenOutcome>* out, const std::string& gold, int n, int champ, int cand,
         float score = 0.9f) {
  for (int i = 0; i < n; ++i) {
    out->push_back({gold, i < champ ? gold : "other", i < cand ? gold : "other", score, score});
  }
}

TEST(DecidePromotion, ABetterCandidateIsPromoted) {
  std::vector<GoldenOutcome> g;
  Add(&g, "saldo", 100, 80, 92);
  Add(&g, "pago", 100, 85, 95);
  PromotionDecision d = DecidePromotion(g, {});
  EXPECT_TRUE(d.better);
  EXPECT_TRUE(d.non_inferior);
  EXPECT_TRUE(d.promote) << d.reason;
  EXPECT_EQ(d.test.b, 0u);
  EXPECT_EQ(d.test.c, 22u);
  EXPECT_DOUBLE_EQ(d.candidate_accuracy, 187.0 / 200);
  EXPECT_FALSE(d.needed_rows.has_value());
  const auto j = nlohmann::json::parse(PromotionDecisionJson(d, {}));
  EXPECT_EQ(j["promote"], true);
  EXPECT_EQ(j["mcnemar"]["c"], 22);
  EXPECT_EQ(j["labels"].size(), 2u);
}

TEST(DecidePromotion, ASmallGainIsNotPromotedAndTheNeededSizeIsSaid) {
  std::vector<GoldenOutcome> g;
  Add(&g, "saldo", 50, 40, 42);
  PromotionDecision d = DecidePromotion(g, {});
  EXPECT_FALSE(d.promote);
  EXPECT_NE(d.reason.find("not significant"), std::string::npos) << d.reason;
  ASSERT_TRUE(d.needed_rows.has_value());
  EXPECT_GT(*d.needed_rows, 50u);
}

TEST(DecidePromotion, ALabelThatGetsWorseBlocksAnOverallGain) {
  std::vector<GoldenOutcome> g;
  Add(&g, "saldo", 200, 150, 200);
  Add(&g, "fraude", 30, 28, 20);  // the candidate forgets fraud
  Add(&g, "rare", 5, 5, 0);       // too few rows to gate
  PromotionDecision d = DecidePromotion(g, {});
  EXPECT_TRUE(d.better);
  EXPECT_FALSE(d.non_inferior);
  EXPECT_FALSE(d.promote);
  EXPECT_NE(d.reason.find("fraude"), std::string::npos) << d.reason;
  EXPECT_EQ(d.reason.find("rare"), std::string::npos) << d.reason;
}

TEST(DecidePromotion, ALabelThatLosesARecordOrTwoByChanceDoesNotBlock) {
  std::vector<GoldenOutcome> g;
  Add(&g, "saldo", 200, 150, 200);
  // Two of 20 lost: recall 0.9 -> 0.8 is past the margin, but two discordant records are no
  // evidence (one-sided p = 0.25).
  Add(&g, "fraude", 20, 20, 18);
  PromotionDecision d = DecidePromotion(g, {});
  EXPECT_TRUE(d.non_inferior) << d.reason;
  EXPECT_TRUE(d.promote) << d.reason;
  const LabelComparison& fraude = d.labels[0];
  ASSERT_EQ(fraude.label, "fraude");
  EXPECT_EQ(fraude.b, 2u);
  EXPECT_EQ(fraude.c, 0u);
  EXPECT_NEAR(fraude.p_value, 0.25, 1e-12);
  EXPECT_FALSE(fraude.worse);
  // Holm over the gating labels: p = 0.5^6 = 0.0156 passes alpha 0.05 alone, but with a second
  // gating label it must pass 0.05 / 2 = 0.025 (it does) and with four 0.0125 (it does not).
  std::vector<GoldenOutcome> h;
  Add(&h, "saldo", 300, 200, 300);
  Add(&h, "fraude", 20, 20, 14);
  EXPECT_FALSE(DecidePromotion(h, {}).non_inferior);
  Add(&h, "pse", 20, 20, 20);
  Add(&h, "cdt", 20, 20, 20);
  EXPECT_TRUE(DecidePromotion(h, {}).non_inferior);
}

TEST(DecidePromotion, AWorseCalibratedCandidateIsNotPromoted) {
  std::vector<GoldenOutcome> g;
  for (int i = 0; i < 200; ++i) {
    const bool champ_right = i < 150, cand_right = i < 180;
    // The champion's scores match its accuracy (0.75); the candidate claims 0.5 at 0.9.
    g.push_back({"saldo", champ_right ? "saldo" : "x", cand_right ? "saldo" : "x", 0.75f, 0.5f});
  }
  PromotionDecision d = DecidePromotion(g, {});
  EXPECT_TRUE(d.better);
  EXPECT_FALSE(d.calibrated);
  EXPECT_FALSE(d.promote);
  EXPECT_NE(d.reason.find("calibrated"), std::string::npos) << d.reason;
  EXPECT_NEAR(d.champion_ece, 0.0, 1e-6);
  EXPECT_NEAR(d.candidate_ece, 0.4, 1e-6);
}

TEST(DecidePromotion, AWorseOrEqualCandidateAndTheMinimumGain) {
  std::vector<GoldenOutcome> g;
  Add(&g, "saldo", 100, 90, 80);
  PromotionDecision d = DecidePromotion(g, {});
  EXPECT_FALSE(d.promote);
  EXPECT_NE(d.reason.find("not more accurate"), std::string::npos) << d.reason;
  g.clear();
  Add(&g, "saldo", 400, 300, 340);
  PromotionOptions o;
  o.min_gain = 0.2;
  d = DecidePromotion(g, o);
  EXPECT_FALSE(d.promote);
  EXPECT_NE(d.reason.find("below the minimum"), std::string::npos) << d.reason;
  EXPECT_FALSE(DecidePromotion({}, {}).promote);
}

// A document with `gold` entities of `type`, of which the champion and the candidate find
// `a` and `b` (and nothing else).
EntityUnit Doc(const std::string& type, uint64_t gold, uint64_t a, uint64_t b) {
  EntityUnit u;
  u.by_type[type] = {EntityCounts{gold, a, a}, EntityCounts{gold, b, b}};
  return u;
}

TEST(DecideEntityPromotion, ACandidateFindingMoreEntitiesAcrossDocumentsIsPromoted) {
  std::vector<EntityUnit> docs;
  for (int i = 0; i < 60; ++i) docs.push_back(Doc("PER", 4, i % 2 == 0 ? 2 : 3, 4));
  const PromotionOptions o;
  EntityPromotionDecision d = DecideEntityPromotion(docs, o, 999);
  EXPECT_TRUE(d.promote) << d.reason;
  EXPECT_LT(d.champion_f1, d.candidate_f1);
  EXPECT_DOUBLE_EQ(d.candidate_f1, 1.0);
  EXPECT_LT(d.p_value, 0.01);
  EXPECT_EQ(d.units, 60u);
  // The seed is fixed: the same golden set gives the same p-value.
  EXPECT_EQ(DecideEntityPromotion(docs, o, 999).p_value, d.p_value);
  const auto j = nlohmann::json::parse(EntityPromotionDecisionJson(d, o));
  EXPECT_EQ(j["kind"], "entities");
  EXPECT_EQ(j["types"][0]["type"], "PER");
}

TEST(DecideEntityPromotion, NoDifferenceOrAFewDocumentsDoNotPromote) {
  std::vector<EntityUnit> same;
  for (int i = 0; i < 30; ++i) same.push_back(Doc("PER", 3, 2, 2));
  EntityPromotionDecision d = DecideEntityPromotion(same, {}, 999);
  EXPECT_FALSE(d.promote);
  EXPECT_NE(d.reason.find("not more accurate"), std::string::npos) << d.reason;
  // One document better out of three: F1 higher, but no evidence.
  std::vector<EntityUnit> few = {Doc("PER", 3, 2, 3), Doc("PER", 3, 3, 3), Doc("PER", 3, 3, 3)};
  d = DecideEntityPromotion(few, {}, 999);
  EXPECT_FALSE(d.promote);
  EXPECT_NE(d.reason.find("not significant"), std::string::npos) << d.reason;
  EXPECT_GT(d.p_value, 0.5);
  EXPECT_FALSE(DecideEntityPromotion({}, {}, 99).promote);
}

TEST(DecideEntityPromotion, ATypeThatGetsWorseBlocksAnOverallGain) {
  std::vector<EntityUnit> docs;
  for (int i = 0; i < 80; ++i) {
    EntityUnit u = Doc("PER", 5, 2, 5);  // much better on people
    if (i % 2 == 0) u.by_type["ORG"] = {EntityCounts{1, 1, 1}, EntityCounts{1, 0, 0}};  // forgets
    docs.push_back(u);
  }
  EntityPromotionDecision d = DecideEntityPromotion(docs, {}, 999);
  EXPECT_TRUE(d.better);
  EXPECT_FALSE(d.non_inferior);
  EXPECT_FALSE(d.promote);
  EXPECT_NE(d.reason.find("ORG"), std::string::npos) << d.reason;
  ASSERT_EQ(d.types.size(), 2u);
  EXPECT_TRUE(d.types[0].worse);  // ORG
  EXPECT_FALSE(d.types[1].worse);
}

}  // namespace
}  // namespace lote::registry
