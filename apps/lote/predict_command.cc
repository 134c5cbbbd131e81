// `lote predict`: classifies (and, with a bundled tagger, extracts from) every record of a
// csv/jsonl/txt file; JSONL out, one object per input record, in input order (the rows of
// lote/bundle/prediction_row.h), with the same PII policy options as `lote run`.
#include "command.h"
#include "common.h"
#include "flags.h"
#include "lote/bundle/prediction_row.h"
#include "record_runner.h"

namespace lote::cli {
namespace {

struct PredictFlags {
  std::string model, input, format, output, text_field = "text", id_field;
  int threads = 0;
  int top_k = 3;
  RowFlags rows;
};

Status RunPredict(const PredictFlags& f, const PiiSettings& pii) {
  LOTE_ASSIGN_OR_RETURN(bundle::Model model, LoadModelFromPath(f.model));
  LOTE_ASSIGN_OR_RETURN(io::Format format, ResolveFormat(f.input, f.format));
  bundle::PredictionRowOptions po;
  po.top_k = f.top_k;
  ApplyRowFlags(f.rows, pii, &po);
  po.record_id_is_row = format == io::Format::kCsv;
  LOTE_ASSIGN_OR_RETURN(auto rows, bundle::PredictionRowWriter::Create(&model, std::move(po)));
  return WritePredictionRows(*rows, {f.input, format, f.output, f.text_field, f.id_field, f.threads,
                                     f.rows.max_record_bytes});
}

void SetupPredict(CLI::App& root, int* exit_code) {
  auto* cmd = root.add_subcommand("predict", "Classify (and extract entities from) every record");
  auto f = std::make_shared<PredictFlags>();
  cmd->add_option("--model", f->model, "Model file")->required();
  cmd->add_option("--input", f->input, "Input file (csv, jsonl, txt; .gz/.zst ok; - for stdin)")
      ->required();
  cmd->add_option("--format", f->format, "csv | jsonl | txt (default: from extension)");
  cmd->add_option("--output", f->output, "Output JSONL file (default: stdout)");
  AddRecordFieldFlags(cmd, &f->text_field, &f->id_field);
  AddThreadsFlag(cmd, &f->threads, "Worker threads");
  AddTopKFlag(cmd, &f->top_k);
  AddRowFlags(cmd, &f->rows);
  cmd->callback([f, exit_code] {
    PiiSettings pii;
    if (!ResolvePiiOrFail(f->rows.pii, "mask", &pii, exit_code)) return;
    Status s = RunPredict(*f, pii);
    FlushWarnings();
    *exit_code = s.ok() ? kExitOk : Fail(s);
  });
}

}  // namespace
LOTE_REGISTER_COMMAND(30, SetupPredict);
}  // namespace lote::cli
