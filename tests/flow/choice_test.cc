// Tests of Choice rules (every operator, *Path forms, Is* tests, And/Or/Not, run-time and parse
// errors) and of the States Language's RFC 3339 timestamps.
#include "lote/flow/choice.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace lote::flow {
namespace {

constexpr char kWhere[] = "States.Route.Choices[0]";

ChoiceRule MustParseRule(const std::string& rule, bool top_level = false) {
  Result<ChoiceRule> r = ChoiceRule::Parse(Json::parse(rule), top_level, kWhere);
  EXPECT_TRUE(r.ok()) << rule << " -> " << r.status().ToString();
  if (!r.ok()) std::abort();
  return *r;
}

Outcome<bool> Evaluate(const std::string& rule, const std::string& input,
                       const std::string& context = "{}") {
  return MustParseRule(rule).Matches(Json::parse(input), Json::parse(context));
}

// The rule's verdict; a run-time error fails the test.
bool Eval(const std::string& rule, const std::string& input, const std::string& context = "{}") {
  Outcome<bool> r = Evaluate(rule, input, context);
  EXPECT_TRUE(r.ok()) << rule << " on " << input << " -> " << (r.ok() ? "" : r.error().cause);
  return r.ok() && r.value();
}

// The message of the parse error (empty when the rule parses).
std::string ParseError(const std::string& rule, bool top_level = false,
                       const char* where = kWhere) {
  Result<ChoiceRule> r = ChoiceRule::Parse(Json::parse(rule), top_level, where);
  if (r.ok()) return "";
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  return r.status().message();
}

// --------------------------------------------------------------------------------------------
// Timestamps.

TEST(Timestamp, ParsesUtcAndOffsetsToTheSameInstant) {
  EXPECT_EQ(ParseTimestamp("2016-03-14T01:59:00Z"), 1457920740LL * 1000000);
  EXPECT_EQ(ParseTimestamp("2016-03-14T02:59:00+01:00"), 1457920740LL * 1000000);
  EXPECT_EQ(ParseTimestamp("2016-03-13T20:29:00-05:30"), 1457920740LL * 1000000);
  EXPECT_EQ(ParseTimestamp("2016-03-14T01:59:00-00:00"), 1457920740LL * 1000000);
  EXPECT_EQ(ParseTimestamp("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(ParseTimestamp("1900-01-01T00:00:00Z"), -2208988800LL * 1000000);
  EXPECT_EQ(ParseTimestamp("9999-12-31T23:59:59Z"), 253402300799LL * 1000000);
}

TEST(Timestamp, KeepsFractionsToTheMicrosecond) {
  const int64_t base = 1457920740LL * 1000000;
  EXPECT_EQ(ParseTimestamp("2016-03-14T01:59:00.1Z"), base + 100000);
  EXPECT_EQ(ParseTimestamp("2016-03-14T01:59:00.123Z"), base + 123000);
  EXPECT_EQ(ParseTimestamp("2016-03-14T01:59:00.123456Z"), base + 123456);
  EXPECT_EQ(ParseTimestamp("2016-03-14T01:59:00.123456789Z"), base + 123456);
  EXPECT_EQ(ParseTimestamp("2016-03-14T02:59:00.5+01:00"), base + 500000);
  EXPECT_EQ(ParseTimestamp("1969-12-31T23:59:59.999Z"), -1000);
}

TEST(Timestamp, ChecksCalendarDates) {
  EXPECT_TRUE(ParseTimestamp("2016-02-29T00:00:00Z"));  // leap year
  EXPECT_TRUE(ParseTimestamp("2000-02-29T00:00:00Z"));  // divisible by 400
  EXPECT_FALSE(ParseTimestamp("2015-02-29T00:00:00Z"));
  EXPECT_FALSE(ParseTimestamp("1900-02-29T00:00:00Z"));  // divisible by 100
  EXPECT_FALSE(ParseTimestamp("2016-02-30T00:00:00Z"));
  EXPECT_FALSE(ParseTimestamp("2016-04-31T00:00:00Z"));
  EXPECT_TRUE(ParseTimestamp("2016-12-31T00:00:00Z"));
  EXPECT_FALSE(ParseTimestamp("2016-13-01T00:00:00Z"));
  EXPECT_FALSE(ParseTimestamp("2016-00-01T00:00:00Z"));
  EXPECT_FALSE(ParseTimestamp("2016-01-00T00:00:00Z"));
  EXPECT_FALSE(ParseTimestamp("2016-01-01T24:00:00Z"));
  EXPECT_FALSE(ParseTimestamp("2016-01-01T23:60:00Z"));
  EXPECT_FALSE(ParseTimestamp("2016-12-31T23:59:60Z"));  // leap second
}

TEST(Timestamp, RefusesFormsTheStatesLanguageExcludes) {
  for (const char* bad : {
           "2016-03-14t01:59:00Z",       // lowercase t
           "2016-03-14T01:59:00z",       // lowercase z
           "2016-03-14T01:59:00",        // no zone
           "2016-03-14 01:59:00Z",       // space separator
           "2016-03-14T01:59Z",          // no seconds
           "2016-03-14",                 // date only
           "2016-03-14T01:59:00+0100",   // offset without colon
           "2016-03-14T01:59:00+01",     // offset without minutes
           "2016-03-14T01:59:00+24:00",  // offset hour out of range
           "2016-03-14T01:59:00+01:60",  // offset minute out of range
           "2016-03-14T01:59:00.Z",      // empty fraction
           "2016-03-14T01:59:00,5Z",     // comma fraction
           "2016-03-14T01:59:00Z ",      // trailing junk
           " 2016-03-14T01:59:00Z",      // leading junk
           "16-03-14T01:59:00Z",         // two-digit year
           "2016-3-14T01:59:00Z",        // one-digit month
           "+2016-03-14T01:59:00Z",      // signed year
           "2016-03-14T01:59:00ZZ",
           "",
       }) {
    EXPECT_FALSE(ParseTimestamp(bad)) << bad;
  }
}

TEST(Timestamp, FormatsMillisecondsInUtc) {
  EXPECT_EQ(FormatTimestamp(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatTimestamp(1457920740LL * 1000000 + 123456), "2016-03-14T01:59:00.123Z");
  EXPECT_EQ(FormatTimestamp(-1000), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(FormatTimestamp(-1), "1969-12-31T23:59:59.999Z");  // floors, never rounds up
  EXPECT_EQ(FormatTimestamp(*ParseTimestamp("2016-03-14T02:59:00.5+01:00")),
            "2016-03-14T01:59:00.500Z");
  EXPECT_EQ(FormatTimestamp(*ParseTimestamp("2000-02-29T23:59:59.999Z")),
            "2000-02-29T23:59:59.999Z");
  // Round trip: what the executor writes, it reads back.
  for (int64_t t : {0LL, 951825600123000LL, -2208988800000000LL, 253402300799999000LL}) {
    EXPECT_EQ(ParseTimestamp(FormatTimestamp(t)), t);
  }
}

// --------------------------------------------------------------------------------------------
// String comparisons.

TEST(ChoiceRule, StringOperatorsCompareOrderedAndCaseSensitive) {
  const std::string in = R"({"s": "banana"})";
  EXPECT_TRUE(Eval(R"({"Variable": "$.s", "StringEquals": "banana"})", in));
  EXPECT_FALSE(Eval(R"({"Variable": "$.s", "StringEquals": "Banana"})", in));
  EXPECT_TRUE(Eval(R"({"Variable": "$.s", "StringLessThan": "cherry"})", in));
  EXPECT_FALSE(Eval(R"({"Variable": "$.s", "StringLessThan": "banana"})", in));
  EXPECT_FALSE(Eval(R"({"Variable": "$.s", "StringLessThan": "apple"})", in));
  EXPECT_TRUE(Eval(R"({"Variable": "$.s", "StringGreaterThan": "banan"})", in));
  EXPECT_FALSE(Eval(R"({"Variable": "$.s", "StringGreaterThan": "banana"})", in));
  EXPECT_TRUE(Eval(R"({"Variable": "$.s", "StringLessThanEquals": "banana"})", in));
  EXPECT_FALSE(Eval(R"({"Variable": "$.s", "StringLessThanEquals": "bananA"})", in));
  EXPECT_TRUE(Eval(R"({"Variable": "$.s", "StringGreaterThanEquals": "banana"})", in));
  EXPECT_TRUE(Eval(R"({"Variable": "$.s", "StringGreaterThanEquals": "Zebra"})", in));
  EXPECT_FALSE(Eval(R"({"Variable": "$.s", "StringGreaterThanEquals": "bananas"})", in));
  // Uppercase sorts before lowercase (no case folding); "" is the least string.
  EXPECT_TRUE(Eval(R"({"Variable": "$.s", "StringLessThan": "b"})", R"({"s": "B"})"));
  EXPECT_TRUE(Eval(R"({"Variable": "$.s", "StringGreaterThan": ""})", in));
  // No Unicode normalization: precomposed and decomposed e-acute differ.
  EXPECT_FALSE(
      Eval(R"({"Variable": "$.s", "StringEquals": "caf\u00e9"})", R"({"s": "cafe\u0301"})"));
}

TEST(ChoiceRule, StringOrderIsJavaCompareToOverUtf16Units) {
  // AWS defines string comparison as Java's String.compareTo: a character above U+FFFF (here
  // U+1F600, surrogates D83D DE00) sorts BEFORE U+FF5E, unlike code point order.
  const std::string rule = R"({"Variable": "$.s", "StringLessThan": "\uff5e"})";
  EXPECT_TRUE(Eval(rule, R"({"s": "\ud83d\ude00"})"));
  // Elsewhere it agrees with code point order.
  EXPECT_TRUE(Eval(R"({"Variable": "$.s", "StringLessThan": "\u00e9"})", R"({"s": "z"})"));
  EXPECT_TRUE(Eval(R"({"Variable": "$.s", "StringGreaterThan": "\u4e00"})", R"({"s": "\uac00"})"));
}

TEST(ChoiceRule, ComparisonOfTheWrongTypeIsFalseNotAnError) {
  EXPECT_FALSE(Eval(R"({"Variable": "$.v", "StringEquals": "1"})", R"({"v": 1})"));
  EXPECT_FALSE(Eval(R"({"Variable": "$.v", "StringLessThan": "z"})", R"({"v": null})"));
  EXPECT_FALSE(Eval(R"({"Variable": "$.v", "StringGreaterThan": ""})", R"({"v": ["a"]})"));
  EXPECT_FALSE(Eval(R"({"Variable": "$.v", "StringMatches": "*"})", R"({"v": {"a": 1}})"));
  EXPECT_FALSE(Eval(R"({"Variable": "$.v", "NumericEquals": 1})", R"({"v": "1"})"));
  EXPECT_FALSE(Eval(R"({"Variable": "$.v", "NumericEquals": 1})", R"({"v": true})"));
  EXPECT_FALSE(Eval(R"({"Variable": "$.v", "NumericLessThan": 5})", R"({"v": null})"));
  EXPECT_FALSE(Eval(R"({"Variable": "$.v", "BooleanEquals": true})", R"({"v": "true"})"));
  EXPECT_FALSE(Eval(R"({"Variable": "$.v", "BooleanEquals": false})", R"({"v": 0})"));
  EXPECT_FALSE(Eval(R"({"Variable": "$.v", "TimestampEquals": "2016-03-14T01:59:00Z"})",
                    R"({"v": 1457920740})"));
  EXPECT_FALSE(Eval(R"({"Variable": "$.v", "TimestampLessThan": "2016-03-14T01:59:00Z"})",
                    R"({"v": "yesterday"})"));
  // A wrong type is false under Not too, so Not of it is true.
  EXPECT_TRUE(Eval(R"({"Not": {"Variable": "$.v", "NumericEquals": 1}})", R"({"v": "1"})"));
}

TEST(ChoiceRule, StringMatchesWildcards) {
  auto matches = [](const std::string& pattern_json, const std::string& value_json) {
    return Eval(R"({"Variable": "$.s", "StringMatches": )" + pattern_json + "}",
                R"({"s": )" + value_json + "}");
  };
  // The spec's examples.
  EXPECT_TRUE(matches(R"("foo*.log")", R"("foo23.log")"));
  EXPECT_TRUE(matches(R"("*.log")", R"("zebra.log")"));
  EXPECT_TRUE(matches(R"("foo*.*")", R"("foobar.zebra")"));
  EXPECT_FALSE(matches(R"("foo*.log")", R"("foo23.txt")"));
  EXPECT_FALSE(matches(R"("foo*.log")", R"("xfoo23.log")"));
  // '*' matches zero characters, and only '*' is special.
  EXPECT_TRUE(matches(R"("foo*.log")", R"("foo.log")"));
  EXPECT_TRUE(matches(R"("*")", R"("")"));
  EXPECT_TRUE(matches(R"("**")", R"("anything")"));
  EXPECT_TRUE(matches(R"("")", R"("")"));
  EXPECT_FALSE(matches(R"("")", R"("x")"));
  EXPECT_TRUE(matches(R"("a?c[.]")", R"("a?c[.]")"));
  EXPECT_FALSE(matches(R"("a?c")", R"("abc")"));
  EXPECT_TRUE(matches(R"("exact")", R"("exact")"));
  EXPECT_FALSE(matches(R"("exact")", R"("exactly")"));
  // Pieces may not overlap: "a*a" needs two a's.
  EXPECT_FALSE(matches(R"("a*a")", R"("a")"));
  EXPECT_TRUE(matches(R"("a*a")", R"("aa")"));
  EXPECT_TRUE(matches(R"("*ab*ab")", R"("xabyabab")"));
  EXPECT_FALSE(matches(R"("*ab*ab*ab")", R"("abab")"));
  EXPECT_TRUE(matches(R"("*\u00e9*")", R"("caf\u00e9s")"));
  // Case sensitive.
  EXPECT_FALSE(matches(R"("FOO*")", R"("foo")"));
}

TEST(ChoiceRule, StringMatchesEscapes) {
  auto matches = [](const std::string& pattern_json, const std::string& value_json) {
    return Eval(R"({"Variable": "$.s", "StringMatches": )" + pattern_json + "}",
                R"({"s": )" + value_json + "}");
  };
  // JSON "a\\*b" is the pattern a\*b: a literal star.
  EXPECT_TRUE(matches(R"("a\\*b")", R"("a*b")"));
  EXPECT_FALSE(matches(R"("a\\*b")", R"("axb")"));
  EXPECT_FALSE(matches(R"("a\\*b")", R"("ab")"));
  // JSON "a\\\\b" is the pattern a\\b: one literal backslash.
  EXPECT_TRUE(matches(R"("a\\\\b")", R"("a\\b")"));
  EXPECT_FALSE(matches(R"("a\\\\b")", R"("a\\\\b")"));
  // a\\* : a literal backslash, then a wildcard.
  EXPECT_TRUE(matches(R"("a\\\\*")", R"("a\\anything")"));
  EXPECT_FALSE(matches(R"("a\\\\*")", R"("a*")"));
  // Escaped and real wildcards together: *\** is "contains a star".
  EXPECT_TRUE(matches(R"("*\\**")", R"("x*y")"));
  EXPECT_FALSE(matches(R"("*\\**")", R"("xy")"));
}

TEST(ChoiceRule, StringMatchesOpenEscapeIsRuntimeError) {
  // The spec: "If an open escape backslash \ is found in the StringMatches string, the
  // interpreter will throw a runtime error."
  for (const char* pattern : {R"("a\\b")", R"("trailing\\")"}) {
    Outcome<bool> r =
        Evaluate(std::string(R"({"Variable": "$.s", "StringMatches": )") + pattern + "}",
                 R"({"s": "a\\b"})");
    ASSERT_FALSE(r.ok()) << pattern;
    EXPECT_EQ(r.error().error, kStatesRuntime);
  }
}

// --------------------------------------------------------------------------------------------
// Numbers, booleans, timestamps.

TEST(ChoiceRule, NumericOperators) {
  const std::string in = R"({"n": 20})";
  EXPECT_TRUE(Eval(R"({"Variable": "$.n", "NumericEquals": 20})", in));
  EXPECT_FALSE(Eval(R"({"Variable": "$.n", "NumericEquals": 21})", in));
  EXPECT_TRUE(Eval(R"({"Variable": "$.n", "NumericLessThan": 20.5})", in));
  EXPECT_FALSE(Eval(R"({"Variable": "$.n", "NumericLessThan": 20})", in));
  EXPECT_TRUE(Eval(R"({"Variable": "$.n", "NumericGreaterThan": -3})", in));
  EXPECT_FALSE(Eval(R"({"Variable": "$.n", "NumericGreaterThan": 20})", in));
  EXPECT_TRUE(Eval(R"({"Variable": "$.n", "NumericLessThanEquals": 20})", in));
  EXPECT_FALSE(Eval(R"({"Variable": "$.n", "NumericLessThanEquals": 19.999})", in));
  EXPECT_TRUE(Eval(R"({"Variable": "$.n", "NumericGreaterThanEquals": 20})", in));
  EXPECT_FALSE(Eval(R"({"Variable": "$.n", "NumericGreaterThanEquals": 20.001})", in));
  EXPECT_TRUE(Eval(R"({"Variable": "$.n", "NumericLessThan": 0})", R"({"n": -0.5})"));
  EXPECT_TRUE(Eval(R"({"Variable": "$.n", "NumericEquals": 1e3})", R"({"n": 1000})"));
}

TEST(ChoiceRule, NumericEqualityIgnoresIntegerOrFloatForm) {
  EXPECT_TRUE(Eval(R"({"Variable": "$.n", "NumericEquals": 1})", R"({"n": 1.0})"));
  EXPECT_TRUE(Eval(R"({"Variable": "$.n", "NumericEquals": 1.0})", R"({"n": 1})"));
  EXPECT_TRUE(Eval(R"({"Variable": "$.n", "NumericEquals": 0})", R"({"n": -0.0})"));
  EXPECT_TRUE(Eval(R"({"Variable": "$.n", "NumericEqualsPath": "$.m"})", R"({"n": 2, "m": 2.0})"));
  // Two integers compare exactly even past 2^53; unsigned 64-bit values too.
  EXPECT_TRUE(Eval(R"({"Variable": "$.n", "NumericGreaterThan": 9007199254740992})",
                   R"({"n": 9007199254740993})"));
  EXPECT_TRUE(
      Eval(R"({"Variable": "$.n", "NumericGreaterThan": -1})", R"({"n": 18446744073709551615})"));
  EXPECT_TRUE(Eval(R"({"Variable": "$.n", "NumericLessThan": 18446744073709551615})",
                   R"({"n": -9223372036854775808})"));
}

TEST(ChoiceRule, BooleanEquals) {
  EXPECT_TRUE(Eval(R"({"Variable": "$.b", "BooleanEquals": true})", R"({"b": true})"));
  EXPECT_FALSE(Eval(R"({"Variable": "$.b", "BooleanEquals": true})", R"({"b": false})"));
  EXPECT_TRUE(Eval(R"({"Variable": "$.b", "BooleanEquals": false})", R"({"b": false})"));
  EXPECT_FALSE(Eval(R"({"Variable": "$.b", "BooleanEquals": false})", R"({"b": null})"));
}

TEST(ChoiceRule, TimestampOperatorsCompareInstants) {
  const std::string in = R"({"t": "2016-03-14T02:59:00+01:00"})";  // = 01:59:00Z
  EXPECT_TRUE(Eval(R"({"Variable": "$.t", "TimestampEquals": "2016-03-14T01:59:00Z"})", in));
  EXPECT_FALSE(Eval(R"({"Variable": "$.t", "TimestampEquals": "2016-03-14T01:59:00.001Z"})", in));
  EXPECT_TRUE(Eval(R"({"Variable": "$.t", "TimestampLessThan": "2016-03-14T01:59:00.001Z"})", in));
  EXPECT_FALSE(Eval(R"({"Variable": "$.t", "TimestampLessThan": "2016-03-14T01:59:00Z"})", in));
  EXPECT_TRUE(Eval(R"({"Variable": "$.t", "TimestampGreaterThan": "2016-03-14T01:58:59Z"})", in));
  EXPECT_FALSE(
      Eval(R"({"Variable": "$.t", "TimestampGreaterThan": "2016-03-14T03:00:00+01:00"})", in));
  EXPECT_TRUE(
      Eval(R"({"Variable": "$.t", "TimestampLessThanEquals": "2016-03-14T01:59:00Z"})", in));
  EXPECT_FALSE(
      Eval(R"({"Variable": "$.t", "TimestampLessThanEquals": "2016-03-13T01:59:00Z"})", in));
  EXPECT_TRUE(
      Eval(R"({"Variable": "$.t", "TimestampGreaterThanEquals": "2016-03-14T01:59:00Z"})", in));
  EXPECT_FALSE(
      Eval(R"({"Variable": "$.t", "TimestampGreaterThanEquals": "2017-01-01T00:00:00Z"})", in));
  // The same text under a string comparator is compared as text (the spec allows it).
  EXPECT_FALSE(Eval(R"({"Variable": "$.t", "StringEquals": "2016-03-14T01:59:00Z"})", in));
  EXPECT_TRUE(Eval(R"({"Variable": "$.t", "StringEquals": "2016-03-14T02:59:00+01:00"})", in));
  // A lowercase form is not a timestamp, so the comparison is false.
  EXPECT_FALSE(Eval(R"({"Variable": "$.t", "TimestampEquals": "2016-03-14T01:59:00Z"})",
                    R"({"t": "2016-03-14t01:59:00z"})"));
}

// --------------------------------------------------------------------------------------------
// *Path variants.

TEST(ChoiceRule, PathVariantsCompareTwoInputValues) {
  const std::string in = R"({
    "s": "m", "lo": "a", "hi": "z", "n": 5, "five": 5, "ten": 10.0,
    "b": true, "yes": true, "no": false,
    "t": "2020-01-01T00:00:00Z", "same": "2020-01-01T01:00:00+01:00",
    "later": "2020-06-01T00:00:00Z"})";
  EXPECT_TRUE(Eval(R"({"Variable": "$.s", "StringEqualsPath": "$.s"})", in));
  EXPECT_FALSE(Eval(R"({"Variable": "$.s", "StringEqualsPath": "$.lo"})", in));
  EXPECT_TRUE(Eval(R"({"Variable": "$.s", "StringLessThanPath": "$.hi"})", in));
  EXPECT_TRUE(Eval(R"({"Variable": "$.s", "StringGreaterThanPath": "$.lo"})", in));
  EXPECT_FALSE(Eval(R"({"Variable": "$.s", "StringGreaterThanPath": "$.hi"})", in));
  EXPECT_TRUE(Eval(R"({"Variable": "$.s", "StringLessThanEqualsPath": "$.s"})", in));
  EXPECT_TRUE(Eval(R"({"Variable": "$.s", "StringGreaterThanEqualsPath": "$.lo"})", in));
  EXPECT_TRUE(Eval(R"({"Variable": "$.n", "NumericEqualsPath": "$.five"})", in));
  EXPECT_TRUE(Eval(R"({"Variable": "$.n", "NumericLessThanPath": "$.ten"})", in));
  EXPECT_FALSE(Eval(R"({"Variable": "$.n", "NumericGreaterThanPath": "$.ten"})", in));
  EXPECT_TRUE(Eval(R"({"Variable": "$.n", "NumericLessThanEqualsPath": "$.five"})", in));
  EXPECT_TRUE(Eval(R"({"Variable": "$.ten", "NumericGreaterThanEqualsPath": "$.n"})", in));
  EXPECT_TRUE(Eval(R"({"Variable": "$.b", "BooleanEqualsPath": "$.yes"})", in));
  EXPECT_FALSE(Eval(R"({"Variable": "$.b", "BooleanEqualsPath": "$.no"})", in));
  EXPECT_TRUE(Eval(R"({"Variable": "$.t", "TimestampEqualsPath": "$.same"})", in));
  EXPECT_TRUE(Eval(R"({"Variable": "$.t", "TimestampLessThanPath": "$.later"})", in));
  EXPECT_FALSE(Eval(R"({"Variable": "$.t", "TimestampGreaterThanPath": "$.later"})", in));
  EXPECT_TRUE(Eval(R"({"Variable": "$.t", "TimestampLessThanEqualsPath": "$.same"})", in));
  EXPECT_TRUE(Eval(R"({"Variable": "$.later", "TimestampGreaterThanEqualsPath": "$.t"})", in));
}

TEST(ChoiceRule, PathOperandOfTheWrongTypeIsFalse) {
  const std::string in =
      R"({"s": "5", "n": 5, "b": true, "t": "2020-01-01T00:00:00Z", "bad": "2020-01-01"})";
  EXPECT_FALSE(Eval(R"({"Variable": "$.s", "StringEqualsPath": "$.n"})", in));
  EXPECT_FALSE(Eval(R"({"Variable": "$.n", "NumericEqualsPath": "$.s"})", in));
  EXPECT_FALSE(Eval(R"({"Variable": "$.b", "BooleanEqualsPath": "$.s"})", in));
  EXPECT_FALSE(Eval(R"({"Variable": "$.t", "TimestampEqualsPath": "$.bad"})", in));
  EXPECT_FALSE(Eval(R"({"Variable": "$.t", "TimestampLessThanEqualsPath": "$.n"})", in));
  EXPECT_FALSE(Eval(R"({"Variable": "$.bad", "TimestampEqualsPath": "$.t"})", in));
}

TEST(ChoiceRule, PathOperandThatSelectsNothingIsRuntimeError) {
  Outcome<bool> r =
      Evaluate(R"({"Variable": "$.n", "NumericLessThanPath": "$.limit"})", R"({"n": 1})");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().error, kStatesRuntime);
  EXPECT_NE(r.error().cause.find("$.limit"), std::string::npos) << r.error().cause;
}

TEST(ChoiceRule, VariableAndOperandMayReadTheContextObject) {
  const std::string context =
      R"({"Execution": {"Name": "run-7", "Input": {"tier": "gold"}},
          "State": {"RetryCount": 2}})";
  EXPECT_TRUE(
      Eval(R"({"Variable": "$$.Execution.Input.tier", "StringEquals": "gold"})", "{}", context));
  EXPECT_TRUE(Eval(R"({"Variable": "$$.State.RetryCount", "NumericLessThan": 3})", "{}", context));
  EXPECT_TRUE(Eval(R"({"Variable": "$.name", "StringEqualsPath": "$$.Execution.Name"})",
                   R"({"name": "run-7"})", context));
  EXPECT_FALSE(Eval(R"({"Variable": "$$.Execution.Missing", "IsPresent": true})", "{}", context));
  Outcome<bool> r = MustParseRule(R"({"Variable": "$$.Execution.Missing", "StringEquals": "x"})")
                        .Matches(Json::object(), Json::parse(context));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().error, kStatesRuntime);
  EXPECT_NE(r.error().cause.find("context object"), std::string::npos) << r.error().cause;
}

