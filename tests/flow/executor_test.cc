// The executor: state semantics end to end, Retry/Catch, limits, timeouts, stop, and resuming
// after a crash (simulated by a history store that fails: the process "dies" at that write).
#include "lote/flow/executor.h"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <thread>

#include "lote/flow/history.h"
#include "lote/flow/mock_config.h"

namespace lote::flow {
namespace {

// Delegates to a memory store; once armed, every Append fails as if the process had died there.
class CrashingHistory : public HistoryStore {
 public:
  explicit CrashingHistory(HistoryStore* inner) : inner_(inner) {}
  // The Append that comes after `appends` more successful ones fails (and all later ones).
  void CrashAfter(int appends) { budget_ = appends; }
  void Heal() { budget_ = -1; }
  bool crashed() const { return crashed_; }

  Status Create(const ExecutionRecord& r) override { return inner_->Create(r); }
  Result<ExecutionRecord> Get(const std::string& n) override { return inner_->Get(n); }
  Result<std::vector<ExecutionRecord>> List(std::optional<ExecutionStatus> s,
                                            size_t limit) override {
    return inner_->List(s, limit);
  }
  Status Claim(const std::string& n, const std::string& o, int64_t now, int64_t until) override {
    if (budget_ == 0) return UnavailableError("simulated crash");
    return inner_->Claim(n, o, now, until);
  }
  Result<std::string> Owner(const std::string& n) override { return inner_->Owner(n); }
  Status TakeOver(const std::string& n, const std::string& dead, const std::string& o,
                  int64_t until) override {
    if (budget_ == 0) return UnavailableError("simulated crash");
    return inner_->TakeOver(n, dead, o, until);
  }
  Status Append(const std::string& n, const std::string& o, std::span<const HistoryEvent> e,
                std::span<const Checkpoint> c) override {
    if (budget_ == 0) {
      crashed_ = true;
      return UnavailableError("simulated crash");
    }
    if (budget_ > 0) --budget_;
    return inner_->Append(n, o, e, c);
  }
  Status Finish(const std::string& n, const std::string& o, ExecutionStatus s,
                const std::optional<std::string>& out, const std::optional<StateError>& err,
                int64_t stop) override {
    if (budget_ == 0) return UnavailableError("simulated crash");
    return inner_->Finish(n, o, s, out, err, stop);
  }
  Result<std::vector<HistoryEvent>> Events(const std::string& n, int64_t after,
                                           size_t limit) override {
    return inner_->Events(n, after, limit);
  }
  Result<std::vector<Checkpoint>> Checkpoints(const std::string& n) override {
    return inner_->Checkpoints(n);
  }
  Status RequestStop(const std::string& n, const StateError& r, int64_t now) override {
    return inner_->RequestStop(n, r, now);
  }
  Result<std::optional<StateError>> StopRequested(const std::string& n) override {
    return inner_->StopRequested(n);
  }

 private:
  HistoryStore* inner_;
  std::atomic<int> budget_{-1};
  std::atomic<bool> crashed_{false};
};

// Counts invocations per state; answers with a function of the parameters.
class RecordingTasks : public TaskHandler {
 public:
  std::function<Outcome<Json>(const TaskInvocation&)> answer = [](const TaskInvocation& inv) {
    return Outcome<Json>(Json{{"echo", inv.parameters}});
  };
  Outcome<Json> Invoke(const TaskInvocation& inv) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++calls_[inv.state_name];
    }
    return answer(inv);
  }
  int calls(const std::string& state) {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_[state];
  }

 private:
  std::mutex mu_;
  std::map<std::string, int> calls_;
};

