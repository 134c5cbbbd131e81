// Parses and validates Amazon States Language definitions (JSONPath flavour) into StateMachine,
// as AWS's ValidateStateMachineDefinition does, collecting every problem with its location;
// and fills CloudFormation-style "${Name}" definition substitutions.
#include "lote/flow/definition.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <set>
#include <utility>

namespace lote::flow {
namespace {

// Bits of StateType, to say which state types allow a field.
constexpr unsigned kTask = 1u << static_cast<int>(StateType::kTask);
constexpr unsigned kPass = 1u << static_cast<int>(StateType::kPass);
constexpr unsigned kChoice = 1u << static_cast<int>(StateType::kChoice);
constexpr unsigned kWait = 1u << static_cast<int>(StateType::kWait);
constexpr unsigned kSucceed = 1u << static_cast<int>(StateType::kSucceed);
constexpr unsigned kFail = 1u << static_cast<int>(StateType::kFail);
constexpr unsigned kParallel = 1u << static_cast<int>(StateType::kParallel);
constexpr unsigned kMap = 1u << static_cast<int>(StateType::kMap);
constexpr unsigned kAllTypes =
    kTask | kPass | kChoice | kWait | kSucceed | kFail | kParallel | kMap;
constexpr unsigned kTransitions = kTask | kPass | kWait | kParallel | kMap;

unsigned Bit(StateType type) { return 1u << static_cast<int>(type); }

// The fields of a state (JSONPath flavour) and the state types that allow each, after AWS's
// "State machine structure" field tables.
struct FieldRule {
  const char* name;
  unsigned types;
};
constexpr FieldRule kStateFields[] = {
    {"Type", kAllTypes},
    {"Comment", kAllTypes},
    {"QueryLanguage", kAllTypes},
    {"Next", kTransitions},
    {"End", kTransitions},
    {"InputPath", kAllTypes & ~kFail},
    {"OutputPath", kAllTypes & ~kFail},
    {"ResultPath", kTask | kPass | kParallel | kMap},
    {"Parameters", kTask | kPass | kParallel | kMap},
    {"ResultSelector", kTask | kParallel | kMap},
    {"Retry", kTask | kParallel | kMap},
    {"Catch", kTask | kParallel | kMap},
    {"Result", kPass},
    {"Resource", kTask},
    {"TimeoutSeconds", kTask},
    {"TimeoutSecondsPath", kTask},
    {"HeartbeatSeconds", kTask},
    {"HeartbeatSecondsPath", kTask},
    {"Credentials", kTask},
    {"Choices", kChoice},
    {"Default", kChoice},
    {"Seconds", kWait},
    {"Timestamp", kWait},
    {"SecondsPath", kWait},
    {"TimestampPath", kWait},
    {"Error", kFail},
    {"ErrorPath", kFail},
    {"Cause", kFail},
    {"CausePath", kFail},
    {"Branches", kParallel},
    {"ItemProcessor", kMap},
    {"Iterator", kMap},
    {"ItemsPath", kMap},
    {"ItemSelector", kMap},
    {"MaxConcurrency", kMap},
    {"MaxConcurrencyPath", kMap},
    {"ItemReader", kMap},
    {"ItemBatcher", kMap},
    {"ResultWriter", kMap},
    {"ToleratedFailureCount", kMap},
    {"ToleratedFailureCountPath", kMap},
    {"ToleratedFailurePercentage", kMap},
    {"ToleratedFailurePercentagePath", kMap},
    {"Label", kMap},
};

constexpr char kJsonataRefused[] =
    "JSONata is not supported: lote runs JSONPath definitions (set QueryLanguage to \"JSONPath\" "
    "or remove it)";
constexpr char kJsonataField[] = "a JSONata field; lote runs JSONPath definitions";
constexpr char kAssignRefused[] = "workflow variables (Assign) are not supported by lote";

// Fields AWS knows that lote refuses, with the reason (instead of "unknown field").
const char* RefusedField(std::string_view name) {
  if (name == "Arguments" || name == "Output" || name == "Items") return kJsonataField;
  if (name == "Assign") return kAssignRefused;
  return nullptr;
}

const FieldRule* FindField(std::string_view name) {
  for (const FieldRule& rule : kStateFields) {
    if (name == rule.name) return &rule;
  }
  return nullptr;
}

// AWS's upper bound for seconds fields (TimeoutSeconds, Seconds, IntervalSeconds, ...).
constexpr double kMaxSeconds = 99999999;
constexpr size_t kMaxStateNameLength = 80;
// How deep Parallel branches and Map processors may nest (AWS documents no limit).
constexpr int kMaxStateNesting = 64;
constexpr size_t kMaxLabelLength = 40;
constexpr double kMaxBatchBytes = 262144;
constexpr double kMaxReaderItems = 100000000;
// MaxDelaySeconds must be below one year and a day (AWS: "less than 31622401").
constexpr double kMaxDelaySecondsLimit = 31622400;

std::string JsonTypeName(const Json& v) {
  if (v.is_null()) return "null";
  if (v.is_boolean()) return "a boolean";
  if (v.is_number()) return "a number";
  if (v.is_string()) return "a string";
  if (v.is_array()) return "an array";
  return "an object";
}

std::string FormatNumber(double v) {
  if (std::floor(v) == v && std::fabs(v) < 1e15) return std::to_string(static_cast<int64_t>(v));
  return Json(v).dump();
}

// Which kind of (sub-)machine is parsed: its allowed top-level fields differ.
enum class MachineKind { kTop, kBranch, kItemProcessor, kIterator };

class DefinitionParser {
 public:
  explicit DefinitionParser(std::string source) : source_(std::move(source)) {}

  const std::vector<std::string>& problems() const { return problems_; }

  void Add(std::string_view location, std::string_view problem) {
    problems_.push_back(source_ + ": " + std::string(location) + ": " + std::string(problem));
  }

  // A Status from another parser: keeps its message when it already names `location` (payload
  // templates and choice rules name their own keys), else puts `location` before it.
  void AddStatus(const std::string& location, const Status& status) {
    const std::string& m = status.message();
    if (m.size() > location.size() && m.compare(0, location.size(), location) == 0 &&
        std::string_view(".[:").find(m[location.size()]) != std::string_view::npos) {
      problems_.push_back(source_ + ": " + m);
    } else {
      Add(location, m);
    }
  }

