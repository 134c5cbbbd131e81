#include "lote/monitoring/job_metrics.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "lote/base/emf.h"
#include "testing/prometheus_server.h"

namespace lote::monitoring {
namespace {

pipeline::RunReport SampleReport() {
  pipeline::RunReport r;
  r.run_id = "r1";
  r.model_version = "banca-1.0";
  r.counts = {.records_in = 10,
              .records_out = 6,
              .records_quarantined = 3,
              .records_duplicate = 1,
              .bytes_in = 4096};
  r.stages = {.ingest_s = 0.5, .prep_s = 0.25, .infer_s = 1, .publish_s = 0.125, .catalog_s = 0};
  r.objects_listed = 3;
  r.objects_processed = 2;
  r.objects_skipped = 1;
  r.wall_s = 2;
  r.top_labels = {{"pagos", 4}, {"saldo \"actual\"", 2}};
  r.quarantine_reasons = {{"ingest: invalid UTF-8 at byte N", 1},
                          {"prep: empty after cleaning", 1},
                          {"ingest: /data/juan.perez.jsonl:3: malformed JSON", 1}};
  return r;
}

TEST(JobMetrics, ARunsMetricsPassPromtoolAndHoldTheReportsNumbers) {
  PrometheusRegistry r;
  DeclareJobMetrics(&r);
  ReportRunMetrics(SampleReport(), 1700000000500000, &r);
  const std::string text = r.Render();
  Status check = testing::PromtoolCheckMetrics(text);
  EXPECT_TRUE(check.ok()) << check.ToString() << "\n" << text;
  auto v = [&](std::string_view name, std::vector<std::pair<std::string, std::string>> labels) {
    auto x = testing::FindSample(text, name, labels);
    return x.ok() ? *x : -1;
  };
  EXPECT_EQ(v("lote_job_records", {{"outcome", "in"}, {"model", "banca-1.0"}}), 10);
  EXPECT_EQ(v("lote_job_records", {{"outcome", "duplicate"}}), 1);
  EXPECT_EQ(v("lote_job_records_per_second", {}), 5);
  EXPECT_EQ(v("lote_job_step_seconds", {{"step", "infer"}}), 1);
  EXPECT_EQ(v("lote_job_last_success_timestamp_seconds", {}), 1700000000.5);
  EXPECT_EQ(v("lote_job_label_records", {{"label", "pagos"}}), 4);
  EXPECT_EQ(v("lote_job_label_records", {{"label", "saldo \\\"actual\\\""}}), 2);
  EXPECT_EQ(v("lote_job_quarantined_records", {{"step", "ingest"}, {"reason", "invalid_utf8"}}), 1);
  EXPECT_EQ(v("lote_job_quarantined_records", {{"step", "prep"}, {"reason", "empty_text"}}), 1);
  EXPECT_EQ(v("lote_job_quarantined_records", {{"reason", "malformed_json"}}), 1);
  // Reasons are reduced to a closed set: no file name or other text reaches a label.
  EXPECT_EQ(text.find("juan"), std::string::npos) << text;
}

TEST(JobMetrics, ARunsEmfEventsCarryModelAndStageDimensions) {
  EmfOptions o;
  o.dimensions = {{"stage", "run"}};
  EmfMetrics emf(o);
  ReportRunMetrics(SampleReport(), 1700000000500000, &emf);
  bool found = false;
  for (const std::string& line : emf.Render(1700000000500)) {
    auto e = nlohmann::json::parse(line);
    EXPECT_EQ(e["stage"], "run");
    EXPECT_EQ(e["model"], "banca-1.0");
    if (e.contains("lote_job_duration_seconds")) {
      found = true;
      EXPECT_EQ(e["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0],
                nlohmann::json::parse(R"(["stage","model"])"));
      EXPECT_EQ(e["lote_job_duration_seconds"], 2);
    }
  }
  EXPECT_TRUE(found);
  EXPECT_EQ(emf.dropped(), 0u);
}

TEST(JobMetrics, FeedbackReportsTheNewestRunsMeasuredAccuracyAndPassesPromtool) {
  pipeline::FeedbackSummary s;
  s.rows = 30;
  s.matched = 25;
  s.unmatched = 5;
  for (int i = 0; i < 12; ++i) {
    char id[32];
    std::snprintf(id, sizeof id, "20261207T%02d0000Z-abc", i);
    s.runs.push_back(id);
    pipeline::FeedbackAccuracy a;
    a.run_id = id;
    a.model_version = i % 2 ? "banca-2" : "banca-1";
    a.labelled = 2;
    a.correct = 1;
    a.accuracy = 0.5;
    a.low = 0.1;
    a.high = 0.9;
    if (i != 11) a.estimated_accuracy = 0.6;
    s.accuracy.push_back({a});
  }
  s.accuracy[10].clear();  // no labelled record left
  PrometheusRegistry r;
  DeclareJobMetrics(&r);
  ReportFeedbackMetrics(s, 1.5, 1700000000000000, &r);
  const std::string text = r.Render();
  Status check = testing::PromtoolCheckMetrics(text);
  EXPECT_TRUE(check.ok()) << check.ToString() << "\n" << text;
  EXPECT_NE(text.find("lote_feedback_records{outcome=\"matched\"} 25"), std::string::npos) << text;
  // The newest 10 runs only (of 12), one without labels left: 9 runs, 3 bounds each.
  size_t series = 0;
  for (size_t at = text.find("lote_feedback_measured_accuracy{"); at != std::string::npos;
       at = text.find("lote_feedback_measured_accuracy{", at + 1)) {
    ++series;
  }
  EXPECT_EQ(series, 27u) << text;
  EXPECT_EQ(text.find("20261207T000000Z-abc"), std::string::npos);  // the oldest two
  EXPECT_EQ(text.find("20261207T100000Z-abc"), std::string::npos);  // no labels left
  EXPECT_NE(text.find("lote_feedback_measured_accuracy{bound=\"low\",model=\"banca-2\","
                      "run=\"20261207T110000Z-abc\"} 0.1"),
            std::string::npos)
      << text;
  EXPECT_EQ(
      text.find("lote_feedback_estimated_accuracy{model=\"banca-2\",run=\"20261207T110000Z-abc\""),
      std::string::npos);
  EXPECT_NE(
      text.find(
          "lote_feedback_estimated_accuracy{model=\"banca-2\",run=\"20261207T090000Z-abc\"} 0.6"),
      std::string::npos);
}

TEST(JobMetrics, QuarantineReasonsMapToAClosedSet) {
  EXPECT_EQ(QuarantineReasonSlug("ingest", "line longer than N bytes"), "too_long");
  EXPECT_EQ(QuarantineReasonSlug("prep", "too long: N characters"), "too_long");
  EXPECT_EQ(QuarantineReasonSlug("ingest", "wrong number of fields"), "field_count");
  EXPECT_EQ(QuarantineReasonSlug("ingest", "NUL byte"), "nul_byte");
  EXPECT_EQ(QuarantineReasonSlug("infer", "Internal: boom"), "inference_error");
  EXPECT_EQ(QuarantineReasonSlug("ingest", "something new"), "other");
}

}  // namespace
}  // namespace lote::monitoring
