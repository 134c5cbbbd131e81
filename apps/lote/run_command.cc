// `lote run`: the batch pipeline from raw files to queryable results (ingest -> prep -> infer
// -> publish streamed in one pass), exactly once, resumable after a crash. Flags override the
// YAML config. The stages also exist one by one (stage_commands.cc) for orchestrators.
#include "command.h"
#include "common.h"
#include "job_metrics.h"
#include "lote/base/clock.h"
#include "lote/monitoring/job_metrics.h"
#include "pipeline_config.h"

namespace lote::cli {
namespace {

constexpr FlagSet kRunFlags{.input = true, .model = true, .prep = true};

int Run(const PipelineFlags& f) {
  RunConfig c;
  if (int code = ResolveRunConfig(f, kRunFlags, &c); code != kExitOk) return code;
  JobMetrics metrics(f.metrics, "run");
  const int64_t start = SystemClock()->MonotonicNanos();
  std::shared_ptr<const pipeline::InferenceEngine> engine;
  if (int code = LoadEngines(&c, &engine); code != kExitOk) {
    return FinishFailedJob(&metrics, start, code);
  }
  PipelineConsole console(&c);
  auto report = pipeline::RunPipeline(c.pipeline, engine);
  console.Finish();
  if (!report.ok()) return FinishFailedJob(&metrics, start, Fail(report.status()));
  PrintRunSummary(*report, console.json());
  if (MetricsSink* sink = metrics.sink()) {
    monitoring::ReportRunMetrics(*report, SystemClock()->NowMicros(), sink);
    metrics.Finish(true);
  }
  return RunExitCode(c, *report);
}

void SetupRun(CLI::App& root, int* exit_code) {
  auto* cmd = root.add_subcommand("run", "Run the batch pipeline: ingest, prep, infer, publish");
  auto f = std::make_shared<PipelineFlags>();
  AddPipelineFlags(cmd, kRunFlags, f.get());
  cmd->add_flag("--strict", f->strict, "Exit 4 when any record was quarantined");
  cmd->callback([f, exit_code] { *exit_code = Run(*f); });
}

}  // namespace
LOTE_REGISTER_COMMAND(50, SetupRun);
}  // namespace lote::cli
