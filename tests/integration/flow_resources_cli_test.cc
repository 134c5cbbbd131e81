// `lote flow` Task resources beyond the pipeline's stages, through the CLI: Athena queries over
// an output's catalog (startQueryExecution.sync, getQueryResults paging, bad SQL), SageMaker
// training (createTrainingJob.sync) whose model a transform then runs, and lambda:invoke of
// configured local commands (JSON out, failures, timeouts, too much output, no inherited fds).
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "cli_runner.h"

namespace lote::testing {
namespace {

using nlohmann::json;

// Runs definition `def` (JSON text) with `flags`; the history is private to the test.
class FlowResourcesBase {
 protected:
  CliResult RunDef(const std::string& def, const std::string& flags,
                   const std::string& input = "{}") {
    std::string path = tmp_ / ("sm" + std::to_string(++defs_) + ".asl.json");
    WriteAll(path, def);
    return RunLote("flow run --quiet --definition " + path + " --history " + (tmp_ / "h.db") +
                   " --input '" + input + "' " + flags);
  }
  TempDir tmp_;
  int defs_ = 0;
};

// ---- Athena ----

class FlowResourcesAthena : public SampleModelTest, public FlowResourcesBase {
 protected:
  void SetUp() override {
    SampleModelTest::SetUp();
    if (HasFatalFailure()) return;
    ASSERT_TRUE(MakeDemoLake(tmp_ / "lake"));
    CliResult run = RunLote("run --input " + (tmp_ / "lake") + " --output " + (tmp_ / "out") +
                            " --model " + Model());
    ASSERT_EQ(run.exit_code, 0) << run.err;
  }
  std::string Flags() const { return "--athena-database lote=" + (tmp_ / "out"); }
};

const char kLabelsSql[] = "SELECT label, count(*) AS n FROM results GROUP BY label ORDER BY label";

TEST_F(FlowResourcesAthena, QueryWritesAthenasCsvAndResultsPage) {
  std::string def = R"({"StartAt": "Query", "States": {
    "Query": {"Type": "Task", "Resource": "arn:aws:states:::athena:startQueryExecution.sync",
      "Parameters": {"QueryString": ")" +
                    std::string(kLabelsSql) + R"(",
        "QueryExecutionContext": {"Database": "lote"}, "WorkGroup": "analysts",
        "ResultConfiguration": {"OutputLocation.$": "$.location"}},
      "ResultPath": "$.query", "Next": "Page1"},
    "Page1": {"Type": "Task", "Resource": "arn:aws:states:::athena:getQueryResults",
      "Parameters": {"QueryExecutionId.$": "$.query.QueryExecution.QueryExecutionId",
                     "MaxResults": 2},
      "ResultPath": "$.page1", "Next": "Page2"},
    "Page2": {"Type": "Task", "Resource": "arn:aws:states:::athena:getQueryResults",
      "Parameters": {"QueryExecutionId.$": "$.query.QueryExecution.QueryExecutionId",
                     "NextToken.$": "$.page1.NextToken"},
      "ResultPath": "$.page2", "End": true}}})";
  CliResult r = RunDef(def, Flags(), R"({"location": ")" + (tmp_ / "athena") + R"(/"})");
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  json out = json::parse(r.out);
  const json& qe = out["query"]["QueryExecution"];
  EXPECT_EQ(qe["Status"]["State"], "SUCCEEDED");
  EXPECT_EQ(qe["Query"], kLabelsSql);
  EXPECT_EQ(qe["WorkGroup"], "analysts");
  EXPECT_EQ(qe["QueryExecutionContext"]["Database"], "lote");
  std::string id = qe["QueryExecutionId"];
  EXPECT_EQ(id.size(), 36u) << id;
  // As Athena: OUTPUTLOCATION/ID.csv, the same rows `lote query` gives.
  std::string location = qe["ResultConfiguration"]["OutputLocation"];
  EXPECT_EQ(location, tmp_ / ("athena/" + id + ".csv"));
  CliResult q = RunLote("query --output " + (tmp_ / "out") + " --format csv '" + kLabelsSql + "'");
  ASSERT_EQ(q.exit_code, 0) << q.err;
  EXPECT_EQ(ReadAll(location), q.out);
  const size_t data_rows = std::count(q.out.begin(), q.out.end(), '\n') - 1;
  ASSERT_GT(data_rows, 3u);

  // The first page: the header row then one row; the second page the rest, without a token.
  const json& p1 = out["page1"]["ResultSet"];
  ASSERT_EQ(p1["Rows"].size(), 2u) << p1.dump();
  EXPECT_EQ(p1["Rows"][0], json::parse(R"({"Data": [{"VarCharValue": "label"},
                                                    {"VarCharValue": "n"}]})"));
  EXPECT_TRUE(out["page1"].contains("NextToken"));
  const json& cols = p1["ResultSetMetadata"]["ColumnInfo"];
  ASSERT_EQ(cols.size(), 2u);
  EXPECT_EQ(cols[0]["Type"], "varchar");
  EXPECT_EQ(cols[1]["Type"], "bigint");
  const json& p2 = out["page2"]["ResultSet"];
  EXPECT_FALSE(out["page2"].contains("NextToken")) << out["page2"].dump();
  ASSERT_EQ(p2["Rows"].size(), data_rows - 1);
  // Page boundaries lose and repeat nothing: the rows in order are the CSV's.
  std::string csv = "label,n\n";
  for (const json* page : {&p1, &p2}) {
    for (size_t i = page == &p1 ? 1 : 0; i < (*page)["Rows"].size(); ++i) {
      const json& d = (*page)["Rows"][i]["Data"];
      csv += std::string(d[0]["VarCharValue"]) + "," + std::string(d[1]["VarCharValue"]) + "\n";
    }
  }
  EXPECT_EQ(csv, q.out);
}

