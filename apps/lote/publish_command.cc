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
#include "pipeline_config.h"

namespace lote::cli {
namespace {

constexpr FlagSet kPublishFlags{.input = false, .model = false};

int Publish(const PipelineFlags& f) {
  RunConfig c;
  if (int code = ResolveRunConfig(f, kPublishFlags, &c); code != kExitOk) return code;
  JobMetrics metrics(f.metrics, "publish");
  const int64_t start = SystemClock()->MonotonicNanos();
  PipelineConsole console(&c);
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
  cmd->callback([f, exit_code] { *exit_code = Publish(*f); });
}

}  // namespace
LOTE_REGISTER_COMMAND(54, SetupPublish);
}  // namespace lote::cli