class ExecutorTest : public ::testing::Test {
 protected:
  ExecutorTest() : clock_(std::make_shared<ManualClock>(1'700'000'000'000'000)) {
    history_ = NewMemoryHistory();
  }

  ExecutorOptions Options() {
    ExecutorOptions o;
    o.clock = clock_;
    auto clock = clock_;
    o.sleep = [clock](int64_t micros) { clock->Advance(micros); };
    o.history = history_.get();
    o.tasks = &tasks_;
    o.lease_micros = 60'000'000;
    return o;
  }

  Result<ExecutionResult> Run(const std::string& definition, const Json& input,
                              const std::string& name = "e1") {
    Executor ex(Options());
    return ex.Run(name, "sm", definition, input);
  }

  std::vector<std::string> EventTypes(const std::string& name) {
    std::vector<std::string> types;
    auto events = history_->Events(name, 0, 100000);
    EXPECT_TRUE(events.ok());
    for (const HistoryEvent& e : *events) types.push_back(e.type);
    return types;
  }

  int Count(const std::vector<std::string>& types, const std::string& t) {
    return static_cast<int>(std::count(types.begin(), types.end(), t));
  }

  std::shared_ptr<ManualClock> clock_;
  std::unique_ptr<HistoryStore> history_;
  RecordingTasks tasks_;
};

TEST_F(ExecutorTest, PassChainAppliesInputAndOutputProcessing) {
  auto r = Run(R"({"StartAt": "A", "States": {
    "A": {"Type": "Pass", "Result": {"x": 1}, "ResultPath": "$.a", "Next": "B"},
    "B": {"Type": "Pass", "InputPath": "$.a", "Parameters": {"y.$": "$.x", "k": "v"},
          "ResultPath": "$.b", "OutputPath": "$.b", "End": true}}})",
               Json{{"in", true}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->status, ExecutionStatus::kSucceeded);
  EXPECT_EQ(*r->output, Json::parse(R"({"y": 1, "k": "v"})"));
  std::vector<std::string> types = EventTypes("e1");
  std::vector<std::string> want = {"ExecutionStarted", "PassStateEntered", "PassStateExited",
                                   "PassStateEntered", "PassStateExited",  "ExecutionSucceeded"};
  EXPECT_EQ(types, want);
  auto events = history_->Events("e1", 0, 100);
  ASSERT_TRUE(events.ok());
  for (size_t i = 1; i < events->size(); ++i) {
    EXPECT_EQ((*events)[i].previous_event_id, (*events)[i - 1].id);
  }
  auto rec = history_->Get("e1");
  ASSERT_TRUE(rec.ok());
  EXPECT_EQ(rec->status, ExecutionStatus::kSucceeded);
}

TEST_F(ExecutorTest, RetriesWithBackoffThenSucceeds) {
  auto config = MockConfig::Parse(R"({
    "StateMachines": {"sm": {"TestCases": {"Flaky": {"Infer": "FailTwice"}}}},
    "MockedResponses": {"FailTwice": {
      "0-1": {"Throw": {"Error": "SageMaker.ThrottlingException", "Cause": "slow down"}},
      "2": {"Return": {"TransformJobStatus": "Completed"}}}}})",
                                  "mocks.json");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  std::string def = R"({"StartAt": "Infer", "States": {
    "Infer": {"Type": "Task", "Resource": "arn:aws:states:::sagemaker:createTransformJob.sync",
              "Retry": [{"ErrorEquals": ["SageMaker.ThrottlingException"], "IntervalSeconds": 2,
                         "BackoffRate": 3, "MaxAttempts": 2}],
              "End": true}}})";
  auto machine = ParseDefinition(def);
  ASSERT_TRUE(machine.ok()) << machine.status().ToString();
  auto c = config->Case("sm", "Flaky", **machine);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ExecutorOptions o = Options();
  o.mocks = &*c;
  int64_t start = clock_->NowMicros();
  auto r = Executor(o).Run("e1", "sm", def, Json::object());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->status, ExecutionStatus::kSucceeded);
  EXPECT_EQ(*r->output, Json::parse(R"({"TransformJobStatus": "Completed"})"));
  // 2 s then 6 s of backoff.
  EXPECT_EQ(clock_->NowMicros() - start, 8'000'000);
  std::vector<std::string> types = EventTypes("e1");
  EXPECT_EQ(Count(types, "TaskFailed"), 2);
  EXPECT_EQ(Count(types, "TaskSucceeded"), 1);
  EXPECT_EQ(tasks_.calls("Infer"), 0);  // mocked: the handler never ran
}

TEST_F(ExecutorTest, RetriesExhaustedThenCaught) {
  tasks_.answer = [](const TaskInvocation&) {
    return Outcome<Json>(StateError{"Lote.Unavailable", "store down"});
  };
  auto r = Run(R"({"StartAt": "T", "States": {
    "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
          "Retry": [{"ErrorEquals": ["States.ALL"], "MaxAttempts": 1}],
          "Catch": [{"ErrorEquals": ["Lote.Unavailable"], "ResultPath": "$.failure",
                     "Next": "Recover"}], "End": true},
    "Recover": {"Type": "Pass", "End": true}}})",
               Json{{"batch", 7}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->status, ExecutionStatus::kSucceeded);
  EXPECT_EQ(*r->output, Json::parse(R"({"batch": 7, "failure":
                                        {"Error": "Lote.Unavailable", "Cause": "store down"}})"));
  EXPECT_EQ(tasks_.calls("T"), 2);
}

