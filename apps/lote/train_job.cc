#include "train_job.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>

#include "command.h"
#include "common.h"
#include "eval_extract.h"
#include "lote/base/digest.h"
#include "lote/bundle/model.h"
#include "lote/io/file_source.h"
#include "lote/monitoring/reference_profile.h"
#include "lote/text/utf8.h"
#include "word_lists.h"

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

namespace {

// One hyperparameter as the flag it stands for: SageMaker passes every value as a string, and
// names may use '_' where the flag has '-'.
struct HyperParameter {
  std::string key;   // as given
  std::string flag;  // '_' as '-'
  std::string value;

  Status Bad(const std::string& want) const {
    return InvalidArgumentError("HyperParameters." + key + ": expected " + want + ", got '" +
                                CutUtf8(text::EscapeControl(value), 64) + "'");
  }
  Status Int(int64_t lo, int64_t hi, const std::string& want, int64_t* v) const {
    return ParseInt(value, lo, hi, v) ? Status::Ok() : Bad(want);
  }
  Status Boolean(bool* b) const {
    if (value == "true" || value == "True" || value == "false" || value == "False") {
      *b = value == "true" || value == "True";
      return Status::Ok();
    }
    return Bad("true or false");
  }
  // The error for a name the command has no flag for; `flags` lists the ones it has.
  Status Unknown(const std::string& command, const std::string& flags) const {
    return InvalidArgumentError("HyperParameters." + CutUtf8(text::EscapeControl(key), 64) +
                                ": not a hyperparameter of lote train " + command + " (" + flags +
                                ")");
  }
};

// Calls `apply` for each hyperparameter of the object `hp` (null: none); the first error stops.
Status ForEachHyperParameter(const Json& hp,
                             const std::function<Status(const HyperParameter&)>& apply) {
  if (hp.is_null()) return Status::Ok();
  if (!hp.is_object()) return InvalidArgumentError("HyperParameters must be an object");
  for (const auto& [key, value] : hp.items()) {
    if (!value.is_string()) {
      return InvalidArgumentError("HyperParameters." + key + ": must be a string");
    }
    HyperParameter p{key, key, value.get<std::string>()};
    for (char& ch : p.flag) {
      if (ch == '_') ch = '-';
    }
    LOTE_RETURN_IF_ERROR(apply(p));
  }
  return Status::Ok();
}

}  // namespace

Status ApplyHyperParameters(const nlohmann::ordered_json& hp, TrainSettings* t) {
  return ForEachHyperParameter(hp, [t](const HyperParameter& p) -> Status {
    const std::string& k = p.flag;
    const std::string& v = p.value;
    int64_t n = 0;
    if (k == "c") {
      char* end = nullptr;
      double c = std::strtod(v.c_str(), &end);
      if (v.empty() || end != v.c_str() + v.size() || !(c > 0) || c > 1e6) {
        return p.Bad("a number > 0");
      }
      t->opt.c = c;
    } else if (k == "min-df") {
      LOTE_RETURN_IF_ERROR(p.Int(1, 1'000'000, "an integer >= 1", &n));
      t->opt.min_df = static_cast<int>(n);
    } else if (k == "threads") {
      LOTE_RETURN_IF_ERROR(p.Int(0, 1024, "an integer 0..1024", &n));
      t->opt.threads = static_cast<int>(n);
    } else if (k == "seed") {
      LOTE_RETURN_IF_ERROR(p.Int(0, INT64_MAX, "an integer >= 0", &n));
      t->opt.seed = static_cast<uint64_t>(n);
    } else if (k == "word-ngrams") {
      LOTE_RETURN_IF_ERROR(p.Int(1, 5, "an integer 1..5", &n));
      t->opt.features.word_ngram_max = static_cast<int>(n);
    } else if (k == "char-min") {
      LOTE_RETURN_IF_ERROR(p.Int(1, 10, "an integer 1..10", &n));
      t->opt.features.char_ngram_min = static_cast<int>(n);
    } else if (k == "char-max") {
      LOTE_RETURN_IF_ERROR(p.Int(0, 10, "an integer 0..10", &n));
      t->opt.features.char_ngram_max = static_cast<int>(n);
    } else if (k == "keep-accents") {
      bool keep = false;
      LOTE_RETURN_IF_ERROR(p.Boolean(&keep));
      t->opt.features.normalizer.strip_accents = !keep;
    } else if (k == "no-refit") {
      bool no_refit = false;
      LOTE_RETURN_IF_ERROR(p.Boolean(&no_refit));
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
      if (v != "csv" && v != "jsonl") return p.Bad("csv or jsonl");
      t->format = v;
    } else {
      return p.Unknown("classify",
                       "c, min_df, threads, seed, word_ngrams, char_min, char_max, keep_accents, "
                       "no_refit, text_field, label_field, oos_label, name, format");
    }
    return Status::Ok();
  });
}

