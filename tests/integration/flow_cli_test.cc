// `lote flow` through the CLI: the pipeline's own definition gives the rows `lote run` gives,
// validation messages, exit codes, and executions killed with SIGKILL (in a Task, in a Wait,
// inside a Map iteration and inside a Parallel branch) then resumed.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "cli_runner.h"
#include "serve_process.h"

namespace lote::testing {
namespace {

const std::string kPipeline = kSource + "/deploy/statemachines/pipeline.asl.json";
const std::string kLocalSubstitutions = kSource + "/deploy/statemachines/local.substitutions.json";

class FlowCli : public ::testing::Test {
 protected:
  std::string History() const { return tmp_ / "history.db"; }
  std::string Def(const std::string& name, const std::string& json) {
    std::string path = tmp_ / (name + ".asl.json");
    WriteAll(path, json);
    return path;
  }
  CliResult Flow(const std::string& args) {
    return RunLote("flow " + args + " --history " + History());
  }
  // Whether `lote flow history NAME` lists `needle` at least `times` times.
  bool HistoryHas(const std::string& name, const std::string& needle, int times = 1) {
    CliResult r = Flow("history " + name);
    int n = 0;
    for (size_t at = r.out.find(needle); at != std::string::npos; at = r.out.find(needle, at + 1))
      ++n;
    return n >= times;
  }
  TempDir tmp_;
};

TEST_F(FlowCli, StartExecutionRunsNestedExecutionsBoundedAndNamedErrors) {
  std::string child = Def("child", R"j({"StartAt": "A", "States": {
    "A": {"Type": "Pass", "Parameters": {"twice.$": "States.MathAdd($.n, $.n)"}, "End": true}}})j");
  std::string parent = Def("parent", R"j({"StartAt": "Sync2", "States": {
    "Sync2": {"Type": "Task", "Resource": "arn:aws:states:::states:startExecution.sync:2",
      "Parameters": {"StateMachineArn": "arn:aws:states:local:000000000000:stateMachine:child",
                     "Name": "c1", "Input": {"n.$": "$.n"}},
      "ResultSelector": {"out.$": "$.Output", "status.$": "$.Status"}, "ResultPath": "$.a",
      "Next": "Sync"},
    "Sync": {"Type": "Task", "Resource": "arn:aws:states:::states:startExecution.sync",
      "Parameters": {"StateMachineArn": "arn:aws:states:local:000000000000:stateMachine:child",
                     "Input": {"n": 5}},
      "ResultSelector": {"out.$": "$.Output"}, "ResultPath": "$.b", "Next": "Plain"},
    "Plain": {"Type": "Task", "Resource": "arn:aws:states:::states:startExecution",
      "Parameters": {"StateMachineArn": "arn:aws:states:local:000000000000:stateMachine:child",
                     "Name": "c1", "Input": {"n.$": "$.n"}},
      "ResultPath": "$.c", "End": true}}})j");
  CliResult r = Flow("run --definition " + parent + " --name p1 --input '{\"n\": 21}'" +
                     " --state-machine-file child=" + child);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto out = nlohmann::json::parse(r.out);
  // .sync:2 gives the output as JSON, .sync as JSON text; the plain form its ARN and start.
  EXPECT_EQ(out["a"]["out"]["twice"], 42);
  EXPECT_EQ(out["a"]["status"], "SUCCEEDED");
  EXPECT_EQ(out["b"]["out"], "{\"twice\":10}");
  // The same name and input again: the recorded execution, not a second one.
  EXPECT_EQ(out["c"]["ExecutionArn"], "arn:aws:states:local:000000000000:execution:child:c1");
  EXPECT_TRUE(HistoryHas("c1", "ExecutionSucceeded"));
  EXPECT_FALSE(HistoryHas("c1", "ExecutionSucceeded", 2));

  // A state machine lote was not given, and a definition that starts itself: named errors, and
  // the nesting stops at its bound.
  CliResult unknown = Flow("run --definition " + parent + " --name p2 --input '{\"n\": 1}'");
  EXPECT_EQ(unknown.exit_code, 6);
  EXPECT_NE(unknown.out.find("StepFunctions.StateMachineDoesNotExistException"), std::string::npos)
      << unknown.out;
  std::string self = Def("self", R"j({"StartAt": "Again", "States": {
    "Again": {"Type": "Task", "Resource": "arn:aws:states:::states:startExecution.sync:2",
      "Parameters": {"StateMachineArn": "arn:aws:states:local:000000000000:stateMachine:self"},
      "End": true}}})j");
  CliResult loop = Flow("run --definition " + self +
                        " --name s1 --state-machine-file self=" + self + " --quiet");
  EXPECT_EQ(loop.exit_code, 6);
  EXPECT_NE(loop.out.find("States.TaskFailed"), std::string::npos) << loop.out;
  CliResult list = Flow("list --format json");
  int nested = 0;
  for (size_t at = list.out.find("\"stateMachine\":\"self\""); at != std::string::npos;
       at = list.out.find("\"stateMachine\":\"self\"", at + 1)) {
    ++nested;
  }
  EXPECT_EQ(nested, 9) << list.out;  // s1 and 8 nested below it
}

