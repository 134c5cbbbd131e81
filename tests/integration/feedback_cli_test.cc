// `lote feedback` through the CLI with the sample model: labels for some published records (some
// right, some wrong with a label the model does not know, a repeated id, ids never published)
// give the exact measured accuracy beside the estimate for the same records, in the command's
// output, feedback.json, `lote monitor` and the catalog; a bad file exits 3 naming file and line
// and writes nothing; on S3 (moto) the labels reach another machine's catalog through the ledger.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli_runner.h"
#include "lote/monitoring/drift.h"
#include "lote/storage/s3_storage.h"
#include "testing/moto_server.h"

namespace lote::testing {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

// Labels for the first `n` published records (by record id): every fifth one wrong, with a label
// the model does not know; the first one given twice (wrong first, the last one counts); plus
// three ids never published. Sets the expected counts and the records' mean score.
struct Labels {
  std::string csv;
  int labelled = 0, correct = 0;
  double score_sum = 0;
};
Labels MakeLabels(const Json& results, int n) {
  Labels l;
  l.csv = "record_id,label\n";
  for (int i = 0; i < n; ++i) {
    const Json& r = results[i];
    const std::string id = r["record_id"].get<std::string>();
    // Quoted as RFC 4180 says (ids may hold commas).
    std::string quoted = "\"";
    for (char c : id) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
    quoted += "\"";
    if (i == 0) l.csv += quoted + ",otra_cosa\n";
    const bool wrong = i % 5 == 4;
    l.csv += quoted + "," + (wrong ? "etiqueta_inventada" : r["label"].get<std::string>()) + "\n";
    ++l.labelled;
    l.correct += wrong ? 0 : 1;
    l.score_sum += r["score"].get<double>();
  }
  for (int i = 0; i < 3; ++i) l.csv += "no-publicado-" + std::to_string(i) + ",pago\n";
  return l;
}

class FeedbackCli : public SampleModelTest {
 protected:
  void SetUp() override {
    SampleModelTest::SetUp();
    if (HasFatalFailure()) return;
    ASSERT_TRUE(MakeDemoLake(tmp_ / "lake"));
  }
  TempDir tmp_;
};

TEST_F(FeedbackCli, MeasuredAccuracyLandsBesideTheEstimateInMonitorAndTheCatalog) {
  const std::string out = tmp_ / "out";
  auto run = RunLote("run --input " + (tmp_ / "lake") + " --output " + out + " --model " + Model() +
                     " --log-format json");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const std::string run_id = Json::parse(run.out)["run_id"];
  auto q = RunLote("query --output " + out +
                   " --format json \"SELECT record_id, label, score FROM results WHERE label IS "
                   "NOT NULL ORDER BY record_id LIMIT 40\"");
  ASSERT_EQ(q.exit_code, 0) << q.err;
  const Labels labels = MakeLabels(Json::parse(q.out), 40);
  WriteAll(tmp_ / "labels.csv", labels.csv);

  auto fb = RunLote("feedback --output " + out + " --labels " + (tmp_ / "labels.csv") + " --json");
  ASSERT_EQ(fb.exit_code, 0) << fb.err;
  const Json s = Json::parse(fb.out);
  EXPECT_EQ(s["rows"], 44);
  EXPECT_EQ(s["records"], 43);
  EXPECT_EQ(s["duplicates"], 1);
  EXPECT_EQ(s["matched"], 40);
  EXPECT_EQ(s["unmatched"], 3);
  EXPECT_EQ(s["unknown_labels"], 8);
  ASSERT_EQ(s["runs"].size(), 1u);
  const Json& r = s["runs"][0];
  EXPECT_EQ(r["run_id"], run_id);
  EXPECT_EQ(r["measured_accuracy"]["records"], labels.labelled);
  EXPECT_EQ(r["measured_accuracy"]["correct"], labels.correct);
  EXPECT_DOUBLE_EQ(r["measured_accuracy"]["value"].get<double>(), 32.0 / 40);
  const auto [low, high] = monitoring::WilsonInterval(32, 40, 1.96);
  EXPECT_DOUBLE_EQ(r["measured_accuracy"]["low"].get<double>(), low);
  EXPECT_DOUBLE_EQ(r["measured_accuracy"]["high"].get<double>(), high);
  // The estimate for the same 40 records: their mean score less the run's calibration offset.
  const Json report = Json::parse(ReadAll(out + "/_runs/" + run_id + "/monitoring.json"));
  const double offset = report["estimated_accuracy"]["calibration_offset"].get<double>();
  EXPECT_NEAR(r["estimated_accuracy"]["mean_score"].get<double>(), labels.score_sum / 40, 1e-9);
  EXPECT_NEAR(r["estimated_accuracy"]["value"].get<double>(),
              std::min(1.0, labels.score_sum / 40 - offset), 1e-9);
  EXPECT_EQ(r["run_estimated_accuracy"]["value"], report["estimated_accuracy"]["value"]);
  EXPECT_EQ(r, Json::parse(ReadAll(out + "/_runs/" + run_id + "/feedback.json")));
  // Counts only in the log: no id or label of a record.
  EXPECT_NE(fb.err.find("44 rows read"), std::string::npos) << fb.err;
  EXPECT_EQ(fb.err.find("no-publicado"), std::string::npos) << fb.err;
  EXPECT_EQ(fb.err.find("etiqueta_inventada"), std::string::npos) << fb.err;

  auto text = RunLote("feedback --output " + out + " --labels " + (tmp_ / "labels.csv") +
                      " --metrics emf:" + (tmp_ / "emf.jsonl"));
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("measured accuracy 0.800"), std::string::npos) << text.out;
  // The measured accuracy as metrics (CloudWatch EMF here; Prometheus the same gauges).
  std::map<std::string, double> metrics;  // "name bound" -> value, for this run
  std::istringstream emf(ReadAll(tmp_ / "emf.jsonl"));
  for (std::string line; std::getline(emf, line);) {
    const Json e = Json::parse(line);
    EXPECT_EQ(e["stage"], "feedback");
    for (const auto& [name, value] : e.items()) {
      if (!name.starts_with("lote_")) continue;
      if (e.contains("run")) {
        EXPECT_EQ(e["run"], run_id);
        EXPECT_EQ(e["model"], Json::parse(run.out)["model_version"]);
      }
      metrics[name + " " + e.value("bound", e.value("outcome", ""))] = value.get<double>();
    }
  }
  EXPECT_DOUBLE_EQ(metrics["lote_feedback_measured_accuracy value"], 0.8);
  EXPECT_DOUBLE_EQ(metrics["lote_feedback_measured_accuracy low"], low);
  EXPECT_DOUBLE_EQ(metrics["lote_feedback_measured_accuracy high"], high);
  EXPECT_EQ(metrics["lote_feedback_labelled_records "], 40);
  EXPECT_NEAR(metrics["lote_feedback_estimated_accuracy "],
              r["estimated_accuracy"]["value"].get<double>(), 1e-9);
  EXPECT_EQ(metrics["lote_feedback_records matched"], 40);
  EXPECT_EQ(metrics["lote_feedback_records unmatched"], 3);
  EXPECT_GT(metrics["lote_job_last_success_timestamp_seconds "], 1.7e9);
  // No record id or label in any metric.
  EXPECT_EQ(ReadAll(tmp_ / "emf.jsonl").find("no-publicado"), std::string::npos);
  EXPECT_EQ(ReadAll(tmp_ / "emf.jsonl").find("etiqueta_inventada"), std::string::npos);

