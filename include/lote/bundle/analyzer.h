// TextAnalyzer: everything lote says about one text, in one pass, from whatever a model file
// holds: the intent (classifier), entities (tagger + pattern extractors, overlaps resolved), and
// the PII policy applied to what is written. `lote predict`, `lote extract` and the pipeline's
// infer stage all go through it, so they agree record for record.
//
// Thread-safety: a TextAnalyzer is immutable; Analyze and the JSON writers are const and
// thread-safe given a distinct AnalyzerState per thread.
#ifndef LOTE_BUNDLE_ANALYZER_H_
#define LOTE_BUNDLE_ANALYZER_H_

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lote/base/status.h"
#include "lote/bundle/model.h"
#include "lote/classify/intent_classifier.h"
#include "lote/extract/entity.h"
#include "lote/extract/patterns.h"
#include "lote/extract/redactor.h"
#include "lote/extract/tagger.h"

namespace lote::bundle {

// How personal data is written wherever entity text or values leave lote.
enum class PiiPolicy {
  kNone,  // write entity text and values as found
  kMask,  // '*' for each code point, value omitted
  kType,  // "[PHONE]", value omitted
  kHash,  // "[PHONE_<16 hex of HMAC-SHA256(key, value)>]" for both text and value
};

// "none", "mask", "type", "hash"; InvalidArgument otherwise.
Result<PiiPolicy> ParsePiiPolicy(std::string_view name);

struct AnalyzerOptions {
  bool classify = true;  // run the classifier, if the model has one
  bool extract = true;   // run the tagger, if the model has one
  bool patterns = true;  // run the pattern extractors
  int top_k = 3;
  // Relative dates ("ayer") resolve against this; unset: they are not extracted.
  std::optional<extract::CivilDate> reference_date;
  PiiPolicy pii = PiiPolicy::kNone;
  Secret pii_key;                      // for kHash (see lote/base/secret.h)
  std::vector<std::string> pii_types;  // empty: PersonalTypes()
};

struct Analysis {
  bool has_label = false;
  classify::ClassifierPrediction prediction;
  std::vector<extract::Entity> entities;  // sorted by start, non-overlapping
  // What the pattern extractors found, before overlaps with the tagger's entities are resolved
  // (so monitoring compares like with the reference, which has no tagger): a bit per type of
  // extract::PatternTypes() found at least once, and the check-digit candidates. Valid when
  // `patterns_ran`.
  bool patterns_ran = false;
  uint32_t pattern_types = 0;
  extract::CheckCounts checks;
  // What the tagger tagged, in sentences (extract::SentenceCounts). Valid when `tagger_ran`.
  bool tagger_ran = false;
  extract::SentenceCounts sentences;
};

// Per-thread scratch of an analyzer (classifier and tagger buffers). Not thread-safe.
class AnalyzerState {
 public:
  std::unique_ptr<classify::ClassifierState> classifier;
  extract::TaggerState tagger;
  std::vector<extract::Entity> scratch;
};

class TextAnalyzer {
 public:
  // `model` must outlive the analyzer. InvalidArgument for kHash without a key.
  static Result<std::unique_ptr<TextAnalyzer>> Create(const Model* model, AnalyzerOptions options);
  ~TextAnalyzer();

  std::unique_ptr<AnalyzerState> NewState() const;

  // Analyzes `text` (valid UTF-8; InvalidArgument otherwise) into *out.
  Status Analyze(std::string_view text, AnalyzerState* state, Analysis* out) const;

  // Appends `"label":..,"score":..,"top_k":[..]` members (no braces) for a classified text.
  void AppendClassificationJson(const Analysis& a, std::string* out) const;
  // Appends `"label":..,"score":..` only (a shadow's verdict beside the model's row).
  void AppendLabelScoreJson(const Analysis& a, std::string* out) const;
  // Appends the entities as a JSON array [{"type","start","end","text","value"?,"score"}], with
  // the PII policy applied to text and value of personal types.
  void AppendEntitiesJson(const Analysis& a, std::string* out) const;

  // `text` with the PII policy applied to every personal entity found in it (for free text such
  // as error messages). With kNone, returns `text` unchanged.
  std::string RedactText(std::string_view text, AnalyzerState* state) const;

  // Types treated as personal: extract::DefaultPiiTypes() plus every type the model's tagger
  // produces except MISC (names, IDs, addresses, institutions are personal in MEDDOCAN-style
  // schemes; a miscellany type is not).
  std::vector<std::string> PersonalTypes() const;

  const Model& model() const { return *model_; }
  bool has_classifier() const { return classifier_ != nullptr && options_.classify; }
  bool has_extractor() const { return tagger_ != nullptr || options_.patterns; }

 private:
  TextAnalyzer() = default;
  bool IsPersonal(std::string_view type) const;
  const Model* model_ = nullptr;
  AnalyzerOptions options_;
  const classify::IntentClassifier* classifier_ = nullptr;
  const extract::EntityTagger* tagger_ = nullptr;
  std::unique_ptr<extract::PatternExtractor> patterns_;
  std::unique_ptr<extract::PiiRedactor> redactor_;
  std::vector<std::string> personal_types_;  // sorted
};

}  // namespace lote::bundle

#endif  // LOTE_BUNDLE_ANALYZER_H_