TEST_F(FlowCli, RunPrintsTheOutputAndHistoryHasStepFunctionsShape) {
  std::string def = Def("sm", R"j({"StartAt": "A", "States": {
    "A": {"Type": "Pass", "Parameters": {"n.$": "States.MathAdd($.n, 1)"}, "End": true}}})j");
  CliResult r = Flow("run --definition " + def + " --name e1 --input '{\"n\": 41}'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out), nlohmann::json::parse(R"({"n": 42})"));
  EXPECT_NE(r.err.find("PassStateEntered A"), std::string::npos) << r.err;
  CliResult h = Flow("history e1 --format json");
  ASSERT_EQ(h.exit_code, 0) << h.err;
  auto events = nlohmann::json::parse(h.out)["events"];
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[0]["type"], "ExecutionStarted");
  EXPECT_EQ(events[0]["id"], 1);
  EXPECT_EQ(events[0]["previousEventId"], 0);
  EXPECT_TRUE(events[0]["executionStartedEventDetails"].contains("input"));
  EXPECT_EQ(events[1]["stateEnteredEventDetails"]["name"], "A");
  EXPECT_EQ(events[3]["type"], "ExecutionSucceeded");
  CliResult list = Flow("list --format json");
  ASSERT_EQ(list.exit_code, 0);
  EXPECT_NE(list.out.find("\"SUCCEEDED\""), std::string::npos);
  // The same name again is refused: an execution runs once.
  CliResult again = Flow("run --definition " + def + " --name e1 --input '{\"n\": 41}'");
  EXPECT_EQ(again.exit_code, 5) << again.err;
}

TEST_F(FlowCli, AFailedExecutionExits6WithErrorAndCause) {
  std::string def = Def("sm", R"({"StartAt": "F", "States": {
    "F": {"Type": "Fail", "Error": "Lote.BadBatch", "Cause": "too many quarantined"}}})");
  CliResult r = Flow("run --definition " + def + " --quiet");
  EXPECT_EQ(r.exit_code, 6) << r.err;
  EXPECT_EQ(
      nlohmann::json::parse(r.out),
      nlohmann::json::parse(R"({"error": "Lote.BadBatch", "cause": "too many quarantined"})"));
}

TEST_F(FlowCli, ValidateNamesTheStateAndField) {
  std::string def = Def("bad", R"({"StartAt": "Infer", "States": {
    "Infer": {"Type": "Pass", "Next": "Publsh"}, "Publish": {"Type": "Succeed"}}})");
  CliResult r = RunLote("flow validate " + def);
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("States.Infer.Next: no state named 'Publsh'"), std::string::npos) << r.err;
  CliResult ok = RunLote("flow validate " + kPipeline + " --substitutions " + kLocalSubstitutions);
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  CliResult bad_json = RunLote("flow validate " + Def("j", "{\"StartAt\": "));
  EXPECT_EQ(bad_json.exit_code, 3);
  CliResult jsonata = RunLote("flow validate " + Def("q", R"({"QueryLanguage": "JSONata",
    "StartAt": "A", "States": {"A": {"Type": "Succeed"}}})"));
  EXPECT_EQ(jsonata.exit_code, 3);
  EXPECT_NE(jsonata.err.find("JSONata"), std::string::npos) << jsonata.err;
}

