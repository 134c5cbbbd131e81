// `lote bundle`: combines model files (a classifier, a tagger) into one, so that `lote predict`
// gives the label and the entities of each record in one pass.
#include <cstdio>
#include <filesystem>

#include "command.h"
#include "common.h"
#include "lote/bundle/model.h"
#include "lote/text/utf8.h"

namespace lote::cli {
namespace {

struct BundleFlags {
  std::string out, name;
  std::vector<std::string> parts;
};

Status RunBundle(const BundleFlags& f) {
  std::vector<bundle::Model> models;
  models.reserve(f.parts.size());
  for (const auto& p : f.parts) {
    LOTE_ASSIGN_OR_RETURN(bundle::Model m, LoadModelFromPath(p));
    models.push_back(std::move(m));
  }
  std::vector<const bundle::Model*> ptrs;
  for (const auto& m : models) ptrs.push_back(&m);
  const std::string name = f.name.empty() ? std::filesystem::path(f.out).stem().string() : f.name;
  LOTE_ASSIGN_OR_RETURN(const std::string created_at, ModelTimestamp());
  std::string version_id;
  LOTE_ASSIGN_OR_RETURN(std::string bytes,
                        bundle::BundleModels(ptrs, name, created_at, &version_id));
  LOTE_RETURN_IF_ERROR(WriteFileAtomic(f.out, bytes));
  std::fprintf(stderr, "bundled %s from", version_id.c_str());
  for (const auto& m : models) std::fprintf(stderr, " %s", m.version_id.c_str());
  std::fprintf(stderr, "\nwrote %s (%zu bytes)\n", text::EscapeControl(f.out).c_str(),
               bytes.size());
  return Status::Ok();
}

void SetupBundle(CLI::App& root, int* exit_code) {
  auto* cmd = root.add_subcommand("bundle", "Combine model files (classifier, tagger) into one");
  auto f = std::make_shared<BundleFlags>();
  cmd->add_option("--out", f->out, "Model file to write")->required();
  cmd->add_option("--name", f->name, "Model name (default: the output file's stem)");
  cmd->add_option("parts", f->parts, "Model files to combine (at most one classifier, one tagger)")
      ->required();
  cmd->callback([f, exit_code] {
    Status s = RunBundle(*f);
    FlushWarnings();
    *exit_code = s.ok() ? kExitOk : Fail(s);
  });
}

}  // namespace
LOTE_REGISTER_COMMAND(45, SetupBundle);
}  // namespace lote::cli
