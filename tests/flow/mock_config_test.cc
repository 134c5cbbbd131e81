// Step Functions Local's mock configuration (lote/flow/mock_config.h): parsing and its errors,
// test cases checked against a state machine (built by hand here, not parsed), invocation lookup.
#include "lote/flow/mock_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <climits>

namespace lote::flow {
namespace {

using ::testing::HasSubstr;

State MakeState(const std::string& name, StateType type) {
  State s;
  s.name = name;
  s.type = type;
  s.end = type != StateType::kChoice && type != StateType::kSucceed && type != StateType::kFail;
  return s;
}

std::shared_ptr<StateMachine> Machine(std::vector<State> states) {
  auto m = std::make_shared<StateMachine>();
  m->start_at = states.empty() ? "" : states[0].name;
  m->states = std::move(states);
  for (size_t i = 0; i < m->states.size(); ++i) m->index[m->states[i].name] = i;
  return m;
}

// Infer (Task), Choose (Choice), Fan (Parallel: [Score (Task)], [Wait1 (Wait)]),
// Each (Map: Enrich (Task), Inner (Parallel: [Deep (Task)])), Done (Succeed).
std::shared_ptr<StateMachine> Pipeline() {
  State fan = MakeState("Fan", StateType::kParallel);
  fan.branches.push_back(Machine({MakeState("Score", StateType::kTask)}));
  fan.branches.push_back(Machine({MakeState("Wait1", StateType::kWait)}));
  State inner = MakeState("Inner", StateType::kParallel);
  inner.branches.push_back(Machine({MakeState("Deep", StateType::kTask)}));
  State each = MakeState("Each", StateType::kMap);
  each.item_processor = Machine({MakeState("Enrich", StateType::kTask), inner});
  return Machine({MakeState("Infer", StateType::kTask), MakeState("Choose", StateType::kChoice),
                  fan, each, MakeState("Done", StateType::kSucceed)});
}

// The example of AWS's "Configuration file for mocked service integrations".
constexpr char kAwsExample[] = R"({
  "StateMachines": {
    "LambdaSQSIntegration": {
      "TestCases": {
        "HappyPath": {"LambdaState": "MockedLambdaSuccess", "SQSState": "MockedSQSSuccess"},
        "RetryPath": {"LambdaState": "MockedLambdaRetry", "SQSState": "MockedSQSSuccess"},
        "HybridPath": {"LambdaState": "MockedLambdaSuccess"}
      }
    }
  },
  "MockedResponses": {
    "MockedLambdaSuccess": {
      "0": {"Return": {"StatusCode": 200, "Payload": {"StatusCode": 200, "body": "Hello"}}}
    },
    "LambdaMockedResourceNotReady": {
      "0": {"Throw": {"Error": "Lambda.ResourceNotReadyException", "Cause": "not ready"}}
    },
    "MockedSQSSuccess": {"0": {"Return": {"MessageId": "3bcb6e8e"}}},
    "MockedLambdaRetry": {
      "0": {"Throw": {"Error": "Lambda.ResourceNotReadyException", "Cause": "not ready"}},
      "1-2": {"Throw": {"Error": "Lambda.TimeoutException", "Cause": "Lambda timed out."}},
      "3": {"Return": {"StatusCode": 200}}
    }
  }
})";

std::shared_ptr<StateMachine> LambdaSqs() {
  return Machine(
      {MakeState("LambdaState", StateType::kTask), MakeState("SQSState", StateType::kTask)});
}

MockConfig MustParseMock(std::string_view text) {
  auto c = MockConfig::Parse(text, "mocks.json");
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return c.ok() ? std::move(c).value() : MockConfig();
}

// The Parse error for a file whose only mocked response "R" is `response` (JSON text).
std::string ResponseError(const std::string& response) {
  auto c = MockConfig::Parse(
      R"({"StateMachines": {"sm": {"TestCases": {}}}, "MockedResponses": {"R": )" + response + "}}",
      "mocks.json");
  EXPECT_FALSE(c.ok()) << response;
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
  return c.status().message();
}

