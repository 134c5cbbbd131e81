#include "lote/monitoring/profile.h"

#include <gtest/gtest.h>

#include <functional>
#include <nlohmann/json.hpp>

namespace lote::monitoring {
namespace {

Observation Obs(std::string_view label, float score, std::string_view lang, uint32_t chars,
                uint32_t words, uint32_t unknown_words) {
  Observation o;
  o.label = label;
  o.score = score;
  o.lang = lang;
  o.chars = chars;
  o.vocabulary = {words, unknown_words, words * 10, unknown_words * 3};
  return o;
}

TEST(NumericSignalBin, ClampsAndPlacesValues) {
  EXPECT_EQ(NumericSignalBin(NumericSignal::kTopScore, 0.0), 0);
  EXPECT_EQ(NumericSignalBin(NumericSignal::kTopScore, 0.019), 0);
  EXPECT_EQ(NumericSignalBin(NumericSignal::kTopScore, 0.021), 1);
  EXPECT_EQ(NumericSignalBin(NumericSignal::kTopScore, 1.0), 49);
  EXPECT_EQ(NumericSignalBin(NumericSignal::kTopScore, -3), 0);
  EXPECT_EQ(NumericSignalBin(NumericSignal::kTextLength, 0), 0);
  EXPECT_EQ(NumericSignalBin(NumericSignal::kTextLength, 1), 4);    // 4 log2(2)
  EXPECT_EQ(NumericSignalBin(NumericSignal::kTextLength, 15), 16);  // 4 log2(16)
  EXPECT_EQ(NumericSignalBin(NumericSignal::kTextLength, 1e9), 71);
  // A bin's value lies inside the bin.
  for (int b = 0; b < 72; ++b) {
    EXPECT_EQ(NumericSignalBin(NumericSignal::kTextLength,
                               NumericSignalBinValue(NumericSignal::kTextLength, b)),
              b);
  }
}

TEST(Profile, CountsEverySignalAndMerges) {
  Profile a, b;
  a.set_has_abstention(true);
  a.Add(Obs("card", 0.9f, "es", 20, 4, 0));
  a.Add(Obs("card", 0.7f, "en", 40, 8, 2));
  Observation oos = Obs("oos", 0.6f, "es", 10, 2, 2);
  oos.abstained = true;
  b.Add(oos);
  b.Add(Obs("", 0, "", 5, 0, 0));  // no classifier, no words
  a.Merge(b);
  EXPECT_EQ(a.records(), 4u);
  EXPECT_TRUE(a.has_abstention());
  EXPECT_EQ(a.categorical("label").at("card"), 2u);
  EXPECT_EQ(a.categorical("label").at("oos"), 1u);
  EXPECT_EQ(a.categorical("lang").at("es"), 2u);
  EXPECT_EQ(a.categorical("abstained").at("yes"), 1u);
  EXPECT_EQ(a.categorical("abstained").at("no"), 2u);
  EXPECT_EQ(a.numeric(NumericSignal::kTopScore).total(), 3u);
  EXPECT_EQ(a.numeric(NumericSignal::kTextLength).total(), 4u);
  EXPECT_EQ(a.numeric(NumericSignal::kUnknownWordRate).total(), 3u);  // not the wordless text
  EXPECT_NEAR(a.numeric(NumericSignal::kUnknownWordRate).mean(), (0 + 0.25 + 1.0) / 3, 1e-9);
  EXPECT_EQ(a.words(), 14u);
  EXPECT_EQ(a.unknown_words(), 4u);
  EXPECT_NEAR(a.labels().at("card").score_sum, 1.6, 1e-6);
}

TEST(Profile, JsonRoundTripKeepsEverything) {
  Profile p;
  p.set_has_abstention(true);
  p.source = "calibration split (dev)";
  p.calibration = {100, 0.9, 0.88, 0.03};
  for (int i = 0; i < 50; ++i) p.Add(Obs(i % 3 ? "a" : "b", 0.02f * i, "es", i, 3, i % 2));
  auto back = Profile::FromJson(p.ToJson());
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->ToJson(), p.ToJson());
  EXPECT_EQ(back->calibration.rows, 100u);
  EXPECT_EQ(back->categorical("abstained").at("yes"), 0u);
}

TEST(Profile, FromJsonNamesTheBadField) {
  Profile p;
  p.Add(Obs("a", 0.5f, "es", 3, 1, 0));
  auto j = nlohmann::json::parse(p.ToJson());
  j["numeric"]["top_score"]["counts"] = {1, 2};
  auto bad = Profile::FromJson(j.dump());
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("numeric.top_score.counts"), std::string::npos);
  j = nlohmann::json::parse(p.ToJson());
  j["labels"]["a"].erase("score_sum");
  bad = Profile::FromJson(j.dump());
  EXPECT_NE(bad.status().message().find("labels.a.score_sum"), std::string::npos);
  j = nlohmann::json::parse(p.ToJson());
  j["version"] = 99;
  EXPECT_EQ(Profile::FromJson(j.dump()).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(Profile::FromJson("[1,2]").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Profile::FromJson("{\"format\":\"x\"").status().code(), StatusCode::kInvalidArgument);
}

TEST(Profile, FromJsonRefusesCountsNoArithmeticCanUse) {
  Profile p;
  p.Add(Obs("a", 0.5f, "es", 3, 1, 0));
  auto bad = [&](const std::function<void(nlohmann::json*)>& damage) {
    auto j = nlohmann::json::parse(p.ToJson());
    damage(&j);
    return Profile::FromJson(j.dump()).status();
  };
  EXPECT_NE(bad([](nlohmann::json* j) { (*j)["records"] = -1; }).message().find("records"),
            std::string::npos);
  EXPECT_FALSE(bad([](nlohmann::json* j) { (*j)["records"] = uint64_t{1} << 60; }).ok());
  EXPECT_FALSE(
      bad([](nlohmann::json* j) { (*j)["numeric"]["top_score"]["counts"][3] = 1.5; }).ok());
  EXPECT_FALSE(bad([](nlohmann::json* j) {
                 (*j)["numeric"]["top_score"]["counts"][0] = uint64_t{1} << 53;
                 (*j)["numeric"]["top_score"]["counts"][1] = 1;
               }).ok());
  EXPECT_FALSE(bad([](nlohmann::json* j) { (*j)["categorical"]["lang"]["es"] = "many"; }).ok());
  EXPECT_FALSE(bad([](nlohmann::json* j) {
                 (*j)["categorical"]["abstained"] = {{"yes", 5}, {"no", 0}};
               }).ok());  // more abstentions than labelled records
  EXPECT_TRUE(bad([](nlohmann::json*) {}).ok());
}

Observation WithEntities(Observation o, uint32_t types, uint32_t card_candidates,
                         uint32_t card_failures) {
  o.entities.observed = true;
  o.entities.types = types;
  o.entities.checks.candidates[static_cast<int>(extract::CheckedType::kCard)] = card_candidates;
  o.entities.checks.failures[static_cast<int>(extract::CheckedType::kCard)] = card_failures;
  return o;
}

TEST(Profile, CountsEntityTypesAndCheckDigitsAndKeepsThemInJson) {
  constexpr int kCard = static_cast<int>(extract::CheckedType::kCard);
  Profile a, b;
  a.Add(WithEntities(Obs("a", 0.5f, "es", 3, 1, 0), 0b101, 2, 1));  // MONEY and PHONE
  a.Add(WithEntities(Obs("a", 0.5f, "es", 3, 1, 0), 0b1, 0, 0));
  a.Add(Obs("a", 0.5f, "es", 3, 1, 0));                               // the extractors did not run
  b.Add(WithEntities(Obs("a", 0.5f, "es", 3, 1, 0), 1u << 7, 1, 0));  // CARD
  a.Merge(b);
  const EntityProfile& e = a.entities();
  EXPECT_EQ(e.records, 3u);
  EXPECT_EQ(e.type_records[0], 2u);  // MONEY
  EXPECT_EQ(e.type_records[1], 0u);  // DATE
  EXPECT_EQ(e.type_records[2], 1u);  // PHONE
  EXPECT_EQ(e.type_records[7], 1u);  // CARD
  EXPECT_EQ(e.candidates[kCard], 3u);
  EXPECT_EQ(e.failures[kCard], 1u);

  const auto j = nlohmann::json::parse(a.ToJson());
  EXPECT_EQ(j["entities"]["types"]["MONEY"], 2);
  EXPECT_EQ(j["entities"]["check_digits"]["CARD"]["failures"], 1);
  auto back = Profile::FromJson(a.ToJson());
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->ToJson(), a.ToJson());
  // A profile whose records were never extracted has no "entities" at all.
  Profile none;
  none.Add(Obs("a", 0.5f, "es", 3, 1, 0));
  EXPECT_FALSE(nlohmann::json::parse(none.ToJson()).contains("entities"));