TEST(ChoiceRule, ReferencePathsWithIndexesAndQuotedNames) {
  const std::string in = R"({"items": [{"id": "a"}, {"id": "b"}], "odd key": 3})";
  EXPECT_TRUE(Eval(R"({"Variable": "$.items[1].id", "StringEquals": "b"})", in));
  EXPECT_TRUE(Eval(R"({"Variable": "$['odd key']", "NumericEquals": 3})", in));
  EXPECT_FALSE(Eval(R"({"Variable": "$.items[2]", "IsPresent": true})", in));
  EXPECT_TRUE(Eval(R"({"Variable": "$", "IsPresent": true})", in));
}

// --------------------------------------------------------------------------------------------
// Type tests.

TEST(ChoiceRule, TypeTests) {
  const std::string in = R"({"null": null, "n": 1.5, "i": 3, "s": "x", "b": false,
      "t": "2016-03-14T01:59:00Z", "badt": "2016-02-30T00:00:00Z", "o": {}, "a": []})";
  auto is = [&](const char* op, const char* var, bool expected) {
    return Eval(std::string(R"({"Variable": "$.)") + var + R"(", ")" + op + R"(": )" +
                    (expected ? "true" : "false") + "}",
                in);
  };
  EXPECT_TRUE(is("IsNull", "null", true));
  EXPECT_FALSE(is("IsNull", "s", true));
  EXPECT_TRUE(is("IsNull", "s", false));
  EXPECT_FALSE(is("IsNull", "null", false));
  EXPECT_TRUE(is("IsNumeric", "n", true));
  EXPECT_TRUE(is("IsNumeric", "i", true));
  EXPECT_FALSE(is("IsNumeric", "s", true));
  EXPECT_FALSE(is("IsNumeric", "b", true));
  EXPECT_TRUE(is("IsNumeric", "null", false));
  EXPECT_TRUE(is("IsString", "s", true));
  EXPECT_TRUE(is("IsString", "t", true));
  EXPECT_FALSE(is("IsString", "n", true));
  EXPECT_TRUE(is("IsString", "o", false));
  EXPECT_TRUE(is("IsBoolean", "b", true));
  EXPECT_FALSE(is("IsBoolean", "s", true));
  EXPECT_TRUE(is("IsBoolean", "a", false));
  EXPECT_TRUE(is("IsTimestamp", "t", true));
  EXPECT_FALSE(is("IsTimestamp", "badt", true));
  EXPECT_FALSE(is("IsTimestamp", "s", true));
  EXPECT_FALSE(is("IsTimestamp", "n", true));
  EXPECT_TRUE(is("IsTimestamp", "badt", false));
}