TEST_F(FlowResourcesAthena, BadSqlWritesAndUnknownNamesAreInvalidRequests) {
  auto query = [&](const std::string& sql, const std::string& database = "lote") {
    json def = json::parse(R"({"StartAt": "Q", "States": {"Q": {"Type": "Task",
      "Resource": "arn:aws:states:::athena:startQueryExecution.sync", "End": true}}})");
    def["States"]["Q"]["Parameters"] = {{"QueryString", sql},
                                        {"QueryExecutionContext", {{"Database", database}}}};
    return RunDef(def.dump(), Flags());
  };
  // The label a row holds must not appear in an error about a query over it.
  CliResult ok = query("SELECT label FROM results ORDER BY label LIMIT 1");
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  CliResult one = RunLote("query --output " + (tmp_ / "out") +
                          " --format csv 'SELECT label FROM results ORDER BY label LIMIT 1'");
  std::string label = one.out.substr(one.out.find('\n') + 1);
  label.resize(label.find('\n'));
  ASSERT_FALSE(label.empty());
  for (const std::string& sql :
       {std::string("SELEC label FROM results"), std::string("SELECT nope FROM results"),
        std::string("SELECT label FROM results WHERE"), std::string("DELETE FROM results"),
        std::string("SELECT 1; DROP TABLE results")}) {
    CliResult r = query(sql);
    EXPECT_EQ(r.exit_code, 6) << sql << ": " << r.err;
    json e = json::parse(r.out);
    EXPECT_EQ(e["error"], "Athena.InvalidRequestException") << sql << ": " << r.out;
    EXPECT_EQ(std::string(e["cause"]).find(label), std::string::npos) << r.out;
  }
  // Nothing was deleted.
  CliResult count = RunLote("query --output " + (tmp_ / "out") +
                            " --format csv 'SELECT count(*) > 300 AS many FROM results'");
  EXPECT_EQ(count.out, "many\n1\n");
  CliResult unknown_db = query("SELECT 1", "elsewhere");
  EXPECT_EQ(unknown_db.exit_code, 6);
  EXPECT_NE(unknown_db.out.find("Athena.InvalidRequestException"), std::string::npos);
  EXPECT_NE(unknown_db.out.find("elsewhere"), std::string::npos) << unknown_db.out;
  // getQueryResults of an id this process never ran, and a MaxResults over AWS's 1000.
  CliResult unknown_id = RunDef(R"({"StartAt": "G", "States": {"G": {"Type": "Task",
    "Resource": "arn:aws:states:::athena:getQueryResults",
    "Parameters": {"QueryExecutionId": "00000000-0000-0000-0000-000000000000"}, "End": true}}})",
                                Flags());
  EXPECT_EQ(unknown_id.exit_code, 6);
  EXPECT_NE(unknown_id.out.find("Athena.InvalidRequestException"), std::string::npos);
  CliResult too_many = RunDef(R"({"StartAt": "Q", "States": {
    "Q": {"Type": "Task", "Resource": "arn:aws:states:::athena:startQueryExecution.sync",
      "Parameters": {"QueryString": "SELECT 1 AS one", "QueryExecutionContext": {"Database": "lote"}},
      "Next": "G"},
    "G": {"Type": "Task", "Resource": "arn:aws:states:::athena:getQueryResults",
      "Parameters": {"QueryExecutionId.$": "$.QueryExecution.QueryExecutionId",
                     "MaxResults": 1001}, "End": true}}})",
                              Flags());
  EXPECT_EQ(too_many.exit_code, 6);
  EXPECT_NE(too_many.out.find("MaxResults"), std::string::npos) << too_many.out;
}