TEST(MockConfigFile, LooksUpSingleInvocationsAndRanges) {
  MockConfig config = MustParseMock(kAwsExample);
  auto retry = config.Case("LambdaSQSIntegration", "RetryPath", *LambdaSqs());
  ASSERT_TRUE(retry.ok()) << retry.status().ToString();
  const MockedResponse* r0 = retry->Response("LambdaState", 0);
  ASSERT_NE(r0, nullptr);
  EXPECT_FALSE(r0->returned.has_value());
  EXPECT_EQ(r0->thrown, (StateError{"Lambda.ResourceNotReadyException", "not ready"}));
  for (int i : {1, 2}) {
    const MockedResponse* r = retry->Response("LambdaState", i);
    ASSERT_NE(r, nullptr);
    EXPECT_EQ(r->thrown, (StateError{"Lambda.TimeoutException", "Lambda timed out."})) << i;
  }
  const MockedResponse* r3 = retry->Response("LambdaState", 3);
  ASSERT_NE(r3, nullptr);
  EXPECT_FALSE(r3->thrown.has_value());
  EXPECT_EQ(r3->returned, (Json{{"StatusCode", 200}}));
  EXPECT_TRUE(retry->Mocks("SQSState"));
  EXPECT_EQ(retry->Response("SQSState", 0)->returned, (Json{{"MessageId", "3bcb6e8e"}}));

  // HybridPath mocks one state: the other runs for real.
  auto hybrid = config.Case("LambdaSQSIntegration", "HybridPath", *LambdaSqs());
  ASSERT_TRUE(hybrid.ok());
  EXPECT_TRUE(hybrid->Mocks("LambdaState"));
  EXPECT_FALSE(hybrid->Mocks("SQSState"));
  EXPECT_EQ(hybrid->Response("SQSState", 0), nullptr);
  EXPECT_EQ(hybrid->Response("Nope", 0), nullptr);
}

TEST(MockConfigFile, InvocationPastTheLastKeyFailsWithStatesRuntime) {
  MockConfig config = MustParseMock(kAwsExample);
  auto retry = config.Case("", "RetryPath", *LambdaSqs());
  ASSERT_TRUE(retry.ok()) << retry.status().ToString();
  for (int i : {4, 5, 1000, INT_MAX}) {
    const MockedResponse* r = retry->Response("LambdaState", i);
    ASSERT_NE(r, nullptr) << i;  // never "run for real" once mocked
    EXPECT_FALSE(r->returned.has_value());
    ASSERT_TRUE(r->thrown.has_value());
    EXPECT_EQ(r->thrown->error, "States.Runtime");
    EXPECT_EQ(r->thrown->cause,
              "mocks.json: mocked response 'MockedLambdaRetry' of state 'LambdaState' defines no "
              "response for invocation 4 or later (it defines 0, 1-2, 3)");
  }
  // A single "0" is used once: the second call fails too.
  const MockedResponse* again = retry->Response("SQSState", 1);
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(again->thrown->error, "States.Runtime");
  EXPECT_EQ(retry->Response("LambdaState", -1)->thrown->error, "States.Runtime");
}

TEST(MockConfigFile, GapsFailAndKeysMayComeInAnyOrder) {
  MockConfig config = MustParseMock(R"({
    "StateMachines": {"sm": {"TestCases": {"t": {"Infer": "R", "Score": "Empty"}}}},
    "MockedResponses": {
      "R": {"5-6": {"Return": "late"}, "0": {"Return": 0}, "2-3": {"Return": [2, 3]}},
      "Empty": {}
    }})");
  auto c = config.Case("sm", "t", *Pipeline());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->Response("Infer", 0)->returned, Json(0));
  EXPECT_EQ(c->Response("Infer", 2)->returned, Json::array({2, 3}));
  EXPECT_EQ(c->Response("Infer", 3)->returned, Json::array({2, 3}));
  EXPECT_EQ(c->Response("Infer", 5)->returned, Json("late"));
  EXPECT_EQ(c->Response("Infer", 6)->returned, Json("late"));
  const MockedResponse* gap = c->Response("Infer", 1);
  ASSERT_NE(gap, nullptr);
  ASSERT_TRUE(gap->thrown.has_value());
  EXPECT_EQ(gap->thrown->error, "States.Runtime");
  EXPECT_THAT(gap->thrown->cause,
              HasSubstr("no response for invocation 1 (it defines 0, 2-3, 5-6)"));
  EXPECT_THAT(c->Response("Infer", 4)->thrown->cause, HasSubstr("invocation 4 (it defines"));
  EXPECT_THAT(c->Response("Infer", 7)->thrown->cause, HasSubstr("invocation 7 or later"));
  // An empty mocked response is accepted (as Step Functions Local does) and fails when used.
  EXPECT_THAT(c->Response("Score", 0)->thrown->cause, HasSubstr("(it defines none)"));
}

