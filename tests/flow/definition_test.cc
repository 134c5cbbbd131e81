// Tests of ASL definition parsing and validation (ParseDefinition) and definition substitutions.
#include "lote/flow/definition.h"

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

namespace lote::flow {
namespace {

// Every problem line of a failed parse (empty when the definition is valid).
std::vector<std::string> Problems(std::string_view text, const std::string& source = "def.json") {
  ParseOptions options;
  options.source = source;
  auto result = ParseDefinition(text, options);
  std::vector<std::string> lines;
  if (result.ok()) return lines;
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument) << result.status().message();
  std::istringstream in(result.status().message());
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::string Joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

// Whether one problem line is exactly `line`.
#define EXPECT_PROBLEM(text, line)                                                             \
  do {                                                                                         \
    auto problems_ = Problems(text);                                                           \
    EXPECT_NE(std::find(problems_.begin(), problems_.end(), std::string("def.json: ") + line), \
              problems_.end())                                                                 \
        << "wanted: " << line << "\ngot:\n"                                                    \
        << Joined(problems_);                                                                  \
  } while (0)

// Whether some problem line starts with `prefix` (for messages owned by other parsers).
#define EXPECT_PROBLEM_AT(text, prefix)                                                          \
  do {                                                                                           \
    auto problems_ = Problems(text);                                                             \
    bool found_ = false;                                                                         \
    for (const auto& p_ : problems_) {                                                           \
      if (p_.rfind(std::string("def.json: ") + prefix, 0) == 0) found_ = true;                   \
    }                                                                                            \
    EXPECT_TRUE(found_) << "wanted a problem at: " << prefix << "\ngot:\n" << Joined(problems_); \
  } while (0)

// A one-state machine whose state is `state` (a JSON object's text) named "S".
std::string One(const std::string& state) {
  return R"({"StartAt": "S", "States": {"S": )" + state + "}}";
}

std::shared_ptr<const StateMachine> MustParseMachine(std::string_view text) {
  auto result = ParseDefinition(text);
  EXPECT_TRUE(result.ok()) << result.status().message();
  if (!result.ok()) return nullptr;
  return *result;
}

TEST(StateTypeName, NamesEveryType) {
  EXPECT_EQ(StateTypeName(StateType::kTask), "Task");
  EXPECT_EQ(StateTypeName(StateType::kPass), "Pass");
  EXPECT_EQ(StateTypeName(StateType::kChoice), "Choice");
  EXPECT_EQ(StateTypeName(StateType::kWait), "Wait");
  EXPECT_EQ(StateTypeName(StateType::kSucceed), "Succeed");
  EXPECT_EQ(StateTypeName(StateType::kFail), "Fail");
  EXPECT_EQ(StateTypeName(StateType::kParallel), "Parallel");
  EXPECT_EQ(StateTypeName(StateType::kMap), "Map");
}

constexpr char kEveryType[] = R"({
  "Comment": "every state type",
  "StartAt": "Prepare",
  "TimeoutSeconds": 3600,
  "QueryLanguage": "JSONPath",
  "States": {
    "Prepare": {"Type": "Pass", "Result": {"n": 3}, "ResultPath": "$.prep", "Next": "Infer",
                "InputPath": null, "OutputPath": "$.x"},
    "Infer": {
      "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
      "Parameters": {"FunctionName": "f", "Payload.$": "$"},
      "ResultSelector": {"body.$": "$.Payload"},
      "ResultPath": null,
      "TimeoutSeconds": 300, "HeartbeatSecondsPath": "$.hb",
      "Retry": [
        {"ErrorEquals": ["States.Timeout"], "IntervalSeconds": 2, "MaxAttempts": 5,
         "BackoffRate": 1.5, "MaxDelaySeconds": 30, "JitterStrategy": "FULL"},
        {"ErrorEquals": ["States.ALL"]}
      ],
      "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Failed"}],
      "Next": "Route"
    },
    "Route": {
      "Type": "Choice",
      "Choices": [{"Variable": "$.n", "NumericGreaterThan": 2, "Next": "Hold"}],
      "Default": "Fan"
    },
    "Hold": {"Type": "Wait", "Timestamp": "2016-03-14T01:59:00Z", "Next": "Fan"},
    "Fan": {
      "Type": "Parallel",
      "Branches": [
        {"StartAt": "A", "States": {"A": {"Type": "Wait", "SecondsPath": "$.s", "End": true}}},
        {"StartAt": "B", "States": {"B": {"Type": "Succeed"}}}
      ],
      "Next": "Each"
    },
    "Each": {
      "Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 4,
      "ItemSelector": {"item.$": "$$.Map.Item.Value"},
      "ItemProcessor": {
        "ProcessorConfig": {"Mode": "INLINE"},
        "StartAt": "Y", "States": {"Y": {"Type": "Pass", "End": true}}
      },
      "Next": "Done"
    },
    "Done": {"Type": "Succeed"},
    "Failed": {"Type": "Fail", "Error": "Pipeline.Failed", "CausePath": "$.error.Cause"}
  }
})";

