// Fuzzes the ASL expression parsers (src/flow/json_path.cc, intrinsics.cc, choice.cc): the input
// is tried as a JSONPath, an intrinsic call, a path-or-intrinsic, an RFC 3339 timestamp, a
// payload template and a choice rule (when it is JSON), each parsed and then evaluated on a
// fixed document. Errors are InvalidArgument (parse) or a named StateError (evaluation).
#include <string>
#include <string_view>

#include "fuzz_util.h"
#include "lote/flow/choice.h"
#include "lote/flow/json_path.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  using namespace lote;
  using namespace lote::flow;
  using fuzz::Check;
  if (size > 16 * 1024) return 0;
  const std::string_view text(reinterpret_cast<const char*>(bytes), size);
  static const Json doc = Json::parse(R"({"a": {"b": [1, 2.5, "x", null, true, {"c": "d"}]},
    "s": "hello {}", "n": 42, "list": [{"p": 1}, {"p": 2}], "t": "2026-12-06T12:00:00Z"})");
  static const Json context = Json::parse(
      R"({"Execution": {"Id": "arn:x", "Name": "e"}, "State": {"Name": "S"},
          "Map": {"Item": {"Index": 0, "Value": 7}}})");
  auto evaluated = [](const Outcome<Json>& o) {
    if (!o.ok()) Check(o.error().error.rfind("States.", 0) == 0, "errors have a States.* name");
  };
  if (auto path = JsonPath::Parse(text); path.ok()) {
    (void)path->Select(doc, context);
  } else {
    Check(path.status().code() == StatusCode::kInvalidArgument, "path errors are InvalidArgument");
  }
  if (auto call = Intrinsic::Parse(text); call.ok()) evaluated(call->Evaluate(doc, context));
  if (auto either = PathOrIntrinsic::Parse(text); either.ok()) {
    evaluated(either->Evaluate(doc, context));
  }
  if (auto ts = ParseTimestamp(text); ts) {
    Check(ParseTimestamp(FormatTimestamp(*ts)).has_value(), "a formatted timestamp parses");
  }
  Json json = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) return 0;
  if (auto tmpl = PayloadTemplate::Parse(json, "fuzz"); tmpl.ok()) {
    evaluated(tmpl->Evaluate(doc, context));
  }
  if (auto rule = ChoiceRule::Parse(json, true, "fuzz"); rule.ok()) {
    auto m = rule->Matches(doc, context);
    if (!m.ok()) Check(m.error().error == "States.Runtime", "choice errors are States.Runtime");
  }
  return 0;
}