  std::shared_ptr<StateMachine> Machine(const Json& j, const std::string& prefix, MachineKind kind);

 private:
  // Field readers: each reports a wrong type or range under `loc` and returns nullopt then.
  std::optional<std::string> String(const Json& v, const std::string& loc) {
    if (!v.is_string()) {
      Add(loc, "expected a string, got " + JsonTypeName(v));
      return std::nullopt;
    }
    return v.get<std::string>();
  }
  std::optional<bool> Bool(const Json& v, const std::string& loc) {
    if (!v.is_boolean()) {
      Add(loc, "expected a boolean, got " + JsonTypeName(v));
      return std::nullopt;
    }
    return v.get<bool>();
  }
  // A number (an integer when `integer`) in [min, max].
  std::optional<double> Number(const Json& v, const std::string& loc, bool integer, double min,
                               double max) {
    const char* what = integer ? "an integer" : "a number";
    if (!v.is_number()) {
      Add(loc, std::string("expected ") + what + ", got " + JsonTypeName(v));
      return std::nullopt;
    }
    double d = v.get<double>();
    if (!std::isfinite(d) || (integer && std::floor(d) != d)) {
      Add(loc, std::string("expected ") + what + ", got " + v.dump());
      return std::nullopt;
    }
    if (d < min || d > max) {
      Add(loc, "must be between " + FormatNumber(min) + " and " + FormatNumber(max) + ", got " +
                   v.dump());
      return std::nullopt;
    }
    return d;
  }
  // A JSONPath string; `reference`: names and indexes only; `allow_context`: may start "$$".
  std::optional<JsonPath> Path(const Json& v, const std::string& loc, bool reference,
                               bool allow_context) {
    auto text = String(v, loc);
    if (!text) return std::nullopt;
    Result<JsonPath> path = JsonPath::Parse(*text);
    if (!path.ok()) {
      AddStatus(loc, path.status());
      return std::nullopt;
    }
    if (!allow_context && path->is_context()) {
      Add(loc, "must be a path on the state's input ($...), not a context object path ($$...)");
      return std::nullopt;
    }
    if (reference && !path->is_reference()) {
      Add(loc,
          "must be a reference path (names and indexes only, no wildcards, filters, "
          "slices or unions), got '" +
              *text + "'");
      return std::nullopt;
    }
    return std::move(path).value();
  }
  std::optional<PayloadTemplate> Template(const Json& v, const std::string& loc, bool object_only) {
    if (object_only && !v.is_object()) {
      Add(loc, "expected an object, got " + JsonTypeName(v));
      return std::nullopt;
    }
    Result<PayloadTemplate> t = PayloadTemplate::Parse(v, loc);
    if (!t.ok()) {
      AddStatus(loc, t.status());
      return std::nullopt;
    }
    return std::move(t).value();
  }
  // An object's fields not in `allowed` are reported as unknown.
  // `prefix` is the object's location with its trailing '.' ("" at the top level).
  void CheckKeys(const Json& obj, const std::string& prefix,
                 std::initializer_list<std::string_view> allowed) {
    for (auto it = obj.begin(); it != obj.end(); ++it) {
      if (std::find(allowed.begin(), allowed.end(), it.key()) != allowed.end()) continue;
      const char* refused = RefusedField(it.key());
      Add(prefix + it.key(), refused ? refused : "unknown field");
    }
  }
  // "X" or "XPath" (exclusive), e.g. TimeoutSeconds / TimeoutSecondsPath.
  NumberField NumberOrPath(const Json& obj, const std::string& loc, const std::string& name,
                           bool integer, double min, double max) {
    NumberField field;
    const std::string path_name = name + "Path";
    if (obj.contains(name) && obj.contains(path_name)) {
      Add(loc, name + " and " + path_name + " are exclusive");
    }
    if (obj.contains(name)) field.value = Number(obj[name], loc + "." + name, integer, min, max);
    if (obj.contains(path_name)) {
      field.path = Path(obj[path_name], loc + "." + path_name, true, true);
    }
    return field;
  }
  PathField InOutPath(const Json& v, const std::string& loc) {
    PathField field;
    if (v.is_null()) {
      field.is_null = true;
    } else {
      field.path = Path(v, loc, false, true);
    }
    return field;
  }
  ResultPathField ResultPathOf(const Json& v, const std::string& loc) {
    ResultPathField field;
    if (v.is_null()) {
      field.discard = true;
    } else {
      field.path = Path(v, loc, true, false);
    }
    return field;
  }
  std::vector<std::string> ErrorEquals(const Json& obj, const std::string& loc, bool last,
                                       const char* what);
  std::vector<Retrier> Retry(const Json& v, const std::string& loc);
  std::vector<Catcher> Catch(const Json& v, const std::string& loc);
  State ParseState(const std::string& name, const Json& s, const std::string& prefix);
  void ParseTask(const Json& s, const std::string& loc, State& state);
  void ParseWait(const Json& s, const std::string& loc, State& state);
  void ParseFail(const Json& s, const std::string& loc, State& state);
  void ParseMap(const Json& s, const std::string& loc, State& state);
  std::optional<ItemReader> ParseItemReader(const Json& v, const std::string& loc);
  std::optional<ItemBatcher> ParseItemBatcher(const Json& v, const std::string& loc);
  std::optional<ResultWriter> ParseResultWriter(const Json& v, const std::string& loc);
  void CheckTargets(const StateMachine& m, const std::string& prefix);

