// JSONPath selection, ResultPath placement and payload templates as the Amazon States Language
// defines them.
#include "lote/flow/json_path.h"

#include <gtest/gtest.h>

#include <string>

namespace lote::flow {
namespace {

const Json kStore = Json::parse(R"j({
  "store": {
    "book": [
      {"category": "reference", "author": "Rees", "title": "Sayings", "price": 8.95},
      {"category": "fiction", "author": "Waugh", "title": "Sword", "price": 12.99},
      {"category": "fiction", "author": "Melville", "title": "Moby Dick", "isbn": "0-553",
       "price": 8.99},
      {"category": "fiction", "author": "Tolkien", "title": "LOTR", "isbn": "0-395",
       "price": 22.99, "tags": null}
    ],
    "bicycle": {"color": "red", "price": 19.95},
    "odd key": {"x y": 1}
  },
  "n": 3,
  "flag": false,
  "nothing": null
})j");

JsonPath P(std::string_view text) {
  Result<JsonPath> path = JsonPath::Parse(text);
  EXPECT_TRUE(path.ok()) << text << ": " << path.status().ToString();
  return std::move(path).value();
}

Json Select(std::string_view text, const Json& input = kStore, const Json& context = {}) {
  std::optional<Json> value = P(text).Select(input, context);
  return value ? *value : Json("<absent>");
}

TEST(JsonPath, ReferencePathsSelectOneNode) {
  EXPECT_EQ(Select("$"), kStore);
  EXPECT_EQ(Select("$.n"), 3);
  EXPECT_EQ(Select("$.store.bicycle.color"), "red");
  EXPECT_EQ(Select("$.store.book[1].author"), "Waugh");
  EXPECT_EQ(Select("$['store']['odd key']['x y']"), 1);
  EXPECT_EQ(Select("$[\"store\"].bicycle[\"price\"]"), 19.95);
  EXPECT_EQ(Select("$.store.book[-1].title"), "LOTR");
  EXPECT_TRUE(P("$.store.book[0].title").is_reference());
  EXPECT_TRUE(P("$['a b'][2]").is_reference());
}

TEST(JsonPath, TellsMissingFromNull) {
  EXPECT_EQ(P("$.missing").Select(kStore, {}), std::nullopt);
  EXPECT_EQ(P("$.store.book[9]").Select(kStore, {}), std::nullopt);
  EXPECT_EQ(P("$.n.deeper").Select(kStore, {}), std::nullopt);
  EXPECT_EQ(P("$.n[0]").Select(kStore, {}), std::nullopt);
  std::optional<Json> null_value = P("$.nothing").Select(kStore, {});
  ASSERT_TRUE(null_value.has_value());
  EXPECT_TRUE(null_value->is_null());
  EXPECT_EQ(Select("$.flag"), false);
}

TEST(JsonPath, WildcardsListEveryChild) {
  EXPECT_FALSE(P("$.store.book[*].author").is_reference());
  EXPECT_EQ(Select("$.store.book[*].author"),
            Json::parse(R"j(["Rees","Waugh","Melville","Tolkien"])j"));
  EXPECT_EQ(Select("$.store.bicycle.*"), Json::parse(R"j(["red", 19.95])j"));
  EXPECT_EQ(Select("$.store.book[*].isbn"), Json::parse(R"j(["0-553","0-395"])j"));
  EXPECT_EQ(Select("$.n.*"), Json::array());
}

TEST(JsonPath, DeepScanFindsNamesAtAnyDepth) {
  Json prices = Select("$..price");
  ASSERT_TRUE(prices.is_array());
  EXPECT_EQ(prices.size(), 5u);
  EXPECT_EQ(Select("$.store..author").size(), 4u);
  EXPECT_EQ(Select("$..book[2].title"), Json::array({"Moby Dick"}));
  EXPECT_EQ(Select("$..['x y']"), Json::array({1}));
  EXPECT_FALSE(P("$..price").is_reference());
}

TEST(JsonPath, SlicesAndUnions) {
  Json arr = Json::parse("[0,1,2,3,4,5]");
  EXPECT_EQ(Select("$[1:3]", arr), Json::parse("[1,2]"));
  EXPECT_EQ(Select("$[:2]", arr), Json::parse("[0,1]"));
  EXPECT_EQ(Select("$[4:]", arr), Json::parse("[4,5]"));
  EXPECT_EQ(Select("$[-2:]", arr), Json::parse("[4,5]"));
  EXPECT_EQ(Select("$[::2]", arr), Json::parse("[0,2,4]"));
  EXPECT_EQ(Select("$[1:100:3]", arr), Json::parse("[1,4]"));
  EXPECT_EQ(Select("$[::-1]", arr), Json::parse("[5,4,3,2,1,0]"));
  EXPECT_EQ(Select("$[0,2,9,-1]", arr), Json::parse("[0,2,5]"));
  EXPECT_EQ(Select("$.store.bicycle['color','price','nope']"), Json::parse(R"j(["red",19.95])j"));
  EXPECT_EQ(Select("$[3:1]", arr), Json::array());
}

TEST(JsonPath, FiltersCompareNumbersStringsAndBooleans) {
  EXPECT_EQ(Select("$.store.book[?(@.price < 10)].title"),
            Json::parse(R"j(["Sayings","Moby Dick"])j"));
  EXPECT_EQ(Select("$.store.book[?(@.price >= 22.99)].title"), Json::array({"LOTR"}));
  EXPECT_EQ(Select("$.store.book[?(@.category == 'reference')].author"), Json::array({"Rees"}));
  EXPECT_EQ(Select("$.store.book[?(@.category != \"fiction\")].author"), Json::array({"Rees"}));
  EXPECT_EQ(Select("$.store.book[?(@.isbn)].title"), Json::parse(R"j(["Moby Dick","LOTR"])j"));
  EXPECT_EQ(Select("$.store.book[?(!@.isbn)].title"), Json::parse(R"j(["Sayings","Sword"])j"));
  // A key whose value is null exists.
  EXPECT_EQ(Select("$.store.book[?(@.tags)].title"), Json::array({"LOTR"}));
  EXPECT_EQ(Select("$.store.book[?(@.tags == null)].title"), Json::array({"LOTR"}));
  EXPECT_EQ(Select("$.store.book[?(@.category == 'fiction' && @.price < 20)].title"),
            Json::parse(R"j(["Sword","Moby Dick"])j"));
  EXPECT_EQ(Select("$.store.book[?(@.price > 20 || @.author == 'Rees')].title"),
            Json::parse(R"j(["Sayings","LOTR"])j"));
  EXPECT_EQ(Select("$.store.book[?((@.price > 20 || @.price < 9) && @.isbn)].title"),
            Json::parse(R"j(["Moby Dick","LOTR"])j"));
  // Root references and booleans.
  EXPECT_EQ(Select("$.store.book[?(@.price < $.n)]"), Json::array());
  Json items = Json::parse(R"j([{"ok": true, "id": 1}, {"ok": false, "id": 2}, {"id": 3}])j");
  EXPECT_EQ(Select("$[?(@.ok == true)].id", items), Json::array({1}));
  EXPECT_EQ(Select("$[?(@.ok != true)].id", items), Json::array({2}));
  // Mixed types never compare: a string is not less than a number.
  Json mixed = Json::parse(R"j([{"v": "5"}, {"v": 5}, {"v": 5.0}])j");
  EXPECT_EQ(Select("$[?(@.v == 5)]", mixed).size(), 2u);
  EXPECT_EQ(Select("$[?(@.v < 6)]", mixed).size(), 2u);
  EXPECT_EQ(Select("$[?(@.v == '5')]", mixed).size(), 1u);
}

TEST(JsonPath, ContextPathsReadTheContextObject) {
  Json context = Json::parse(R"j({
    "Execution": {"Id": "arn:aws:states:::execution:m:e1", "Input": {}},
    "State": {"Name": "Score", "EnteredTime": "2024-01-01T00:00:00.000Z"},
    "Map": {"Item": {"Index": 7, "Value": {"doc": "x"}}}
  })j");
  Json input = Json::parse(R"j({"Execution": "not this"})j");
  JsonPath id = P("$$.Execution.Id");
  EXPECT_TRUE(id.is_context());
  EXPECT_EQ(Select("$$.Execution.Id", input, context), "arn:aws:states:::execution:m:e1");
  EXPECT_EQ(Select("$$.Map.Item.Value", input, context), Json::parse(R"j({"doc":"x"})j"));
  EXPECT_EQ(Select("$$.Map.Item.Index", input, context), 7);
  EXPECT_EQ(Select("$$.State.EnteredTime", input, context), "2024-01-01T00:00:00.000Z");
  EXPECT_EQ(Select("$$", input, context), context);
  EXPECT_EQ(P("$$.Task.Token").Select(input, context), std::nullopt);
  EXPECT_FALSE(P("$.Execution").is_context());
}