TEST_F(FlowCli, MockedTasksFollowTheTestCase) {
  std::string def = Def("pipeline", R"({"StartAt": "Infer", "States": {
    "Infer": {"Type": "Task", "Resource": "arn:aws:states:::sagemaker:createTransformJob.sync",
              "Retry": [{"ErrorEquals": ["SageMaker.AmazonSageMakerException"],
                         "IntervalSeconds": 1, "MaxAttempts": 3, "BackoffRate": 1}],
              "End": true}}})");
  std::string mocks = tmp_ / "mocks.json";
  WriteAll(mocks, R"({
    "StateMachines": {"pipeline": {"TestCases": {"FailsTwice": {"Infer": "Flaky"},
                                                 "Missing": {"Nope": "Flaky"}}}},
    "MockedResponses": {"Flaky": {
      "0-1": {"Throw": {"Error": "SageMaker.AmazonSageMakerException", "Cause": "capacity"}},
      "2": {"Return": {"TransformJobStatus": "Completed"}}}}})");
  CliResult r = Flow("run --definition " + def + " --mock-config " + mocks +
                     " --test-case FailsTwice --name m1");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["TransformJobStatus"], "Completed");
  EXPECT_TRUE(HistoryHas("m1", "TaskFailed", 2));
  CliResult missing =
      Flow("run --definition " + def + " --mock-config " + mocks + " --test-case Missing");
  EXPECT_EQ(missing.exit_code, 3);
  EXPECT_NE(missing.err.find("Nope"), std::string::npos) << missing.err;
}

TEST_F(FlowCli, AWaitKilledAndResumedKeepsItsDeadline) {
  std::string def = Def("w", R"({"StartAt": "W", "States": {
    "W": {"Type": "Wait", "Seconds": 3, "Next": "Done"}, "Done": {"Type": "Succeed"}}})");
  auto start = std::chrono::steady_clock::now();
  pid_t pid =
      SpawnLote("flow run --definition " + def + " --name w1 --history " + History(), tmp_ / "log");
  ASSERT_TRUE(KillOnceProgressed(
      pid, [&] { return HistoryHas("w1", "WaitStateEntered"); }, 20));
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  CliResult r = Flow("resume w1");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  double total = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  // The wait ends 3 s after it began, not 3 s after the resume.
  EXPECT_GE(total, 3.0);
  EXPECT_LT(total, 4.4);
  CliResult list = Flow("list");
  EXPECT_NE(list.out.find("SUCCEEDED"), std::string::npos);
}

TEST_F(FlowCli, AMapIterationKilledAndResumed) {
  std::string def = Def("m", R"({"StartAt": "M", "States": {"M": {"Type": "Map",
    "MaxConcurrency": 1, "ItemProcessor": {"StartAt": "W", "States": {
      "W": {"Type": "Wait", "Seconds": 1, "Next": "P"},
      "P": {"Type": "Pass", "Parameters": {"v.$": "$"}, "End": true}}}, "End": true}}})");
  pid_t pid = SpawnLote(
      "flow run --definition " + def + " --name m1 --input '[1,2,3]' --history " + History(),
      tmp_ / "log");
  ASSERT_TRUE(KillOnceProgressed(
      pid, [&] { return HistoryHas("m1", "WaitStateEntered", 2); }, 20));
  // `lote flow run` with the same name and input continues it.
  CliResult r = Flow("run --definition " + def + " --name m1 --input '[1,2,3]'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out), nlohmann::json::parse(R"([{"v":1},{"v":2},{"v":3}])"));
  // Item 0 finished before the kill and is not run again: 2 waits before, 2 after.
  EXPECT_TRUE(HistoryHas("m1", "WaitStateEntered", 4));
  EXPECT_FALSE(HistoryHas("m1", "WaitStateEntered", 5));
}