  auto monitor = RunLote("monitor --output " + out);
  ASSERT_EQ(monitor.exit_code, 0) << monitor.err;
  char line[160];
  std::snprintf(line, sizeof(line), "measured accuracy 0.800 [%.3f, %.3f] on 40 labelled records",
                low, high);
  EXPECT_NE(monitor.out.find(line), std::string::npos) << monitor.out;
  EXPECT_NE(monitor.out.find("(estimate for them "), std::string::npos) << monitor.out;
  auto json = RunLote("monitor --output " + out + " --json");
  ASSERT_EQ(json.exit_code, 0) << json.err;
  EXPECT_EQ(Json::parse(json.out)["feedback"]["measured_accuracy"]["correct"], 32);

  auto sql = RunLote("query --output " + out +
                     " --format csv \"SELECT labelled, correct FROM feedback_accuracy WHERE "
                     "predicted_label IS NULL\"");
  ASSERT_EQ(sql.exit_code, 0) << sql.err;
  EXPECT_EQ(sql.out, "labelled,correct\n40,32\n");
  auto batches = RunLote("query --output " + out +
                         " --format csv \"SELECT count(*) AS n FROM feedback_batches\"");
  EXPECT_EQ(batches.out, "n\n2\n");
}

TEST_F(FeedbackCli, ABadFileExitsThreeNamingFileAndLineAndWritesNothing) {
  const std::string out = tmp_ / "out";
  ASSERT_EQ(RunLote("run --input " + (tmp_ / "lake") + " --output " + out + " --model " + Model())
                .exit_code,
            0);
  WriteAll(tmp_ / "bad.jsonl",
           "{\"record_id\": \"x1\", \"label\": \"pago\"}\n{\"record_id\": \"cliente-4711\"}\n");
  auto r = RunLote("feedback --output " + out + " --labels " + (tmp_ / "bad.jsonl") +
                   " --metrics emf:" + (tmp_ / "emf.jsonl"));
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("bad.jsonl:2: no \"label\" key"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("cliente-4711"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(out + "/_feedback"));
  // The failed job is a metric too; it measured nothing.
  const std::string emf = ReadAll(tmp_ / "emf.jsonl");
  EXPECT_NE(emf.find("lote_job_last_failure_timestamp_seconds"), std::string::npos) << emf;
  EXPECT_EQ(emf.find("lote_feedback_measured_accuracy"), std::string::npos) << emf;
  EXPECT_EQ(emf.find("cliente-4711"), std::string::npos) << emf;
  // A folder nothing was published to, and a missing file.
  WriteAll(tmp_ / "ok.csv", "record_id,label\nx1,pago\n");
  EXPECT_EQ(
      RunLote("feedback --output " + (tmp_ / "nada") + " --labels " + (tmp_ / "ok.csv")).exit_code,
      3);
  EXPECT_FALSE(fs::exists(tmp_ / "nada"));
  EXPECT_EQ(RunLote("feedback --output " + out + " --labels " + (tmp_ / "missing.csv")).exit_code,
            3);
  EXPECT_EQ(RunLote("feedback --output " + out + " --labels " + (tmp_ / "ok.csv") + " --format xml")
                .exit_code,
            2);
}

TEST_F(FeedbackCli, OnS3TheLabelsReachAnotherMachinesCatalogAndMonitor) {
  auto moto = SharedMotoServer();
  ASSERT_TRUE(moto.ok()) << moto.status().ToString();
  const std::string bucket = UniqueBucketName("feedback");
  ASSERT_TRUE((*moto)->CreateBucket(bucket).ok());
  auto s3 = storage::NewS3Storage(MotoS3Options((*moto)->endpoint()));
  ASSERT_TRUE(s3.ok()) << s3.status().ToString();
  int machines = 0;
  auto env = [&] {
    const std::string machine = tmp_ / ("machine-" + std::to_string(machines++));
    fs::create_directories(machine + "/home");
    return "env -u AWS_PROFILE -u AWS_SESSION_TOKEN -u AWS_CONFIG_FILE "
           "-u AWS_SHARED_CREDENTIALS_FILE -u AWS_ENDPOINT_URL_S3 -u XDG_CACHE_HOME HOME=" +
           machine + "/home AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing " +
           "AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true AWS_ENDPOINT_URL=" +
           (*moto)->endpoint();
  };
  std::string data;
  std::ifstream in(std::string(LOTE_SAMPLE_DIR) + "/dev.jsonl");
  int n = 0;
  for (std::string line; n < 60 && std::getline(in, line); ++n) {
    data +=
        Json{{"id", "m" + std::to_string(100 + n)}, {"text", Json::parse(line)["text"]}}.dump() +
        "\n";
  }
  ASSERT_TRUE((*s3)->Write("s3://" + bucket + "/raw/a.jsonl", data).ok());
  const std::string output = "s3://" + bucket + "/results";
  auto run = RunLote("run --input s3://" + bucket + "/raw/ --output " + output + " --model " +
                         Model() + " --log-format json",
                     env());
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const std::string run_id = Json::parse(run.out)["run_id"];
  auto q = RunLote("query --output " + output +
                       " --format json \"SELECT record_id, label, score FROM results ORDER BY "
                       "record_id LIMIT 20\"",
                   env());
  ASSERT_EQ(q.exit_code, 0) << q.err;
  const Labels labels = MakeLabels(Json::parse(q.out), 20);
  WriteAll(tmp_ / "labels.csv", labels.csv);
  auto fb = RunLote("feedback --output " + output + " --labels " + (tmp_ / "labels.csv"), env());
  ASSERT_EQ(fb.exit_code, 0) << fb.err;
  EXPECT_NE(fb.out.find("measured accuracy 0.800"), std::string::npos) << fb.out;

  // Another machine: its catalog cache is rebuilt from the ledger on the bucket.
  auto sql = RunLote("query --output " + output + " --format csv \"SELECT run_id = '" + run_id +
                         "' AS same_run, labelled, correct FROM feedback_accuracy WHERE "
                         "predicted_label IS NULL\"",
                     env());
  ASSERT_EQ(sql.exit_code, 0) << sql.err;
  EXPECT_EQ(sql.out, "same_run,labelled,correct\n1,20,16\n");
  auto monitor = RunLote("monitor --output " + output, env());
  ASSERT_EQ(monitor.exit_code, 0) << monitor.err;
  EXPECT_NE(monitor.out.find("measured accuracy 0.800"), std::string::npos) << monitor.out;
  EXPECT_NE(monitor.out.find("on 20 labelled records"), std::string::npos) << monitor.out;
}

}  // namespace
}  // namespace lote::testing
