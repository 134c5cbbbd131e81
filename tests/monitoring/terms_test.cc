#include "lote/monitoring/terms.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "lote/monitoring/profile.h"

namespace lote::monitoring {
namespace {

// Adds one record whose distinct terms are the given words (hash = index in `vocab` + 1).
void AddWords(TermCounts* t, const std::vector<int>& words, std::string_view id = "") {
  std::vector<uint64_t> hashes;
  for (int w : words) hashes.push_back(static_cast<uint64_t>(w) + 1);
  t->AddRecord(
      hashes,
      [&](size_t i, std::string* s) {
        s->assign(1, 'w');
        s->append(std::to_string(words[i]));
      },
      id);
}

// Every kept term's true count lies in [hits, hits + error]; every other term's is at most floor.
void ExpectBounds(const TermCounts& t, const std::map<int, uint64_t>& truth) {
  const auto entries = t.Entries();
  for (const auto& [w, n] : truth) {
    auto it = entries.find(static_cast<uint64_t>(w) + 1);
    if (it == entries.end()) {
      EXPECT_LE(n, t.floor()) << "w" << w;
    } else {
      EXPECT_LE(it->second.hits, n) << "w" << w;
      EXPECT_GE(it->second.hits + it->second.error, n) << "w" << w;
    }
  }
}

TEST(TermCounts, CountsRecordsAndKeepsTextsAndThreeExamples) {
  TermCounts t;
  AddWords(&t, {1, 2}, "r1");
  AddWords(&t, {1}, "r2");
  AddWords(&t, {1, 3}, "r3");
  AddWords(&t, {1}, "r4");
  AddWords(&t, {}, std::string(kMaxExampleIdBytes + 1, 'x'));
  EXPECT_EQ(t.records(), 5u);
  EXPECT_EQ(t.floor(), 0u);
  const TermEntry one = t.Entries().at(2);
  EXPECT_EQ(one.hits, 4u);
  EXPECT_EQ(one.error, 0u);
  EXPECT_EQ(one.seen, 4u);
  EXPECT_EQ(one.text, "w1");
  // Text and ids are taken from a term's second record on (most terms never come back).
  EXPECT_EQ(one.examples, (std::vector<std::string>{"r2", "r3", "r4"}));
  EXPECT_EQ(t.Entries().at(3).hits, 1u);
  EXPECT_EQ(t.Entries().at(3).text, "");
  // Too long an id is counted, never kept.
  AddWords(&t, {9}, "r9");
  AddWords(&t, {9}, std::string(kMaxExampleIdBytes + 1, 'x'));
  EXPECT_EQ(t.Entries().at(10).text, "w9");
  EXPECT_TRUE(t.Entries().at(10).examples.empty());
  // Without texts: neither texts nor ids.
  TermCounts bare(16, /*keep_text=*/false);
  AddWords(&bare, {1}, "r1");
  EXPECT_TRUE(bare.Entries().at(2).text.empty());
  EXPECT_TRUE(bare.Entries().at(2).examples.empty());
}

TEST(TermCounts, StaysBoundedAndKeepsFrequentTermsExact) {
  // Words 0..4 are in 30 % of the records each; 20,000 others once each.
  TermCounts t(64);
  std::map<int, uint64_t> truth;
  std::mt19937 rng(7);
  int next_rare = 100;
  for (int r = 0; r < 20000; ++r) {
    std::vector<int> words = {next_rare++};
    for (int w = 0; w < 5; ++w) {
      if (rng() % 10 < 3) words.push_back(w);
    }
    for (int w : words) ++truth[w];
    AddWords(&t, words);
    ASSERT_LE(t.size(), 2u * 64);
  }
  EXPECT_GT(t.floor(), 0u);
  ExpectBounds(t, truth);
  for (int w = 0; w < 5; ++w) {
    const TermEntry e = t.Entries().at(static_cast<uint64_t>(w) + 1);
    EXPECT_EQ(e.hits, truth[w]) << "a frequent term entered early and was never dropped";
    EXPECT_EQ(e.error, 0u);
  }
}

TEST(TermCounts, MergeKeepsTheBounds) {
  std::mt19937 rng(11);
  std::map<int, uint64_t> truth;
  TermCounts a(32), b(32);
  for (int r = 0; r < 6000; ++r) {
    // Zipf-like: small word numbers are frequent.
    std::vector<int> words;
    for (int k = 0; k < 3; ++k) {
      const int w = static_cast<int>(std::pow(2.0, std::uniform_real_distribution<>(0, 11)(rng)));
      if (std::find(words.begin(), words.end(), w) == words.end()) words.push_back(w);
    }
    for (int w : words) ++truth[w];
    AddWords(r % 3 == 0 ? &a : &b, words);
  }
  a.Merge(b);
  EXPECT_EQ(a.records(), 6000u);
  EXPECT_LE(a.size(), 32u);
  ExpectBounds(a, truth);
}

TEST(TermCounts, JsonRoundTripsAndTruncationRaisesTheFloor) {
  TermCounts t;
  for (int r = 0; r < 10; ++r) AddWords(&t, r < 6 ? std::vector<int>{1, 2} : std::vector<int>{3});
  AddWords(&t, {4}, "id-4a");
  AddWords(&t, {4}, "id-4b");
  auto back = TermCounts::FromJson(t.ToJson());
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->records(), 12u);
  EXPECT_EQ(back->counted(), 12u);
  EXPECT_EQ(back->size(), 4u);
  EXPECT_EQ(back->Entries().at(5).examples, (std::vector<std::string>{"id-4b"}));
  EXPECT_EQ(back->Entries().at(2).text, "w1");
  // Two terms with at least 5 records: the others are left out, floor covers them.
  auto cut = TermCounts::FromJson(t.ToJson(2, 5));
  ASSERT_TRUE(cut.ok());
  EXPECT_EQ(cut->size(), 2u);
  EXPECT_EQ(cut->floor(), 4u);
  EXPECT_EQ(cut->UpperBound(4), 4u);  // w3 had 4 records
  EXPECT_EQ(cut->UpperBound(2), 6u);
}

TEST(TermCounts, RejectsMalformedJsonNamingTheField) {
  auto error = [](const std::string& json) {
    auto r = TermCounts::FromJson(json);
    return r.ok() ? std::string("ok") : r.status().message();
  };
  const std::string ok =
      R"({"records":3,"counted":3,"floor":0,"hash":["00000000000000ff"],"hits":[2],)"
      R"("error":[0]})";
  EXPECT_EQ(error(ok), "ok");
  EXPECT_NE(error("[]").find("not a JSON object"), std::string::npos);
  EXPECT_NE(error(R"({"floor":0,"hash":[],"hits":[],"error":[]})").find("records"),
            std::string::npos);
  EXPECT_NE(error(R"({"records":3,"counted":3,"floor":0,"hash":["FF"],"hits":[2],"error":[0]})")
                .find("hash of term 0"),
            std::string::npos);
  EXPECT_NE(error(R"({"records":3,"counted":3,"floor":0,"hash":["00000000000000ff"],"hits":[4],)"
                  R"("error":[0]})")
                .find("hits or error of term 0"),
            std::string::npos);
  EXPECT_NE(
      error(
          R"({"records":3,"counted":3,"floor":0,"hash":["00000000000000ff"],"hits":[],"error":[]})")
          .find("differ in length"),
      std::string::npos);
  EXPECT_NE(
      error(R"({"records":3,"counted":3,"floor":0,"hash":["00000000000000ff","00000000000000ff"],)"
            R"("hits":[1,1],"error":[0,0]})")
          .find("appears twice"),
      std::string::npos);
  EXPECT_NE(error(R"({"records":3,"counted":3,"floor":0,"hash":["00000000000000ff"],"hits":[1],)"
                  R"("error":[0],"text":["a"],"examples":[["1","2","3","4"]]})")
                .find("examples of term 0"),
            std::string::npos);
}

TEST(TopTerms, NamesTheTermsTheBatchHasMoreOfWithExamples) {
  // Reference: 2,000 records; w1 in 10 %, w2 in 5 %, w7 in 1 record.
  TermCounts reference(kReferenceTermCapacity, /*keep_text=*/false);
  for (int r = 0; r < 2000; ++r) {
    std::vector<int> words = {1000 + r % 50};
    if (r % 10 == 0) words.push_back(1);
    if (r % 20 == 0) words.push_back(2);
    if (r == 0) words.push_back(7);
    AddWords(&reference, words);
  }
  // Batch: 1,000 records; w1 as before, w3 (new) in 20 %, w2 in 15 %, w7 in 4 records.
  TermCounts batch;
  for (int r = 0; r < 1000; ++r) {
    std::vector<int> words = {1000 + r % 50};
    if (r % 10 == 0) words.push_back(1);
    if (r % 5 == 0) words.push_back(3);
    if (r % 20 < 3) words.push_back(2);
    if (r < 4) words.push_back(7);
    const std::string id = std::string("b").append(std::to_string(r));
    AddWords(&batch, words, id);
  }
  const auto top = TopTerms(reference, batch, TermOptions{});
  ASSERT_EQ(top.size(), 2u);
  EXPECT_EQ(top[0].term, "w3");
  EXPECT_EQ(top[0].batch_records, 200u);
  EXPECT_DOUBLE_EQ(top[0].batch_share, 0.2);
  EXPECT_DOUBLE_EQ(top[0].reference_share, 0.0);
  EXPECT_EQ(top[0].examples, (std::vector<std::string>{"b5", "b10", "b15"}));
  EXPECT_EQ(top[1].term, "w2");
  EXPECT_NEAR(top[1].reference_share, 0.05, 1e-12);
  EXPECT_GT(top[0].z, top[1].z);
  // w1 did not move; w7 is in fewer than min_records batch records.
  TermOptions loose;
  loose.min_records = 1;
  loose.min_z = -1e9;
  loose.alpha = 1e9;  // no Bonferroni bound either
  loose.top = 100;
  const auto all = TopTerms(reference, batch, loose);
  auto z_of = [&](const std::string& term) {
    for (const auto& s : all) {
      if (s.term == term) return s.z;
    }
    return -1e9;
  };
  EXPECT_LT(std::abs(z_of("w1")), 2.0);
  EXPECT_LT(z_of("w7"), TermOptions{}.min_z);
  EXPECT_TRUE(TopTerms(TermCounts(), batch, TermOptions{}).empty());
}

TEST(UpperTailZ, InvertsTheNormalTail) {
  EXPECT_NEAR(UpperTailZ(0.025), 1.959964, 1e-5);
  EXPECT_NEAR(UpperTailZ(0.0005), 3.290527, 1e-5);
  EXPECT_NEAR(UpperTailZ(1e-6), 4.753424, 1e-5);
  EXPECT_NEAR(UpperTailZ(0.975), -1.959964, 1e-5);
  EXPECT_TRUE(std::isinf(UpperTailZ(1)));
  EXPECT_TRUE(std::isinf(UpperTailZ(0)));
}

TEST(TopTerms, NamesNothingWhenTheBatchIsLikeTheReference) {
  // 2,000 terms, each in 1 % to 5 % of the records of both, drawn independently: thousands of
  // tests, and chance alone must not name any.
  std::mt19937 rng(3);
  auto make = [&](int records, bool keep_text) {
    TermCounts t(kBatchTermCapacity, keep_text);
    std::vector<double> share(2000);
    for (int w = 0; w < 2000; ++w) share[w] = 0.01 + 0.04 * (w % 97) / 96.0;
    std::uniform_real_distribution<> u(0, 1);
    for (int r = 0; r < records; ++r) {
      std::vector<int> words;
      for (int w = 0; w < 2000; ++w) {
        if (u(rng) < share[w]) words.push_back(w);
      }
      AddWords(&t, words, "r");
    }
    return t;
  };
  const TermCounts reference = make(5000, false);
  for (int batch = 0; batch < 3; ++batch) {
    const auto top = TopTerms(reference, make(5000, true), TermOptions{});
    EXPECT_TRUE(top.empty()) << top.size() << " terms, first " << top[0].term << " z " << top[0].z;
  }
}

TEST(TopTerms, DiscountsRecordsThatRepeatAndStillNamesANewTerm) {
  // A batch of 10,000 drawn with replacement from 400 texts: each text about 25 times, so every
  // term's count varies 25 times more than independent records' would. Only the term added to
  // 10 % of the records may be named.
  std::mt19937 rng(5);
  std::uniform_real_distribution<> u(0, 1);
  auto text = [&]() {
    std::vector<int> words;
    for (int w = 0; w < 1000; ++w) {
      if (u(rng) < 0.005 + 0.03 * (w % 13) / 12.0) words.push_back(w);
    }
    return words;
  };
  TermCounts reference(kReferenceTermCapacity, false);
  for (int r = 0; r < 5000; ++r) AddWords(&reference, text());
  std::vector<std::vector<int>> pool;
  for (int r = 0; r < 400; ++r) pool.push_back(text());
  TermCounts batch;
  for (int r = 0; r < 10000; ++r) {
    std::vector<int> words = pool[rng() % pool.size()];
    if (r % 10 == 0) words.push_back(5000);
    AddWords(&batch, words, "r");
  }
  double inflation = 0;
  const auto top = TopTerms(reference, batch, TermOptions{}, &inflation);
  EXPECT_GT(inflation, 5.0);
  ASSERT_EQ(top.size(), 1u) << top[1].term << " z " << top[1].z;
  EXPECT_EQ(top[0].term, "w5000");
  // Without the correction chance terms crowd in.
  TermOptions raw;
  raw.genomic_control = false;
  EXPECT_GT(TopTerms(reference, batch, raw).size(), 1u);
}

TEST(TermSampler, CountsTheFirstRecordsThenAShrinkingWeightedSample) {
  TermSampler sampler;
  TermCounts t;
  uint64_t weights = 0;
  const int n = 100000;
  for (int r = 0; r < n; ++r) {
    const std::string id = "rec-" + std::to_string(r);
    const uint64_t w = sampler.Weight(id);
    if (r < static_cast<int>(kTermsCountedInFull)) {
      ASSERT_EQ(w, 1u);
    }
    weights += w;
    // w1 in 30 % of the records, w2 in the first 10,000 only.
    std::vector<uint64_t> hashes;
    if (r % 10 < 3) hashes.push_back(1);
    if (r < 10000) hashes.push_back(2);
    t.AddRecord(
        hashes, [](size_t, std::string* s) { s->assign(1, 'w'); }, id, w);
  }
  EXPECT_EQ(t.records(), static_cast<uint64_t>(n));
  // About 2,048 + 1,024 log2(n / 2,048) records counted, their weights summing to about n.
  const double full = kTermsCountedInFull;
  EXPECT_NEAR(static_cast<double>(t.counted()), full + full / 2 * std::log2(n / full), 400);
  EXPECT_NEAR(static_cast<double>(weights), n, 0.05 * n);
  EXPECT_NEAR(static_cast<double>(t.Entries().at(1).hits), 0.3 * n, 0.05 * 0.3 * n);
  EXPECT_NEAR(static_cast<double>(t.Entries().at(2).hits), 10000, 800);
}

TEST(CountRecordTerms, CountsTheClassifiersDistinctWordUnigramsAndBigrams) {
  const classify::FeatureExtractor extractor{classify::FeatureOptions{}};
  classify::FeatureScratch features;
  extractor.Hash("Mi TARJETA, mi tarjeta 1234 bloqueada", &features);
  TermCounts t;
  TermScratch scratch;
  CountRecordTerms(features, "r1", nullptr, &scratch, &t);
  CountRecordTerms(features, "r2", nullptr, &scratch, &t);  // texts are kept from the second on
  std::vector<std::string> texts;
  for (const auto& [h, e] : t.Entries()) {
    texts.push_back(e.text);
    // The terms are the classifier's own word features.
    EXPECT_NE(std::find(features.hashes.begin(), features.hashes.end(), h), features.hashes.end())
        << e.text;
    EXPECT_EQ(e.hits, 2u) << "counted once per record: " << e.text;
    EXPECT_EQ(e.examples, std::vector<std::string>{"r2"});
  }
  std::sort(texts.begin(), texts.end());
  EXPECT_EQ(texts,
            (std::vector<std::string>{"0000", "0000 bloqueada", "bloqueada", "mi", "mi tarjeta",
                                      "tarjeta", "tarjeta 0000", "tarjeta mi"}));
}

TEST(Profile, CarriesReferenceTermsThroughJson) {
  Profile p;
  *p.mutable_terms() = TermCounts(kReferenceTermCapacity, /*keep_text=*/false);
  Observation o;
  o.label = "a";
  o.score = 0.9f;
  for (int r = 0; r < 4; ++r) {
    p.Add(o);
    AddWords(p.mutable_terms(), r < 3 ? std::vector<int>{1, 2} : std::vector<int>{2});
  }
  auto back = Profile::FromJson(p.ToJson());
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->terms().records(), 4u);
  EXPECT_EQ(back->terms().UpperBound(2), 3u);
  EXPECT_EQ(back->terms().UpperBound(3), 4u);
  // Terms in fewer than kReferenceMinRecords rows are not stored: their bound is the floor.
  EXPECT_EQ(back->terms().UpperBound(99), 0u);
  // More term records than profile records is damage.
  auto j = nlohmann::json::parse(p.ToJson());
  j["terms"]["records"] = 5;
  EXPECT_FALSE(Profile::FromJson(j.dump()).ok());
}

}  // namespace
}  // namespace lote::monitoring