TEST(ParseDefinition, ReadsEveryStateTypeIntoItsFields) {
  auto m = MustParseMachine(kEveryType);
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->start_at, "Prepare");
  EXPECT_EQ(m->comment, "every state type");
  EXPECT_EQ(m->timeout_seconds, 3600);
  ASSERT_EQ(m->states.size(), 8u);
  EXPECT_EQ(m->states[0].name, "Prepare");  // definition order
  EXPECT_EQ(m->states[7].name, "Failed");

  const State* pass = m->Find("Prepare");
  ASSERT_NE(pass, nullptr);
  EXPECT_EQ(pass->type, StateType::kPass);
  EXPECT_EQ(pass->result, Json::parse(R"({"n": 3})"));
  ASSERT_TRUE(pass->result_path.path.has_value());
  EXPECT_EQ(pass->result_path.path->text(), "$.prep");
  EXPECT_TRUE(pass->input_path.is_null);
  EXPECT_FALSE(pass->output_path.is_null);
  ASSERT_TRUE(pass->output_path.path.has_value());
  EXPECT_EQ(pass->output_path.path->text(), "$.x");
  EXPECT_EQ(pass->next, "Infer");
  EXPECT_FALSE(pass->end);

  const State* task = m->Find("Infer");
  ASSERT_NE(task, nullptr);
  EXPECT_EQ(task->type, StateType::kTask);
  EXPECT_EQ(task->resource, "arn:aws:states:::lambda:invoke");
  EXPECT_TRUE(task->parameters.has_value());
  EXPECT_TRUE(task->result_selector.has_value());
  EXPECT_TRUE(task->result_path.discard);
  EXPECT_EQ(task->timeout_seconds.value, 300);
  EXPECT_FALSE(task->timeout_seconds.path.has_value());
  ASSERT_TRUE(task->heartbeat_seconds.path.has_value());
  EXPECT_EQ(task->heartbeat_seconds.path->text(), "$.hb");
  ASSERT_EQ(task->retry.size(), 2u);
  EXPECT_EQ(task->retry[0].error_equals, std::vector<std::string>{"States.Timeout"});
  EXPECT_EQ(task->retry[0].interval_seconds, 2);
  EXPECT_EQ(task->retry[0].max_attempts, 5);
  EXPECT_EQ(task->retry[0].backoff_rate, 1.5);
  EXPECT_EQ(task->retry[0].max_delay_seconds, 30);
  EXPECT_TRUE(task->retry[0].full_jitter);
  // AWS defaults: IntervalSeconds 1, MaxAttempts 3, BackoffRate 2.0, no jitter.
  EXPECT_EQ(task->retry[1].interval_seconds, 1);
  EXPECT_EQ(task->retry[1].max_attempts, 3);
  EXPECT_EQ(task->retry[1].backoff_rate, 2.0);
  EXPECT_FALSE(task->retry[1].max_delay_seconds.has_value());
  EXPECT_FALSE(task->retry[1].full_jitter);
  ASSERT_EQ(task->catchers.size(), 1u);
  EXPECT_EQ(task->catchers[0].next, "Failed");
  ASSERT_TRUE(task->catchers[0].result_path.path.has_value());
  EXPECT_EQ(task->catchers[0].result_path.path->text(), "$.error");

  const State* choice = m->Find("Route");
  ASSERT_NE(choice, nullptr);
  EXPECT_EQ(choice->type, StateType::kChoice);
  ASSERT_EQ(choice->choices.size(), 1u);
  EXPECT_EQ(choice->choices[0].next(), "Hold");
  EXPECT_EQ(choice->default_next, "Fan");
  EXPECT_TRUE(choice->next.empty());

  const State* wait = m->Find("Hold");
  ASSERT_NE(wait, nullptr);
  EXPECT_EQ(wait->type, StateType::kWait);
  EXPECT_TRUE(wait->timestamp_micros.has_value());
  EXPECT_FALSE(wait->seconds.has_value());

  const State* par = m->Find("Fan");
  ASSERT_NE(par, nullptr);
  EXPECT_EQ(par->type, StateType::kParallel);
  ASSERT_EQ(par->branches.size(), 2u);
  EXPECT_EQ(par->branches[0]->start_at, "A");
  ASSERT_NE(par->branches[0]->Find("A"), nullptr);
  EXPECT_EQ(par->branches[0]->Find("A")->seconds_path->text(), "$.s");
  EXPECT_TRUE(par->branches[0]->Find("A")->end);
  EXPECT_EQ(par->branches[1]->Find("B")->type, StateType::kSucceed);

  const State* map = m->Find("Each");
  ASSERT_NE(map, nullptr);
  EXPECT_EQ(map->type, StateType::kMap);
  ASSERT_NE(map->item_processor, nullptr);
  EXPECT_EQ(map->item_processor->start_at, "Y");
  EXPECT_FALSE(map->distributed);
  EXPECT_EQ(map->items_path->text(), "$.items");
  EXPECT_TRUE(map->item_selector.has_value());
  EXPECT_FALSE(map->parameters.has_value());
  EXPECT_EQ(map->max_concurrency.value, 4);

  const State* fail = m->Find("Failed");
  ASSERT_NE(fail, nullptr);
  EXPECT_EQ(fail->error, "Pipeline.Failed");
  EXPECT_FALSE(fail->cause.has_value());
  EXPECT_TRUE(fail->cause_path.has_value());
  EXPECT_FALSE(fail->error_path.has_value());
  EXPECT_EQ(m->Find("Nope"), nullptr);
}

