// `lote eval`: scores a model on labelled data. csv/jsonl -> classification metrics;
// conll/brat, and jsonl with entities -> entity metrics (see eval_extract.cc); --task both on
// jsonl -> both, in one JSON object.
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "command.h"
#include "common.h"
#include "eval_extract.h"
#include "flags.h"
#include "lote/base/parallel_for.h"
#include "lote/classify/metrics.h"

namespace lote::cli {
namespace {

struct EvalFlags {
  std::string model, data, format, text_field = "text", label_field = "label";
  std::string entities_field = "entities", types, encoding = "utf8", reference_date;
  std::string task = "auto";
  bool entities_field_given = false, patterns = false;
  bool json = false;
  int threads = 0;
};

// With `out`, the JSON object goes there and nothing is printed.
Status RunEvalClassify(const EvalFlags& f, const bundle::Model& model, io::Format format,
                       nlohmann::ordered_json* out = nullptr) {
  if (!model.classifier) {
    return InvalidArgumentError(f.model + ": model has no classifier to evaluate on " + f.data);
  }
  const auto& clf = *model.classifier;
  LOTE_ASSIGN_OR_RETURN(auto rows, ReadLabeledFile(f.data, format, f.text_field, f.label_field));
  std::vector<std::string> labels = clf.labels();
  std::map<std::string, int> index;
  for (size_t i = 0; i < labels.size(); ++i) index[labels[i]] = static_cast<int>(i);
  std::vector<int> gold(rows.size()), pred(rows.size());
  std::vector<float> conf(rows.size());
  std::map<std::string, size_t> unknown;
  const size_t known = labels.size();
  for (size_t i = 0; i < rows.size(); ++i) {
    auto it = index.find(rows[i].label);
    if (it == index.end()) {
      it = index.emplace(rows[i].label, static_cast<int>(labels.size())).first;
      labels.push_back(rows[i].label);
    }
    // Every row of a label the model never saw, not only the first.
    if (static_cast<size_t>(it->second) >= known) ++unknown[rows[i].label];
    gold[i] = it->second;
  }
  for (const auto& [label, n] : unknown) {
    Warn(f.data + ": label '" + label + "' (" + std::to_string(n) +
         " rows) was never seen in training; those rows count as errors");
  }
  const int threads = ResolveThreads(f.threads);
  std::vector<std::unique_ptr<classify::ClassifierState>> states(static_cast<size_t>(threads));
  for (auto& st : states) st = clf.NewState();
  ParallelFor(rows.size(), threads, [&](int worker, size_t i) {
    classify::ClassifierPrediction p;
    clf.Predict(rows[i].text, states[static_cast<size_t>(worker)].get(), 0, &p);
    pred[i] = p.label;
    conf[i] = p.score;
  });
  auto r = classify::Evaluate(gold, pred, conf, labels, clf.oos_label());

  if (f.json || out != nullptr) {
    nlohmann::ordered_json j;
    j["model_version"] = model.version_id;
    j["n"] = r.n;
    j["accuracy"] = r.accuracy;
    j["macro_f1"] = r.macro_f1;
    j["ece"] = r.ece;
    if (clf.oos_label() >= 0) {
      j["in_scope_accuracy"] = r.in_scope_accuracy;
      j["oos_recall"] = r.oos_recall;
      j["oos_precision"] = r.oos_precision;
    }
    nlohmann::ordered_json per = nlohmann::ordered_json::object();
    for (const auto& m : r.per_label) {
      per[m.label] = {
          {"precision", m.precision}, {"recall", m.recall}, {"f1", m.f1}, {"support", m.support}};
    }
    j["per_label"] = per;
    nlohmann::ordered_json conf_j = nlohmann::ordered_json::array();
    for (const auto& c : r.confusions) {
      conf_j.push_back({{"gold", c.gold}, {"predicted", c.predicted}, {"count", c.count}});
    }
    j["confusions"] = conf_j;
    j["unknown_labels"] = unknown;
    if (out != nullptr) {
      *out = std::move(j);
    } else {
      std::printf("%s\n", j.dump().c_str());
    }
  } else {
    std::printf("model      %s\n", model.version_id.c_str());
    std::printf("data       %s (%zu rows)\n", f.data.c_str(), r.n);
    std::printf("accuracy   %.4f\nmacro-F1   %.4f\nECE        %.4f\n", r.accuracy, r.macro_f1,
                r.ece);
    if (clf.oos_label() >= 0) {
      std::printf("in-scope accuracy %.4f\noos recall        %.4f\n", r.in_scope_accuracy,
                  r.oos_recall);
    }
    std::printf("\n%-32s %9s %9s %9s %8s\n", "label", "precision", "recall", "f1", "support");
    for (const auto& m : r.per_label) {
      std::printf("%-32s %9.3f %9.3f %9.3f %8zu\n", m.label.c_str(), m.precision, m.recall, m.f1,
                  m.support);
    }
    if (!r.confusions.empty()) {
      std::printf("\nmost frequent confusions (gold -> predicted)\n");
      for (size_t i = 0; i < r.confusions.size() && i < 10; ++i) {
        const auto& c = r.confusions[i];
        std::printf("%5zu  %s -> %s\n", c.count, c.gold.c_str(), c.predicted.c_str());
      }
    }
  }
  return Status::Ok();
}

Status RunEval(const EvalFlags& f) {
  LOTE_ASSIGN_OR_RETURN(bundle::Model model, LoadModelFromPath(f.model));
  LOTE_ASSIGN_OR_RETURN(io::Format format, ResolveFormat(f.data, f.format));
  const bool entity_format = format == io::Format::kConll || format == io::Format::kBrat;
  // auto: JSONL holds classification labels or entities: entities when asked for with
  // --entities-field or --patterns, or when the model can only extract.
  bool classify = false, entities = false;
  if (f.task == "auto") {
    entities = entity_format ||
               (format == io::Format::kJsonl &&
                (f.entities_field_given || f.patterns || (model.tagger && !model.classifier)));
    classify = !entities;
  } else {
    classify = f.task == "classify" || f.task == "both";
    entities = f.task == "entities" || f.task == "both";
  }
  if (classify && entity_format) {
    return InvalidArgumentError("--task " + f.task + ": " + f.data + " is " +
                                std::string(io::FormatName(format)) +
                                " data, which has no classification labels");
  }
  if (entities && !entity_format && format != io::Format::kJsonl) {
    return InvalidArgumentError("--task " + f.task + ": entity evaluation needs conll, brat or " +
                                "jsonl data, not " + std::string(io::FormatName(format)));
  }
  if (!entities && !f.types.empty()) {
    return InvalidArgumentError(
        "--types applies to entity evaluation (conll, brat, or jsonl "
        "with --entities-field)");
  }
  EntityDataOptions opt;
  if (entities) {
    opt.encoding = f.encoding == "latin1" ? io::TextEncoding::kLatin1 : io::TextEncoding::kUtf8;
    opt.jsonl.text_field = f.text_field;
    opt.jsonl.entities_field = f.entities_field;
    LOTE_ASSIGN_OR_RETURN(opt.types, ParseTypeList(f.types, "--types"));
    opt.patterns = f.patterns;
    opt.reference_date = ReferenceDateOrToday(f.reference_date);
  }
  if (!classify) return RunEvalExtract(f.model, model, f.data, format, opt, f.json);
  if (!entities) return RunEvalClassify(f, model, format);
  // Both from one labelled JSONL file: one JSON object, the entity scores under "entities".
  if (!f.json) {
    LOTE_RETURN_IF_ERROR(RunEvalClassify(f, model, format));
    std::printf("\nentities\n");
    return RunEvalExtract(f.model, model, f.data, format, opt, false);
  }
  nlohmann::ordered_json j, ents;
  LOTE_RETURN_IF_ERROR(RunEvalClassify(f, model, format, &j));
  LOTE_RETURN_IF_ERROR(RunEvalExtract(f.model, model, f.data, format, opt, true, &ents));
  j["entities"] = std::move(ents);
  std::printf("%s\n", j.dump().c_str());
  return Status::Ok();
}

void SetupEval(CLI::App& root, int* exit_code) {
  auto* cmd = root.add_subcommand("eval", "Score a model on labelled data");
  auto f = std::make_shared<EvalFlags>();
  cmd->add_option("--model", f->model, "Model file")->required();
  cmd->add_option("--data", f->data, "Labelled data (csv, jsonl, conll, brat folder)")->required();
  cmd->add_option("--format", f->format, "csv | jsonl | conll | brat (default: from extension)");
  cmd->add_option("--text-field", f->text_field, "Text column/field")->capture_default_str();
  cmd->add_option("--label-field", f->label_field, "Label column/field")->capture_default_str();
  auto* ents = cmd->add_option("--entities-field", f->entities_field,
                               "Entity list field of JSONL data: scores the tagger on it (default "
                               "for a model with a tagger and no classifier)")
                   ->capture_default_str();
  cmd->add_option("--types", f->types,
                  "Entity evaluation: comma-separated types to score (default: every gold type)");
  cmd->add_flag("--patterns", f->patterns,
                "Entity evaluation on brat / jsonl: score tagger + pattern extractors, as "
                "`lote extract` writes them (default: the tagger alone)");
  AddReferenceDateFlag(cmd, &f->reference_date);
  cmd->add_option("--encoding", f->encoding, "CoNLL file encoding: utf8 | latin1")
      ->check(CLI::IsMember({"utf8", "latin1"}))
      ->capture_default_str();
  cmd->add_option("--task", f->task,
                  "classify | entities | both (default auto: entities for conll, brat, jsonl "
                  "with --entities-field or --patterns, or a tagger-only model; else classify)")
      ->check(CLI::IsMember({"auto", "classify", "entities", "both"}))
      ->capture_default_str();
  AddThreadsFlag(cmd, &f->threads, "Threads");
  cmd->add_flag("--json", f->json, "Print one JSON object");
  cmd->callback([f, exit_code, ents] {
    f->entities_field_given = ents->count() > 0;
    Status s = RunEval(*f);
    FlushWarnings();
    *exit_code = s.ok() ? kExitOk : Fail(s);
  });
}

}  // namespace
LOTE_REGISTER_COMMAND(20, SetupEval);
}  // namespace lote::cli
