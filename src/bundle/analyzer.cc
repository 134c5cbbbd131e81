#include "lote/bundle/analyzer.h"

#include <algorithm>

#include "lote/base/json_writer.h"
#include "lote/extract/tagger.h"
#include "lote/text/utf8.h"

namespace lote::bundle {

Result<PiiPolicy> ParsePiiPolicy(std::string_view name) {
  if (name == "none") return PiiPolicy::kNone;
  if (name == "mask") return PiiPolicy::kMask;
  if (name == "type") return PiiPolicy::kType;
  if (name == "hash") return PiiPolicy::kHash;
  return InvalidArgumentError("unknown PII policy '" + text::Excerpt(name, 20) +
                              "' (expected none, mask, type or hash)");
}

TextAnalyzer::~TextAnalyzer() = default;

Result<std::unique_ptr<TextAnalyzer>> TextAnalyzer::Create(const Model* model,
                                                           AnalyzerOptions options) {
  std::unique_ptr<TextAnalyzer> a(new TextAnalyzer());
  a->model_ = model;
  a->options_ = std::move(options);
  if (a->options_.classify) a->classifier_ = model->classifier.get();
  if (a->options_.extract) a->tagger_ = model->tagger.get();
  if (a->options_.patterns) a->patterns_ = std::make_unique<extract::PatternExtractor>();
  a->personal_types_ = a->options_.pii_types.empty() ? a->PersonalTypes() : a->options_.pii_types;
  std::sort(a->personal_types_.begin(), a->personal_types_.end());
  if (a->options_.pii != PiiPolicy::kNone) {
    extract::RedactorOptions ro;
    ro.mode = a->options_.pii == PiiPolicy::kMask   ? extract::RedactionMode::kMask
              : a->options_.pii == PiiPolicy::kType ? extract::RedactionMode::kType
                                                    : extract::RedactionMode::kHash;
    ro.key = a->options_.pii_key;
    ro.types = a->personal_types_;
    LOTE_ASSIGN_OR_RETURN(auto redactor, extract::PiiRedactor::Create(std::move(ro)));
    a->redactor_ = std::make_unique<extract::PiiRedactor>(std::move(redactor));
  }
  return a;
}

std::vector<std::string> TextAnalyzer::PersonalTypes() const {
  std::vector<std::string> types = extract::DefaultPiiTypes();
  if (model_ && model_->tagger) {
    for (const auto& t : model_->tagger->entity_types()) {
      if (t != "MISC" && std::find(types.begin(), types.end(), t) == types.end()) {
        types.push_back(t);
      }
    }
  }
  return types;
}

bool TextAnalyzer::IsPersonal(std::string_view type) const {
  return std::binary_search(personal_types_.begin(), personal_types_.end(), type);
}

std::unique_ptr<AnalyzerState> TextAnalyzer::NewState() const {
  auto st = std::make_unique<AnalyzerState>();
  if (classifier_) st->classifier = classifier_->NewState();
  return st;
}

Status TextAnalyzer::Analyze(std::string_view text, AnalyzerState* st, Analysis* out) const {
  LOTE_RETURN_IF_ERROR(text::ValidateUtf8(text));
  out->has_label = false;
  out->entities.clear();
  out->patterns_ran = false;
  out->pattern_types = 0;
  out->checks = {};
  out->tagger_ran = false;
  if (classifier_) {
    classifier_->Predict(text, st->classifier.get(), options_.top_k, &out->prediction);
    out->has_label = true;
  }
  if (tagger_ || patterns_) {
    std::vector<extract::Entity>& all = st->scratch;
    all.clear();
    if (tagger_) {
      LOTE_ASSIGN_OR_RETURN(auto found, tagger_->Extract(text, &st->tagger, &out->sentences));
      out->tagger_ran = true;
      for (auto& e : found) all.push_back(std::move(e));
    }
    if (patterns_) {
      extract::ExtractOptions eo;
      eo.reference_date = options_.reference_date;
      const size_t first = all.size();
      LOTE_RETURN_IF_ERROR(patterns_->Extract(text, eo, &all, &out->checks));
      out->patterns_ran = true;
      out->pattern_types = extract::PatternTypeBits(all.data() + first, all.size() - first);
    }
    out->entities = extract::ResolveOverlaps(std::move(all));
    all.clear();
  }
  return Status::Ok();
}

void TextAnalyzer::AppendLabelScoreJson(const Analysis& a, std::string* out) const {
  out->append("\"label\":");
  AppendJsonString(out, classifier_->labels()[a.prediction.label]);
  out->append(",\"score\":");
  AppendJsonNumber(out, a.prediction.score);
}

void TextAnalyzer::AppendClassificationJson(const Analysis& a, std::string* out) const {
  const auto& labels = classifier_->labels();
  AppendLabelScoreJson(a, out);
  out->append(",\"top_k\":[");
  for (size_t i = 0; i < a.prediction.top_k.size(); ++i) {
    if (i) out->push_back(',');
    out->append("{\"label\":");
    AppendJsonString(out, labels[a.prediction.top_k[i].label]);
    out->append(",\"score\":");
    AppendJsonNumber(out, a.prediction.top_k[i].score);
    out->push_back('}');
  }
  out->push_back(']');
}

void TextAnalyzer::AppendEntitiesJson(const Analysis& a, std::string* out) const {
  out->push_back('[');
  for (size_t i = 0; i < a.entities.size(); ++i) {
    const auto& e = a.entities[i];
    if (i) out->push_back(',');
    out->append("{\"type\":");
    AppendJsonString(out, e.type);
    out->append(",\"start\":");
    out->append(std::to_string(e.start));
    out->append(",\"end\":");
    out->append(std::to_string(e.end));
    out->append(",\"text\":");
    if (redactor_ && IsPersonal(e.type)) {
      // Redact the entity on its own text: the token is the one `lote redact` writes.
      extract::Entity alone = e;
      alone.start = 0;
      alone.end = static_cast<uint32_t>(text::CodePointCount(e.text));
      auto r = redactor_->Redact(e.text, std::span<const extract::Entity>(&alone, 1));
      const std::string token = r.ok() ? r->text : std::string("[") + e.type + "]";
      AppendJsonString(out, token);
      if (options_.pii == PiiPolicy::kHash) {
        out->append(",\"value\":");
        AppendJsonString(out, token);
      }
    } else {
      AppendJsonString(out, e.text);
      if (!e.value_json.empty()) {
        out->append(",\"value\":");
        out->append(e.value_json);
      }
    }
    out->append(",\"score\":");
    AppendJsonNumber(out, e.score);
    out->push_back('}');
  }
  out->push_back(']');
}

std::string TextAnalyzer::RedactText(std::string_view text, AnalyzerState* st) const {
  if (!redactor_) return std::string(text);
  const std::string valid = text::ReplaceInvalidUtf8(text);
  Analysis a;
  std::vector<extract::Entity> entities;
  if (tagger_) {
    auto found = tagger_->Extract(valid, &st->tagger);
    if (found.ok()) entities = std::move(*found);
  }
  extract::PatternExtractor fallback;
  const extract::PatternExtractor& px = patterns_ ? *patterns_ : fallback;
  extract::ExtractOptions eo;
  eo.reference_date = options_.reference_date;
  (void)px.Extract(valid, eo, &entities);
  auto r = redactor_->Redact(valid, entities);
  // If redaction itself fails, write nothing of the text rather than risk a clear value.
  return r.ok() ? r->text : std::string("[REDACTED]");
}

}  // namespace lote::bundle
