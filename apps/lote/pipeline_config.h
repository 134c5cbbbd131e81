// `lote run` configuration: a YAML file (config/pipeline.yaml documents every key) and flags,
// turned into pipeline::PipelineOptions + pipeline::EngineOptions. Only the CLI reads YAML.
#ifndef LOTE_APPS_LOTE_PIPELINE_CONFIG_H_
#define LOTE_APPS_LOTE_PIPELINE_CONFIG_H_

#include <CLI/CLI.hpp>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "lote/base/status.h"
#include "lote/pipeline/inference.h"
#include "lote/pipeline/pipeline.h"
#include "lote/pipeline/stages.h"
#include "lote/storage/s3_storage.h"

namespace lote::cli {

struct RunConfig {
  std::string input, output, model, catalog;
  std::string shadow;               // --shadow MODEL: a challenger scoring beside the model
  std::string registry;             // where models:/ URIs resolve (default $LOTE_REGISTRY)
  std::string log_format = "text";  // text | json
  std::string pii_key_file;
  bool strict = false;
  pipeline::PipelineOptions pipeline;
  pipeline::EngineOptions engine;
  // storage.s3.* from the config; when set, s3:// URIs use these options (else the environment's).
  std::optional<storage::S3StorageOptions> s3;
};

// Applies the YAML file at `path` onto *config. InvalidArgument naming the file and line for
// unknown keys, wrong types or bad values.
Status LoadRunConfig(const std::string& path, RunConfig* config);

// From now on, s3:// URIs of this process use `options` (storage.s3.* of a config file) instead
// of the environment's settings.
void UseS3Options(const storage::S3StorageOptions& options);

// The flags `lote run` and the stage subcommands share; unset values leave the config's.
struct PipelineFlags {
  std::string config, input, output, model, catalog, log_format, pii_mode, pii_types, pii_key_file;
  std::string shadow;  // --shadow (commands that score: run, infer)
  std::string registry;
  std::string reference_date;
  std::vector<std::string> metrics;  // --metrics SPEC (job_metrics.h)
  int threads = 0;
  size_t max_record_bytes = 0;  // 0: unset
  bool force = false, strict = false, follow_symlinks = false;
  double lock_wait = -1;
};

// Which flags a subcommand takes (and requires).
struct FlagSet {
  bool input = false;  // --input (required), --max-record-bytes, --follow-symlinks
  bool model = false;  // --model, --pii-*, --reference-date, --threads (required: --model)
  bool prep = false;   // --pii-key-file (the prep stage computes keyed fingerprints)
};
void AddPipelineFlags(CLI::App* cmd, const FlagSet& set, PipelineFlags* flags);

// YAML (if --config) then flags into *config. Returns kExitOk, or the exit code after printing
// the problem (kExitUsage for bad config or flags, kExitInput for an unreadable key file).
int ResolveRunConfig(const PipelineFlags& flags, const FlagSet& set, RunConfig* config);

// Loads --model with the engine options (PII policy included). Errors as LoadInferenceEngine.
Result<std::shared_ptr<const pipeline::InferenceEngine>> LoadEngine(const RunConfig& config);

// Loads config.shadow with config's engine options. InvalidArgument when it is `champion`
// itself; load errors as LoadEngine.
Result<std::shared_ptr<const pipeline::InferenceEngine>> LoadShadowEngine(
    const RunConfig& config, const pipeline::InferenceEngine& champion);

// Loads --model, and --shadow (with the same engine options: PII policy, reference date) into
// config->pipeline.shadow. Returns kExitOk with *engine set, or the exit code after printing the
// problem (kExitUsage when the shadow model is the model itself).
int LoadEngines(RunConfig* config, std::shared_ptr<const pipeline::InferenceEngine>* engine);

// Installs log and progress callbacks on config->pipeline: JSON lines on stderr with
// --log-format json; else a progress bar on a terminal, a plain line every 10 s otherwise.
// The console must outlive the pipeline call; Finish() clears the bar.
class PipelineConsole {
 public:
  explicit PipelineConsole(RunConfig* config);
  void Finish();
  bool json() const { return json_; }

 private:
  bool json_ = false, tty_ = false;
  std::mutex mu_;
  int64_t last_plain_ = 0;  // monotonic nanoseconds of the last plain progress line
};

// Prints the run summary (counts, throughput, per-stage seconds, top labels, quarantine
// reasons) to stdout: human text, or one JSON object.
void PrintRunSummary(const pipeline::RunReport& report, bool json);
// "monitoring: drift (label drift); estimated accuracy 0.912 [0.890, 0.934]; URI"
void PrintMonitoringLine(const monitoring::MonitoringReport& report, std::string_view uri);

// Prints what one of ingest/prep/infer did (one line of text, or one JSON object).
void PrintStageSummary(const pipeline::StageReport& report, bool json);

// Runs stage ingest, prep or infer from flags, with the console and summary: the body of the
// `lote ingest|prep|infer` subcommands. Returns the exit code.
int RunStageCommand(pipeline::Stage stage, const PipelineFlags& flags, const FlagSet& set);

class JobMetrics;
// Records a job that failed after starting at `start_nanos` (monotonic) in `metrics` and sends
// them (warnings only). Returns `exit_code`.
int FinishFailedJob(JobMetrics* metrics, int64_t start_nanos, int exit_code);

// Exit code of a finished run: kExitPartial with --strict and quarantined records, else 0.
int RunExitCode(const RunConfig& config, const pipeline::RunReport& report);

}  // namespace lote::cli

#endif  // LOTE_APPS_LOTE_PIPELINE_CONFIG_H_