  auto damaged = [&](const std::function<void(nlohmann::json*)>& damage) {
    auto d = j;
    damage(&d);
    return Profile::FromJson(d.dump()).status();
  };
  EXPECT_NE(damaged([](nlohmann::json* d) { (*d)["entities"]["records"] = 9; })
                .message()
                .find("entities.records"),
            std::string::npos);
  EXPECT_NE(damaged([](nlohmann::json* d) { (*d)["entities"]["types"]["MONEY"] = 4; })
                .message()
                .find("entities.types.MONEY"),
            std::string::npos);
  EXPECT_NE(
      damaged([](nlohmann::json* d) { (*d)["entities"]["check_digits"]["CARD"]["failures"] = 4; })
          .message()
          .find("entities.check_digits.CARD.failures"),
      std::string::npos);
  EXPECT_FALSE(damaged([](nlohmann::json* d) { (*d)["entities"]["types"] = 3; }).ok());
  EXPECT_FALSE(
      damaged([](nlohmann::json* d) { (*d)["entities"]["check_digits"]["NIT"] = 1; }).ok());
  // A type this lote does not know is ignored (it cannot be compared), not an error.
  EXPECT_TRUE(damaged([](nlohmann::json* d) { (*d)["entities"]["types"]["IBAN"] = 1; }).ok());
}

