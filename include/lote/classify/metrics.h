// Classification metrics: accuracy, macro-F1, per-label precision/recall/F1, most frequent
// confusions, expected calibration error, and out-of-scope metrics. Thread-safe free functions.
#ifndef LOTE_CLASSIFY_METRICS_H_
#define LOTE_CLASSIFY_METRICS_H_

#include <string>
#include <vector>

namespace lote::classify {

struct LabelMetrics {
  std::string label;
  double precision = 0, recall = 0, f1 = 0;
  size_t support = 0;  // gold rows with this label
  size_t predicted = 0;
};

struct Confusion {
  std::string gold, predicted;
  size_t count = 0;
};

struct ClassificationReport {
  size_t n = 0;
  double accuracy = 0;
  double macro_f1 = 0;            // over labels with gold support or predictions
  double ece = 0;                 // 15 equal-width confidence bins
  double in_scope_accuracy = -1;  // -1 when there is no oos label
  double oos_recall = -1;
  double oos_precision = -1;
  std::vector<LabelMetrics> per_label;  // in label order
  std::vector<Confusion> confusions;    // gold != predicted, most frequent first (at most 20)
};

// `gold` and `pred` index into `labels` (a gold index may name a label the model never
// predicts, e.g. one unseen in training); `confidence` is the score of each prediction.
// `oos` is the out-of-scope label index or -1.
ClassificationReport Evaluate(const std::vector<int>& gold, const std::vector<int>& pred,
                              const std::vector<float>& confidence,
                              const std::vector<std::string>& labels, int oos);

// Expected calibration error with `bins` equal-width bins over confidence.
double ExpectedCalibrationError(const std::vector<float>& confidence,
                                const std::vector<bool>& correct, int bins = 15);

// Chooses the abstention threshold on max in-scope probability from calibration rows
// (probabilities per row, gold labels): the threshold maximizing
//   in-scope accuracy (abstention counts as wrong) + oos_weight * oos recall,
// so the result does not depend on how few oos rows the calibration data has. Returns 0 (never
// abstain beyond predicting `oos` itself) when there are no gold oos rows.
double ChooseOosThreshold(const std::vector<std::vector<float>>& probs,
                          const std::vector<int>& gold, int oos, double oos_weight);

}  // namespace lote::classify

#endif  // LOTE_CLASSIFY_METRICS_H_