// ---- SageMaker training ----

class FlowResourcesTraining : public SampleModelTest, public FlowResourcesBase {
 protected:
  static std::string TrainJob(const std::string& hyper) {
    return R"({"Type": "Task", "Resource": "arn:aws:states:::sagemaker:createTrainingJob.sync",
      "Parameters": {"TrainingJobName": "intents-1",
        "AlgorithmSpecification": {"TrainingImage": "lote:local", "TrainingInputMode": "File"},
        "HyperParameters": )" +
           hyper + R"(,
        "InputDataConfig": [
          {"ChannelName": "train", "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix",
            "S3Uri": "file://)" +
           kSample + R"(/train.jsonl"}}, "ContentType": "application/jsonlines"},
          {"ChannelName": "validation", "DataSource": {"S3DataSource": {
            "S3Uri": ")" +
           kSample + R"(/dev.jsonl"}}}],
        "OutputDataConfig": {"S3OutputPath.$": "$.models"},
        "ResourceConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.xlarge",
                           "VolumeSizeInGB": 10},
        "StoppingCondition": {"MaxRuntimeInSeconds": 3600}},
      "ResultPath": "$.training")";
  }
};

TEST_F(FlowResourcesTraining, TrainsTheCliModelThenATransformRunsIt) {
  ASSERT_TRUE(MakeDemoLake(tmp_ / "lake"));
  // Train -> Prep -> Infer (the trained model, by ModelName) -> Publish.
  std::string def = R"({"StartAt": "Train", "States": {
    "Train": )" + TrainJob(R"({"name": "intents", "c": "1.0", "min_df": "1"})") +
                    R"(, "Next": "Prep"},
    "Prep": {"Type": "Task", "Resource": "arn:aws:states:::glue:startJobRun.sync",
      "Parameters": {"JobName": "prep", "Arguments": {"--input.$": "$.input",
                                                      "--output.$": "$.output"}},
      "ResultPath": null, "Next": "Infer"},
    "Infer": {"Type": "Task", "Resource": "arn:aws:states:::sagemaker:createTransformJob.sync",
      "Parameters": {"ModelName": "trained", "TransformJobName": "infer",
                     "TransformOutput": {"S3OutputPath.$": "$.output"}},
      "ResultPath": null, "Next": "Publish"},
    "Publish": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
      "Parameters": {"FunctionName": "lote-publish", "Payload": {"output.$": "$.output"}},
      "ResultPath": "$.publish", "End": true}}})";
  const std::string model = tmp_ / "models/intents-1/output/model.lote";
  CliResult r = RunDef(def, "--model trained=" + model,
                       R"({"models": ")" + (tmp_ / "models") + R"(", "input": ")" +
                           (tmp_ / "lake") + R"(", "output": ")" + (tmp_ / "by-flow") + R"("})");
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  json out = json::parse(r.out);
  const json& t = out["training"];
  EXPECT_EQ(t["TrainingJobStatus"], "Completed");
  EXPECT_EQ(t["ModelArtifacts"]["S3ModelArtifacts"], model);
  bool accuracy = false;
  for (const json& m : t["FinalMetricDataList"]) {
    if (m["MetricName"] == "validation:accuracy") {
      accuracy = true;
      EXPECT_GT(m["Value"].get<double>(), 0.5);
      EXPECT_LE(m["Value"].get<double>(), 1.0);
    }
  }
  EXPECT_TRUE(accuracy) << t.dump();
  // The very model `lote train classify` writes from the same data and settings.
  EXPECT_EQ(ReadAll(model), ReadAll(Model()));
  // ...and the transform ran it: the rows are `lote run`'s with that model.
  CliResult run = RunLote("run --input " + (tmp_ / "lake") + " --output " + (tmp_ / "by-run") +
                          " --model " + Model());
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const char* sql =
      "SELECT record_id, label, score, top_k, entities, model_version FROM results "
      "ORDER BY source, line";
  CliResult a = RunLote("query --output " + (tmp_ / "by-flow") + " --format csv '" + sql + "'");
  CliResult b = RunLote("query --output " + (tmp_ / "by-run") + " --format csv '" + sql + "'");
  ASSERT_EQ(a.exit_code, 0) << a.err;
  EXPECT_GT(std::count(a.out.begin(), a.out.end(), '\n'), 300);
  EXPECT_EQ(a.out, b.out);
}

