// The inference seam of the pipeline: what the infer stage calls for every record. The pipeline
// knows nothing of classifiers, taggers or patterns; the model file's engine (classifier,
// extractor or both, see LoadInferenceEngine) implements this interface, and tests use fakes.
//
// Thread-safety: an engine is immutable once built; its const methods are called concurrently
// from every worker thread. Per-thread scratch lives in an InferenceState (fastText's
// Model::State): each worker makes one with NewState() and never shares it.
#ifndef LOTE_PIPELINE_INFERENCE_H_
#define LOTE_PIPELINE_INFERENCE_H_

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lote/base/secret.h"
#include "lote/base/status.h"
#include "lote/classify/features.h"
#include "lote/monitoring/profile.h"

namespace lote::pipeline {

// Per-thread scratch of an engine (buffers, feature vectors). Opaque to the pipeline.
class InferenceState {
 public:
  virtual ~InferenceState() = default;
};

// The model's view of a record, for monitoring (lote/monitoring/profile.h). Counts only, never
// text: they travel in the infer stage's files.
struct RecordSignals {
  bool observed = false;   // the engine filled the rest
  bool abstained = false;  // the label is the model's out-of-scope label
  uint32_t chars = 0;      // code points of the text given to Infer
  classify::VocabularyCounts vocabulary;
  monitoring::EntityObservation entities;  // what the pattern extractors found
  monitoring::TaggerObservation tagger;    // what the tagger found, in sentences
};

// What the engine says about one record.
struct InferenceOutput {
  // Classification; `label` empty when the model has no classifier (the row then has
  // label/score/top_k null).
  std::string label;
  float score = 0.0f;
  std::vector<std::pair<std::string, float>> top_k;  // best first; may be empty
  // Entities as the text of a JSON array, each element
  // {"type":..,"start":..,"end":..,"text":..,"value":..(optional),"score":..}, offsets in code
  // points of the text the engine was given, end exclusive. "[]" (or empty) when none. The engine
  // applies the PII policy (EngineOptions) to `text` and `value` before returning: the pipeline
  // writes this array as is into results and the catalog.
  std::string entities_json;
  RecordSignals signals;

  void Clear() {
    label.clear();
    score = 0.0f;
    top_k.clear();
    entities_json.clear();
    signals = RecordSignals();
  }
};

class InferenceEngine {
 public:
  virtual ~InferenceEngine() = default;

  // Identifies the model in result rows and in the results path (model=MODEL_VERSION): must be
  // usable as a path segment (letters, digits, '.', '_', '-').
  virtual std::string model_version() const = 0;

  // A fresh per-thread state.
  virtual std::unique_ptr<InferenceState> NewState() const = 0;

  // Classifies and extracts from `text` (valid UTF-8, already through prep) into *out, which the
  // caller cleared. An error fails this record only: the pipeline quarantines it at stage
  // "infer" with the status as reason (after RedactText), and goes on. Thread-safe given a
  // distinct `state` per thread.
  virtual Status Infer(std::string_view text, InferenceState* state,
                       InferenceOutput* out) const = 0;

  // Adds the word unigrams and bigrams of the text last given to Infer with `state` to *terms as
  // one record sampled by `sampler` (monitoring's top_terms, lote/monitoring/terms.h), with
  // `record_id` as a possible example. Same thread as that Infer. Engines without a classifier
  // add nothing.
  virtual void CountTerms(InferenceState* /*state*/, std::string_view /*record_id*/,
                          monitoring::TermSampler* /*sampler*/,
                          monitoring::TermCounts* /*terms*/) const {}

  // What "normal" looks like for this model (its file's reference profile), or null when the
  // model has none: each run's monitoring report compares the batch with it.
  virtual const monitoring::Profile* reference_profile() const { return nullptr; }

  // Applies the PII policy to free text the pipeline is about to write (quarantine reasons,
  // which may quote an excerpt of a record, and log lines). Thread-safe.
  virtual std::string RedactText(std::string_view text) const = 0;
};

// Options the CLI passes when loading a model's engine. The PII settings follow the redaction
// issue; the lead's engine defines their exact vocabulary.
struct EngineOptions {
  int top_k = 3;                       // how many labels in InferenceOutput::top_k
  std::vector<std::string> pii_types;  // entity types treated as personal data; empty: all PII
  std::string pii_mode = "mask";       // how PII is written: "none", "mask", "type", "hash" (keyed)
  Secret pii_key;                      // HMAC key for pii_mode "hash"
  bool classify = true;                // run the classifier if the model has one
  bool extract = true;                 // run the tagger / patterns if the model has them
  std::string reference_date;          // YYYY-MM-DD for "ayer"; empty: relative dates not resolved
};

// Builds the engine for a model file's bytes (`source` names it in errors). Implemented in
// src/pipeline/model_engine.cc next to the classifier and extractor, not by the pipeline module.
// Errors: InvalidArgument / DataLoss for a bad model file, Unimplemented when the model holds
// nothing this build can run.
Result<std::shared_ptr<const InferenceEngine>> LoadInferenceEngine(std::string_view model_bytes,
                                                                   std::string_view source,
                                                                   const EngineOptions& options);

}  // namespace lote::pipeline

#endif  // LOTE_PIPELINE_INFERENCE_H_
