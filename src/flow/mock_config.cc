// AWS Step Functions Local's mock configuration (MockConfigFile.json, lote/flow/mock_config.h):
// Parse checks the whole file's shape, Case checks one test case against the state machine it
// runs and turns it into per-state invocation ranges, Response looks an invocation up.
#include "lote/flow/mock_config.h"

#include <algorithm>
#include <climits>

namespace lote::flow {
namespace {

// "0" or "1-3": non-negative decimal numbers, nothing else (no signs, no spaces). The numbers stay
// below INT_MAX so that `last + 1` (where the next range would start) cannot overflow.
bool ParseInvocationKey(std::string_view key, int* first, int* last) {
  auto number = [](std::string_view s, int* out) {
    if (s.empty() || s.size() > 9) return false;
    int v = 0;
    for (char c : s) {
      if (c < '0' || c > '9') return false;
      v = v * 10 + (c - '0');
    }
    *out = v;
    return true;
  };
  const size_t dash = key.find('-');
  if (dash == std::string_view::npos) {
    if (!number(key, first)) return false;
    *last = *first;
    return true;
  }
  return number(key.substr(0, dash), first) && number(key.substr(dash + 1), last);
}

// Every state named `name` in `machine`, its Parallel branches and Map item processors.
void FindStates(const StateMachine& machine, std::string_view name,
                std::vector<const State*>* found) {
  if (const State* s = machine.Find(name)) found->push_back(s);
  for (const State& s : machine.states) {
    for (const auto& branch : s.branches) {
      if (branch) FindStates(*branch, name, found);
    }
    if (s.item_processor) FindStates(*s.item_processor, name, found);
  }
}

std::string JoinKeys(const Json& object) {
  std::string out;
  for (auto it = object.begin(); it != object.end(); ++it) {
    if (!out.empty()) out += ", ";
    out += it.key();
  }
  return out;
}

// Reads one mocked response (MockedResponses.<name>) into ranges sorted by first invocation.
// Problems are appended to `errors` as "LOCATION: problem"; `ranges` is complete only without.
void ReadMockedResponse(const Json& response, const std::string& where,
                        std::vector<std::string>* errors, std::vector<MockCase::Range>* ranges) {
  if (!response.is_object()) {
    errors->push_back(where + ": expected an object of invocations (\"0\", \"1-2\", ...)");
    return;
  }
  for (auto it = response.begin(); it != response.end(); ++it) {
    const std::string at = where + "." + it.key();
    MockCase::Range range{0, 0, {}};
    if (!ParseInvocationKey(it.key(), &range.first, &range.last)) {
      errors->push_back(at + ": invocation key must be a number (\"0\") or a range (\"1-3\")");
      continue;
    }
    if (range.first > range.last) {
      errors->push_back(at + ": range ends before it starts");
      continue;
    }
    const Json& v = it.value();
    if (!v.is_object()) {
      errors->push_back(at + ": expected an object with Return or Throw");
      continue;
    }
    const bool has_return = v.contains("Return");
    const bool has_throw = v.contains("Throw");
    if (has_return == has_throw || v.size() != 1) {
      errors->push_back(
          at + ": expected Return or Throw" +
          (v.size() > 1 ? " (exactly one field; has " + JoinKeys(v) + ")" : std::string()));
      continue;
    }
    if (has_return) {
      // Any JSON value, as Step Functions Local returns it (it does not check it against the
      // service's API).
      range.response.returned = v["Return"];
    } else {
      const Json& t = v["Throw"];
      bool ok = t.is_object();
      if (ok) {
        for (auto f = t.begin(); f != t.end(); ++f) {
          if (f.key() != "Error" && f.key() != "Cause") {
            errors->push_back(at + ".Throw." + f.key() + ": unknown field (expected Error, Cause)");
            ok = false;
          }
        }
        for (const char* field : {"Error", "Cause"}) {
          if (!t.contains(field) || !t[field].is_string()) {
            errors->push_back(at + ".Throw." + field + ": expected a string");
            ok = false;
          }
        }
      } else {
        errors->push_back(at + ".Throw: expected an object with Error and Cause");
      }
      if (!ok) continue;
      range.response.thrown =
          StateError{t["Error"].get<std::string>(), t["Cause"].get<std::string>()};
    }
    ranges->push_back(std::move(range));
  }
  std::sort(ranges->begin(), ranges->end(),
            [](const MockCase::Range& a, const MockCase::Range& b) { return a.first < b.first; });
  for (size_t i = 1; i < ranges->size(); ++i) {
    const MockCase::Range& prev = (*ranges)[i - 1];
    const MockCase::Range& cur = (*ranges)[i];
    if (cur.first <= prev.last) {
      errors->push_back(where + ": invocation " + std::to_string(cur.first) +
                        " is defined twice (keys overlap)");
    }
  }
}

std::string Invocations(int first, int last) {
  return first == last ? std::to_string(first) : std::to_string(first) + "-" + std::to_string(last);
}

// Step Functions Local fails the execution (States.Runtime) when a mocked Task is invoked for a
// number its mocked response does not define: AWS's guide says "you must specify a mocked response
// for every invocation ... If you do not specify a mocked response, the state machine execution
// will fail", and emulators checked against Step Functions Local 2.0 (Floci, LocalStack) fail
// likewise, for a gap ("0" and "2" but no "1") as well as past the last key. So gaps and the tail
// are filled here with that failure instead of repeating the last response.
std::vector<MockCase::Range> WithFailures(std::vector<MockCase::Range> defined,
                                          const std::string& source, const std::string& state,
                                          const std::string& response_name) {
  auto failure = [&](int first, int last) {
    MockCase::Range r{first, last, {}};
    std::string which =
        last == INT_MAX ? std::to_string(first) + " or later" : Invocations(first, last);
    std::string defines;
    for (const auto& d : defined)
      defines += (defines.empty() ? "" : ", ") + Invocations(d.first, d.last);
    r.response.thrown = StateError{
        kStatesRuntime, source + ": mocked response '" + response_name + "' of state '" + state +
                            "' defines no response for invocation " + which + " (it defines " +
                            (defines.empty() ? std::string("none") : defines) + ")"};
    return r;
  };
  std::vector<MockCase::Range> out;
  int next = 0;
  for (auto& r : defined) {
    if (r.first > next) out.push_back(failure(next, r.first - 1));
    next = r.last + 1;
    out.push_back(r);
  }
  out.push_back(failure(next, INT_MAX));
  return out;
}

}  // namespace

const MockedResponse* MockCase::Response(std::string_view state, int invocation) const {
  auto it = states_.find(state);
  if (it == states_.end() || it->second.empty()) return nullptr;
  const std::vector<Range>& ranges = it->second;
  // The ranges cover 0..INT_MAX without holes (see WithFailures); a negative number (a caller's
  // bug) gets the tail's failure rather than running the real task.
  auto r = std::upper_bound(ranges.begin(), ranges.end(), invocation,
                            [](int inv, const Range& range) { return inv < range.first; });
  if (r == ranges.begin()) return &ranges.back().response;
  return &std::prev(r)->response;
}

bool MockCase::Mocks(std::string_view state) const { return states_.count(state) > 0; }

Result<MockConfig> MockConfig::Parse(std::string_view json_text, std::string_view source) {
  const std::string src(source);
  MockConfig config;
  config.source_ = src;
  try {
    config.doc_ = Json::parse(json_text);
  } catch (const Json::exception& e) {
    return InvalidArgumentError(src + ": invalid JSON: " + e.what());
  }
  const Json& doc = config.doc_;
  std::vector<std::string> errors;
  if (!doc.is_object()) {
    return InvalidArgumentError(src +
                                ": expected an object with StateMachines and "
                                "MockedResponses");
  }
  for (auto it = doc.begin(); it != doc.end(); ++it) {
    if (it.key() != "StateMachines" && it.key() != "MockedResponses") {
      errors.push_back(it.key() + ": unknown field (expected StateMachines, MockedResponses)");
    }
  }
  if (!doc.contains("StateMachines") || !doc["StateMachines"].is_object()) {
    errors.push_back("StateMachines: expected an object (state machine name -> TestCases)");
  } else {
    const Json& machines = doc["StateMachines"];
    for (auto m = machines.begin(); m != machines.end(); ++m) {
      const std::string at = "StateMachines." + m.key();
      const Json& sm = m.value();
      if (!sm.is_object() || !sm.contains("TestCases") || !sm["TestCases"].is_object()) {
        errors.push_back(at + ".TestCases: expected an object (test case name -> state mocks)");
        continue;
      }
      for (auto f = sm.begin(); f != sm.end(); ++f) {
        if (f.key() != "TestCases") {
          errors.push_back(at + "." + f.key() + ": unknown field (expected TestCases)");
        }
      }
      const Json& cases = sm["TestCases"];
      for (auto c = cases.begin(); c != cases.end(); ++c) {
        const std::string case_at = at + ".TestCases." + c.key();
        if (!c.value().is_object()) {
          errors.push_back(case_at + ": expected an object (state name -> mocked response name)");
          continue;
        }
        for (auto s = c.value().begin(); s != c.value().end(); ++s) {
          if (!s.value().is_string()) {
            errors.push_back(case_at + "." + s.key() + ": expected a mocked response's name");
          }
        }
      }
    }
  }
  if (!doc.contains("MockedResponses") || !doc["MockedResponses"].is_object()) {
    errors.push_back("MockedResponses: expected an object (response name -> invocations)");
  } else {
    const Json& responses = doc["MockedResponses"];
    for (auto r = responses.begin(); r != responses.end(); ++r) {
      std::vector<MockCase::Range> ignored;
      ReadMockedResponse(r.value(), "MockedResponses." + r.key(), &errors, &ignored);
    }
  }
  if (!errors.empty()) {
    std::string message;
    for (const std::string& e : errors) {
      if (!message.empty()) message += "\n";
      message += src + ": " + e;
    }
    return InvalidArgumentError(message);
  }
  return config;
}

Result<MockCase> MockConfig::Case(std::string_view state_machine, std::string_view test_case,
                                  const StateMachine& machine) const {
  if (!doc_.is_object()) return FailedPreconditionError("mock configuration used before Parse");
  const Json& machines = doc_["StateMachines"];
  std::string sm_name(state_machine);
  if (sm_name.empty()) {
    if (machines.size() != 1) {
      return InvalidArgumentError(source_ + ": StateMachines: the file mocks " +
                                  std::to_string(machines.size()) + " state machines (" +
                                  JoinKeys(machines) + "): name the one to run");
    }
    sm_name = machines.begin().key();
  }
  if (!machines.contains(sm_name)) {
    return NotFoundError(source_ + ": StateMachines: no state machine named '" + sm_name +
                         "' (the file mocks: " + JoinKeys(machines) + ")");
  }
  const Json& cases = machines[sm_name]["TestCases"];
  const std::string case_name(test_case);
  const std::string sm_at = "StateMachines." + sm_name + ".TestCases";
  if (!cases.contains(case_name)) {
    return NotFoundError(source_ + ": " + sm_at + ": no test case named '" + case_name +
                         "' (the file has: " + JoinKeys(cases) + ")");
  }
  const Json& responses = doc_["MockedResponses"];
  const std::string case_at = sm_at + "." + case_name;
  std::vector<std::string> errors;
  MockCase out;
  const Json& mocks = cases[case_name];
  for (auto it = mocks.begin(); it != mocks.end(); ++it) {
    const std::string& state = it.key();
    const std::string response_name = it.value().get<std::string>();
    const std::string at = source_ + ": " + case_at + "." + state;
    std::vector<const State*> found;
    FindStates(machine, state, &found);
    if (found.empty()) {
      errors.push_back(at + ": no state named '" + state + "' in the state machine");
      continue;
    }
    bool all_tasks = true;
    for (const State* s : found) {
      if (s->type != StateType::kTask) {
        errors.push_back(at + ": state '" + state + "' is a " +
                         std::string(StateTypeName(s->type)) +
                         " state; only Task states can be mocked");
        all_tasks = false;
        break;
      }
    }
    if (!all_tasks) continue;
    if (!responses.contains(response_name)) {
      errors.push_back(at + ": no mocked response named '" + response_name +
                       "' in MockedResponses");
      continue;
    }
    std::vector<MockCase::Range> ranges;
    std::vector<std::string> ignored;  // Parse checked every mocked response already
    ReadMockedResponse(responses[response_name], "MockedResponses." + response_name, &ignored,
                       &ranges);
    out.states_[state] = WithFailures(std::move(ranges), source_, state, response_name);
  }
  if (!errors.empty()) {
    std::string message;
    for (const std::string& e : errors) message += (message.empty() ? "" : "\n") + e;
    return InvalidArgumentError(message);
  }
  return out;
}

}  // namespace lote::flow