TEST_F(ExecutorTest, RuntimeErrorsAreNeitherRetriedNorCaught) {
  auto r = Run(R"({"StartAt": "T", "States": {
    "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "InputPath": "$.missing",
          "Retry": [{"ErrorEquals": ["States.ALL"]}],
          "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Recover"}], "End": true},
    "Recover": {"Type": "Pass", "End": true}}})",
               Json::object());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, ExecutionStatus::kFailed);
  EXPECT_EQ(r->error->error, "States.Runtime");
  EXPECT_EQ(tasks_.calls("T"), 0);
}

TEST_F(ExecutorTest, TaskFailedMatchesErrorsButNotTimeouts) {
  tasks_.answer = [](const TaskInvocation& inv) {
    while (!inv.cancelled()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return Outcome<Json>(Json::object());
  };
  auto r = Run(R"({"StartAt": "T", "States": {
    "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "TimeoutSeconds": 5,
          "Catch": [{"ErrorEquals": ["States.TaskFailed"], "Next": "Wrong"},
                    {"ErrorEquals": ["States.Timeout"], "Next": "Right"}], "End": true},
    "Wrong": {"Type": "Fail", "Error": "wrong"},
    "Right": {"Type": "Succeed"}}})",
               Json::object());
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->status, ExecutionStatus::kSucceeded);
  EXPECT_EQ(Count(EventTypes("e1"), "TaskTimedOut"), 1);
}

TEST_F(ExecutorTest, HeartbeatTimeoutIsCaughtAsTimeout) {
  tasks_.answer = [](const TaskInvocation& inv) {
    while (!inv.cancelled()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return Outcome<Json>(Json::object());
  };
  auto r = Run(R"({"StartAt": "T", "States": {
    "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "HeartbeatSeconds": 2,
          "TimeoutSeconds": 100, "Catch": [{"ErrorEquals": ["States.Timeout"], "Next": "Done"}],
          "End": true},
    "Done": {"Type": "Pass", "End": true}}})",
               Json::object());
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->status, ExecutionStatus::kSucceeded);
  EXPECT_EQ((*r->output)["Error"], "States.HeartbeatTimeout");
}

TEST_F(ExecutorTest, ChoiceRoutesAndFailsWhenNothingMatches) {
  std::string def = R"({"StartAt": "C", "States": {
    "C": {"Type": "Choice", "Choices": [
      {"Variable": "$.drift", "NumericGreaterThan": 0.3, "Next": "Retrain"}]},
    "Retrain": {"Type": "Pass", "Result": "retrain", "End": true}}})";
  auto yes = Run(def, Json{{"drift", 0.5}}, "yes");
  ASSERT_TRUE(yes.ok());
  EXPECT_EQ(*yes->output, "retrain");
  auto no = Run(def, Json{{"drift", 0.1}}, "no");
  ASSERT_TRUE(no.ok());
  EXPECT_EQ(no->status, ExecutionStatus::kFailed);
  EXPECT_EQ(no->error->error, "States.NoChoiceMatched");
}

TEST_F(ExecutorTest, FailStateWithPaths) {
  auto r = Run(R"j({"StartAt": "F", "States": {
    "F": {"Type": "Fail", "ErrorPath": "$.e", "CausePath": "States.Format('bad {}', $.n)"}}})j",
               Json{{"e", "Lote.BadBatch"}, {"n", 3}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, ExecutionStatus::kFailed);
  EXPECT_EQ(*r->error, (StateError{"Lote.BadBatch", "bad 3"}));
}

TEST_F(ExecutorTest, ParallelKeepsBranchOrderAndFailsWithTheBranchError) {
  auto ok = Run(R"({"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": true,
    "Branches": [
      {"StartAt": "A", "States": {"A": {"Type": "Pass", "Result": 1, "End": true}}},
      {"StartAt": "B", "States": {"B": {"Type": "Pass", "Result": 2, "End": true}}},
      {"StartAt": "C", "States": {"C": {"Type": "Pass", "InputPath": "$.v", "End": true}}}]}}})",
                Json{{"v", 3}}, "ok");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok->output, Json::parse("[1, 2, 3]"));
  auto failed = Run(R"({"StartAt": "P", "States": {"P": {"Type": "Parallel", "Next": "Z",
    "Catch": [{"ErrorEquals": ["Custom"], "ResultPath": "$.err", "Next": "Z"}],
    "Branches": [
      {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 1000, "End": true}}},
      {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Custom", "Cause": "c"}}}]},
    "Z": {"Type": "Pass", "End": true}}})",
                    Json::object(), "failed");
  ASSERT_TRUE(failed.ok());
  ASSERT_EQ(failed->status, ExecutionStatus::kSucceeded);
  EXPECT_EQ((*failed->output)["err"]["Error"], "Custom");
}

