// The intrinsic functions of the Amazon States Language: AWS's examples, argument rules, limits,
// run-time failures (States.IntrinsicFailure) and parse errors.
#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <string>

#include "lote/flow/json_path.h"

namespace lote::flow {
namespace {

const Json kInput = Json::parse(R"j({
  "name": "Arnav", "template": "Hello, my name is {}.", "n": 3, "f": 2.5, "whole": 2.0,
  "arr": [1, 2, 3, 4, 5, 6, 7, 8, 9], "dups": [1, 2, 3, 3, 3, 3, 3, 3, 4, "a", "a", {"k": 1},
  {"k": 1}], "obj": {"a": 1, "b": {"c": 2}}, "other": {"b": {"d": 3}, "e": true},
  "escaped": "{\"foo\": \"bar\"}", "csv": "1,2,3,4,5", "mixed": "This.is+a,test=string",
  "splitter": ".+,=", "text": "Data to encode", "b64": "RGF0YSB0byBlbmNvZGU=", "s": "str",
  "nothing": null, "t": true
})j");
const Json kContext = Json::parse(R"j({"Map": {"Item": {"Index": 4, "Value": "v"}}})j");

Outcome<Json> Eval(std::string_view text, const Json& input = kInput) {
  Result<Intrinsic> call = Intrinsic::Parse(text);
  if (!call.ok()) {
    ADD_FAILURE() << text << ": " << call.status().ToString();
    return StateError{"parse", call.status().message()};
  }
  return call->Evaluate(input, kContext);
}

Json Value(std::string_view text, const Json& input = kInput) {
  Outcome<Json> out = Eval(text, input);
  EXPECT_TRUE(out.ok()) << text << ": " << (out.ok() ? "" : out.error().cause);
  return out.ok() ? out.value() : Json("<failed>");
}

void ExpectFailure(std::string_view text, const Json& input = kInput) {
  Outcome<Json> out = Eval(text, input);
  ASSERT_FALSE(out.ok()) << text << " gave " << out.value().dump();
  EXPECT_EQ(out.error().error, kStatesIntrinsicFailure) << text;
  EXPECT_FALSE(out.error().cause.empty());
}

void ExpectParseError(std::string_view text) {
  Result<Intrinsic> call = Intrinsic::Parse(text);
  ASSERT_FALSE(call.ok()) << text;
  EXPECT_EQ(call.status().code(), StatusCode::kInvalidArgument);
}

TEST(Intrinsic, LooksTellsCallsFromPaths) {
  EXPECT_TRUE(Intrinsic::Looks("States.Format('x')"));
  EXPECT_TRUE(Intrinsic::Looks("States.UUID()"));
  EXPECT_FALSE(Intrinsic::Looks("$.States"));
  EXPECT_FALSE(Intrinsic::Looks("States.Format"));
  EXPECT_FALSE(Intrinsic::Looks("States.('x')"));
}

TEST(Intrinsic, FormatInterpolatesLiteralsAndPaths) {
  EXPECT_EQ(Value("States.Format('Hello, my name is {}.', $.name)"), "Hello, my name is Arnav.");
  EXPECT_EQ(Value("States.Format($.template, $.name)"), "Hello, my name is Arnav.");
  EXPECT_EQ(Value("States.Format('{} {} {} {} {}', $.n, $.f, $.t, $.nothing, $.whole)"),
            "3 2.5 true null 2");
  EXPECT_EQ(Value("States.Format('no placeholders')"), "no placeholders");
  EXPECT_EQ(Value("States.Format('{}{}', 'a', 'b')"), "ab");
  EXPECT_EQ(Value("States.Format('item {}', $$.Map.Item.Index)"), "item 4");
  EXPECT_EQ(Value("States.Format('{}', $.obj)"), "{a=1, b={c=2}}");
  EXPECT_EQ(Value("States.Format('{}', States.Array(1, 'x'))"), "[1, x]");
  // A placeholder's value is not re-scanned for braces.
  EXPECT_EQ(Value("States.Format('{}-{}', '{}', $.name)"), "{}-Arnav");
}

TEST(Intrinsic, FormatEscapes) {
  // In the definition's JSON these are written \\' \\{ \\} \\\\.
  EXPECT_EQ(Value(R"(States.Format('it\'s \{\} {} \\', $.n))"), R"(it's {} 3 \)");
  EXPECT_EQ(Value(R"(States.Format('\{{}\}', $.n))"), "{3}");
  ExpectParseError(R"(States.Format('bad \n escape'))");
  ExpectParseError(R"(States.Format('trailing \'))");
}

TEST(Intrinsic, FormatArgumentCountMustMatchPlaceholders) {
  ExpectParseError("States.Format('{} and {}', $.name)");
  ExpectParseError("States.Format('{}', $.name, $.n)");
  ExpectParseError("States.Format(1)");
  // With a template from the input the count is checked at run time.
  ExpectFailure("States.Format($.template)");
  ExpectFailure("States.Format($.n)");
}

TEST(Intrinsic, StringToJsonAndBack) {
  EXPECT_EQ(Value("States.StringToJson($.escaped)"), Json::parse(R"({"foo":"bar"})"));
  EXPECT_EQ(Value("States.StringToJson('[1, 2.5, true]')"), Json::parse("[1, 2.5, true]"));
  EXPECT_EQ(Value("States.JsonToString($.obj)"), R"({"a":1,"b":{"c":2}})");
  EXPECT_EQ(Value("States.JsonToString($.n)"), "3");
  EXPECT_EQ(Value("States.StringToJson(States.JsonToString($.obj))"), kInput["obj"]);
  ExpectFailure("States.StringToJson($.n)");
  ExpectFailure("States.StringToJson('{not json')");
  ExpectFailure("States.StringToJson('')");
  // AWS: JsonToString's argument must be a path.
  ExpectParseError("States.JsonToString('{}')");
  ExpectParseError("States.JsonToString(States.Array(1))");
}

TEST(Intrinsic, ArrayBuildsFromAnyValues) {
  EXPECT_EQ(Value("States.Array($.n)"), Json::parse("[3]"));
  EXPECT_EQ(Value("States.Array()"), Json::array());
  EXPECT_EQ(Value("States.Array('a', 1, -2.5, true, false, null, $.obj.b, States.Array())"),
            Json::parse(R"(["a", 1, -2.5, true, false, null, {"c": 2}, []])"));
}

TEST(Intrinsic, ArrayPartition) {
  EXPECT_EQ(Value("States.ArrayPartition($.arr, 4)"), Json::parse("[[1,2,3,4],[5,6,7,8],[9]]"));
  EXPECT_EQ(Value("States.ArrayPartition($.arr, 9)"), Json::parse("[[1,2,3,4,5,6,7,8,9]]"));
  EXPECT_EQ(Value("States.ArrayPartition(States.Array(), 2)"), Json::array());
  // AWS rounds a non-integer chunk size to the nearest integer.
  EXPECT_EQ(Value("States.ArrayPartition($.arr, 4.4)").size(), 3u);
  ExpectFailure("States.ArrayPartition($.arr, 0)");
  ExpectFailure("States.ArrayPartition($.arr, -1)");
  ExpectFailure("States.ArrayPartition($.arr, 'two')");
  ExpectFailure("States.ArrayPartition($.obj, 2)");
}

TEST(Intrinsic, ArrayContains) {
  EXPECT_EQ(Value("States.ArrayContains($.arr, 5)"), true);
  EXPECT_EQ(Value("States.ArrayContains($.arr, 10)"), false);
  EXPECT_EQ(Value("States.ArrayContains($.dups, $.obj.b)"), false);
  EXPECT_EQ(Value("States.ArrayContains($.dups, States.StringToJson('{\"k\":1}'))"), true);
  EXPECT_EQ(Value("States.ArrayContains($.dups, 'a')"), true);
  ExpectFailure("States.ArrayContains($.s, 's')");
}

TEST(Intrinsic, ArrayRange) {
  EXPECT_EQ(Value("States.ArrayRange(1, 9, 2)"), Json::parse("[1,3,5,7,9]"));
  EXPECT_EQ(Value("States.ArrayRange(1, 10, 2)"), Json::parse("[1,3,5,7,9]"));
  EXPECT_EQ(Value("States.ArrayRange(9, 1, -3)"), Json::parse("[9,6,3]"));
  EXPECT_EQ(Value("States.ArrayRange(5, 1, 1)"), Json::array());
  EXPECT_EQ(Value("States.ArrayRange(0, 999, 1)").size(), 1000u);
  ExpectFailure("States.ArrayRange(0, 1000, 1)");  // 1001 items
  ExpectFailure("States.ArrayRange(1, 9, 0)");
  ExpectFailure("States.ArrayRange(1, 9.5, 1)");
  ExpectFailure("States.ArrayRange('1', 9, 1)");
  ExpectFailure("States.ArrayRange(-9000000000000000000, 9000000000000000000, 1)");
  ExpectParseError("States.ArrayRange(1, 9)");
  // Results are integers, never 1.0.
  EXPECT_EQ(Value("States.ArrayRange($.whole, 4, 1)").dump(), "[2,3,4]");
}

TEST(Intrinsic, ArrayGetItemLengthUnique) {
  EXPECT_EQ(Value("States.ArrayGetItem($.arr, 5)"), 6);
  EXPECT_EQ(Value("States.ArrayGetItem($.arr, 0)"), 1);
  ExpectFailure("States.ArrayGetItem($.arr, 9)");
  ExpectFailure("States.ArrayGetItem($.arr, -1)");
  ExpectFailure("States.ArrayGetItem($.arr, 1.5)");
  ExpectFailure("States.ArrayGetItem($.obj, 0)");
  EXPECT_EQ(Value("States.ArrayLength($.arr)").dump(), "9");
  EXPECT_EQ(Value("States.ArrayLength(States.Array())"), 0);
  ExpectFailure("States.ArrayLength($.s)");
  EXPECT_EQ(Value("States.ArrayUnique($.dups)"), Json::parse(R"([1,2,3,4,"a",{"k":1}])"));
  ExpectFailure("States.ArrayUnique($.nothing)");
}

TEST(Intrinsic, Base64) {
  EXPECT_EQ(Value("States.Base64Encode($.text)"), "RGF0YSB0byBlbmNvZGU=");
  EXPECT_EQ(Value("States.Base64Decode($.b64)"), "Data to encode");
  EXPECT_EQ(Value("States.Base64Encode('ab')"), "YWI=");
  EXPECT_EQ(Value("States.Base64Encode('')"), "");
  EXPECT_EQ(Value("States.Base64Decode('YWI')"), "ab");  // padding optional
  EXPECT_EQ(Value("States.Base64Decode(States.Base64Encode('ñandú ✓'))"), "ñandú ✓");
  ExpectFailure("States.Base64Decode('not base64!')");
  ExpectFailure("States.Base64Decode('/w==')");  // 0xFF: not UTF-8 text
  ExpectFailure("States.Base64Encode($.n)");
  // AWS: at most 10,000 characters of input (characters, not bytes).
  Json big = {{"ok", std::string(10000, 'a')}, {"long", std::string(10001, 'a')}};
  std::string accents;
  for (int i = 0; i < 10000; ++i) accents += "é";
  big["accents"] = accents;
  EXPECT_TRUE(Eval("States.Base64Encode($.ok)", big).ok());
  EXPECT_TRUE(Eval("States.Base64Encode($.accents)", big).ok());
  ExpectFailure("States.Base64Encode($.long)", big);
  ExpectFailure("States.Base64Decode($.long)", big);
}

TEST(Intrinsic, HashWithEveryAlgorithm) {
  EXPECT_EQ(Value("States.Hash('abc', 'MD5')"), "900150983cd24fb0d6963f7d28e17f72");
  EXPECT_EQ(Value("States.Hash('abc', 'SHA-1')"), "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(Value("States.Hash('abc', 'SHA-256')"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(
      Value("States.Hash('abc', 'SHA-384')"),
      "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca"
      "134c825a7");
  EXPECT_EQ(
      Value("States.Hash('abc', 'SHA-512')"),
      "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c2"
      "3a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
  ExpectFailure("States.Hash('abc', 'SHA-3')");
  ExpectFailure("States.Hash('abc', 'sha-256')");
  ExpectFailure("States.Hash($.n, 'MD5')");
  ExpectFailure("States.Hash('abc', 5)");
  ExpectParseError("States.Hash('abc')");
}

TEST(Intrinsic, JsonMergeIsShallow) {
  EXPECT_EQ(Value("States.JsonMerge($.obj, $.other, false)").dump(),
            R"({"a":1,"b":{"d":3},"e":true})");
  ExpectFailure("States.JsonMerge($.obj, $.other, true)");
  ExpectFailure("States.JsonMerge($.obj, $.arr, false)");
  ExpectFailure("States.JsonMerge($.obj, $.other, 'false')");
  ExpectParseError("States.JsonMerge($.obj, $.other)");
}

TEST(Intrinsic, MathRandomStaysInRange) {
  std::set<int64_t> seen;
  for (int i = 0; i < 300; ++i) {
    Json v = Value("States.MathRandom(1, 4)");
    ASSERT_TRUE(v.is_number_integer());
    seen.insert(v.get<int64_t>());
  }
  EXPECT_EQ(seen, (std::set<int64_t>{1, 2, 3}));  // start inclusive, end exclusive
  // A seed makes it repeatable.
  EXPECT_EQ(Value("States.MathRandom(0, 1000000, 42)"), Value("States.MathRandom(0, 1000000, 42)"));
  EXPECT_EQ(Value("States.MathRandom(7, 8)"), 7);
  ExpectFailure("States.MathRandom(5, 5)");
  ExpectFailure("States.MathRandom('1', 5)");
  ExpectFailure("States.MathRandom(1, 5, 'seed')");
  ExpectParseError("States.MathRandom(1)");
  ExpectParseError("States.MathRandom(1, 2, 3, 4)");
}

TEST(Intrinsic, MathAddAddsIntegers) {
  EXPECT_EQ(Value("States.MathAdd(111, -1)").dump(), "110");
  EXPECT_EQ(Value("States.MathAdd($.n, $$.Map.Item.Index)"), 7);
  EXPECT_EQ(Value("States.MathAdd($.whole, 1)").dump(), "3");  // 2.0 + 1 is 3, not 3.0
  EXPECT_EQ(Value("States.MathAdd(2147483647, 1)").dump(), "2147483648");
  // AWS rounds non-integers to the nearest integer.
  EXPECT_EQ(Value("States.MathAdd($.f, 0)"), 3);
  ExpectFailure("States.MathAdd($.s, 1)");
  ExpectFailure("States.MathAdd(1, null)");
  ExpectFailure("States.MathAdd(2147483648, 1)");
  ExpectParseError("States.MathAdd(1)");
}

TEST(Intrinsic, StringSplit) {
  EXPECT_EQ(Value("States.StringSplit($.csv, ',')"), Json::parse(R"(["1","2","3","4","5"])"));
  EXPECT_EQ(Value("States.StringSplit($.mixed, $.splitter)"),
            Json::parse(R"(["This","is","a","test","string"])"));
  EXPECT_EQ(Value("States.StringSplit('a–b', '–')"), Json::parse(R"(["a","b"])"));
  EXPECT_EQ(Value("States.StringSplit('abc', '')"), Json::parse(R"(["abc"])"));
  ExpectFailure("States.StringSplit($.n, ',')");
  ExpectFailure("States.StringSplit($.csv, 1)");
}

TEST(Intrinsic, UuidIsVersion4) {
  std::regex v4("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
  std::string a = Value("States.UUID()").get<std::string>();
  std::string b = Value("States.UUID()").get<std::string>();
  EXPECT_TRUE(std::regex_match(a, v4)) << a;
  EXPECT_NE(a, b);
  ExpectParseError("States.UUID(1)");
}

TEST(Intrinsic, NestedCalls) {
  Json input = {{"ImageRecipe",
                 {{"Arn", "arn:aws:imagebuilder:us-east-1:1:image-recipe/my-recipe.v1/1.0.0"}}}};
  // AWS's nine-deep example (its page shows '{}.{}.{}' with two values, which breaks its own
  // rule "as many remaining arguments as there are occurrences of {}").
  EXPECT_EQ(Value("States.Format('{}.{}', "
                  "States.ArrayGetItem(States.StringSplit(States.ArrayGetItem(States.StringSplit("
                  "$.ImageRecipe.Arn, '/'), 2), '.'), 0), "
                  "States.ArrayGetItem(States.StringSplit(States.ArrayGetItem(States.StringSplit("
                  "$.ImageRecipe.Arn, '/'), 2), '.'), 1))",
                  input),
            "1.0");
  EXPECT_EQ(Value("States.ArrayLength(States.ArrayUnique(States.Array(1, 1, 2)))"), 2);
  // A failure deep inside is the whole call's failure.
  ExpectFailure("States.Array(1, States.ArrayLength($.s))");
}

TEST(Intrinsic, PathArgumentsMissingFail) {
  ExpectFailure("States.Format('{}', $.missing)");
  ExpectFailure("States.ArrayLength($.arr[?(@ > 100)])");
  // Indefinite paths give lists.
  EXPECT_EQ(Value("States.ArrayLength($.arr[?(@ > 5)])"), 4);
  EXPECT_EQ(Value("States.Array($['name', 'n'])"), Json::parse(R"([["Arnav", 3]])"));
}

TEST(Intrinsic, ParseErrors) {
  for (const char* bad : {
           "States.Nope(1)",              // unknown function
           "States.format('x')",          // names are case-sensitive
           "States.Format('x'",           // unclosed call
           "States.Format('x) ",          // unterminated string
           "States.Format(\"x\")",        // double quotes
           "States.Array(1,)",            // missing argument
           "States.Array(1 2)",           // missing comma
           "States.Array(1) extra",       // trailing text
           "States.Array(bogus)",         // not a value
           "States.Array($.a[)",          // bad path
           "States.Array(1.2.3)",         // bad number
           "States.StringToJson()",       // arity
           "States.ArrayLength($.a, 1)",  // arity
           "States.UUID",                 // no call
       }) {
    ExpectParseError(bad);
  }
  // At most 10 nested intrinsic functions.
  std::string nested = "1";
  for (int i = 0; i < 10; ++i) nested = "States.Array(" + nested + ")";
  EXPECT_TRUE(Intrinsic::Parse(nested).ok());
  ExpectParseError("States.Array(" + nested + ")");
}

TEST(Intrinsic, WhitespaceAndQuotedPathsInArguments) {
  EXPECT_EQ(Value("States.Format( '{}:{}' ,  $['name'] , $.arr[0] )"), "Arnav:1");
  Json input = Json::parse(R"({"a,b": "comma", "x)y": "paren"})");
  EXPECT_EQ(Value("States.Format('{} {}', $['a,b'], $['x)y'])", input), "comma paren");
}

}  // namespace
}  // namespace lote::flow
