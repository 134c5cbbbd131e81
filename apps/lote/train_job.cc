#include "train_job.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "command.h"
#include "common.h"
#include "lote/base/digest.h"
#include "lote/io/file_source.h"
#include "lote/text/utf8.h"

namespace lote::cli {

using Json = nlohmann::ordered_json;

bool ParseInt(const std::string& s, int64_t lo, int64_t hi, int64_t* v) {
  if (s.empty()) return false;
  char* end = nullptr;
  errno = 0;
  long long x = std::strtoll(s.c_str(), &end, 10);
  if (errno != 0 || end != s.c_str() + s.size() || x < lo || x > hi) return false;
  *v = x;
  return true;
}

Status ApplyHyperParameters(const nlohmann::ordered_json& hp, TrainSettings* t) {
  if (hp.is_null()) return Status::Ok();
  if (!hp.is_object()) return InvalidArgumentError("HyperParameters must be an object");
  for (const auto& [key, value] : hp.items()) {
    if (!value.is_string()) {
      return InvalidArgumentError("HyperParameters." + key + ": must be a string");
    }
    // A copy: clang 14 cannot capture a structured binding in a lambda.
    const std::string name = key;
    std::string k = key, v = value.get<std::string>();
    for (char& ch : k) {
      if (ch == '_') ch = '-';
    }
    int64_t n = 0;
    auto bad = [&](const std::string& want) {
      return InvalidArgumentError("HyperParameters." + name + ": expected " + want + ", got '" +
                                  CutUtf8(text::EscapeControl(v), 64) + "'");
    };
    auto boolean = [&](bool* b) -> Status {
      if (v == "true" || v == "True") {
        *b = true;
      } else if (v == "false" || v == "False") {
        *b = false;
      } else {
        return bad("true or false");
      }
      return Status::Ok();
    };
    if (k == "c") {
      char* end = nullptr;
      double c = std::strtod(v.c_str(), &end);
      if (v.empty() || end != v.c_str() + v.size() || !(c > 0) || c > 1e6) {
        return bad("a number > 0");
      }
      t->opt.c = c;
    } else if (k == "min-df") {
      if (!ParseInt(v, 1, 1'000'000, &n)) return bad("an integer >= 1");
      t->opt.min_df = static_cast<int>(n);
    } else if (k == "threads") {
      if (!ParseInt(v, 0, 1024, &n)) return bad("an integer 0..1024");
      t->opt.threads = static_cast<int>(n);
    } else if (k == "seed") {
      if (!ParseInt(v, 0, INT64_MAX, &n)) return bad("an integer >= 0");
      t->opt.seed = static_cast<uint64_t>(n);
    } else if (k == "word-ngrams") {
      if (!ParseInt(v, 1, 5, &n)) return bad("an integer 1..5");
      t->opt.features.word_ngram_max = static_cast<int>(n);
    } else if (k == "char-min") {
      if (!ParseInt(v, 1, 10, &n)) return bad("an integer 1..10");
      t->opt.features.char_ngram_min = static_cast<int>(n);
    } else if (k == "char-max") {
      if (!ParseInt(v, 0, 10, &n)) return bad("an integer 0..10");
      t->opt.features.char_ngram_max = static_cast<int>(n);
    } else if (k == "keep-accents") {
      bool keep = false;
      LOTE_RETURN_IF_ERROR(boolean(&keep));
      t->opt.features.normalizer.strip_accents = !keep;
    } else if (k == "no-refit") {
      bool no_refit = false;
      LOTE_RETURN_IF_ERROR(boolean(&no_refit));
      t->opt.refit_on_dev = !no_refit;
    } else if (k == "text-field") {
      t->text_field = v;
    } else if (k == "label-field") {
      t->label_field = v;
    } else if (k == "oos-label") {
      t->oos_label = v;
    } else if (k == "name") {
      t->name = v;
    } else if (k == "format") {
      if (v != "csv" && v != "jsonl") return bad("csv or jsonl");
      t->format = v;
    } else {
      return InvalidArgumentError(
          "HyperParameters." + CutUtf8(text::EscapeControl(key), 64) +
          ": not a hyperparameter of lote train classify (c, min_df, threads, seed, word_ngrams, "
          "char_min, char_max, keep_accents, no_refit, text_field, label_field, oos_label, name, "
          "format)");
    }
  }
  return Status::Ok();
}

Result<TrainedClassifier> TrainClassifierJob(const TrainSettings& t, const TrainingChannel& train,
                                             const TrainingChannel& validation,
                                             const std::string& default_name) {
  // A channel's rows and the SHA-256 of its files' bytes in order.
  auto read = [&t](const TrainingChannel& c, std::vector<classify::LabeledText>* out,
                   std::string* sha) -> Status {
    Sha256 digest;
    for (const std::string& path : c.files) {
      std::string f = t.format;
      if (f.empty() && c.content_type == "text/csv") f = "csv";
      if (f.empty() && (c.content_type == "application/jsonlines" ||
                        c.content_type == "application/x-jsonlines")) {
        f = "jsonl";
      }
      LOTE_ASSIGN_OR_RETURN(io::Format format, ResolveFormat(path, f));
      LOTE_ASSIGN_OR_RETURN(auto rows, ReadLabeledFile(path, format, t.text_field, t.label_field));
      for (auto& r : rows) out->push_back({std::move(r.text), std::move(r.label)});
      std::ifstream in(path, std::ios::binary);
      char buf[1 << 16];
      while (in.read(buf, sizeof buf) || in.gcount() > 0) {
        digest.Update(buf, static_cast<size_t>(in.gcount()));
      }
      if (in.bad()) return UnavailableError("cannot read " + path);
    }
    *sha = digest.FinalHex();
    return Status::Ok();
  };
  if (train.files.empty()) {
    return InvalidArgumentError("channel " + train.name + ": no training data");
  }
  std::vector<classify::LabeledText> train_rows, dev_rows;
  std::string train_sha, dev_sha;
  LOTE_RETURN_IF_ERROR(read(train, &train_rows, &train_sha).WithContext("channel " + train.name));
  Json prov;
  prov["train_file"] = train.source;
  prov["train_sha256"] = train_sha;
  if (!validation.files.empty()) {
    LOTE_RETURN_IF_ERROR(
        read(validation, &dev_rows, &dev_sha).WithContext("channel " + validation.name));
    prov["dev_file"] = validation.source;
    prov["dev_sha256"] = dev_sha;
  }
  classify::ClassifierTrainOptions opt = t.opt;
  opt.oos_label = t.oos_label;
  opt.provenance_json = prov.dump();
  TrainedClassifier out;
  LOTE_ASSIGN_OR_RETURN(auto clf,
                        classify::IntentClassifier::Train(train_rows, dev_rows, opt, &out.report));
  LOTE_ASSIGN_OR_RETURN(const std::string created_at, ModelTimestamp());
  out.bytes = ClassifierModelBytes(*clf, out.report, t.name.empty() ? default_name : t.name,
                                   created_at, &out.version_id);
  out.labels = clf->labels().size();
  out.has_oos = clf->oos_label() >= 0;
  const classify::ClassifierTrainReport& rep = out.report;
  if (rep.dev_rows > 0) {
    out.metrics = {{"validation:accuracy", rep.dev_accuracy},
                   {"validation:macro_f1", rep.dev_macro_f1},
                   {"validation:ece", rep.dev_ece}};
    if (out.has_oos) {
      out.metrics.emplace_back("validation:in_scope_accuracy", rep.dev_in_scope_accuracy);
      out.metrics.emplace_back("validation:oos_recall", rep.dev_oos_recall);
    }
  }
  return out;
}

namespace {

// A small JSON file of SageMaker's (absent: `missing`).
Result<Json> ReadConfig(const std::string& path, Json missing) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return missing;
  if (st.st_size > (1 << 20)) return InvalidArgumentError(path + ": larger than 1 MiB");
  LOTE_ASSIGN_OR_RETURN(std::string text, io::ReadFileToString(path));
  Json j = Json::parse(text, nullptr, false);
  if (!j.is_object()) return InvalidArgumentError(path + ": not a JSON object");
  return j;
}

// The regular files under a channel's folder (File mode: the S3 prefix's objects), sorted by
// path, hidden ones (".") left out.
Result<std::vector<std::string>> ChannelFiles(const std::string& dir) {
  std::error_code ec;
  std::vector<std::string> files;
  if (!std::filesystem::is_directory(dir, ec)) return files;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (it->path().filename().string().starts_with(".")) {
      if (it->is_directory()) it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file()) files.push_back(it->path().string());
  }
  if (ec) return UnavailableError("cannot list " + dir + ": " + ec.message());
  std::sort(files.begin(), files.end());
  return files;
}