Result<std::string> TrainingTask(const Json& hp, Json* rest) {
  *rest = hp;
  if (!hp.is_object() || !hp.contains("task")) return std::string("classify");
  const Json& task = hp["task"];
  if (!task.is_string() || (task != "classify" && task != "extract")) {
    return InvalidArgumentError("HyperParameters.task: expected classify or extract");
  }
  rest->erase("task");
  return task.get<std::string>();
}

Status ApplyTaggerHyperParameters(const Json& hp, TaggerSettings* s) {
  return ForEachHyperParameter(hp, [s](const HyperParameter& p) -> Status {
    const std::string& k = p.flag;
    const std::string& v = p.value;
    int64_t n = 0;
    if (k == "format") {
      if (v != "conll" && v != "brat" && v != "jsonl") return p.Bad("conll, brat or jsonl");
      s->format = v;
    } else if (k == "text-field") {
      s->text_field = v;
    } else if (k == "entities-field") {
      s->entities_field = v;
    } else if (k == "types") {
      s->types = v;
    } else if (k == "name") {
      s->name = v;
    } else if (k == "encoding") {
      if (v != "utf8" && v != "latin1") return p.Bad("utf8 or latin1");
      s->encoding = v;
    } else if (k == "epochs" || k == "max-epochs") {
      LOTE_RETURN_IF_ERROR(p.Int(1, 1000, "an integer 1..1000", &n));
      (k == "epochs" ? s->epochs : s->max_epochs) = static_cast<int>(n);
    } else if (k == "seed") {
      LOTE_RETURN_IF_ERROR(p.Int(0, INT64_MAX, "an integer >= 0", &n));
      s->seed = static_cast<uint64_t>(n);
    } else if (k == "min-feature-count") {
      LOTE_RETURN_IF_ERROR(p.Int(1, 1'000'000, "an integer >= 1", &n));
      s->min_feature_count = static_cast<int>(n);
    } else if (k == "doc-window") {
      LOTE_RETURN_IF_ERROR(p.Int(0, 1000, "an integer 0..1000", &n));
      s->doc_window = static_cast<int>(n);
    } else if (k == "no-gazetteer") {
      LOTE_RETURN_IF_ERROR(p.Boolean(&s->no_gazetteer));
    } else if (k == "word-lists-root") {
      s->word_lists_root = v;
    } else {
      return p.Unknown("extract",
                       "format, text_field, entities_field, types, name, encoding, epochs, "
                       "max_epochs, seed, min_feature_count, doc_window, no_gazetteer, "
                       "word_lists_root");
    }
    return Status::Ok();
  });
}

namespace {

// The second pass reads documents of 20 or more sentences (EntityTagger::Extract): when most
// training sentences are in shorter documents (chat messages, one record each), it would never
// run on data like this, so the default is a one-pass model.
bool MostlyShortDocuments(const std::vector<size_t>& doc_sentences) {
  size_t total = 0, in_long = 0;
  for (size_t n : doc_sentences) {
    total += n;
    if (n >= 20) in_long += n;
  }
  return in_long * 2 < total;
}

}  // namespace