TEST(JsonPath, RejectsBadSyntaxNamingThePlace) {
  for (const char* bad : {"", "a.b", "$.", "$a", "$.a[", "$.a[1", "$['a]", "$.a[?(@.b = 1)]",
                          "$.a[?(@.b ==)]", "$.a[::0]", "$.a b", "$.a[x]", "$.a[?(@.b > 1]", "$..",
                          "$.a['x'", "$.a[?(1)]", "$[?(@.a[*])]", "$.a)"}) {
    Result<JsonPath> path = JsonPath::Parse(bad);
    EXPECT_FALSE(path.ok()) << bad;
    if (!path.ok()) {
      EXPECT_EQ(path.status().code(), StatusCode::kInvalidArgument) << bad;
      EXPECT_NE(path.status().message().find("position"), std::string::npos)
          << path.status().message();
    }
  }
}

TEST(JsonPath, CopiesShareTheParsedSteps) {
  JsonPath a = P("$.store.book[?(@.price < 10)].title");
  JsonPath b = a;  // immutable, shared
  EXPECT_EQ(b.Select(kStore, {}), a.Select(kStore, {}));
  EXPECT_EQ(b.text(), "$.store.book[?(@.price < 10)].title");
}

// ---------------------------------------------------------------------------------------------
// PlaceAt (ResultPath)