Status TrainInContainer(const std::string& root) {
  LOTE_ASSIGN_OR_RETURN(Json hp,
                        ReadConfig(root + "/input/config/hyperparameters.json", Json::object()));
  TrainSettings t;
  LOTE_RETURN_IF_ERROR(ApplyHyperParameters(hp, &t));
  LOTE_ASSIGN_OR_RETURN(Json channels,
                        ReadConfig(root + "/input/config/inputdataconfig.json", Json::object()));
  TrainingChannel train{"train", {}, "", "train"}, validation{"validation", {}, "", "validation"};
  for (const auto& [name, config] : channels.items()) {
    TrainingChannel* c = name == "train"                           ? &train
                         : (name == "validation" || name == "dev") ? &validation
                                                                   : nullptr;
    if (c == nullptr) {
      return InvalidArgumentError("channel '" + CutUtf8(text::EscapeControl(name), 64) +
                                  "': lote trains from channels train and validation (or dev)");
    }
    if (!c->files.empty() || !c->content_type.empty()) {
      return InvalidArgumentError("two channels give the " + c->name + " data");
    }
    if (config.is_object() && config.contains("TrainingInputMode") &&
        config["TrainingInputMode"] != "File") {
      return InvalidArgumentError("channel " + name +
                                  ": TrainingInputMode must be File (lote reads files)");
    }
    if (config.is_object() && config.contains("ContentType") && config["ContentType"].is_string()) {
      c->content_type = config["ContentType"].get<std::string>();
    }
    c->name = name;
    c->source = name;
    LOTE_ASSIGN_OR_RETURN(c->files, ChannelFiles(root + "/input/data/" + name));
  }
  if (channels.empty()) {  // no inputdataconfig.json: the folders say which channels exist
    LOTE_ASSIGN_OR_RETURN(train.files, ChannelFiles(root + "/input/data/train"));
    LOTE_ASSIGN_OR_RETURN(validation.files, ChannelFiles(root + "/input/data/validation"));
  }
  if (train.files.empty()) {
    return InvalidArgumentError("no training data: " + root +
                                "/input/data/train/ holds no file (the channel must be named "
                                "train)");
  }
  if (train.files.size() == 1) train.source = std::filesystem::path(train.files[0]).filename();
  if (validation.files.size() == 1) {
    validation.source = std::filesystem::path(validation.files[0]).filename();
  }
  const std::string job = EnvOr("TRAINING_JOB_NAME", "lote-training");
  LOTE_ASSIGN_OR_RETURN(TrainedClassifier model, TrainClassifierJob(t, train, validation, job));
  for (const auto& w : model.report.warnings) Warn("channel train: " + w);
  std::error_code ec;
  std::filesystem::create_directories(root + "/model", ec);
  LOTE_RETURN_IF_ERROR(WriteFileAtomic(root + "/model/model.lote", model.bytes));
  // Metrics on stdout, one per line, for the training job's MetricDefinitions regexes (for
  // example "validation:accuracy=([0-9.]+)").
  std::printf("trained %s: %zu labels, %zu rows (%zu validation), %zu features\n",
              model.version_id.c_str(), model.labels, model.report.train_rows,
              model.report.dev_rows, model.report.features);
  for (const auto& [name, value] : model.metrics) std::printf("%s=%.6f\n", name.c_str(), value);
  std::fflush(stdout);
  return Status::Ok();
}

}  // namespace

int RunTrainingContainer(const std::string& root) {
  Status s = TrainInContainer(root);
  FlushWarnings();
  if (s.ok()) return kExitOk;
  // SageMaker shows this file's text as the job's FailureReason (it keeps 1,024 characters).
  std::error_code ec;
  std::filesystem::create_directories(root + "/output", ec);
  (void)WriteFileAtomic(root + "/output/failure", CutUtf8(s.ToString(), 1024) + "\n");
  return Fail(s);
}

}  // namespace lote::cli