TEST(ParseDefinition, ReadsADistributedMap) {
  auto m = MustParseMachine(One(R"({
    "Type": "Map", "End": true, "Label": "Docs",
    "ItemProcessor": {
      "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"},
      "StartAt": "Y", "States": {"Y": {"Type": "Pass", "End": true}}
    },
    "ItemReader": {
      "Resource": "arn:aws:states:::s3:getObject",
      "Parameters": {"Bucket": "b", "Key.$": "$.key"},
      "ReaderConfig": {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW", "MaxItems": 100}
    },
    "ItemBatcher": {"MaxItemsPerBatch": 10, "BatchInput": {"run.$": "$.run"}},
    "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject",
                     "Parameters": {"Bucket": "out", "Prefix": "runs"}},
    "ToleratedFailurePercentage": 5.5,
    "ToleratedFailureCountPath": "$.tolerated",
    "MaxConcurrencyPath": "$.mc"
  })"));
  ASSERT_NE(m, nullptr);
  const State& s = m->states[0];
  EXPECT_TRUE(s.distributed);
  EXPECT_EQ(s.execution_type, "EXPRESS");
  EXPECT_EQ(s.label, "Docs");
  ASSERT_TRUE(s.item_reader.has_value());
  EXPECT_EQ(s.item_reader->resource, "arn:aws:states:::s3:getObject");
  EXPECT_TRUE(s.item_reader->parameters.has_value());
  EXPECT_EQ(s.item_reader->reader_config["InputType"], "CSV");
  EXPECT_EQ(s.item_reader->max_items.value, 100);
  ASSERT_TRUE(s.item_batcher.has_value());
  EXPECT_EQ(s.item_batcher->max_items_per_batch.value, 10);
  EXPECT_FALSE(s.item_batcher->max_input_bytes_per_batch.present());
  EXPECT_TRUE(s.item_batcher->batch_input.has_value());
  ASSERT_TRUE(s.result_writer.has_value());
  EXPECT_EQ(s.result_writer->resource, "arn:aws:states:::s3:putObject");
  EXPECT_EQ(s.tolerated_failure_percentage.value, 5.5);
  EXPECT_EQ(s.tolerated_failure_count.path->text(), "$.tolerated");
  EXPECT_EQ(s.max_concurrency.path->text(), "$.mc");
}

TEST(ParseDefinition, ReadsTheLegacyIteratorAndMapParameters) {
  auto m = MustParseMachine(One(R"({
    "Type": "Map", "End": true, "Parameters": {"x.$": "$$.Map.Item.Value"},
    "Iterator": {"StartAt": "Y", "States": {"Y": {"Type": "Succeed"}}}
  })"));
  ASSERT_NE(m, nullptr);
  EXPECT_NE(m->states[0].item_processor, nullptr);
  EXPECT_TRUE(m->states[0].item_selector.has_value());  // Parameters on a Map is ItemSelector
  EXPECT_FALSE(m->states[0].parameters.has_value());
}

TEST(ParseDefinition, ReadsWaitSecondsFailErrorPathAndTaskTimeoutPath) {
  // HeartbeatSeconds beyond the literal maximum is refused even with a TimeoutSecondsPath.
  EXPECT_PROBLEM(One(R"({"Type": "Task", "Resource": "arn:x", "TimeoutSecondsPath": "$.t",
                       "HeartbeatSeconds": 100000000, "End": true})"),
                 "States.S.HeartbeatSeconds: must be between 1 and 99999999, got 100000000");
  auto m = MustParseMachine(R"({"StartAt": "W", "States": {
    "W": {"Type": "Wait", "Seconds": 0, "Next": "T"},
    "T": {"Type": "Task", "Resource": "arn:x", "TimeoutSecondsPath": "$.t",
          "HeartbeatSeconds": 600, "Next": "F"},
    "F": {"Type": "Fail", "ErrorPath": "$.e", "Cause": "because"}}})");
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->Find("W")->seconds, 0);
  EXPECT_EQ(m->Find("T")->timeout_seconds.path->text(), "$.t");
  EXPECT_EQ(m->Find("T")->heartbeat_seconds.value, 600);
  EXPECT_TRUE(m->Find("F")->error_path.has_value());
  EXPECT_EQ(m->Find("F")->cause, "because");
}

TEST(ParseDefinition, ReportsInvalidJsonWithLineAndColumn) {
  auto problems = Problems("{\n  \"StartAt\": \"A\",\n  \"States\": {,\n}", "pipeline.asl.json");
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].rfind("pipeline.asl.json: line 3, column 14: invalid JSON: ", 0), 0u)
      << problems[0];
  problems = Problems("", "p.json");
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].rfind("p.json: line 1, column 1: invalid JSON: ", 0), 0u) << problems[0];
}

TEST(ParseDefinition, NamesTheSourceAndLocationOfADanglingNext) {
  auto problems = Problems(R"({"StartAt": "Infer", "States": {
    "Infer": {"Type": "Task", "Resource": "arn:x", "Next": "Publsh"},
    "Publish": {"Type": "Succeed"}}})",
                           "pipeline.asl.json");
  EXPECT_NE(std::find(problems.begin(), problems.end(),
                      "pipeline.asl.json: States.Infer.Next: no state named 'Publsh'"),
            problems.end())
      << Joined(problems);
  // Publish is now unreachable, and that is reported too.
  EXPECT_NE(std::find(problems.begin(), problems.end(),
                      "pipeline.asl.json: States.Publish: not reachable from StartAt"),
            problems.end())
      << Joined(problems);
}

TEST(ParseDefinition, ChecksTheTopLevel) {
  EXPECT_PROBLEM("[]", "(top level): expected a JSON object, got an array");
  EXPECT_PROBLEM(R"({"States": {"S": {"Type": "Succeed"}}})", "StartAt: required");
  EXPECT_PROBLEM(R"({"StartAt": "S"})", "States: required");
  EXPECT_PROBLEM(R"({"StartAt": "S", "States": {}})",
                 "States: expected a non-empty object of states, got {}");
  EXPECT_PROBLEM(R"({"StartAt": "X", "States": {"S": {"Type": "Succeed"}}})",
                 "StartAt: no state named 'X'");
  EXPECT_PROBLEM(R"({"StartAt": 1, "States": {"S": {"Type": "Succeed"}}})",
                 "StartAt: expected a string, got a number");
  EXPECT_PROBLEM(R"({"StartAt": "S", "Foo": 1, "States": {"S": {"Type": "Succeed"}}})",
                 "Foo: unknown field");
  EXPECT_PROBLEM(R"({"StartAt": "S", "TimeoutSeconds": 0, "States": {"S": {"Type": "Succeed"}}})",
                 "TimeoutSeconds: must be between 1 and 99999999, got 0");
  EXPECT_PROBLEM(
      R"({"StartAt": "S", "TimeoutSeconds": "60", "States": {"S": {"Type": "Succeed"}}})",
      "TimeoutSeconds: expected an integer, got a string");
}