TEST_F(ExecutorTest, InlineMapRunsConcurrentlyInOrder) {
  Json items = Json::array();
  for (int i = 0; i < 200; ++i) items.push_back(Json{{"n", i}});
  auto r = Run(R"({"StartAt": "M", "States": {"M": {"Type": "Map", "ItemsPath": "$.items",
    "MaxConcurrency": 4,
    "ItemSelector": {"index.$": "$$.Map.Item.Index", "n.$": "$$.Map.Item.Value.n",
                     "tag.$": "$.tag"},
    "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}},
    "End": true}}})",
               Json{{"items", items}, {"tag", "t"}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->status, ExecutionStatus::kSucceeded);
  ASSERT_EQ(r->output->size(), 200u);
  for (int i = 0; i < 200; ++i) {
    EXPECT_EQ((*r->output)[i], (Json{{"index", i}, {"n", i}, {"tag", "t"}}));
  }
  std::vector<std::string> types = EventTypes("e1");
  EXPECT_EQ(Count(types, "MapIterationStarted"), 200);
  EXPECT_EQ(Count(types, "MapIterationSucceeded"), 200);
}

TEST_F(ExecutorTest, DistributedMapToleratesFailuresUpToTheThreshold) {
  std::string def = R"({"StartAt": "M", "States": {"M": {"Type": "Map", "End": true,
    "ToleratedFailureCount": 1,
    "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
      "StartAt": "C", "States": {
        "C": {"Type": "Choice", "Choices": [{"Variable": "$", "NumericGreaterThan": 2,
                                             "Next": "Bad"}], "Default": "Good"},
        "Bad": {"Type": "Fail", "Error": "TooBig"},
        "Good": {"Type": "Pass", "End": true}}}}}})";
  auto one = Run(def, Json::parse("[1, 2, 3]"), "one");
  ASSERT_TRUE(one.ok()) << one.status().ToString();
  EXPECT_EQ(one->status, ExecutionStatus::kSucceeded);
  auto two = Run(def, Json::parse("[1, 3, 4]"), "two");
  ASSERT_TRUE(two.ok());
  EXPECT_EQ(two->status, ExecutionStatus::kFailed);
  EXPECT_EQ(two->error->error, "States.ExceedToleratedFailureThreshold");
}

TEST_F(ExecutorTest, ItemBatcherGroupsItems) {
  auto r = Run(R"({"StartAt": "M", "States": {"M": {"Type": "Map", "End": true,
    "ItemBatcher": {"MaxItemsPerBatch": 2, "BatchInput": {"run.$": "$.run"}},
    "ItemsPath": "$.items",
    "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
      "StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}}}})",
               Json{{"items", Json::array({1, 2, 3})}, {"run", "r1"}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->status, ExecutionStatus::kSucceeded) << r->error->cause;
  EXPECT_EQ(*r->output, Json::parse(R"([{"BatchInput": {"run": "r1"}, "Items": [1, 2]},
                                        {"BatchInput": {"run": "r1"}, "Items": [3]}])"));
}

TEST_F(ExecutorTest, PayloadOverTheLimitFailsWithDataLimitExceeded) {
  ExecutorOptions o = Options();
  o.max_payload_bytes = 100;
  auto r = Executor(o).Run("e1", "sm", R"j({"StartAt": "A", "States": {
    "A": {"Type": "Pass", "Parameters": {"a.$": "States.ArrayRange(1, 100, 1)"},
          "End": true}}})j",
                           Json::object());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, ExecutionStatus::kFailed);
  EXPECT_EQ(r->error->error, "States.DataLimitExceeded");
}

TEST_F(ExecutorTest, AnEndlessLoopStopsAtTheHistoryLimit) {
  ExecutorOptions o = Options();
  o.max_history_events = 100;
  auto r = Executor(o).Run("e1", "sm", R"({"StartAt": "A", "States": {
    "A": {"Type": "Pass", "Next": "B"},
    "B": {"Type": "Choice", "Choices": [{"Variable": "$.stop", "IsPresent": true, "Next": "Done"}],
          "Default": "A"},
    "Done": {"Type": "Succeed"}}})",
                           Json::object());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, ExecutionStatus::kFailed);
  EXPECT_EQ(r->error->error, "States.Runtime");
  EXPECT_NE(r->error->cause.find("100"), std::string::npos);
}

