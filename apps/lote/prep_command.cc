// `lote prep`: parses the ingested snapshots and cleans every record (UTF-8, HTML, control
// characters, whitespace, language, length policy); bad records get their quarantine reason. One of
// the pipeline's four stages run on its own (an orchestrator's step); `lote run` chains all four in
// one pass. Stages hand over through OUTPUT/_stages/ (see lote/pipeline/stages.h and
// docs/pipeline.md); rerunning a stage skips what it already did.
#include "command.h"
#include "common.h"
#include "pipeline_config.h"

namespace lote::cli {
namespace {

constexpr FlagSet kPrepFlags{.input = false, .model = false, .prep = true};

void SetupPrep(CLI::App& root, int* exit_code) {
  auto* cmd = root.add_subcommand(
      "prep", "Stage 2: parse and clean ingested objects into OUTPUT/_stages/prep");
  auto f = std::make_shared<PipelineFlags>();
  AddPipelineFlags(cmd, kPrepFlags, f.get());
  cmd->callback(
      [f, exit_code] { *exit_code = RunStageCommand(pipeline::Stage::kPrep, *f, kPrepFlags); });
}

}  // namespace
LOTE_REGISTER_COMMAND(52, SetupPrep);
}  // namespace lote::cli
