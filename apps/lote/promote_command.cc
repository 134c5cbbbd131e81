// `lote promote --name NAME --candidate VERSION --golden FILE [--alias champion] ...`: scores the
// alias's current version (the champion) and the candidate on the same labelled golden set,
// decides by McNemar's test, per-label non-inferiority and calibration
// (lote/registry/promotion.h), and moves the alias only when the candidate is better; otherwise
// marks the candidate rejected with the reason. The decision and its evidence go with the alias
// move (or the rejection) into the registry's audit log.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "command.h"
#include "common.h"
#include "flags.h"
#include "lote/base/parallel_for.h"
#include "lote/registry/promotion.h"
#include "lote/registry/registry.h"
#include "lote/text/utf8.h"

namespace lote::cli {
namespace {

using Json = nlohmann::ordered_json;

struct PromoteFlags {
  std::string registry, name, golden, alias = "champion", format, text_field = "text",
                                      label_field = "label";
  int candidate = 0, threads = 0;
  registry::PromotionOptions options;
  bool json = false;
};

struct Scored {
  std::vector<std::string> labels;
  std::vector<float> scores;
  std::string version_id;
  uint64_t unknown_gold = 0;  // golden rows whose label the model does not know
};

// Scores version `version` of `m` (the state Promote read once) on the golden rows.
Result<Scored> Score(const registry::Registry& reg, const registry::RegisteredModel& m, int version,
                     const std::vector<LabeledRow>& rows, int threads) {
  const registry::ModelVersion& v = m.versions[static_cast<size_t>(version) - 1];
  const std::string uri = "models:/" + m.name + "/" + std::to_string(version);
  LOTE_ASSIGN_OR_RETURN(std::string bytes, reg.ReadModelFile(m.name, v));
  LOTE_ASSIGN_OR_RETURN(bundle::Model model, bundle::LoadModel(bytes, uri));
  if (!model.classifier) {
    return InvalidArgumentError(uri +
                                ": no classifier (promotion of entity models is not built "
                                "yet)");
  }
  const auto& clf = *model.classifier;
  Scored s;
  s.version_id = model.version_id;
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

Status Promote(const PromoteFlags& f) {
  LOTE_ASSIGN_OR_RETURN(std::string uri, RegistryUri(f.registry));
  LOTE_ASSIGN_OR_RETURN(auto reg, registry::Registry::Open(uri));
  LOTE_RETURN_IF_ERROR(registry::ValidateAlias(f.alias));
  LOTE_ASSIGN_OR_RETURN(auto model, reg.Get(f.name));
  if (f.candidate < 1 || static_cast<size_t>(f.candidate) > model.versions.size()) {
    return NotFoundError("model '" + f.name + "' has no version " + std::to_string(f.candidate));
  }
  auto it = model.aliases.find(f.alias);
  const std::optional<int> champion =
      it == model.aliases.end() ? std::nullopt : std::optional<int>(it->second);
  if (champion == f.candidate) {
    return FailedPreconditionError("version " + std::to_string(f.candidate) + " already is " +
                                   f.name + "@" + f.alias);
  }
  LOTE_ASSIGN_OR_RETURN(io::Format format, ResolveFormat(f.golden, f.format));
  LOTE_ASSIGN_OR_RETURN(auto rows, ReadLabeledFile(f.golden, format, f.text_field, f.label_field));
  const int threads = ResolveThreads(f.threads);
  LOTE_ASSIGN_OR_RETURN(Scored cand, Score(reg, model, f.candidate, rows, threads));
  Scored champ;
  if (champion) {
    LOTE_ASSIGN_OR_RETURN(champ, Score(reg, model, *champion, rows, threads));
  }
  registry::PromotionDecision d;
  if (champion) {
    std::vector<registry::GoldenOutcome> outcomes(rows.size());
    for (size_t i = 0; i < rows.size(); ++i) {
      outcomes[i] = {rows[i].label, champ.labels[i], cand.labels[i], champ.scores[i],
                     cand.scores[i]};
    }
    d = registry::DecidePromotion(outcomes, f.options);
  } else {
    // Nothing to compare with: the first champion is the candidate, with its accuracy recorded.
    uint64_t right = 0;
    for (size_t i = 0; i < rows.size(); ++i) right += cand.labels[i] == rows[i].label;
    d.promote = true;
    d.n = rows.size();
    d.candidate_accuracy = static_cast<double>(right) / static_cast<double>(rows.size());
    d.reason = "no version was " + f.alias + ": the candidate becomes it";
  }
  Json evaluation = Json::parse(registry::PromotionDecisionJson(d, f.options));
  evaluation["golden"] = {{"file", f.golden}, {"sha256", ""}};
  LOTE_ASSIGN_OR_RETURN(evaluation["golden"]["sha256"], FileSha256(f.golden));
  evaluation["champion"] = champion ? Json(*champion) : Json(nullptr);
  evaluation["candidate"] = f.candidate;
  evaluation["unknown_golden_labels"] = {{"champion", champ.unknown_gold},
                                         {"candidate", cand.unknown_gold}};
  const registry::Actor actor = CurrentActor();
  Status moved = Status::Ok();
  if (d.promote) {
    moved = reg.SetAlias(f.name, f.alias, f.candidate, d.reason, evaluation.dump(), actor,
                         registry::AliasExpectation{champion});
  } else {
    LOTE_RETURN_IF_ERROR(reg.SetStatus(f.name, f.candidate, "rejected", d.reason, actor));
  }
  evaluation["alias_moved"] = d.promote && moved.ok();
  if (f.json) {
    std::printf("%s\n", evaluation.dump(-1, ' ', false, Json::error_handler_t::replace).c_str());
  } else {
    std::printf("%s/%d vs %s: %s\n", f.name.c_str(), f.candidate,
                champion ? (f.alias + " (version " + std::to_string(*champion) + ")").c_str()
                         : "no champion",
                d.promote ? "PROMOTE" : "REJECT");
    std::printf("  %s\n", text::EscapeControl(d.reason).c_str());
    if (champion) {
      std::printf(
          "  golden rows %llu: accuracy champion %.4f, candidate %.4f; only champion "
          "right %llu, only candidate right %llu; %s p = %.3g\n",
          static_cast<unsigned long long>(d.n), d.champion_accuracy, d.candidate_accuracy,
          static_cast<unsigned long long>(d.test.b), static_cast<unsigned long long>(d.test.c),
          d.test.test.c_str(), d.test.p_value);
      std::printf("  ECE champion %.4f, candidate %.4f\n", d.champion_ece, d.candidate_ece);
      for (const auto& l : d.labels) {
        if (l.worse) {
          std::printf("  worse: %s recall %.3f -> %.3f (%llu rows)\n",
                      text::EscapeControl(l.label).c_str(), l.champion_recall, l.candidate_recall,
                      static_cast<unsigned long long>(l.rows));
        }
      }
      if (d.needed_rows) {
        std::printf("  about %llu golden rows would detect a difference this size (power %.2f)\n",
                    static_cast<unsigned long long>(*d.needed_rows), f.options.power);
      }
    }
    if (cand.unknown_gold > 0 || champ.unknown_gold > 0) {
      std::printf(
          "  golden rows with a label the model does not know (counted wrong): champion "
          "%llu, candidate %llu\n",
          static_cast<unsigned long long>(champ.unknown_gold),
          static_cast<unsigned long long>(cand.unknown_gold));
    }
  }
  return moved;
}

void SetupPromote(CLI::App& root, int* exit_code) {
  auto* cmd = root.add_subcommand(
      "promote",
      "Test a registered candidate against the alias's version on a golden set; move the alias "
      "only if it is better");
  auto f = std::make_shared<PromoteFlags>();
  cmd->add_option("--registry", f->registry, "Registry URI (default $LOTE_REGISTRY)");
  cmd->add_option("--name", f->name, "Registered model")->required();
  cmd->add_option("--candidate", f->candidate, "Candidate version")->required();
  cmd->add_option("--golden", f->golden, "Labelled golden set (csv or jsonl)")->required();
  cmd->add_option("--alias", f->alias, "The alias to move")->capture_default_str();
  cmd->add_option("--format", f->format, "csv | jsonl (default: from extension)");
  cmd->add_option("--text-field", f->text_field, "Text column/field")->capture_default_str();
  cmd->add_option("--label-field", f->label_field, "Label column/field")->capture_default_str();
  cmd->add_option("--alpha", f->options.alpha, "McNemar's significance level")
      ->check(CLI::Range(1e-9, 0.5))
      ->capture_default_str();
  cmd->add_option("--min-gain", f->options.min_gain, "Accuracy the candidate must gain")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  cmd->add_option("--recall-margin", f->options.recall_margin,
                  "Most recall any label (with --min-label-rows gold rows) may lose")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  cmd->add_option("--min-label-rows", f->options.min_label_rows,
                  "Gold rows a label needs to gate the decision")
      ->capture_default_str();
  cmd->add_option("--ece-margin", f->options.ece_margin,
                  "How much worse the candidate's calibration error may be")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  cmd->add_option("--threads", f->threads, "Scoring threads (0: the usable CPUs)");
  cmd->add_flag("--json", f->json, "The decision and its evidence as JSON");
  cmd->callback([f, exit_code] {
    Status s = Promote(*f);
    *exit_code = s.ok() ? kExitOk : Fail(s);
  });
}

}  // namespace
LOTE_REGISTER_COMMAND(67, SetupPromote);
}  // namespace lote::cli