TEST_F(ExecutorTest, ExecutionTimeout) {
  auto r = Run(R"({"StartAt": "W", "TimeoutSeconds": 30, "States": {
    "W": {"Type": "Wait", "Seconds": 60, "End": true}}})",
               Json::object());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, ExecutionStatus::kTimedOut);
  EXPECT_EQ(r->error->error, "States.Timeout");
  EXPECT_EQ(EventTypes("e1").back(), "ExecutionTimedOut");
}

TEST_F(ExecutorTest, StopRequestAbortsARunningExecution) {
  ExecutorOptions o = Options();
  auto clock = clock_;
  o.sleep = [clock](int64_t) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    clock->Advance(1000);
  };
  Result<ExecutionResult> r = InternalError("not run");
  std::thread runner([&] {
    r = Executor(o).Run("e1", "sm", R"({"StartAt": "W", "States": {
      "W": {"Type": "Wait", "Seconds": 86400, "End": true}}})",
                        Json::object());
  });
  // Wait until the execution is waiting, then ask it to stop.
  auto waiting = [&] {
    auto events = history_->Events("e1", 0, 100);
    if (!events.ok()) return false;
    for (const HistoryEvent& e : *events) {
      if (e.type == "WaitStateEntered") return true;
    }
    return false;
  };
  for (int i = 0; i < 5000 && !waiting(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ASSERT_TRUE(
      history_->RequestStop("e1", StateError{"Operator", "maintenance"}, clock_->NowMicros()).ok());
  runner.join();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, ExecutionStatus::kAborted);
  EXPECT_EQ(r->error->error, "Operator");
  EXPECT_EQ(EventTypes("e1").back(), "ExecutionAborted");
}

TEST_F(ExecutorTest, AnExecutionStoppedBeforeItsRunnerClaimsItEndsAborted) {
  // A history that records a stop between Create and Claim, as `lote flow stop` can.
  class StopOnClaim : public CrashingHistory {
   public:
    using CrashingHistory::CrashingHistory;
    Status Claim(const std::string& n, const std::string& o, int64_t now, int64_t until) override {
      Status s = RequestStop(n, StateError{"Operator", "too early"}, now);
      if (!s.ok()) return s;
      return CrashingHistory::Claim(n, o, now, until);
    }
  } history(history_.get());
  ExecutorOptions o = Options();
  o.history = &history;
  auto r = Executor(o).Run("e1", "sm", R"({"StartAt": "A", "States": {
    "A": {"Type": "Pass", "End": true}}})",
                           Json::object());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, ExecutionStatus::kAborted);
  EXPECT_EQ(r->error->error, "Operator");
}

TEST_F(ExecutorTest, AnInvalidDefinitionLeavesNoExecutionBehind) {
  auto r =
      Run(R"({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}}})", Json::object());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("States.A.Next"), std::string::npos) << r.status().ToString();
  EXPECT_EQ(history_->Get("e1").status().code(), StatusCode::kNotFound);
}

TEST_F(ExecutorTest, ANameIsUsedOnce) {
  std::string def = R"({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}})";
  ASSERT_TRUE(Run(def, Json::object()).ok());
  auto again = Run(def, Json::object());
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists);
}

// --- crashes and resume ------------------------------------------------------------------------

class ResumeTest : public ExecutorTest {
 protected:
  ResumeTest() : crashing_(history_.get()) {}

  ExecutorOptions CrashingOptions() {
    ExecutorOptions o = Options();
    o.history = &crashing_;
    return o;
  }

  CrashingHistory crashing_;
};

