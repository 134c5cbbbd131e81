// The ASL executor: input/output processing, every state type, Retry/Catch, timeouts, Map and
// Parallel on worker threads, durable history with checkpoints, resume.
//
// Checkpoints. Every sequence of states that runs one after another (the top level, a Parallel
// branch, a Map iteration) is a "lane" with a key prefix ("" at the top, "Fan#0/b1/" for branch 1
// of the first visit of state Fan, "Each#0/i7/" for item 7 of Map Each). A visit of state S in a
// lane is keyed PREFIX + "S#n" (n counts the lane's earlier visits of S: lanes are sequential, so
// keys are the same in a resumed run). When a state exits, its checkpoint records its output, the
// next state and the id of its exit event; a resumed lane follows the recorded transitions without
// running those states again. Retries record their counters and the time of the next attempt
// (key + "~r"), Waits their deadline (key + "~w").
#include "lote/flow/executor.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <mutex>
#include <random>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "flow/flow_internal.h"
#include "lote/base/digest.h"

namespace lote::flow {
namespace {

// Cancellation reaches every lane below the scope that was cancelled.
struct Scope {
  const Scope* parent = nullptr;
  std::atomic<bool> cancelled{false};
  bool Cancelled() const {
    for (const Scope* s = this; s != nullptr; s = s->parent) {
      if (s->cancelled.load(std::memory_order_relaxed)) return true;
    }
    return false;
  }
};

struct Lane {
  std::string prefix;  // checkpoint key prefix
  std::string scope;   // for progress lines ("" at the top)
  const Scope* cancel = nullptr;
  int64_t last_event = 0;
  std::unordered_map<std::string, int> visits;
  std::optional<Json> map_item;  // {"Index": i, "Value": v} inside a Map iteration
};

struct Transition {
  Json output;
  std::string next;  // empty: the lane ends
};

constexpr char kAbortedMarker[] = "lote.ExecutionStopped";

std::string EventPrefix(StateType type) { return std::string(StateTypeName(type)); }

// "arn:aws:states:::sagemaker:createTransformJob.sync" -> {"sagemaker",
// "createTransformJob.sync"}; "arn:aws:lambda:REGION:ACCOUNT:function:NAME" -> {"lambda",
// "arn..."} as Step Functions reports them in TaskScheduled.
std::pair<std::string, std::string> ResourceParts(const std::string& arn) {
  static constexpr std::string_view kStates = "arn:aws:states:::";
  if (arn.rfind(kStates, 0) == 0) {
    std::string rest = arn.substr(kStates.size());
    size_t colon = rest.find(':');
    if (colon != std::string::npos) return {rest.substr(0, colon), rest.substr(colon + 1)};
    return {rest, ""};
  }
  if (arn.rfind("arn:aws:lambda:", 0) == 0) return {"lambda", arn};
  if (arn.find(":activity:") != std::string::npos) return {"activity", arn};
  return {"unknown", arn};
}

bool ErrorMatches(const std::vector<std::string>& names, const StateError& e) {
  for (const std::string& n : names) {
    if (n == e.error) return true;
    // A heartbeat timeout is also a States.Timeout (AWS: "States.Timeout: ... or failed to send
    // a heartbeat for a period longer than the HeartbeatSeconds value").
    if (n == kStatesTimeout && e.error == kStatesHeartbeatTimeout) return true;
    if (n == kStatesAll) return true;
    // States.TaskFailed: "a wildcard that matches any known error name except States.Timeout".
    if (n == kStatesTaskFailed && e.error != kStatesTimeout && e.error != kStatesHeartbeatTimeout)
      return true;
  }
  return false;
}

// States.Runtime and States.DataLimitExceeded are terminal: no Retry or Catch applies (AWS: "A
// retry or catch on States.ALL won't catch States.Runtime errors"), nor does our stop marker.
bool Terminal(const StateError& e) {
  return e.error == kStatesRuntime || e.error == kStatesDataLimitExceeded ||
         e.error == kAbortedMarker;
}

Json PayloadDetails(bool truncated = false) { return Json{{"truncated", truncated}}; }

// The result recorded for a closed execution.
Result<ExecutionResult> Recorded(const ExecutionRecord& rec) {
  ExecutionResult r;
  r.status = rec.status;
  r.error = rec.error;
  if (rec.output) {
    try {
      r.output = Json::parse(*rec.output);
    } catch (const std::exception& e) {
      return DataLossError("execution " + rec.name + ": stored output is not JSON");
    }
  }
  return r;
}

}  // namespace

std::string ExecutionArn(const ExecutorOptions& options, const std::string& state_machine,
                         const std::string& name) {
  return "arn:aws:states:" + options.region + ":" + options.account +
         ":execution:" + state_machine + ":" + name;
}

struct Executor::Impl {
  explicit Impl(const ExecutorOptions& o) : opt(o) {}

  const ExecutorOptions& opt;
  std::shared_ptr<const Clock> clock;
  std::string name;
  std::string owner;
  std::shared_ptr<const StateMachine> machine;
  Json exec_context;                                  // {"Execution": ..., "StateMachine": ...}
  bool uses_context = true;                           // whether the definition reads $$ at all
  std::unordered_map<std::string, Json> checkpoints;  // loaded at start; read-only afterwards

  Scope root;
  int64_t deadline_micros = 0;  // top-level TimeoutSeconds; 0: none
  std::atomic<bool> timed_out{false};
  std::atomic<bool> history_full{false};
  std::atomic<int> free_threads{0};

  std::mutex mu;  // guards the pending buffers, next_id, failure, stop_reason
  std::vector<HistoryEvent> pending_events;
  std::vector<Checkpoint> pending_checkpoints;
  int64_t next_id = 1;
  Status failure;                         // the history store failed: stop, do not finish
  std::optional<StateError> stop_reason;  // lote flow stop
  std::mutex flush_mu;                    // one Append at a time, in id order

  std::mutex mock_mu;
  std::unordered_map<std::string, int> mock_calls;

  // --- events and checkpoints ---------------------------------------------------------------

  int64_t Emit(Lane& lane, const std::string& type, Json details, const std::string& state) {
    HistoryEvent e;
    e.type = type;
    e.details = std::move(details);
    e.timestamp_micros = clock->NowMicros();
    e.previous_event_id = lane.last_event;
    bool flush = false;
    {
      std::lock_guard<std::mutex> lock(mu);
      e.id = next_id++;
      if (e.id > opt.max_history_events && !history_full.exchange(true)) root.cancelled = true;
      pending_events.push_back(std::move(e));
      flush = pending_events.size() >= opt.flush_every_events;
      lane.last_event = pending_events.back().id;
    }
    if (opt.on_progress) opt.on_progress(ProgressEvent{type, state, lane.scope});
    if (flush) (void)Flush();
    return lane.last_event;
  }

