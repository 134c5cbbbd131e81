// `lote extract`: the entities (tagger + pattern extractors) of every record of a csv/jsonl/txt
// file; JSONL out, one object per input record, in input order, with the same PII policy options
// as `lote run`.
#include "command.h"
#include "common.h"
#include "flags.h"
#include "lote/bundle/prediction_row.h"
#include "record_runner.h"

namespace lote::cli {
namespace {

struct ExtractFlags {
  std::string model, input, format, output, text_field = "text", id_field;
  int threads = 0;
  RowFlags rows;
};

Status RunExtract(const ExtractFlags& f, const PiiSettings& pii) {
  LOTE_ASSIGN_OR_RETURN(bundle::Model model, LoadModelFromPath(f.model));
  LOTE_ASSIGN_OR_RETURN(io::Format format, ResolveFormat(f.input, f.format));
  bundle::PredictionRowOptions po;
  po.classify = false;
  po.entities = true;
  po.always_entities = true;
  ApplyRowFlags(f.rows, pii, &po);
  po.record_id_is_row = format == io::Format::kCsv;
  LOTE_ASSIGN_OR_RETURN(auto rows, bundle::PredictionRowWriter::Create(&model, std::move(po)));
  return WritePredictionRows(*rows, {f.input, format, f.output, f.text_field, f.id_field, f.threads,
                                     f.rows.max_record_bytes});
}

void SetupExtract(CLI::App& root, int* exit_code) {
  auto* cmd = root.add_subcommand("extract", "Extract entities from every record");
  auto f = std::make_shared<ExtractFlags>();
  cmd->add_option("--model", f->model, "Model file (with a tagger; patterns run in any case)")
      ->required();
  cmd->add_option("--input", f->input, "Input file (csv, jsonl, txt; .gz/.zst ok; - for stdin)")
      ->required();
  cmd->add_option("--format", f->format, "csv | jsonl | txt (default: from extension)");
  cmd->add_option("--output", f->output, "Output JSONL file (default: stdout)");
  AddRecordFieldFlags(cmd, &f->text_field, &f->id_field);
  AddThreadsFlag(cmd, &f->threads, "Worker threads");
  AddRowFlags(cmd, &f->rows);
  cmd->callback([f, exit_code] {
    PiiSettings pii;
    if (!ResolvePiiOrFail(f->rows.pii, "mask", &pii, exit_code)) return;
    Status s = RunExtract(*f, pii);
    FlushWarnings();
    *exit_code = s.ok() ? kExitOk : Fail(s);
  });
}

}  // namespace
LOTE_REGISTER_COMMAND(35, SetupExtract);
}  // namespace lote::cli
