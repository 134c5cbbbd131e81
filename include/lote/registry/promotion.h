// Promotion by test: should a candidate classifier replace the champion? Both score the same
// labelled golden set; the decision is a paired test, not a comparison of two point estimates
// (what SageMaker Pipelines' ConditionStep and MLflow's MetricThreshold do):
//
//   McNemar's test on the records where exactly one model is right: b (champion right, candidate
//   wrong) and c (the reverse). Under "equally accurate" each such record goes either way with
//   probability 1/2: exact two-sided binomial p-value when b + c < 25, else the chi-square with
//   continuity correction, (|b - c| - 1)^2 / (b + c), 1 degree of freedom.
//   Better: c > b, p < alpha, and the accuracy gain (c - b) / n at least min_gain.
//   Non-inferior per label: no gold label with at least min_label_rows rows loses more than
//   recall_margin of recall with evidence of a loss: the label's own discordant records (b_l,
//   c_l) give a one-sided exact binomial p-value, significant under Holm's step-down bound at
//   alpha over the gating labels (on 20 rows one record moves recall by 0.05: a point estimate
//   would block candidates by noise). Labels with fewer rows are reported, not gating.
//   Calibrated: the candidate's expected calibration error (15 bins) at most the champion's plus
//   ece_margin: the run's accuracy estimate relies on it.
// Promote only when all three hold. When the test is not significant, the report says how many
// golden records would detect the observed difference (McNemar, power 0.8, Connor 1987).
// Labels are compared as strings: the two models may know different label sets; a gold label a
// model never predicts counts as its error.
// Thread-safety: pure functions.
#ifndef LOTE_REGISTRY_PROMOTION_H_
#define LOTE_REGISTRY_PROMOTION_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace lote::registry {

struct McNemarResult {
  uint64_t b = 0, c = 0;  // champion right and candidate wrong; the reverse
  double statistic = 0;   // chi-square with continuity correction (0 for the exact test)
  double p_value = 1;     // two-sided
  std::string test;       // "exact_binomial" | "chi_square_cc"
};
McNemarResult McNemar(uint64_t b, uint64_t c);

// Golden records needed to detect an accuracy difference `effect` (> 0) with McNemar's test at
// two-sided `alpha` and `power`, when a share `discordant` of records has the models disagree on
// correctness (Connor 1987). Empty when the effect is not positive or exceeds the discordance.
std::optional<uint64_t> McNemarSampleSize(double discordant, double effect, double alpha,
                                          double power);

struct PromotionOptions {
  double alpha = 0.05;
  double min_gain = 0.0;         // accuracy points the candidate must gain
  double recall_margin = 0.05;   // a label's recall may drop at most this much
  uint64_t min_label_rows = 20;  // labels with fewer gold rows do not gate
  double ece_margin = 0.02;
  double power = 0.8;  // for the needed golden-set size
};

// One golden record as both models scored it.
struct GoldenOutcome {
  std::string gold;
  std::string champion, candidate;  // predicted labels
  float champion_score = 0, candidate_score = 0;
};

struct LabelComparison {
  std::string label;
  uint64_t rows = 0;
  double champion_recall = 0, candidate_recall = 0;
  uint64_t b = 0, c = 0;     // the label's rows only the champion / only the candidate got right
  double p_value = 1;        // one-sided exact binomial: P(X >= b), X ~ Bin(b + c, 1/2)
  bool gating = false;       // rows >= min_label_rows
  bool significant = false;  // p_value passes Holm's bound over the gating labels
  bool worse = false;        // gating, significant, and the drop exceeds recall_margin
};

struct PromotionDecision {
  bool promote = false;
  std::string reason;  // one sentence: why, or why not
  uint64_t n = 0;
  double champion_accuracy = 0, candidate_accuracy = 0;
  McNemarResult test;
  bool better = false, non_inferior = false, calibrated = false;
  double champion_ece = 0, candidate_ece = 0;
  std::vector<LabelComparison> labels;  // by gold label
  std::optional<uint64_t> needed_rows;  // when the test did not decide
};

PromotionDecision DecidePromotion(const std::vector<GoldenOutcome>& outcomes,
                                  const PromotionOptions& options);

// {"promote", "reason", "n", "champion_accuracy", "candidate_accuracy", "mcnemar": {"b", "c",
// "statistic", "p_value", "test"}, "better", "non_inferior", "calibrated", "champion_ece",
// "candidate_ece", "labels_worse": [...], "labels": [{"label", "rows", "champion_recall",
// "candidate_recall", "gating", "worse"}], "needed_rows", "options": {...}}.
std::string PromotionDecisionJson(const PromotionDecision& d, const PromotionOptions& options);

// ---- Extraction models: entity F1 per type, a paired test over documents ----
//
// Entity F1 is not a mean over documents, so McNemar does not apply. The paired test is
// approximate randomization (Noreen 1989; what Yeh 2000 recommends for F1): under "the models are
// equally good" each document's two sets of counts are exchangeable, so `rounds` times each
// document's champion and candidate counts are swapped with probability 1/2 and the micro F1
// difference recomputed; the two-sided p-value is (1 + rounds at least as extreme) / (1 +
// rounds). The seed is fixed: the same golden set gives the same decision.
//   Better: candidate micro F1 above the champion's, p < alpha, gain at least min_gain.
//   No type worse: no type with at least min_label_rows gold entities loses more than
//   recall_margin of F1 with a one-sided randomization p-value that passes Holm's bound.
// A tagger has no calibrated scores to compare: calibration is not part of this decision.

struct EntityCounts {
  uint64_t gold = 0, predicted = 0, correct = 0;
};

// One golden document: per entity type, what the champion and the candidate found.
struct EntityUnit {
  std::map<std::string, std::pair<EntityCounts, EntityCounts>> by_type;  // champion, candidate
};

struct EntityTypeComparison {
  std::string type;
  uint64_t gold = 0;
  double champion_f1 = 0, candidate_f1 = 0;
  double p_value = 1;  // one-sided: the candidate worse
  bool gating = false, significant = false, worse = false;
};

struct EntityPromotionDecision {
  bool promote = false;
  std::string reason;
  uint64_t units = 0, rounds = 0;
  double champion_f1 = 0, candidate_f1 = 0;
  double p_value = 1;  // two-sided approximate randomization
  bool better = false, non_inferior = false;
  std::vector<EntityTypeComparison> types;  // by type
};

EntityPromotionDecision DecideEntityPromotion(const std::vector<EntityUnit>& units,
                                              const PromotionOptions& options,
                                              uint64_t rounds = 9999, uint64_t seed = 1);

// {"promote", "reason", "kind": "entities", "units", "rounds", "champion_f1", "candidate_f1",
// "p_value", "better", "non_inferior", "types_worse": [...], "types": [{"type", "gold",
// "champion_f1", "candidate_f1", "p_value", "gating", "worse"}], "options": {...}}.
std::string EntityPromotionDecisionJson(const EntityPromotionDecision& d,
                                        const PromotionOptions& options);

}  // namespace lote::registry

#endif  // LOTE_REGISTRY_PROMOTION_H_