TEST(ChoiceRule, IsPresentTestsAbsenceWithoutError) {
  const std::string in = R"({"a": null, "b": {"c": 0}})";
  EXPECT_TRUE(Eval(R"({"Variable": "$.a", "IsPresent": true})", in));  // null is present
  EXPECT_TRUE(Eval(R"({"Variable": "$.b.c", "IsPresent": true})", in));
  EXPECT_FALSE(Eval(R"({"Variable": "$.missing", "IsPresent": true})", in));
  EXPECT_TRUE(Eval(R"({"Variable": "$.missing", "IsPresent": false})", in));
  EXPECT_FALSE(Eval(R"({"Variable": "$.b.c.d", "IsPresent": true})", in));  // through a number
  EXPECT_FALSE(Eval(R"({"Variable": "$.a", "IsPresent": false})", in));
}

TEST(ChoiceRule, MissingVariableIsRuntimeErrorForEveryOtherOperator) {
  for (const char* test : {
           R"("StringEquals": "x")",
           R"("StringLessThan": "x")",
           R"("StringGreaterThan": "x")",
           R"("StringLessThanEquals": "x")",
           R"("StringGreaterThanEquals": "x")",
           R"("StringMatches": "*")",
           R"("NumericEquals": 1)",
           R"("NumericLessThan": 1)",
           R"("NumericGreaterThan": 1)",
           R"("NumericLessThanEquals": 1)",
           R"("NumericGreaterThanEquals": 1)",
           R"("BooleanEquals": true)",
           R"("TimestampEquals": "2016-03-14T01:59:00Z")",
           R"("TimestampLessThan": "2016-03-14T01:59:00Z")",
           R"("TimestampGreaterThan": "2016-03-14T01:59:00Z")",
           R"("TimestampLessThanEquals": "2016-03-14T01:59:00Z")",
           R"("TimestampGreaterThanEquals": "2016-03-14T01:59:00Z")",
           R"("StringEqualsPath": "$.x")",
           R"("NumericEqualsPath": "$.x")",
           R"("BooleanEqualsPath": "$.x")",
           R"("TimestampEqualsPath": "$.x")",
           R"("IsNull": true)",
           R"("IsNull": false)",
           R"("IsNumeric": false)",
           R"("IsString": false)",
           R"("IsBoolean": false)",
           R"("IsTimestamp": false)",
       }) {
    Outcome<bool> r =
        Evaluate(std::string(R"({"Variable": "$.missing", )") + test + "}", R"({"x": 1})");
    ASSERT_FALSE(r.ok()) << test;
    EXPECT_EQ(r.error().error, kStatesRuntime) << test;
    EXPECT_NE(r.error().cause.find("$.missing"), std::string::npos) << r.error().cause;
  }
}

