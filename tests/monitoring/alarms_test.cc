#include "lote/monitoring/alarms.h"

#include <gtest/gtest.h>

namespace lote::monitoring {
namespace {

std::string Report(const std::string& verdict, const std::string& unknown_band, double accuracy) {
  return R"({"verdict":")" + verdict + R"(","signals":[{"name":"label","band":"ok"},)" +
         R"({"name":"unknown_word_rate","band":")" + unknown_band + R"("}],)" +
         R"("estimated_accuracy":{"value":)" + std::to_string(accuracy) + R"(,"low":)" +
         std::to_string(accuracy - 0.02) + "}}";
}

AlarmRule Rule(std::string name, std::string signal, std::string band, int runs) {
  AlarmRule r;
  r.name = std::move(name);
  r.signal = std::move(signal);
  r.band = std::move(band);
  r.consecutive_runs = runs;
  return r;
}

TEST(ValidateAlarmRule, NamesTheRuleAndField) {
  EXPECT_TRUE(ValidateAlarmRule(Rule("vocab", "unknown_word_rate", "drift", 2)).ok());
  Status s = ValidateAlarmRule(Rule("vocab", "unknown_words", "drift", 2));
  EXPECT_NE(s.message().find("'vocab'"), std::string::npos);
  EXPECT_NE(s.message().find("unknown signal 'unknown_words'"), std::string::npos);
  EXPECT_FALSE(ValidateAlarmRule(Rule("vocab", "label", "bad", 1)).ok());
  EXPECT_FALSE(ValidateAlarmRule(Rule("vocab", "label", "warn", 0)).ok());
  EXPECT_FALSE(ValidateAlarmRule(Rule("vocab", "label", "warn", 101)).ok());
  EXPECT_FALSE(ValidateAlarmRule(Rule("a b", "label", "warn", 1)).ok());  // a metric label value
  EXPECT_FALSE(ValidateAlarmRule(Rule("", "label", "warn", 1)).ok());
  AlarmRule acc = Rule("accuracy", "estimated_accuracy", "", 1);
  EXPECT_NE(ValidateAlarmRule(acc).message().find("needs 'below'"), std::string::npos);
  acc.below = 0.85;
  EXPECT_TRUE(ValidateAlarmRule(acc).ok());
  acc.band = "drift";
  EXPECT_FALSE(ValidateAlarmRule(acc).ok());
  AlarmRule misplaced = Rule("x", "label", "warn", 1);
  misplaced.below = 0.5;
  EXPECT_FALSE(ValidateAlarmRule(misplaced).ok());
  EXPECT_TRUE(ValidateAlarmRule(Rule("cards", "entity_rate:CARD", "drift", 1)).ok());
  EXPECT_TRUE(ValidateAlarmRule(Rule("luhn", "check_failure_rate:CARD", "warn", 1)).ok());
  EXPECT_FALSE(ValidateAlarmRule(Rule("x", "entity_rate:IBAN", "warn", 1)).ok());
  EXPECT_FALSE(ValidateAlarmRule(Rule("x", "check_failure_rate:MONEY", "warn", 1)).ok());
  EXPECT_FALSE(ValidateAlarmRule(Rule("x", "entity_rate:", "warn", 1)).ok());
  // The tagger's types are the model's own: any name, but not none.
  EXPECT_TRUE(ValidateAlarmRule(Rule("names", "sentence_entity_rate:PER", "drift", 1)).ok());
  EXPECT_TRUE(
      ValidateAlarmRule(Rule("ids", "sentence_entity_rate:ID_SUJETO_ASISTENCIA", "warn", 1)).ok());
  EXPECT_FALSE(ValidateAlarmRule(Rule("x", "sentence_entity_rate:", "warn", 1)).ok());
  EXPECT_EQ(AlarmCondition(acc), "estimated_accuracy < 0.85");
  EXPECT_EQ(AlarmCondition(Rule("v", "verdict", "warn", 1)), "verdict >= warn");
}

TEST(EvaluateAlarms, FiresOnlyAfterTheRequiredStreak) {
  const std::vector<AlarmRule> rules = {Rule("vocab", "unknown_word_rate", "drift", 2),
                                        Rule("any", "verdict", "warn", 1)};
  // First drifted run: "any" fires, "vocab" has 1 of 2.
  auto a = EvaluateAlarms(rules, Report("drift", "drift", 0.9), {});
  ASSERT_EQ(a.size(), 2u);
  EXPECT_FALSE(a[0].firing);
  EXPECT_EQ(a[0].runs_met, 1);
  EXPECT_TRUE(a[1].firing);
  // Second in a row: both.
  a = EvaluateAlarms(rules, Report("drift", "drift", 0.9), {Report("drift", "drift", 0.9)});
  EXPECT_TRUE(a[0].firing);
  EXPECT_EQ(a[0].runs_met, 2);
  // A run in between that was ok breaks the streak; warn is below drift.
  a = EvaluateAlarms(rules, Report("drift", "drift", 0.9),
                     {Report("warn", "warn", 0.9), Report("drift", "drift", 0.9)});
  EXPECT_FALSE(a[0].firing);
  EXPECT_TRUE(a[1].firing);
  // A report without the signal (no reference) breaks it too.
  a = EvaluateAlarms(rules, Report("drift", "drift", 0.9), {R"({"verdict":"no_reference"})"});
  EXPECT_FALSE(a[0].firing);
  a = EvaluateAlarms(rules, Report("ok", "ok", 0.9), {});
  EXPECT_FALSE(a[1].firing);
}

TEST(EvaluateAlarms, AccuracyBelowAThreshold) {
  AlarmRule low = Rule("accuracy", "estimated_accuracy", "", 1);
  low.below = 0.85;
  AlarmRule bound = Rule("accuracy_low", "estimated_accuracy_low", "", 1);
  bound.below = 0.85;
  auto a = EvaluateAlarms({low, bound}, Report("ok", "ok", 0.86), {});
  EXPECT_FALSE(a[0].firing);  // 0.86
  EXPECT_TRUE(a[1].firing);   // low 0.84
  a = EvaluateAlarms({low}, Report("ok", "ok", 0.80), {});
  EXPECT_TRUE(a[0].firing);
  a = EvaluateAlarms({low}, R"({"verdict":"ok","estimated_accuracy":null})", {});
  EXPECT_FALSE(a[0].firing);
  a = EvaluateAlarms({low}, "not json", {});
  EXPECT_FALSE(a[0].firing);
}

}  // namespace
}  // namespace lote::monitoring
