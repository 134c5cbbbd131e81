#include "lote/monitoring/drift.h"

#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <random>
#include <string>

namespace lote::monitoring {
namespace {

const std::vector<std::string>& Labels() {
  static const auto* labels = [] {
    auto* v = new std::vector<std::string>;
    for (int i = 0; i < 20; ++i) v->push_back("intent_" + std::to_string(i));
    return v;
  }();
  return *labels;
}

// A population of texts: a skewed label mix, confident scores, Spanish mostly, a few unknown
// words. `shift` in [0, 1]: that share of the records comes from another population (one label,
// low scores, English, many unknown words).
struct Population {
  double shift = 0;
  bool prior_shift_only = false;  // the shifted share only changes the label mix
  // Pattern entities: MONEY in 20 % of records, DATE 10 %, CARD 3 % (a candidate failing its
  // Luhn check 1 time in 10); `card_failure` replaces that 0.1 for the shifted share.
  bool entities = false;
  double card_failure = 0.1;
  double money = 0.2;  // MONEY's share
  // Tagger: when >= 0, each record has 1 to 3 sentences, each naming a PER with this chance and
  // a LOC with 0.05.
  double per = -1;
};

Profile Sample(const Population& pop, uint64_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  std::geometric_distribution<int> label(0.15);
  std::normal_distribution<double> len(60, 20);
  Profile p;
  p.set_has_abstention(false);
  for (uint64_t i = 0; i < n; ++i) {
    const bool shifted = u(rng) < pop.shift;
    Observation o;
    o.label = Labels()[shifted ? 19 : std::min(label(rng), 18)];
    const bool other = shifted && !pop.prior_shift_only;
    o.score = static_cast<float>(other ? 0.2 + 0.3 * u(rng) : 1 - 0.4 * u(rng) * u(rng));
    o.lang = other ? "en" : (u(rng) < 0.9 ? "es" : "en");
    o.chars = static_cast<uint32_t>(std::max(1.0, len(rng)));
    classify::VocabularyCounts& v = o.vocabulary;
    v.words = o.chars / 6 + 1;
    v.unknown_words = other ? v.words / 2 : (u(rng) < 0.2 ? 1 : 0);
    v.unknown_words = std::min(v.unknown_words, v.words);
    v.char_ngrams = v.words * 12;
    v.unknown_char_ngrams = v.unknown_words * 4;
    if (pop.entities) {
      EntityObservation& e = o.entities;
      e.observed = true;
      e.types = (u(rng) < pop.money ? 1u : 0u) | (u(rng) < 0.1 ? 2u : 0u);
      if (u(rng) < 0.03) {
        constexpr int kCard = static_cast<int>(extract::CheckedType::kCard);
        const bool fails = u(rng) < (shifted ? pop.card_failure : 0.1);
        e.checks.candidates[kCard] = 1;
        e.checks.failures[kCard] = fails ? 1 : 0;
        if (!fails) e.types |= 1u << 7;
      }
    }
    TaggerObservation t;
    if (pop.per >= 0) {
      t.observed = true;
      t.sentences = 1 + static_cast<uint32_t>(3 * u(rng)) % 3;
      uint32_t per = 0, loc = 0;
      for (uint32_t k = 0; k < t.sentences; ++k) {
        per += u(rng) < pop.per ? 1 : 0;
        loc += u(rng) < 0.05 ? 1 : 0;
      }
      if (per > 0) t.types.emplace_back("PER", per);
      if (loc > 0) t.types.emplace_back("LOC", loc);
      o.tagger = &t;
    }
    p.Add(o);
  }
  return p;
}

const SignalResult* Find(const MonitoringReport& r, std::string_view name) {
  for (const auto& s : r.signals) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

TEST(GammaQ, MatchesKnownValues) {
  EXPECT_NEAR(GammaQ(1, 2.0), std::exp(-2.0), 1e-12);
  EXPECT_NEAR(GammaQ(1, 0.1), std::exp(-0.1), 1e-12);
  // Chi-square survival: Q(df / 2, x / 2). df 2 at 5.991 and df 10 at 18.307: 0.05.
  EXPECT_NEAR(GammaQ(1, 5.991 / 2), 0.05, 1e-4);
  EXPECT_NEAR(GammaQ(5, 18.307 / 2), 0.05, 1e-4);
  EXPECT_NEAR(GammaQ(50, 50), 0.4812, 1e-3);
  EXPECT_EQ(GammaQ(3, 0), 1.0);
}

TEST(CompareProfiles, InDistributionBatchesOfEverySizeAreNotDrift) {
  const Profile reference = Sample({}, 2000, 1);
  DriftOptions o;
  int drift = 0, runs = 0;
  for (uint64_t n : {50, 500, 5000, 50000}) {
    for (uint64_t seed = 10; seed < 20; ++seed) {
      MonitoringReport r = CompareProfiles(&reference, Sample({}, n, seed * 7 + n), o);
      ++runs;
      if (r.verdict == "drift") ++drift;
      EXPECT_EQ(r.signals.size(), 6u);  // label, lang, four numeric
      const std::string test = n <= 1000 ? "chi_square" : "jensen_shannon";
      EXPECT_EQ(Find(r, "label")->test, test);
    }
  }
  EXPECT_LE(drift, 1) << "of " << runs;
}

TEST(CompareProfiles, EntityRatesAndCheckFailuresAreSignalsThatHoldStillInDistribution) {
  const Profile reference = Sample({.entities = true}, 2000, 1);
  int drift = 0, runs = 0;
  for (uint64_t n : {200, 2000, 20000}) {
    for (uint64_t seed = 30; seed < 40; ++seed) {
      MonitoringReport r = CompareProfiles(&reference, Sample({.entities = true}, n, seed + n), {});
      ++runs;
      if (r.verdict == "drift") ++drift;
      // MONEY, DATE and CARD found; the other six types neither side has are not tested.
      ASSERT_NE(Find(r, "entity_rate:MONEY"), nullptr);
      EXPECT_EQ(Find(r, "entity_rate:MONEY")->kind, "rate");
      EXPECT_NEAR(Find(r, "entity_rate:MONEY")->reference_value, 0.2, 0.03);
      EXPECT_EQ(Find(r, "entity_rate:PHONE"), nullptr);
      ASSERT_NE(Find(r, "check_failure_rate:CARD"), nullptr);
      // The failure test is sized by candidates (3 % of records), not records.
      EXPECT_EQ(Find(r, "check_failure_rate:CARD")->test,
                n * 0.03 <= 1000 ? "chi_square" : "jensen_shannon");
      EXPECT_EQ(r.signals.size(), 10u);  // 6 + three types + one check
    }
  }
  EXPECT_LE(drift, 1) << "of " << runs;
}

TEST(CompareProfiles, ARiseInCheckFailuresIsDriftAFallIsNot) {
  const Profile reference = Sample({.entities = true}, 5000, 1);
  // Every card number in the batch fails its check: typed by hand, or altered upstream.
  MonitoringReport up = CompareProfiles(
      &reference,
      Sample({.shift = 1, .prior_shift_only = true, .entities = true, .card_failure = 0.9}, 2000,
             2),
      {});
  ASSERT_NE(Find(up, "check_failure_rate:CARD"), nullptr);
  EXPECT_EQ(Find(up, "check_failure_rate:CARD")->band, Band::kDrift);
  EXPECT_GT(Find(up, "check_failure_rate:CARD")->batch_value, 0.7);
  // None failing is no cause for alarm: the rate is one-sided.
  MonitoringReport down = CompareProfiles(
      &reference,
      Sample({.shift = 1, .prior_shift_only = true, .entities = true, .card_failure = 0.0}, 20000,
             3),
      {});
  ASSERT_NE(Find(down, "check_failure_rate:CARD"), nullptr);
  EXPECT_EQ(Find(down, "check_failure_rate:CARD")->statistic, 0);
  EXPECT_EQ(Find(down, "check_failure_rate:CARD")->band, Band::kOk);
}

TEST(CompareProfiles, EntityRatesMovingEitherWayAreDrift) {
  const Profile reference = Sample({.entities = true}, 5000, 1);
  for (double money : {0.0, 0.6}) {
    // The same texts, but amounts vanish (an upstream change masks them) or abound.
    MonitoringReport r =
        CompareProfiles(&reference, Sample({.entities = true, .money = money}, 3000, 2), {});
    ASSERT_NE(Find(r, "entity_rate:MONEY"), nullptr);
    EXPECT_EQ(Find(r, "entity_rate:MONEY")->band, Band::kDrift) << money;
    EXPECT_NEAR(Find(r, "entity_rate:MONEY")->batch_value, money, 0.03);
    EXPECT_EQ(Find(r, "entity_rate:DATE")->band, Band::kOk);
    EXPECT_EQ(r.verdict, "drift");
  }
}

TEST(CompareProfiles, EntitySignalsSayWhyTheyAreMissing) {
  const Profile with = Sample({.entities = true}, 2000, 1);
  const Profile without = Sample({}, 2000, 2);
  auto has_note = [](const MonitoringReport& r, std::string_view text) {
    for (const auto& n : r.notes) {
      if (n.find(text) != std::string::npos) return true;
    }
    return false;
  };
  EXPECT_TRUE(has_note(CompareProfiles(&with, without, {}), "did not extract entities"));
  EXPECT_TRUE(has_note(CompareProfiles(&without, with, {}), "no entity counts"));
  // Failing NIT candidates the reference never saw cannot be compared: a note, not a signal.
  Profile nits = Sample({.entities = true}, 500, 3);
  Observation o;
  o.entities.observed = true;
  o.entities.checks.Count(extract::CheckedType::kNit, false);
  nits.Add(o);
  MonitoringReport r = CompareProfiles(&with, nits, {});
  EXPECT_EQ(Find(r, "check_failure_rate:NIT"), nullptr);
  EXPECT_TRUE(has_note(r, "no NIT candidates"));
}

TEST(CompareProfiles, TaggerRatesAreSentenceSharesThatHoldStillAndMoveWithTheData) {
  // The reference as `lote train extract --dev` stores it: the tagger's counts alone.
  Profile reference;
  reference.set_tagger_entities(Sample({.per = 0.1}, 3000, 1).tagger_entities());
  ASSERT_EQ(reference.records(), 0u);
  for (uint64_t n : {200, 5000}) {
    for (uint64_t seed : {2, 3, 4}) {
      MonitoringReport r = CompareProfiles(&reference, Sample({.per = 0.1}, n, seed), {});
      const SignalResult* per = Find(r, "sentence_entity_rate:PER");
      ASSERT_NE(per, nullptr);
      EXPECT_EQ(per->kind, "rate");
      EXPECT_NEAR(per->reference_value, 0.1, 0.015);
      EXPECT_NE(per->band, Band::kDrift) << n << " " << seed;
      ASSERT_NE(Find(r, "sentence_entity_rate:LOC"), nullptr);
    }
  }
  // Names abound, or vanish (an upstream job masks them): drift, on PER alone.
  for (double per : {0.0, 0.3}) {
    MonitoringReport r = CompareProfiles(&reference, Sample({.per = per}, 3000, 5), {});
    EXPECT_EQ(Find(r, "sentence_entity_rate:PER")->band, Band::kDrift) << per;
    EXPECT_NEAR(Find(r, "sentence_entity_rate:PER")->batch_value, per, 0.02);
    EXPECT_EQ(Find(r, "sentence_entity_rate:LOC")->band, Band::kOk);
  }
  // A type only the batch has is tested too (the reference's share is 0).
  Profile org = Sample({.per = 0.1}, 500, 6);
  TaggerObservation t{.observed = true, .sentences = 1, .types = {{"ORG", 1}}};
  Observation o;
  o.tagger = &t;
  for (int i = 0; i < 50; ++i) org.Add(o);
  EXPECT_EQ(Find(CompareProfiles(&reference, org, {}), "sentence_entity_rate:ORG")->band,
            Band::kDrift);
}

TEST(CompareProfiles, TaggerSignalsSayWhyTheyAreMissingOnlyWhenATaggerRan) {
  const Profile tagged = Sample({.per = 0.1}, 1000, 1);
  const Profile untagged = Sample({}, 1000, 2);
  auto notes_about_tagger = [](const MonitoringReport& r) {
    int n = 0;
    for (const auto& note : r.notes) n += note.find("no tagger counts") != std::string::npos;
    return n;
  };
  // A reference without tagger counts (trained without --dev): a note, no signal.
  MonitoringReport r = CompareProfiles(&untagged, tagged, {});
  EXPECT_EQ(notes_about_tagger(r), 1);
  EXPECT_EQ(Find(r, "sentence_entity_rate:PER"), nullptr);
  // A model without a tagger: nothing to say.
  EXPECT_EQ(notes_about_tagger(CompareProfiles(&untagged, untagged, {})), 0);
  EXPECT_EQ(Find(CompareProfiles(&tagged, untagged, {}), "sentence_entity_rate:PER"), nullptr);
}

TEST(CompareProfiles, OutOfDomainShareIsDriftAndNamesTheSignals) {
  const Profile reference = Sample({}, 2000, 1);
  MonitoringReport r = CompareProfiles(&reference, Sample({.shift = 0.1}, 10000, 5), {});
  EXPECT_EQ(r.verdict, "drift");
  ASSERT_NE(Find(r, "unknown_word_rate"), nullptr);
  EXPECT_EQ(Find(r, "unknown_word_rate")->band, Band::kDrift);
  EXPECT_EQ(Find(r, "unknown_word_rate")->test, "wasserstein_norm");
  EXPECT_GT(Find(r, "unknown_word_rate")->batch_value,
            Find(r, "unknown_word_rate")->reference_value);
}

TEST(CompareProfiles, SmallBatchesUseChiSquareAndKs) {
  const Profile reference = Sample({}, 2000, 1);
  MonitoringReport r = CompareProfiles(&reference, Sample({.shift = 0.6}, 100, 3), {});
  EXPECT_EQ(Find(r, "label")->test, "chi_square");
  EXPECT_EQ(Find(r, "top_score")->test, "kolmogorov_smirnov");
  EXPECT_EQ(r.verdict, "drift");
  EXPECT_EQ(Find(r, "label")->band, Band::kDrift);
}

TEST(CompareProfiles, LabelPriorShiftAloneIsCaughtOnTheLabelSignal) {
  const Profile reference = Sample({}, 2000, 1);
  MonitoringReport r =
      CompareProfiles(&reference, Sample({.shift = 0.4, .prior_shift_only = true}, 5000, 8), {});
  EXPECT_EQ(Find(r, "label")->band, Band::kDrift);
  EXPECT_EQ(Find(r, "lang")->band, Band::kOk);
}

TEST(CompareProfiles, ThresholdsGrowForSmallReferencesAndShrinkForLargeOnes) {
  // The same batch against a small and a large reference: the chance level of the statistic
  // (and so the threshold) is set by the smaller sample.
  const Profile batch = Sample({}, 20000, 4);
  const Profile ref_small = Sample({}, 300, 1), ref_large = Sample({}, 30000, 2);
  DriftOptions no_floor;
  no_floor.min_js_distance = 0;
  no_floor.min_wasserstein = 0;
  MonitoringReport a = CompareProfiles(&ref_small, batch, no_floor);
  MonitoringReport b = CompareProfiles(&ref_large, batch, no_floor);
  EXPECT_GT(Find(a, "label")->threshold, 2 * Find(b, "label")->threshold);
  EXPECT_GT(Find(a, "label")->threshold, Find(a, "label")->warn_threshold);
}

TEST(CompareProfiles, EffectFloorKeepsTinyShiftsInLargeBatchesFromDrift) {
  const Profile reference = Sample({}, 50000, 1);
  // 1 % of the records moved to a new label: significant at 200,000 records, but a Jensen-Shannon
  // distance well below 0.1.
  const Profile batch = Sample({.shift = 0.01, .prior_shift_only = true}, 200000, 9);
  MonitoringReport r = CompareProfiles(&reference, batch, {});
  const SignalResult* label = Find(r, "label");
  EXPECT_LT(label->statistic, 0.1);
  EXPECT_LT(label->p_value, 0.001);
  EXPECT_EQ(label->band, Band::kWarn);
  EXPECT_EQ(label->threshold, 0.1);
}

TEST(CompareProfiles, EstimatedAccuracyTracksRealizedAccuracyOfCalibratedScores) {
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> u(0, 1);
  Profile batch;
  uint64_t correct = 0;
  const uint64_t n = 5000;
  for (uint64_t i = 0; i < n; ++i) {
    Observation o;
    o.label = Labels()[i % 5];
    o.score = static_cast<float>(0.5 + 0.5 * u(rng));
    if (u(rng) < o.score) ++correct;  // calibrated: right with probability `score`
    o.chars = 10;
    batch.Add(o);
  }
  Profile reference = Sample({}, 1000, 1);
  reference.calibration = {1000, 0.9, 0.9, 0.02};
  MonitoringReport r = CompareProfiles(&reference, batch, {});
  ASSERT_TRUE(r.estimated_accuracy.has_value());
  const double realized = static_cast<double>(correct) / n;
  EXPECT_NEAR(r.estimated_accuracy->value, realized, 0.015);
  EXPECT_LE(r.estimated_accuracy->low, realized);
  EXPECT_GE(r.estimated_accuracy->high, realized);
  // Sampling spread (about 1.96 * 0.0058) plus the calibration error.
  EXPECT_NEAR(r.estimated_accuracy->high - r.estimated_accuracy->value, 0.0113 + 0.02, 0.002);
  EXPECT_EQ(r.estimated_accuracy_by_label.size(), 5u);
  EXPECT_EQ(r.estimated_accuracy_by_label[0].estimate.records, 1000u);
}

TEST(CompareProfiles, WithoutReferenceOnlyTheEstimateAndANote) {
  MonitoringReport r = CompareProfiles(nullptr, Sample({}, 100, 1), {});
  EXPECT_EQ(r.verdict, "no_reference");
  EXPECT_TRUE(r.signals.empty());
  EXPECT_TRUE(r.estimated_accuracy.has_value());
  EXPECT_FALSE(r.notes.empty());
  auto j = nlohmann::json::parse(MonitoringReportJson(r));
  EXPECT_EQ(j["verdict"], "no_reference");
  EXPECT_TRUE(j["reference_records"].is_null());
}

TEST(CompareProfiles, EmptyBatchIsOkWithANote) {
  const Profile reference = Sample({}, 100, 1);
  MonitoringReport r = CompareProfiles(&reference, Profile(), {});
  EXPECT_EQ(r.verdict, "ok");
  EXPECT_FALSE(r.estimated_accuracy.has_value());
  EXPECT_FALSE(r.notes.empty());
}

TEST(MonitoringReportJson, HasTheDocumentedShape) {
  const Profile reference = Sample({.entities = true}, 1000, 1);
  MonitoringReport r = CompareProfiles(&reference, Sample({.entities = true}, 300, 2), {});
  auto j = nlohmann::json::parse(MonitoringReportJson(r));
  EXPECT_EQ(j["verdict"], r.verdict);
  ASSERT_TRUE(j["signals"].is_array());
  for (const auto& s : j["signals"]) {
    for (const char* key : {"name", "kind", "test", "statistic", "threshold", "band", "p_value"}) {
      EXPECT_TRUE(s.contains(key)) << key;
    }
    // Numeric signals and rates have the two sides' means (a rate's mean is its share).
    EXPECT_EQ(s.contains("reference_mean"), s["kind"] != "categorical") << s.dump();
  }
  for (const char* key : {"value", "low", "high"}) {
    EXPECT_TRUE(j["estimated_accuracy"].contains(key)) << key;
  }
}

}  // namespace
}  // namespace lote::monitoring
