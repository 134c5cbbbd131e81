#include "predict_output.h"

#include <cstdio>
#include <ctime>

#include "command.h"
#include "lote/text/utf8.h"

namespace lote::cli {

struct RecordPredictor::Impl {
  const bundle::Model* model = nullptr;
  RecordPredictorOptions options;
  std::unique_ptr<bundle::TextAnalyzer> analyzer;
  bool emit_label = false;
  bool emit_entities = false;
};

RecordPredictor::~RecordPredictor() = default;

void AppendRecordId(std::string* out, const io::TextRecord& r, bool use_row) {
  if (!r.id.empty()) {
    AppendJsonString(out, r.id);
  } else {
    out->append(std::to_string(use_row ? r.row : r.line));
  }
}

Result<extract::CivilDate> ResolveReferenceDate(const std::string& flag) {
  if (flag.empty()) {
    const time_t now = std::time(nullptr);
    struct tm tm;
    gmtime_r(&now, &tm);
    return extract::CivilDate{tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday};
  }
  auto d = extract::CivilDate::FromIso(flag);
  if (!d.ok()) {
    return InvalidArgumentError("--reference-date '" + text::Excerpt(flag, 20) +
                                "' is not a date YYYY-MM-DD");
  }
  return *d;
}

int FailUsage(const std::string& message) {
  std::fprintf(stderr, "lote: %s\n", message.c_str());
  return kExitUsage;
}

std::string SafeRecordErrorReason(const Status& error) {
  const std::string& m = error.message();
  // Reader messages are "SOURCE:LINE: reason"; keep the position, classify the reason.
  std::string where;
  size_t colon = m.find(": ");
  while (colon != std::string::npos) {
    const size_t prev = m.rfind(':', colon - 1);
    if (prev != std::string::npos && prev + 1 < colon &&
        m.find_first_not_of("0123456789", prev + 1) == colon) {
      where = m.substr(0, colon);
      break;
    }
    colon = m.find(": ", colon + 2);
  }
  std::string kind = "record could not be read";
  if (m.find("invalid UTF-8") != std::string::npos) {
    kind = "invalid UTF-8";
  } else if (m.find("NUL byte") != std::string::npos) {
    kind = "NUL byte in text";
  } else if (m.find("malformed JSON") != std::string::npos) {
    kind = "malformed JSON";
  } else if (error.code() == StatusCode::kResourceExhausted) {
    kind = "record too long";
  } else if (m.find("not a JSON string") != std::string::npos) {
    kind = "text is not a JSON string";
  } else if (m.find("missing") != std::string::npos) {
    kind = "text field missing";
  }
  return where.empty() ? kind : text::ReplaceInvalidUtf8(where) + ": " + kind;
}

Result<std::unique_ptr<RecordPredictor>> RecordPredictor::Create(const bundle::Model* model,
                                                                 RecordPredictorOptions options) {
  std::unique_ptr<RecordPredictor> p(new RecordPredictor());
  auto impl = std::make_unique<Impl>();
  impl->model = model;
  bundle::AnalyzerOptions ao;
  ao.classify = options.classify;
  ao.extract = options.entities;
  ao.top_k = options.top_k;
  LOTE_ASSIGN_OR_RETURN(ao.reference_date, ResolveReferenceDate(options.reference_date));
  impl->emit_label = options.classify && model->classifier != nullptr;
  impl->emit_entities = options.entities && (model->tagger != nullptr || options.always_entities);
  // Patterns run only where entities are written: a classifier-only predict pays nothing.
  ao.patterns = options.patterns && impl->emit_entities;
  impl->options = std::move(options);
  LOTE_ASSIGN_OR_RETURN(impl->analyzer, bundle::TextAnalyzer::Create(model, std::move(ao)));
  p->impl_ = std::move(impl);
  return p;
}

RecordFn RecordPredictor::NewWorker() const {
  const Impl* impl = impl_.get();
  std::shared_ptr<bundle::AnalyzerState> state = impl->analyzer->NewState();
  auto analysis = std::make_shared<bundle::Analysis>();
  return [impl, state, analysis](const InputRecord& in, std::string* out) {
    const auto& opt = impl->options;
    const bundle::TextAnalyzer& analyzer = *impl->analyzer;
    out->append("{\"record_id\":");
    AppendRecordId(out, in.record, opt.record_id_is_row);
    Status s = in.error;
    if (s.ok()) s = analyzer.Analyze(in.record.text, state.get(), analysis.get());
    if (!s.ok()) {
      out->append(",\"error\":");
      AppendJsonString(out, text::ReplaceInvalidUtf8(s.message()));
    } else {
      if (impl->emit_label && analysis->has_label) {
        out->push_back(',');
        analyzer.AppendClassificationJson(*analysis, out);
      }
      if (impl->emit_entities) {
        out->append(",\"entities\":");
        analyzer.AppendEntitiesJson(*analysis, out);
      }
    }
    out->append(",\"model_version\":");
    AppendJsonString(out, impl->model->version_id);
    out->append("}\n");
  };
}

}  // namespace lote::cli
