// `lote predict`: classifies (and, with a bundled tagger, extracts from) every record of a
// csv/jsonl/txt file; JSONL out, one object per input record, in input order.
#include <thread>

#include "command.h"
#include "common.h"
#include "lote/text/utf8.h"
#include "predict_output.h"
#include "record_runner.h"

namespace lote::cli {
namespace {

struct PredictFlags {
  std::string model, input, format, output, text_field = "text", id_field;
  int threads = 0;
  int top_k = 3;
  bool no_patterns = false;
  std::string reference_date;
};

Status RunPredict(const PredictFlags& f) {
  LOTE_ASSIGN_OR_RETURN(bundle::Model model, LoadModelFromPath(f.model));
  LOTE_ASSIGN_OR_RETURN(io::Format format, ResolveFormat(f.input, f.format));
  RecordPredictorOptions po;
  po.top_k = f.top_k;
  po.patterns = !f.no_patterns;
  po.reference_date = f.reference_date;
  po.record_id_is_row = format == io::Format::kCsv;
  LOTE_ASSIGN_OR_RETURN(auto predictor, RecordPredictor::Create(&model, po));
  return RunRecordFile({f.input, format, f.output, f.text_field, f.id_field, f.threads},
                       [&] { return predictor->NewWorker(); });
}

void SetupPredict(CLI::App& root, int* exit_code) {
  auto* cmd = root.add_subcommand("predict", "Classify (and extract entities from) every record");
  auto f = std::make_shared<PredictFlags>();
  cmd->add_option("--model", f->model, "Model file")->required();
  cmd->add_option("--input", f->input, "Input file (csv, jsonl, txt; .gz/.zst ok; - for stdin)")
      ->required();
  cmd->add_option("--format", f->format, "csv | jsonl | txt (default: from extension)");
  cmd->add_option("--output", f->output, "Output JSONL file (default: stdout)");
  cmd->add_option("--text-field", f->text_field, "Text column/field")->capture_default_str();
  cmd->add_option("--id-field", f->id_field, "Id column/field (default: line/row number)");
  cmd->add_option("--threads", f->threads, "Worker threads (0 = all cores)")->capture_default_str();
  cmd->add_option("--top-k", f->top_k, "Labels listed in top_k")->capture_default_str();
  cmd->add_flag("--no-patterns", f->no_patterns, "Do not run the pattern extractors");
  cmd->add_option("--reference-date", f->reference_date,
                  "Resolve relative dates against YYYY-MM-DD (default: today)");
  cmd->callback([f, exit_code] {
    Status s = RunPredict(*f);
    FlushWarnings();
    *exit_code = s.ok() ? kExitOk : Fail(s);
  });
}

}  // namespace
LOTE_REGISTER_COMMAND(30, SetupPredict);
}  // namespace lote::cli