TEST(MockConfigFile, ReturnMayBeAnyJsonValue) {
  MockConfig config = MustParseMock(R"({
    "StateMachines": {"sm": {"TestCases": {"t": {"Infer": "R"}}}},
    "MockedResponses": {"R": {
      "0": {"Return": null}, "1": {"Return": "s"}, "2": {"Return": 1.5}}}})");
  auto c = config.Case("sm", "t", *Pipeline());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_TRUE(c->Response("Infer", 0)->returned.has_value());
  EXPECT_TRUE(c->Response("Infer", 0)->returned->is_null());
  EXPECT_EQ(c->Response("Infer", 1)->returned, Json("s"));
  EXPECT_EQ(c->Response("Infer", 2)->returned, Json(1.5));
}

TEST(MockConfigFile, FindsTaskStatesInsideParallelBranchesAndMapProcessors) {
  MockConfig config = MustParseMock(R"({
    "StateMachines": {"pipeline": {"TestCases": {"t": {"Score": "R", "Enrich": "R", "Deep": "R"}}}},
    "MockedResponses": {"R": {"0": {"Return": {}}}}})");
  auto c = config.Case("pipeline", "t", *Pipeline());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_TRUE(c->Mocks("Score"));
  EXPECT_TRUE(c->Mocks("Enrich"));
  EXPECT_TRUE(c->Mocks("Deep"));
  EXPECT_FALSE(c->Mocks("Infer"));
}

TEST(MockConfigFile, CaseRefusesStatesThatAreMissingOrNotTasksAndUnknownResponses) {
  MockConfig config = MustParseMock(R"({
    "StateMachines": {"pipeline": {"TestCases": {
      "bad": {"Infer": "R", "Publsh": "R", "Choose": "R", "Each": "R", "Deep": "Missing"}}}},
    "MockedResponses": {"R": {"0": {"Return": {}}}}})");
  auto c = config.Case("pipeline", "bad", *Pipeline());
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(c.status().message(),
            "mocks.json: StateMachines.pipeline.TestCases.bad.Publsh: no state named 'Publsh' in "
            "the state machine\n"
            "mocks.json: StateMachines.pipeline.TestCases.bad.Choose: state 'Choose' is a Choice "
            "state; only Task states can be mocked\n"
            "mocks.json: StateMachines.pipeline.TestCases.bad.Each: state 'Each' is a Map state; "
            "only Task states can be mocked\n"
            "mocks.json: StateMachines.pipeline.TestCases.bad.Deep: no mocked response named "
            "'Missing' in MockedResponses");
}

TEST(MockConfigFile, CaseNamesMissingStateMachinesAndTestCases) {
  MockConfig config = MustParseMock(R"({
    "StateMachines": {"a": {"TestCases": {"t1": {}}}, "b": {"TestCases": {"t2": {}}}},
    "MockedResponses": {}})");
  auto ambiguous = config.Case("", "t1", *Pipeline());
  ASSERT_FALSE(ambiguous.ok());
  EXPECT_EQ(ambiguous.status().message(),
            "mocks.json: StateMachines: the file mocks 2 state machines (a, b): name the one to "
            "run");
  auto no_sm = config.Case("c", "t1", *Pipeline());
  EXPECT_EQ(no_sm.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(no_sm.status().message(),
            "mocks.json: StateMachines: no state machine named 'c' (the file mocks: a, b)");
  auto no_case = config.Case("a", "t2", *Pipeline());
  EXPECT_EQ(no_case.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(no_case.status().message(),
            "mocks.json: StateMachines.a.TestCases: no test case named 't2' (the file has: t1)");
  auto empty_case = config.Case("b", "t2", *Pipeline());
  ASSERT_TRUE(empty_case.ok());
  EXPECT_FALSE(empty_case->Mocks("Infer"));
  EXPECT_EQ(MockConfig().Case("a", "t1", *Pipeline()).status().code(),
            StatusCode::kFailedPrecondition);
}

TEST(MockConfigFile, ParseRefusesBadDocumentsNamingTheLocation) {
  auto bad_json = MockConfig::Parse("{\"StateMachines\": ", "mocks.json");
  ASSERT_FALSE(bad_json.ok());
  EXPECT_THAT(bad_json.status().message(), HasSubstr("mocks.json: invalid JSON"));
  EXPECT_EQ(MockConfig::Parse("[]", "mocks.json").status().message(),
            "mocks.json: expected an object with StateMachines and MockedResponses");

  // AWS's guide itself writes "MockedResponse" once: a typo is named, not ignored.
  auto typo = MockConfig::Parse(R"({"StateMachines": {}, "MockedResponse": {}})", "mocks.json");
  EXPECT_EQ(typo.status().message(),
            "mocks.json: MockedResponse: unknown field (expected StateMachines, MockedResponses)\n"
            "mocks.json: MockedResponses: expected an object (response name -> invocations)");
  EXPECT_EQ(MockConfig::Parse(R"({"MockedResponses": {}})", "m.json").status().message(),
            "m.json: StateMachines: expected an object (state machine name -> TestCases)");

  auto shapes = MockConfig::Parse(R"({
    "StateMachines": {
      "a": {"Cases": {}},
      "b": {"TestCases": {"t": {"Infer": 3}, "u": "R"}, "Extra": 1}
    },
    "MockedResponses": {}})",
                                  "mocks.json");
  EXPECT_EQ(shapes.status().message(),
            "mocks.json: StateMachines.a.TestCases: expected an object (test case name -> state "
            "mocks)\n"
            "mocks.json: StateMachines.b.Extra: unknown field (expected TestCases)\n"
            "mocks.json: StateMachines.b.TestCases.t.Infer: expected a mocked response's name\n"
            "mocks.json: StateMachines.b.TestCases.u: expected an object (state name -> mocked "
            "response name)");
}