TEST(Profile, CountsTaggedSentencesPerTypeAndKeepsThemInJson) {
  Profile a, b;
  TaggerObservation two{.observed = true, .sentences = 2, .types = {{"PER", 2}, {"LOC", 1}}};
  TaggerObservation none{.observed = true, .sentences = 3, .types = {}};
  TaggerObservation lying{.observed = true, .sentences = 1, .types = {{"ORG", 5}}};
  Observation o = Obs("a", 0.5f, "es", 3, 1, 0);
  o.tagger = &two;
  a.Add(o);
  o.tagger = &none;
  a.Add(o);
  o.tagger = nullptr;  // no tagger ran
  a.Add(o);
  o.tagger = &lying;  // a count above the sentences is held to them
  b.Add(o);
  a.Merge(b);
  const TaggerEntityProfile& t = a.tagger_entities();
  EXPECT_EQ(t.sentences, 6u);
  EXPECT_EQ(t.type_sentences.at("PER"), 2u);
  EXPECT_EQ(t.type_sentences.at("LOC"), 1u);
  EXPECT_EQ(t.type_sentences.at("ORG"), 1u);

  const auto j = nlohmann::json::parse(a.ToJson());
  EXPECT_EQ(j["tagger_entities"]["sentences"], 6);
  EXPECT_EQ(j["tagger_entities"]["types"]["PER"], 2);
  auto back = Profile::FromJson(a.ToJson());
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->ToJson(), a.ToJson());
  EXPECT_FALSE(nlohmann::json::parse(Profile().ToJson()).contains("tagger_entities"));

  auto damaged = [&](const std::function<void(nlohmann::json*)>& damage) {
    auto d = j;
    damage(&d);
    return Profile::FromJson(d.dump()).status();
  };
  EXPECT_NE(damaged([](nlohmann::json* d) { (*d)["tagger_entities"]["types"]["PER"] = 7; })
                .message()
                .find("tagger_entities.types.PER exceeds"),
            std::string::npos);
  EXPECT_NE(damaged([](nlohmann::json* d) { (*d)["tagger_entities"]["sentences"] = -1; })
                .message()
                .find("tagger_entities.sentences"),
            std::string::npos);
  EXPECT_FALSE(damaged([](nlohmann::json* d) { (*d)["tagger_entities"]["types"] = 1; }).ok());
  EXPECT_FALSE(damaged([](nlohmann::json* d) {
                 (*d)["tagger_entities"]["types"][std::string(65, 'X')] = 1;
               }).ok());
  EXPECT_FALSE(damaged([](nlohmann::json* d) { (*d)["tagger_entities"] = "PER"; }).ok());
}

TEST(Profile, AnotherBinningIsDroppedNotMisread) {
  Profile p;
  p.Add(Obs("a", 0.5f, "es", 3, 1, 0));
  auto j = nlohmann::json::parse(p.ToJson());
  j["numeric"]["text_length"]["bins"] = "log2:20";
  j["numeric"]["text_length"]["counts"] = std::vector<int>(20, 1);
  std::vector<std::string> dropped;
  auto back = Profile::FromJson(j.dump(), &dropped);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(dropped, std::vector<std::string>{"text_length"});
  EXPECT_EQ(back->numeric(NumericSignal::kTextLength).total(), 0u);
}

}  // namespace
}  // namespace lote::monitoring
