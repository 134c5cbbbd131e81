// `lote train extract`: trains the entity tagger from CoNLL files, BRAT folders or entity JSONL
// and writes a lote model file (the tagger's sections plus the bundle "meta" with parts
// {"tagger": ...}).
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>

#include "command.h"
#include "common.h"
#include "eval_extract.h"
#include "lote/bundle/model.h"
#include "lote/extract/tagger.h"
#include "lote/monitoring/reference_profile.h"
#include "word_lists.h"

namespace lote::cli {
namespace {

struct TrainExtractFlags {
  std::string train, dev, format, name, out, encoding = "utf8";
  std::string text_field = "text", entities_field = "entities", types;
  int epochs = 0;      // 0: the library default
  int max_epochs = 0;  // 0: the library default
  uint64_t seed = 0;   // 0: the library default
  int min_feature_count = 1;
  int doc_window = -1;  // -1: the library default
  bool no_gazetteer = false;
  std::string word_lists_root = "/";
};

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

Status RunTrainExtract(const TrainExtractFlags& f) {
  LOTE_ASSIGN_OR_RETURN(io::Format format, ResolveFormat(f.train, f.format));
  EntityDataOptions data_opt;
  data_opt.encoding = f.encoding == "latin1" ? io::TextEncoding::kLatin1 : io::TextEncoding::kUtf8;
  data_opt.jsonl.text_field = f.text_field;
  data_opt.jsonl.entities_field = f.entities_field;
  LOTE_ASSIGN_OR_RETURN(data_opt.types, ParseTypeList(f.types, "--types"));
  std::vector<size_t> doc_sentences;
  LOTE_ASSIGN_OR_RETURN(auto train,
                        ReadEntityTrainingData(f.train, format, data_opt, &doc_sentences));
  std::vector<extract::TaggedSequence> dev;
  if (!f.dev.empty()) {
    LOTE_ASSIGN_OR_RETURN(io::Format dev_format, ResolveFormat(f.dev, f.format));
    EntityDataOptions dev_opt = data_opt;
    dev_opt.require_types = false;  // a small dev split may lack a rare type
    LOTE_ASSIGN_OR_RETURN(dev, ReadEntityTrainingData(f.dev, dev_format, dev_opt, nullptr));
  }
  const std::string name = f.name.empty() ? std::filesystem::path(f.out).stem().string() : f.name;
  extract::TaggerTrainOptions opt;
  opt.name = name;  // same name as the file: the tagger's version id is the model's
  if (f.epochs > 0) opt.epochs = f.epochs;
  if (f.max_epochs > 0) opt.max_epochs = f.max_epochs;
  if (f.seed != 0) opt.seed = f.seed;
  opt.min_feature_count = f.min_feature_count;
  if (f.doc_window >= 0) {
    opt.doc_window = f.doc_window;
  } else if (MostlyShortDocuments(doc_sentences)) {
    opt.doc_window = 0;
    std::fprintf(stderr,
                 "one-pass model: most training sentences are in documents shorter than 20 "
                 "sentences, where the second pass does not run (--doc-window N to force it)\n");
  }
  // The word lists are read here, not in the library: a missing file is an error, never a
  // quietly different model.
  std::vector<extract::WordList> word_lists;
  if (!f.no_gazetteer) {
    LOTE_ASSIGN_OR_RETURN(word_lists, ReadDebianWordLists(f.word_lists_root));
  }
  opt.word_lists = word_lists;
  LOTE_ASSIGN_OR_RETURN(const std::string created_at, ModelTimestamp());
  extract::TaggerTrainReport rep;
  auto tagger = extract::EntityTagger::Train(train, dev, opt, &rep);
  if (!tagger.ok()) {
    return Status(tagger.status().code(), f.train + ": " + tagger.status().message());
  }

  nlohmann::ordered_json part =
      nlohmann::ordered_json::parse(tagger->meta_json(), nullptr, /*allow_exceptions=*/false);
  if (!part.is_object()) part = nlohmann::ordered_json::object();
  LOTE_ASSIGN_OR_RETURN(std::string train_sha, FileSha256(f.train));
  part["train_file"] = std::filesystem::path(f.train).filename().string();
  part["train_sha256"] = train_sha;
  part["format"] = std::string(io::FormatName(format));
  if (!data_opt.types.empty()) part["types_kept"] = data_opt.types;
  if (!f.dev.empty()) {
    LOTE_ASSIGN_OR_RETURN(std::string dev_sha, FileSha256(f.dev));
    part["dev_file"] = std::filesystem::path(f.dev).filename().string();
    part["dev_sha256"] = dev_sha;
  }
  nlohmann::ordered_json parts;
  parts["tagger"] = part;

  model::ModelFile file = tagger->ToModelFile();
  file.sections.erase("meta");  // the tagger's meta goes into parts.tagger
  const std::optional<monitoring::Profile> profile = monitoring::BuildTaggerReferenceProfile(rep);
  if (profile) file.sections[std::string(monitoring::kTaggerProfileSection)] = profile->ToJson();
  std::string version_id;
  const std::string bytes =
      bundle::FinishModelFile(&file, name, created_at, parts.dump(), &version_id);
  LOTE_RETURN_IF_ERROR(WriteFileAtomic(f.out, bytes));

  std::fprintf(stderr,
               "trained %s: %zu entity types, %zu sentences, %zu tokens, %zu features, "
               "%d epochs, %.1f s\n",
               version_id.c_str(), tagger->entity_types().size(), rep.train_sentences,
               rep.train_tokens, rep.features, rep.epochs, rep.seconds);
  if (rep.dev_sentences > 0) {
    std::fprintf(stderr, "dev: %zu sentences, entity F1 %.4f\n", rep.dev_sentences, rep.dev_f1);
  }
  std::fprintf(stderr, "reference profile for monitoring: %s\n",
               profile ? "entity rates of the dev sentences, as the selection model tagged them"
                       : "none (trained without --dev: runs report no sentence_entity_rate)");
  if (part.contains("training") && part["training"].contains("gazetteer")) {
    const auto& g = part["training"]["gazetteer"];
    std::fprintf(stderr, "gazetteer: %zu words from %zu word lists\n", g.value("words", size_t{0}),
                 g.contains("sources") ? g["sources"].size() : size_t{0});
  }
  std::fprintf(stderr, "wrote %s (%zu bytes)\n", f.out.c_str(), bytes.size());
  return Status::Ok();
}

void SetupTrainExtract(CLI::App& root, int* exit_code) {
  // "train" is created by train_command.cc (order 10); this runs after it.
  auto* train = root.get_subcommand("train");
  auto* cmd =
      train->add_subcommand("extract", "Train an entity tagger from CoNLL, BRAT or entity JSONL");
  auto f = std::make_shared<TrainExtractFlags>();
  cmd->add_option("--train", f->train, "Training data (CoNLL file, BRAT folder, entity JSONL)")
      ->required();
  cmd->add_option("--dev", f->dev, "Development data: picks the epoch with the best entity F1");
  cmd->add_option("--format", f->format, "conll | brat | jsonl (default: from extension / folder)");
  cmd->add_option("--text-field", f->text_field, "JSONL: text field")->capture_default_str();
  cmd->add_option("--entities-field", f->entities_field,
                  "JSONL: entity list field ({type,start,end} objects or [start,end,TYPE])")
      ->capture_default_str();
  cmd->add_option("--types", f->types,
                  "Comma-separated entity types to learn; others are read as O (default: all)");
  cmd->add_option("--name", f->name, "Model name (default: the output file's stem)");
  cmd->add_option("--out", f->out, "Model file to write")->required();
  cmd->add_option("--encoding", f->encoding, "CoNLL file encoding: utf8 | latin1")
      ->check(CLI::IsMember({"utf8", "latin1"}))
      ->capture_default_str();
  cmd->add_option("--epochs", f->epochs, "Epochs without --dev (0: default 12)");
  cmd->add_option("--max-epochs", f->max_epochs, "Most epochs with --dev (0: default 20)");
  cmd->add_option("--seed", f->seed, "Shuffling seed (0: the built-in default)");
  cmd->add_option("--min-feature-count", f->min_feature_count, "Drop features seen fewer times")
      ->capture_default_str();
  cmd->add_option("--doc-window", f->doc_window,
                  "Sentences on each side the second pass looks at (0: one-pass model; "
                  "default 40)")
      ->check(CLI::Range(0, 1000));
  cmd->add_flag("--no-gazetteer", f->no_gazetteer,
                "Train without the word lists of Debian's hunspell-es, iso-codes and "
                "python3-fake-factory (by default they are read, and a missing file is an "
                "error)");
  cmd->add_option("--word-lists-root", f->word_lists_root,
                  "Read the word lists under this folder, in their Debian layout "
                  "(DIR/usr/share/hunspell/es_ES.dic, ...): copies of the files give the same "
                  "model on a machine without the packages")
      ->capture_default_str();
  cmd->callback([f, exit_code] {
    Status s = RunTrainExtract(*f);
    FlushWarnings();
    *exit_code = s.ok() ? kExitOk : Fail(s);
  });
}

}  // namespace
LOTE_REGISTER_COMMAND(11, SetupTrainExtract);
}  // namespace lote::cli
