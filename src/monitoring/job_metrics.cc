#include "lote/monitoring/job_metrics.h"

#include <map>
#include <string>
#include <utility>

namespace lote::monitoring {
namespace {

double Seconds(int64_t micros) { return static_cast<double>(micros) / 1e6; }

bool Has(std::string_view s, std::string_view part) { return s.find(part) != std::string::npos; }

// Reports through `sink` with model=<model> appended to the labels (when a model ran).
class Reporter {
 public:
  Reporter(MetricsSink* sink, std::string_view model) : sink_(sink), model_(model) {}
  void Gauge(std::string_view name, double value) { Gauge(name, {}, {}, value); }
  void Gauge(std::string_view name, std::string_view label, std::string_view value, double v) {
    Gauge2(name, label, value, {}, {}, v);
  }
  void Gauge2(std::string_view name, std::string_view l1, std::string_view v1, std::string_view l2,
              std::string_view v2, double v) {
    MetricLabel labels[3];
    size_t n = 0;
    if (!l1.empty()) labels[n++] = {l1, v1};
    if (!l2.empty()) labels[n++] = {l2, v2};
    if (!model_.empty()) labels[n++] = {"model", model_};
    sink_->Gauge(name, MetricLabels(labels, n), v);
  }

 private:
  MetricsSink* sink_;
  std::string_view model_;
};

}  // namespace

void DeclareJobMetrics(PrometheusRegistry* r) {
  using T = MetricType;
  r->Declare("lote_job_last_success_timestamp_seconds", T::kGauge,
             "When the last successful lote job ended, in Unix seconds.");
  r->Declare("lote_job_last_failure_timestamp_seconds", T::kGauge,
             "When the last failed lote job ended, in Unix seconds.");
  r->Declare("lote_job_duration_seconds", T::kGauge, "Wall seconds of the job's invocation.");
  r->Declare("lote_job_records", T::kGauge,
             "Records of the job by outcome (in = out + quarantined + duplicate for a run).");
  r->Declare("lote_job_records_per_second", T::kGauge, "Records in per wall second.");
  r->Declare("lote_job_quarantined_records", T::kGauge,
             "Quarantined records of the job by pipeline step and reason class.");
  r->Declare("lote_job_step_seconds", T::kGauge,
             "Seconds spent per pipeline step, summed over the threads doing it.");
  r->Declare("lote_job_label_records", T::kGauge,
             "Results per predicted label (the run's most frequent labels).");
  r->Declare(
      "lote_job_mean_score", T::kGauge,
      "Mean calibrated score of the run's labelled results (the whole run with monitoring on; "
      "this invocation's commits with it off).");
  r->Declare("lote_job_objects", T::kGauge, "Input objects of the job by state.");
  r->Declare("lote_monitoring_verdict", T::kGauge,
             "1 for the run's monitoring verdict (ok, warn, drift, no_reference).");
  r->Declare("lote_monitoring_signal_band", T::kGauge,
             "Band of each monitoring signal tested: 0 ok, 1 warn, 2 drift.");
  r->Declare("lote_monitoring_signal_statistic", T::kGauge,
             "Each monitoring signal's test statistic against the model's reference.");
  r->Declare("lote_monitoring_signal_threshold", T::kGauge,
             "Each monitoring signal's drift threshold for the sizes compared.");
  r->Declare("lote_monitoring_alarm", T::kGauge,
             "1 when the alarm rule (monitoring.alarms, by name) fired on the run, else 0.");
  r->Declare("lote_monitoring_estimated_accuracy", T::kGauge,
             "Label-free accuracy estimate (mean calibrated probability of the predicted label) "
             "with its interval: bound=value|low|high.");
  r->Declare("lote_job_input_bytes", T::kGauge, "Bytes of input read (run) or snapshotted.");
  r->Declare("lote_feedback_records", T::kGauge,
             "Rows of the labels file lote feedback read, by outcome.");
  r->Declare("lote_feedback_measured_accuracy", T::kGauge,
             "Measured accuracy of a run on its late-labelled records: bound=value|low|high "
             "(Wilson 95 %).");
  r->Declare("lote_feedback_labelled_records", T::kGauge,
             "Records of a run that have a late label.");
  r->Declare("lote_feedback_estimated_accuracy", T::kGauge,
             "The run's label-free accuracy estimate for the same labelled records.");
  r->Declare("lote_flow_executions", T::kGauge, "1 for the final status of the execution.");
  r->Declare("lote_flow_execution_seconds", T::kGauge, "Wall seconds of the execution.");
}

std::string_view QuarantineReasonSlug(std::string_view stage, std::string_view reason) {
  if (Has(reason, "UTF-8")) return "invalid_utf8";
  if (Has(reason, "NUL")) return "nul_byte";
  if (Has(reason, "JSON")) return "malformed_json";
  if (Has(reason, "wrong number of fields")) return "field_count";
  if (Has(reason, "CSV") || Has(reason, "quote")) return "malformed_csv";
  if (Has(reason, "field missing") || Has(reason, "missing")) return "missing_field";
  if (Has(reason, "wrong field type")) return "wrong_type";
  if (Has(reason, "empty label")) return "empty_label";
  if (Has(reason, "too long") || Has(reason, "longer than")) return "too_long";
  if (Has(reason, "empty")) return "empty_text";
  if (Has(reason, "unreadable")) return "unreadable";
  if (stage == "infer") return "inference_error";
  return "other";
}

void ReportRunMetrics(const pipeline::RunReport& r, int64_t end_micros, MetricsSink* sink) {
  Reporter m(sink, r.model_version);
  m.Gauge("lote_job_last_success_timestamp_seconds", Seconds(end_micros));
  m.Gauge("lote_job_duration_seconds", r.wall_s);
  const auto& c = r.counts;
  m.Gauge("lote_job_records", "outcome", "in", static_cast<double>(c.records_in));
  m.Gauge("lote_job_records", "outcome", "out", static_cast<double>(c.records_out));
  m.Gauge("lote_job_records", "outcome", "quarantined", static_cast<double>(c.records_quarantined));
  m.Gauge("lote_job_records", "outcome", "duplicate", static_cast<double>(c.records_duplicate));
  m.Gauge("lote_job_records_per_second",
          r.wall_s > 0 ? static_cast<double>(c.records_in) / r.wall_s : 0);
  m.Gauge("lote_job_input_bytes", static_cast<double>(c.bytes_in));
  m.Gauge("lote_job_step_seconds", "step", "ingest", r.stages.ingest_s);
  m.Gauge("lote_job_step_seconds", "step", "prep", r.stages.prep_s);
  m.Gauge("lote_job_step_seconds", "step", "infer", r.stages.infer_s);
  m.Gauge("lote_job_step_seconds", "step", "publish", r.stages.publish_s);
  m.Gauge("lote_job_step_seconds", "step", "catalog", r.stages.catalog_s);
  m.Gauge("lote_job_objects", "state", "listed", static_cast<double>(r.objects_listed));
  m.Gauge("lote_job_objects", "state", "processed", static_cast<double>(r.objects_processed));
  m.Gauge("lote_job_objects", "state", "skipped", static_cast<double>(r.objects_skipped));
  m.Gauge("lote_job_objects", "state", "ignored", static_cast<double>(r.objects_ignored));
  if (r.scored_records > 0) {
    m.Gauge("lote_job_mean_score", r.score_sum / static_cast<double>(r.scored_records));
  }
  for (const auto& [label, n] : r.top_labels) {
    m.Gauge("lote_job_label_records", "label", label, static_cast<double>(n));
  }
  // "stage: reason class" -> (step, slug), summed: several classes share a slug.
  std::map<std::pair<std::string, std::string_view>, uint64_t> reasons;
  for (const auto& [reason, n] : r.quarantine_reasons) {
    const size_t colon = reason.find(": ");
    std::string step = colon == std::string::npos ? "" : reason.substr(0, colon);
    if (step != "ingest" && step != "prep" && step != "infer") step = "other";
    const std::string_view rest = colon == std::string::npos
                                      ? std::string_view(reason)
                                      : std::string_view(reason).substr(colon + 2);
    reasons[{step, QuarantineReasonSlug(step, rest)}] += n;
  }
  for (const auto& [key, n] : reasons) {
    m.Gauge2("lote_job_quarantined_records", "step", key.first, "reason", key.second,
             static_cast<double>(n));
  }
  // Monitoring: signal names are a closed set (lote/monitoring/profile.h).
  if (!r.monitoring_uri.empty()) {  // empty: monitoring off
    const monitoring::MonitoringReport& mon = r.monitoring;
    m.Gauge("lote_monitoring_verdict", "verdict", mon.verdict, 1);
    for (const monitoring::SignalResult& s : mon.signals) {
      m.Gauge("lote_monitoring_signal_band", "signal", s.name, static_cast<double>(s.band));
      m.Gauge("lote_monitoring_signal_statistic", "signal", s.name, s.statistic);
      m.Gauge("lote_monitoring_signal_threshold", "signal", s.name, s.threshold);
    }
    for (const monitoring::AlarmResult& a : r.alarms) {
      m.Gauge("lote_monitoring_alarm", "alarm", a.name, a.firing ? 1 : 0);
    }
    if (mon.estimated_accuracy) {
      m.Gauge("lote_monitoring_estimated_accuracy", "bound", "value",
              mon.estimated_accuracy->value);
      m.Gauge("lote_monitoring_estimated_accuracy", "bound", "low", mon.estimated_accuracy->low);
      m.Gauge("lote_monitoring_estimated_accuracy", "bound", "high", mon.estimated_accuracy->high);
    }
  }
}

void ReportStageMetrics(const pipeline::StageReport& r, std::string_view model, int64_t end_micros,
                        MetricsSink* sink) {
  Reporter m(sink, model);
  m.Gauge("lote_job_last_success_timestamp_seconds", Seconds(end_micros));
  m.Gauge("lote_job_duration_seconds", r.wall_s);
  m.Gauge("lote_job_records", "outcome", "in", static_cast<double>(r.records));
  m.Gauge("lote_job_records", "outcome", "quarantined", static_cast<double>(r.records_quarantined));
  m.Gauge("lote_job_records_per_second",
          r.wall_s > 0 ? static_cast<double>(r.records) / r.wall_s : 0);
  m.Gauge("lote_job_objects", "state", "pending", static_cast<double>(r.objects_pending));
  m.Gauge("lote_job_objects", "state", "done", static_cast<double>(r.objects_done));
  m.Gauge("lote_job_objects", "state", "skipped", static_cast<double>(r.objects_skipped));
  if (r.stage == pipeline::Stage::kIngest) {
    m.Gauge("lote_job_input_bytes", static_cast<double>(r.bytes));
  }
}

void ReportFeedbackMetrics(const pipeline::FeedbackSummary& s, double wall_s, int64_t end_micros,
                           MetricsSink* sink) {
  Reporter job(sink, {});
  job.Gauge("lote_job_last_success_timestamp_seconds", Seconds(end_micros));
  job.Gauge("lote_job_duration_seconds", wall_s);
  for (const auto& [outcome, n] : {std::pair{"rows", s.rows},
                                   {"duplicate", s.duplicates},
                                   {"matched", s.matched},
                                   {"unmatched", s.unmatched},
                                   {"without_prediction", s.without_prediction},
                                   {"unknown_label", s.unknown_labels}}) {
    job.Gauge("lote_feedback_records", "outcome", outcome, static_cast<double>(n));
  }
  // Runs are sorted by id, and ids start with their UTC start time: the newest are last.
  const size_t first =
      s.runs.size() > kFeedbackMetricRuns ? s.runs.size() - kFeedbackMetricRuns : 0;
  for (size_t i = first; i < s.runs.size() && i < s.accuracy.size(); ++i) {
    if (s.accuracy[i].empty()) continue;                          // no labelled record left
    const pipeline::FeedbackAccuracy& a = s.accuracy[i].front();  // the whole run
    Reporter m(sink, a.model_version);
    m.Gauge2("lote_feedback_measured_accuracy", "run", s.runs[i], "bound", "value", a.accuracy);
    m.Gauge2("lote_feedback_measured_accuracy", "run", s.runs[i], "bound", "low", a.low);
    m.Gauge2("lote_feedback_measured_accuracy", "run", s.runs[i], "bound", "high", a.high);
    m.Gauge("lote_feedback_labelled_records", "run", s.runs[i], static_cast<double>(a.labelled));
    if (a.estimated_accuracy) {
      m.Gauge("lote_feedback_estimated_accuracy", "run", s.runs[i], *a.estimated_accuracy);
    }
  }
}

void ReportJobFailure(std::string_view model, double wall_s, int64_t end_micros,
                      MetricsSink* sink) {
  Reporter m(sink, model);
  m.Gauge("lote_job_last_failure_timestamp_seconds", Seconds(end_micros));
  m.Gauge("lote_job_duration_seconds", wall_s);
}

void ReportFlowMetrics(std::string_view status, double wall_s, int64_t end_micros,
                       MetricsSink* sink) {
  Reporter m(sink, {});
  m.Gauge(status == "SUCCEEDED" ? "lote_job_last_success_timestamp_seconds"
                                : "lote_job_last_failure_timestamp_seconds",
          Seconds(end_micros));
  m.Gauge("lote_flow_executions", "status", status, 1);
  m.Gauge("lote_flow_execution_seconds", wall_s);
}

}  // namespace lote::monitoring