// HyperParameters.task "extract": the job trains the entity tagger, as `lote train extract` does.
TEST_F(FlowResourcesTraining, TaskExtractTrainsTheTaggerOfTrainExtract) {
  const std::string data = kSource + "/tests/data/extract_cli";
  json def = json::parse(R"({"StartAt": "Train", "States": {"Train": )" +
                         TrainJob(R"({"task": "extract", "name": "ner", "seed": "7"})") +
                         R"(, "End": true}}})");
  json& channels = def["States"]["Train"]["Parameters"]["InputDataConfig"];
  channels[0]["DataSource"]["S3DataSource"]["S3Uri"] = "file://" + data + "/train.conll";
  channels[0].erase("ContentType");
  channels[1]["DataSource"]["S3DataSource"]["S3Uri"] = data + "/dev.conll";
  CliResult r = RunDef(def.dump(), "", R"({"models": ")" + (tmp_ / "models") + R"("})");
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  const json t = json::parse(r.out)["training"];
  EXPECT_EQ(t["TrainingJobStatus"], "Completed");
  ASSERT_EQ(t["FinalMetricDataList"].size(), 1u) << t.dump();
  EXPECT_EQ(t["FinalMetricDataList"][0]["MetricName"], "validation:entity_f1");
  EXPECT_GT(t["Lote"]["entityTypes"].get<int>(), 0);
  CliResult local = RunLote("train extract --train " + data + "/train.conll --dev " + data +
                            "/dev.conll --name ner --seed 7 --out " + (tmp_ / "local.lote"));
  ASSERT_EQ(local.exit_code, 0) << local.err;
  EXPECT_TRUE(ReadAll(tmp_ / "models/intents-1/output/model.lote") == ReadAll(tmp_ / "local.lote"));
}

TEST_F(FlowResourcesTraining, RefusesUnknownHyperParametersAndChannels) {
  auto train = [&](const std::string& hyper) {
    return RunDef(
        R"({"StartAt": "Train", "States": {"Train": )" + TrainJob(hyper) + R"(, "End": true}}})",
        "", R"({"models": ")" + (tmp_ / "models") + R"("})");
  };
  for (const std::string& hyper :
       {std::string(R"({"epochs": "10"})"), std::string(R"({"c": 2})"),
        std::string(R"({"c": "lots"})"), std::string(R"({"min_df": "0"})")}) {
    CliResult r = train(hyper);
    EXPECT_EQ(r.exit_code, 6) << hyper;
    json e = json::parse(r.out);
    EXPECT_EQ(e["error"], "SageMaker.ValidationException") << r.out;
    std::string key = json::parse(hyper).begin().key();
    EXPECT_NE(std::string(e["cause"]).find("HyperParameters." + key), std::string::npos) << r.out;
  }
  EXPECT_FALSE(std::filesystem::exists(tmp_ / "models/intents-1/output/model.lote"));
  json def = json::parse(R"({"StartAt": "Train", "States": {"Train": )" + TrainJob("{}") +
                         R"(, "End": true}}})");
  def["States"]["Train"]["Parameters"]["InputDataConfig"][1]["ChannelName"] = "test";
  CliResult r = RunDef(def.dump(), "", R"({"models": ")" + (tmp_ / "models") + R"("})");
  EXPECT_EQ(r.exit_code, 6);
  EXPECT_NE(r.out.find("channel 'test'"), std::string::npos) << r.out;
}

