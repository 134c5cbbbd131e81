// `lote train classify`: trains an intent classifier from labelled csv/jsonl (train_job.cc, as
// the SageMaker training container and the flow's training task do); `lote train` alone runs
// the SageMaker training container contract.
// (`lote train extract` lives in train_extract_command.cc.)
#include <sys/stat.h>

#include <cstdio>
#include <filesystem>

#include "command.h"
#include "common.h"
#include "lote/classify/intent_classifier.h"
#include "lote/text/utf8.h"
#include "train_job.h"

namespace lote::cli {
namespace {

struct TrainClassifyFlags {
  std::string train, dev, text_field = "text", label_field = "label", oos_label, name, out;
  std::string format;
  double c = 1.0;
  int min_df = 1;
  int threads = 0;
  uint64_t seed = 1;
  int word_ngrams = 2;
  int char_min = 2, char_max = 5;
  bool keep_accents = false;
  bool no_refit = false;
};

Status RunTrainClassify(const TrainClassifyFlags& f) {
  TrainSettings t;
  t.text_field = f.text_field;
  t.label_field = f.label_field;
  t.oos_label = f.oos_label;
  t.format = f.format;
  t.opt.c = f.c;
  t.opt.min_df = f.min_df;
  t.opt.threads = f.threads;
  t.opt.seed = f.seed;
  t.opt.refit_on_dev = !f.no_refit;
  t.opt.features.word_ngram_max = f.word_ngrams;
  t.opt.features.char_ngram_min = f.char_min;
  t.opt.features.char_ngram_max = f.char_max;
  t.opt.features.normalizer.strip_accents = !f.keep_accents;
  auto file_name = [](const std::string& path) {
    return std::filesystem::path(path).filename().string();
  };
  TrainingChannel train{"train", {f.train}, "", file_name(f.train)};
  TrainingChannel dev{"dev", {}, "", ""};
  if (!f.dev.empty()) dev = {"dev", {f.dev}, "", file_name(f.dev)};
  const std::string name = f.name.empty() ? std::filesystem::path(f.out).stem().string() : f.name;
  LOTE_ASSIGN_OR_RETURN(TrainedClassifier model, TrainClassifierJob(t, train, dev, name));
  const classify::ClassifierTrainReport& rep = model.report;
  for (const auto& w : rep.warnings) Warn(f.train + ": " + w);
  LOTE_RETURN_IF_ERROR(WriteFileAtomic(f.out, model.bytes));
  std::fprintf(stderr, "trained %s: %zu labels, %zu rows (%zu calibration), %zu features, %.1f s\n",
               model.version_id.c_str(), model.labels, rep.train_rows, rep.dev_rows, rep.features,
               rep.seconds);
  std::fprintf(stderr, "calibration split: accuracy %.4f, macro-F1 %.4f, ECE %.4f, T=%.3f",
               rep.dev_accuracy, rep.dev_macro_f1, rep.dev_ece, rep.temperature);
  if (model.has_oos) {
    std::fprintf(stderr, ", in-scope accuracy %.4f, oos recall %.4f, threshold %.3f",
                 rep.dev_in_scope_accuracy, rep.dev_oos_recall, rep.oos_threshold);
  }
  if (!rep.calibration.empty()) {
    std::fprintf(stderr, "\nreference profile for monitoring: %zu rows (%s)",
                 rep.calibration.size(), rep.calibration_split.c_str());
  }
  std::fprintf(stderr, "\nwrote %s (%zu bytes)\n", text::EscapeControl(f.out).c_str(),
               model.bytes.size());
  return Status::Ok();
}

void SetupTrain(CLI::App& root, int* exit_code) {
  auto* train = root.add_subcommand(
      "train",
      "Train a model (classify | extract); without a subcommand, a SageMaker training job's "
      "container: reads /opt/ml/input, writes /opt/ml/model/model.lote");
  train->require_subcommand(0, 1);
  // SageMaker starts a training image as `IMAGE train`: the contract under /opt/ml.
  train->callback([train, exit_code] {
    if (!train->get_subcommands().empty()) return;
    const std::string root = EnvOr("LOTE_SAGEMAKER_ROOT", "/opt/ml");
    struct stat st;
    if (::stat((root + "/input").c_str(), &st) != 0) {
      *exit_code = FailUsage(
          "lote train needs a subcommand, classify or extract (without one it runs as SageMaker's "
          "training container, which needs " +
          root + "/input)");
      return;
    }
    *exit_code = RunTrainingContainer(root);
  });
  auto* cmd =
      train->add_subcommand("classify", "Train an intent classifier from labelled csv/jsonl");
  auto f = std::make_shared<TrainClassifyFlags>();
  cmd->add_option("--train", f->train, "Training data (csv or jsonl)")->required();
  cmd->add_option("--dev", f->dev,
                  "Development data: calibrates probabilities and the oos threshold");
  cmd->add_option("--text-field", f->text_field, "Text column/field")->capture_default_str();
  cmd->add_option("--label-field", f->label_field, "Label column/field")->capture_default_str();
  cmd->add_option("--oos-label", f->oos_label, "Out-of-scope label: learn to abstain to it");
  cmd->add_option("--name", f->name, "Model name (default: the output file's stem)");
  cmd->add_option("--out", f->out, "Model file to write")->required();
  cmd->add_option("--format", f->format, "Input format: csv | jsonl (default: from extension)");
  cmd->add_option("--c", f->c, "SVM regularization C")->capture_default_str();
  cmd->add_option("--min-df", f->min_df, "Drop features seen in fewer texts")
      ->capture_default_str();
  cmd->add_option("--threads", f->threads, "Training threads (0 = all cores)")
      ->capture_default_str();
  cmd->add_option("--seed", f->seed, "Shuffling seed")->capture_default_str();
  cmd->add_option("--word-ngrams", f->word_ngrams, "Word n-grams 1..N")->capture_default_str();
  cmd->add_option("--char-min", f->char_min, "Shortest character n-gram")->capture_default_str();
  cmd->add_option("--char-max", f->char_max, "Longest character n-gram (0: none)")
      ->capture_default_str();
  cmd->add_flag("--keep-accents", f->keep_accents, "Do not fold accents before featurizing");
  cmd->add_flag("--no-refit", f->no_refit, "Do not refit on train+dev after calibration");
  cmd->callback([f, exit_code] {
    Status s = RunTrainClassify(*f);
    FlushWarnings();
    *exit_code = s.ok() ? kExitOk : Fail(s);
  });
}

}  // namespace
LOTE_REGISTER_COMMAND(10, SetupTrain);
}  // namespace lote::cli
