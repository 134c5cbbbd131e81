// JSONPath as the Amazon States Language uses it, payload templates and intrinsic functions.
//
// Paths (AWS "Paths in Step Functions"): "$" is the state's input, "$$" the context object.
// A reference path (names, quoted names and indexes only: "$.a.b", "$['x y'][0]") selects at most
// one node and is what ResultPath and the *Path comparison fields accept. Other paths may use
// wildcards ("[*]", ".*"), deep scan (".."), slices ("[1:3]", "[::2]"), unions ("[0,2]",
// "['a','b']") and filters ("[?(@.price < 10)]", "[?(@.tag)]"), and then select a list.
//
// A payload template (Parameters, ResultSelector, ItemSelector) is a JSON object whose keys ending
// in ".$" take their value from a path or an intrinsic function ("States.Format('{}', $.x)").
//
// Everything is parsed once, when the definition is loaded (a syntax error is a Status naming
// the field), and evaluated many times. Thread-safety: parsed objects are immutable; const
// methods are thread-safe.
#ifndef LOTE_FLOW_JSON_PATH_H_
#define LOTE_FLOW_JSON_PATH_H_

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lote/base/status.h"
#include "lote/flow/state_error.h"

namespace lote::flow {

class JsonPath {
 public:
  // Parses `text`, which starts with "$" (the input) or "$$" (the context object). Errors
  // (InvalidArgument) say what is wrong and where in `text`.
  static Result<JsonPath> Parse(std::string_view text);

  const std::string& text() const { return text_; }
  // Whether the path reads the context object ("$$...").
  bool is_context() const { return context_; }
  // Whether this is a reference path: names and indexes only, at most one node.
  bool is_reference() const { return reference_; }

  // Selects from `input` (or from `context` when is_context()). A reference path gives the one
  // node or nullopt when it is absent; any other path gives a JSON array of every match in
  // document order (empty when nothing matches; AWS then fails, the caller decides how).
  std::optional<Json> Select(const Json& input, const Json& context) const;

  struct Step;  // one parsed segment (implementation detail)

 private:
  friend Outcome<Json> PlaceAt(const JsonPath& path, Json input, Json result);

  std::string text_;
  bool context_ = false;
  bool reference_ = true;
  std::shared_ptr<const std::vector<Step>> steps_;
};

// ResultPath: returns `input` with `result` placed at `path`, a reference path on the input
// ("$" replaces the whole input; missing objects on the way are created). Placing through a
// value that is not an object (or an index out of range) fails with
// States.ResultPathMatchFailure, as AWS does.
Outcome<Json> PlaceAt(const JsonPath& path, Json input, Json result);

// One intrinsic function call, e.g. States.Format('{} items', $.count). Arguments are string
// literals ('...', with \' \{ \} \\ escapes), numbers, true/false/null, paths and nested calls.
// All AWS functions: States.Format, StringToJson, JsonToString, Array, ArrayPartition,
// ArrayContains, ArrayRange, ArrayGetItem, ArrayLength, ArrayUnique, Base64Encode, Base64Decode,
// Hash (MD5, SHA-1, SHA-256, SHA-384, SHA-512), JsonMerge, MathRandom, MathAdd, StringSplit,
// UUID. Unknown names and wrong argument counts are parse errors; wrong argument types at run
// time fail with States.IntrinsicFailure.
class Intrinsic {
 public:
  static Result<Intrinsic> Parse(std::string_view text);
  // Whether `text` looks like an intrinsic call ("States.<Name>(" prefix), to tell it from a path.
  static bool Looks(std::string_view text);

  const std::string& text() const { return text_; }
  Outcome<Json> Evaluate(const Json& input, const Json& context) const;

  struct Node;  // the parsed call tree (implementation detail)

 private:
  std::string text_;
  std::shared_ptr<const Node> root_;
};

// A value given as a path or as an intrinsic (ErrorPath, CausePath, "key.$" values).
class PathOrIntrinsic {
 public:
  static Result<PathOrIntrinsic> Parse(std::string_view text);
  const std::string& text() const;
  // A path that matches nothing (or an indefinite one that matches nothing) fails with
  // `missing_error` (default States.Runtime).
  Outcome<Json> Evaluate(const Json& input, const Json& context,
                         const char* missing_error = kStatesRuntime) const;

 private:
  std::optional<JsonPath> path_;
  std::optional<Intrinsic> intrinsic_;
};

class PayloadTemplate {
 public:
  // `where` names the field in errors, e.g. "States.Infer.Parameters". A "key.$" value that is
  // not a string, or not a valid path or intrinsic, is an error naming the key.
  static Result<PayloadTemplate> Parse(const Json& tmpl, std::string_view where);

  // Builds the payload. A path matching nothing fails with States.Runtime, as AWS does (the
  // spec's States.ParameterPathFailure is not what AWS raises); an
  // intrinsic's failure is States.IntrinsicFailure. Keys lose their ".$" suffix; nested objects
  // and arrays are templates too.
  Outcome<Json> Evaluate(const Json& input, const Json& context) const;

  struct Node;

 private:
  std::shared_ptr<const Node> root_;
};

}  // namespace lote::flow

#endif  // LOTE_FLOW_JSON_PATH_H_