TEST(ParseDefinition, RefusesJsonataWithAClearError) {
  auto problems = Problems(R"({"QueryLanguage": "JSONata", "StartAt": "S", "States": {
    "S": {"Type": "Pass", "Output": "{% $states.input %}", "End": true}}})");
  ASSERT_EQ(problems.size(), 1u) << Joined(problems);
  EXPECT_NE(problems[0].find("def.json: QueryLanguage: JSONata is not supported: lote runs "
                             "JSONPath definitions"),
            std::string::npos)
      << problems[0];
  EXPECT_PROBLEM_AT(One(R"({"Type": "Pass", "QueryLanguage": "JSONata", "End": true})"),
                    "States.S.QueryLanguage: JSONata is not supported");
  EXPECT_PROBLEM(One(R"({"Type": "Pass", "Output": {}, "End": true})"),
                 "States.S.Output: a JSONata field; lote runs JSONPath definitions");
  EXPECT_PROBLEM(One(R"({"Type": "Pass", "Assign": {"x": 1}, "End": true})"),
                 "States.S.Assign: workflow variables (Assign) are not supported by lote");
  EXPECT_PROBLEM(
      R"({"QueryLanguage": "XPath", "StartAt": "S", "States": {"S": {"Type": "Succeed"}}})",
      "QueryLanguage: expected \"JSONPath\", got 'XPath'");
}

TEST(ParseDefinition, ChecksStateTypesAndNames) {
  EXPECT_PROBLEM(One(R"({"Type": "Lambda", "End": true})"),
                 "States.S.Type: unknown state type 'Lambda' (expected Task, Pass, Choice, Wait, "
                 "Succeed, Fail, Parallel or Map)");
  EXPECT_PROBLEM(One(R"({"End": true})"), "States.S.Type: required");
  EXPECT_PROBLEM(One(R"("Pass")"), "States.S: expected a JSON object, got a string");
  const std::string long_name(81, 'n');
  EXPECT_PROBLEM(R"({"StartAt": ")" + long_name + R"(", "States": {")" + long_name +
                     R"(": {"Type": "Succeed"}}})",
                 "States." + long_name + ": state name is 81 characters long (at most 80)");
  const std::string ok_name(80, 'n');
  EXPECT_TRUE(Problems(R"({"StartAt": ")" + ok_name + R"(", "States": {")" + ok_name +
                       R"(": {"Type": "Succeed"}}})")
                  .empty());
}

TEST(ParseDefinition, RefusesFieldsAStateTypeDoesNotAllow) {
  EXPECT_PROBLEM(One(R"({"Type": "Pass", "Resource": "arn:x", "End": true})"),
                 "States.S.Resource: not allowed in a Pass state");
  EXPECT_PROBLEM(One(R"({"Type": "Pass", "ResultSelector": {}, "End": true})"),
                 "States.S.ResultSelector: not allowed in a Pass state");
  EXPECT_PROBLEM(R"({"StartAt": "C", "States": {
    "C": {"Type": "Choice", "Choices": [{"Variable": "$.a", "IsPresent": true, "Next": "D"}],
          "Retry": [{"ErrorEquals": ["States.ALL"]}]},
    "D": {"Type": "Succeed"}}})",
                 "States.C.Retry: not allowed in a Choice state");
  EXPECT_PROBLEM(One(R"({"Type": "Succeed", "Next": "S"})"),
                 "States.S.Next: not allowed in a Succeed state");
  EXPECT_PROBLEM(One(R"({"Type": "Fail", "InputPath": "$"})"),
                 "States.S.InputPath: not allowed in a Fail state");
  EXPECT_PROBLEM(One(R"({"Type": "Pass", "Foo": 1, "End": true})"), "States.S.Foo: unknown field");
  EXPECT_PROBLEM(One(R"({"Type": "Pass", "Comment": 3, "End": true})"),
                 "States.S.Comment: expected a string, got a number");
}

TEST(ParseDefinition, ChecksNextAndEnd) {
  EXPECT_PROBLEM(One(R"({"Type": "Pass", "Next": "S", "End": true})"),
                 "States.S: Next and End are exclusive");
  EXPECT_PROBLEM(One(R"({"Type": "Pass"})"), "States.S: a Pass state needs Next or \"End\": true");
  EXPECT_PROBLEM(One(R"({"Type": "Pass", "End": false})"),
                 "States.S: a Pass state needs Next or \"End\": true");
  EXPECT_PROBLEM(One(R"({"Type": "Pass", "End": "yes"})"),
                 "States.S.End: expected a boolean, got a string");
  // A loop with no way out.
  EXPECT_PROBLEM(One(R"({"Type": "Pass", "Next": "S"})"),
                 "States: no terminal state (one with End, or a Succeed or Fail state): the "
                 "machine cannot finish");
}

