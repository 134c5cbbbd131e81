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

struct RunFlags {
  PipelineFlags pipeline;
  std::string shadow;  // --shadow MODEL
};

int Run(const RunFlags& rf) {
  const PipelineFlags& f = rf.pipeline;
  RunConfig c;
  if (int code = ResolveRunConfig(f, kRunFlags, &c); code != kExitOk) return code;
  JobMetrics metrics(f.metrics, "run");
  const int64_t start = SystemClock()->MonotonicNanos();
  auto engine = LoadEngine(c);
  if (!engine.ok()) return FinishFailedJob(&metrics, start, Fail(engine.status()));
  if (!rf.shadow.empty()) {
    // The challenger runs with the champion's options (PII policy, reference date).
    RunConfig sc = c;
    sc.model = rf.shadow;
    auto shadow = LoadEngine(sc);
    if (!shadow.ok()) return FinishFailedJob(&metrics, start, Fail(shadow.status()));
    if ((*shadow)->model_version() == (*engine)->model_version()) {
      return FinishFailedJob(&metrics, start,
                             FailUsage("--shadow: the shadow model is the model itself (" +
                                       (*engine)->model_version() + ")"));
    }
    c.pipeline.shadow = *shadow;
  }
  PipelineConsole console(&c);
  auto report = pipeline::RunPipeline(c.pipeline, *engine);
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
  auto f = std::make_shared<RunFlags>();
  AddPipelineFlags(cmd, kRunFlags, &f->pipeline);
  cmd->add_flag("--strict", f->pipeline.strict, "Exit 4 when any record was quarantined");
  cmd->add_option("--shadow", f->shadow,
                  "Also score every record with this model (a file or models:/NAME@challenger): "
                  "its predictions go to OUTPUT/shadow/, its agreement with --model into the "
                  "monitoring report");
  cmd->callback([f, exit_code] { *exit_code = Run(*f); });
}

}  // namespace
LOTE_REGISTER_COMMAND(50, SetupRun);
}  // namespace lote::cli