// --------------------------------------------------------------------------------------------
// And, Or, Not.

TEST(ChoiceRule, AwsDocumentationExample) {
  const Json choices = Json::parse(R"([
    {"Not": {"Variable": "$.type", "StringEquals": "Private"}, "Next": "Public"},
    {"Variable": "$.value", "NumericEquals": 0, "Next": "ValueIsZero"},
    {"And": [{"Variable": "$.value", "NumericGreaterThanEquals": 20},
             {"Variable": "$.value", "NumericLessThan": 30}],
     "Next": "ValueInTwenties"}])");
  std::vector<ChoiceRule> rules;
  for (size_t i = 0; i < choices.size(); ++i) {
    Result<ChoiceRule> r =
        ChoiceRule::Parse(choices[i], true, "States.X.Choices[" + std::to_string(i) + "]");
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    rules.push_back(*r);
  }
  auto first_match = [&](const std::string& input) -> std::string {
    for (const ChoiceRule& rule : rules) {
      Outcome<bool> m = rule.Matches(Json::parse(input), Json::object());
      if (!m.ok()) return m.error().error;
      if (m.value()) return rule.next();
    }
    return "Default";
  };
  EXPECT_EQ(first_match(R"({"type": "Private", "value": 22})"), "ValueInTwenties");
  EXPECT_EQ(first_match(R"({"type": "Public", "value": 22})"), "Public");
  EXPECT_EQ(first_match(R"({"type": "Private", "value": 0})"), "ValueIsZero");
  EXPECT_EQ(first_match(R"({"type": "Private", "value": 30})"), "Default");
  // AWS: "If the state input doesn't contain the $.type field, the execution fails".
  EXPECT_EQ(first_match(R"({"value": 22})"), kStatesRuntime);
}