TEST_F(FlowCli, AParallelBranchKilledAndResumed) {
  std::string def = Def("p", R"({"StartAt": "P", "States": {"P": {"Type": "Parallel",
    "Branches": [
      {"StartAt": "A", "States": {"A": {"Type": "Pass", "Result": "a", "End": true}}},
      {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 2, "Next": "B"},
                                  "B": {"Type": "Pass", "Result": "b", "End": true}}}],
    "End": true}}})");
  pid_t pid =
      SpawnLote("flow run --definition " + def + " --name p1 --history " + History(), tmp_ / "log");
  ASSERT_TRUE(KillOnceProgressed(
      pid, [&] { return HistoryHas("p1", "WaitStateEntered"); }, 20));
  CliResult r = Flow("resume p1");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out), nlohmann::json::parse(R"(["a", "b"])"));
}

TEST_F(FlowCli, DistributedMapReadsAndWritesThroughTheBucketRoot) {
  std::filesystem::create_directories(tmp_ / "buckets/lake/in");
  std::filesystem::create_directories(tmp_ / "buckets/out");
  WriteAll(tmp_ / "buckets/lake/in/items.csv", "id,amount\n1,10\n2,25\n3,7\n");
  std::string def = Def("d", R"({"StartAt": "Each", "States": {"Each": {"Type": "Map",
    "ItemReader": {"Resource": "arn:aws:states:::s3:getObject",
                   "ReaderConfig": {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW"},
                   "Parameters": {"Bucket": "lake", "Key.$": "$.key"}},
    "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
      "StartAt": "Big", "States": {
        "Big": {"Type": "Choice", "Choices": [{"Variable": "$.amount", "StringGreaterThan": "2",
                                               "Next": "Yes"}], "Default": "No"},
        "Yes": {"Type": "Pass", "Parameters": {"id.$": "$.id", "big": true}, "End": true},
        "No": {"Type": "Pass", "Parameters": {"id.$": "$.id", "big": false}, "End": true}}},
    "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject",
                     "Parameters": {"Bucket": "out", "Prefix": "runs"}},
    "End": true}}})");
  CliResult r =
      Flow("run --definition " + def + " --name d1 --input '{\"key\": \"in/items.csv\"}'" +
           " --s3-root file://" + (tmp_ / "buckets") + "/");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto out = nlohmann::json::parse(r.out);
  ASSERT_EQ(out["ResultWriterDetails"]["Bucket"], "out") << r.out;
  std::string manifest = out["ResultWriterDetails"]["Key"];
  auto m = nlohmann::json::parse(ReadAll(tmp_ / ("buckets/out/" + manifest)));
  ASSERT_EQ(m["ResultFiles"]["SUCCEEDED"].size(), 1u) << m.dump();
  std::string results =
      ReadAll(tmp_ / ("buckets/out/" + std::string(m["ResultFiles"]["SUCCEEDED"][0]["Key"])));
  EXPECT_NE(results.find(R"(\"big\":true)"), std::string::npos) << results;
  EXPECT_NE(results.find(R"(\"big\":false)"), std::string::npos) << results;
  // A bucket outside the root is refused, and a missing object fails the Map, naming it.
  CliResult missing = Flow("run --definition " + def + " --input '{\"key\": \"in/nope.csv\"}'" +
                           " --s3-root file://" + (tmp_ / "buckets") + "/ --quiet");
  EXPECT_EQ(missing.exit_code, 6);
  EXPECT_NE(missing.out.find("States.ItemReaderFailed"), std::string::npos) << missing.out;
}

class FlowPipelineCli : public SampleModelTest {
 protected:
  void SetUp() override {
    SampleModelTest::SetUp();
    if (HasFatalFailure()) return;
    ASSERT_TRUE(MakeDemoLake(tmp_ / "lake"));
  }
  std::string Rows(const std::string& output) { return PublishedRows(output); }
  std::string FlowArgs(const std::string& output, const std::string& name) {
    return "flow run --definition " + kPipeline + " --substitutions " + kLocalSubstitutions +
           " --model lote-model=" + Model() + " --name " + name + " --history " +
           (tmp_ / "history.db") + " --input '{\"input\": \"" + (tmp_ / "lake") +
           "\", \"output\": \"" + output + "\"}'";
  }
  TempDir tmp_;
};