Result<TrainedTagger> TrainTaggerJob(const TaggerSettings& s, const std::string& train_path,
                                     const std::string& dev_path, const std::string& default_name,
                                     const std::string& train_source,
                                     const std::string& dev_source) {
  LOTE_ASSIGN_OR_RETURN(io::Format format, ResolveFormat(train_path, s.format));
  EntityDataOptions data_opt;
  data_opt.encoding = s.encoding == "latin1" ? io::TextEncoding::kLatin1 : io::TextEncoding::kUtf8;
  data_opt.jsonl.text_field = s.text_field;
  data_opt.jsonl.entities_field = s.entities_field;
  LOTE_ASSIGN_OR_RETURN(data_opt.types, ParseTypeList(s.types, "--types"));
  std::vector<size_t> doc_sentences;
  LOTE_ASSIGN_OR_RETURN(auto train,
                        ReadEntityTrainingData(train_path, format, data_opt, &doc_sentences));
  std::vector<extract::TaggedSequence> dev;
  if (!dev_path.empty()) {
    LOTE_ASSIGN_OR_RETURN(io::Format dev_format, ResolveFormat(dev_path, s.format));
    EntityDataOptions dev_opt = data_opt;
    dev_opt.require_types = false;  // a small dev split may lack a rare type
    LOTE_ASSIGN_OR_RETURN(dev, ReadEntityTrainingData(dev_path, dev_format, dev_opt, nullptr));
  }
  TrainedTagger out;
  const std::string name = s.name.empty() ? default_name : s.name;
  extract::TaggerTrainOptions opt;
  opt.name = name;  // same name as the file: the tagger's version id is the model's
  if (s.epochs > 0) opt.epochs = s.epochs;
  if (s.max_epochs > 0) opt.max_epochs = s.max_epochs;
  if (s.seed != 0) opt.seed = s.seed;
  opt.min_feature_count = s.min_feature_count;
  if (s.doc_window >= 0) {
    opt.doc_window = s.doc_window;
  } else if (MostlyShortDocuments(doc_sentences)) {
    opt.doc_window = 0;
    out.one_pass_by_default = true;
  }
  // The word lists are read here, not in the library: a missing file is an error, never a
  // quietly different model.
  std::vector<extract::WordList> word_lists;
  if (!s.no_gazetteer) {
    LOTE_ASSIGN_OR_RETURN(word_lists, ReadDebianWordLists(s.word_lists_root));
  }
  opt.word_lists = word_lists;
  LOTE_ASSIGN_OR_RETURN(const std::string created_at, ModelTimestamp());
  auto tagger = extract::EntityTagger::Train(train, dev, opt, &out.report);
  if (!tagger.ok()) {
    return Status(tagger.status().code(), train_path + ": " + tagger.status().message());
  }

  Json part = Json::parse(tagger->meta_json(), nullptr, /*allow_exceptions=*/false);
  if (!part.is_object()) part = Json::object();
  LOTE_ASSIGN_OR_RETURN(std::string train_sha, FileSha256(train_path));
  part["train_file"] =
      !train_source.empty() ? train_source : std::filesystem::path(train_path).filename().string();
  part["train_sha256"] = train_sha;
  part["format"] = std::string(io::FormatName(format));
  if (!data_opt.types.empty()) part["types_kept"] = data_opt.types;
  if (!dev_path.empty()) {
    LOTE_ASSIGN_OR_RETURN(std::string dev_sha, FileSha256(dev_path));
    part["dev_file"] =
        !dev_source.empty() ? dev_source : std::filesystem::path(dev_path).filename().string();
    part["dev_sha256"] = dev_sha;
  }
  if (part.contains("training") && part["training"].contains("gazetteer")) {
    const auto& g = part["training"]["gazetteer"];
    out.gazetteer_words = g.value("words", size_t{0});
    out.gazetteer_lists = g.contains("sources") ? g["sources"].size() : 0;
  }
  Json parts;
  parts["tagger"] = part;

  model::ModelFile file = tagger->ToModelFile();
  file.sections.erase("meta");  // the tagger's meta goes into parts.tagger
  const std::optional<monitoring::Profile> profile =
      monitoring::BuildTaggerReferenceProfile(out.report);
  if (profile) file.sections[std::string(monitoring::kTaggerProfileSection)] = profile->ToJson();
  out.has_profile = profile.has_value();
  out.bytes = bundle::FinishModelFile(&file, name, created_at, parts.dump(), &out.version_id);
  out.entity_types = tagger->entity_types().size();
  if (out.report.dev_sentences > 0) out.metrics = {{"validation:entity_f1", out.report.dev_f1}};
  return out;
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

// A temporary folder, removed with what it holds.
class TempFolder {
 public:
  TempFolder() = default;
  TempFolder(const TempFolder&) = delete;
  TempFolder& operator=(const TempFolder&) = delete;
  ~TempFolder() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  Status Create() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "lote-channel-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) {
      return UnavailableError("cannot create a temporary folder: " +
                              std::string(std::strerror(errno)));
    }
    path_ = tmpl;
    return Status::Ok();
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Where a tagger's channel data is: the channel's folder when it holds BRAT's .ann files, its one
// file, or its files joined in order into TMP/CHANNEL.EXT (EXT the first file's; CoNLL files an
// empty line apart, so that one file's last sentence does not run into the next one's first).
// The joined file's name is the same on every run, as the model's provenance records it.
Result<std::string> TaggerChannelData(const TrainingChannel& c, const std::string& dir,
                                      const std::string& format, TempFolder* tmp) {
  bool brat = format == "brat";
  for (const std::string& f : c.files) brat = brat || f.ends_with(".ann");
  if (brat) return dir;
  if (c.files.size() == 1) return c.files[0];
  LOTE_RETURN_IF_ERROR(tmp->Create());
  const std::string joined =
      tmp->path() + "/" + c.name + std::filesystem::path(c.files[0]).extension().string();
  LOTE_ASSIGN_OR_RETURN(io::Format f, ResolveFormat(c.files[0], format));
  std::string data;
  for (const std::string& path : c.files) {
    LOTE_ASSIGN_OR_RETURN(std::string bytes, io::ReadFileToString(path));
    data += bytes;
    if (!data.empty() && data.back() != '\n') data.push_back('\n');
    if (f == io::Format::kConll) data.push_back('\n');
  }
  LOTE_RETURN_IF_ERROR(WriteFileAtomic(joined, data));
  return joined;
}

// task=extract in the container: the tagger from the channels' files.
Status TrainTaggerInContainer(const std::string& root, const Json& hp, const TrainingChannel& train,
                              const TrainingChannel& validation) {
  TaggerSettings s;
  LOTE_RETURN_IF_ERROR(ApplyTaggerHyperParameters(hp, &s));
  if (s.format.empty() && (train.content_type == "application/jsonlines" ||
                           train.content_type == "application/x-jsonlines")) {
    s.format = "jsonl";
  }
  TempFolder train_tmp, dev_tmp;
  LOTE_ASSIGN_OR_RETURN(
      std::string train_path,
      TaggerChannelData(train, root + "/input/data/" + train.name, s.format, &train_tmp));
  std::string dev_path;
  if (!validation.files.empty()) {
    LOTE_ASSIGN_OR_RETURN(
        dev_path,
        TaggerChannelData(validation, root + "/input/data/" + validation.name, s.format, &dev_tmp));
  }
  const std::string job = EnvOr("TRAINING_JOB_NAME", "lote-training");
  LOTE_ASSIGN_OR_RETURN(TrainedTagger model, TrainTaggerJob(s, train_path, dev_path, job));
  std::error_code ec;
  std::filesystem::create_directories(root + "/model", ec);
  LOTE_RETURN_IF_ERROR(WriteFileAtomic(root + "/model/model.lote", model.bytes));
  std::printf("trained %s: %zu entity types, %zu sentences (%zu validation), %zu features\n",
              model.version_id.c_str(), model.entity_types, model.report.train_sentences,
              model.report.dev_sentences, model.report.features);
  for (const auto& [name, value] : model.metrics) std::printf("%s=%.6f\n", name.c_str(), value);
  std::fflush(stdout);
  return Status::Ok();
}

Status TrainInContainer(const std::string& root) {
  LOTE_ASSIGN_OR_RETURN(Json all,
                        ReadConfig(root + "/input/config/hyperparameters.json", Json::object()));
  Json hp;
  LOTE_ASSIGN_OR_RETURN(const std::string task, TrainingTask(all, &hp));
  TrainSettings t;
  if (task == "classify") LOTE_RETURN_IF_ERROR(ApplyHyperParameters(hp, &t));
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
  if (task == "extract") return TrainTaggerInContainer(root, hp, train, validation);
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
