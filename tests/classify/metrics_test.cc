#include "lote/classify/metrics.h"

#include <gtest/gtest.h>

namespace lote::classify {
namespace {

TEST(Metrics, ComputesAccuracyMacroF1AndConfusions) {
  // labels: a b c; gold a a b b c, pred a b b b a
  std::vector<int> gold{0, 0, 1, 1, 2}, pred{0, 1, 1, 1, 0};
  std::vector<float> conf{0.9f, 0.6f, 0.8f, 0.7f, 0.5f};
  auto r = Evaluate(gold, pred, conf, {"a", "b", "c"}, -1);
  EXPECT_EQ(r.n, 5u);
  EXPECT_DOUBLE_EQ(r.accuracy, 3.0 / 5);
  // a: P 1/2 R 1/2 F .5 ; b: P 2/3 R 1 F .8 ; c: P 0 R 0 F 0
  ASSERT_EQ(r.per_label.size(), 3u);
  EXPECT_DOUBLE_EQ(r.per_label[0].f1, 0.5);
  EXPECT_NEAR(r.per_label[1].f1, 0.8, 1e-12);
  EXPECT_EQ(r.per_label[2].support, 1u);
  EXPECT_NEAR(r.macro_f1, (0.5 + 0.8 + 0.0) / 3, 1e-12);
  ASSERT_EQ(r.confusions.size(), 2u);
  EXPECT_EQ(r.confusions[0].count, 1u);
  EXPECT_EQ(r.in_scope_accuracy, -1);
}

TEST(Metrics, EceIsZeroForPerfectCalibrationAndGapOtherwise) {
  // Four predictions at confidence 0.75, three right: calibrated.
  EXPECT_NEAR(ExpectedCalibrationError({0.75f, 0.75f, 0.75f, 0.75f}, {true, true, true, false}),
              0.0, 1e-6);
  // All at 0.9 and all wrong: gap 0.9.
  EXPECT_NEAR(ExpectedCalibrationError({0.9f, 0.9f}, {false, false}), 0.9, 1e-6);
}

TEST(Metrics, OosMetricsCountAbstentionAsWrongForInScopeRows) {
  // labels a, oos(1). gold: a a oos oos ; pred: a oos oos a
  auto r = Evaluate({0, 0, 1, 1}, {0, 1, 1, 0}, {1, 1, 1, 1}, {"a", "oos"}, 1);
  EXPECT_DOUBLE_EQ(r.in_scope_accuracy, 0.5);
  EXPECT_DOUBLE_EQ(r.oos_recall, 0.5);
}

TEST(Metrics, OosThresholdSeparatesConfidentInScopeFromUnsureOos) {
  // labels: a(0) b(1) oos(2). In-scope rows are confident, oos rows are unsure.
  std::vector<std::vector<float>> p{
      {0.9f, 0.05f, 0.05f}, {0.1f, 0.8f, 0.1f}, {0.4f, 0.35f, 0.25f}, {0.3f, 0.45f, 0.25f}};
  std::vector<int> gold{0, 1, 2, 2};
  double t = ChooseOosThreshold(p, gold, 2, 1.0);
  EXPECT_GT(t, 0.45);
  EXPECT_LT(t, 0.8);
  EXPECT_EQ(ChooseOosThreshold(p, {0, 1, 0, 1}, 2, 1.0), 0.0);  // no oos rows: never abstain
}

}  // namespace
}  // namespace lote::classify