TEST_F(FlowPipelineCli, GivesExactlyTheRowsOfLoteRun) {
  CliResult run = RunLote("run --input " + (tmp_ / "lake") + " --output " + (tmp_ / "by-run") +
                          " --model " + Model());
  ASSERT_EQ(run.exit_code, 0) << run.err;
  CliResult flow = RunLote(FlowArgs(tmp_ / "by-flow", "f1"));
  ASSERT_EQ(flow.exit_code, 0) << flow.err;
  auto out = nlohmann::json::parse(flow.out);
  EXPECT_EQ(out["publish"]["run"]["recordsIn"], 376) << flow.out;
  // The drift check: the sample is what the model was trained on, and no alarm is configured.
  EXPECT_EQ(out["publish"]["run"]["monitoring"]["verdict"], "ok") << flow.out;
  EXPECT_FALSE(out.contains("retraining")) << flow.out;
  std::string rows = Rows(tmp_ / "by-run");
  EXPECT_GT(std::count(rows.begin(), rows.end(), '\n'), 300);
  EXPECT_EQ(Rows(tmp_ / "by-flow"), rows);
  // The catalog says which execution published the run; lote run's has none.
  CliResult by_flow = RunLote("query --output " + (tmp_ / "by-flow") +
                              " --format csv 'SELECT flow_execution FROM runs'");
  EXPECT_NE(by_flow.out.find(":execution:"), std::string::npos) << by_flow.out;
  EXPECT_NE(by_flow.out.find(":f1\n"), std::string::npos) << by_flow.out;
  CliResult by_run = RunLote("query --output " + (tmp_ / "by-run") +
                             " --format csv 'SELECT flow_execution IS NULL FROM runs'");
  EXPECT_EQ(by_run.out, "flow_execution IS NULL\n1\n");
}

// The dashboard's runs page links a run to its execution, whose page shows the events `lote flow
// history` prints; in chromium the link leads there with no console error.
TEST_F(FlowPipelineCli, TheDashboardLeadsFromARunToItsExecutionsHistory) {
  CliResult flow = RunLote(FlowArgs(tmp_ / "out", "d1"));
  ASSERT_EQ(flow.exit_code, 0) << flow.err;
  ServeProcess serve(
      LOTE_CLI_PATH,
      "serve --port 0 --output " + (tmp_ / "out") + " --flow-history " + (tmp_ / "history.db"),
      tmp_ / "serve.log");
  ASSERT_TRUE(serve.WaitReady("/api/runs")) << serve.log();
  const auto runs = nlohmann::json::parse(serve.Get("/api/runs")->body)["charts"][0];
  ASSERT_EQ(runs["columns"].back(), "flow_execution");
  const std::string arn = runs["rows"][0].back().get<std::string>();
  EXPECT_TRUE(arn.ends_with(":d1")) << arn;
  CliResult history = RunLote("flow history d1 --format json --history " + (tmp_ / "history.db"));
  ASSERT_EQ(history.exit_code, 0) << history.err;
  const auto events = nlohmann::json::parse(history.out)["events"];
  for (const std::string& execution : {std::string("d1"), arn}) {
    auto r = serve.Get("/api/flow?execution=" + execution);
    ASSERT_TRUE(r.ok() && r->status == 200) << (r.ok() ? r->body : r.status().ToString());
    const auto j = nlohmann::json::parse(r->body);
    EXPECT_EQ(j["execution"]["name"], "d1");
    EXPECT_EQ(j["execution"]["status"], "SUCCEEDED");
    EXPECT_EQ(j["events"], events);
    EXPECT_EQ(j["truncated"], false);
  }
  EXPECT_EQ(serve.Get("/api/flow?execution=nobody")->status, 404);
  EXPECT_EQ(serve.Get("/api/flow?execution=..%2Fetc")->status, 400);
  EXPECT_EQ(serve.Get("/api/flow")->status, 400);

  const std::string cmd = "cd " + std::string(LOTE_SOURCE_DIR) +
                          " && node tests/dashboard/browser_check.mjs --url http://127.0.0.1:" +
                          std::to_string(serve.port()) + " --pages runs,flow --query execution=d1" +
                          " >" + (tmp_ / "browser.json") + " 2>" + (tmp_ / "browser.err");
  ASSERT_EQ(std::system(cmd.c_str()), 0) << ReadAll(tmp_ / "browser.err");
  const auto seen = nlohmann::json::parse(ReadAll(tmp_ / "browser.json"))["pages"];
  for (const char* page : {"runs", "flow"}) {
    EXPECT_TRUE(seen[page]["console_errors"].empty()) << page << seen[page]["console_errors"];
    EXPECT_TRUE(seen[page]["error"].is_null()) << page << seen[page]["error"];
  }
  EXPECT_NE(seen["runs"]["html"].get<std::string>().find("page=flow&amp;execution=d1"),
            std::string::npos);
  EXPECT_EQ(seen["flow"]["charts"]["flow_events"]["rows"].size(), events.size());
  EXPECT_NE(seen["flow"]["text"].get<std::string>().find("ExecutionSucceeded"), std::string::npos);
  EXPECT_EQ(serve.Stop(), 0);
}

