// `lote train extract`: trains the entity tagger from CoNLL files, BRAT folders or entity JSONL
// and writes a lote model file (the tagger's sections plus the bundle "meta" with parts
// {"tagger": ...}).
#include <cstdio>
#include <filesystem>

#include "command.h"
#include "common.h"
#include "train_job.h"

namespace lote::cli {
namespace {

struct TrainExtractFlags {
  TaggerSettings s;
  std::string train, dev, out;
};

Status RunTrainExtract(const TrainExtractFlags& f) {
  LOTE_ASSIGN_OR_RETURN(
      TrainedTagger t,
      TrainTaggerJob(f.s, f.train, f.dev, std::filesystem::path(f.out).stem().string()));
  if (t.one_pass_by_default) {
    std::fprintf(stderr,
                 "one-pass model: most training sentences are in documents shorter than 20 "
                 "sentences, where the second pass does not run (--doc-window N to force it)\n");
  }
  LOTE_RETURN_IF_ERROR(WriteFileAtomic(f.out, t.bytes));
  const extract::TaggerTrainReport& rep = t.report;
  std::fprintf(stderr,
               "trained %s: %zu entity types, %zu sentences, %zu tokens, %zu features, "
               "%d epochs, %.1f s\n",
               t.version_id.c_str(), t.entity_types, rep.train_sentences, rep.train_tokens,
               rep.features, rep.epochs, rep.seconds);
  if (rep.dev_sentences > 0) {
    std::fprintf(stderr, "dev: %zu sentences, entity F1 %.4f\n", rep.dev_sentences, rep.dev_f1);
  }
  std::fprintf(stderr, "reference profile for monitoring: %s\n",
               t.has_profile
                   ? "entity rates of the dev sentences, as the selection model tagged them"
                   : "none (trained without --dev: runs report no sentence_entity_rate)");
  if (t.gazetteer_lists > 0) {
    std::fprintf(stderr, "gazetteer: %zu words from %zu word lists\n", t.gazetteer_words,
                 t.gazetteer_lists);
  }
  std::fprintf(stderr, "wrote %s (%zu bytes)\n", f.out.c_str(), t.bytes.size());
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
  cmd->add_option("--format", f->s.format,
                  "conll | brat | jsonl (default: from extension / folder)");
  cmd->add_option("--text-field", f->s.text_field, "JSONL: text field")->capture_default_str();
  cmd->add_option("--entities-field", f->s.entities_field,
                  "JSONL: entity list field ({type,start,end} objects or [start,end,TYPE])")
      ->capture_default_str();
  cmd->add_option("--types", f->s.types,
                  "Comma-separated entity types to learn; others are read as O (default: all)");
  cmd->add_option("--name", f->s.name, "Model name (default: the output file's stem)");
  cmd->add_option("--out", f->out, "Model file to write")->required();
  cmd->add_option("--encoding", f->s.encoding, "CoNLL file encoding: utf8 | latin1")
      ->check(CLI::IsMember({"utf8", "latin1"}))
      ->capture_default_str();
  cmd->add_option("--epochs", f->s.epochs, "Epochs without --dev (0: default 12)");
  cmd->add_option("--max-epochs", f->s.max_epochs, "Most epochs with --dev (0: default 20)");
  cmd->add_option("--seed", f->s.seed, "Shuffling seed (0: the built-in default)");
  cmd->add_option("--min-feature-count", f->s.min_feature_count, "Drop features seen fewer times")
      ->capture_default_str();
  cmd->add_option("--doc-window", f->s.doc_window,
                  "Sentences on each side the second pass looks at (0: one-pass model; "
                  "default 40)")
      ->check(CLI::Range(0, 1000));
  cmd->add_flag("--no-gazetteer", f->s.no_gazetteer,
                "Train without the word lists of Debian's hunspell-es, iso-codes and "
                "python3-fake-factory (by default they are read, and a missing file is an "
                "error)");
  cmd->add_option("--word-lists-root", f->s.word_lists_root,
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