TEST(ParseDefinition, ChecksDanglingTargetsAndReachability) {
  const std::string def = R"({"StartAt": "C", "States": {
    "C": {"Type": "Choice", "Choices": [{"Variable": "$.a", "IsPresent": true, "Next": "Gone"}],
          "Default": "Missing"},
    "T": {"Type": "Task", "Resource": "arn:x", "End": true,
          "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Nowhere"}]},
    "Done": {"Type": "Succeed"}}})";
  EXPECT_PROBLEM(def, "States.C.Choices[0].Next: no state named 'Gone'");
  EXPECT_PROBLEM(def, "States.C.Default: no state named 'Missing'");
  EXPECT_PROBLEM(def, "States.T.Catch[0].Next: no state named 'Nowhere'");
  EXPECT_PROBLEM(def, "States.T: not reachable from StartAt");
  EXPECT_PROBLEM(def, "States.Done: not reachable from StartAt");
  EXPECT_EQ(Problems(def).size(), 5u) << Joined(Problems(def));
  // Reached only through a Catch: reachable.
  EXPECT_TRUE(Problems(R"({"StartAt": "T", "States": {
    "T": {"Type": "Task", "Resource": "arn:x", "End": true,
          "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "F"}]},
    "F": {"Type": "Fail"}}})")
                  .empty());
}

TEST(ParseDefinition, ChecksChoice) {
  EXPECT_PROBLEM(One(R"({"Type": "Choice", "Choices": []})"),
                 "States.S.Choices: expected a non-empty array of choice rules, got []");
  EXPECT_PROBLEM(One(R"({"Type": "Choice"})"), "States.S.Choices: required");
  EXPECT_PROBLEM_AT(
      One(R"({"Type": "Choice", "Choices": [{"Variable": "$.a", "IsPresent": true}]})"),
      "States.S.Choices[0]");
  EXPECT_PROBLEM(One(R"({"Type": "Choice", "Choices": [{"Variable": "$.a", "IsPresent": true,
                   "Next": "S"}], "Default": 5})"),
                 "States.S.Default: expected a string, got a number");
}

TEST(ParseDefinition, ChecksWait) {
  EXPECT_PROBLEM(One(R"({"Type": "Wait", "End": true})"),
                 "States.S: a Wait state needs exactly one of Seconds, Timestamp, SecondsPath, "
                 "TimestampPath");
  EXPECT_PROBLEM(One(R"({"Type": "Wait", "Seconds": 1, "SecondsPath": "$.s", "End": true})"),
                 "States.S: a Wait state needs exactly one of Seconds, Timestamp, SecondsPath, "
                 "TimestampPath (2 given)");
  EXPECT_PROBLEM(One(R"({"Type": "Wait", "Seconds": -1, "End": true})"),
                 "States.S.Seconds: must be between 0 and 99999999, got -1");
  EXPECT_PROBLEM(One(R"({"Type": "Wait", "Seconds": 1.5, "End": true})"),
                 "States.S.Seconds: expected an integer, got 1.5");
  EXPECT_PROBLEM(One(R"({"Type": "Wait", "Timestamp": "2016-03-14 01:59:00", "End": true})"),
                 "States.S.Timestamp: not an RFC 3339 timestamp (e.g. \"2016-03-14T01:59:00Z\"): "
                 "'2016-03-14 01:59:00'");
  EXPECT_PROBLEM_AT(One(R"({"Type": "Wait", "SecondsPath": "s", "End": true})"),
                    "States.S.SecondsPath: ");
  EXPECT_PROBLEM(One(R"({"Type": "Wait", "TimestampPath": "$.t[*]", "End": true})"),
                 "States.S.TimestampPath: must be a reference path (names and indexes only, no "
                 "wildcards, filters, slices or unions), got '$.t[*]'");
}

TEST(ParseDefinition, ChecksFail) {
  EXPECT_PROBLEM(One(R"({"Type": "Fail", "Error": "E", "ErrorPath": "$.e"})"),
                 "States.S: Error and ErrorPath are exclusive");
  EXPECT_PROBLEM(One(R"({"Type": "Fail", "Cause": "c", "CausePath": "$.c"})"),
                 "States.S: Cause and CausePath are exclusive");
  EXPECT_PROBLEM_AT(One(R"({"Type": "Fail", "CausePath": "nope"})"), "States.S.CausePath: ");
  EXPECT_PROBLEM(One(R"({"Type": "Fail", "Error": 3})"),
                 "States.S.Error: expected a string, got a number");
}

TEST(ParseDefinition, ChecksTask) {
  EXPECT_PROBLEM(One(R"({"Type": "Task", "End": true})"), "States.S.Resource: required");
  EXPECT_PROBLEM(One(R"({"Type": "Task", "Resource": "arn:x", "TimeoutSeconds": 5,
               "TimeoutSecondsPath": "$.t", "End": true})"),
                 "States.S: TimeoutSeconds and TimeoutSecondsPath are exclusive");
  EXPECT_PROBLEM(One(R"({"Type": "Task", "Resource": "arn:x", "TimeoutSeconds": 0, "End": true})"),
                 "States.S.TimeoutSeconds: must be between 1 and 99999999, got 0");
  EXPECT_PROBLEM(One(R"({"Type": "Task", "Resource": "arn:x", "TimeoutSeconds": 60,
                       "HeartbeatSeconds": 60, "End": true})"),
                 "States.S.HeartbeatSeconds: must be smaller than TimeoutSeconds (60), got 60");
  EXPECT_PROBLEM(One(R"({"Type": "Task", "Resource": "arn:x", "Credentials": "r", "End": true})"),
                 "States.S.Credentials: expected an object, got a string");
  EXPECT_PROBLEM(One(R"({"Type": "Task", "Resource": "arn:x", "ResultPath": "$$.x", "End": true})"),
                 "States.S.ResultPath: must be a path on the state's input ($...), not a context "
                 "object path ($$...)");
  EXPECT_PROBLEM(
      One(R"({"Type": "Task", "Resource": "arn:x", "ResultPath": "$.a..b", "End": true})"),
      "States.S.ResultPath: must be a reference path (names and indexes only, no "
      "wildcards, filters, slices or unions), got '$.a..b'");
  EXPECT_PROBLEM(One(R"({"Type": "Task", "Resource": "arn:x", "InputPath": 3, "End": true})"),
                 "States.S.InputPath: expected a string, got a number");
  EXPECT_PROBLEM_AT(
      One(R"({"Type": "Task", "Resource": "arn:x", "Parameters": {"a.$": "nope"}, "End": true})"),
      "States.S.Parameters");
  EXPECT_PROBLEM(
      One(R"({"Type": "Task", "Resource": "arn:x", "ResultSelector": [1], "End": true})"),
      "States.S.ResultSelector: expected an object, got an array");
}

