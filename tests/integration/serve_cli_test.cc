// `lote serve` as a process: SageMaker's routes against `lote predict`'s rows, Prometheus
// scraping its /metrics, the model layouts SageMaker uses, SIGTERM.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <thread>

#include "cli_runner.h"
#include "lote/pipeline/transform.h"
#include "serve_process.h"
#include "testing/http_wire.h"
#include "testing/moto_server.h"
#include "testing/prometheus_server.h"

namespace lote::testing {
namespace {

std::vector<std::string> SplitLines(const std::string& s) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < s.size()) {
    size_t nl = s.find('\n', pos);
    if (nl == std::string::npos) nl = s.size();
    out.push_back(s.substr(pos, nl - pos));
    pos = nl + 1;
  }
  return out;
}

class ServeCli : public SampleModelTest {
 protected:
  TempDir tmp_;
};

TEST_F(ServeCli, AnswersEachRecordWithLotePredictsRowAndOneErrorRowPerBadRecord) {
  auto predicted =
      RunLote("predict --model " + Model() + " --input " + kSample + "/test.jsonl --id-field id");
  ASSERT_EQ(predicted.exit_code, 0) << predicted.err;
  ServeProcess serve(LOTE_CLI_PATH, "serve --no-prep --port 0 --threads 2 --model " + Model(),
                     tmp_ / "err");
  ASSERT_TRUE(serve.WaitReady()) << serve.log();
  std::string body = ReadAll(kSample + "/test.jsonl");
  body += "{\"id\": \"bad\", \"text\": \"sin cerrar\"\n";  // malformed: one error row
  auto r = serve.Post("application/jsonlines", body);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->status, 200) << r->body;
  auto rows = SplitLines(r->body);
  auto expected = SplitLines(predicted.out);
  ASSERT_EQ(expected.size(), 371u);
  ASSERT_EQ(rows.size(), 372u);
  for (size_t i = 0; i < expected.size(); ++i) ASSERT_EQ(rows[i], expected[i]) << i;
  auto bad = nlohmann::json::parse(rows.back());
  EXPECT_EQ(bad["line"], 372);
  EXPECT_TRUE(bad.contains("error"));
  EXPECT_EQ(serve.Stop(), 0);
  EXPECT_NE(serve.log().find("lote serve: stopped"), std::string::npos) << serve.log();
}

// What a transform job's Environment passes (LOTE_SHADOW_MODEL): a challenger classifies every
// record beside the model, in the same row, as `lote predict` with it would.
TEST_F(ServeCli, AShadowModelScoresEveryRecordBesideTheModel) {
  const std::string challenger = TrainCorruptedSampleModel(tmp_);
  ASSERT_FALSE(challenger.empty());
  auto champion_rows =
      RunLote("predict --model " + Model() + " --input " + kSample + "/test.jsonl --id-field id");
  auto challenger_rows = RunLote("predict --model " + challenger + " --input " + kSample +
                                 "/test.jsonl --id-field id");
  ASSERT_EQ(challenger_rows.exit_code, 0) << challenger_rows.err;
  ServeProcess serve(LOTE_CLI_PATH, "serve --no-prep --port 0 --threads 2 --model " + Model(),
                     tmp_ / "err", "LOTE_SHADOW_MODEL=" + challenger);
  ASSERT_TRUE(serve.WaitReady()) << serve.log();
  std::string body = ReadAll(kSample + "/test.jsonl");
  body += "{\"id\": \"bad\", \"text\": \"sin cerrar\"\n";
  auto r = serve.Post("application/jsonlines", body);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->status, 200) << r->body;
  auto rows = SplitLines(r->body);
  auto champion = SplitLines(champion_rows.out);
  auto shadow = SplitLines(challenger_rows.out);
  ASSERT_EQ(rows.size(), 372u);
  ASSERT_EQ(champion.size(), 371u);
  ASSERT_EQ(shadow.size(), 371u);
  size_t agree = 0;
  for (size_t i = 0; i < champion.size(); ++i) {
    auto row = nlohmann::json::parse(rows[i]);
    auto mine = nlohmann::json::parse(champion[i]);
    auto theirs = nlohmann::json::parse(shadow[i]);
    ASSERT_TRUE(row.contains("shadow")) << rows[i];
    const nlohmann::json s = row["shadow"];
    row.erase("shadow");
    ASSERT_EQ(row, mine) << i;  // the model's row is untouched
    EXPECT_EQ(s["model_version"], theirs["model_version"]);
    EXPECT_EQ(s["label"], theirs["label"]) << i;
    EXPECT_EQ(s["score"], theirs["score"]) << i;
    EXPECT_EQ(s["agree"], mine["label"] == theirs["label"]) << i;
    agree += s["agree"].get<bool>();
  }
  EXPECT_GT(agree, 0u);
  EXPECT_LT(agree, champion.size());  // trained on scrambled labels: it disagrees often
  EXPECT_FALSE(nlohmann::json::parse(rows.back()).contains("shadow"));  // the bad record
  auto metrics = serve.Get("/metrics");
  ASSERT_TRUE(metrics.ok());
  EXPECT_TRUE(PromtoolCheckMetrics(metrics->body).ok()) << metrics->body;
  EXPECT_NE(
      metrics->body.find("lote_shadow_predictions_total{agree=\"true\"} " + std::to_string(agree)),
      std::string::npos)
      << metrics->body;
  EXPECT_NE(metrics->body.find("lote_shadow_predictions_total{agree=\"false\"} " +
                               std::to_string(champion.size() - agree)),
            std::string::npos);
  EXPECT_NE(metrics->body.find("lote_shadow_model_info{model_version=\""), std::string::npos);
  EXPECT_NE(serve.log().find("scores every record too"), std::string::npos) << serve.log();
  EXPECT_EQ(serve.Stop(), 0);

  // The model itself as its own shadow is refused; so is a shadow that does not load.
  ServeProcess same(LOTE_CLI_PATH, "serve --port 0 --model " + Model() + " --shadow " + Model(),
                    tmp_ / "err2");
  EXPECT_FALSE(same.WaitReady());
  EXPECT_EQ(same.exit_code(), 3);
  EXPECT_NE(same.log().find("the shadow model is the model itself"), std::string::npos)
      << same.log();
  ServeProcess missing(LOTE_CLI_PATH, "serve --port 0 --model " + Model(), tmp_ / "err3",
                       "LOTE_SHADOW_MODEL=" + (tmp_ / "none.lote"));
  EXPECT_FALSE(missing.WaitReady());
  EXPECT_EQ(missing.exit_code(), 3);
}

