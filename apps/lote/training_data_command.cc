// `lote training-data --output OUT --to URI [--base FILE] [--since TS]
// [--registry R --name NAME [--alias A]]`: a training file of the base data plus the late labels
// of a pipeline output joined back to their texts (retrain.h, lote/pipeline/training_data.h).
// With --name, the alias's version (the champion) says where the last retraining stopped: its
// training file is the base and only labels newer than those it learned from are added, unless
// --base or --since say otherwise.
#include <cstdio>

#include "command.h"
#include "common.h"
#include "flags.h"
#include "pipeline_config.h"
#include "retrain.h"

namespace lote::cli {
namespace {

struct TrainingDataFlags {
  PipelineFlags pipeline;
  TrainingDataRequest request;
  std::string name, alias = "champion";
  bool since_given = false, json = false;
};

int RunTrainingData(TrainingDataFlags& f) {
  TrainingDataRequest& r = f.request;
  const FlagSet set{.prep = true};
  if (int code = ResolveRunConfig(f.pipeline, set, &r.config); code != kExitOk) return code;
  r.output = r.config.output;
  if (!f.name.empty()) {
    auto uri = RegistryUri(f.pipeline.registry.empty() ? r.config.registry : f.pipeline.registry);
    if (!uri.ok()) return Fail(uri.status());
    auto reg = registry::Registry::Open(*uri);
    if (!reg.ok()) return Fail(reg.status());
    auto champion = ChampionForRetraining(*reg, f.name, f.alias);
    if (!champion.ok()) return Fail(champion.status());
    if (r.base.empty()) r.base = (*champion)["trainingData"].get<std::string>();
    if (!f.since_given) r.since = (*champion)["feedbackThrough"].get<std::string>();
  }
  auto result = WriteTrainingData(r);
  if (!result.ok()) return Fail(result.status());
  const RetrainJson& j = *result;
  if (f.json) {
    std::printf("%s\n", j.dump().c_str());
    return kExitOk;
  }
  const RetrainJson& fb = j["feedback"];
  std::printf(
      "training data %s: %llu rows (%llu base, %llu from late labels through %s)\n"
      "  late labels: %llu labelled, %llu unmatched, %llu raw object gone, %llu raw object "
      "changed, %llu record not found, %llu text changed; %llu objects read\n",
      text::EscapeControl(j["train"].get<std::string>()).c_str(),
      static_cast<unsigned long long>(j["rows"].get<uint64_t>()),
      static_cast<unsigned long long>(j["baseRows"].get<uint64_t>()),
      static_cast<unsigned long long>(j["feedbackRows"].get<uint64_t>()),
      j["feedbackThrough"].get<std::string>().empty()
          ? "-"
          : text::EscapeControl(j["feedbackThrough"].get<std::string>()).c_str(),
      static_cast<unsigned long long>(fb["labelled"].get<uint64_t>()),
      static_cast<unsigned long long>(fb["unmatched"].get<uint64_t>()),
      static_cast<unsigned long long>(fb["objectMissing"].get<uint64_t>()),
      static_cast<unsigned long long>(fb["objectChanged"].get<uint64_t>()),
      static_cast<unsigned long long>(fb["recordMissing"].get<uint64_t>()),
      static_cast<unsigned long long>(fb["textChanged"].get<uint64_t>()),
      static_cast<unsigned long long>(fb["objectsRead"].get<uint64_t>()));
  return kExitOk;
}

void SetupTrainingData(CLI::App& root, int* exit_code) {
  auto* cmd = root.add_subcommand(
      "training-data",
      "Write a training file: base data plus the late labels of an output, joined back to their "
      "texts in the raw data");
  auto f = std::make_shared<TrainingDataFlags>();
  cmd->add_option("--output", f->pipeline.output,
                  "The pipeline output whose late labels (lote feedback) are used");
  cmd->add_option("--config", f->pipeline.config,
                  "The pipeline's YAML config (prep, fields and PII key of its runs)");
  cmd->add_option("--catalog", f->pipeline.catalog, "SQLite catalog (as lote run's --catalog)");
  cmd->add_option("--pii-key-file", f->pipeline.pii_key_file,
                  "The runs' PII key, to check the texts read again against their fingerprints "
                  "(default: the LOTE_PII_KEY environment variable)");
  cmd->add_option("--to", f->request.destination,
                  "Where to write the training file (JSON lines text, label; a path or URI)")
      ->required();
  cmd->add_option("--base", f->request.base,
                  "Labelled base data first in the file (csv or jsonl; default with --name: the "
                  "champion's training file)");
  cmd->add_option("--base-format", f->request.base_format, "csv | jsonl (default: extension)");
  cmd->add_option("--text-field", f->request.text_field, "The base data's text column/field")
      ->capture_default_str();
  cmd->add_option("--label-field", f->request.label_field, "The base data's label column/field")
      ->capture_default_str();
  cmd->add_option("--since", f->request.since,
                  "Only labels received after this time (as feedback's received_at)")
      ->each([f](const std::string&) { f->since_given = true; });
  cmd->add_option("--registry", f->pipeline.registry, "Registry URI (default $LOTE_REGISTRY)");
  cmd->add_option("--name", f->name,
                  "Registered model: its champion's training file and newest label decide "
                  "--base and --since");
  cmd->add_option("--alias", f->alias, "The alias of the version retrained")->capture_default_str();
  cmd->add_flag("--json", f->json, "The summary as JSON");
  cmd->callback([f, exit_code] { *exit_code = RunTrainingData(*f); });
}

}  // namespace
LOTE_REGISTER_COMMAND(64, SetupTrainingData);
}  // namespace lote::cli
