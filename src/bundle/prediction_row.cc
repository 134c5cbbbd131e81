#include "lote/bundle/prediction_row.h"

#include "lote/base/json_writer.h"
#include "lote/text/utf8.h"

namespace lote::bundle {

PredictionRowWriter::~PredictionRowWriter() = default;
PredictionRowWriter::State::~State() = default;

void AppendRecordId(std::string* out, const io::TextRecord& r, bool use_row) {
  if (!r.id.empty()) {
    AppendJsonString(out, r.id);
  } else {
    out->append(std::to_string(use_row ? r.row : r.line));
  }
}

Result<std::unique_ptr<PredictionRowWriter>> PredictionRowWriter::Create(
    const Model* model, PredictionRowOptions options) {
  std::unique_ptr<PredictionRowWriter> w(new PredictionRowWriter());
  w->model_ = model;
  AnalyzerOptions ao;
  ao.classify = options.classify;
  ao.extract = options.entities;
  ao.top_k = options.top_k;
  ao.reference_date = options.reference_date;
  ao.pii = options.pii;
  ao.pii_types = options.pii_types;
  ao.pii_key = options.pii_key;
  w->emit_label_ = options.classify && model->classifier != nullptr;
  w->emit_entities_ = options.entities && (model->tagger != nullptr || options.always_entities);
  // Patterns run only where entities are written: a classifier-only predict pays nothing.
  ao.patterns = options.patterns && w->emit_entities_;
  w->options_ = std::move(options);
  LOTE_ASSIGN_OR_RETURN(w->analyzer_, TextAnalyzer::Create(model, std::move(ao)));
  return w;
}

std::unique_ptr<PredictionRowWriter::State> PredictionRowWriter::NewState() const {
  std::unique_ptr<State> st(new State());
  st->analyzer = analyzer_->NewState();
  return st;
}

bool PredictionRowWriter::Append(const io::TextRecord& record, const Status& error, State* state,
                                 std::string* out) const {
  out->append("{\"record_id\":");
  AppendRecordId(out, record, options_.record_id_is_row);
  Status s = error;
  if (s.ok()) s = analyzer_->Analyze(record.text, state->analyzer.get(), &state->analysis_);
  if (!s.ok()) {
    // A reader's message may quote a short excerpt of the bad record: the PII policy applies.
    out->append(",\"error\":");
    AppendJsonString(
        out, analyzer_->RedactText(text::ReplaceInvalidUtf8(s.message()), state->analyzer.get()));
    if (options_.error_line) out->append(",\"line\":").append(std::to_string(record.line));
  } else {
    if (emit_label_ && state->analysis_.has_label) {
      out->push_back(',');
      analyzer_->AppendClassificationJson(state->analysis_, out);
    }
    if (emit_entities_) {
      out->append(",\"entities\":");
      analyzer_->AppendEntitiesJson(state->analysis_, out);
    }
  }
  out->append(",\"model_version\":");
  AppendJsonString(out, model_->version_id);
  if (!options_.preprocess_version.empty()) {
    out->append(",\"preprocess_version\":");
    AppendJsonString(out, options_.preprocess_version);
  }
  out->append("}\n");
  return s.ok();
}

}  // namespace lote::bundle