TEST_F(ServeCli, PrometheusScrapesItsMetricsAndPromtoolAcceptsThem) {
  ServeProcess serve(LOTE_CLI_PATH, "serve --port 0 --threads 2 --model " + Model(), tmp_ / "err");
  ASSERT_TRUE(serve.WaitReady()) << serve.log();
  auto r = serve.Post("text/plain", "quiero consultar mi saldo\nbloquear mi tarjeta\n\xff\n");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(SplitLines(r->body).size(), 3u);
  auto metrics = serve.Get("/metrics");
  ASSERT_TRUE(metrics.ok());
  EXPECT_EQ(metrics->status, 200);
  EXPECT_TRUE(PromtoolCheckMetrics(metrics->body).ok()) << metrics->body;
  // No record text anywhere in the metrics (labels hold only closed sets and model labels).
  EXPECT_EQ(metrics->body.find("consultar mi saldo"), std::string::npos);
  EXPECT_EQ(metrics->body.find("bloquear"), std::string::npos);
  auto prom = PrometheusServer::Start({.targets = {"127.0.0.1:" + std::to_string(serve.port())}});
  ASSERT_TRUE(prom.ok()) << prom.status().ToString();
  auto v = (*prom)->WaitForValue("lote_records_total{outcome=\"predicted\"}");
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(*v, 2);
  v = (*prom)->WaitForValue("sum(lote_record_errors_total)");
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(*v, 1);
  v = (*prom)->WaitForValue("lote_model_info");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, 1);
  EXPECT_EQ(serve.Stop(), 0);
}

TEST_F(ServeCli, LoadsTheModelAsSageMakerLaysItOutAndStartsAsServe) {
  namespace fs = std::filesystem;
  fs::create_directories(tmp_ / "model");
  fs::copy_file(Model(), tmp_ / "model/intents.lote");
  ASSERT_EQ(std::system(
                ("tar czf " + (tmp_ / "model.tar.gz") + " -C " + (tmp_ / "model") + " intents.lote")
                    .c_str()),
            0);
  fs::create_symlink(LOTE_CLI_PATH, tmp_ / "serve");
  // `serve` on PATH, the port from SAGEMAKER_BIND_TO_PORT's rule (here 0: any), the model folder.
  ServeProcess folder(tmp_ / "serve", "--model " + (tmp_ / "model"), tmp_ / "err1",
                      "SAGEMAKER_BIND_TO_PORT=0 SAGEMAKER_MAX_CONCURRENT_TRANSFORMS=3 "
                      "SAGEMAKER_MAX_PAYLOAD_IN_MB=2");
  ASSERT_TRUE(folder.WaitReady()) << folder.log();
  auto p = folder.Get("/execution-parameters");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->body,
            "{\"MaxConcurrentTransforms\":3,\"BatchStrategy\":\"MULTI_RECORD\","
            "\"MaxPayloadInMB\":2}\n");
  auto big = folder.Post("text/plain", std::string(3 << 20, 'a'));
  ASSERT_TRUE(big.ok());
  EXPECT_EQ(big->status, 413);
  EXPECT_EQ(folder.Stop(), 0);

  ServeProcess tarball(LOTE_CLI_PATH, "serve --port 0 --model " + (tmp_ / "model.tar.gz"),
                       tmp_ / "err2");
  ASSERT_TRUE(tarball.WaitReady()) << tarball.log();
  auto r = tarball.Post("application/json", "{\"instances\": [\"consultar mi saldo\"]}",
                        "application/json");
  ASSERT_TRUE(r.ok());
  auto doc = nlohmann::json::parse(r->body);
  EXPECT_EQ(doc["predictions"].size(), 1u);
  EXPECT_EQ(tarball.Stop(), 0);

  fs::copy_file(Model(), tmp_ / "model/second.lote");
  ServeProcess two(LOTE_CLI_PATH, "serve --port 0 --model " + (tmp_ / "model"), tmp_ / "err3");
  EXPECT_FALSE(two.WaitReady());
  EXPECT_EQ(two.exit_code(), 3);
  EXPECT_NE(two.log().find("exactly one .lote file (found 2)"), std::string::npos) << two.log();
}

