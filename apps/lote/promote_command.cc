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
#include "lote/text/utf8.h"
#include "retrain.h"

namespace lote::cli {
namespace {

struct PromoteFlags {
  std::string registry;
  PromotionRequest request;
  bool json = false;
};

Status Promote(const PromoteFlags& f) {
  LOTE_ASSIGN_OR_RETURN(std::string uri, RegistryUri(f.registry));
  LOTE_ASSIGN_OR_RETURN(auto reg, registry::Registry::Open(uri));
  LOTE_ASSIGN_OR_RETURN(PromotionResult r, PromoteCandidate(reg, f.request, CurrentActor()));
  const PromotionRequest& q = f.request;
  const registry::PromotionDecision& d = r.decision;
  if (f.json) {
    std::printf(
        "%s\n",
        r.evaluation.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    return r.moved;
  }
  std::printf("%s/%d vs %s: %s\n", q.name.c_str(), q.candidate,
              r.champion ? (q.alias + " (version " + std::to_string(*r.champion) + ")").c_str()
                         : "no champion",
              r.promote ? "PROMOTE" : "REJECT");
  if (r.entities) {
    const registry::EntityPromotionDecision& e = r.entity_decision;
    std::printf("  %s\n", text::EscapeControl(e.reason).c_str());
    if (r.champion) {
      std::printf(
          "  golden units %llu: entity F1 champion %.4f, candidate %.4f; approximate "
          "randomization (%llu rounds) p = %.3g\n",
          static_cast<unsigned long long>(e.units), e.champion_f1, e.candidate_f1,
          static_cast<unsigned long long>(e.rounds), e.p_value);
      for (const auto& t : e.types) {
        std::printf("  %s%s F1 %.3f -> %.3f (%llu gold entities)\n", t.worse ? "worse: " : "",
                    text::EscapeControl(t.type).c_str(), t.champion_f1, t.candidate_f1,
                    static_cast<unsigned long long>(t.gold));
      }
    }
    return r.moved;
  }
  std::printf("  %s\n", text::EscapeControl(d.reason).c_str());
  if (r.champion) {
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
                  static_cast<unsigned long long>(*d.needed_rows), q.options.power);
    }
  }
  if (r.unknown_candidate > 0 || r.unknown_champion > 0) {
    std::printf(
        "  golden rows with a label the model does not know (counted wrong): champion "
        "%llu, candidate %llu\n",
        static_cast<unsigned long long>(r.unknown_champion),
        static_cast<unsigned long long>(r.unknown_candidate));
  }
  return r.moved;
}

void SetupPromote(CLI::App& root, int* exit_code) {
  auto* cmd = root.add_subcommand(
      "promote",
      "Test a registered candidate against the alias's version on a golden set (labelled texts "
      "for classifiers, entity data for extraction models); move the alias only if it is "
      "better");
  auto f = std::make_shared<PromoteFlags>();
  cmd->add_option("--registry", f->registry, "Registry URI (default $LOTE_REGISTRY)");
  cmd->add_option("--name", f->request.name, "Registered model")->required();
  cmd->add_option("--candidate", f->request.candidate, "Candidate version")->required();
  cmd->add_option("--golden", f->request.golden,
                  "Golden set: csv or jsonl text/label (classifiers); conll, brat or entity "
                  "jsonl (extraction models)")
      ->required();
  cmd->add_option("--alias", f->request.alias, "The alias to move")->capture_default_str();
  cmd->add_option("--format", f->request.format,
                  "csv | jsonl | conll | brat (default: from the extension; a folder is brat)");
  cmd->add_option("--text-field", f->request.text_field, "Text column/field")
      ->capture_default_str();
  cmd->add_option("--label-field", f->request.label_field, "Label column/field")
      ->capture_default_str();
  cmd->add_option("--alpha", f->request.options.alpha, "McNemar's significance level")
      ->check(CLI::Range(1e-9, 0.5))
      ->capture_default_str();
  cmd->add_option("--min-gain", f->request.options.min_gain, "Accuracy the candidate must gain")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  cmd->add_option("--recall-margin", f->request.options.recall_margin,
                  "Most recall any label (with --min-label-rows gold rows) may lose")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  cmd->add_option("--min-label-rows", f->request.options.min_label_rows,
                  "Gold rows a label needs to gate the decision")
      ->capture_default_str();
  cmd->add_option("--ece-margin", f->request.options.ece_margin,
                  "How much worse the candidate's calibration error may be")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  cmd->add_option("--threads", f->request.threads, "Scoring threads (0: the usable CPUs)");
  cmd->add_flag("--json", f->json, "The decision and its evidence as JSON");
  cmd->callback([f, exit_code] {
    Status s = Promote(*f);
    *exit_code = s.ok() ? kExitOk : Fail(s);
  });
}

}  // namespace
LOTE_REGISTER_COMMAND(67, SetupPromote);
}  // namespace lote::cli