TEST(ParseDefinition, ChecksRetryAndCatch) {
  auto task = [](const std::string& fields) {
    return One(R"({"Type": "Task", "Resource": "arn:x", "End": true, )" + fields + "}");
  };
  EXPECT_PROBLEM(
      task(R"("Retry": [{"ErrorEquals": []}])"),
      "States.S.Retry[0].ErrorEquals: expected a non-empty array of error names, got []");
  EXPECT_PROBLEM(task(R"("Retry": [{}])"), "States.S.Retry[0].ErrorEquals: required");
  EXPECT_PROBLEM(task(R"("Retry": [{"ErrorEquals": ["States.ALL", "X"]}])"),
                 "States.S.Retry[0].ErrorEquals: States.ALL must appear alone in ErrorEquals");
  EXPECT_PROBLEM(task(R"("Retry": [{"ErrorEquals": ["States.ALL"]}, {"ErrorEquals": ["X"]}])"),
                 "States.S.Retry[0].ErrorEquals: States.ALL must be in the last retrier (it "
                 "matches any error)");
  EXPECT_PROBLEM(task(R"("Retry": [{"ErrorEquals": ["X"], "IntervalSeconds": 0}])"),
                 "States.S.Retry[0].IntervalSeconds: must be between 1 and 99999999, got 0");
  EXPECT_PROBLEM(task(R"("Retry": [{"ErrorEquals": ["X"], "IntervalSeconds": 1.5}])"),
                 "States.S.Retry[0].IntervalSeconds: expected an integer, got 1.5");
  EXPECT_PROBLEM(task(R"("Retry": [{"ErrorEquals": ["X"], "MaxAttempts": -1}])"),
                 "States.S.Retry[0].MaxAttempts: must be between 0 and 99999999, got -1");
  EXPECT_PROBLEM(task(R"("Retry": [{"ErrorEquals": ["X"], "BackoffRate": 0.5}])"),
                 "States.S.Retry[0].BackoffRate: must be between 1 and 1000000000, got 0.5");
  EXPECT_PROBLEM(task(R"("Retry": [{"ErrorEquals": ["X"], "MaxDelaySeconds": 0}])"),
                 "States.S.Retry[0].MaxDelaySeconds: must be between 1 and 31622400, got 0");
  EXPECT_PROBLEM(task(R"("Retry": [{"ErrorEquals": ["X"], "JitterStrategy": "HALF"}])"),
                 "States.S.Retry[0].JitterStrategy: expected \"FULL\" or \"NONE\", got 'HALF'");
  EXPECT_PROBLEM(task(R"("Retry": [{"ErrorEquals": ["X"], "Delay": 3}])"),
                 "States.S.Retry[0].Delay: unknown field");
  EXPECT_PROBLEM(task(R"("Retry": {"ErrorEquals": ["X"]})"),
                 "States.S.Retry: expected an array of retriers, got an object");
  // MaxAttempts 0 (never retry) is valid.
  EXPECT_TRUE(Problems(task(R"("Retry": [{"ErrorEquals": ["X"], "MaxAttempts": 0}])")).empty());

  EXPECT_PROBLEM(task(R"("Catch": [{"ErrorEquals": ["States.ALL"], "Next": "S"},
                                   {"ErrorEquals": ["X"], "Next": "S"}])"),
                 "States.S.Catch[0].ErrorEquals: States.ALL must be in the last catcher (it "
                 "matches any error)");
  EXPECT_PROBLEM(task(R"("Catch": [{"ErrorEquals": ["X"]}])"), "States.S.Catch[0].Next: required");
  EXPECT_PROBLEM(task(R"("Catch": [{"ErrorEquals": ["X"], "Next": "S", "ResultPath": "$.a[*]"}])"),
                 "States.S.Catch[0].ResultPath: must be a reference path (names and indexes only, "
                 "no wildcards, filters, slices or unions), got '$.a[*]'");
}

TEST(ParseDefinition, ChecksParallelBranchesRecursively) {
  EXPECT_PROBLEM(One(R"({"Type": "Parallel", "Branches": [], "End": true})"),
                 "States.S.Branches: expected a non-empty array of state machines, got []");
  EXPECT_PROBLEM(One(R"({"Type": "Parallel", "End": true})"), "States.S.Branches: required");
  const std::string def = R"({"StartAt": "Fan", "States": {"Fan": {
    "Type": "Parallel", "End": true, "Branches": [
      {"StartAt": "X", "States": {"X": {"Type": "Pass", "Next": "Nope"},
                                  "Z": {"Type": "Succeed"}}},
      {"States": {"W": {"Type": "Succeed"}}, "Foo": 1},
      3
    ]}}})";
  EXPECT_PROBLEM(def, "States.Fan.Branches[0].States.X.Next: no state named 'Nope'");
  EXPECT_PROBLEM(def, "States.Fan.Branches[0].States.Z: not reachable from StartAt");
  EXPECT_PROBLEM(def, "States.Fan.Branches[1].StartAt: required");
  EXPECT_PROBLEM(def, "States.Fan.Branches[1].Foo: unknown field");
  EXPECT_PROBLEM(def, "States.Fan.Branches[2]: expected a JSON object, got a number");
  // A branch cannot jump to a state of the enclosing machine.
  EXPECT_PROBLEM(R"({"StartAt": "Fan", "States": {
    "Fan": {"Type": "Parallel", "Next": "After", "Branches": [
      {"StartAt": "X", "States": {"X": {"Type": "Pass", "Next": "After"}}}]},
    "After": {"Type": "Succeed"}}})",
                 "States.Fan.Branches[0].States.X.Next: no state named 'After'");
}

