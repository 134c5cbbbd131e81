// IntentClassifier: multi-class text classifier (hashed word + character n-gram TF-IDF
// features, one-vs-rest L2-loss linear SVMs trained by dual coordinate descent, softmax
// probabilities calibrated by temperature scaling on a development split, optional
// abstention to an out-of-scope label).
//
// Training is deterministic: the same data and options give byte-identical model sections,
// whatever the thread count. A loaded classifier is immutable and its const methods are
// thread-safe; each worker thread keeps its own ClassifierState (scratch buffers).
#ifndef LOTE_CLASSIFY_INTENT_CLASSIFIER_H_
#define LOTE_CLASSIFY_INTENT_CLASSIFIER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "lote/base/status.h"
#include "lote/classify/features.h"
#include "lote/model/model_file.h"

namespace lote::classify {

struct LabeledText {
  std::string text;
  std::string label;
};

struct ClassifierTrainOptions {
  FeatureOptions features;
  double c = 1.0;             // SVM regularization (larger: fit training data harder)
  double tolerance = 0.1;     // dual coordinate descent stopping tolerance (liblinear's eps)
  int max_iterations = 1000;  // passes over the data per class, at most
  int min_df = 1;             // drop features seen in fewer training texts
  int threads = 0;            // 0: all hardware threads; results do not depend on it
  uint64_t seed = 1;          // data shuffling; fixed for reproducibility
  std::string oos_label;      // non-empty: out-of-scope label for abstention
  // The abstention threshold maximizes in-scope accuracy + oos_recall_weight * oos recall on
  // the calibration rows: below 1, a wrongly abstained in-scope row costs more than a missed
  // oos row (users see abstentions as failures).
  double oos_recall_weight = 0.07;
  // Without a dev set, this fraction of train (stratified, fixed seed) is held out to calibrate
  // probabilities and the abstention threshold; the final model is refit on all of train.
  double holdout_fraction = 0.1;
  // With a dev set: refit the final model on train + dev after calibration on dev.
  bool refit_on_dev = true;
  // Rows for monitoring's reference profile (ClassifierTrainReport::calibration): after a refit,
  // every training row scored out of fold by a model fit on the other profile_folds - 1 folds
  // (stratified, fixed seed), with the final temperature and threshold: what the final model will
  // see on new data (a calibration-phase model knows fewer words and is less sure of itself, so
  // new batches would all look shifted against it). 0 or 1: the calibration rows as scored by
  // the calibration-phase model. Costs profile_folds more fits.
  int profile_folds = 5;
  // JSON object text merged into the model's training metadata (data sha256, file names,
  // created_at): supplied by the caller, which knows where the data came from.
  std::string provenance_json = "{}";
};

// One row as a model that did not learn it saw it: what the reference profile of monitoring is
// built from (lote/monitoring/profile.h).
struct CalibrationRow {
  const LabeledText* row = nullptr;  // into the train or dev vector given to Train
  int gold = -1, predicted = -1;     // label indices; `predicted` after abstention
  float score = 0.0f;                // calibrated probability of `predicted`
  bool abstained = false;
  VocabularyCounts vocabulary;
};

// What training measured; also stored in the model's metadata.
struct ClassifierTrainReport {
  size_t train_rows = 0;
  size_t dev_rows = 0;
  size_t features = 0;
  double temperature = 1.0;
  double oos_threshold = 0.0;
  double dev_accuracy = 0.0;  // of the calibration model on the held-out/dev rows
  double dev_macro_f1 = 0.0;
  double dev_ece = 0.0;
  double dev_in_scope_accuracy = -1.0;  // with an oos label only
  double dev_oos_recall = -1.0;
  double seconds = 0.0;
  std::vector<std::string> warnings;  // e.g. labels seen once
  // Rows for the reference profile (see profile_folds); empty when no row was held out.
  std::vector<CalibrationRow> calibration;
  std::string calibration_split;  // "dev" | "holdout_of_train" | "out_of_fold_K"
};

struct ScoredLabel {
  int label;
  float score;
};

struct ClassifierPrediction {
  int label = -1;      // index into labels(); the oos label when abstaining
  float score = 0.0f;  // calibrated probability of `label` (abstention: 1 - max in-scope p)
  std::vector<ScoredLabel> top_k;  // highest probabilities first
};

class ClassifierState;

class IntentClassifier {
 public:
  // Trains on `train`; `dev` may be empty. Labels are taken from the data (sorted).
  // Errors: InvalidArgument (no rows, fewer than 2 labels, oos label absent from the data).
  static Result<std::shared_ptr<const IntentClassifier>> Train(
      const std::vector<LabeledText>& train, const std::vector<LabeledText>& dev,
      const ClassifierTrainOptions& options, ClassifierTrainReport* report);