TEST_F(ServeCli, DrainsRequestsInFlightOnSigterm) {
  ServeProcess serve(LOTE_CLI_PATH, "serve --port 0 --threads 1 --model " + Model(), tmp_ / "err");
  ASSERT_TRUE(serve.WaitReady()) << serve.log();
  std::string body;
  for (int i = 0; i < 10; ++i) body += ReadAll(kSample + "/train.jsonl");
  std::vector<std::thread> clients;
  std::atomic<int> ok{0}, answered{0};
  for (int i = 0; i < 4; ++i) {
    clients.emplace_back([&] {
      auto r = serve.Post("application/jsonlines", body);
      if (r.ok()) {
        ++answered;
        if (r->status == 200 && SplitLines(r->body).size() == 1728u * 10) ++ok;
      }
    });
  }
  // SIGTERM once a request is being answered (the gauge counts queued and running ones).
  bool in_flight = false;
  for (int i = 0; i < 600 && !in_flight; ++i) {
    auto m = serve.Get("/metrics");
    if (m.ok()) {
      auto v = FindSample(m->body, "lote_http_inflight_requests", {});
      in_flight = v.ok() && *v >= 1;
    }
    if (!in_flight) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(in_flight);
  EXPECT_EQ(serve.Stop(), 0);
  for (auto& t : clients) t.join();
  // Every request the server had taken was answered whole; none was cut.
  EXPECT_EQ(ok, answered);
  EXPECT_GT(ok, 0);
}

// tests/tools/batch_transform.py does what SageMaker does with a transform job (split by line,
// MULTI_RECORD payloads up to MaxPayloadInMB, MaxConcurrentTransforms in flight, one .out per
// file): 20 files with bad records, blank lines, a record close to the payload limit and one
// over it.
TEST_F(ServeCli, ABatchTransformJobGetsLotePredictsRowForEveryRecord) {
  namespace fs = std::filesystem;
  auto test = SplitLines(ReadAll(kSample + "/test.jsonl"));
  fs::create_directories(tmp_ / "in");
  for (int f = 0; f < 18; ++f) {
    std::string body;
    for (int i = 0; i < 20; ++i) {
      body += test[(f * 20 + i) % test.size()] + "\n";
      if (i == 5) body += "\n";  // a blank line: no output line
      if (i == 7 && f % 3 == 0)
        body += "{\"id\": \"bad-json-" + std::to_string(f) + "\", \"text\"\n";
      if (i == 9 && f % 3 == 1) body += "{\"id\": \"no-text\", \"body\": \"x\"}\n";
      if (i == 11 && f % 3 == 2) body += "{\"id\": \"utf8\", \"text\": \"\xff\xfe\"}\n";
    }
    WriteAll(tmp_ / ("in/part-" + std::to_string(100 + f) + ".jsonl"), body);
  }
  // Close to the 1 MiB payload limit (the record and its newline fit), and just over it.
  auto big_record = [](const std::string& id, size_t bytes) {
    std::string head = "{\"id\": \"" + id + "\", \"text\": \"";
    std::string text;
    while (head.size() + text.size() + 3 < bytes) text += "saldo ";
    text.resize(bytes - head.size() - 3);
    return head + text + "\"}\n";
  };
  WriteAll(tmp_ / "in/part-118.jsonl",
           test[0] + "\n" + big_record("near", (1 << 20) - 200) + test[1] + "\n");
  WriteAll(tmp_ / "in/part-119.jsonl", test[2] + "\n" + big_record("over", (1 << 20) + 100));

  ServeProcess serve(LOTE_CLI_PATH,
                     "serve --no-prep --port 0 --threads 2 --max-payload-mb 1 "
                     "--max-record-bytes 2097152 --model " +
                         Model(),
                     tmp_ / "err");
  ASSERT_TRUE(serve.WaitReady()) << serve.log();
  std::string cmd = "python3 " + std::string(LOTE_SOURCE_DIR) +
                    "/tests/tools/batch_transform.py --endpoint http://127.0.0.1:" +
                    std::to_string(serve.port()) + " --input " + (tmp_ / "in") + " --output " +
                    (tmp_ / "out") + " --summary " + (tmp_ / "summary.json") + " 2>" +
                    (tmp_ / "bt.log");
  int status = std::system(cmd.c_str());
  std::string bt_log = ReadAll(tmp_ / "bt.log");
  // The job fails because of the one file with a record over the limit, as SageMaker's would.
  EXPECT_EQ(WEXITSTATUS(status), 1) << bt_log;
  EXPECT_NE(bt_log.find("[sagemaker logs]: MaxConcurrentTransforms=2, MaxPayloadInMB=1, "
                        "BatchStrategy=MULTI_RECORD"),
            std::string::npos)
      << bt_log;
  EXPECT_NE(bt_log.find("[sagemaker logs]: part-119.jsonl: ClientError: 413"), std::string::npos)
      << bt_log;
  EXPECT_FALSE(fs::exists(tmp_ / "out/part-119.jsonl.out"));
  auto summary = nlohmann::json::parse(ReadAll(tmp_ / "summary.json"));
  EXPECT_EQ(summary["failed_files"].size(), 1u);

  size_t errors = 0, rows_checked = 0;
  for (int f = 100; f <= 118; ++f) {
    std::string name = "part-" + std::to_string(f) + ".jsonl";
    auto predicted = RunLote("predict --id-field id --max-record-bytes 2097152 --model " + Model() +
                             " --input " + (tmp_ / ("in/" + name)));
    ASSERT_EQ(predicted.exit_code, 0) << predicted.err;
    auto expected = SplitLines(predicted.out);
    auto out = SplitLines(ReadAll(tmp_ / ("out/" + name + ".out")));
    ASSERT_EQ(out.size(), expected.size()) << name;
    for (size_t i = 0; i < out.size(); ++i) {
      auto row = nlohmann::json::parse(out[i]);
      if (row.contains("error")) {
        // lote predict's error row, plus the record's line within its payload.
        ++errors;
        auto want = nlohmann::json::parse(expected[i]);
        EXPECT_EQ(row["record_id"].is_number(), want["record_id"].is_number()) << out[i];
        EXPECT_TRUE(row.contains("line")) << out[i];
        continue;
      }
      EXPECT_EQ(out[i], expected[i]) << name << " row " << i;
      ++rows_checked;
    }
  }
  EXPECT_EQ(errors, 18u);  // one bad record in each of the 18 small files
  EXPECT_EQ(rows_checked, 18u * 20 + 3);
  EXPECT_EQ(serve.Stop(), 0);
}

// The deployed pipeline's infer step (docs/adr/0015): prep writes a manifest of its parts, a
// transform job (batch_transform.py, SplitType None) sends each part whole to `lote serve`, which
// answers with the infer part, and publish imports the answers: the same rows and monitoring as
// `lote run`.
TEST_F(ServeCli, ATransformOverPrepPartsPublishesWhatLoteRunPublishes) {
  namespace fs = std::filesystem;
  fs::create_directories(tmp_ / "in");
  WriteAll(tmp_ / "in/a.jsonl", ReadAll(kSample + "/test.jsonl") + "{\"id\": \"bad\", \"text\"\n");
  WriteAll(tmp_ / "in/b.jsonl", ReadAll(kSample + "/dev.jsonl"));
  WriteAll(tmp_ / "in/empty.jsonl", "");
  const std::string by_run = tmp_ / "by-run", by_serve = tmp_ / "by-serve";
  const std::string job = by_serve + "/_stages/transform/job-1";
  // One pipeline configuration for every step; the server answers prep parts with its infer and
  // pii sections, as `lote infer --config` would.
  const std::string config = tmp_ / "pipeline.yaml";
  WriteAll(config, "infer:\n  top_k: 2\npii:\n  mode: type\n");
  CliResult run = RunLote("run --input " + (tmp_ / "in") + " --output " + by_run + " --model " +
                          Model() + " --config " + config);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  CliResult ingest = RunLote("ingest --input " + (tmp_ / "in") + " --output " + by_serve);
  ASSERT_EQ(ingest.exit_code, 0) << ingest.err;
  CliResult prep = RunLote("prep --output " + by_serve + " --config " + config +
                           " --transform-manifest " + job + "/manifest.json");
  ASSERT_EQ(prep.exit_code, 0) << prep.err;
  EXPECT_NE(prep.err.find("3 part(s) of 3 object(s)"), std::string::npos) << prep.err;

  ServeProcess serve(LOTE_CLI_PATH,
                     "serve --port 0 --threads 2 --config " + config + " --model " + Model(),
                     tmp_ / "err");
  ASSERT_TRUE(serve.WaitReady()) << serve.log();
  // A body that is not a prep part: 400 naming the problem, not a crash or a 500.
  auto bad = serve.Post(std::string(pipeline::kPrepPartContentType), "{\"id\": \"x\"}\n");
  ASSERT_TRUE(bad.ok()) << bad.status().ToString();
  EXPECT_EQ(bad->status, 400) << bad->body;
  EXPECT_NE(bad->body.find("zstd"), std::string::npos) << bad->body;
  std::string cmd = "python3 " + std::string(LOTE_SOURCE_DIR) +
                    "/tests/tools/batch_transform.py --endpoint http://127.0.0.1:" +
                    std::to_string(serve.port()) + " --manifest " + job + "/manifest.json" +
                    " --output " + job + " --split-type None --assemble-with None" +
                    " --batch-strategy SINGLE_RECORD --content-type " +
                    std::string(pipeline::kPrepPartContentType) + " --accept " +
                    std::string(pipeline::kInferPartContentType) + " 2>" + (tmp_ / "bt.log");
  int status = std::system(cmd.c_str());
  ASSERT_EQ(WEXITSTATUS(status), 0) << ReadAll(tmp_ / "bt.log");
  EXPECT_EQ(serve.Stop(), 0);

  CliResult publish = RunLote("publish --output " + by_serve + " --config " + config +
                              " --transform-output " + job);
  ASSERT_EQ(publish.exit_code, 0) << publish.err;
  EXPECT_NE((publish.out + publish.err).find("infer: 3 objects handed over, 3 done"),
            std::string::npos)
      << publish.out << publish.err;
  EXPECT_FALSE(fs::exists(job + "/manifest.json"));
  std::string expected = PublishedRows(by_run);
  EXPECT_GT(std::count(expected.begin(), expected.end(), '\n'), 700);
  EXPECT_NE(expected.find("[PHONE]"), std::string::npos);  // the config's PII mode
  EXPECT_EQ(PublishedRows(by_serve), expected);
  // Monitoring saw the same records through the answers' trailers (signals, terms, reference).
  auto signals = [&](const std::string& output) {
    CliResult q = RunLote("query --output " + output + " --format csv 'SELECT run_id FROM runs'");
    EXPECT_EQ(q.exit_code, 0) << q.err;
    std::string id = SplitLines(q.out).at(1);
    auto report = nlohmann::json::parse(ReadAll(output + "/_runs/" + id + "/monitoring.json"));
    return report["signals"].dump() + report["records"].dump();
  };
  EXPECT_EQ(signals(by_serve), signals(by_run));
}

}  // namespace
}  // namespace lote::testing

