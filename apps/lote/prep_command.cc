// `lote prep`: parses the ingested snapshots and cleans every record (UTF-8, HTML, control
// characters, whitespace, language, length policy); bad records get their quarantine reason. One of
// the pipeline's four stages run on its own (an orchestrator's step); `lote run` chains all four in
// one pass. Stages hand over through OUTPUT/_stages/ (see lote/pipeline/stages.h and
// docs/pipeline.md); rerunning a stage skips what it already did.
#include <cstdio>

#include "command.h"
#include "common.h"
#include "lote/pipeline/transform.h"
#include "lote/text/utf8.h"
#include "pipeline_config.h"

namespace lote::cli {
namespace {

constexpr FlagSet kPrepFlags{.input = false, .model = false, .prep = true};
constexpr FlagSet kIngestFlags{.input = true, .model = false};

void SetupPrep(CLI::App& root, int* exit_code) {
  auto* cmd = root.add_subcommand(
      "prep", "Stage 2: parse and clean ingested objects into OUTPUT/_stages/prep");
  auto f = std::make_shared<PipelineFlags>();
  AddPipelineFlags(cmd, kPrepFlags, f.get());
  cmd->add_option("--input", f->input,
                  "Ingest this input first (as `lote ingest`): one job for both stages, as the "
                  "pipeline's processing step runs them");
  cmd->add_flag("--follow-symlinks", f->follow_symlinks,
                "With --input: read files that are symlinks to somewhere outside the input folder");
  auto manifest = std::make_shared<std::string>();
  cmd->add_option("--transform-manifest", *manifest,
                  "Then write a SageMaker Batch Transform manifest of the prep parts waiting for "
                  "inference here (S3DataType ManifestFile; docs/adr/0015)");
  cmd->callback([f, manifest, exit_code] {
    if (!f->input.empty()) {
      *exit_code = RunStageCommand(pipeline::Stage::kIngest, *f, kIngestFlags);
      if (*exit_code != kExitOk) return;
    }
    *exit_code = RunStageCommand(pipeline::Stage::kPrep, *f, kPrepFlags);
    if (*exit_code != kExitOk || manifest->empty()) return;
    RunConfig c;
    if (int code = ResolveRunConfig(*f, kPrepFlags, &c); code != kExitOk) {
      *exit_code = code;
      return;
    }
    auto m = pipeline::WriteTransformManifest(c.pipeline, *manifest);
    if (!m.ok()) {
      *exit_code = Fail(m.status());
      return;
    }
    std::fprintf(stderr, "prep: transform manifest %s: %llu part(s) of %llu object(s)\n",
                 text::EscapeControl(m->uri).c_str(), static_cast<unsigned long long>(m->parts),
                 static_cast<unsigned long long>(m->objects));
  });
}

}  // namespace
LOTE_REGISTER_COMMAND(52, SetupPrep);
}  // namespace lote::cli
