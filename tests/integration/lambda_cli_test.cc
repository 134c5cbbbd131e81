// `lote lambda`: the built-in functions answered over AWS Lambda's runtime API, driven by
// tests/tools/lambda_runtime.py (the service's side of the API, as AWS documents it).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cli_runner.h"

namespace lote::testing {
namespace {

using nlohmann::json;

constexpr char kExecution[] =
    "arn:aws:states:us-east-1:123456789012:execution:lote-retrain:retrain-7f3a";

class LambdaCli : public SampleModelTest {
 protected:
  // Runs `lote ARGS` under the simulated Lambda service with one event per line of `events`;
  // returns the simulator's results ({} when it did not write them).
  json Serve(const std::vector<std::string>& events, const std::string& args,
             const std::string& handler = "") {
    std::string lines;
    for (const std::string& e : events) lines += e + "\n";
    WriteAll(tmp_ / "events.jsonl", lines);
    const std::string cmd = "python3 " + kSource + "/tests/tools/lambda_runtime.py --events " +
                            (tmp_ / "events.jsonl") + " --results " + (tmp_ / "results.json") +
                            (handler.empty() ? "" : " --handler '" + handler + "'") +
                            " --wait-seconds 120 -- " + LOTE_CLI_PATH + " " + args + " 2>" +
                            (tmp_ / "stderr");
    const int status = std::system(cmd.c_str());
    EXPECT_TRUE(WIFEXITED(status)) << cmd;
    json results = json::parse(ReadAll(tmp_ / "results.json"), nullptr, false);
    return results.is_discarded() ? json::object() : results;
  }

  std::string Lote(const std::string& args) { return RunLote(args).out; }

  TempDir tmp_;
};

TEST_F(LambdaCli, TheRegistryFunctionsAnswerAsInTheFlowAndErrorsKeepTheirNames) {
  const std::string registry = tmp_ / "registry";
  auto event = [&](json payload) {
    payload["registry"] = registry;
    payload["name"] = "intents";
    payload["execution"] = kExecution;
    return payload.dump();
  };
  json r = Serve({event({{"model", Model()}, {"tags", {{"training_job", "job-1"}}}}),
                  event({{"tags", {{"training_job", "job-2"}}}}),  // no model
                  "{\"registry\": ",                               // not JSON
                  event({{"model", tmp_ / "missing.lote"}})},
                 "lambda", "lote-register");
  ASSERT_EQ(r["invocations"].size(), 4u) << ReadAll(tmp_ / "stderr");
  const json& ok = r["invocations"][0];
  ASSERT_TRUE(ok.contains("response")) << ok;
  EXPECT_EQ(ok["response"]["version"], 1);
  EXPECT_EQ(ok["response"]["model"], "models:/intents/1");
  EXPECT_EQ(ok["response"]["sha256"].get<std::string>().size(), 64u);
  for (int i : {1, 2}) {
    const json& bad = r["invocations"][i];
    ASSERT_TRUE(bad.contains("error")) << bad;
    EXPECT_EQ(bad["error"]["errorType"], "Lambda.ValidationException") << bad;
    EXPECT_EQ(bad["errorTypeHeader"], "Lambda.ValidationException");
    EXPECT_TRUE(bad["error"]["stackTrace"].is_array());
  }
  EXPECT_NE(r["invocations"][1]["error"]["errorMessage"].get<std::string>().find("Payload.model"),
            std::string::npos);
  const json& missing = r["invocations"][3];
  ASSERT_TRUE(missing.contains("error")) << missing;
  EXPECT_EQ(missing["error"]["errorType"].get<std::string>().rfind("Lote.", 0), 0u) << missing;
  // Lambda stops the environment; the runtime was waiting for the next event.
  EXPECT_EQ(r["exitStatus"], "signal SIGTERM");
  EXPECT_EQ(r["initError"], nullptr);

  // The version was registered by the execution named in the event, with its tags.
  json show = json::parse(Lote("registry show intents --json --registry " + registry));
  ASSERT_EQ(show["versions"].size(), 1u) << show;
  EXPECT_EQ(show["versions"][0]["source"], kExecution);
  EXPECT_EQ(show["versions"][0]["tags"]["training_job"], "job-1");
  // One line per invocation on stderr, naming the request and the outcome, not the payload.
  const std::string log = ReadAll(tmp_ / "stderr");
  EXPECT_NE(
      log.find("lote lambda: lote-register " + ok["requestId"].get<std::string>() + " succeeded"),
      std::string::npos)
      << log;
  EXPECT_EQ(log.find("job-1"), std::string::npos) << log;
}

TEST_F(LambdaCli, PublishRecordsTheRunUnderTheExecutionOfTheEvent) {
  const std::string cmd =
      "python3 " + kSource + "/scripts/make_demo_inputs.py " + (tmp_ / "in") + " >/dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  const std::string out = tmp_ / "out";
  ASSERT_EQ(RunLote("ingest --input " + (tmp_ / "in") + " --output " + out).exit_code, 0);
  ASSERT_EQ(RunLote("prep --output " + out).exit_code, 0);
  ASSERT_EQ(RunLote("infer --model " + Model() + " --output " + out).exit_code, 0);
  json r = Serve({json{{"output", out}, {"execution", kExecution}}.dump(),
                  json{{"output", out}, {"execution", kExecution}}.dump()},
                 "lambda lote-publish");
  ASSERT_EQ(r["invocations"].size(), 2u) << ReadAll(tmp_ / "stderr");
  const json& first = r["invocations"][0];
  ASSERT_TRUE(first.contains("response")) << first;
  EXPECT_EQ(first["response"]["recordsIn"], 376);
  EXPECT_EQ(first["response"]["recordsOut"], 371);
  EXPECT_FALSE(first["response"]["runId"].get<std::string>().empty());
  EXPECT_TRUE(first["response"]["monitoring"].is_object());
  // A retried invocation finds nothing left to publish: exactly once, as in the flow.
  EXPECT_EQ(r["invocations"][1]["response"]["recordsIn"], 0) << r["invocations"][1];
  auto runs = RunLote("query --format json --output " + out +
                      " \"SELECT flow_execution FROM runs WHERE records_out > 0\"");
  ASSERT_EQ(runs.exit_code, 0) << runs.err;
  EXPECT_EQ(json::parse(runs.out)[0]["flow_execution"], kExecution) << runs.out;
}

TEST_F(LambdaCli, AnUnknownFunctionFailsTheInitPhase) {
  json r = Serve({"{}"}, "lambda", "lote-\x1b[31mnope");
  ASSERT_TRUE(r["initError"].is_object()) << r;
  EXPECT_EQ(r["initError"]["body"]["errorType"], "Lote.InvalidArgument");
  EXPECT_EQ(r["initError"]["errorTypeHeader"], "Lote.InvalidArgument");
  EXPECT_TRUE(r["invocations"].empty());  // no event was taken
  EXPECT_EQ(r["exitStatus"], 2);
  EXPECT_EQ(ReadAll(tmp_ / "stderr").find('\x1b'), std::string::npos);
}

TEST_F(LambdaCli, OutsideLambdaItSaysWhatIsMissing) {
  auto r = RunLote("lambda lote-publish", "env -u AWS_LAMBDA_RUNTIME_API");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("AWS_LAMBDA_RUNTIME_API"), std::string::npos) << r.err;
  r = RunLote("lambda lote-publish", "AWS_LAMBDA_RUNTIME_API=http://127.0.0.1:9/x");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("HOST:PORT"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace lote::testing
