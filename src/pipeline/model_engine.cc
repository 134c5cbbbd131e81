// The real inference engine of `lote run`: a model file's classifier, tagger and pattern
// extractors behind the pipeline's InferenceEngine seam, through bundle::TextAnalyzer (the same
// code `lote predict` and `lote extract` run, so results agree record for record).
#include <optional>

#include "lote/bundle/analyzer.h"
#include "lote/monitoring/reference_profile.h"
#include "lote/monitoring/terms.h"
#include "lote/pipeline/inference.h"
#include "lote/text/utf8.h"

namespace lote::pipeline {

namespace {

class AnalyzerInferenceState : public InferenceState {
 public:
  explicit AnalyzerInferenceState(std::unique_ptr<bundle::AnalyzerState> s) : state(std::move(s)) {}
  std::unique_ptr<bundle::AnalyzerState> state;
  bundle::Analysis analysis;
  monitoring::TermScratch terms;
};

class ModelEngine : public InferenceEngine {
 public:
  ModelEngine(std::unique_ptr<bundle::Model> model, std::unique_ptr<bundle::TextAnalyzer> analyzer,
              std::optional<monitoring::Profile> reference)
      : model_(std::move(model)),
        analyzer_(std::move(analyzer)),
        reference_(std::move(reference)) {}

  std::string model_version() const override { return model_->version_id; }

  std::unique_ptr<InferenceState> NewState() const override {
    return std::make_unique<AnalyzerInferenceState>(analyzer_->NewState());
  }

  Status Infer(std::string_view text, InferenceState* state, InferenceOutput* out) const override {
    auto* st = static_cast<AnalyzerInferenceState*>(state);
    LOTE_RETURN_IF_ERROR(analyzer_->Analyze(text, st->state.get(), &st->analysis));
    const bundle::Analysis& a = st->analysis;
    if (a.has_label) {
      const auto& labels = model_->classifier->labels();
      out->label = labels[a.prediction.label];
      out->score = a.prediction.score;
      for (const auto& s : a.prediction.top_k) out->top_k.emplace_back(labels[s.label], s.score);
      const classify::ClassifierState& cs = *st->state->classifier;
      RecordSignals& sig = out->signals;
      sig.abstained = a.prediction.label == model_->classifier->oos_label();
      sig.vocabulary = cs.vocabulary;
    }
    out->signals.observed = true;
    out->signals.entities = {a.patterns_ran, a.pattern_types, a.checks};
    if (a.tagger_ran) {
      monitoring::TaggerObservation& t = out->signals.tagger;
      t.observed = true;
      t.sentences = a.sentences.sentences;
      const std::vector<std::string>& types = model_->tagger->entity_types();
      for (size_t k = 0; k < a.sentences.with_type.size(); ++k) {
        if (a.sentences.with_type[k] > 0) t.types.emplace_back(types[k], a.sentences.with_type[k]);
      }
    }
    out->signals.chars = static_cast<uint32_t>(text::CodePointCount(text));
    out->entities_json.clear();
    analyzer_->AppendEntitiesJson(a, &out->entities_json);
    return Status::Ok();
  }

  void CountTerms(InferenceState* state, std::string_view record_id,
                  monitoring::TermSampler* sampler, monitoring::TermCounts* terms) const override {
    auto* st = static_cast<AnalyzerInferenceState*>(state);
    if (!st->analysis.has_label) return;
    monitoring::CountRecordTerms(st->state->classifier->scratch, record_id, sampler, &st->terms,
                                 terms);
  }

  const monitoring::Profile* reference_profile() const override {
    return reference_ ? &*reference_ : nullptr;
  }

  std::string RedactText(std::string_view text) const override {
    // Called rarely (quarantine reasons, log lines): a fresh state keeps this thread-safe.
    auto st = analyzer_->NewState();
    return analyzer_->RedactText(text, st.get());
  }

 private:
  std::unique_ptr<bundle::Model> model_;  // owned: the analyzer points into it
  std::unique_ptr<bundle::TextAnalyzer> analyzer_;
  std::optional<monitoring::Profile> reference_;
};

}  // namespace

Result<std::shared_ptr<const InferenceEngine>> LoadInferenceEngine(std::string_view model_bytes,
                                                                   std::string_view source,
                                                                   const EngineOptions& options) {
  LOTE_ASSIGN_OR_RETURN(bundle::Model loaded, bundle::LoadModel(model_bytes, source));
  auto model = std::make_unique<bundle::Model>(std::move(loaded));
  LOTE_ASSIGN_OR_RETURN(auto reference, monitoring::ReadReferenceProfile(model->file, source));
  bundle::AnalyzerOptions ao;
  ao.classify = options.classify;
  ao.extract = options.extract;
  ao.patterns = options.extract;
  ao.top_k = options.top_k;
  ao.pii_types = options.pii_types;
  ao.pii_key = options.pii_key;
  LOTE_ASSIGN_OR_RETURN(ao.pii, bundle::ParsePiiPolicy(options.pii_mode));
  if (!options.reference_date.empty()) {
    LOTE_ASSIGN_OR_RETURN(ao.reference_date, extract::CivilDate::FromIso(options.reference_date));
  }
  LOTE_ASSIGN_OR_RETURN(auto analyzer, bundle::TextAnalyzer::Create(model.get(), std::move(ao)));
  return std::shared_ptr<const InferenceEngine>(
      std::make_shared<ModelEngine>(std::move(model), std::move(analyzer), std::move(reference)));
}

}  // namespace lote::pipeline
