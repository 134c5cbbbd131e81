// The steps of continuous training (retrain.h).
#include "retrain.h"

#include <map>
#include <optional>
#include <set>

#include "common.h"
#include "eval_extract.h"
#include "flags.h"
#include "lote/base/digest.h"
#include "lote/base/parallel_for.h"
#include "lote/pipeline/prep.h"
#include "lote/pipeline/training_data.h"
#include "lote/storage/storage.h"
#include "lote/text/utf8.h"

namespace lote::cli {
namespace {

using Json = RetrainJson;

// A training file is assembled in memory (training reads it whole anyway): at most this much.
constexpr size_t kMaxTrainingDataBytes = size_t{4} << 30;

Status AppendExample(std::string_view text, std::string_view label, std::string* out) {
  Json line{{"text", text}, {"label", label}};
  *out += line.dump();
  *out += '\n';
  if (out->size() > kMaxTrainingDataBytes) {
    return ResourceExhaustedError("the training file would exceed " +
                                  std::to_string(kMaxTrainingDataBytes >> 30) +
                                  " GiB; train from a smaller base");
  }
  return Status::Ok();
}

struct Scored {
  std::vector<std::string> labels;
  std::vector<float> scores;
  uint64_t unknown_gold = 0;  // golden rows whose label the model does not know
};

// Version `version` of `m` (the state read once), loaded.
Result<bundle::Model> LoadVersion(const registry::Registry& reg, const registry::RegisteredModel& m,
                                  int version) {
  const registry::ModelVersion& v = m.versions[static_cast<size_t>(version) - 1];
  LOTE_ASSIGN_OR_RETURN(std::string bytes, reg.ReadModelFile(m.name, v));
  return bundle::LoadModel(bytes, "models:/" + m.name + "/" + std::to_string(version));
}

// The classifier's predictions on the golden rows.
Scored Score(const classify::IntentClassifier& clf, const std::vector<LabeledRow>& rows,
             int threads) {
  Scored s;
  s.labels.resize(rows.size());
  s.scores.resize(rows.size());
  std::vector<std::unique_ptr<classify::ClassifierState>> states(static_cast<size_t>(threads));
  for (auto& st : states) st = clf.NewState();
  ParallelFor(rows.size(), threads, [&](int worker, size_t i) {
    classify::ClassifierPrediction p;
    clf.Predict(rows[i].text, states[static_cast<size_t>(worker)].get(), 0, &p);
    s.labels[i] = clf.labels()[p.label];
    s.scores[i] = p.score;
  });
  const std::set<std::string> known(clf.labels().begin(), clf.labels().end());
  for (const auto& r : rows) s.unknown_gold += known.count(r.label) ? 0 : 1;
  return s;
}

// Per gold type (types absent from the whole golden set are not scored, as in `lote eval`): the
// unit's gold, predicted and exactly matched entities.
std::map<std::string, registry::EntityCounts> CountEntities(const EntityUnitSpans& u,
                                                            const std::set<std::string>& types) {
  std::map<std::string, registry::EntityCounts> out;
  std::multiset<extract::LabeledSpan> gold;
  for (const auto& g : u.gold) {
    ++out[g.type].gold;
    gold.insert(g);
  }
  for (const auto& p : u.predicted) {
    if (!types.count(p.type)) continue;
    registry::EntityCounts& c = out[p.type];
    ++c.predicted;
    if (auto it = gold.find(p); it != gold.end()) {
      ++c.correct;
      gold.erase(it);
    }
  }
  return out;
}

}  // namespace

Result<Json> WriteTrainingData(const TrainingDataRequest& r) {
  if (r.destination.empty()) return InvalidArgumentError("no destination for the training file");
  if (r.output.empty()) return InvalidArgumentError("no pipeline output to gather labels from");
  std::string out;
  uint64_t base_rows = 0;
  if (!r.base.empty()) {
    LocalCopy copy;
    LOTE_RETURN_IF_ERROR(copy.Open(r.base).WithContext("base data " + r.base));
    LOTE_ASSIGN_OR_RETURN(io::Format format, ResolveFormat(r.base, r.base_format));
    LOTE_ASSIGN_OR_RETURN(auto rows,
                          ReadLabeledFile(copy.path(), format, r.text_field, r.label_field));
    for (const LabeledRow& row : rows) {
      LOTE_RETURN_IF_ERROR(AppendExample(row.text, row.label, &out));
    }
    base_rows = rows.size();
  }
  pipeline::FeedbackExamplesOptions fo;
  fo.pipeline = r.config.pipeline;
  fo.pipeline.output_uri = r.output;
  if (!r.config.catalog.empty()) fo.pipeline.catalog_path = r.config.catalog;
  fo.since = r.since;
  pipeline::FeedbackExamplesReport rep;
  LOTE_RETURN_IF_ERROR(pipeline::GatherFeedbackExamples(
      fo, [&out](pipeline::FeedbackExample&& e) { return AppendExample(e.text, e.label, &out); },
      &rep));
  if (base_rows + rep.examples == 0) {
    return FailedPreconditionError("nothing to train on: no base data and no usable late label");
  }
  LOTE_ASSIGN_OR_RETURN(auto store, storage::OpenStorage(r.destination));
  LOTE_RETURN_IF_ERROR(store->Write(r.destination, out));
  // The newest label this file includes: where the next retraining starts. With no label at all
  // it stays where it was.
  const std::string through = rep.through.empty() ? r.since : rep.through;
  return Json{{"train", r.destination},
              {"rows", base_rows + rep.examples},
              {"baseRows", base_rows},
              {"feedbackRows", rep.examples},
              {"feedbackThrough", through},
              {"sha256", Sha256Hex(out)},
              {"feedback",
               {{"labelled", rep.labelled},
                {"unmatched", rep.unmatched},
                {"objectMissing", rep.object_missing},
                {"objectChanged", rep.object_changed},
                {"recordMissing", rep.record_missing},
                {"textChanged", rep.text_changed},
                {"objectsRead", rep.objects}}}};
}

Result<Json> ChampionForRetraining(const registry::Registry& reg, const std::string& name,
                                   const std::string& alias) {
  LOTE_ASSIGN_OR_RETURN(auto model, reg.Get(name));
  auto it = model.aliases.find(alias);
  if (it == model.aliases.end()) {
    return NotFoundError("model '" + name + "' has no alias '" + alias + "'");
  }
  const registry::ModelVersion& v = model.versions[static_cast<size_t>(it->second) - 1];
  const std::string uri = "models:/" + name + "/" + std::to_string(v.version);
  LOTE_ASSIGN_OR_RETURN(std::string bytes, reg.ReadModelFile(name, v));
  LOTE_ASSIGN_OR_RETURN(bundle::Model m, bundle::LoadModel(bytes, uri));
  if (!m.classifier) {
    return InvalidArgumentError(uri + ": no classifier (retraining trains classifiers)");
  }
  const classify::IntentClassifier& clf = *m.classifier;
  const classify::FeatureOptions& f = clf.feature_options();
  // SageMaker passes hyperparameters as strings: the champion's own settings, so that the
  // candidate differs only by its data.
  Json hp{{"word_ngrams", std::to_string(f.word_ngram_max)},
          {"char_min", std::to_string(f.char_ngram_min)},
          {"char_max", std::to_string(f.char_ngram_max)},
          {"keep_accents", f.normalizer.strip_accents ? "false" : "true"}};
  if (clf.oos_label() >= 0) hp["oos_label"] = clf.labels()[static_cast<size_t>(clf.oos_label())];
  const Json parts = Json::parse(v.parts_json, nullptr, false);
  const Json* params = nullptr;
  if (parts.is_object() && parts.contains("classifier") && parts["classifier"].is_object() &&
      parts["classifier"].contains("training") && parts["classifier"]["training"].is_object() &&
      parts["classifier"]["training"].contains("params")) {
    params = &parts["classifier"]["training"]["params"];
  }
  if (params != nullptr && params->is_object()) {
    if (params->contains("c") && (*params)["c"].is_number()) {
      char buf[32];
      std::snprintf(buf, sizeof(buf), "%.17g", (*params)["c"].get<double>());
      hp["c"] = buf;
    }
    if (params->contains("min_df") && (*params)["min_df"].is_number_integer()) {
      hp["min_df"] = std::to_string((*params)["min_df"].get<int64_t>());
    }
    if (params->contains("seed") && (*params)["seed"].is_number_integer()) {
      hp["seed"] = std::to_string((*params)["seed"].get<uint64_t>());
    }
    if (params->contains("refit_on_dev") && (*params)["refit_on_dev"].is_boolean()) {
      hp["no_refit"] = (*params)["refit_on_dev"].get<bool>() ? "false" : "true";
    }
  }
  auto tag = [&v](const char* key) {
    auto t = v.tags.find(key);
    return t == v.tags.end() ? std::string() : t->second;
  };
  return Json{{"version", v.version},
              {"model", uri},
              {"modelVersionId", v.model_version_id},
              {"hyperParameters", std::move(hp)},
              {"trainingData", tag(kTrainingDataTag)},
              {"feedbackThrough", tag(kFeedbackThroughTag)}};
}

Result<registry::ModelVersion> RegisterModel(registry::Registry& reg, const std::string& name,
                                             const std::string& model_uri,
                                             registry::RegisterOptions options,
                                             const registry::Actor& actor) {
  std::string source = model_uri;
  std::string bytes;
  if (!registry::IsModelUri(model_uri) && model_uri.find("://") != std::string::npos) {
    LOTE_ASSIGN_OR_RETURN(auto store, storage::OpenStorage(model_uri));
    LOTE_ASSIGN_OR_RETURN(bytes, store->Read(model_uri));
  } else {
    LOTE_ASSIGN_OR_RETURN(bytes, ReadModelBytes(model_uri, &source, reg.uri()));
  }
  // Only a file that loads is registered.
  LOTE_ASSIGN_OR_RETURN(bundle::Model model, bundle::LoadModel(bytes, source));
  if (options.preprocess_version.empty()) {
    options.preprocess_version = pipeline::PreprocessVersion(pipeline::PrepOptions());
  }
  const Json meta = Json::parse(model.meta_json, nullptr, false);
  const std::string parts =
      meta.is_object() && meta.contains("parts") ? meta["parts"].dump() : std::string("{}");
  return reg.Register(name, bytes, model.version_id, model.name, model.created_at, parts, options,
                      actor);
}

Result<PromotionResult> PromoteCandidate(registry::Registry& reg, const PromotionRequest& r,
                                         const registry::Actor& actor) {
  LOTE_RETURN_IF_ERROR(registry::ValidateAlias(r.alias));
  LOTE_ASSIGN_OR_RETURN(auto model, reg.Get(r.name));
  if (r.candidate < 1 || static_cast<size_t>(r.candidate) > model.versions.size()) {
    return NotFoundError("model '" + r.name + "' has no version " + std::to_string(r.candidate));
  }
  PromotionResult out;
  auto it = model.aliases.find(r.alias);
  if (it != model.aliases.end()) out.champion = it->second;
  if (out.champion == r.candidate) {
    return FailedPreconditionError("version " + std::to_string(r.candidate) + " already is " +
                                   r.name + "@" + r.alias);
  }
  LocalCopy golden;
  LOTE_RETURN_IF_ERROR(golden.Open(r.golden).WithContext("golden set " + r.golden));
  LOTE_ASSIGN_OR_RETURN(io::Format format, ResolveFormat(r.golden, r.format));
  LOTE_ASSIGN_OR_RETURN(bundle::Model candidate, LoadVersion(reg, model, r.candidate));
  std::optional<bundle::Model> champion;
  if (out.champion) {
    LOTE_ASSIGN_OR_RETURN(champion, LoadVersion(reg, model, *out.champion));
  }
  const std::string cand_uri = "models:/" + r.name + "/" + std::to_string(r.candidate);
  out.entities = !candidate.classifier && candidate.tagger;
  if (!candidate.classifier && !candidate.tagger) {
    return InvalidArgumentError(cand_uri + ": neither a classifier nor an entity tagger");
  }
  if (champion && (!champion->classifier) != (!candidate.classifier)) {
    return FailedPreconditionError(cand_uri + " and the " + r.alias + " (version " +
                                   std::to_string(*out.champion) +
                                   ") are different kinds of model (classifier, entity tagger)");
  }
  Json& evaluation = out.evaluation;
  if (out.entities) {
    EntityDataOptions eo;
    LOTE_ASSIGN_OR_RETURN(auto cand_units,
                          PredictEntityUnits(cand_uri, candidate, golden.path(), format, eo));
    std::set<std::string> types;
    for (const auto& u : cand_units) {
      for (const auto& g : u.gold) types.insert(g.type);
    }
    registry::EntityPromotionDecision& d = out.entity_decision;
    if (champion) {
      LOTE_ASSIGN_OR_RETURN(
          auto champ_units,
          PredictEntityUnits("models:/" + r.name + "/" + std::to_string(*out.champion), *champion,
                             golden.path(), format, eo));
      std::vector<registry::EntityUnit> units(cand_units.size());
      for (size_t i = 0; i < units.size(); ++i) {
        auto a = CountEntities(champ_units[i], types);
        auto b = CountEntities(cand_units[i], types);
        for (auto& [type, c] : a) units[i].by_type[type].first = c;
        for (auto& [type, c] : b) units[i].by_type[type].second = c;
      }
      d = registry::DecideEntityPromotion(units, r.options);
    } else {
      // Nothing to compare with: the candidate's micro F1, scored as `lote eval` scores it.
      extract::EntityEvaluator eval;
      for (const auto& u : cand_units) eval.AddSpans(u.gold, u.predicted);
      d.promote = true;
      d.units = cand_units.size();
      d.candidate_f1 = eval.Report().micro.f1;
      d.reason = "no version was " + r.alias + ": the candidate becomes it";
    }
    out.promote = d.promote;
    evaluation = Json::parse(registry::EntityPromotionDecisionJson(d, r.options));
  } else {
    LOTE_ASSIGN_OR_RETURN(auto rows,
                          ReadLabeledFile(golden.path(), format, r.text_field, r.label_field));
    const int threads = ResolveThreads(r.threads);
    Scored cand = Score(*candidate.classifier, rows, threads);
    Scored champ;
    if (champion) champ = Score(*champion->classifier, rows, threads);
    registry::PromotionDecision& d = out.decision;
    if (champion) {
      std::vector<registry::GoldenOutcome> outcomes(rows.size());
      for (size_t i = 0; i < rows.size(); ++i) {
        outcomes[i] = {rows[i].label, champ.labels[i], cand.labels[i], champ.scores[i],
                       cand.scores[i]};
      }
      d = registry::DecidePromotion(outcomes, r.options);
    } else {
      // Nothing to compare with: the first champion is the candidate, with its accuracy recorded.
      uint64_t right = 0;
      for (size_t i = 0; i < rows.size(); ++i) right += cand.labels[i] == rows[i].label;
      d.promote = true;
      d.n = rows.size();
      d.candidate_accuracy = static_cast<double>(right) / static_cast<double>(rows.size());
      d.reason = "no version was " + r.alias + ": the candidate becomes it";
    }
    out.promote = d.promote;
    out.unknown_champion = champ.unknown_gold;
    out.unknown_candidate = cand.unknown_gold;
    evaluation = Json::parse(registry::PromotionDecisionJson(d, r.options));
    evaluation["unknown_golden_labels"] = {{"champion", champ.unknown_gold},
                                           {"candidate", cand.unknown_gold}};
  }
  LOTE_ASSIGN_OR_RETURN(std::string golden_sha, FileSha256(golden.path()));
  evaluation["golden"] = {{"file", r.golden}, {"sha256", golden_sha}};
  evaluation["champion"] = out.champion ? Json(*out.champion) : Json(nullptr);
  evaluation["candidate"] = r.candidate;
  const std::string& reason = out.entities ? out.entity_decision.reason : out.decision.reason;
  if (out.promote) {
    out.moved = reg.SetAlias(r.name, r.alias, r.candidate, reason, evaluation.dump(), actor,
                             registry::AliasExpectation{out.champion});
  } else {
    LOTE_RETURN_IF_ERROR(reg.SetStatus(r.name, r.candidate, "rejected", reason, actor));
  }
  evaluation["alias_moved"] = out.promote && out.moved.ok();
  return out;
}

}  // namespace lote::cli