TEST(ParseDefinition, BoundsNesting) {
  std::string def = R"({"Type": "Succeed"})";
  for (int i = 0; i < 70; ++i) {
    def = R"({"Type": "Parallel", "End": true, "Branches": [{"StartAt": "S)" + std::to_string(i) +
          R"(", "States": {"S)" + std::to_string(i) + R"(": )" + def + "}}]}";
  }
  auto problems = Problems(R"({"StartAt": "Top", "States": {"Top": )" + def + "}}");
  ASSERT_EQ(problems.size(), 1u) << Joined(problems);
  EXPECT_NE(problems[0].find(": nested deeper than 64 Parallel/Map levels"), std::string::npos)
      << problems[0];
}

TEST(ParseDefinition, StateNamesAreUniqueAcrossNestedMachines) {
  EXPECT_PROBLEM(R"({"StartAt": "Fan", "States": {"Fan": {
    "Type": "Parallel", "End": true, "Branches": [
      {"StartAt": "X", "States": {"X": {"Type": "Succeed"}}},
      {"StartAt": "X", "States": {"X": {"Type": "Succeed"}}}]}}})",
                 "States.Fan.Branches[1].States.X: state name 'X' is already used at "
                 "States.Fan.Branches[0].States.X (state names are unique across the whole "
                 "definition)");
}

TEST(ParseDefinition, ChecksMap) {
  const char* kProc = R"("ItemProcessor": {"StartAt": "Y", "States": {"Y": {"Type": "Succeed"}}})";
  auto map = [&](const std::string& fields) {
    return One(R"({"Type": "Map", "End": true, )" + std::string(kProc) +
               (fields.empty() ? "" : ", " + fields) + "}");
  };
  EXPECT_TRUE(Problems(map("")).empty()) << Joined(Problems(map("")));
  EXPECT_PROBLEM(One(R"({"Type": "Map", "End": true})"),
                 "States.S.ItemProcessor: required (or the older Iterator)");
  EXPECT_PROBLEM(map(R"("Iterator": {"StartAt": "Z", "States": {"Z": {"Type": "Succeed"}}})"),
                 "States.S: ItemProcessor and Iterator are exclusive (Iterator is the older name)");
  EXPECT_PROBLEM(map(R"("ItemSelector": {}, "Parameters": {})"),
                 "States.S: ItemSelector and Parameters are exclusive (Parameters is the older "
                 "name)");
  EXPECT_PROBLEM(map(R"("MaxConcurrency": 2, "MaxConcurrencyPath": "$.m")"),
                 "States.S: MaxConcurrency and MaxConcurrencyPath are exclusive");
  EXPECT_PROBLEM(map(R"("MaxConcurrency": -1)"),
                 "States.S.MaxConcurrency: must be between 0 and 99999999, got -1");
  EXPECT_PROBLEM(map(R"("ItemsPath": "$.a[?(@.x)]")"),
                 "States.S.ItemsPath: must be a reference path (names and indexes only, no "
                 "wildcards, filters, slices or unions), got '$.a[?(@.x)]'");
  for (const char* field : {R"("ItemReader": {"Resource": "arn:aws:states:::s3:listObjectsV2"})",
                            R"("ItemBatcher": {"MaxItemsPerBatch": 2})",
                            R"("ResultWriter": {"Resource": "arn:aws:states:::s3:putObject"})",
                            R"("ToleratedFailureCount": 1)", R"("Label": "L")"}) {
    std::string name = std::string(field).substr(1, std::string(field).find('"', 1) - 1);
    EXPECT_PROBLEM(map(field), "States.S." + name +
                                   ": only allowed when ItemProcessor.ProcessorConfig.Mode is "
                                   "DISTRIBUTED");
  }
  EXPECT_PROBLEM(One(R"({"Type": "Map", "End": true, "ItemProcessor": {
                   "ProcessorConfig": {"Mode": "PARALLEL"},
                   "StartAt": "Y", "States": {"Y": {"Type": "Succeed"}}}})"),
                 "States.S.ItemProcessor.ProcessorConfig.Mode: expected \"INLINE\" or "
                 "\"DISTRIBUTED\", got 'PARALLEL'");
  EXPECT_PROBLEM(One(R"({"Type": "Map", "End": true, "ItemProcessor": {
                   "ProcessorConfig": {"Mode": "DISTRIBUTED"},
                   "StartAt": "Y", "States": {"Y": {"Type": "Succeed"}}}})"),
                 "States.S.ItemProcessor.ProcessorConfig.ExecutionType: required when Mode is "
                 "DISTRIBUTED (STANDARD or EXPRESS)");
  // Nested machine problems are located inside ItemProcessor.
  EXPECT_PROBLEM(R"({"StartAt": "Each", "States": {"Each": {"Type": "Map", "End": true,
    "ItemProcessor": {"StartAt": "Y", "States": {"Y": {"Type": "Pass", "Resource": "r",
                                                       "End": true}}}}}})",
                 "States.Each.ItemProcessor.States.Y.Resource: not allowed in a Pass state");
  EXPECT_PROBLEM(R"({"StartAt": "Each", "States": {"Each": {"Type": "Map", "End": true,
    "Iterator": {"StartAt": "Y", "States": {"Y": {"Type": "Pass"}}}}}})",
                 "States.Each.Iterator.States.Y: a Pass state needs Next or \"End\": true");
}

