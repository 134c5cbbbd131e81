#include "lote/extract/entity_eval.h"

#include <gtest/gtest.h>

namespace lote::extract {
namespace {

using Tags = std::vector<std::string>;
using Spans = std::vector<LabeledSpan>;

TEST(ChunkTags, ReadsIob2) {
  EXPECT_EQ(ChunkTags({"B-PER", "I-PER", "O", "B-LOC", "B-LOC", "I-LOC"}),
            (Spans{{"PER", 0, 2}, {"LOC", 3, 4}, {"LOC", 4, 6}}));
}

TEST(ChunkTags, IAfterOStartsAnEntityAsConllevalDoes) {
  // IOB1: I- after O starts an entity; B- only separates two adjacent entities of one type.
  EXPECT_EQ(ChunkTags({"O", "I-ORG", "I-ORG", "B-ORG", "O", "I-PER"}),
            (Spans{{"ORG", 1, 3}, {"ORG", 3, 4}, {"PER", 5, 6}}));
  // At the start of a sentence too.
  EXPECT_EQ(ChunkTags({"I-LOC"}), (Spans{{"LOC", 0, 1}}));
}

TEST(ChunkTags, TypeChangeInsideStartsANewEntity) {
  EXPECT_EQ(ChunkTags({"B-PER", "I-PER", "I-LOC", "I-LOC"}), (Spans{{"PER", 0, 2}, {"LOC", 2, 4}}));
}

TEST(ChunkTags, ReadsIobesAndBilou) {
  EXPECT_EQ(ChunkTags({"S-PER", "B-LOC", "E-LOC", "I-LOC", "U-ORG", "B-PER", "L-PER"}),
            (Spans{{"PER", 0, 1}, {"LOC", 1, 3}, {"LOC", 3, 4}, {"ORG", 4, 5}, {"PER", 5, 7}}));
}

TEST(ToIob2, RewritesIob1KeepingChunks) {
  const Tags iob1 = {"I-PER", "I-PER", "B-PER", "O", "I-LOC", "I-ORG"};
  const Tags iob2 = ToIob2(iob1);
  EXPECT_EQ(iob2, (Tags{"B-PER", "I-PER", "B-PER", "O", "B-LOC", "B-ORG"}));
  EXPECT_EQ(ChunkTags(iob2), ChunkTags(iob1));
}

TEST(EntityEvaluator, HandMadeExampleHasKnownScores) {
  EntityEvaluator ev;
  // Sentence 1: gold PER[0,2) LOC[3,4); predicted PER[0,2) (correct), LOC[3,5) (wrong end).
  ev.AddTags({"B-PER", "I-PER", "O", "B-LOC", "O"}, {"B-PER", "I-PER", "O", "B-LOC", "I-LOC"});
  // Sentence 2: gold ORG[0,1) PER[2,3); predicted ORG[0,1) (correct), PER[1,2) (wrong), and
  // nothing at [2,3).
  ev.AddTags({"B-ORG", "O", "B-PER"}, {"B-ORG", "B-PER", "O"});
  const auto r = ev.Report();
  // gold 4, predicted 4, correct 2 -> P = R = F1 = 0.5.
  EXPECT_EQ(r.micro.gold, 4u);
  EXPECT_EQ(r.micro.predicted, 4u);
  EXPECT_EQ(r.micro.correct, 2u);
  EXPECT_DOUBLE_EQ(r.micro.precision, 0.5);
  EXPECT_DOUBLE_EQ(r.micro.recall, 0.5);
  EXPECT_DOUBLE_EQ(r.micro.f1, 0.5);
  // PER: gold 2, predicted 2, correct 1.
  EXPECT_DOUBLE_EQ(r.per_type.at("PER").f1, 0.5);
  EXPECT_EQ(r.per_type.at("PER").gold, 2u);
  // ORG: perfect; LOC: 0 correct of 1.
  EXPECT_DOUBLE_EQ(r.per_type.at("ORG").f1, 1.0);
  EXPECT_DOUBLE_EQ(r.per_type.at("LOC").precision, 0.0);
  EXPECT_DOUBLE_EQ(r.per_type.at("LOC").f1, 0.0);
}

TEST(EntityEvaluator, UnequalPrecisionAndRecall) {
  EntityEvaluator ev;
  // gold 3, predicted 2, correct 2: P = 1, R = 2/3, F1 = 0.8.
  ev.AddSpans({{"A", 0, 3}, {"A", 5, 8}, {"B", 9, 10}}, {{"A", 0, 3}, {"B", 9, 10}});
  const auto r = ev.Report();
  EXPECT_DOUBLE_EQ(r.micro.precision, 1.0);
  EXPECT_DOUBLE_EQ(r.micro.recall, 2.0 / 3.0);
  EXPECT_NEAR(r.micro.f1, 0.8, 1e-12);
}

TEST(EntityEvaluator, IgnoresPredictedTypesAbsentFromGold) {
  EntityEvaluator ev;
  ev.AddSpans({{"PER", 0, 4}}, {{"PER", 0, 4}, {"PHONE", 10, 20}, {"PHONE", 30, 40}});
  const auto r = ev.Report();
  EXPECT_EQ(r.per_type.count("PHONE"), 0u);
  EXPECT_EQ(r.ignored_predictions, 2u);
  EXPECT_DOUBLE_EQ(r.micro.precision, 1.0);
  EXPECT_DOUBLE_EQ(r.micro.f1, 1.0);
}

TEST(EntityEvaluator, StrictSpansNeedExactBoundariesAndMatchOnce) {
  EntityEvaluator ev;
  // Off by one code point is wrong; a duplicated prediction matches one gold span only.
  ev.AddSpans({{"CALLE", 10, 25}}, {{"CALLE", 10, 24}, {"CALLE", 10, 25}, {"CALLE", 10, 25}});
  const auto r = ev.Report();
  EXPECT_EQ(r.micro.correct, 1u);
  EXPECT_EQ(r.micro.predicted, 3u);
  EXPECT_DOUBLE_EQ(r.micro.recall, 1.0);
}

TEST(EntityEvaluator, MergeAddsCountsAndEmptyIsZero) {
  EntityEvaluator a, b;
  EXPECT_DOUBLE_EQ(a.Report().micro.f1, 0.0);
  a.AddSpans({{"X", 0, 1}}, {{"X", 0, 1}});
  b.AddSpans({{"X", 2, 3}}, {});
  a.Merge(b);
  const auto r = a.Report();
  EXPECT_EQ(r.micro.gold, 2u);
  EXPECT_DOUBLE_EQ(r.micro.recall, 0.5);
  EXPECT_NE(r.ToString().find("X"), std::string::npos);
}

TEST(EntityEvaluator, ShorterPredictionIsPaddedWithO) {
  EntityEvaluator ev;
  ev.AddTags({"B-PER", "O", "B-LOC"}, {"B-PER"});
  const auto r = ev.Report();
  EXPECT_EQ(r.micro.gold, 2u);
  EXPECT_EQ(r.micro.correct, 1u);
}

}  // namespace
}  // namespace lote::extract