TEST(ChoiceRule, AndOrNotCombine) {
  const std::string in = R"({"a": 1, "b": "x"})";
  const char* t = R"({"Variable": "$.a", "NumericEquals": 1})";
  const char* f = R"({"Variable": "$.b", "StringEquals": "y"})";
  auto and_ = [](const std::string& x, const std::string& y) {
    return R"({"And": [)" + x + "," + y + "]}";
  };
  auto or_ = [](const std::string& x, const std::string& y) {
    return R"({"Or": [)" + x + "," + y + "]}";
  };
  auto not_ = [](const std::string& x) { return R"({"Not": )" + x + "}"; };
  EXPECT_TRUE(Eval(and_(t, t), in));
  EXPECT_FALSE(Eval(and_(t, f), in));
  EXPECT_FALSE(Eval(and_(f, t), in));
  EXPECT_TRUE(Eval(or_(f, t), in));
  EXPECT_FALSE(Eval(or_(f, f), in));
  EXPECT_FALSE(Eval(not_(t), in));
  EXPECT_TRUE(Eval(not_(f), in));
  EXPECT_TRUE(Eval(not_(not_(t)), in));
  EXPECT_TRUE(Eval(R"({"And": [)" + std::string(t) + "]}", in));  // a single rule
  EXPECT_TRUE(Eval(R"({"Or": [)" + std::string(f) + "," + f + "," + t + "]}", in));
  // Deep nesting: Not(Or(And(t, Not(f)), f)) = Not(true) = false.
  EXPECT_FALSE(Eval(not_(or_(and_(t, not_(f)), f)), in));
  EXPECT_TRUE(Eval(and_(or_(f, not_(and_(t, f))), not_(not_(or_(t, f)))), in));
  // 500 levels of Not (an even count) are fine.
  std::string deep = t;
  for (int i = 0; i < 500; ++i) deep = not_(deep);
  EXPECT_TRUE(Eval(deep, in));
}

