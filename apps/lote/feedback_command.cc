// `lote feedback --output URI --labels FILE [--format csv|jsonl] [--json] [--metrics SPEC]...`:
// records labels that arrived after the predictions and prints the measured accuracy of every run
// they touch (lote/pipeline/feedback.h, docs/monitoring.md); --metrics reports it as
// lote_feedback_* gauges (lote/monitoring/job_metrics.h).
#include <cstdio>
#include <nlohmann/json.hpp>

#include "command.h"
#include "common.h"
#include "job_metrics.h"
#include "lote/base/clock.h"
#include "lote/monitoring/job_metrics.h"
#include "lote/pipeline/feedback.h"
#include "lote/text/utf8.h"
#include "pipeline_config.h"

namespace lote::cli {
namespace {

struct FeedbackFlags {
  std::string output, labels, format, catalog;
  double lock_wait = 0;
  bool json = false;
  std::vector<std::string> metrics;
};

using Json = nlohmann::ordered_json;

void PrintSummary(const pipeline::FeedbackSummary& s) {
  std::printf(
      "feedback %s: %llu rows (%llu repeated record ids: last label kept), %llu matched, %llu "
      "unmatched, %llu without a prediction, %llu with a label the model never predicted\n",
      s.feedback_id.c_str(), static_cast<unsigned long long>(s.rows),
      static_cast<unsigned long long>(s.duplicates), static_cast<unsigned long long>(s.matched),
      static_cast<unsigned long long>(s.unmatched),
      static_cast<unsigned long long>(s.without_prediction),
      static_cast<unsigned long long>(s.unknown_labels));
  for (size_t i = 0; i < s.runs.size(); ++i) {
    const auto& rows = s.accuracy[i];
    const std::string run = text::EscapeControl(s.runs[i]);
    if (rows.empty()) {
      std::printf("run %s: no labelled record left\n", run.c_str());
      continue;
    }
    const auto& all = rows.front();
    std::printf("run %s  model %s: %s", run.c_str(), text::EscapeControl(all.model_version).c_str(),
                MeasuredAccuracyLine(pipeline::FeedbackAccuracyJson(rows)).c_str());
    if (all.run_estimate) {
      std::printf("; run estimate %.3f [%.3f, %.3f]", *all.run_estimate,
                  all.run_estimate_low.value_or(0), all.run_estimate_high.value_or(1));
    }
    std::printf("\n");
    for (size_t k = 1; k < rows.size(); ++k) {
      const auto& a = rows[k];
      std::printf("  %-28s %6llu labelled  measured %.3f [%.3f, %.3f]",
                  text::EscapeControl(a.predicted_label).c_str(),
                  static_cast<unsigned long long>(a.labelled), a.accuracy, a.low, a.high);
      if (a.estimated_accuracy) std::printf("  estimate %.3f", *a.estimated_accuracy);
      std::printf("\n");
    }
  }
}

Json SummaryJson(const pipeline::FeedbackSummary& s) {
  Json j;
  j["feedback_id"] = s.feedback_id;
  j["received_at"] = s.received_at;
  j["file"] = s.file_uri;
  j["rows"] = s.rows;
  j["records"] = s.records;
  j["duplicates"] = s.duplicates;
  j["matched"] = s.matched;
  j["unmatched"] = s.unmatched;
  j["without_prediction"] = s.without_prediction;
  j["unknown_labels"] = s.unknown_labels;
  Json runs = Json::array();
  for (size_t i = 0; i < s.runs.size(); ++i) {
    if (s.accuracy[i].empty()) {
      runs.push_back({{"run_id", s.runs[i]}, {"measured_accuracy", nullptr}});
    } else {
      runs.push_back(Json::parse(pipeline::FeedbackAccuracyJson(s.accuracy[i])));
    }
  }
  j["runs"] = std::move(runs);
  return j;
}

Status RecordFeedback(const FeedbackFlags& f, pipeline::FeedbackSummary* out) {
  if (f.lock_wait < 0) return InvalidArgumentError("--lock-wait must be >= 0");
  pipeline::LabelsFormat format = pipeline::LabelsFormatFromPath(f.labels);
  if (!f.format.empty()) {
    LOTE_ASSIGN_OR_RETURN(format, pipeline::ParseLabelsFormat(f.format));
  }
  LOTE_ASSIGN_OR_RETURN(auto labels, OpenInput(f.labels));
  pipeline::FeedbackOptions o;
  o.output_uri = f.output;
  o.catalog_path = f.catalog;
  o.lock_wait_seconds = f.lock_wait;
  o.log = [](pipeline::LogLevel level, std::string_view line) {
    std::fprintf(stderr, "lote: %s%s\n", level == pipeline::LogLevel::kInfo ? "" : "warning: ",
                 text::EscapeControl(line).c_str());
  };
  LOTE_ASSIGN_OR_RETURN(*out, pipeline::RecordFeedbackFile(o, std::move(labels), format));
  if (f.json) {
    std::printf("%s\n",
                SummaryJson(*out).dump(-1, ' ', false, Json::error_handler_t::replace).c_str());
  } else {
    PrintSummary(*out);
  }
  return Status::Ok();
}

int RunFeedback(const FeedbackFlags& f) {
  JobMetrics metrics(f.metrics, "feedback");
  const int64_t start = SystemClock()->MonotonicNanos();
  pipeline::FeedbackSummary summary;
  if (Status s = RecordFeedback(f, &summary); !s.ok()) {
    return FinishFailedJob(&metrics, start, Fail(s));
  }
  if (MetricsSink* sink = metrics.sink()) {
    monitoring::ReportFeedbackMetrics(summary, SystemClock()->SecondsSince(start),
                                      SystemClock()->NowMicros(), sink);
    metrics.Finish(true);
  }
  return kExitOk;
}

void SetupFeedback(CLI::App& root, int* exit_code) {
  auto* cmd = root.add_subcommand(
      "feedback",
      "Record labels that arrived after the predictions; print each run's measured accuracy");
  auto f = std::make_shared<FeedbackFlags>();
  cmd->add_option("--output", f->output, "Pipeline output (folder, file:// or s3://)")->required();
  cmd->add_option("--labels", f->labels,
                  "CSV with a header record_id,label, or JSON lines {\"record_id\", \"label\"} "
                  "(.gz/.zst decompressed; - reads standard input)")
      ->required();
  cmd->add_option("--format", f->format,
                  "csv | jsonl | auto (default: from the extension; else the first byte decides)")
      ->check(CLI::IsMember({"csv", "jsonl", "ndjson", "json", "auto"}));
  cmd->add_option("--catalog", f->catalog,
                  "Catalog database (with an s3:// --output: where its local cache is kept)");
  cmd->add_option("--lock-wait", f->lock_wait,
                  "Seconds to wait for a run holding the output lock (default 0: fail at once)");
  cmd->add_flag("--json", f->json, "The whole result as one JSON object");
  AddMetricsFlag(cmd, &f->metrics);
  cmd->callback([f, exit_code] { *exit_code = RunFeedback(*f); });
}

}  // namespace
LOTE_REGISTER_COMMAND(63, SetupFeedback);
}  // namespace lote::cli
