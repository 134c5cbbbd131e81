// `lote infer`: classifies and extracts from the prepared records with all cores, in bounded
// memory; the PII policy applies to everything it writes. One of the pipeline's four stages
// run on its own (an orchestrator's step); `lote run` chains all four in one pass. Stages hand
// over through OUTPUT/_stages/ (see lote/pipeline/stages.h and docs/pipeline.md); rerunning a
// stage skips what it already did.
#include "command.h"
#include "common.h"
#include "pipeline_config.h"

namespace lote::cli {
namespace {

constexpr FlagSet kInferFlags{.input = false, .model = true};

void SetupInfer(CLI::App& root, int* exit_code) {
  auto* cmd = root.add_subcommand(
      "infer", "Stage 3: classify and extract prepared records into OUTPUT/_stages/infer");
  auto f = std::make_shared<PipelineFlags>();
  AddPipelineFlags(cmd, kInferFlags, f.get());
  cmd->callback(
      [f, exit_code] { *exit_code = RunStageCommand(pipeline::Stage::kInfer, *f, kInferFlags); });
}

}  // namespace
LOTE_REGISTER_COMMAND(53, SetupInfer);
}  // namespace lote::cli