TEST(ChoiceRuleParse, AbsurdNestingIsRefusedNotAStackOverflow) {
  std::string deep;
  for (int i = 0; i < 100000; ++i) deep += R"({"Not": )";
  deep += R"({"Variable": "$.a", "IsNull": true})";
  deep += std::string(100000, '}');
  Result<ChoiceRule> r = ChoiceRule::Parse(Json::parse(deep), false, "States.C.Choices[0]");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("nest deeper than 500 levels"), std::string::npos);
}

TEST(ChoiceRule, AndOrStopOnceDecided) {
  const char* t = R"({"Variable": "$.a", "IsPresent": true})";
  const char* f = R"({"Variable": "$.a", "IsNull": true})";
  const char* err = R"({"Variable": "$.missing", "StringEquals": "x"})";
  const std::string in = R"({"a": 1})";
  EXPECT_FALSE(Eval(R"({"And": [)" + std::string(f) + "," + err + "]}", in));
  EXPECT_TRUE(Eval(R"({"Or": [)" + std::string(t) + "," + err + "]}", in));
  Outcome<bool> r = Evaluate(R"({"And": [)" + std::string(t) + "," + err + "]}", in);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().error, kStatesRuntime);
  r = Evaluate(R"({"Not": {"Or": [)" + std::string(f) + "," + err + "]}}", in);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().error, kStatesRuntime);
}