  void SaveCheckpoint(std::string key, Json value) {
    std::lock_guard<std::mutex> lock(mu);
    pending_checkpoints.push_back(Checkpoint{std::move(key), std::move(value)});
  }

  Status Flush() {
    std::lock_guard<std::mutex> flush_lock(flush_mu);
    std::vector<HistoryEvent> events;
    std::vector<Checkpoint> cps;
    {
      std::lock_guard<std::mutex> lock(mu);
      if (!failure.ok()) return failure;
      events.swap(pending_events);
      cps.swap(pending_checkpoints);
    }
    if (events.empty() && cps.empty()) return Status::Ok();
    Status s = opt.history->Append(name, owner, events, cps);
    if (!s.ok()) {
      std::lock_guard<std::mutex> lock(mu);
      if (failure.ok()) failure = s;
      root.cancelled = true;
    }
    return s;
  }

  const Json* FindCheckpoint(const std::string& key) const {
    auto it = checkpoints.find(key);
    return it == checkpoints.end() ? nullptr : &it->second;
  }

  // --- time ----------------------------------------------------------------------------------

  // Sleeps until `until` (wall clock). False when the lane was cancelled first.
  bool SleepUntil(int64_t until, const Scope& scope) {
    while (true) {
      if (scope.Cancelled()) return false;
      int64_t now = clock->NowMicros();
      if (deadline_micros > 0 && now >= deadline_micros) {
        timed_out = true;
        root.cancelled = true;
        return false;
      }
      if (now >= until) return true;
      int64_t step = std::min<int64_t>(until - now, 100'000);
      if (deadline_micros > 0) step = std::min(step, std::max<int64_t>(deadline_micros - now, 1));
      opt.sleep(step);
    }
  }

  bool CheckTime() {
    if (deadline_micros > 0 && clock->NowMicros() >= deadline_micros) {
      timed_out = true;
      root.cancelled = true;
    }
    return !timed_out;
  }

  // --- context object -------------------------------------------------------------------------

  Json Context(const State& s, const Lane& lane, int64_t entered, int retry_count) const {
    // A Task's handler always gets it (it names what it starts by the execution and state).
    if (!uses_context && s.type != StateType::kTask) return Json();
    Json c = exec_context;
    c["State"] = Json{
        {"EnteredTime", FormatTimestamp(entered)}, {"Name", s.name}, {"RetryCount", retry_count}};
    if (lane.map_item) c["Map"] = Json{{"Item", *lane.map_item}};
    return c;
  }

  // --- input and output processing -----------------------------------------------------------

  static Outcome<Json> ApplyPath(const PathField& f, const Json& value, const Json& ctx,
                                 const char* field) {
    if (f.is_null) return Json::object();
    if (!f.path) return value;
    std::optional<Json> got = f.path->Select(value, ctx);
    if (!got || (!f.path->is_reference() && got->empty())) {
      return RuntimeError(std::string("Invalid path '") + f.path->text() + "' : No results for " +
                          field);
    }
    return std::move(*got);
  }

  static Outcome<Json> ApplyResultPath(const ResultPathField& f, const Json& raw, Json result) {
    if (f.discard) return raw;
    if (!f.path) return result;
    return PlaceAt(*f.path, raw, std::move(result));
  }

  Outcome<double> ResolveNumber(const NumberField& f, const Json& input, const Json& ctx,
                                const char* field) const {
    if (f.value) return *f.value;
    if (!f.path) return 0.0;
    std::optional<Json> v = f.path->Select(input, ctx);
    if (!v || !v->is_number()) {
      return RuntimeError(std::string(field) + "Path '" + f.path->text() +
                          "' does not select a number");
    }
    return v->get<double>();
  }

  Outcome<std::string> CheckSize(const Json& value) const {
    std::string text = DumpJson(value);
    if (text.size() > opt.max_payload_bytes) {
      return StateError{kStatesDataLimitExceeded,
                        "The state/task returned a result with a size exceeding the maximum "
                        "number of bytes service limit (" +
                            std::to_string(text.size()) + " > " +
                            std::to_string(opt.max_payload_bytes) + ")."};
    }
    return text;
  }

  // --- lanes ----------------------------------------------------------------------------------

  // Runs `m` from StartAt on `input` to its end; the lane's last output, or the error it failed
  // with (kAbortedMarker when cancelled).
  Outcome<Json> RunLane(const StateMachine& m, Json input, Lane& lane) {
    const State* s = m.Find(m.start_at);
    std::string input_text;  // `input` serialized when known (the previous state's output text)
    while (true) {
      if (lane.cancel->Cancelled() || !CheckTime()) return StateError{kAbortedMarker, ""};
      std::string key = lane.prefix + s->name + "#" + std::to_string(lane.visits[s->name]++);
      if (const Json* cp = FindCheckpoint(key)) {
        input = (*cp)["o"];
        input_text.clear();
        lane.last_event = (*cp)["p"].get<int64_t>();
        if ((*cp)["n"].is_null()) return input;
        s = m.Find((*cp)["n"].get<std::string>());
        continue;
      }
      std::string output_text;
      Outcome<Transition> t = RunState(*s, input, input_text, lane, key, &output_text);
      if (!t.ok()) return t.error();
      if (t.value().next.empty()) return std::move(t.value().output);
      input = std::move(t.value().output);
      input_text = std::move(output_text);
      s = m.Find(t.value().next);
    }
  }

  // `raw_text`: `raw` serialized, or empty when not known yet. Sets *output_text to the output
  // serialized.
  Outcome<Transition> RunState(const State& s, const Json& raw, const std::string& raw_text,
                               Lane& lane, const std::string& key, std::string* output_text) {
    int64_t entered = clock->NowMicros();
    Outcome<std::string> in_text =
        raw_text.empty() ? CheckSize(raw) : Outcome<std::string>(raw_text);
    Json entered_details{{"name", s.name}};
    entered_details["input"] = in_text.ok() ? in_text.value() : std::string("{}");
    entered_details["inputDetails"] = PayloadDetails();
    Emit(lane, EventPrefix(s.type) + "StateEntered",
         Json{{"stateEnteredEventDetails", std::move(entered_details)}}, s.name);
    if (!in_text.ok()) return in_text.error();

    Outcome<Transition> t = StateError{};
    switch (s.type) {
      case StateType::kPass:
        t = RunPass(s, raw, lane, entered);
        break;
      case StateType::kChoice:
        t = RunChoice(s, raw, lane, entered);
        break;
      case StateType::kWait:
        t = RunWait(s, raw, lane, entered, key);
        break;
      case StateType::kSucceed: {
        Json ctx = Context(s, lane, entered, 0);
        Outcome<Json> eff = ApplyPath(s.input_path, raw, ctx, "InputPath");
        if (!eff.ok()) return eff.error();
        Outcome<Json> out = ApplyPath(s.output_path, eff.value(), ctx, "OutputPath");
        if (!out.ok()) return out.error();
        t = Transition{std::move(out).value(), ""};
        break;
      }
      case StateType::kFail:
        return FailError(s, raw, lane, entered);
      case StateType::kTask:
      case StateType::kParallel:
      case StateType::kMap:
        t = RunWithRetry(s, raw, lane, entered, key);
        break;
    }
    if (!t.ok()) return t;
    Outcome<std::string> out_text = CheckSize(t.value().output);
    if (!out_text.ok()) return out_text.error();
    int64_t id = Emit(lane, EventPrefix(s.type) + "StateExited",
                      Json{{"stateExitedEventDetails", Json{{"name", s.name},
                                                            {"output", out_text.value()},
                                                            {"outputDetails", PayloadDetails()}}}},
                      s.name);
    Json cp{{"o", t.value().output}, {"p", id}};
    cp["n"] = t.value().next.empty() ? Json() : Json(t.value().next);
    SaveCheckpoint(key, std::move(cp));
    *output_text = std::move(out_text).value();
    // A Task's success is written at once: a restart must not invoke it again.
    if (s.type == StateType::kTask && !Flush().ok()) return StateError{kAbortedMarker, ""};
    return t;
  }

  Outcome<Transition> RunPass(const State& s, const Json& raw, Lane& lane, int64_t entered) {
    Json ctx = Context(s, lane, entered, 0);
    Outcome<Json> eff = ApplyPath(s.input_path, raw, ctx, "InputPath");
    if (!eff.ok()) return eff.error();
    Json result;
    if (s.parameters) {
      Outcome<Json> p = s.parameters->Evaluate(eff.value(), ctx);
      if (!p.ok()) return p.error();
      result = std::move(p).value();
    } else {
      result = std::move(eff).value();
    }
    if (s.result) result = *s.result;
    Outcome<Json> placed = ApplyResultPath(s.result_path, raw, std::move(result));
    if (!placed.ok()) return placed.error();
    Outcome<Json> out = ApplyPath(s.output_path, placed.value(), ctx, "OutputPath");
    if (!out.ok()) return out.error();
    return Transition{std::move(out).value(), s.end ? "" : s.next};
  }

  Outcome<Transition> RunChoice(const State& s, const Json& raw, Lane& lane, int64_t entered) {
    Json ctx = Context(s, lane, entered, 0);
    Outcome<Json> eff = ApplyPath(s.input_path, raw, ctx, "InputPath");
    if (!eff.ok()) return eff.error();
    std::string next;
    for (const ChoiceRule& rule : s.choices) {
      Outcome<bool> m = rule.Matches(eff.value(), ctx);
      if (!m.ok()) return m.error();
      if (m.value()) {
        next = rule.next();
        break;
      }
    }
    if (next.empty()) next = s.default_next;
    if (next.empty()) {
      return StateError{kStatesNoChoiceMatched,
                        "No Matches! (state '" + s.name + "' has no matching rule and no Default)"};
    }
    Outcome<Json> out = ApplyPath(s.output_path, eff.value(), ctx, "OutputPath");
    if (!out.ok()) return out.error();
    return Transition{std::move(out).value(), next};
  }

  Outcome<Transition> RunWait(const State& s, const Json& raw, Lane& lane, int64_t entered,
                              const std::string& key) {
    Json ctx = Context(s, lane, entered, 0);
    Outcome<Json> eff = ApplyPath(s.input_path, raw, ctx, "InputPath");
    if (!eff.ok()) return eff.error();
    int64_t until = 0;
    if (const Json* cp = FindCheckpoint(key + "~w")) {
      until = cp->get<int64_t>();  // a resumed Wait keeps its deadline
    } else {
      if (s.seconds) {
        until = entered + static_cast<int64_t>(*s.seconds * 1e6);
      } else if (s.timestamp_micros) {
        until = *s.timestamp_micros;
      } else if (s.seconds_path) {
        std::optional<Json> v = s.seconds_path->Select(eff.value(), ctx);
        if (!v || !v->is_number() || v->get<double>() < 0) {
          return RuntimeError("Invalid path '" + s.seconds_path->text() +
                              "': SecondsPath must select a non-negative number");
        }
        until = entered + static_cast<int64_t>(v->get<double>() * 1e6);
      } else if (s.timestamp_path) {
        std::optional<Json> v = s.timestamp_path->Select(eff.value(), ctx);
        std::optional<int64_t> ts;
        if (v && v->is_string()) ts = ParseTimestamp(v->get<std::string>());
        if (!ts) {
          return RuntimeError("Invalid path '" + s.timestamp_path->text() +
                              "': TimestampPath must select an RFC 3339 timestamp");
        }
        until = *ts;
      }
      SaveCheckpoint(key + "~w", Json(until));
    }
    if (!Flush().ok() || !SleepUntil(until, *lane.cancel)) return StateError{kAbortedMarker, ""};
    Outcome<Json> out = ApplyPath(s.output_path, eff.value(), ctx, "OutputPath");
    if (!out.ok()) return out.error();
    return Transition{std::move(out).value(), s.end ? "" : s.next};
  }

  StateError FailError(const State& s, const Json& raw, Lane& lane, int64_t entered) {
    Json ctx = Context(s, lane, entered, 0);
    StateError e;
    if (s.error) e.error = *s.error;
    if (s.cause) e.cause = *s.cause;
    if (s.error_path) {
      Outcome<Json> v = s.error_path->Evaluate(raw, ctx);
      if (!v.ok()) return v.error();
      if (!v.value().is_string()) return RuntimeError("ErrorPath must select a string");
      e.error = v.value().get<std::string>();
    }
    if (s.cause_path) {
      Outcome<Json> v = s.cause_path->Evaluate(raw, ctx);
      if (!v.ok()) return v.error();
      if (!v.value().is_string()) return RuntimeError("CausePath must select a string");
      e.cause = v.value().get<std::string>();
    }
    return e;
  }

  // Task, Parallel and Map: attempts, Retry, Catch.
  Outcome<Transition> RunWithRetry(const State& s, const Json& raw, Lane& lane, int64_t entered,
                                   const std::string& key) {
    std::vector<int> counts(s.retry.size(), 0);
    int attempt = 0;
    if (const Json* cp = FindCheckpoint(key + "~r")) {
      for (size_t i = 0; i < counts.size() && i < (*cp)["c"].size(); ++i) {
        counts[i] = (*cp)["c"][i].get<int>();
      }
      attempt = (*cp)["a"].get<int>();
      if (!SleepUntil((*cp)["u"].get<int64_t>(), *lane.cancel)) {
        return StateError{kAbortedMarker, ""};
      }
    }
    while (true) {
      Json ctx = Context(s, lane, entered, attempt);
      std::string attempt_key = key + "@" + std::to_string(attempt);
      Outcome<Json> result = Attempt(s, raw, ctx, lane, attempt_key);
      if (result.ok()) {
        Outcome<Json> out = ApplyPath(s.output_path, result.value(), ctx, "OutputPath");
        if (!out.ok()) return out.error();
        return Transition{std::move(out).value(), s.end ? "" : s.next};
      }
      const StateError& err = result.error();
      if (Terminal(err)) return err;
      size_t r = 0;
      while (r < s.retry.size() && !ErrorMatches(s.retry[r].error_equals, err)) ++r;
      if (r < s.retry.size() && counts[r] < s.retry[r].max_attempts) {
        const Retrier& rt = s.retry[r];
        double delay = rt.interval_seconds * std::pow(rt.backoff_rate, counts[r]);
        if (rt.max_delay_seconds) delay = std::min(delay, *rt.max_delay_seconds);
        if (rt.full_jitter) {
          thread_local std::mt19937_64 rng(std::random_device{}());
          delay = std::uniform_real_distribution<double>(0, delay)(rng);
        }
        ++counts[r];
        ++attempt;
        int64_t until = clock->NowMicros() + static_cast<int64_t>(delay * 1e6);
        SaveCheckpoint(key + "~r", Json{{"c", counts}, {"a", attempt}, {"u", until}});
        if (!Flush().ok() || !SleepUntil(until, *lane.cancel)) {
          return StateError{kAbortedMarker, ""};
        }
        continue;
      }
      for (const Catcher& c : s.catchers) {
        if (!ErrorMatches(c.error_equals, err)) continue;
        Outcome<Json> placed =
            ApplyResultPath(c.result_path, raw, Json{{"Error", err.error}, {"Cause", err.cause}});
        if (!placed.ok()) return placed.error();
        return Transition{std::move(placed).value(), c.next};
      }
      return err;
    }
  }

  // One attempt: InputPath, Parameters, the work, ResultSelector, ResultPath.
  Outcome<Json> Attempt(const State& s, const Json& raw, const Json& ctx, Lane& lane,
                        const std::string& attempt_key) {
    Outcome<Json> eff = ApplyPath(s.input_path, raw, ctx, "InputPath");
    if (!eff.ok()) return eff.error();
    Json input = std::move(eff).value();
    if (s.parameters && s.type != StateType::kMap) {
      Outcome<Json> p = s.parameters->Evaluate(input, ctx);
      if (!p.ok()) return p.error();
      input = std::move(p).value();
    }
    Outcome<Json> result = StateError{};
    switch (s.type) {
      case StateType::kTask:
        result = RunTask(s, input, ctx, lane);
        break;
      case StateType::kParallel:
        result = RunParallel(s, input, lane, attempt_key);
        break;
      case StateType::kMap:
        result = RunMap(s, input, ctx, lane, attempt_key);
        break;
      default:
        return RuntimeError("internal: no attempt for " + s.name);
    }
    if (!result.ok()) return result;
    Json value = std::move(result).value();
    if (s.result_selector) {
      Outcome<Json> sel = s.result_selector->Evaluate(value, ctx);
      if (!sel.ok()) return sel.error();
      value = std::move(sel).value();
    }
    return ApplyResultPath(s.result_path, raw, std::move(value));
  }

  // --- Task ----------------------------------------------------------------------------------

  Outcome<Json> RunTask(const State& s, const Json& input, const Json& ctx, Lane& lane) {
    auto [type, resource] = ResourceParts(s.resource);
    Outcome<double> timeout = ResolveNumber(s.timeout_seconds, input, ctx, "TimeoutSeconds");
    if (!timeout.ok()) return timeout.error();
    Outcome<double> heartbeat = ResolveNumber(s.heartbeat_seconds, input, ctx, "HeartbeatSeconds");
    if (!heartbeat.ok()) return heartbeat.error();
    Outcome<std::string> params_text = CheckSize(input);
    if (!params_text.ok()) return params_text.error();
    Json scheduled{{"resourceType", type},
                   {"resource", resource},
                   {"region", opt.region},
                   {"parameters", params_text.value()}};
    if (timeout.value() > 0) scheduled["timeoutInSeconds"] = timeout.value();
    if (heartbeat.value() > 0) scheduled["heartbeatInSeconds"] = heartbeat.value();
    Emit(lane, "TaskScheduled", Json{{"taskScheduledEventDetails", std::move(scheduled)}}, s.name);
    Emit(lane, "TaskStarted",
         Json{{"taskStartedEventDetails", Json{{"resourceType", type}, {"resource", resource}}}},
         s.name);
    // The task is about to act outside the executor: what led to it must be on disk first.
    if (!Flush().ok()) return StateError{kAbortedMarker, ""};

    Outcome<Json> result = Invoke(s, input, ctx, timeout.value(), heartbeat.value(), lane);
    if (!result.ok() && result.error().error == kAbortedMarker) return result;
    if (result.ok()) {
      Outcome<std::string> out_text = CheckSize(result.value());
      if (!out_text.ok()) {
        result = out_text.error();
      } else {
        Emit(lane, "TaskSucceeded",
             Json{{"taskSucceededEventDetails", Json{{"resourceType", type},
                                                     {"resource", resource},
                                                     {"output", out_text.value()},
                                                     {"outputDetails", PayloadDetails()}}}},
             s.name);
      }
    }
    if (!result.ok()) {
      const StateError& e = result.error();
      bool timed = e.error == kStatesTimeout || e.error == kStatesHeartbeatTimeout;
      Emit(lane, timed ? "TaskTimedOut" : "TaskFailed",
           Json{{timed ? "taskTimedOutEventDetails" : "taskFailedEventDetails",
                 Json{{"resourceType", type},
                      {"resource", resource},
                      {"error", e.error},
                      {"cause", e.cause}}}},
           s.name);
    }
    return result;
  }

  Outcome<Json> Invoke(const State& s, const Json& input, const Json& ctx, double timeout,
                       double heartbeat, Lane& lane) {
    if (opt.mocks != nullptr && opt.mocks->Mocks(s.name)) {
      int n;
      {
        std::lock_guard<std::mutex> lock(mock_mu);
        n = mock_calls[s.name]++;
      }
      const MockedResponse* r = opt.mocks->Response(s.name, n);
      if (r == nullptr) return RuntimeError("mock config has no response for " + s.name);
      if (r->thrown) return *r->thrown;
      return r->returned.value_or(Json::object());
    }
    if (opt.tasks == nullptr) {
      return RuntimeError("no handler runs Task resources here: '" + s.resource + "'");
    }
    TaskInvocation inv;
    inv.state_name = s.name;
    inv.resource = s.resource;
    inv.parameters = input;
    inv.context = ctx;
    inv.timeout_seconds = timeout;
    inv.heartbeat_seconds = heartbeat;
    const Scope* cancel = lane.cancel;
    if (timeout <= 0 && heartbeat <= 0) {
      inv.cancelled = [cancel] { return cancel->Cancelled(); };
      inv.heartbeat = [] {};
      return opt.tasks->Invoke(inv);
    }
    // With a timeout or heartbeat, the handler runs on its own thread and this one watches the
    // clocks. On expiry the handler is told (cancelled()) and joined: it must return soon.
    struct Watch {
      std::mutex mu;
      std::condition_variable cv;
      bool done = false;
      int64_t last_beat = 0;
      std::atomic<bool> expired{false};
    } w;
    w.last_beat = clock->NowMicros();
    inv.cancelled = [cancel, &w] { return w.expired.load() || cancel->Cancelled(); };
    inv.heartbeat = [&w, this] {
      std::lock_guard<std::mutex> lock(w.mu);
      w.last_beat = clock->NowMicros();
    };
    std::optional<Outcome<Json>> result;
    std::thread worker([&] {
      Outcome<Json> r = opt.tasks->Invoke(inv);
      std::lock_guard<std::mutex> lock(w.mu);
      result.emplace(std::move(r));
      w.done = true;
      w.cv.notify_all();
    });
    int64_t start = clock->NowMicros();
    std::optional<StateError> expiry;
    {
      std::unique_lock<std::mutex> lock(w.mu);
      while (!w.done) {
        int64_t now = clock->NowMicros();
        if (timeout > 0 && now - start >= static_cast<int64_t>(timeout * 1e6)) {
          expiry = StateError{
              kStatesTimeout,
              "Task timed out after " + std::to_string(static_cast<int64_t>(timeout)) + " seconds"};
        } else if (heartbeat > 0 && now - w.last_beat >= static_cast<int64_t>(heartbeat * 1e6)) {
          expiry = StateError{
              kStatesHeartbeatTimeout,
              "No heartbeat for " + std::to_string(static_cast<int64_t>(heartbeat)) + " seconds"};
        } else if (cancel->Cancelled()) {
          expiry = StateError{kAbortedMarker, ""};
        }
        if (expiry) break;
        lock.unlock();
        opt.sleep(20'000);
        lock.lock();
      }
    }
    if (expiry) w.expired = true;
    worker.join();
    if (expiry) return *expiry;
    return std::move(*result);
  }

  // --- Parallel and Map ----------------------------------------------------------------------

  // Runs work(i) for i in [0, n) on up to `concurrency` lanes at once: this thread plus workers
  // taken from the execution's budget (never blocking for one, so nested fan-outs progress).
  void FanOut(size_t n, int concurrency, const Scope& scope,
              const std::function<void(size_t)>& work) {
    std::atomic<size_t> next{0};
    auto loop = [&] {
      for (size_t i = next++; i < n; i = next++) {
        if (scope.Cancelled()) {
          // Still counted, so the caller sees which items never ran.
          continue;
        }
        work(i);
      }
    };
    std::vector<std::thread> workers;
    size_t wanted = std::min<size_t>(n, concurrency <= 0 ? n : static_cast<size_t>(concurrency));
    while (workers.size() + 1 < wanted) {
      int free = free_threads.load();
      if (free <= 0 || !free_threads.compare_exchange_weak(free, free - 1)) {
        if (free <= 0) break;
        continue;
      }
      workers.emplace_back(loop);
    }
    loop();
    for (std::thread& t : workers) t.join();
    free_threads += static_cast<int>(workers.size());
  }

  Outcome<Json> RunParallel(const State& s, const Json& input, Lane& lane,
                            const std::string& attempt_key) {
    Emit(lane, "ParallelStateStarted", Json::object(), s.name);
    size_t n = s.branches.size();
    Scope scope;
    scope.parent = lane.cancel;
    std::vector<std::optional<Outcome<Json>>> results(n);
    int64_t started_id = lane.last_event;
    FanOut(n, static_cast<int>(n), scope, [&](size_t i) {
      Lane b;
      b.prefix = attempt_key + "/b" + std::to_string(i) + "/";
      b.scope = (lane.scope.empty() ? "" : lane.scope + "/") + s.name + "/b" + std::to_string(i);
      b.cancel = &scope;
      b.last_event = started_id;
      Outcome<Json> r = RunLane(*s.branches[i], input, b);
      if (!r.ok()) scope.cancelled = true;  // one branch failing stops the others (AWS)
      results[i].emplace(std::move(r));
    });
    Json out = Json::array();
    std::optional<StateError> first;
    for (size_t i = 0; i < n; ++i) {
      if (!results[i]) {
        if (!first) first = StateError{kAbortedMarker, ""};
        continue;
      }
      if (!results[i]->ok()) {
        const StateError& e = results[i]->error();
        // A real failure outranks the branches that were stopped because of it.
        if (!first || (first->error == kAbortedMarker && e.error != kAbortedMarker)) first = e;
        continue;
      }
      out.push_back(std::move(*results[i]).value());
    }
    if (first && first->error == kAbortedMarker && lane.cancel->Cancelled()) return *first;
    if (first) {
      Emit(lane, "ParallelStateFailed",
           Json{{"parallelStateFailedEventDetails",
                 Json{{"error", first->error}, {"cause", first->cause}}}},
           s.name);
      return *first;
    }
    Emit(lane, "ParallelStateSucceeded", Json::object(), s.name);
    return out;
  }

  Outcome<Json> RunMap(const State& s, const Json& input, const Json& ctx, Lane& lane,
                       const std::string& attempt_key) {
    // The items: ItemReader (distributed), else ItemsPath on the effective input.
    Json items;
    if (s.item_reader) {
      if (opt.items == nullptr) {
        return StateError{kStatesItemReaderFailed, "no item store is configured for ItemReader"};
      }
      Json params = Json::object();
      if (s.item_reader->parameters) {
        Outcome<Json> p = s.item_reader->parameters->Evaluate(input, ctx);
        if (!p.ok()) return p.error();
        params = std::move(p).value();
      }
      Outcome<Json> read =
          opt.items->ReadItems(s.item_reader->resource, params, s.item_reader->reader_config);
      if (!read.ok()) return StateError{kStatesItemReaderFailed, read.error().cause};
      items = std::move(read).value();
      Outcome<double> max_items = ResolveNumber(s.item_reader->max_items, input, ctx, "MaxItems");
      if (!max_items.ok()) return max_items.error();
      if (max_items.value() > 0 && items.size() > static_cast<size_t>(max_items.value())) {
        items.erase(items.begin() + static_cast<ptrdiff_t>(max_items.value()), items.end());
      }
    } else if (s.items_path) {
      std::optional<Json> sel = s.items_path->Select(input, ctx);
      if (!sel) {
        return RuntimeError("Invalid path '" + s.items_path->text() +
                            "' : No results for ItemsPath");
      }
      items = std::move(*sel);
    } else {
      items = input;
    }
    if (!items.is_array()) {
      return RuntimeError("Map state '" + s.name + "': ItemsPath must select an array, got " +
                          std::string(items.type_name()));
    }
    // ItemBatcher: items become {"Items": [...], "BatchInput": ...} batches.
    if (s.item_batcher) {
      Outcome<Json> batched = Batch(s, std::move(items), input, ctx);
      if (!batched.ok()) return batched.error();
      items = std::move(batched).value();
    }
    Outcome<double> concurrency = ResolveNumber(s.max_concurrency, input, ctx, "MaxConcurrency");
    if (!concurrency.ok()) return concurrency.error();
    int limit = static_cast<int>(concurrency.value());
    if (limit <= 0) limit = opt.default_map_concurrency;

    size_t n = items.size();
    Emit(lane, "MapStateStarted",
         Json{{"mapStateStartedEventDetails", Json{{"length", static_cast<int64_t>(n)}}}}, s.name);
    int64_t started_id = lane.last_event;
    Scope scope;
    scope.parent = lane.cancel;
    Outcome<double> tol_count =
        ResolveNumber(s.tolerated_failure_count, input, ctx, "ToleratedFailureCount");
    if (!tol_count.ok()) return tol_count.error();
    Outcome<double> tol_pct =
        ResolveNumber(s.tolerated_failure_percentage, input, ctx, "ToleratedFailurePercentage");
    if (!tol_pct.ok()) return tol_pct.error();
    bool tolerant = s.distributed && (s.tolerated_failure_count.present() ||
                                      s.tolerated_failure_percentage.present());
    std::atomic<size_t> failures{0};
    auto exceeded = [&](size_t f) {
      if (!tolerant) return f > 0;
      bool over = false;
      if (s.tolerated_failure_count.present()) over = f > static_cast<size_t>(tol_count.value());
      if (s.tolerated_failure_percentage.present()) {
        over = over ||
               (n > 0 && 100.0 * static_cast<double>(f) / static_cast<double>(n) > tol_pct.value());
      }
      return over;
    };
    std::vector<std::optional<Outcome<Json>>> results(n);
    FanOut(n, limit, scope, [&](size_t i) {
      Lane it;
      it.prefix = attempt_key + "/i" + std::to_string(i) + "/";
      it.scope = (lane.scope.empty() ? "" : lane.scope + "/") + s.name + "/i" + std::to_string(i);
      it.cancel = &scope;
      it.last_event = started_id;
      // An iteration a crashed run finished is taken from its checkpoint, with no new events.
      if (const Json* done = FindCheckpoint(it.prefix + "~done")) {
        results[i].emplace(Json((*done)["o"]));
        return;
      }
      it.map_item = Json{{"Index", static_cast<int64_t>(i)}, {"Value", items[i]}};
      Emit(it, "MapIterationStarted",
           Json{{"mapIterationStartedEventDetails",
                 Json{{"name", s.name}, {"index", static_cast<int64_t>(i)}}}},
           s.name);
      Json item_input = items[i];
      if (s.item_selector) {
        Json item_ctx = ctx.is_null() ? Json::object() : ctx;
        item_ctx["Map"] = Json{{"Item", *it.map_item}};
        Outcome<Json> sel = s.item_selector->Evaluate(input, item_ctx);
        if (!sel.ok()) {
          results[i].emplace(sel.error());
        } else {
          item_input = std::move(sel).value();
        }
      }
      if (!results[i]) results[i].emplace(RunLane(*s.item_processor, std::move(item_input), it));
      const Outcome<Json>& r = *results[i];
      if (r.ok()) {
        Emit(it, "MapIterationSucceeded",
             Json{{"mapIterationSucceededEventDetails",
                   Json{{"name", s.name}, {"index", static_cast<int64_t>(i)}}}},
             s.name);
        SaveCheckpoint(it.prefix + "~done", Json{{"o", r.value()}});
      } else if (r.error().error == kAbortedMarker) {
        Emit(it, "MapIterationAborted",
             Json{{"mapIterationAbortedEventDetails",
                   Json{{"name", s.name}, {"index", static_cast<int64_t>(i)}}}},
             s.name);
      } else {
        Emit(it, "MapIterationFailed",
             Json{{"mapIterationFailedEventDetails",
                   Json{{"name", s.name}, {"index", static_cast<int64_t>(i)}}}},
             s.name);
        if (exceeded(++failures)) scope.cancelled = true;
      }
    });
    lane.last_event = std::max(lane.last_event, started_id);
    if (lane.cancel->Cancelled()) return StateError{kAbortedMarker, ""};
    Json out = Json::array();        // every item's result in order (failures as {Error, Cause})
    Json succeeded = Json::array();  // for a ResultWriter: the successes alone
    Json failed = Json::array();
    std::optional<StateError> first;
    for (size_t i = 0; i < n; ++i) {
      if (!results[i]) continue;  // not run: the Map already failed
      if (results[i]->ok()) {
        Json value = std::move(*results[i]).value();
        if (s.result_writer) succeeded.push_back(value);
        out.push_back(std::move(value));
        continue;
      }
      const StateError& e = results[i]->error();
      if (e.error == kAbortedMarker) continue;
      if (!first) first = e;
      Json err{{"Error", e.error}, {"Cause", e.cause}};
      if (tolerant) out.push_back(err);
      failed.push_back(std::move(err));
    }
    if (first && exceeded(failures.load())) {
      StateError e = *first;
      if (tolerant) {
        e = StateError{kStatesExceedToleratedFailureThreshold,
                       "The specified tolerated failure threshold was exceeded (" +
                           std::to_string(failures.load()) + " of " + std::to_string(n) +
                           " items failed)"};
      }
      Emit(lane, "MapStateFailed",
           Json{{"mapStateFailedEventDetails", Json{{"error", e.error}, {"cause", e.cause}}}},
           s.name);
      return e;
    }
    if (s.result_writer) {
      if (opt.items == nullptr) {
        return StateError{kStatesResultWriterFailed,
                          "no item store is configured for ResultWriter"};
      }
      Json params = Json::object();
      if (s.result_writer->parameters) {
        Outcome<Json> p = s.result_writer->parameters->Evaluate(input, ctx);
        if (!p.ok()) return p.error();
        params = std::move(p).value();
      }
      Outcome<Json> written = opt.items->WriteResults(s.result_writer->resource, params,
                                                      name + "/" + attempt_key, succeeded, failed);
      if (!written.ok()) return StateError{kStatesResultWriterFailed, written.error().cause};
      Emit(lane, "MapStateSucceeded", Json::object(), s.name);
      return Json{{"ResultWriterDetails", std::move(written).value()}};
    }
    Emit(lane, "MapStateSucceeded", Json::object(), s.name);
    return out;
  }

  Outcome<Json> Batch(const State& s, Json items, const Json& input, const Json& ctx) {
    const ItemBatcher& b = *s.item_batcher;
    Outcome<double> max_items =
        ResolveNumber(b.max_items_per_batch, input, ctx, "MaxItemsPerBatch");
    if (!max_items.ok()) return max_items.error();
    Outcome<double> max_bytes =
        ResolveNumber(b.max_input_bytes_per_batch, input, ctx, "MaxInputBytesPerBatch");
    if (!max_bytes.ok()) return max_bytes.error();
    Json batch_input;
    if (b.batch_input) {
      Outcome<Json> bi = b.batch_input->Evaluate(input, ctx);
      if (!bi.ok()) return bi.error();
      batch_input = std::move(bi).value();
    }
    // AWS: MaxInputBytesPerBatch defaults to (and is capped at) 256 KiB.
    size_t byte_cap =
        max_bytes.value() > 0 ? static_cast<size_t>(max_bytes.value()) : opt.max_payload_bytes;
    size_t item_cap = max_items.value() > 0 ? static_cast<size_t>(max_items.value()) : SIZE_MAX;
    Json batches = Json::array();
    Json current = Json::array();
    size_t bytes = 0;
    auto close = [&] {
      if (current.empty()) return;
      Json batch = Json::object();
      if (!batch_input.is_null()) batch["BatchInput"] = batch_input;
      batch["Items"] = std::move(current);
      batches.push_back(std::move(batch));
      current = Json::array();
      bytes = 0;
    };
    for (Json& item : items) {
      size_t size = DumpJson(item).size();
      if (size > byte_cap) {
        return StateError{kStatesDataLimitExceeded, "an item is larger than MaxInputBytesPerBatch"};
      }
      if (!current.empty() && (current.size() >= item_cap || bytes + size > byte_cap)) close();
      bytes += size;
      current.push_back(std::move(item));
    }
    close();
    return batches;
  }

  // --- the execution -------------------------------------------------------------------------

  // Runs `rec` (whose definition `parsed` is) from its start or from its checkpoints.
  Result<ExecutionResult> Execute(const ExecutionRecord& rec,
                                  std::shared_ptr<const StateMachine> parsed, bool resumed) {
    clock = ClockOr(opt.clock);
    name = rec.name;
    machine = std::move(parsed);
    Json input;
    try {
      input = Json::parse(rec.input);
    } catch (const std::exception& e) {
      return DataLossError("execution " + name + ": stored input is not JSON: " + e.what());
    }
    // Only a definition that names "$$" needs the context object built at every state.
    uses_context = rec.definition.find("$$") != std::string::npos;
    exec_context =
        Json{{"Execution", Json{{"Id", ExecutionArn(opt, rec.state_machine, name)},
                                {"Name", name},
                                {"StartTime", FormatTimestamp(rec.start_micros)},
                                {"RoleArn", ""},
                                {"RedriveCount", 0}}},
             {"StateMachine", Json{{"Id", "arn:aws:states:" + opt.region + ":" + opt.account +
                                              ":stateMachine:" + rec.state_machine},
                                   {"Name", rec.state_machine}}}};
    if (uses_context) exec_context["Execution"]["Input"] = input;
    if (machine->timeout_seconds) {
      deadline_micros = rec.start_micros + static_cast<int64_t>(*machine->timeout_seconds * 1e6);
    }
    free_threads = std::max(0, opt.max_threads - 1);

    owner = opt.owner_prefix + RandomHex(16);
    Status claimed =
        opt.history->Claim(name, owner, clock->NowMicros(), clock->NowMicros() + opt.lease_micros);
    if (claimed.code() == StatusCode::kAborted && opt.owner_is_gone) {
      // The holder may be a process killed on this machine: take over without waiting out its
      // lease.
      LOTE_ASSIGN_OR_RETURN(std::string holder, opt.history->Owner(name));
      if (!holder.empty() && opt.owner_is_gone(holder)) {
        claimed = opt.history->TakeOver(name, holder, owner, clock->NowMicros() + opt.lease_micros);
      }
    }
    if (claimed.code() == StatusCode::kFailedPrecondition) {
      // Closed between its creation and this claim (lote flow stop before it started).
      LOTE_ASSIGN_OR_RETURN(ExecutionRecord now, opt.history->Get(name));
      if (now.status != ExecutionStatus::kRunning) return Recorded(now);
    }
    LOTE_RETURN_IF_ERROR(claimed);
    Lane top;
    top.cancel = &root;
    if (resumed) {
      LOTE_ASSIGN_OR_RETURN(std::vector<Checkpoint> cps, opt.history->Checkpoints(name));
      for (Checkpoint& c : cps) checkpoints.emplace(std::move(c.key), std::move(c.value));
      int64_t last = 0;
      while (true) {
        LOTE_ASSIGN_OR_RETURN(std::vector<HistoryEvent> page,
                              opt.history->Events(name, last, 10000));
        if (page.empty()) break;
        last = page.back().id;
      }
      next_id = last + 1;
      top.last_event = 1;
    } else {
      Emit(top, "ExecutionStarted",
           Json{{"executionStartedEventDetails",
                 Json{{"input", rec.input}, {"inputDetails", PayloadDetails()}, {"roleArn", ""}}}},
           "");
    }

    // The lease renewer also watches for `lote flow stop`.
    std::mutex renew_mu;
    std::condition_variable renew_cv;
    bool finished = false;
    std::thread renewer([&] {
      std::unique_lock<std::mutex> lock(renew_mu);
      int64_t last_renew = clock->NowMicros();
      while (!renew_cv.wait_for(lock, std::chrono::milliseconds(200), [&] { return finished; })) {
        Result<std::optional<StateError>> stop = opt.history->StopRequested(name);
        if (stop.ok() && stop.value()) {
          std::lock_guard<std::mutex> g(mu);
          stop_reason = *stop.value();
          root.cancelled = true;
        }
        int64_t now = clock->NowMicros();
        if (now - last_renew >= opt.lease_micros / 3) {
          Status s = opt.history->Claim(name, owner, now, now + opt.lease_micros);
          if (!s.ok()) {
            std::lock_guard<std::mutex> g(mu);
            if (failure.ok()) failure = s;
            root.cancelled = true;
          }
          last_renew = now;
        }
      }
    });

    Outcome<Json> out = RunLane(*machine, input, top);

    {
      std::lock_guard<std::mutex> lock(renew_mu);
      finished = true;
    }
    renew_cv.notify_all();
    renewer.join();

    ExecutionResult result;
    result.resumed = resumed;
    {
      std::lock_guard<std::mutex> lock(mu);
      if (!failure.ok()) return failure;  // the history cannot be trusted: leave it RUNNING
    }
    std::optional<std::string> output;
    if (out.ok()) {
      result.status = ExecutionStatus::kSucceeded;
      output = DumpJson(out.value());
      Emit(top, "ExecutionSucceeded",
           Json{{"executionSucceededEventDetails",
                 Json{{"output", *output}, {"outputDetails", PayloadDetails()}}}},
           "");
      result.output = std::move(out).value();
    } else if (history_full) {
      result.status = ExecutionStatus::kFailed;
      result.error = RuntimeError("the execution reached the limit of " +
                                  std::to_string(opt.max_history_events) + " history events");
    } else if (timed_out) {
      result.status = ExecutionStatus::kTimedOut;
      result.error = StateError{
          kStatesTimeout, "Execution timed out after " +
                              std::to_string(static_cast<int64_t>(*machine->timeout_seconds)) +
                              " seconds"};
      Emit(top, "ExecutionTimedOut",
           Json{{"executionTimedOutEventDetails",
                 Json{{"error", result.error->error}, {"cause", result.error->cause}}}},
           "");
    } else if (stop_reason) {
      result.status = ExecutionStatus::kAborted;
      result.error = stop_reason;
      Emit(top, "ExecutionAborted",
           Json{{"executionAbortedEventDetails",
                 Json{{"error", result.error->error}, {"cause", result.error->cause}}}},
           "");
    } else {
      result.status = ExecutionStatus::kFailed;
      result.error = out.error();
    }
    if (result.status == ExecutionStatus::kFailed) {
      Emit(top, "ExecutionFailed",
           Json{{"executionFailedEventDetails",
                 Json{{"error", result.error->error}, {"cause", result.error->cause}}}},
           "");
    }
    LOTE_RETURN_IF_ERROR(Flush());
    {
      std::lock_guard<std::mutex> lock(mu);
      result.events = next_id - 1;
    }
    LOTE_RETURN_IF_ERROR(
        opt.history->Finish(name, owner, result.status, output, result.error, clock->NowMicros()));
    return result;
  }
};

Executor::Executor(ExecutorOptions options) : options_(std::move(options)) {
  if (!options_.sleep) {
    options_.sleep = [](int64_t micros) {
      std::this_thread::sleep_for(std::chrono::microseconds(micros));
    };
  }
}

Executor::~Executor() = default;

namespace {}  // namespace

Result<ExecutionResult> Executor::Run(const std::string& name, const std::string& state_machine,
                                      const std::string& definition, const Json& input) {
  if (options_.history == nullptr) return InvalidArgumentError("executor: no history store");
  if (name.empty() || name.size() > 80) {
    return InvalidArgumentError("execution name must be 1 to 80 characters");
  }
  ExecutionRecord rec;
  rec.name = name;
  rec.state_machine = state_machine;
  rec.definition = definition;
  rec.input = DumpJson(input);
  if (rec.input.size() > options_.max_payload_bytes) {
    return InvalidArgumentError("execution input is " + std::to_string(rec.input.size()) +
                                " bytes, over the limit of " +
                                std::to_string(options_.max_payload_bytes));
  }
  // Parsed before anything is recorded: an invalid definition leaves no execution behind.
  LOTE_ASSIGN_OR_RETURN(auto machine, ParseDefinition(definition, ParseOptions{state_machine}));
  rec.start_micros = ClockOr(options_.clock)->NowMicros();
  Status created = options_.history->Create(rec);
  bool resumed = false;
  if (!created.ok()) {
    if (created.code() != StatusCode::kAlreadyExists) return created;
    LOTE_ASSIGN_OR_RETURN(ExecutionRecord old, options_.history->Get(name));
    if (old.status != ExecutionStatus::kRunning || old.definition != definition ||
        old.input != rec.input) {
      return AlreadyExistsError("execution '" + name + "' already exists (" +
                                std::string(ExecutionStatusName(old.status)) +
                                (old.status == ExecutionStatus::kRunning
                                     ? ", with another definition or input)"
                                     : "); choose another --name"));
    }
    rec = std::move(old);
    resumed = true;
  }
  Impl impl(options_);
  return impl.Execute(rec, std::move(machine), resumed);
}

Result<ExecutionResult> Executor::Resume(const std::string& name) {
  if (options_.history == nullptr) return InvalidArgumentError("executor: no history store");
  LOTE_ASSIGN_OR_RETURN(ExecutionRecord rec, options_.history->Get(name));
  if (rec.status != ExecutionStatus::kRunning) return Recorded(rec);
  LOTE_ASSIGN_OR_RETURN(auto machine,
                        ParseDefinition(rec.definition, ParseOptions{"execution " + name}));
  Impl impl(options_);
  return impl.Execute(rec, std::move(machine), true);
}

}  // namespace lote::flow