// ---- lambda:invoke of local commands ----

class FlowResourcesLambda : public ::testing::Test, public FlowResourcesBase {
 protected:
  std::string Script(const std::string& name, const std::string& code) {
    std::string path = tmp_ / (name + ".py");
    WriteAll(path, code);
    return "--function '" + name + "=python3 " + path + "'";
  }
  static std::string Invoke(const std::string& function, const std::string& extra = "") {
    return R"({"StartAt": "Call", "States": {"Call": {"Type": "Task",
      "Resource": "arn:aws:states:::lambda:invoke", )" +
           extra + R"(
      "Parameters": {"FunctionName": ")" +
           function + R"(", "Payload.$": "$"}, "End": true}}})";
  }
};

TEST_F(FlowResourcesLambda, ACommandGetsThePayloadAndReturnsJson) {
  std::string flags = Script("echo", R"(import json, os, sys
event = json.load(sys.stdin)
fds = sorted(int(f) for f in os.listdir("/proc/self/fd"))
print(json.dumps({"doubled": event["n"] * 2, "fds": fds}))
)");
  // An ARN with an alias names the same function.
  CliResult r = RunDef(Invoke("arn:aws:lambda:us-east-1:123456789012:function:echo:live"), flags,
                       R"({"n": 21})");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json out = json::parse(r.out);
  EXPECT_EQ(out["StatusCode"], 200);
  EXPECT_EQ(out["ExecutedVersion"], "$LATEST");
  EXPECT_EQ(out["Payload"]["doubled"], 42);
  // Nothing of lote's (the history database...) is open in the command: stdin, stdout, stderr
  // and the folder listdir reads.
  for (const json& fd : out["Payload"]["fds"]) EXPECT_LE(fd.get<int>(), 3) << out.dump();
  CliResult missing = RunDef(Invoke("nope"), flags);
  EXPECT_EQ(missing.exit_code, 6);
  EXPECT_NE(missing.out.find("Lambda.ResourceNotFoundException"), std::string::npos);
  CliResult builtin = RunDef(Invoke("echo"), "--function 'lote-publish=python3 x.py'");
  EXPECT_NE(builtin.exit_code, 0);
  EXPECT_NE(builtin.err.find("built in"), std::string::npos) << builtin.err;
}

TEST_F(FlowResourcesLambda, ConcurrentCallsAndAnUnreadPayload) {
  // Sixteen iterations at once, each through its own `cat`.
  std::string def = R"({"StartAt": "M", "States": {"M": {"Type": "Map", "MaxConcurrency": 8,
    "ItemProcessor": {"StartAt": "C", "States": {"C": {"Type": "Task",
      "Resource": "arn:aws:states:::lambda:invoke",
      "Parameters": {"FunctionName": "cat", "Payload.$": "$"}, "OutputPath": "$.Payload",
      "End": true}}}, "End": true}}})";
  json items = json::array();
  for (int i = 0; i < 16; ++i) items.push_back({{"i", i}, {"s", std::string(1000, 'a' + i % 26)}});
  CliResult r = RunDef(def, "--function cat=cat", items.dump());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out), items);
  // A command that exits without reading a payload larger than a pipe's buffer: lote is not
  // killed by SIGPIPE.
  std::string big = tmp_ / "big.json";
  WriteAll(big, json{{"s", std::string(200000, 'x')}}.dump());
  std::string path = tmp_ / "unread.asl.json";
  WriteAll(path, Invoke("unread"));
  CliResult unread =
      RunLote("flow run --quiet --definition " + path + " --history " + (tmp_ / "h.db") +
              " --input-file " + big + " --function 'unread=echo {\"ok\": true}'");
  ASSERT_EQ(unread.exit_code, 0) << unread.err << unread.out;
  EXPECT_EQ(json::parse(unread.out)["Payload"], json::parse(R"({"ok": true})"));
}