TEST(ChoiceRule, TopLevelRuleKeepsNext) {
  ChoiceRule rule = MustParseRule(
      R"({"Variable": "$.x", "IsPresent": true, "Next": "Publish", "Comment": "has x"})", true);
  EXPECT_EQ(rule.next(), "Publish");
  EXPECT_EQ(MustParseRule(R"({"Variable": "$.x", "IsPresent": true})").next(), "");
}

TEST(ChoiceRule, ParsedRuleIsSharedAcrossThreads) {
  const ChoiceRule rule = MustParseRule(
      R"({"And": [{"Variable": "$.n", "NumericGreaterThan": 10},
                  {"Variable": "$.s", "StringMatches": "log-*.txt"}]})");
  std::atomic<int> matched{0};
  std::vector<std::thread> threads;
  for (int k = 0; k < 4; ++k) {
    threads.emplace_back([&, k] {
      for (int i = 0; i < 500; ++i) {
        Json in = {{"n", i % 20}, {"s", "log-" + std::to_string(k) + ".txt"}};
        Outcome<bool> r = rule.Matches(in, Json::object());
        if (r.ok() && r.value()) ++matched;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(matched.load(), 4 * 500 * 9 / 20);  // n in 11..19
}

// --------------------------------------------------------------------------------------------
// Parse errors.

TEST(ChoiceRuleParse, ErrorsNameTheField) {
  EXPECT_EQ(ParseError(R"({"And": [{"Variable": "$.x", "NumericEquals": "1"}], "Next": "N"})", true,
                       "States.Route.Choices[1]"),
            "States.Route.Choices[1].And[0].NumericEquals: expected a number");
  EXPECT_EQ(ParseError(R"({"Variable": "$.x", "StringEquals": 1})"),
            "States.Route.Choices[0].StringEquals: expected a string");
  EXPECT_EQ(ParseError(R"({"Variable": "$.x", "StringMatches": 1})"),
            "States.Route.Choices[0].StringMatches: expected a string");
  EXPECT_EQ(ParseError(R"({"Variable": "$.x", "BooleanEquals": "true"})"),
            "States.Route.Choices[0].BooleanEquals: expected true or false");
  EXPECT_EQ(ParseError(R"({"Variable": "$.x", "IsPresent": 1})"),
            "States.Route.Choices[0].IsPresent: expected true or false");
  EXPECT_EQ(ParseError(R"({"Variable": "$.x", "IsNull": "true"})"),
            "States.Route.Choices[0].IsNull: expected true or false");
  EXPECT_EQ(ParseError(R"({"Variable": "$.x", "NumericLessThan": true})"),
            "States.Route.Choices[0].NumericLessThan: expected a number");
  EXPECT_EQ(ParseError(R"({"Variable": "$.x", "NumericGreaterThan": null})"),
            "States.Route.Choices[0].NumericGreaterThan: expected a number");
}

TEST(ChoiceRuleParse, TimestampLiteralsMustBeValid) {
  for (const char* bad :
       {R"("2016-03-14")", R"("2016-03-14t01:59:00z")", R"("2016-02-30T00:00:00Z")",
        R"("2016-03-14T01:59:00")", "1457920740", "null"}) {
    const std::string msg =
        ParseError(std::string(R"({"Variable": "$.t", "TimestampLessThan": )") + bad + "}");
    EXPECT_EQ(msg.rfind("States.Route.Choices[0].TimestampLessThan: expected a timestamp", 0), 0u)
        << bad << " -> " << msg;
  }
}

TEST(ChoiceRuleParse, NextIsRequiredAtTopLevelAndForbiddenWhenNested) {
  EXPECT_EQ(ParseError(R"({"Variable": "$.x", "IsPresent": true})", true),
            "States.Route.Choices[0].Next: required on a top-level choice rule");
  EXPECT_EQ(ParseError(R"({"Variable": "$.x", "IsPresent": true, "Next": "N"})", false),
            "States.Route.Choices[0].Next: not allowed in a rule nested inside And, Or or Not");
  EXPECT_EQ(
      ParseError(R"({"Not": {"Variable": "$.x", "IsPresent": true, "Next": "N"}, "Next": "M"})",
                 true),
      "States.Route.Choices[0].Not.Next: not allowed in a rule nested inside And, Or or Not");
  EXPECT_EQ(ParseError(R"({"Or": [{"Variable": "$.x", "IsPresent": true},
                                   {"Variable": "$.x", "IsNull": true, "Next": "N"}],
                           "Next": "M"})",
                       true),
            "States.Route.Choices[0].Or[1].Next: not allowed in a rule nested inside And, Or or "
            "Not");
  EXPECT_EQ(ParseError(R"({"Variable": "$.x", "IsPresent": true, "Next": 3})", true),
            "States.Route.Choices[0].Next: expected a state name (a non-empty string)");
  EXPECT_EQ(ParseError(R"({"Variable": "$.x", "IsPresent": true, "Next": ""})", true),
            "States.Route.Choices[0].Next: expected a state name (a non-empty string)");
}