Json Place(std::string_view path, Json input, Json result) {
  Outcome<Json> out = PlaceAt(P(path), std::move(input), std::move(result));
  EXPECT_TRUE(out.ok()) << path << ": " << (out.ok() ? "" : out.error().cause);
  return out.ok() ? out.value() : Json();
}

TEST(PlaceAt, DollarReplacesTheInput) {
  EXPECT_EQ(Place("$", Json::parse(R"j({"a":1})j"), "r"), "r");
  EXPECT_EQ(Place("$", "scalar", Json::parse(R"j({"x":1})j")), Json::parse(R"j({"x":1})j"));
}

TEST(PlaceAt, AddsOrReplacesKeepingTheRestInOrder) {
  Json out = Place("$.result", Json::parse(R"j({"a":1,"result":0,"b":2})j"), Json::array({1}));
  EXPECT_EQ(out.dump(), R"j({"a":1,"result":[1],"b":2})j");
  out = Place("$.new", Json::parse(R"j({"a":1})j"), true);
  EXPECT_EQ(out.dump(), R"j({"a":1,"new":true})j");
}

TEST(PlaceAt, CreatesMissingObjectsOnTheWay) {
  Json out = Place("$.x.y.z", Json::parse(R"j({"a":1,"x":{"k":2}})j"), 5);
  EXPECT_EQ(out.dump(), R"j({"a":1,"x":{"k":2,"y":{"z":5}}})j");
  out = Place("$['odd key'].v", Json::object(), "s");
  EXPECT_EQ(out.dump(), R"j({"odd key":{"v":"s"}})j");
}

TEST(PlaceAt, ReplacesAnArrayElementInRange) {
  Json out = Place("$.list[1].v", Json::parse(R"j({"list":[{},{"v":0}]})j"), 9);
  EXPECT_EQ(out.dump(), R"j({"list":[{},{"v":9}]})j");
  out = Place("$.list[0]", Json::parse(R"j({"list":[1,2]})j"), "x");
  EXPECT_EQ(out.dump(), R"j({"list":["x",2]})j");
}

