// `--metrics` on the batch commands: CloudWatch EMF lines to a file or stderr, and a push to a
// real Prometheus Pushgateway whose /metrics is read back (and checked by promtool).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "cli_runner.h"
#include "testing/http_wire.h"
#include "testing/prometheus_server.h"

namespace lote::testing {
namespace {

using Json = nlohmann::json;

class MetricsCli : public SampleModelTest {
 protected:
  void SetUp() override {
    SampleModelTest::SetUp();
    if (HasFatalFailure()) return;
    ASSERT_TRUE(MakeDemoLake(tmp_ / "lake"));
  }
  std::string RunArgs(const std::string& extra) {
    return "run --input " + (tmp_ / "lake") + " --output " + (tmp_ / "out") + " --model " +
           Model() + " --log-format json " + extra;
  }
  // The EMF events of `text`, one JSON object a line (lines that are not EMF are skipped).
  static std::vector<Json> EmfEvents(const std::string& text) {
    std::vector<Json> events;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
      auto j = Json::parse(line, nullptr, false);
      if (!j.is_discarded() && j.is_object() && j.contains("_aws")) events.push_back(j);
    }
    return events;
  }
  // The value of metric `name` in the event whose dimension `key` is `value`; -1 if none.
  static double EmfValue(const std::vector<Json>& events, const std::string& name,
                         const std::string& key = "", const std::string& value = "") {
    for (const Json& e : events) {
      if (!e.contains(name)) continue;
      if (!key.empty() && e.value(key, "") != value) continue;
      return e[name].get<double>();
    }
    return -1;
  }
  TempDir tmp_;
};

TEST_F(MetricsCli, RunWritesEmfAndPushesToAPushgatewayWhoseValuesReadBack) {
  auto gateway = Pushgateway::Start();
  ASSERT_TRUE(gateway.ok()) << gateway.status().ToString();
  auto r = RunLote(RunArgs("--metrics emf:" + (tmp_ / "emf.jsonl") +
                           " --metrics pushgateway:" + (*gateway)->endpoint()));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const Json summary = Json::parse(r.out);  // stdout is still only the summary
  EXPECT_EQ(summary["records_in"], 376);
  EXPECT_EQ(r.err.find("warning"), std::string::npos) << r.err;

  const auto events = EmfEvents(ReadAll(tmp_ / "emf.jsonl"));
  ASSERT_FALSE(events.empty());
  for (const Json& e : events) {
    EXPECT_EQ(e["stage"], "run");
    EXPECT_EQ(e["model"], summary["model_version"]);
    const auto& directive = e["_aws"]["CloudWatchMetrics"][0];
    EXPECT_EQ(directive["Namespace"], "lote");
    EXPECT_LE(directive["Metrics"].size(), 100u);
    EXPECT_LE(directive["Dimensions"][0].size(), 30u);
    EXPECT_GT(e["_aws"]["Timestamp"].get<int64_t>(), 1700000000000);
  }
  EXPECT_EQ(EmfValue(events, "lote_job_records", "outcome", "in"), 376);
  EXPECT_EQ(EmfValue(events, "lote_job_records", "outcome", "out"), 371);
  EXPECT_EQ(EmfValue(events, "lote_job_records", "outcome", "quarantined"), 4);
  EXPECT_EQ(EmfValue(events, "lote_job_records", "outcome", "duplicate"), 1);
  EXPECT_GT(EmfValue(events, "lote_job_records_per_second"), 0);
  // The monitoring report travels with the job's metrics.
  EXPECT_EQ(EmfValue(events, "lote_monitoring_verdict", "verdict", "ok"), 1);
  EXPECT_NEAR(EmfValue(events, "lote_monitoring_estimated_accuracy", "bound", "value"),
              summary["monitoring"]["estimated_accuracy"]["value"].get<double>(), 1e-9);

  const std::vector<std::pair<std::string, std::string>> group = {{"job", "lote"},
                                                                  {"stage", "run"}};
  auto sample = [&](const std::string& name, std::vector<std::pair<std::string, std::string>> l) {
    l.insert(l.end(), group.begin(), group.end());
    auto v = (*gateway)->Sample(name, l);
    EXPECT_TRUE(v.ok()) << name << ": " << v.status().ToString();
    return v.ok() ? *v : -1;
  };
  EXPECT_EQ(sample("lote_job_records", {{"outcome", "in"}}), 376);
  EXPECT_EQ(sample("lote_job_records", {{"outcome", "out"}}), 371);
  EXPECT_EQ(sample("lote_job_records", {{"outcome", "quarantined"}}), 4);
  EXPECT_EQ(sample("lote_job_records", {{"outcome", "duplicate"}}), 1);
  EXPECT_EQ(sample("lote_job_objects", {{"state", "processed"}}), 4);
  EXPECT_GT(sample("lote_job_last_success_timestamp_seconds", {}), 1700000000);
  EXPECT_EQ(sample("lote_monitoring_verdict", {{"verdict", "ok"}}), 1);
  EXPECT_EQ(sample("lote_monitoring_signal_band", {{"signal", "label"}}), 0);
  // The mean score is the results' own mean, as SQL over the catalog computes it.
  auto avg = RunLote("query --output " + (tmp_ / "out") +
                     " --format csv \"SELECT avg(score) FROM results\"");
  ASSERT_EQ(avg.exit_code, 0) << avg.err;
  const double mean = std::stod(avg.out.substr(avg.out.find('\n') + 1));
  EXPECT_GT(mean, 0.0);
  EXPECT_NEAR(sample("lote_job_mean_score", {}), mean, 1e-6);
  double quarantined = 0;
  for (const char* reason : {"invalid_utf8", "malformed_json", "empty_text", "malformed_csv",
                             "field_count", "missing_field", "wrong_type", "other"}) {
    auto v = (*gateway)->Sample("lote_job_quarantined_records", {{"reason", reason}});
    if (v.ok()) quarantined += *v;
  }
  EXPECT_EQ(quarantined, 4);

  // What lote pushed, as the gateway serves it, passes promtool's checks and lint.
  auto text = (*gateway)->Metrics();
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  std::istringstream in(*text);
  std::string line, lote_only;
  while (std::getline(in, line)) {
    if (line.rfind("lote_", 0) == 0 || line.rfind("# HELP lote_", 0) == 0 ||
        line.rfind("# TYPE lote_", 0) == 0) {
      lote_only += line + "\n";
    }
  }
  ASSERT_NE(lote_only.find("lote_job_step_seconds"), std::string::npos) << *text;
  Status check = PromtoolCheckMetrics(lote_only);
  EXPECT_TRUE(check.ok()) << check.ToString() << "\n" << lote_only;
}

TEST_F(MetricsCli, AnUnreachableGatewayWarnsWithoutFailingTheRunOrShowingThePassword) {
  auto port = PickFreeLoopbackPort();
  ASSERT_TRUE(port.ok());
  auto r = RunLote(RunArgs("--metrics pushgateway:http://lote:pa55word@127.0.0.1:" +
                           std::to_string(*port) + " --metrics emf"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Json::parse(r.out)["records_out"], 371);
  EXPECT_NE(r.err.find("warning: metrics: pushing metrics failed"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("pa55word"), std::string::npos) << r.err;
  // `--metrics emf` without a file writes the events to stderr.
  EXPECT_EQ(EmfValue(EmfEvents(r.err), "lote_job_records", "outcome", "in"), 376) << r.err;
}

TEST_F(MetricsCli, StageCommandsReportUnderTheirStageName) {
  auto r = RunLote("ingest --input " + (tmp_ / "lake") + " --output " + (tmp_ / "out") +
                   " --log-format json --metrics emf:" + (tmp_ / "emf.jsonl"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto events = EmfEvents(ReadAll(tmp_ / "emf.jsonl"));
  ASSERT_FALSE(events.empty());
  for (const Json& e : events) EXPECT_EQ(e["stage"], "ingest");
  EXPECT_EQ(EmfValue(events, "lote_job_objects", "state", "done"), 4);
}

TEST_F(MetricsCli, FlowRunReportsTheExecutionsStatus) {
  WriteAll(tmp_ / "ok.asl.json",
           R"({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}})");
  WriteAll(tmp_ / "bad.asl.json",
           R"({"StartAt": "A", "States": {"A": {"Type": "Fail", "Error": "E"}}})");
  const std::string common = " --history " + (tmp_ / "history.db") + " --metrics emf:";
  auto ok = RunLote("flow run --definition " + (tmp_ / "ok.asl.json") + common + (tmp_ / "ok"));
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  auto bad = RunLote("flow run --definition " + (tmp_ / "bad.asl.json") + common + (tmp_ / "bad"));
  ASSERT_EQ(bad.exit_code, 6) << bad.err;
  const auto ok_events = EmfEvents(ReadAll(tmp_ / "ok"));
  EXPECT_EQ(EmfValue(ok_events, "lote_flow_executions", "status", "SUCCEEDED"), 1);
  EXPECT_GT(EmfValue(ok_events, "lote_job_last_success_timestamp_seconds"), 1700000000);
  const auto bad_events = EmfEvents(ReadAll(tmp_ / "bad"));
  EXPECT_EQ(EmfValue(bad_events, "lote_flow_executions", "status", "FAILED"), 1);
  EXPECT_EQ(EmfValue(bad_events, "lote_job_last_success_timestamp_seconds"), -1);
  for (const Json& e : bad_events) EXPECT_EQ(e["stage"], "flow");
}

TEST_F(MetricsCli, ABadMetricsSpecIsAUsageError) {
  auto r = RunLote(RunArgs("--metrics statsd:localhost"));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  r = RunLote(RunArgs("--metrics pushgateway:localhost:9091"));
  EXPECT_EQ(r.exit_code, 2) << r.err;
}

}  // namespace
}  // namespace lote::testing