TEST_F(FlowResourcesLambda, FailuresAreLambdasErrors) {
  std::string flags = Script("crash", R"(import sys
sys.stderr.write("loading\nboom: no such account\n")
sys.exit(3)
)") + " " + Script("raise", R"(import json
print(json.dumps({"errorType": "AccountNotFound", "errorMessage": "no account 7"}))
raise SystemExit(1)
)") + " " + Script("nojson", "print('hello')\n");
  CliResult crash = RunDef(Invoke("crash"), flags);
  EXPECT_EQ(crash.exit_code, 6);
  json e = json::parse(crash.out);
  EXPECT_EQ(e["error"], "Lambda.Unknown");
  json cause = json::parse(std::string(e["cause"]));
  EXPECT_EQ(cause["errorType"], "Runtime.ExitError");
  EXPECT_NE(std::string(cause["errorMessage"]).find("exit status 3: boom: no such account"),
            std::string::npos)
      << cause.dump();
  // stderr is passed through.
  EXPECT_NE(crash.err.find("loading"), std::string::npos) << crash.err;
  // A function's own error payload names the error, which Catch can match.
  std::string def = R"({"StartAt": "Call", "States": {"Call": {"Type": "Task",
      "Resource": "arn:aws:states:::lambda:invoke",
      "Parameters": {"FunctionName": "raise"},
      "Catch": [{"ErrorEquals": ["AccountNotFound"], "ResultPath": "$.err", "Next": "Handled"}],
      "End": true}, "Handled": {"Type": "Pass", "End": true}}})";
  CliResult handled = RunDef(def, flags);
  ASSERT_EQ(handled.exit_code, 0) << handled.out << handled.err;
  json h = json::parse(handled.out);
  EXPECT_EQ(h["err"]["Error"], "AccountNotFound");
  EXPECT_EQ(json::parse(std::string(h["err"]["Cause"]))["errorMessage"], "no account 7");
  CliResult nojson = RunDef(Invoke("nojson"), flags);
  EXPECT_EQ(nojson.exit_code, 6);
  EXPECT_NE(nojson.out.find("not one JSON value"), std::string::npos) << nojson.out;
}

TEST_F(FlowResourcesLambda, ATimeoutKillsTheCommandAndTooMuchOutputFails) {
  std::string flags = Script("slow", R"(import os, time
open(os.environ["PIDFILE"], "w").write(str(os.getpid()))
time.sleep(60)
print("{}")
)") + " " + Script("chatty", "print('[' + '1,' * 200000 + '1]')\n");
  auto start = std::chrono::steady_clock::now();
  const std::string pidfile = tmp_ / "slow.pid";
  std::string def = Invoke("slow", R"("TimeoutSeconds": 1,)");
  std::string path = tmp_ / "slow.asl.json";
  WriteAll(path, def);
  CliResult slow = RunLote(
      "flow run --quiet --definition " + path + " --history " + (tmp_ / "h.db") + " " + flags,
      "PIDFILE=" + pidfile);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(slow.exit_code, 6) << slow.err;
  EXPECT_NE(slow.out.find("States.Timeout"), std::string::npos) << slow.out;
  EXPECT_LT(seconds, 20.0);
  // The command was killed, not left running.
  std::string pid = ReadAll(pidfile);
  ASSERT_FALSE(pid.empty());
  EXPECT_NE(::kill(std::stoi(pid), 0), 0);
  CliResult chatty = RunDef(Invoke("chatty"), flags);
  EXPECT_EQ(chatty.exit_code, 6);
  EXPECT_NE(chatty.out.find("States.DataLimitExceeded"), std::string::npos) << chatty.out;
  EXPECT_NE(chatty.out.find("chatty"), std::string::npos) << chatty.out;
}

}  // namespace
}  // namespace lote::testing
