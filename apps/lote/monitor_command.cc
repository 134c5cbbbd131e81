// `lote monitor --output URI [--run RUN_ID | --last N] [--json]`: prints the monitoring reports
// of a pipeline output's runs (OUTPUT/_runs/RUN_ID/monitoring.json, docs/monitoring.md), with
// the measured accuracy late labels gave (OUTPUT/_runs/RUN_ID/feedback.json) when there is one.
#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "command.h"
#include "common.h"
#include "lote/storage/storage.h"
#include "lote/text/utf8.h"

namespace lote::cli {
namespace {

struct MonitorFlags {
  std::string output, run;
  int last = 1;
  bool json = false;
};

using Json = nlohmann::ordered_json;

double Number(const Json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<double>() : 0.0;
}
std::string Text(const Json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? text::EscapeControl(it->get<std::string>()) : "";
}

void PrintReport(const Json& r) {
  std::printf("run %s  model %s  verdict %s  records %.0f", Text(r, "run_id").c_str(),
              Text(r, "model_version").c_str(), Text(r, "verdict").c_str(), Number(r, "records"));
  if (r.contains("reference_records") && r["reference_records"].is_number()) {
    std::printf(" (reference %.0f)", Number(r, "reference_records"));
  }
  std::printf("\n");
  if (auto e = r.find("estimated_accuracy"); e != r.end() && e->is_object()) {
    std::printf(
        "  estimated accuracy %.3f [%.3f, %.3f] (mean score %.3f, calibration offset %.3f, "
        "error %.3f)\n",
        Number(*e, "value"), Number(*e, "low"), Number(*e, "high"), Number(*e, "mean_score"),
        Number(*e, "calibration_offset"), Number(*e, "calibration_error"));
  }
  if (auto f = r.find("feedback"); f != r.end() && f->is_object()) {
    const std::string line = MeasuredAccuracyLine(f->dump());
    if (!line.empty()) std::printf("  %s\n", line.c_str());
  }
  if (auto s = r.find("signals"); s != r.end() && s->is_array() && !s->empty()) {
    std::printf("  %-26s %-19s %10s %10s %10s  %s\n", "signal", "test", "statistic", "threshold",
                "p", "band");
    for (const auto& g : *s) {
      std::printf("  %-26s %-19s %10.4f %10.4f %10.2g  %s\n", Text(g, "name").c_str(),
                  Text(g, "test").c_str(), Number(g, "statistic"), Number(g, "threshold"),
                  Number(g, "p_value"), Text(g, "band").c_str());
    }
  }
  if (auto t = r.find("top_terms"); t != r.end() && t->is_array() && !t->empty()) {
    std::printf("  %-32s %8s %10s %8s  %s\n", "term (more in this batch)", "batch", "reference",
                "z", "examples");
    for (const auto& term : *t) {
      std::string examples;
      if (auto e = term.find("examples"); e != term.end() && e->is_array()) {
        for (const auto& id : *e) {
          if (!id.is_string()) continue;
          if (!examples.empty()) examples += ", ";
          examples += text::EscapeControl(id.get<std::string>());
        }
      }
      std::printf("  %-32s %7.2f%% %9.2f%% %8.1f  %s\n", Text(term, "term").c_str(),
                  100 * Number(term, "batch_share"), 100 * Number(term, "reference_share"),
                  Number(term, "z"), examples.c_str());
    }
  }
  if (auto a = r.find("alarms"); a != r.end() && a->is_array()) {
    for (const auto& alarm : *a) {
      if (!alarm.is_object()) continue;
      std::printf("  alarm %s: %s, %.0f of %.0f consecutive run(s): %s\n",
                  Text(alarm, "name").c_str(), Text(alarm, "condition").c_str(),
                  Number(alarm, "runs_met"), Number(alarm, "consecutive_runs"),
                  alarm.value("firing", false) ? "FIRING" : "not firing");
    }
  }
  if (auto n = r.find("notes"); n != r.end() && n->is_array()) {
    for (const auto& note : *n) {
      if (note.is_string()) {
        std::printf("  note: %s\n", text::EscapeControl(note.get<std::string>()).c_str());
      }
    }
  }
}

Status RunMonitor(const MonitorFlags& f) {
  if (f.last < 1) return InvalidArgumentError("--last must be at least 1");
  LOTE_ASSIGN_OR_RETURN(auto out, storage::OpenStorage(f.output));
  std::vector<std::string> uris;
  size_t keep = 1;
  if (!f.run.empty()) {
    if (f.run.find('/') != std::string::npos || f.run.find("..") != std::string::npos) {
      return InvalidArgumentError("--run takes a run id, not a path");
    }
    uris.push_back(storage::JoinUri(f.output, "_runs/" + f.run + "/monitoring.json"));
  } else {
    LOTE_ASSIGN_OR_RETURN(auto found,
                          out->List(storage::JoinUri(f.output, "_runs/*/monitoring.json")));
    if (found.empty()) {
      return NotFoundError("no monitoring report under " + f.output +
                           "/_runs (runs of this lote write one; see docs/monitoring.md)");
    }
    // Run ids start with their start time to the second (URI order is time order) and end in
    // a random suffix: runs started in the same second as the oldest one kept are read too and
    // put in order by when their reports were written.
    keep = std::min(found.size(), static_cast<size_t>(f.last));
    size_t from = found.size() - keep;
    auto second = [&](size_t i) {
      const std::string& u = found[i].uri;
      const size_t slash = u.rfind('/', u.size() - sizeof("/monitoring.json"));
      return u.substr(slash + 1, u.find('-', slash) - slash - 1);
    };
    while (from > 0 && second(from - 1) == second(from)) --from;
    for (size_t i = from; i < found.size(); ++i) uris.push_back(found[i].uri);
  }
  std::vector<Json> reports;
  for (const std::string& uri : uris) {
    LOTE_ASSIGN_OR_RETURN(std::string text, out->Read(uri));
    Json r = Json::parse(text, nullptr, false);
    if (!r.is_object()) return DataLossError(uri + ": not a monitoring report (JSON object)");
    // Late labels (`lote feedback`) leave the run's measured accuracy beside its report.
    const std::string feedback_uri = uri.substr(0, uri.rfind('/')) + "/feedback.json";
    auto feedback = out->Read(feedback_uri);
    if (feedback.ok()) {
      Json fb = Json::parse(*feedback, nullptr, false);
      if (!fb.is_object()) return DataLossError(feedback_uri + ": not a feedback report");
      r["feedback"] = std::move(fb);
    } else if (feedback.status().code() != StatusCode::kNotFound) {
      return feedback.status();
    }
    reports.push_back(std::move(r));
  }
  std::stable_sort(reports.begin(), reports.end(), [](const Json& a, const Json& b) {
    return a.value("written_at", "") < b.value("written_at", "");
  });
  if (f.run.empty() && reports.size() > keep) reports.erase(reports.begin(), reports.end() - keep);
  for (const Json& r : reports) {
    if (f.json) {
      std::printf("%s\n", r.dump(-1, ' ', false, Json::error_handler_t::replace).c_str());
    } else {
      PrintReport(r);
    }
  }
  return Status::Ok();
}

void SetupMonitor(CLI::App& root, int* exit_code) {
  auto* cmd = root.add_subcommand(
      "monitor", "Print the monitoring reports (drift, estimated accuracy) of an output's runs");
  auto f = std::make_shared<MonitorFlags>();
  cmd->add_option("--output", f->output, "Pipeline output (folder, file:// or s3://)")->required();
  auto* run = cmd->add_option("--run", f->run, "One run's report");
  cmd->add_option("--last", f->last, "The last N runs' reports, oldest first")
      ->capture_default_str()
      ->excludes(run);
  cmd->add_flag("--json", f->json, "One JSON report per line, as stored");
  cmd->callback([f, exit_code] {
    Status s = RunMonitor(*f);
    *exit_code = s.ok() ? kExitOk : Fail(s);
  });
}

}  // namespace
LOTE_REGISTER_COMMAND(62, SetupMonitor);
}  // namespace lote::cli