TEST_F(FlowPipelineCli, AShadowModelInTheTransformsEnvironmentScoresBesideTheModel) {
  // A challenger (the sample at another C), named in the Infer state's Environment as SageMaker
  // passes it to the container: its predictions and agreement are lote run --shadow's.
  const std::string challenger = tmp_ / "challenger.lote";
  CliResult trained = RunLote("train classify --train " + std::string(LOTE_SAMPLE_DIR) +
                              "/train.jsonl --c 0.05 --name challenger --out " + challenger);
  ASSERT_EQ(trained.exit_code, 0) << trained.err;
  nlohmann::json definition = nlohmann::json::parse(ReadAll(kPipeline));
  definition["States"]["Infer"]["Parameters"]["Environment"] = {
      {"LOTE_SHADOW_MODEL", "lote-challenger"}};
  const std::string shadowed = tmp_ / "shadowed.asl.json";
  WriteAll(shadowed, definition.dump(2));
  CliResult flow =
      RunLote("flow run --definition " + shadowed + " --substitutions " + kLocalSubstitutions +
              " --model lote-model=" + Model() + " --model lote-challenger=" + challenger +
              " --name s1 --history " + (tmp_ / "history.db") + " --input '{\"input\": \"" +
              (tmp_ / "lake") + "\", \"output\": \"" + (tmp_ / "by-flow") + "\"}'");
  ASSERT_EQ(flow.exit_code, 0) << flow.err;
  const nlohmann::json by_flow = nlohmann::json::parse(flow.out)["publish"]["run"]["monitoring"];
  CliResult run = RunLote("run --log-format json --input " + (tmp_ / "lake") + " --output " +
                          (tmp_ / "by-run") + " --model " + Model() + " --shadow " + challenger);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const nlohmann::json by_run = nlohmann::json::parse(run.out)["monitoring"];
  ASSERT_TRUE(by_flow.contains("shadow")) << flow.out;
  EXPECT_GT(by_flow["shadow"]["records"].get<int>(), 300);
  for (const char* key : {"model_version", "records", "agree", "agreement"}) {
    EXPECT_EQ(by_flow["shadow"][key], by_run["shadow"][key]) << key;
  }
  // The results are the model's alone, as lote run's.
  EXPECT_EQ(Rows(tmp_ / "by-flow"), Rows(tmp_ / "by-run"));
  // A name the flow was not given is the task's error, not a silent run without shadow.
  definition["States"]["Infer"]["Parameters"]["Environment"]["LOTE_SHADOW_MODEL"] = "lote-nobody";
  WriteAll(shadowed, definition.dump(2));
  CliResult missing =
      RunLote("flow run --definition " + shadowed + " --substitutions " + kLocalSubstitutions +
              " --model lote-model=" + Model() + " --name s2 --history " + (tmp_ / "history.db") +
              " --input '{\"input\": \"" + (tmp_ / "lake") + "\", \"output\": \"" +
              (tmp_ / "by-flow2") + "\"}'");
  EXPECT_EQ(missing.exit_code, 6) << missing.out;
  EXPECT_NE(missing.out.find("lote-nobody"), std::string::npos) << missing.out;
}