  // Reads the "classifier.*" sections of a model file. DataLoss on truncated or inconsistent
  // sections, FailedPrecondition on an unknown section version.
  static Result<std::shared_ptr<const IntentClassifier>> Load(const model::ModelFile& file,
                                                              std::string_view source);

  // Adds the "classifier.*" sections to `file` (does not touch "meta").
  void Save(model::ModelFile* file) const;

  // Metadata JSON object (text) describing this classifier for the model's "meta" section.
  std::string MetadataJson() const;

  std::unique_ptr<ClassifierState> NewState() const;

  // Classifies one text (valid UTF-8). `top_k` <= 0 means no top-k list. Thread-safe.
  void Predict(std::string_view text, ClassifierState* state, int top_k,
               ClassifierPrediction* out) const;

  // Calibrated probabilities over all labels (size labels().size()), before abstention.
  void Probabilities(std::string_view text, ClassifierState* state, std::vector<float>* p) const;

  // The sparse TF-IDF row of `text` into state->row (features in first-seen order, each once).
  // Thread-safe.
  void Vectorize(std::string_view text, ClassifierState* state) const;

  const std::vector<std::string>& labels() const { return labels_; }
  int oos_label() const { return oos_label_; }  // -1 when none
  double temperature() const { return temperature_; }
  double oos_threshold() const { return oos_threshold_; }
  size_t num_features() const { return hashes_.size(); }
  const FeatureOptions& feature_options() const { return extractor_.options(); }

  // Internal (public for the trainer): constructs from parts; `weights` is feature-major float
  // (F x K) and is quantized to int8 per feature row.
  IntentClassifier(FeatureOptions features, std::vector<std::string> labels,
                   std::vector<uint64_t> hashes, std::vector<float> idf, std::vector<float> weights,
                   std::vector<float> bias);

 private:
  friend class ClassifierTrainer;
  void BuildIndex();
  void Scores(std::string_view text, ClassifierState* state, std::vector<float>* scores) const;
  int32_t Find(uint64_t hash) const;

  FeatureExtractor extractor_;
  std::vector<std::string> labels_;
  std::vector<uint64_t> hashes_;  // sorted feature hashes; position = feature index
  std::vector<float> idf_;
  void Quantize(const std::vector<float>& weights);
  // Feature-major int8 weights: weight(f, k) = scales_[f] * qweights_[f * K + k].
  std::vector<int8_t> qweights_;
  std::vector<float> scales_;
  std::vector<float> bias_;  // K
  int oos_label_ = -1;
  double temperature_ = 1.0;
  double oos_threshold_ = 0.0;
  std::string training_json_ = "{}";  // training metadata (data hashes, rows, params, metrics)
  // Open-addressing index hash -> feature (built at load, not stored).
  struct Slot {
    uint64_t key;
    int32_t value;  // -1: empty
  };
  std::vector<Slot> table_;
  uint64_t table_mask_ = 0;
  uint32_t first_char_feature_ = 0;  // features [first_char_feature_, F) are character n-grams
};

class ClassifierState {
 public:
  FeatureScratch scratch;
  SparseRow row;
  std::vector<uint32_t> stamp;  // per feature: generation of the text that last saw it
  std::vector<uint32_t> slot;   // per feature: its position in row
  uint32_t generation = 0;
  std::vector<float> scores;
  std::vector<float> probs;
  VocabularyCounts vocabulary;  // of the text the last Vectorize saw (monitoring)
};

}  // namespace lote::classify

#endif  // LOTE_CLASSIFY_INTENT_CLASSIFIER_H_