  std::string source_;
  std::vector<std::string> problems_;
  // Every state name seen so far in the whole definition -> where (names are global in AWS).
  std::unordered_map<std::string, std::string> names_;
  int depth_ = 0;
};

std::shared_ptr<StateMachine> DefinitionParser::Machine(const Json& j, const std::string& prefix,
                                                        MachineKind kind) {
  auto machine = std::make_shared<StateMachine>();
  // "States.Fan.Branches[0]." names the machine as "States.Fan.Branches[0]".
  const std::string self = prefix.empty() ? "(top level)" : prefix.substr(0, prefix.size() - 1);
  if (!j.is_object()) {
    Add(self, "expected a JSON object, got " + JsonTypeName(j));
    return machine;
  }
  // Sub-machines are parsed recursively; a bound keeps a hostile definition off the stack's end.
  if (depth_ >= kMaxStateNesting) {
    Add(self, "nested deeper than " + std::to_string(kMaxStateNesting) + " Parallel/Map levels");
    return machine;
  }
  ++depth_;
  struct Leave {
    int& depth;
    ~Leave() { --depth; }
  } leave{depth_};
  switch (kind) {
    case MachineKind::kTop:
      CheckKeys(j, prefix,
                {"StartAt", "States", "Comment", "Version", "TimeoutSeconds", "QueryLanguage"});
      break;
    case MachineKind::kBranch:
    case MachineKind::kIterator:
      CheckKeys(j, prefix, {"StartAt", "States", "Comment"});
      break;
    case MachineKind::kItemProcessor:
      CheckKeys(j, prefix, {"StartAt", "States", "Comment", "ProcessorConfig"});
      break;
  }
  if (kind == MachineKind::kTop) {
    if (j.contains("QueryLanguage")) {
      auto ql = String(j["QueryLanguage"], "QueryLanguage");
      if (ql == "JSONata") {
        // Everything else would be judged by JSONPath rules and drown the one real problem.
        Add("QueryLanguage", kJsonataRefused);
        return machine;
      }
      if (ql && *ql != "JSONPath") Add("QueryLanguage", "expected \"JSONPath\", got '" + *ql + "'");
    }
    if (j.contains("Version")) String(j["Version"], "Version");
    if (j.contains("TimeoutSeconds")) {
      machine->timeout_seconds =
          Number(j["TimeoutSeconds"], "TimeoutSeconds", true, 1, kMaxSeconds);
    }
  }
  if (j.contains("Comment")) {
    machine->comment = String(j["Comment"], prefix + "Comment").value_or("");
  }
  if (!j.contains("StartAt")) {
    Add(prefix + "StartAt", "required");
  } else {
    machine->start_at = String(j["StartAt"], prefix + "StartAt").value_or("");
  }
  if (!j.contains("States")) {
    Add(prefix + "States", "required");
    return machine;
  }
  const Json& states = j["States"];
  if (!states.is_object() || states.empty()) {
    Add(prefix + "States", "expected a non-empty object of states, got " +
                               (states.is_object() ? std::string("{}") : JsonTypeName(states)));
    return machine;
  }
  for (auto it = states.begin(); it != states.end(); ++it) {
    machine->index.emplace(it.key(), machine->states.size());
    machine->states.push_back(ParseState(it.key(), it.value(), prefix));
  }
  CheckTargets(*machine, prefix);
  return machine;
}

// Next / Default / Choices[].Next / Catch[].Next name states of this machine; every state is
// reachable from StartAt; the machine has a terminal state.
void DefinitionParser::CheckTargets(const StateMachine& m, const std::string& prefix) {
  const bool start_ok = !m.start_at.empty() && m.Find(m.start_at) != nullptr;
  if (!m.start_at.empty() && !start_ok) {
    Add(prefix + "StartAt", "no state named '" + m.start_at + "'");
  }
  std::vector<std::vector<size_t>> edges(m.states.size());
  bool has_terminal = false;
  for (size_t i = 0; i < m.states.size(); ++i) {
    const State& s = m.states[i];
    const std::string loc = prefix + "States." + s.name;
    auto target = [&](const std::string& next, const std::string& where) {
      if (next.empty()) return;
      auto it = m.index.find(next);
      if (it == m.index.end()) {
        Add(loc + where, "no state named '" + next + "'");
      } else {
        edges[i].push_back(it->second);
      }
    };
    target(s.next, ".Next");
    target(s.default_next, ".Default");
    for (size_t c = 0; c < s.choices.size(); ++c) {
      target(s.choices[c].next(), ".Choices[" + std::to_string(c) + "].Next");
    }
    for (size_t c = 0; c < s.catchers.size(); ++c) {
      target(s.catchers[c].next, ".Catch[" + std::to_string(c) + "].Next");
    }
    if (s.end || s.type == StateType::kSucceed || s.type == StateType::kFail) has_terminal = true;
  }
  if (!has_terminal) {
    Add(prefix + "States",
        "no terminal state (one with End, or a Succeed or Fail state): the machine cannot finish");
  }
  if (!start_ok) return;  // reachability means nothing without a start
  std::vector<bool> seen(m.states.size(), false);
  std::deque<size_t> queue = {m.index.at(m.start_at)};
  seen[queue.front()] = true;
  while (!queue.empty()) {
    size_t at = queue.front();
    queue.pop_front();
    for (size_t to : edges[at]) {
      if (!seen[to]) {
        seen[to] = true;
        queue.push_back(to);
      }
    }
  }
  for (size_t i = 0; i < m.states.size(); ++i) {
    if (!seen[i]) Add(prefix + "States." + m.states[i].name, "not reachable from StartAt");
  }
}

State DefinitionParser::ParseState(const std::string& name, const Json& s,
                                   const std::string& prefix) {
  State state;
  state.name = name;
  const std::string loc = prefix + "States." + name;
  if (name.empty()) Add(loc, "a state name must not be empty");
  if (name.size() > kMaxStateNameLength) {
    Add(loc, "state name is " + std::to_string(name.size()) + " characters long (at most " +
                 std::to_string(kMaxStateNameLength) + ")");
  }
  auto [seen, inserted] = names_.emplace(name, loc);
  if (!inserted) {
    Add(loc, "state name '" + name + "' is already used at " + seen->second +
                 " (state names are unique across the whole definition)");
  }
  if (!s.is_object()) {
    Add(loc, "expected a JSON object, got " + JsonTypeName(s));
    return state;
  }
  // Next is read even for a state whose type is wrong, so its target is not called unreachable.
  auto read_transition = [&](bool report) {
    if (s.contains("Next")) {
      auto next = report ? String(s["Next"], loc + ".Next")
                         : (s["Next"].is_string() ? std::optional(s["Next"].get<std::string>())
                                                  : std::nullopt);
      state.next = next.value_or("");
    }
    if (s.contains("End")) {
      auto end = report
                     ? Bool(s["End"], loc + ".End")
                     : (s["End"].is_boolean() ? std::optional(s["End"].get<bool>()) : std::nullopt);
      state.end = end.value_or(false);
    }
  };
  if (!s.contains("Type")) {
    Add(loc + ".Type", "required");
    read_transition(false);
    return state;
  }
  auto type = String(s["Type"], loc + ".Type");
  if (!type) {
    read_transition(false);
    return state;
  }
  static const std::pair<const char*, StateType> kTypes[] = {
      {"Task", StateType::kTask},         {"Pass", StateType::kPass},
      {"Choice", StateType::kChoice},     {"Wait", StateType::kWait},
      {"Succeed", StateType::kSucceed},   {"Fail", StateType::kFail},
      {"Parallel", StateType::kParallel}, {"Map", StateType::kMap},
  };
  bool known = false;
  for (const auto& [type_name, t] : kTypes) {
    if (*type == type_name) {
      state.type = t;
      known = true;
    }
  }
  if (!known) {
    Add(loc + ".Type", "unknown state type '" + *type +
                           "' (expected Task, Pass, Choice, Wait, Succeed, Fail, Parallel or Map)");
    read_transition(false);
    return state;
  }
  if (s.contains("QueryLanguage")) {
    auto ql = String(s["QueryLanguage"], loc + ".QueryLanguage");
    if (ql == "JSONata") {
      Add(loc + ".QueryLanguage", kJsonataRefused);
      read_transition(false);
      return state;
    }
    if (ql && *ql != "JSONPath") {
      Add(loc + ".QueryLanguage", "expected \"JSONPath\", got '" + *ql + "'");
    }
  }
  const std::string type_name(StateTypeName(state.type));
  for (auto it = s.begin(); it != s.end(); ++it) {
    const FieldRule* rule = FindField(it.key());
    if (rule == nullptr) {
      const char* refused = RefusedField(it.key());
      Add(loc + "." + it.key(), refused ? refused : "unknown field");
    } else if ((rule->types & Bit(state.type)) == 0) {
      Add(loc + "." + it.key(), "not allowed in a " + type_name + " state");
    }
  }
  // From here on only the fields this type allows are read (the others were reported above).
  const unsigned bit = Bit(state.type);
  auto has = [&](const char* field) {
    return s.contains(field) && (FindField(field)->types & bit);
  };

  if (s.contains("Comment")) state.comment = String(s["Comment"], loc + ".Comment").value_or("");
  if (bit & kTransitions) {
    read_transition(true);
    if (!state.next.empty() && state.end) {
      Add(loc, "Next and End are exclusive");
    } else if (!state.end && !s.contains("Next")) {
      Add(loc, "a " + type_name + " state needs Next or \"End\": true");
    }
  }
  if (has("InputPath")) state.input_path = InOutPath(s["InputPath"], loc + ".InputPath");
  if (has("OutputPath")) state.output_path = InOutPath(s["OutputPath"], loc + ".OutputPath");
  if (has("ResultPath")) state.result_path = ResultPathOf(s["ResultPath"], loc + ".ResultPath");
  if (has("Parameters") && state.type != StateType::kMap) {
    state.parameters = Template(s["Parameters"], loc + ".Parameters", false);
  }
  if (has("ResultSelector")) {
    state.result_selector = Template(s["ResultSelector"], loc + ".ResultSelector", true);
  }
  if (has("Retry")) state.retry = Retry(s["Retry"], loc + ".Retry");
  if (has("Catch")) state.catchers = Catch(s["Catch"], loc + ".Catch");

  switch (state.type) {
    case StateType::kPass:
      if (s.contains("Result")) state.result = s["Result"];
      break;
    case StateType::kTask:
      ParseTask(s, loc, state);
      break;
    case StateType::kChoice: {
      if (!s.contains("Choices")) {
        Add(loc + ".Choices", "required");
      } else if (!s["Choices"].is_array() || s["Choices"].empty()) {
        Add(loc + ".Choices",
            "expected a non-empty array of choice rules, got " +
                (s["Choices"].is_array() ? std::string("[]") : JsonTypeName(s["Choices"])));
      } else {
        const Json& choices = s["Choices"];
        for (size_t i = 0; i < choices.size(); ++i) {
          const std::string where = loc + ".Choices[" + std::to_string(i) + "]";
          Result<ChoiceRule> rule = ChoiceRule::Parse(choices[i], true, where);
          if (rule.ok()) {
            state.choices.push_back(std::move(rule).value());
          } else {
            AddStatus(where, rule.status());
          }
        }
      }
      if (s.contains("Default")) {
        state.default_next = String(s["Default"], loc + ".Default").value_or("");
      }
      break;
    }
    case StateType::kWait:
      ParseWait(s, loc, state);
      break;
    case StateType::kSucceed:
      break;
    case StateType::kFail:
      ParseFail(s, loc, state);
      break;
    case StateType::kParallel: {
      if (!s.contains("Branches")) {
        Add(loc + ".Branches", "required");
        break;
      }
      const Json& branches = s["Branches"];
      if (!branches.is_array() || branches.empty()) {
        Add(loc + ".Branches",
            "expected a non-empty array of state machines, got " +
                (branches.is_array() ? std::string("[]") : JsonTypeName(branches)));
        break;
      }
      for (size_t i = 0; i < branches.size(); ++i) {
        state.branches.push_back(Machine(branches[i], loc + ".Branches[" + std::to_string(i) + "].",
                                         MachineKind::kBranch));
      }
      break;
    }
    case StateType::kMap:
      ParseMap(s, loc, state);
      break;
  }
  return state;
}

void DefinitionParser::ParseTask(const Json& s, const std::string& loc, State& state) {
  if (!s.contains("Resource")) {
    Add(loc + ".Resource", "required");
  } else {
    state.resource = String(s["Resource"], loc + ".Resource").value_or("");
  }
  state.timeout_seconds = NumberOrPath(s, loc, "TimeoutSeconds", true, 1, kMaxSeconds);
  state.heartbeat_seconds = NumberOrPath(s, loc, "HeartbeatSeconds", true, 1, kMaxSeconds);
  // AWS: HeartbeatSeconds must be smaller than TimeoutSeconds (default 99999999). When either is
  // a path the comparison can only happen at run time.
  if (state.heartbeat_seconds.value) {
    double timeout = state.timeout_seconds.value.value_or(kMaxSeconds);
    if (!state.timeout_seconds.path && *state.heartbeat_seconds.value >= timeout) {
      Add(loc + ".HeartbeatSeconds", "must be smaller than TimeoutSeconds (" +
                                         FormatNumber(timeout) + "), got " +
                                         FormatNumber(*state.heartbeat_seconds.value));
    }
  }
  if (s.contains("Credentials")) {
    if (!s["Credentials"].is_object()) {
      Add(loc + ".Credentials", "expected an object, got " + JsonTypeName(s["Credentials"]));
    } else {
      state.credentials = s["Credentials"];
    }
  }
}

void DefinitionParser::ParseWait(const Json& s, const std::string& loc, State& state) {
  int given = 0;
  for (const char* f : {"Seconds", "Timestamp", "SecondsPath", "TimestampPath"}) {
    if (s.contains(f)) ++given;
  }
  if (given != 1) {
    Add(loc, "a Wait state needs exactly one of Seconds, Timestamp, SecondsPath, TimestampPath" +
                 std::string(given == 0 ? "" : " (" + std::to_string(given) + " given)"));
  }
  if (s.contains("Seconds")) {
    state.seconds = Number(s["Seconds"], loc + ".Seconds", true, 0, kMaxSeconds);
  }
  if (s.contains("Timestamp")) {
    auto text = String(s["Timestamp"], loc + ".Timestamp");
    if (text) {
      state.timestamp_micros = ParseTimestamp(*text);
      if (!state.timestamp_micros) {
        Add(loc + ".Timestamp",
            "not an RFC 3339 timestamp (e.g. \"2016-03-14T01:59:00Z\"): '" + *text + "'");
      }
    }
  }
  if (s.contains("SecondsPath")) {
    state.seconds_path = Path(s["SecondsPath"], loc + ".SecondsPath", true, true);
  }
  if (s.contains("TimestampPath")) {
    state.timestamp_path = Path(s["TimestampPath"], loc + ".TimestampPath", true, true);
  }
}

void DefinitionParser::ParseFail(const Json& s, const std::string& loc, State& state) {
  for (const char* name : {"Error", "Cause"}) {
    const std::string path_name = std::string(name) + "Path";
    std::optional<std::string>& literal = name[0] == 'E' ? state.error : state.cause;
    std::optional<PathOrIntrinsic>& path = name[0] == 'E' ? state.error_path : state.cause_path;
    if (s.contains(name) && s.contains(path_name)) {
      Add(loc, std::string(name) + " and " + path_name + " are exclusive");
    }
    if (s.contains(name)) literal = String(s[name], loc + "." + name);
    if (s.contains(path_name)) {
      auto text = String(s[path_name], loc + "." + path_name);
      if (text) {
        Result<PathOrIntrinsic> p = PathOrIntrinsic::Parse(*text);
        if (p.ok()) {
          path = std::move(p).value();
        } else {
          AddStatus(loc + "." + path_name, p.status());
        }
      }
    }
  }
}

std::vector<std::string> DefinitionParser::ErrorEquals(const Json& obj, const std::string& loc,
                                                       bool last, const char* what) {
  std::vector<std::string> errors;
  const std::string where = loc + ".ErrorEquals";
  if (!obj.contains("ErrorEquals")) {
    Add(where, "required");
    return errors;
  }
  const Json& v = obj["ErrorEquals"];
  if (!v.is_array() || v.empty()) {
    Add(where, "expected a non-empty array of error names, got " +
                   (v.is_array() ? std::string("[]") : JsonTypeName(v)));
    return errors;
  }
  for (size_t i = 0; i < v.size(); ++i) {
    auto name = String(v[i], where + "[" + std::to_string(i) + "]");
    if (name) errors.push_back(*name);
  }
  if (std::find(errors.begin(), errors.end(), kStatesAll) != errors.end()) {
    if (v.size() > 1) Add(where, "States.ALL must appear alone in ErrorEquals");
    if (!last) {
      Add(where, std::string("States.ALL must be in the last ") + what + " (it matches any error)");
    }
  }
  return errors;
}

std::vector<Retrier> DefinitionParser::Retry(const Json& v, const std::string& loc) {
  std::vector<Retrier> out;
  if (!v.is_array()) {
    Add(loc, "expected an array of retriers, got " + JsonTypeName(v));
    return out;
  }
  for (size_t i = 0; i < v.size(); ++i) {
    const std::string at = loc + "[" + std::to_string(i) + "]";
    const Json& r = v[i];
    if (!r.is_object()) {
      Add(at, "expected an object, got " + JsonTypeName(r));
      continue;
    }
    CheckKeys(r, at + ".",
              {"ErrorEquals", "IntervalSeconds", "MaxAttempts", "BackoffRate", "MaxDelaySeconds",
               "JitterStrategy", "Comment"});
    Retrier retrier;
    retrier.error_equals = ErrorEquals(r, at, i + 1 == v.size(), "retrier");
    if (r.contains("IntervalSeconds")) {
      retrier.interval_seconds =
          Number(r["IntervalSeconds"], at + ".IntervalSeconds", true, 1, kMaxSeconds).value_or(1);
    }
    if (r.contains("MaxAttempts")) {
      retrier.max_attempts = static_cast<int>(
          Number(r["MaxAttempts"], at + ".MaxAttempts", true, 0, kMaxSeconds).value_or(3));
    }
    if (r.contains("BackoffRate")) {
      retrier.backoff_rate =
          Number(r["BackoffRate"], at + ".BackoffRate", false, 1.0, 1e9).value_or(2.0);
    }
    if (r.contains("MaxDelaySeconds")) {
      retrier.max_delay_seconds =
          Number(r["MaxDelaySeconds"], at + ".MaxDelaySeconds", true, 1, kMaxDelaySecondsLimit);
    }
    if (r.contains("JitterStrategy")) {
      auto jitter = String(r["JitterStrategy"], at + ".JitterStrategy");
      if (jitter == "FULL") {
        retrier.full_jitter = true;
      } else if (jitter && *jitter != "NONE") {
        Add(at + ".JitterStrategy", "expected \"FULL\" or \"NONE\", got '" + *jitter + "'");
      }
    }
    if (r.contains("Comment")) String(r["Comment"], at + ".Comment");
    out.push_back(std::move(retrier));
  }
  return out;
}

std::vector<Catcher> DefinitionParser::Catch(const Json& v, const std::string& loc) {
  std::vector<Catcher> out;
  if (!v.is_array()) {
    Add(loc, "expected an array of catchers, got " + JsonTypeName(v));
    return out;
  }
  for (size_t i = 0; i < v.size(); ++i) {
    const std::string at = loc + "[" + std::to_string(i) + "]";
    const Json& c = v[i];
    if (!c.is_object()) {
      Add(at, "expected an object, got " + JsonTypeName(c));
      continue;
    }
    CheckKeys(c, at + ".", {"ErrorEquals", "Next", "ResultPath", "Comment"});
    Catcher catcher;
    catcher.error_equals = ErrorEquals(c, at, i + 1 == v.size(), "catcher");
    if (!c.contains("Next")) {
      Add(at + ".Next", "required");
    } else {
      catcher.next = String(c["Next"], at + ".Next").value_or("");
    }
    if (c.contains("ResultPath"))
      catcher.result_path = ResultPathOf(c["ResultPath"], at + ".ResultPath");
    if (c.contains("Comment")) String(c["Comment"], at + ".Comment");
    out.push_back(std::move(catcher));
  }
  return out;
}

void DefinitionParser::ParseMap(const Json& s, const std::string& loc, State& state) {
  // The sub-machine first: whether it is DISTRIBUTED decides which other fields are allowed.
  if (s.contains("ItemProcessor") && s.contains("Iterator")) {
    Add(loc, "ItemProcessor and Iterator are exclusive (Iterator is the older name)");
  }
  if (s.contains("ItemProcessor")) {
    const Json& p = s["ItemProcessor"];
    const std::string at = loc + ".ItemProcessor";
    if (p.is_object() && p.contains("ProcessorConfig")) {
      const Json& config = p["ProcessorConfig"];
      const std::string cat = at + ".ProcessorConfig";
      if (!config.is_object()) {
        Add(cat, "expected an object, got " + JsonTypeName(config));
      } else {
        CheckKeys(config, cat + ".", {"Mode", "ExecutionType"});
        if (config.contains("Mode")) {
          auto mode = String(config["Mode"], cat + ".Mode");
          if (mode == "DISTRIBUTED") {
            state.distributed = true;
          } else if (mode && *mode != "INLINE") {
            Add(cat + ".Mode", "expected \"INLINE\" or \"DISTRIBUTED\", got '" + *mode + "'");
          }
        }
        if (config.contains("ExecutionType")) {
          auto et = String(config["ExecutionType"], cat + ".ExecutionType");
          if (et && *et != "STANDARD" && *et != "EXPRESS") {
            Add(cat + ".ExecutionType", "expected \"STANDARD\" or \"EXPRESS\", got '" + *et + "'");
          } else if (et && !state.distributed) {
            Add(cat + ".ExecutionType", "only allowed when Mode is DISTRIBUTED");
          } else if (et) {
            state.execution_type = *et;
          }
        } else if (state.distributed) {
          Add(cat + ".ExecutionType", "required when Mode is DISTRIBUTED (STANDARD or EXPRESS)");
        }
      }
    }
    state.item_processor = Machine(p, at + ".", MachineKind::kItemProcessor);
  } else if (s.contains("Iterator")) {
    state.item_processor = Machine(s["Iterator"], loc + ".Iterator.", MachineKind::kIterator);
  } else {
    Add(loc + ".ItemProcessor", "required (or the older Iterator)");
  }

  if (s.contains("ItemsPath"))
    state.items_path = Path(s["ItemsPath"], loc + ".ItemsPath", true, true);
  if (s.contains("ItemSelector") && s.contains("Parameters")) {
    Add(loc, "ItemSelector and Parameters are exclusive (Parameters is the older name)");
  }
  if (s.contains("ItemSelector")) {
    state.item_selector = Template(s["ItemSelector"], loc + ".ItemSelector", true);
  } else if (s.contains("Parameters")) {
    state.item_selector = Template(s["Parameters"], loc + ".Parameters", true);
  }
  state.max_concurrency = NumberOrPath(s, loc, "MaxConcurrency", true, 0, kMaxSeconds);

  // AWS documents these for the Distributed Map only; an inline Map refuses them.
  for (const char* field : {"ItemReader", "ItemBatcher", "ResultWriter", "ToleratedFailureCount",
                            "ToleratedFailureCountPath", "ToleratedFailurePercentage",
                            "ToleratedFailurePercentagePath", "Label"}) {
    if (s.contains(field) && !state.distributed) {
      Add(loc + "." + field, "only allowed when ItemProcessor.ProcessorConfig.Mode is DISTRIBUTED");
    }
  }
  if (!state.distributed) return;
  if (s.contains("ItemReader"))
    state.item_reader = ParseItemReader(s["ItemReader"], loc + ".ItemReader");
  if (s.contains("ItemBatcher")) {
    state.item_batcher = ParseItemBatcher(s["ItemBatcher"], loc + ".ItemBatcher");
  }
  if (s.contains("ResultWriter")) {
    state.result_writer = ParseResultWriter(s["ResultWriter"], loc + ".ResultWriter");
  }
  state.tolerated_failure_count =
      NumberOrPath(s, loc, "ToleratedFailureCount", true, 0, kMaxReaderItems);
  state.tolerated_failure_percentage =
      NumberOrPath(s, loc, "ToleratedFailurePercentage", false, 0, 100);
  if (s.contains("Label")) {
    auto label = String(s["Label"], loc + ".Label");
    if (label) {
      // AWS: at most 40 characters, no whitespace, brackets, wildcards, control characters or
      // any of " # % \ ^ | ~ ` $ & , ; : /.
      static constexpr std::string_view kForbidden = "<>{}[]?*\"#%\\^|~`$&,;:/";
      bool bad = false;
      for (unsigned char c : *label) {
        if (c <= 0x20 || c == 0x7f || kForbidden.find(static_cast<char>(c)) != kForbidden.npos) {
          bad = true;
        }
      }
      if (label->size() > kMaxLabelLength) {
        Add(loc + ".Label", "at most " + std::to_string(kMaxLabelLength) + " characters");
      } else if (bad) {
        Add(loc + ".Label",
            "must not contain whitespace, control characters or any of <>{}[]?*\"#%\\^|~`$&,;:/");
      } else {
        state.label = *label;
      }
    }
  }
}

std::optional<ItemReader> DefinitionParser::ParseItemReader(const Json& v, const std::string& loc) {
  if (!v.is_object()) {
    Add(loc, "expected an object, got " + JsonTypeName(v));
    return std::nullopt;
  }
  CheckKeys(v, loc + ".", {"Resource", "Parameters", "ReaderConfig"});
  ItemReader reader;
  if (!v.contains("Resource")) {
    Add(loc + ".Resource", "required");
  } else if (auto r = String(v["Resource"], loc + ".Resource")) {
    if (*r != "arn:aws:states:::s3:getObject" && *r != "arn:aws:states:::s3:listObjectsV2") {
      Add(loc + ".Resource",
          "expected \"arn:aws:states:::s3:getObject\" or \"arn:aws:states:::s3:listObjectsV2\", "
          "got '" +
              *r + "'");
    }
    reader.resource = *r;
  }
  if (v.contains("Parameters"))
    reader.parameters = Template(v["Parameters"], loc + ".Parameters", true);
  std::string input_type;
  if (v.contains("ReaderConfig")) {
    const Json& c = v["ReaderConfig"];
    const std::string at = loc + ".ReaderConfig";
    if (!c.is_object()) {
      Add(at, "expected an object, got " + JsonTypeName(c));
    } else {
      CheckKeys(c, at + ".",
                {"InputType", "CSVHeaderLocation", "CSVHeaders", "CSVDelimiter", "MaxItems",
                 "MaxItemsPath"});
      reader.reader_config = c;
      if (c.contains("InputType")) {
        input_type = String(c["InputType"], at + ".InputType").value_or("");
        if (!input_type.empty() && input_type != "JSON" && input_type != "JSONL" &&
            input_type != "CSV" && input_type != "MANIFEST") {
          Add(at + ".InputType", "expected JSON, JSONL, CSV or MANIFEST, got '" + input_type + "'");
        }
      }
      std::string header_location;
      if (c.contains("CSVHeaderLocation")) {
        header_location = String(c["CSVHeaderLocation"], at + ".CSVHeaderLocation").value_or("");
        if (!header_location.empty() && header_location != "FIRST_ROW" &&
            header_location != "GIVEN") {
          Add(at + ".CSVHeaderLocation",
              "expected FIRST_ROW or GIVEN, got '" + header_location + "'");
        }
      }
      if (c.contains("CSVHeaders")) {
        const Json& h = c["CSVHeaders"];
        if (!h.is_array() ||
            std::any_of(h.begin(), h.end(), [](const Json& x) { return !x.is_string(); })) {
          Add(at + ".CSVHeaders", "expected an array of strings");
        }
      } else if (header_location == "GIVEN") {
        Add(at + ".CSVHeaders", "required when CSVHeaderLocation is GIVEN");
      }
      if (c.contains("CSVDelimiter")) {
        auto d = String(c["CSVDelimiter"], at + ".CSVDelimiter");
        if (d && *d != "COMMA" && *d != "PIPE" && *d != "SEMICOLON" && *d != "SPACE" &&
            *d != "TAB") {
          Add(at + ".CSVDelimiter",
              "expected COMMA, PIPE, SEMICOLON, SPACE or TAB, got '" + *d + "'");
        }
      }
      reader.max_items = NumberOrPath(c, at, "MaxItems", true, 1, kMaxReaderItems);
    }
  }
  if (reader.resource == "arn:aws:states:::s3:getObject" && input_type.empty()) {
    Add(loc + ".ReaderConfig.InputType", "required with arn:aws:states:::s3:getObject");
  }
  return reader;
}

std::optional<ItemBatcher> DefinitionParser::ParseItemBatcher(const Json& v,
                                                              const std::string& loc) {
  if (!v.is_object()) {
    Add(loc, "expected an object, got " + JsonTypeName(v));
    return std::nullopt;
  }
  CheckKeys(v, loc + ".",
            {"MaxItemsPerBatch", "MaxItemsPerBatchPath", "MaxInputBytesPerBatch",
             "MaxInputBytesPerBatchPath", "BatchInput"});
  ItemBatcher batcher;
  batcher.max_items_per_batch = NumberOrPath(v, loc, "MaxItemsPerBatch", true, 1, kMaxReaderItems);
  batcher.max_input_bytes_per_batch =
      NumberOrPath(v, loc, "MaxInputBytesPerBatch", true, 1, kMaxBatchBytes);
  if (!v.contains("MaxItemsPerBatch") && !v.contains("MaxItemsPerBatchPath") &&
      !v.contains("MaxInputBytesPerBatch") && !v.contains("MaxInputBytesPerBatchPath")) {
    Add(loc, "needs MaxItemsPerBatch(Path) or MaxInputBytesPerBatch(Path)");
  }
  if (v.contains("BatchInput")) {
    batcher.batch_input = Template(v["BatchInput"], loc + ".BatchInput", true);
  }
  return batcher;
}

std::optional<ResultWriter> DefinitionParser::ParseResultWriter(const Json& v,
                                                                const std::string& loc) {
  if (!v.is_object()) {
    Add(loc, "expected an object, got " + JsonTypeName(v));
    return std::nullopt;
  }
  CheckKeys(v, loc + ".", {"Resource", "Parameters", "WriterConfig"});
  ResultWriter writer;
  if (v.contains("Resource")) {
    auto r = String(v["Resource"], loc + ".Resource");
    if (r && *r != "arn:aws:states:::s3:putObject") {
      Add(loc + ".Resource", "expected \"arn:aws:states:::s3:putObject\", got '" + *r + "'");
    }
    writer.resource = r.value_or("");
  } else if (!v.contains("WriterConfig")) {
    // AWS lets a ResultWriter hold only a WriterConfig (results transformed, not exported).
    Add(loc + ".Resource", "required (unless a WriterConfig is given)");
  }
  if (v.contains("Parameters")) {
    if (!v.contains("Resource")) Add(loc + ".Parameters", "needs a Resource");
    writer.parameters = Template(v["Parameters"], loc + ".Parameters", true);
  }
  if (v.contains("WriterConfig")) {
    const Json& c = v["WriterConfig"];
    const std::string at = loc + ".WriterConfig";
    if (!c.is_object()) {
      Add(at, "expected an object, got " + JsonTypeName(c));
    } else {
      CheckKeys(c, at + ".", {"OutputType", "Transformation"});
      if (c.contains("OutputType")) {
        auto t = String(c["OutputType"], at + ".OutputType");
        if (t && *t != "JSON" && *t != "JSONL") {
          Add(at + ".OutputType", "expected JSON or JSONL, got '" + *t + "'");
        }
      }
      if (c.contains("Transformation")) {
        auto t = String(c["Transformation"], at + ".Transformation");
        if (t && *t != "NONE" && *t != "COMPACT" && *t != "FLATTEN") {
          Add(at + ".Transformation", "expected NONE, COMPACT or FLATTEN, got '" + *t + "'");
        }
      }
      writer.writer_config = c;
    }
  }
  return writer;
}

// "line L, column C" of the byte nlohmann stopped at (its `byte` is 1-based: the count of bytes
// read, the offending one included).
std::string LineColumn(std::string_view text, size_t byte) {
  size_t end = std::min(byte == 0 ? 0 : byte - 1, text.size());
  size_t line = 1, line_start = 0;
  for (size_t i = 0; i < end; ++i) {
    if (text[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(end - line_start + 1);
}

}  // namespace

std::string_view StateTypeName(StateType type) {
  switch (type) {
    case StateType::kTask:
      return "Task";
    case StateType::kPass:
      return "Pass";
    case StateType::kChoice:
      return "Choice";
    case StateType::kWait:
      return "Wait";
    case StateType::kSucceed:
      return "Succeed";
    case StateType::kFail:
      return "Fail";
    case StateType::kParallel:
      return "Parallel";
    case StateType::kMap:
      return "Map";
  }
  return "Unknown";
}

Result<std::shared_ptr<const StateMachine>> ParseDefinition(std::string_view json_text,
                                                            const ParseOptions& options) {
  Json doc;
  try {
    doc = Json::parse(json_text.begin(), json_text.end());
  } catch (const Json::parse_error& e) {
    // e.what() is "[json.exception.parse_error.101] parse error at line 1, column 5: syntax
    // error ..."; keep only the part after the position, which is ours.
    std::string what = e.what();
    size_t colon = what.find(": ");
    if (colon != std::string::npos) what = what.substr(colon + 2);
    return InvalidArgumentError(options.source + ": " + LineColumn(json_text, e.byte) +
                                ": invalid JSON: " + what);
  } catch (const Json::exception& e) {
    return InvalidArgumentError(options.source + ": invalid JSON: " + e.what());
  }
  DefinitionParser parser(options.source);
  std::shared_ptr<StateMachine> machine;
  try {
    machine = parser.Machine(doc, "", MachineKind::kTop);
  } catch (const Json::exception& e) {
    // Every access above is checked first; this is a safety net, never the expected path.
    return InternalError(options.source + ": while validating: " + e.what());
  }
  if (!parser.problems().empty()) {
    std::string message;
    for (const std::string& p : parser.problems()) {
      if (!message.empty()) message += '\n';
      message += p;
    }
    return InvalidArgumentError(std::move(message));
  }
  return std::shared_ptr<const StateMachine>(std::move(machine));
}

// CloudFormation's DefinitionSubstitutions replace "${Name}" text in the definition before it is
// parsed, inserting each value verbatim (no JSON escaping). CloudFormation's documentation does
// not say what becomes of a placeholder without a value (it reaches Step Functions as literal
// text, where it usually breaks a Resource ARN only at run time); lote refuses it instead, naming
// every such placeholder, since a missing value is almost always a mistake in the deploy
// parameters. Names are letters, digits and '_'; any other "${" is text and stays as is. Values
// are not scanned again for placeholders.
Result<std::string> Substitute(std::string_view definition,
                               const std::map<std::string, std::string>& values) {
  auto is_name_char = [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  };
  std::string out;
  out.reserve(definition.size());
  std::vector<std::string> missing;
  size_t i = 0;
  while (i < definition.size()) {
    size_t open = definition.find("${", i);
    if (open == std::string_view::npos) {
      out.append(definition.substr(i));
      break;
    }
    out.append(definition.substr(i, open - i));
    size_t j = open + 2;
    while (j < definition.size() && is_name_char(definition[j])) ++j;
    if (j == open + 2 || j >= definition.size() || definition[j] != '}') {
      out.append("${");  // not a placeholder: keep it and go on after it
      i = open + 2;
      continue;
    }
    std::string name(definition.substr(open + 2, j - open - 2));
    auto it = values.find(name);
    if (it == values.end()) {
      if (std::find(missing.begin(), missing.end(), name) == missing.end()) {
        missing.push_back(name);
      }
    } else {
      out.append(it->second);
    }
    i = j + 1;
  }
  if (!missing.empty()) {
    std::string list;
    for (const std::string& name : missing) list += (list.empty() ? "${" : ", ${") + name + "}";
    return InvalidArgumentError("definition substitutions: no value for " + list);
  }
  return out;
}

}  // namespace lote::flow