namespace lote::testing {
namespace {

// `lote serve --output`: the dashboard's API against `lote query` on the same catalog, its
// filters, CSV, access token and security headers. (The pages in a browser:
// tests/dashboard/browser_test.mjs.)
class DashboardCli : public SampleModelTest {
 protected:
  void SetUp() override {
    SampleModelTest::SetUp();
    if (HasFatalFailure()) return;
    ASSERT_TRUE(MakeDemoLake(tmp_ / "lake"));
    auto run = RunLote("run --input " + (tmp_ / "lake") + " --output " + (tmp_ / "out") +
                       " --model " + Model() + " --pii-mode mask");
    ASSERT_EQ(run.exit_code, 0) << run.err;
    // Late labels for the sample's first 100 records: the drift page's measured accuracy.
    std::ifstream in(std::string(LOTE_SAMPLE_DIR) + "/test.jsonl");
    std::ofstream labels(tmp_ / "labels.csv");
    labels << "record_id,label\n";
    std::string line;
    for (int i = 0; i < 100 && std::getline(in, line); ++i) {
      const auto j = nlohmann::json::parse(line);
      labels << j["id"].get<std::string>() << "," << j["label"].get<std::string>() << "\n";
    }
    labels.close();
    auto feedback =
        RunLote("feedback --output " + (tmp_ / "out") + " --labels " + (tmp_ / "labels.csv"));
    ASSERT_EQ(feedback.exit_code, 0) << feedback.err;
  }
  // The rows of `sql` on the output's catalog, as the API writes them (values in `columns`'
  // order).
  nlohmann::json Query(const std::string& sql, const nlohmann::json& columns) {
    auto q = RunLote("query --output " + (tmp_ / "out") + " --format json \"" + sql + "\"");
    EXPECT_EQ(q.exit_code, 0) << q.err << sql;
    nlohmann::json rows = nlohmann::json::array();
    for (const auto& object : nlohmann::json::parse(q.out)) {
      nlohmann::json row = nlohmann::json::array();
      for (const auto& c : columns) row.push_back(object.at(c.get<std::string>()));
      rows.push_back(row);
    }
    return rows;
  }
  // A chart said to run on Athena reads only what `lote query --athena-ddl` declares (its
  // tables and views) and none of SQLite's own functions or operators; one said not to names the
  // catalog table it reads, and reads it.
  static void ExpectAthenaClaimHolds(const nlohmann::json& chart) {
    const std::string sql = chart["sql"].get<std::string>();
    std::set<std::string> read;
    static const std::regex kFrom(R"((?:FROM|JOIN)\s+([a-z_]+))");
    for (std::sregex_iterator it(sql.begin(), sql.end(), kFrom), end; it != end; ++it) {
      read.insert((*it)[1].str());
    }
    if (chart["athena"].get<bool>()) {
      static const std::set<std::string> kDeclared = {"results",        "quarantine",
                                                      "entities",       "results_daily",
                                                      "entities_daily", "quarantine_daily"};
      for (const std::string& t : read) {
        EXPECT_TRUE(kDeclared.count(t)) << chart["id"] << " reads " << t << ": " << sql;
      }
      for (const char* sqlite_only : {"julianday", "->", "json_", "total(", "ifnull", "iif(",
                                      "strftime", "printf", "group_concat", "GLOB"}) {
        EXPECT_EQ(sql.find(sqlite_only), std::string::npos) << chart["id"] << ": " << sql;
      }
    } else {
      ASSERT_TRUE(chart.contains("catalog_table")) << chart.dump();
      const std::string table = chart["catalog_table"].get<std::string>();
      EXPECT_TRUE(read.count(table)) << chart["id"] << " says it reads " << table << ": " << sql;
    }
  }
  nlohmann::json Count(const std::string& sql) {
    return Query("SELECT count(*) AS n FROM " + sql, {"n"})[0][0];
  }
  TempDir tmp_;
};

TEST_F(DashboardCli, EveryChartIsTheResultOfTheSqlItShows) {
  // A registry with the model as champion, for the models page.
  const std::string reg = " --registry " + (tmp_ / "registry");
  ASSERT_EQ(RunLote("registry register --name intents --model " + Model() + reg).exit_code, 0);
  ASSERT_EQ(RunLote("registry alias set intents champion 1 --reason first" + reg).exit_code, 0);
  ServeProcess serve(LOTE_CLI_PATH, "serve --port 0 --output " + (tmp_ / "out") + reg,
                     tmp_ / "err.log");
  ASSERT_TRUE(serve.WaitReady("/api/runs")) << serve.log();
  nlohmann::json athena_sql = nlohmann::json::array();  // what is said to run on Athena
  for (const char* page :
       {"overview", "intents", "entities", "quarantine", "drift", "models", "runs"}) {
    auto r = serve.Get(std::string("/api/") + page);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_EQ(r->status, 200) << r->body;
    const auto j = nlohmann::json::parse(r->body);
    ASSERT_FALSE(j["charts"].empty()) << page;
    for (const auto& chart : j["charts"]) {
      if (chart["sql"].is_null()) continue;  // the registry's charts: below
      const std::string sql = chart["sql"].get<std::string>();
      EXPECT_EQ(chart["rows"], Query(sql, chart["columns"])) << page << " " << chart["id"];
      ExpectAthenaClaimHolds(chart);
      if (chart["athena"].get<bool>()) athena_sql.push_back(sql);
    }
    // The security headers a bank's reviewers look for, on every answer.
    ASSERT_NE(r->Find("Content-Security-Policy"), nullptr);
    EXPECT_NE(r->Find("Content-Security-Policy")->find("frame-ancestors 'none'"),
              std::string::npos);
    EXPECT_EQ(r->Find("Content-Security-Policy")->find("unsafe-inline"), std::string::npos);
    ASSERT_NE(r->Find("X-Content-Type-Options"), nullptr);
    EXPECT_EQ(*r->Find("X-Content-Type-Options"), "nosniff");
  }
  // That SQL, and the views of the Athena DDL it reads, parse with a Trino grammar.
  EXPECT_GE(athena_sql.size(), 8u);
  auto ddl = RunLote("query --athena-ddl --output " + (tmp_ / "out"));
  ASSERT_EQ(ddl.exit_code, 0) << ddl.err;
  for (size_t at = ddl.out.find("CREATE OR REPLACE VIEW"); at != std::string::npos;
       at = ddl.out.find("CREATE OR REPLACE VIEW", at + 1)) {
    athena_sql.push_back(ddl.out.substr(at, ddl.out.find(";\n", at) - at));
  }
  {
    std::ofstream(tmp_ / "athena_sql.json") << athena_sql.dump();
    const std::string cmd = "cd " + std::string(LOTE_SOURCE_DIR) +
                            " && node tests/dashboard/trino_syntax_check.mjs " +
                            (tmp_ / "athena_sql.json") + " >" + (tmp_ / "trino.json") + " 2>&1";
    EXPECT_EQ(std::system(cmd.c_str()), 0) << ReadAll(tmp_ / "trino.json");
  }
  // The models page: the versions that scored the results, and the registry's.
  const auto models = nlohmann::json::parse(serve.Get("/api/models")->body)["charts"];
  ASSERT_EQ(models.size(), 5u) << models.dump();
  EXPECT_EQ(models[0]["rows"][0][1], 371);  // records scored by the one version
  EXPECT_EQ(models[0]["rows"][0][6], 100);  // of them labelled late
  EXPECT_EQ(models[2]["id"], "registry_versions");
  EXPECT_EQ(models[2]["rows"][0][0], "intents");
  EXPECT_EQ(models[2]["rows"][0][3], "champion");
  EXPECT_EQ(models[2]["command"], "lote registry show NAME --json");
  EXPECT_EQ(models[3]["rows"][0][2], "champion");
  EXPECT_EQ(models[3]["rows"][0][3], "set");
  EXPECT_EQ(models[3]["rows"][0][7], "first");
  EXPECT_EQ(models[4]["id"], "promotion_evaluation");  // an alias set by hand: no test to show
  EXPECT_TRUE(models[4]["rows"].empty()) << models[4].dump();
  auto totals = [&](const std::string& query) {
    auto r = serve.Get("/api/overview" + query);
    EXPECT_TRUE(r.ok() && r->status == 200) << (r.ok() ? r->body : r.status().ToString());
    return nlohmann::json::parse(r->body)["charts"][0]["rows"][0];
  };
  // 371 published (the sample's test split), 4 quarantined (the demo lake's bad records), 1 run.
  const auto all = totals("");
  EXPECT_EQ(all, nlohmann::json({371, 4, 1}));
  // Filters narrow the numbers, as the same WHERE clause in lote query does.
  const auto spanish = totals("?text_lang=es");
  EXPECT_EQ(spanish[0], Count("results WHERE lang = 'es'"));
  EXPECT_LT(spanish[0].get<int>(), 371);
  EXPECT_EQ(totals("?from=2000-01-01&to=2000-12-31"), nlohmann::json({0, 0, 0}));
  EXPECT_EQ(totals("?label=pse_pago")[0], Count("results WHERE label = 'pse_pago'"));
  // The pages count from the daily summaries; their sums are the views' counts.
  int entities = 0;
  const auto entity_page = nlohmann::json::parse(serve.Get("/api/entities")->body);
  for (const auto& row : entity_page["charts"][0]["rows"]) entities += row[2].get<int>();
  EXPECT_EQ(entities, Count("entities").get<int>());
  EXPECT_GT(entities, 0);
  // Bad filter values are named, never spliced into SQL.
  for (const char* bad :
       {"?from=yesterday", "?label=x%27%20OR%201%3D1--", "?text_lang=e5", "?model=a%20b"}) {
    auto r = serve.Get(std::string("/api/intents") + bad);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->status, 400) << bad << r->body;
    EXPECT_NE(r->body.find("filter"), std::string::npos) << r->body;
  }
  // CSV: the chart's data, as lote query writes it.
  auto csv = serve.Get("/api/overview.csv?chart=per_day&text_lang=en");
  ASSERT_TRUE(csv.ok());
  ASSERT_EQ(csv->status, 200) << csv->body;
  auto q = RunLote(
      "query --output " + (tmp_ / "out") + " --format csv \"" +
      nlohmann::json::parse(serve.Get("/api/overview?text_lang=en")->body)["charts"][1]["sql"]
          .get<std::string>() +
      "\"");
  EXPECT_EQ(csv->body, q.out);
  ASSERT_NE(csv->Find("Content-Disposition"), nullptr);
  EXPECT_EQ(serve.Get("/api/overview.csv?chart=nope")->status, 404);
  EXPECT_EQ(serve.Get("/api/nope")->status, 404);
  // The pages and their assets.
  auto index = serve.Get("/");
  ASSERT_TRUE(index.ok());
  EXPECT_EQ(index->status, 200);
  EXPECT_NE(index->body.find("/static/app.js"), std::string::npos);
  EXPECT_EQ(index->body.find("<script>"), std::string::npos);  // no inline script
  EXPECT_EQ(serve.Get("/static/chart.umd.js")->status, 200);
  EXPECT_EQ(serve.Stop(), 0);
}

TEST_F(DashboardCli, AnyAddressButLoopbackNeedsTheTokenAndTheTokenIsChecked) {
  // Without a token on a public address: refused before anything is served.
  auto open = RunLote("serve --host 0.0.0.0 --port 0 --output " + (tmp_ / "out"));
  EXPECT_EQ(open.exit_code, 2);
  EXPECT_NE(open.err.find("--auth-token-file"), std::string::npos) << open.err;
  WriteAll(tmp_ / "short", "too-short\n");
  auto short_token = RunLote("serve --host 0.0.0.0 --port 0 --auth-token-file " + (tmp_ / "short") +
                             " --output " + (tmp_ / "out"));
  EXPECT_EQ(short_token.exit_code, 2) << short_token.err;
  EXPECT_EQ(short_token.err.find("too-short"), std::string::npos);  // never the secret itself

  // A token given is asked for on any address (here loopback, which the test can reach).
  const std::string token = "a-long-enough-dashboard-token-0123";
  WriteAll(tmp_ / "token", token + "\n");
  ServeProcess serve(
      LOTE_CLI_PATH,
      "serve --port 0 --auth-token-file " + (tmp_ / "token") + " --output " + (tmp_ / "out"),
      tmp_ / "err.log");
  ASSERT_TRUE(serve.WaitReady("/login")) << serve.log();
  EXPECT_EQ(serve.Get("/api/overview")->status, 401);
  EXPECT_EQ(
      serve.Get("/api/overview", {{"Authorization", "Bearer wrong-token-of-some-length"}})->status,
      401);
  auto page = serve.Get("/");
  EXPECT_EQ(page->status, 303);
  ASSERT_NE(page->Find("Location"), nullptr);
  EXPECT_EQ(*page->Find("Location"), "/login");
  EXPECT_EQ(serve.Get("/api/overview", {{"Authorization", "Bearer " + token}})->status, 200);
  // The login form sets a session cookie that is not the token.
  auto bad = serve.Call(
      {"POST", "/login", {{"Content-Type", "application/x-www-form-urlencoded"}}, "token=nope"});
  EXPECT_EQ(bad->status, 401);
  auto login = serve.Call({"POST",
                           "/login",
                           {{"Content-Type", "application/x-www-form-urlencoded"}},
                           "token=" + token});
  ASSERT_TRUE(login.ok());
  EXPECT_EQ(login->status, 303);
  ASSERT_NE(login->Find("Set-Cookie"), nullptr);
  const std::string cookie = *login->Find("Set-Cookie");
  EXPECT_NE(cookie.find("HttpOnly"), std::string::npos);
  EXPECT_NE(cookie.find("SameSite=Strict"), std::string::npos);
  EXPECT_EQ(cookie.find(token), std::string::npos);
  const std::string session = cookie.substr(0, cookie.find(';'));
  EXPECT_EQ(serve.Get("/api/runs", {{"Cookie", "theme=dark; " + session}})->status, 200);
  EXPECT_EQ(serve.Get("/api/runs", {{"Cookie", "lote_session=0000"}})->status, 401);
  // The log has neither the token nor the session.
  EXPECT_EQ(serve.log().find(token), std::string::npos);
  EXPECT_EQ(serve.Stop(), 0);
}

// A catalog last written before the daily summaries existed: the pages that read them say who
// builds them (the next run), the others answer; the next run builds them and the numbers return.
TEST_F(DashboardCli, ACatalogWithoutSummariesSaysTheNextRunBuildsThem) {
  const std::string catalog = tmp_ / "out/_catalog/lote.db";
  const std::string drop =
      "python3 -c \"import sqlite3; c = sqlite3.connect('" + catalog +
      "'); c.executescript('DROP TABLE results_daily; DROP TABLE entities_daily; DROP TABLE "
      "quarantine_daily; DELETE FROM catalog_meta WHERE key = \\'daily_summaries\\''); "
      "c.commit()\"";
  ASSERT_EQ(std::system(drop.c_str()), 0);
  {
    ServeProcess serve(LOTE_CLI_PATH, "serve --port 0 --output " + (tmp_ / "out"),
                       tmp_ / "err.log");
    ASSERT_TRUE(serve.WaitReady("/api/runs")) << serve.log();
    auto overview = serve.Get("/api/overview");
    ASSERT_TRUE(overview.ok());
    EXPECT_EQ(overview->status, 503) << overview->body;
    EXPECT_NE(overview->body.find("lote run"), std::string::npos) << overview->body;
    EXPECT_EQ(serve.Get("/api/drift")->status, 200);
    EXPECT_EQ(serve.Stop(), 0);
  }
  auto rerun = RunLote("run --input " + (tmp_ / "lake") + " --output " + (tmp_ / "out") +
                       " --model " + Model() + " --pii-mode mask");
  ASSERT_EQ(rerun.exit_code, 0) << rerun.err;
  ServeProcess serve(LOTE_CLI_PATH, "serve --port 0 --output " + (tmp_ / "out"), tmp_ / "err2.log");
  ASSERT_TRUE(serve.WaitReady("/api/runs")) << serve.log();
  const auto totals =
      nlohmann::json::parse(serve.Get("/api/overview")->body)["charts"][0]["rows"][0];
  EXPECT_EQ(totals[0], 371);
  EXPECT_EQ(totals[1], 4);
}

// An S3 output's dashboard reads a local cache of the bucket's catalog, and follows the runs
// published after it started (--catalog-refresh), here from another machine (another HOME: its
// own cache).
TEST_F(DashboardCli, AnS3OutputsPagesFollowTheRunsPublishedAfterStart) {
  auto moto = SharedMotoServer();
  ASSERT_TRUE(moto.ok()) << moto.status().ToString();
  const std::string bucket = UniqueBucketName("dash");
  ASSERT_TRUE((*moto)->CreateBucket(bucket).ok());
  auto machine = [&](const std::string& name) {
    std::filesystem::create_directories(tmp_ / name);
    return "-u XDG_CACHE_HOME -u AWS_PROFILE HOME=" + (tmp_ / name) +
           " AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1 "
           "AWS_EC2_METADATA_DISABLED=true AWS_ENDPOINT_URL=" +
           (*moto)->endpoint();
  };
  const std::string out = "s3://" + bucket + "/results";
  auto run = [&](const std::string& lake) {
    return RunLote("run --input " + lake + " --output " + out + " --model " + Model(),
                   "env " + machine("runner"));
  };
  auto first = run(tmp_ / "lake");
  ASSERT_EQ(first.exit_code, 0) << first.err;
  ServeProcess serve(LOTE_CLI_PATH, "serve --port 0 --output " + out + " --catalog-refresh 1",
                     tmp_ / "s3-serve.log", machine("dashboard"));
  ASSERT_TRUE(serve.WaitReady("/api/runs")) << serve.log();
  auto totals = [&] {
    auto r = serve.Get("/api/overview");
    EXPECT_TRUE(r.ok() && r->status == 200) << (r.ok() ? r->body : r.status().ToString());
    return nlohmann::json::parse(r->body)["charts"][0]["rows"][0];
  };
  EXPECT_EQ(totals(), nlohmann::json({371, 4, 1}));
  std::filesystem::create_directories(tmp_ / "lake2");
  std::ofstream(tmp_ / "lake2/late.jsonl")
      << "{\"id\":\"late-1\",\"text\":\"quiero pagar la tarjeta\"}\n"
         "{\"id\":\"late-2\",\"text\":\"bloquear mi cuenta por favor\"}\n";
  auto second = run(tmp_ / "lake2");
  ASSERT_EQ(second.exit_code, 0) << second.err;
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  EXPECT_EQ(totals(), nlohmann::json({373, 4, 2}));
}

// The pages in a real browser: Debian's chromium driven by playwright-core
// (tests/dashboard/browser_check.mjs) shows what the catalog holds, filters change it, the CSV
// link serves the chart's data, the console stays clean and no personal data of the records
// reaches the page.
TEST_F(DashboardCli, PagesInChromiumShowTheCatalogsNumbersAndNoPersonalData) {
  // A registry where a promotion test replaced a worse champion: the models page draws it.
  const std::string corrupt = TrainCorruptedSampleModel(tmp_);
  ASSERT_FALSE(corrupt.empty());
  const std::string reg = " --registry " + (tmp_ / "registry");
  ASSERT_EQ(RunLote("registry register --name intents --model " + corrupt + reg).exit_code, 0);
  ASSERT_EQ(RunLote("registry alias set intents champion 1 --reason first" + reg).exit_code, 0);
  ASSERT_EQ(RunLote("registry register --name intents --model " + Model() + reg).exit_code, 0);
  auto promoted = RunLote("promote --name intents --candidate 2 --golden " +
                          std::string(LOTE_SAMPLE_DIR) + "/dev.jsonl" + reg);
  ASSERT_EQ(promoted.exit_code, 0) << promoted.err;
  ServeProcess serve(LOTE_CLI_PATH, "serve --port 0 --output " + (tmp_ / "out") + reg,
                     tmp_ / "err.log");
  ASSERT_TRUE(serve.WaitReady("/api/runs")) << serve.log();
  const std::string url = "http://127.0.0.1:" + std::to_string(serve.port());
  auto browse = [&](const std::string& extra) {
    const std::string cmd = "cd " + std::string(LOTE_SOURCE_DIR) +
                            " && node tests/dashboard/browser_check.mjs --url " + url + extra +
                            " >" + (tmp_ / "browser.json") + " 2>" + (tmp_ / "browser.err");
    EXPECT_EQ(std::system(cmd.c_str()), 0) << ReadAll(tmp_ / "browser.err");
    return nlohmann::json::parse(ReadAll(tmp_ / "browser.json"));
  };
  const auto all = browse("");
  // Names, a cédula and e-mail addresses of the sample's records (data/sample/test.jsonl).
  const char* personal[] = {"Henao", "Hernán", "o.rodriguez@empresa.example", "1072100102",
                            "cristian.quintero82"};
  for (const auto& [name, page] : all["pages"].items()) {
    EXPECT_TRUE(page["console_errors"].empty()) << name << page["console_errors"].dump();
    EXPECT_TRUE(page["error"].is_null()) << name << page["error"];
    ASSERT_FALSE(page["charts"].empty()) << name;
    for (const auto& [id, chart] : page["charts"].items()) {
      if (chart["sql"].is_null()) continue;  // a registry chart: below
      EXPECT_EQ(chart["rows"], Query(chart["sql"].get<std::string>(), chart["columns"]))
          << name << " " << id;
    }
    // The chart library drew what the page holds (the tables and headline numbers draw none).
    if (name != "runs") {
      EXPECT_GT(page["drawn"].get<int>(), 0) << name;
    }
    // The CSV link of the first chart serves what lote query writes.
    ASSERT_TRUE(page["csv"].is_object()) << name;
    EXPECT_EQ(page["csv"]["status"], 200) << name;
    for (const char* p : personal) {
      EXPECT_EQ(page["html"].get<std::string>().find(p), std::string::npos) << name << " " << p;
    }
    EXPECT_EQ(page["html"].get<std::string>().find("<script>"), std::string::npos);
  }
  // The models page: the promotion test, champion against candidate on each label.
  const auto& test = all["pages"]["models"]["charts"]["promotion_evaluation"];
  ASSERT_FALSE(test["rows"].empty()) << test.dump();
  for (const auto& row : test["rows"]) {
    EXPECT_EQ(row[2], 1);  // the champion tested
    EXPECT_EQ(row[3], 2);  // the candidate promoted
    EXPECT_EQ(row[4], "promoted");
  }
  // The drift page: the run's estimate beside the accuracy the late labels measured.
  const auto& accuracy = all["pages"]["drift"]["charts"]["accuracy"];
  ASSERT_EQ(accuracy["rows"].size(), 1u) << accuracy.dump();
  EXPECT_GT(accuracy["rows"][0][6].get<double>(), 0.8) << accuracy.dump();  // measured
  EXPECT_EQ(accuracy["rows"][0][7], 100);                                   // labelled
  const auto& totals = all["pages"]["overview"]["charts"]["totals"]["rows"][0];
  EXPECT_EQ(totals, nlohmann::json({371, 4, 1}));
  EXPECT_NE(all["pages"]["overview"]["text"].get<std::string>().find("371"), std::string::npos);
  // A filter in the URL narrows what the page shows, and the links keep it.
  const auto spanish = browse(" --pages overview,intents --query text_lang=es --lang es");
  EXPECT_EQ(spanish["pages"]["overview"]["charts"]["totals"]["rows"][0][0],
            Count("results WHERE lang = 'es'"));
  EXPECT_NE(spanish["pages"]["intents"]["nav"][0].get<std::string>().find("text_lang=es"),
            std::string::npos);
  EXPECT_NE(spanish["pages"]["overview"]["text"].get<std::string>().find("Publicados"),
            std::string::npos);
  const auto& csv = spanish["pages"]["overview"]["csv"];
  auto q =
      RunLote("query --output " + (tmp_ / "out") + " --format csv \"" +
              spanish["pages"]["overview"]["charts"]["totals"]["sql"].get<std::string>() + "\"");
  EXPECT_EQ(csv["body"], q.out);
  EXPECT_EQ(serve.Stop(), 0);
}

}  // namespace
}  // namespace lote::testing
