// Training an intent classifier as a SageMaker training job does: hyperparameters as strings,
// labelled data in channels (train, validation). Shared by the flow's createTrainingJob task
// (flow_tasks.cc) and the training container's entry point, `lote train` with no subcommand
// (SageMaker's contract under /opt/ml: docs/serve.md, "The training container").
#ifndef LOTE_APPS_LOTE_TRAIN_JOB_H_
#define LOTE_APPS_LOTE_TRAIN_JOB_H_

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "lote/base/status.h"
#include "lote/classify/intent_classifier.h"

namespace lote::cli {

// The options of `lote train classify` that HyperParameters may set.
struct TrainSettings {
  std::string text_field = "text", label_field = "label", oos_label, name, format;
  classify::ClassifierTrainOptions opt;
  TrainSettings() {
    opt.c = 1.0;
    opt.min_df = 1;
    opt.threads = 0;
    opt.seed = 1;
    opt.refit_on_dev = true;
    opt.features.word_ngram_max = 2;
    opt.features.char_ngram_min = 2;
    opt.features.char_ngram_max = 5;
    opt.features.normalizer.strip_accents = true;
  }
};

// Whole decimal `s` within [lo, hi] into *v; false otherwise.
bool ParseInt(const std::string& s, int64_t lo, int64_t hi, int64_t* v);

// SageMaker passes hyperparameters as strings; they map onto `lote train classify`'s flags
// (names as the flags', '_' or '-' alike). InvalidArgument naming an unknown one or a bad value.
Status ApplyHyperParameters(const nlohmann::ordered_json& hp, TrainSettings* t);

// A channel's data: local files read in order as one data set, their format from the format
// hyperparameter, else the channel's ContentType, else each file's extension.
struct TrainingChannel {
  std::string name;  // "train", "validation"
  std::vector<std::string> files;
  std::string content_type;
  std::string source;  // what provenance names: a file name, or the channel
};

struct TrainedClassifier {
  std::string bytes;       // the model file
  std::string version_id;  // the model's version id
  classify::ClassifierTrainReport report;
  size_t labels = 0;
  bool has_oos = false;
  // SageMaker's FinalMetricDataList names and values (validation:accuracy, ...), when the
  // validation channel was given.
  std::vector<std::pair<std::string, double>> metrics;
};

// Trains with `t` on `train` (and `validation` when it has files); the model is named t.name,
// else `default_name`. The training data's SHA-256 (recorded in the model's provenance) is that of
// the channel's files' bytes in order.
Result<TrainedClassifier> TrainClassifierJob(const TrainSettings& t, const TrainingChannel& train,
                                             const TrainingChannel& validation,
                                             const std::string& default_name);

// SageMaker's training container contract, run by `lote train` without a subcommand: reads
// ROOT/input/config/hyperparameters.json and inputdataconfig.json and the files of
// ROOT/input/data/CHANNEL/, writes ROOT/model/model.lote, and on failure ROOT/output/failure (the
// reason SageMaker shows) before exiting non-zero. ROOT is /opt/ml ($LOTE_SAGEMAKER_ROOT moves it,
// for tests). Returns the process exit code.
int RunTrainingContainer(const std::string& root);

}  // namespace lote::cli

#endif  // LOTE_APPS_LOTE_TRAIN_JOB_H_
