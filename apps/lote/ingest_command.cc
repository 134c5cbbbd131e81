// `lote ingest`: snapshots new input objects (and new versions of changed ones) into the output's
// hand-over area, skipping objects already published. One of the pipeline's four stages
// run on its own (an orchestrator's step); `lote run` chains all four in one pass. Stages hand
// over through OUTPUT/_stages/ (see lote/pipeline/stages.h and docs/pipeline.md); rerunning a
// stage skips what it already did.
#include "command.h"
#include "common.h"
#include "pipeline_config.h"

namespace lote::cli {
namespace {

constexpr FlagSet kIngestFlags{.input = true, .model = false};

void SetupIngest(CLI::App& root, int* exit_code) {
  auto* cmd = root.add_subcommand("ingest",
                                  "Stage 1: snapshot new input objects into OUTPUT/_stages/ingest");
  auto f = std::make_shared<PipelineFlags>();
  AddPipelineFlags(cmd, kIngestFlags, f.get());
  cmd->callback(
      [f, exit_code] { *exit_code = RunStageCommand(pipeline::Stage::kIngest, *f, kIngestFlags); });
}

}  // namespace
LOTE_REGISTER_COMMAND(51, SetupIngest);
}  // namespace lote::cli
