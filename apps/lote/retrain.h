// The steps of continuous training (docs/registry.md, "Continuous training"), shared by the
// commands (`lote training-data`, `lote registry register`, `lote promote`) and by the functions
// `lote flow` runs for deploy/statemachines/retrain.asl.json (lote-training-data, lote-register,
// lote-promote): each takes its request and returns the JSON the state machine reads.
#ifndef LOTE_APPS_LOTE_RETRAIN_H_
#define LOTE_APPS_LOTE_RETRAIN_H_

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "lote/base/status.h"
#include "lote/bundle/model.h"
#include "lote/registry/promotion.h"
#include "lote/registry/registry.h"
#include "pipeline_config.h"

namespace lote::cli {

using RetrainJson = nlohmann::ordered_json;

// Version tags the retraining flow sets on a candidate, read back from the champion by the next
// retraining: the training file it learned from, and the newest label it included.
inline constexpr const char* kTrainingDataTag = "training_data";
inline constexpr const char* kFeedbackThroughTag = "feedback_through";

struct TrainingDataRequest {
  RunConfig config;         // the pipeline's (--config): prep, fields and PII key of the runs
  std::string output;       // the pipeline output whose late labels are gathered
  std::string base;         // labelled base data (csv or jsonl; any storage URI); may be empty
  std::string base_format;  // csv | jsonl (default: from the extension)
  std::string text_field = "text", label_field = "label";  // of the base data
  std::string since;        // labels received after this only (empty: all)
  std::string destination;  // where the training file goes (JSONL text/label; any storage URI)
};

// Writes the base rows then the examples of the late labels (pipeline::GatherFeedbackExamples)
// to `destination` as JSON lines {"text", "label"}. Returns {"train": destination, "rows",
// "baseRows", "feedbackRows", "feedbackThrough", "sha256", "feedback": {counts}}. Nothing of a
// record is returned or logged.
Result<RetrainJson> WriteTrainingData(const TrainingDataRequest& request);

// The alias's version of `name` and what retraining it needs: {"version", "hyperParameters"
// (the strings SageMaker's training takes: the champion's own training parameters and features),
// "trainingData" and "feedbackThrough" (its tags, "" when absent)}. NotFound when the model or
// the alias does not exist.
Result<RetrainJson> ChampionForRetraining(const registry::Registry& reg, const std::string& name,
                                          const std::string& alias);

// Registers the model at `model_uri` (a file, any storage URI, or models:/...) as the next
// version of `name`, after checking it loads.
Result<registry::ModelVersion> RegisterModel(registry::Registry& reg, const std::string& name,
                                             const std::string& model_uri,
                                             registry::RegisterOptions options,
                                             const registry::Actor& actor);

struct PromotionRequest {
  std::string name, alias = "champion", golden, format, text_field = "text", label_field = "label";
  int candidate = 0, threads = 0;
  registry::PromotionOptions options;
};

struct PromotionResult {
  bool promote = false;   // the decision, whichever kind of model
  bool entities = false;  // extraction models (entity_decision), else classifiers (decision)
  registry::PromotionDecision decision;
  registry::EntityPromotionDecision entity_decision;
  std::optional<int> champion;     // the alias's version when the test began
  RetrainJson evaluation;          // what goes into the audit log, plus "alias_moved"
  uint64_t unknown_champion = 0;   // golden rows with a label the champion does not know
  uint64_t unknown_candidate = 0;  // ... the candidate does not know
  Status moved = Status::Ok();     // the alias move (Aborted: another promotion won)
};

// Scores champion and candidate on the golden set and decides: classifiers by
// registry::DecidePromotion on a labelled golden set (csv or jsonl text/label), extraction models
// (a tagger, no classifier) by registry::DecideEntityPromotion on entity data (conll, brat or
// entity jsonl), each golden sentence or document a unit, the tagger's entities scored as
// `lote eval` scores them. Then moves the alias conditionally (the candidate promoted) or marks
// the candidate rejected. Champion and candidate must be the same kind of model.
Result<PromotionResult> PromoteCandidate(registry::Registry& reg, const PromotionRequest& request,
                                         const registry::Actor& actor);

}  // namespace lote::cli

#endif  // LOTE_APPS_LOTE_RETRAIN_H_
