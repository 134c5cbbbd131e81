// `lote publish`: the last of the pipeline's four stages run on its own: dedups the records the
// infer stage handed over, writes results/ and quarantine/ parts, commits them in the ledger and
// catalog, writes the run manifest and checks the reconciliation, exactly as `lote run` does.
// Rerunning it after a crash completes the same run. Give it the same --config as prep (the
// preprocess version must match).
#include "command.h"
#include "common.h"
#include "job_metrics.h"
#include "lote/base/clock.h"
#include "lote/monitoring/job_metrics.h"
#include "lote/pipeline/transform.h"
#include "pipeline_config.h"

namespace lote::cli {
namespace {

constexpr FlagSet kPublishFlags{.input = false, .model = false};

int Publish(const PipelineFlags& f, const std::string& transform_output) {
  RunConfig c;
  if (int code = ResolveRunConfig(f, kPublishFlags, &c); code != kExitOk) return code;
  JobMetrics metrics(f.metrics, "publish");
  const int64_t start = SystemClock()->MonotonicNanos();
  PipelineConsole console(&c);
  if (!transform_output.empty()) {
    auto imported = pipeline::ImportTransformOutput(c.pipeline, transform_output);
    if (!imported.ok()) {
      console.Finish();
      return FinishFailedJob(&metrics, start, Fail(imported.status()));
    }
    PrintStageSummary(*imported, console.json());
  }
  auto report = pipeline::PublishStaged(c.pipeline);
  console.Finish();
  if (!report.ok()) return FinishFailedJob(&metrics, start, Fail(report.status()));
  PrintRunSummary(*report, console.json());
  if (MetricsSink* sink = metrics.sink()) {
    monitoring::ReportRunMetrics(*report, SystemClock()->NowMicros(), sink);
    metrics.Finish(true);
  }
  return RunExitCode(c, *report);
}

void SetupPublish(CLI::App& root, int* exit_code) {
  auto* cmd = root.add_subcommand(
      "publish", "Stage 4: publish inferred records as results, quarantine, manifest, catalog");
  auto f = std::make_shared<PipelineFlags>();
  AddPipelineFlags(cmd, kPublishFlags, f.get());
  cmd->add_flag("--strict", f->strict, "Exit 4 when any record was quarantined");
  auto transform_output = std::make_shared<std::string>();
  cmd->add_option("--transform-output", *transform_output,
                  "First import a Batch Transform's answers to prep parts from this prefix (the "
                  "job's S3OutputPath; docs/adr/0015) as the infer stage's files");
  cmd->callback([f, transform_output, exit_code] { *exit_code = Publish(*f, *transform_output); });
}

}  // namespace
LOTE_REGISTER_COMMAND(54, SetupPublish);
}  // namespace lote::cli
