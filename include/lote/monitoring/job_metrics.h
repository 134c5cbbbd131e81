// The per-run metrics of lote's batch jobs (`lote run`, the stage commands, `lote flow run`),
// reported from their reports into any MetricsSink (a PrometheusRegistry to push to a
// Pushgateway, an EmfMetrics for CloudWatch). All are gauges describing one finished job, the
// batch-job practice of Prometheus (a pushed group holds the latest job's numbers):
//
//   lote_job_last_success_timestamp_seconds   end of the last successful job (Unix seconds)
//   lote_job_last_failure_timestamp_seconds   end of a failed job (pushed without the above)
//   lote_job_duration_seconds                 wall seconds of this invocation
//   lote_job_records{outcome}                 in | out | quarantined | duplicate (stages: in,
//                                             quarantined)
//   lote_job_records_per_second               records in / wall seconds
//   lote_job_quarantined_records{step,reason} step ingest|prep|infer; reason from a closed set
//                                             (QuarantineReasonSlug)
//   lote_job_step_seconds{step}               ingest | prep | infer | publish | catalog
//   lote_job_label_records{label}             results per predicted label (the run's 10 most
//                                             frequent; values from the model's label set)
//   lote_job_objects{state}                   listed | processed | skipped | ignored (stages:
//                                             pending | done | skipped)
//   lote_job_input_bytes                      bytes read (run) or snapshotted (ingest)
//   lote_monitoring_verdict{verdict}          1 for the run's verdict: ok | warn | drift |
//                                             no_reference (docs/monitoring.md)
//   lote_monitoring_signal_band{signal}       0 ok, 1 warn, 2 drift, per signal tested
//   lote_monitoring_signal_statistic{signal}  the test statistic; ..._threshold{signal} its
//                                             drift threshold for the sizes compared
//   lote_monitoring_estimated_accuracy{bound} value | low | high of the label-free estimate
//   lote_monitoring_alarm{alarm}              1 firing, 0 not, per alarm rule (names from the
//                                             pipeline config, not from data)
//   lote_feedback_records{outcome}            `lote feedback`'s labels: rows | duplicate | matched
//                                             | unmatched | without_prediction | unknown_label
//   lote_feedback_measured_accuracy{run,bound}  value | low | high (Wilson 95 %) of the runs
//                                             whose measured accuracy changed (the newest
//                                             kFeedbackMetricRuns), model= the run's model
//   lote_feedback_labelled_records{run}       labelled records of that run
//   lote_feedback_estimated_accuracy{run}     the run's label-free estimate for the same records
//   lote_flow_executions{status}              1 for the execution's final status
//   lote_flow_execution_seconds               the execution's wall seconds
//
// Every series also has the label model=<model version> when the job ran a model. No label
// value ever comes from record data: steps, outcomes, states and reasons are closed sets, labels
// and model versions come from the model file, run ids are lote's own (a timestamp and random
// hex).
// Thread-safety: the functions are thread-safe when the sink is.
#ifndef LOTE_MONITORING_JOB_METRICS_H_
#define LOTE_MONITORING_JOB_METRICS_H_

#include <cstdint>
#include <string_view>

#include "lote/base/metrics.h"
#include "lote/base/prometheus.h"
#include "lote/pipeline/feedback.h"
#include "lote/pipeline/pipeline.h"
#include "lote/pipeline/stages.h"

namespace lote::monitoring {

// Declares the families above (HELP text and type) on `registry`.
void DeclareJobMetrics(PrometheusRegistry* registry);

// A finished run (`lote run`, `lote publish`), ended at `end_micros` (Unix microseconds).
void ReportRunMetrics(const pipeline::RunReport& report, int64_t end_micros, MetricsSink* sink);

// A finished ingest, prep or infer stage; `model` may be empty (ingest, prep).
void ReportStageMetrics(const pipeline::StageReport& report, std::string_view model,
                        int64_t end_micros, MetricsSink* sink);

// A finished `lote feedback` after `wall_s` seconds. The runs are bounded: a labels file may
// touch many runs, and each would be a series; the newest kFeedbackMetricRuns are reported (their
// ids sort by time), all of them are in the catalog and in feedback.json.
inline constexpr size_t kFeedbackMetricRuns = 10;
void ReportFeedbackMetrics(const pipeline::FeedbackSummary& summary, double wall_s,
                           int64_t end_micros, MetricsSink* sink);

// A job that failed after `wall_s` seconds.
void ReportJobFailure(std::string_view model, double wall_s, int64_t end_micros, MetricsSink* sink);

// A finished `lote flow` execution with its final status name (SUCCEEDED, FAILED, TIMED_OUT,
// ABORTED); a SUCCEEDED one also sets the last-success timestamp, any other the last-failure one.
void ReportFlowMetrics(std::string_view status, double wall_s, int64_t end_micros,
                       MetricsSink* sink);

// The closed-set name of a quarantine reason class ("invalid UTF-8 at byte N" -> invalid_utf8):
// invalid_utf8, nul_byte, malformed_json, missing_field, wrong_type, empty_label, field_count,
// malformed_csv, too_long, empty_text, unreadable, inference_error, other.
std::string_view QuarantineReasonSlug(std::string_view stage, std::string_view reason_class);

}  // namespace lote::monitoring

#endif  // LOTE_MONITORING_JOB_METRICS_H_