TEST(ParseDefinition, ChecksDistributedMapFields) {
  auto dmap = [](const std::string& fields) {
    return One(R"({"Type": "Map", "End": true, "ItemProcessor": {
      "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
      "StartAt": "Y", "States": {"Y": {"Type": "Succeed"}}}, )" +
               fields + "}");
  };
  EXPECT_PROBLEM(dmap(R"("ItemReader": {"Resource": "arn:aws:states:::s3:get"})"),
                 "States.S.ItemReader.Resource: expected \"arn:aws:states:::s3:getObject\" or "
                 "\"arn:aws:states:::s3:listObjectsV2\", got 'arn:aws:states:::s3:get'");
  EXPECT_PROBLEM(dmap(R"("ItemReader": {"Resource": "arn:aws:states:::s3:getObject"})"),
                 "States.S.ItemReader.ReaderConfig.InputType: required with "
                 "arn:aws:states:::s3:getObject");
  EXPECT_PROBLEM(dmap(R"("ItemReader": {"Resource": "arn:aws:states:::s3:getObject",
                        "ReaderConfig": {"InputType": "CSV", "CSVHeaderLocation": "GIVEN"}})"),
                 "States.S.ItemReader.ReaderConfig.CSVHeaders: required when CSVHeaderLocation "
                 "is GIVEN");
  EXPECT_PROBLEM(dmap(R"("ItemBatcher": {"BatchInput": {}})"),
                 "States.S.ItemBatcher: needs MaxItemsPerBatch(Path) or "
                 "MaxInputBytesPerBatch(Path)");
  EXPECT_PROBLEM(dmap(R"("ItemBatcher": {"MaxInputBytesPerBatch": 300000})"),
                 "States.S.ItemBatcher.MaxInputBytesPerBatch: must be between 1 and 262144, got "
                 "300000");
  EXPECT_PROBLEM(dmap(R"("ResultWriter": {"Resource": "arn:aws:states:::s3:getObject"})"),
                 "States.S.ResultWriter.Resource: expected \"arn:aws:states:::s3:putObject\", got "
                 "'arn:aws:states:::s3:getObject'");
  EXPECT_PROBLEM(dmap(R"("ToleratedFailurePercentage": 101)"),
                 "States.S.ToleratedFailurePercentage: must be between 0 and 100, got 101");
  EXPECT_PROBLEM(dmap(R"("Label": "my label")"),
                 "States.S.Label: must not contain whitespace, control characters or any of "
                 "<>{}[]?*\"#%\\^|~`$&,;:/");
  EXPECT_PROBLEM(dmap(R"("Label": "abcdefghijabcdefghijabcdefghijabcdefghijX")"),
                 "States.S.Label: at most 40 characters");
}

TEST(ParseDefinition, ReportsEveryProblemAtOnce) {
  auto problems = Problems(R"({"StartAt": "A", "States": {
    "A": {"Type": "Pass", "Resource": "r", "Next": "B"},
    "B": {"Type": "Wait", "End": true},
    "C": {"Type": "Task", "End": true, "Retry": [{"ErrorEquals": ["X"], "BackoffRate": 0}]}}})");
  EXPECT_EQ(problems,
            (std::vector<std::string>{
                "def.json: States.A.Resource: not allowed in a Pass state",
                "def.json: States.B: a Wait state needs exactly one of Seconds, Timestamp, "
                "SecondsPath, TimestampPath",
                "def.json: States.C.Retry[0].BackoffRate: must be between 1 and 1000000000, got 0",
                "def.json: States.C.Resource: required",
                "def.json: States.C: not reachable from StartAt",
            }));
}

TEST(ParseDefinition, DefaultSourceIsDefinition) {
  auto result = ParseDefinition(R"({"StartAt": "S"})");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().message(), "definition: States: required");
}

TEST(Substitute, FillsEveryPlaceholderVerbatim) {
  auto out = Substitute(R"({"Resource": "${FnArn}", "Bucket": "${Bucket}-${Bucket}"})",
                        {{"FnArn", "arn:aws:lambda:eu-west-1:1:function:f"}, {"Bucket", "b"}});
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_EQ(*out, R"({"Resource": "arn:aws:lambda:eu-west-1:1:function:f", "Bucket": "b-b"})");
}

TEST(Substitute, NamesEveryPlaceholderWithoutAValue) {
  auto out = Substitute("${A} ${B} ${A} ${C}", {{"B", "x"}});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(out.status().message(), "definition substitutions: no value for ${A}, ${C}");
}

TEST(Substitute, LeavesTextThatIsNotAPlaceholder) {
  auto out = Substitute("$ ${ ${} ${a b} ${x-y} $${N} ${N", {{"N", "v"}});
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_EQ(*out, "$ ${ ${} ${a b} ${x-y} $v ${N");
}

TEST(Substitute, DoesNotRescanSubstitutedValues) {
  auto out = Substitute("${A}", {{"A", "${B}"}});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out, "${B}");
  auto parsed = ParseDefinition(*Substitute(One(R"({"Type": "Task", "Resource": "${Fn}",
                                                    "End": true})"),
                                            {{"Fn", "arn:aws:lambda:x"}}));
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  EXPECT_EQ((*parsed)->states[0].resource, "arn:aws:lambda:x");
}

}  // namespace
}  // namespace lote::flow