TEST_F(ResumeTest, ARecordedTaskIsNotInvokedAgainAndAnInFlightOneIs) {
  std::string def = R"({"StartAt": "A", "States": {
    "A": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Next": "B"},
    "B": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true}}})";
  // Appends: 1 (start + A scheduled), 2 (A succeeded), 3 (B scheduled), then B's result is lost.
  crashing_.CrashAfter(3);
  auto first = Executor(CrashingOptions()).Run("e1", "sm", def, Json{{"v", 1}});
  EXPECT_FALSE(first.ok());
  EXPECT_TRUE(crashing_.crashed());
  EXPECT_EQ(tasks_.calls("A"), 1);
  EXPECT_EQ(tasks_.calls("B"), 1);
  crashing_.Heal();
  clock_->Advance(61'000'000);  // the dead process's lease expires
  auto resumed = Executor(CrashingOptions()).Resume("e1");
  ASSERT_TRUE(resumed.ok()) << resumed.status().ToString();
  ASSERT_EQ(resumed->status, ExecutionStatus::kSucceeded);
  EXPECT_TRUE(resumed->resumed);
  EXPECT_EQ(tasks_.calls("A"), 1);  // its success was recorded
  EXPECT_EQ(tasks_.calls("B"), 2);  // it was in flight: at-least-once
  EXPECT_EQ(*resumed->output, Json::parse(R"({"echo": {"echo": {"v": 1}}})"));
  // Event ids stay contiguous across the two processes.
  auto events = history_->Events("e1", 0, 1000);
  ASSERT_TRUE(events.ok());
  for (size_t i = 0; i < events->size(); ++i) EXPECT_EQ((*events)[i].id, int64_t(i + 1));
}

TEST_F(ResumeTest, AResumedWaitWaitsOnlyWhatIsLeft) {
  std::string def = R"({"StartAt": "W", "States": {
    "W": {"Type": "Wait", "Seconds": 3600, "Next": "Done"},
    "Done": {"Type": "Pass", "End": true}}})";
  ExecutorOptions o = CrashingOptions();
  auto clock = clock_;
  CrashingHistory* crashing = &crashing_;
  o.sleep = [clock, crashing](int64_t micros) {
    clock->Advance(micros);
    crashing->CrashAfter(0);  // the next write fails: the process is gone
  };
  o.lease_micros = 30'000'000;
  int64_t t0 = clock_->NowMicros();
  auto first = Executor(o).Run("e1", "sm", def, Json::object());
  EXPECT_FALSE(first.ok());  // the lease renewal found the store gone
  crashing_.Heal();
  // Ten minutes after the wait began, a new process resumes it.
  clock_->SetNowMicros(t0 + 600'000'000);
  ExecutorOptions o2 = Options();
  auto resumed = Executor(o2).Resume("e1");
  ASSERT_TRUE(resumed.ok()) << resumed.status().ToString();
  ASSERT_EQ(resumed->status, ExecutionStatus::kSucceeded);
  EXPECT_EQ(clock_->NowMicros(), t0 + 3'600'000'000);  // it waited the remaining 50 minutes
}

TEST_F(ResumeTest, AMapResumesOnlyTheUnfinishedIterations) {
  Json items = Json::array();
  for (int i = 0; i < 20; ++i) items.push_back(i);
  std::string def = R"({"StartAt": "M", "States": {"M": {"Type": "Map", "MaxConcurrency": 1,
    "ItemProcessor": {"StartAt": "T", "States": {
      "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true}}},
    "End": true}}})";
  // Appends: item i scheduled = 2i+1, done = 2i+2: item 6 runs, its result is lost.
  crashing_.CrashAfter(13);
  auto first = Executor(CrashingOptions()).Run("e1", "sm", def, items);
  EXPECT_FALSE(first.ok());
  EXPECT_EQ(tasks_.calls("T"), 7);
  crashing_.Heal();
  clock_->Advance(61'000'000);
  auto resumed = Executor(Options()).Resume("e1");
  ASSERT_TRUE(resumed.ok()) << resumed.status().ToString();
  ASSERT_EQ(resumed->status, ExecutionStatus::kSucceeded);
  ASSERT_EQ(resumed->output->size(), 20u);
  for (int i = 0; i < 20; ++i) EXPECT_EQ((*resumed->output)[i], (Json{{"echo", i}}));
  // Only the item in flight is invoked twice.
  EXPECT_EQ(tasks_.calls("T"), 21);
  // The finished iterations write no events again: 20 starts in all, the one cut short twice.
  std::vector<std::string> types = EventTypes("e1");
  EXPECT_EQ(Count(types, "MapIterationStarted"), 21);
  EXPECT_EQ(Count(types, "MapIterationSucceeded"), 20);
}

TEST_F(ResumeTest, AFinishedExecutionResumesToItsResult) {
  std::string def = R"({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}})";
  ASSERT_TRUE(Run(def, Json{{"x", 1}}).ok());
  auto again = Executor(Options()).Resume("e1");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->status, ExecutionStatus::kSucceeded);
  EXPECT_EQ(*again->output, (Json{{"x", 1}}));
}

}  // namespace
}  // namespace lote::flow