TEST_F(FlowPipelineCli, AFiringAlarmTakesTheDriftCheckToRetraining) {
  // A rule that fires on this data: the estimate is below 0.9999 whatever the sample gives.
  WriteAll(tmp_ / "alarms.yaml",
           "monitoring:\n  alarms:\n    - name: strict\n      signal: estimated_accuracy\n"
           "      below: 0.9999\n");
  CliResult flow =
      RunLote(FlowArgs(tmp_ / "by-flow", "f3") + " --config " + (tmp_ / "alarms.yaml"));
  ASSERT_EQ(flow.exit_code, 0) << flow.err;
  auto out = nlohmann::json::parse(flow.out);
  EXPECT_EQ(out["publish"]["run"]["monitoring"]["alarm"], true) << flow.out;
  EXPECT_EQ(out["retraining"]["requested"], true) << flow.out;
  EXPECT_EQ(out["retraining"]["alarms"][0]["name"], "strict") << flow.out;
  CliResult history = RunLote("flow history f3 --history " + (tmp_ / "history.db"));
  EXPECT_NE(history.out.find("RetrainingRequested"), std::string::npos) << history.out;
}

TEST_F(FlowPipelineCli, KilledInATaskThenResumedStillGivesTheSameRows) {
  CliResult run = RunLote("run --input " + (tmp_ / "lake") + " --output " + (tmp_ / "by-run") +
                          " --model " + Model());
  ASSERT_EQ(run.exit_code, 0) << run.err;
  // Killed after the infer stage ran but before its success was recorded: resume runs it again.
  CliResult killed =
      RunLote(FlowArgs(tmp_ / "by-flow", "f2"), "LOTE_FLOW_KILL_AT=TaskSucceeded:Infer");
  EXPECT_NE(killed.exit_code, 0);
  CliResult resumed = RunLote("flow resume f2 --history " + (tmp_ / "history.db") +
                              " --model lote-model=" + Model());
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_EQ(Rows(tmp_ / "by-flow"), Rows(tmp_ / "by-run"));
}

TEST_F(FlowPipelineCli, WatchStartsOneExecutionPerBatchAndNeverTwice) {
  CliResult run = RunLote("run --input " + (tmp_ / "lake") + " --output " + (tmp_ / "by-run") +
                          " --model " + Model());
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const std::string watch = "watch --input " + (tmp_ / "lake") + " --output " +
                            (tmp_ / "by-watch") + " --model " + Model() + " --flow " + kPipeline +
                            " --substitutions " + kLocalSubstitutions + " --history " +
                            (tmp_ / "history.db") + " --interval 0.2 --settle 0";
  auto executions = [&](const std::string& status) {
    CliResult l = RunLote("flow list --status " + status + " --history " + (tmp_ / "history.db"));
    return std::count(l.out.begin(), l.out.end(), '\n');
  };
  for (int round = 0; round < 2; ++round) {
    pid_t pid = SpawnLote(watch, tmp_ / "watch.out", "", tmp_ / "watch.err");
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(2);
    // The first round waits for the execution; the second gives the restarted watch two polls.
    if (round == 0) {
      while (executions("SUCCEEDED") < 1 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    }
    ::kill(pid, SIGTERM);
    int status = 0;
    ::waitpid(pid, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << ReadAll(tmp_ / "watch.err");
    // One execution for the one batch, however often the watch starts.
    EXPECT_EQ(executions("SUCCEEDED"), 1) << ReadAll(tmp_ / "watch.err");
    EXPECT_EQ(executions("FAILED"), 0) << ReadAll(tmp_ / "watch.err");
  }
  EXPECT_EQ(Rows(tmp_ / "by-watch"), Rows(tmp_ / "by-run"));
}

}  // namespace
}  // namespace lote::testing
