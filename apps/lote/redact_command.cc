// `lote redact`: every record of a csv/jsonl/txt file with its personal data replaced (mask,
// type or keyed hash); JSONL out with the replaced spans, streaming in constant memory.
// Nothing written (rows, warnings, errors) quotes a redacted value: error rows carry only the
// position and the kind of problem.
#include <algorithm>
#include <thread>

#include "command.h"
#include "common.h"
#include "flags.h"
#include "lote/bundle/analyzer.h"
#include "lote/bundle/prediction_row.h"
#include "lote/extract/redactor.h"
#include "lote/io/file_source.h"
#include "lote/text/utf8.h"
#include "record_runner.h"

namespace lote::cli {
namespace {

struct RedactFlags {
  std::string input, format, model, mode, types, key_file, output, text_field = "text", id_field;
  std::string reference_date;
  int threads = 0;
  size_t max_record_bytes = kDefaultMaxRecordBytes;
};

// What the flags resolve to once checked (bad values are usage errors, exit 2).
struct RedactSetup {
  extract::RedactionMode mode = extract::RedactionMode::kType;
  Secret key;
  std::vector<std::string> types;  // empty: the analyzer's PersonalTypes()
};

Result<RedactSetup> CheckFlags(const RedactFlags& f) {
  RedactSetup s;
  LOTE_ASSIGN_OR_RETURN(s.mode, extract::ParseRedactionMode(f.mode));
  LOTE_ASSIGN_OR_RETURN(s.types, ParseTypeList(f.types, "--types"));
  if (s.mode == extract::RedactionMode::kHash) {
    // The same key reader as `lote run`'s --pii-key-file, so pseudonyms of both join.
    LOTE_ASSIGN_OR_RETURN(s.key, LoadPiiKey(f.key_file));
    if (s.key.empty()) {
      return InvalidArgumentError(
          "--mode hash needs a secret key: give --key-file FILE or set LOTE_PII_KEY");
    }
  }
  return s;
}

// A bad record reduced to "SOURCE:LINE: <kind of problem>", quoting nothing of the record: a
// redacted output must never contain a clear value, and reader messages may quote an excerpt.
std::string SafeRecordErrorReason(const std::string& source, const InputRecord& in) {
  const std::string kind = in.problem.problem == io::RecordProblem::kNone
                               ? std::string("record could not be read")
                               : std::string(io::RecordProblemName(in.problem.problem));
  return text::ReplaceInvalidUtf8(source) + ":" + std::to_string(in.record.line) + ": " + kind;
}

Status RunRedact(const RedactFlags& f, const RedactSetup& setup) {
  bundle::Model model;  // no parts: patterns only
  if (!f.model.empty()) {
    LOTE_ASSIGN_OR_RETURN(model, LoadModelFromPath(f.model));
  }
  bundle::AnalyzerOptions ao;
  ao.classify = false;
  ao.extract = true;
  ao.patterns = true;
  ao.reference_date = ReferenceDateOrToday(f.reference_date);
  LOTE_ASSIGN_OR_RETURN(auto analyzer, bundle::TextAnalyzer::Create(&model, ao));
  extract::RedactorOptions ro;
  ro.mode = setup.mode;
  ro.key = setup.key;
  ro.types = setup.types.empty() ? analyzer->PersonalTypes() : setup.types;
  LOTE_ASSIGN_OR_RETURN(extract::PiiRedactor redactor, extract::PiiRedactor::Create(ro));

  LOTE_ASSIGN_OR_RETURN(io::Format format, ResolveFormat(f.input, f.format));
  const bool use_row = format == io::Format::kCsv;
  const std::string version = model.version_id;
  const std::string source = f.input == "-" ? "<stdin>" : f.input;

  auto make_worker = [&]() -> RecordFn {
    std::shared_ptr<bundle::AnalyzerState> state = analyzer->NewState();
    auto analysis = std::make_shared<bundle::Analysis>();
    const bundle::TextAnalyzer* an = analyzer.get();
    const extract::PiiRedactor* rd = &redactor;
    return [an, rd, state, analysis, use_row, version, source](const InputRecord& in,
                                                               std::string* out) {
      out->append("{\"record_id\":");
      bundle::AppendRecordId(out, in.record, use_row);
      Status s = in.error;
      Result<extract::Redaction> red = s;
      if (s.ok()) s = an->Analyze(in.record.text, state.get(), analysis.get());
      if (s.ok()) red = rd->Redact(in.record.text, analysis->entities);
      if (!s.ok() || !red.ok()) {
        out->append(",\"error\":");
        // Library messages name positions and types, reader messages may quote an excerpt:
        // only the reason is written.
        AppendJsonString(out, !in.error.ok() ? SafeRecordErrorReason(source, in)
                                             : "record could not be redacted");
      } else {
        out->append(",\"text\":");
        AppendJsonString(out, red->text);
        out->append(",\"redactions\":[");
        for (size_t i = 0; i < red->spans.size(); ++i) {
          const auto& sp = red->spans[i];
          if (i) out->push_back(',');
          out->append("{\"type\":");
          AppendJsonString(out, sp.type);
          out->append(",\"start\":").append(std::to_string(sp.start));
          out->append(",\"end\":").append(std::to_string(sp.end)).push_back('}');
        }
        out->push_back(']');
      }
      if (!version.empty()) {
        out->append(",\"model_version\":");
        AppendJsonString(out, version);
      }
      out->append("}\n");
    };
  };
  return RunRecordFile(
      {f.input, format, f.output, f.text_field, f.id_field, f.threads, f.max_record_bytes},
      make_worker);
}

void SetupRedact(CLI::App& root, int* exit_code) {
  auto* cmd = root.add_subcommand("redact", "Redact personal data from every record");
  auto f = std::make_shared<RedactFlags>();
  cmd->add_option("--input", f->input, "Input file (csv, jsonl, txt; .gz/.zst ok; - for stdin)")
      ->required();
  cmd->add_option("--format", f->format, "csv | jsonl | txt (default: from extension)");
  cmd->add_option("--model", f->model, "Model with a tagger (default: pattern extractors only)");
  cmd->add_option("--mode", f->mode, "mask | type | hash")
      ->required()
      ->check(CLI::IsMember({"mask", "type", "hash"}));
  cmd->add_option("--types", f->types,
                  "Comma-separated types to redact (default: pattern types, PER and the "
                  "model's personal types)");
  cmd->add_option("--key-file", f->key_file,
                  "Secret key for --mode hash, at least 16 bytes (default: the LOTE_PII_KEY "
                  "environment variable)");
  cmd->add_option("--output", f->output, "Output JSONL file (default: stdout)");
  AddRecordFieldFlags(cmd, &f->text_field, &f->id_field);
  AddThreadsFlag(cmd, &f->threads, "Worker threads");
  AddReferenceDateFlag(cmd, &f->reference_date);
  AddMaxRecordBytesFlag(cmd, &f->max_record_bytes);
  cmd->callback([f, exit_code] {
    auto setup = CheckFlags(*f);
    if (!setup.ok()) {
      *exit_code = FailUsage(setup.status().message());
      return;
    }
    Status s = RunRedact(*f, *setup);
    FlushWarnings();
    *exit_code = s.ok() ? kExitOk : Fail(s);
  });
}

}  // namespace
LOTE_REGISTER_COMMAND(40, SetupRedact);
}  // namespace lote::cli
