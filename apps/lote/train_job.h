// Training as a SageMaker training job does: hyperparameters as strings, labelled data in
// channels (train, validation). The hyperparameter "task" says what is trained: "classify" (the
// default: an intent classifier, `lote train classify`) or "extract" (an entity tagger,
// `lote train extract`). Shared by the flow's createTrainingJob task (flow_tasks.cc), the training
// container's entry point, `lote train` with no subcommand (SageMaker's contract under /opt/ml:
// docs/serve.md, "The training container"), and `lote train extract` itself.
#ifndef LOTE_APPS_LOTE_TRAIN_JOB_H_
#define LOTE_APPS_LOTE_TRAIN_JOB_H_

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "lote/base/status.h"
#include "lote/classify/intent_classifier.h"
#include "lote/extract/tagger.h"

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

// HyperParameters.task ("classify" when absent; InvalidArgument for any other value than
// "classify" or "extract"); *rest gets the other hyperparameters.
Result<std::string> TrainingTask(const nlohmann::ordered_json& hp, nlohmann::ordered_json* rest);

// The options of `lote train extract` that HyperParameters may set (with "task": "extract").
struct TaggerSettings {
  std::string format, text_field = "text", entities_field = "entities", types, name;
  std::string encoding = "utf8";
  int epochs = 0;      // 0: the library default
  int max_epochs = 0;  // 0: the library default
  uint64_t seed = 0;   // 0: the library default
  int min_feature_count = 1;
  int doc_window = -1;  // -1: the library default, or one pass for mostly short documents
  bool no_gazetteer = false;
  std::string word_lists_root = "/";
};
// As ApplyHyperParameters, for `lote train extract`'s flags (format, text_field, entities_field,
// types, name, encoding, epochs, max_epochs, seed, min_feature_count, doc_window, no_gazetteer,
// word_lists_root).
Status ApplyTaggerHyperParameters(const nlohmann::ordered_json& hp, TaggerSettings* s);

struct TrainedTagger {
  std::string bytes;       // the model file
  std::string version_id;  // the model's version id
  extract::TaggerTrainReport report;
  size_t entity_types = 0;
  bool one_pass_by_default = false;  // doc_window unset and the documents mostly short
  bool has_profile = false;          // a monitoring reference profile (trained with dev data)
  size_t gazetteer_words = 0, gazetteer_lists = 0;
  // validation:entity_f1, when dev data was given.
  std::vector<std::pair<std::string, double>> metrics;
};

// Trains the tagger on `train` (a CoNLL or entity JSONL file, or a BRAT folder), choosing the
// epoch on `dev` when it is not empty; the model is named s.name, else `default_name`. Word lists
// are read from s.word_lists_root unless s.no_gazetteer; a missing one is an error. The model's
// provenance names the data `train_source` / `dev_source` (empty: the paths' file names).
Result<TrainedTagger> TrainTaggerJob(const TaggerSettings& s, const std::string& train,
                                     const std::string& dev, const std::string& default_name,
                                     const std::string& train_source = "",
                                     const std::string& dev_source = "");

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