TEST(PlaceAt, FailsThroughANonObject) {
  struct Case {
    const char* path;
    const char* input;
  };
  for (const Case& c : {Case{"$.a.b", R"({"a":"text"})"}, Case{"$.a", "\"text\""},
                        Case{"$.a", "[1,2]"}, Case{"$.a.b", R"({"a":null})"},
                        Case{"$.a.b", R"({"a":[1]})"}, Case{"$.list[5]", R"({"list":[1]})"},
                        Case{"$.list[0]", R"({"list":{"0":1}})"}, Case{"$.m[0]", "{}"}}) {
    Outcome<Json> out = PlaceAt(P(c.path), Json::parse(c.input), 1);
    ASSERT_FALSE(out.ok()) << c.path << " on " << c.input;
    EXPECT_EQ(out.error().error, kStatesResultPathMatchFailure);
    EXPECT_NE(out.error().cause.find(c.path), std::string::npos) << out.error().cause;
  }
}

TEST(PlaceAt, RefusesNonReferenceAndContextPaths) {
  EXPECT_FALSE(PlaceAt(P("$.a[*]"), Json::object(), 1).ok());
  EXPECT_FALSE(PlaceAt(P("$$.Execution"), Json::object(), 1).ok());
}

// ---------------------------------------------------------------------------------------------
// PathOrIntrinsic and PayloadTemplate

TEST(PathOrIntrinsic, EvaluatesPathsAndIntrinsics) {
  Json input = Json::parse(R"({"name":"Ana","n":2})");
  Result<PathOrIntrinsic> path = PathOrIntrinsic::Parse("$.name");
  ASSERT_TRUE(path.ok());
  EXPECT_EQ(path->text(), "$.name");
  EXPECT_EQ(path->Evaluate(input, {}).value(), "Ana");
  Result<PathOrIntrinsic> call = PathOrIntrinsic::Parse("States.Format('hi {}', $.name)");
  ASSERT_TRUE(call.ok());
  EXPECT_EQ(call->Evaluate(input, {}).value(), "hi Ana");

  Result<PathOrIntrinsic> missing = PathOrIntrinsic::Parse("$.nope");
  ASSERT_TRUE(missing.ok());
  Outcome<Json> runtime = missing->Evaluate(input, {});
  ASSERT_FALSE(runtime.ok());
  EXPECT_EQ(runtime.error().error, kStatesRuntime);
  Outcome<Json> param = missing->Evaluate(input, {}, kStatesParameterPathFailure);
  ASSERT_FALSE(param.ok());
  EXPECT_EQ(param.error().error, kStatesParameterPathFailure);
  // An indefinite path that matches nothing fails too.
  Result<PathOrIntrinsic> none = PathOrIntrinsic::Parse("$.list[?(@.x > 1)]");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->Evaluate(Json::parse(R"j({"list":[{"x":0}]})j"), {}).ok());

  EXPECT_FALSE(PathOrIntrinsic::Parse("name").ok());
  EXPECT_FALSE(PathOrIntrinsic::Parse("States.Nope(1)").ok());
  EXPECT_FALSE(PathOrIntrinsic::Parse("$.a[").ok());
}

Json Build(const Json& tmpl, const Json& input, const Json& context = Json::object()) {
  Result<PayloadTemplate> t = PayloadTemplate::Parse(tmpl, "States.T.Parameters");
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  if (!t.ok()) return Json();
  Outcome<Json> out = t->Evaluate(input, context);
  EXPECT_TRUE(out.ok()) << (out.ok() ? "" : out.error().cause);
  return out.ok() ? out.value() : Json();
}

TEST(PayloadTemplate, BuildsNestedObjectsAndArrays) {
  Json tmpl = Json::parse(R"j({
    "literal": "$.not.a.path",
    "id.$": "$.id",
    "nested": {"deep": {"v.$": "$.values[1]", "keep": 1.5}, "count": 2},
    "list": [{"x.$": "$.id"}, "plain", 3, {"y": true}],
    "ctx.$": "$$.Map.Item.Index",
    "msg.$": "States.Format('{}-{}', $.id, $$.Map.Item.Index)",
    "all.$": "$.values[*]",
    "nothing": null
  })j");
  Json input = Json::parse(R"j({"id":"d1","values":[10,20,30]})j");
  Json context = Json::parse(R"j({"Map":{"Item":{"Index":4}}})j");
  Json out = Build(tmpl, input, context);
  EXPECT_EQ(out.dump(),
            R"j({"literal":"$.not.a.path","id":"d1","nested":{"deep":{"v":20,"keep":1.5},)j"
            R"j("count":2},"list":[{"x":"d1"},"plain",3,{"y":true}],"ctx":4,"msg":"d1-4",)j"
            R"j("all":[10,20,30],"nothing":null})j");
}