TEST(MockConfigFile, ParseRefusesBadMockedResponsesNamingResponseAndKey) {
  EXPECT_EQ(ResponseError(R"([])"),
            "mocks.json: MockedResponses.R: expected an object of invocations (\"0\", \"1-2\", "
            "...)");
  for (const char* key : {"a", "1-", "-1", " 1", "1 ", "+1", "1-2-3", "", "9999999999"}) {
    EXPECT_EQ(ResponseError(std::string(R"({")") + key + R"(": {"Return": 1}})"),
              std::string("mocks.json: MockedResponses.R.") + key +
                  ": invocation key must be a number (\"0\") or a range (\"1-3\")")
        << key;
  }
  EXPECT_EQ(ResponseError(R"({"3-1": {"Return": 1}})"),
            "mocks.json: MockedResponses.R.3-1: range ends before it starts");
  EXPECT_EQ(ResponseError(R"({"0": 5})"),
            "mocks.json: MockedResponses.R.0: expected an object with Return or Throw");
  EXPECT_EQ(ResponseError(R"({"0-1": {}})"),
            "mocks.json: MockedResponses.R.0-1: expected Return or Throw");
  EXPECT_EQ(ResponseError(R"({"0": {"Return": 1, "Throw": {"Error": "E", "Cause": "C"}}})"),
            "mocks.json: MockedResponses.R.0: expected Return or Throw (exactly one field; has "
            "Return, Throw)");
  EXPECT_EQ(ResponseError(R"({"0": {"Return": 1, "Delay": 5}})"),
            "mocks.json: MockedResponses.R.0: expected Return or Throw (exactly one field; has "
            "Return, Delay)");
  EXPECT_EQ(ResponseError(R"({"0": {"Throw": "boom"}})"),
            "mocks.json: MockedResponses.R.0.Throw: expected an object with Error and Cause");
  EXPECT_EQ(ResponseError(R"({"0": {"Throw": {"Error": "E"}}})"),
            "mocks.json: MockedResponses.R.0.Throw.Cause: expected a string");
  EXPECT_EQ(ResponseError(R"({"0": {"Throw": {"Error": 7, "Cause": "c"}}})"),
            "mocks.json: MockedResponses.R.0.Throw.Error: expected a string");
  EXPECT_EQ(ResponseError(R"({"0": {"Throw": {"Error": "E", "Cause": "c", "Code": 1}}})"),
            "mocks.json: MockedResponses.R.0.Throw.Code: unknown field (expected Error, Cause)");
  EXPECT_EQ(ResponseError(R"({"0-2": {"Return": 1}, "2": {"Return": 2}})"),
            "mocks.json: MockedResponses.R: invocation 2 is defined twice (keys overlap)");
  // Every problem is reported, one per line.
  std::string many = ResponseError(R"({"x": {"Return": 1}, "0": {}})");
  EXPECT_EQ(std::count(many.begin(), many.end(), '\n'), 1) << many;
}

}  // namespace
}  // namespace lote::flow