TEST(ChoiceRuleParse, ExactlyOneOperator) {
  EXPECT_EQ(ParseError(R"({"Variable": "$.x", "StringEquals": "a", "NumericEquals": 1})"),
            "States.Route.Choices[0].NumericEquals: a choice rule has exactly one comparison "
            "operator, and StringEquals is already given");
  EXPECT_EQ(ParseError(R"({"Variable": "$.x", "StringEquals": "a", "StringEqualsPath": "$.y"})"),
            "States.Route.Choices[0].StringEqualsPath: a choice rule has exactly one comparison "
            "operator, and StringEquals is already given");
  EXPECT_EQ(ParseError(R"({"And": [{"Variable": "$.x", "IsNull": true}],
                           "Or": [{"Variable": "$.x", "IsNull": true}]})"),
            "States.Route.Choices[0].Or: a choice rule has exactly one comparison operator, and "
            "And is already given");
  EXPECT_EQ(ParseError(R"({"Not": {"Variable": "$.x", "IsNull": true}, "IsNull": true})"),
            "States.Route.Choices[0].IsNull: a choice rule has exactly one comparison operator, "
            "and Not is already given");
  EXPECT_EQ(ParseError(R"({"Variable": "$.x", "Next": "N"})", true),
            "States.Route.Choices[0]: a choice rule needs a comparison operator (StringEquals, "
            "NumericLessThan, IsPresent, ...) or And, Or, Not");
  EXPECT_NE(ParseError(R"({"Not": {}})").find("States.Route.Choices[0].Not: a choice rule needs"),
            std::string::npos);
}

TEST(ChoiceRuleParse, VariableRules) {
  EXPECT_EQ(ParseError(R"({"StringEquals": "a"})"),
            "States.Route.Choices[0].Variable: required with StringEquals");
  EXPECT_EQ(ParseError(R"({"Variable": "$.x", "And": [{"Variable": "$.x", "IsNull": true}]})"),
            "States.Route.Choices[0].Variable: not allowed with And");
  EXPECT_EQ(ParseError(R"({"Variable": "$.x", "Not": {"Variable": "$.x", "IsNull": true}})"),
            "States.Route.Choices[0].Variable: not allowed with Not");
  EXPECT_EQ(ParseError(R"({"Variable": 1, "IsNull": true})"),
            "States.Route.Choices[0].Variable: expected a path (a string)");
  EXPECT_EQ(ParseError(R"({"Variable": "x.y", "IsNull": true})")
                .rfind("States.Route.Choices[0].Variable: ", 0),
            0u);
  EXPECT_EQ(ParseError(R"({"Variable": "$.items[*]", "IsNull": true})"),
            "States.Route.Choices[0].Variable: '$.items[*]' must be a reference path (names and "
            "indexes only)");
}

TEST(ChoiceRuleParse, PathOperandsMustBeReferencePaths) {
  EXPECT_EQ(ParseError(R"({"Variable": "$.x", "NumericEqualsPath": 3})"),
            "States.Route.Choices[0].NumericEqualsPath: expected a path (a string)");
  EXPECT_EQ(ParseError(R"({"Variable": "$.x", "StringEqualsPath": "abc"})")
                .rfind("States.Route.Choices[0].StringEqualsPath: ", 0),
            0u);
  EXPECT_EQ(ParseError(R"({"Variable": "$.x", "TimestampEqualsPath": "$.a.*"})"),
            "States.Route.Choices[0].TimestampEqualsPath: '$.a.*' must be a reference path "
            "(names and indexes only)");
  // A *Path operand is not checked as a literal of its family.
  EXPECT_EQ(ParseError(R"({"Variable": "$.x", "TimestampEqualsPath": "$.t"})"), "");
  EXPECT_EQ(ParseError(R"({"Variable": "$.x", "BooleanEqualsPath": "$$.Execution.Input.b"})"), "");
}

TEST(ChoiceRuleParse, UnknownFieldsAreRefused) {
  EXPECT_EQ(ParseError(R"({"Variable": "$.x", "IsNull": true, "Foo": 1})"),
            "States.Route.Choices[0].Foo: unknown field in a choice rule");
  EXPECT_EQ(ParseError(R"({"Variable": "$.x", "stringEquals": "a"})"),
            "States.Route.Choices[0].stringEquals: unknown field in a choice rule");
  // The States Language has no StringMatchesPath and no Path form of the type tests.
  EXPECT_EQ(ParseError(R"({"Variable": "$.x", "StringMatchesPath": "$.p"})"),
            "States.Route.Choices[0].StringMatchesPath: unknown field in a choice rule");
  EXPECT_EQ(ParseError(R"({"Variable": "$.x", "IsPresentPath": "$.p"})"),
            "States.Route.Choices[0].IsPresentPath: unknown field in a choice rule");
  // JSONata's Condition is not a JSONPath choice rule field.
  EXPECT_EQ(ParseError(R"({"Condition": "{% true %}", "Next": "N"})", true),
            "States.Route.Choices[0].Condition: unknown field in a choice rule");
  EXPECT_EQ(ParseError(R"({"Variable": "$.x", "IsNull": true, "Comment": 5})"),
            "States.Route.Choices[0].Comment: expected a string");
}

TEST(ChoiceRuleParse, CombinatorShapes) {
  EXPECT_EQ(ParseError(R"([1, 2])"),
            "States.Route.Choices[0]: a choice rule must be a JSON object");
  EXPECT_EQ(ParseError(R"({"And": []})"),
            "States.Route.Choices[0].And: expected a non-empty array of choice rules");
  EXPECT_EQ(ParseError(R"({"Or": {"Variable": "$.x", "IsNull": true}})"),
            "States.Route.Choices[0].Or: expected a non-empty array of choice rules");
  EXPECT_EQ(ParseError(R"({"And": [{"Variable": "$.x", "IsNull": true}, "rule"]})"),
            "States.Route.Choices[0].And[1]: a choice rule must be a JSON object");
  EXPECT_EQ(ParseError(R"({"Not": [{"Variable": "$.x", "IsNull": true}]})"),
            "States.Route.Choices[0].Not: expected one choice rule (an object)");
  // Errors deep in the tree name the whole way down.
  EXPECT_EQ(ParseError(R"({"Or": [{"Variable": "$.x", "IsNull": true},
                                   {"Not": {"And": [{"Variable": "$.a[*]", "IsNull": true}]}}],
                           "Next": "N"})",
                       true, "States.Route.Choices[2]"),
            "States.Route.Choices[2].Or[1].Not.And[0].Variable: '$.a[*]' must be a reference "
            "path (names and indexes only)");
}

}  // namespace
}  // namespace lote::flow