TEST(PayloadTemplate, KeepsIntegersIntegers) {
  Json out = Build(Json::parse(R"j({"n.$":"$.n","sum.$":"States.MathAdd($.n, 1)"})j"),
                   Json::parse(R"j({"n":1})j"));
  EXPECT_EQ(out.dump(), R"j({"n":1,"sum":2})j");
}

// AWS fails with States.Runtime (the spec says States.ParameterPathFailure): AWS wins.
TEST(PayloadTemplate, MissingPathIsARuntimeError) {
  Result<PayloadTemplate> t = PayloadTemplate::Parse(
      Json::parse(R"j({"a":{"b.$":"$.missing.deep"}})j"), "States.Infer.Parameters");
  ASSERT_TRUE(t.ok());
  Outcome<Json> out = t->Evaluate(Json::parse(R"j({"x":1})j"), Json::object());
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().error, kStatesRuntime);
  EXPECT_NE(out.error().cause.find("$.missing.deep"), std::string::npos);
  EXPECT_NE(out.error().cause.find("b.$"), std::string::npos);
  // A null value is found: no failure.
  EXPECT_EQ(Build(Json::parse(R"j({"v.$":"$.x"})j"), Json::parse(R"j({"x":null})j")).dump(),
            R"j({"v":null})j");
}

TEST(PayloadTemplate, IntrinsicFailureIsPassedOn) {
  Result<PayloadTemplate> t =
      PayloadTemplate::Parse(Json::parse(R"j({"n.$":"States.ArrayLength($.x)"})j"), "P");
  ASSERT_TRUE(t.ok());
  Outcome<Json> out = t->Evaluate(Json::parse(R"j({"x":"not an array"})j"), Json::object());
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().error, kStatesIntrinsicFailure);
}

TEST(PayloadTemplate, ParseErrorsNameTheKey) {
  struct Case {
    const char* tmpl;
    const char* where;
  };
  for (const Case& c :
       {Case{R"j({"x.$": 5})j", "States.Infer.Parameters.x.$"},
        Case{R"j({"a": {"x.$": "nopath"}})j", "States.Infer.Parameters.a.x.$"},
        Case{R"j({"l": [1, {"x.$": "$.a["}]})j", "States.Infer.Parameters.l[1].x.$"},
        Case{R"j({"x.$": "States.Unknown()"})j", "States.Infer.Parameters.x.$"},
        Case{R"j({"x.$": "$.a", "x": 1})j", "States.Infer.Parameters.x"}}) {
    Result<PayloadTemplate> t =
        PayloadTemplate::Parse(Json::parse(c.tmpl), "States.Infer.Parameters");
    ASSERT_FALSE(t.ok()) << c.tmpl;
    EXPECT_EQ(t.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(t.status().message().rfind(std::string(c.where) + ":", 0), 0u)
        << t.status().message();
  }
}

TEST(PayloadTemplate, ScalarAndLiteralTemplatesAreCopied) {
  EXPECT_EQ(Build(Json::parse(R"j({"a":[1,{"b":"$.x"}]})j"), Json::object()).dump(),
            R"j({"a":[1,{"b":"$.x"}]})j");
  EXPECT_EQ(Build(Json("text"), Json::object()), "text");
}

TEST(PayloadTemplate, EvaluatesManyItemsQuickly) {
  // A Map's ItemSelector over 10,000 items: parsed once, evaluated per item.
  Result<PayloadTemplate> t = PayloadTemplate::Parse(
      Json::parse(R"j({"doc.$":"$$.Map.Item.Value","i.$":"$$.Map.Item.Index","cfg.$":"$.cfg"})j"),
      "ItemSelector");
  ASSERT_TRUE(t.ok());
  Json input = Json::parse(R"j({"cfg":{"lang":"es"}})j");
  Json context = Json::parse(R"j({"Map":{"Item":{"Index":0,"Value":{"text":"hola"}}}})j");
  for (int i = 0; i < 10000; ++i) {
    context["Map"]["Item"]["Index"] = i;
    Outcome<Json> out = t->Evaluate(input, context);
    ASSERT_TRUE(out.ok());
    ASSERT_EQ(out.value()["i"], i);
  }
}

}  // namespace
}  // namespace lote::flow
