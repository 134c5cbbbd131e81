#include "lote/extract/tagger.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>

#include "extract/tagger_features.h"
#include "extract/tagger_model.h"
#include "lote/model/model_file.h"
#include "quality_floor.h"

namespace lote::extract {
namespace {

// ------------------------------------------------------------------------------------------
// Helpers.

TaggedSequence Seq(std::vector<std::string> tokens, std::vector<std::string> tags) {
  TaggedSequence s;
  s.tokens = std::move(tokens);
  s.tags = std::move(tags);
  return s;
}

// A small synthetic corpus: person names after "señor"/"doctora", cities after "en"/"desde",
// organisations ending in "S.A." — learnable from context, shape and suffix features.
std::vector<TaggedSequence> SyntheticCorpus(int copies) {
  const std::vector<std::string> names = {"Ana", "Luis", "Marta", "Pedro", "Sofía", "Jorge"};
  const std::vector<std::string> surnames = {"Gómez", "Pérez", "Ruiz", "Díaz"};
  const std::vector<std::string> cities = {"Bogotá", "Medellín", "Cali", "Madrid", "Lima"};
  const std::vector<std::string> orgs = {"Bancol", "Finanzas", "Créditos", "Ahorros"};
  std::vector<TaggedSequence> out;
  for (int c = 0; c < copies; ++c) {
    for (size_t i = 0; i < names.size(); ++i) {
      const std::string& n = names[(i + c) % names.size()];
      const std::string& s = surnames[(i + 2 * c) % surnames.size()];
      const std::string& city = cities[(i + c) % cities.size()];
      const std::string& org = orgs[(i + 3 * c) % orgs.size()];
      out.push_back(Seq({"el", "señor", n, s, "vive", "en", city, "."},
                        {"O", "O", "B-PER", "I-PER", "O", "O", "B-LOC", "O"}));
      out.push_back(Seq({"trabaja", "para", org, "S.A.", "desde", "2019", "."},
                        {"O", "O", "B-ORG", "I-ORG", "O", "O", "O"}));
      out.push_back(Seq({"la", "doctora", n, "viajó", "desde", city, "hoy"},
                        {"O", "O", "B-PER", "O", "O", "B-LOC", "O"}));
    }
  }
  return out;
}

TaggerTrainOptions FastOptions() {
  TaggerTrainOptions o;
  o.epochs = 5;
  o.max_epochs = 5;
  return o;
}

// ------------------------------------------------------------------------------------------
// Segmentation and BRAT projection.

TEST(SegmentText, SplitsLettersFromDigitsAndSentencesAtNewlinesAndPeriods) {
  text::Tokenizer tok;
  SegmentedText seg;
  const std::string text = "Vive en 28001-Madrid.\nDr. Ruiz llegó. Fin";
  SegmentText(text, tok, {}, {}, &seg);
  std::vector<std::string> pieces;
  for (const auto& t : seg.tokens) pieces.push_back(text.substr(t.begin, t.end - t.begin));
  const std::vector<std::string> want = {"Vive", "en", "28001", "-",     "Madrid", ".",
                                         "Dr",   ".",  "Ruiz",  "llegó", ".",      "Fin"};
  EXPECT_EQ(pieces, want);
  // Sentences: "Vive ... ." | "Dr. Ruiz llegó ." | "Fin" (no break after the abbreviation).
  EXPECT_EQ(seg.sentence_starts, (std::vector<uint32_t>{0, 6, 11}));
  // Code point offsets: "llegó" starts at code point 31 and has 5 code points.
  EXPECT_EQ(seg.tokens[9].cp_begin, 31u);
  EXPECT_EQ(seg.tokens[9].cp_end, 36u);
  EXPECT_EQ(seg.tokens[10].cp_begin, 36u);
}

io::BratDocument Doc(std::string text, std::vector<io::BratAnnotation> anns) {
  io::BratDocument d;
  d.name = "doc";
  d.text = std::move(text);
  d.annotations = std::move(anns);
  return d;
}

TEST(ProjectBratDocument, SplitsTokensAtAnnotationBoundariesWithCodePointOffsets) {
  // "José" has an accent and "🙂" is 4 bytes but one code point: offsets are code points.
  //                 0         1         2         3
  //                 0123456789012345678901234567890123456
  const std::string text = "🙂 José vive en C/Rosales, Tel:3001234567.";
  // "Rosales" starts at code point 17 inside the token "C/Rosales"; "3001234567" starts inside
  // "Tel:3001234567" after the colon.
  auto doc = Doc(text, {{"T1", "PER", 2, 6, "José"},
                        {"T2", "CALLE", 17, 24, "Rosales"},
                        {"T3", "TEL", 30, 40, "3001234567"}});
  std::vector<TaggedSequence> out;
  BratProjectionStats stats;
  std::vector<std::string> warnings;
  ProjectBratDocument(doc, text::Tokenizer(), &out, &stats, &warnings);
  ASSERT_EQ(out.size(), 1u);
  const auto& s = out[0];
  std::vector<std::string> pairs;
  for (size_t i = 0; i < s.tokens.size(); ++i) {
    pairs.push_back(s.tokens[i] + "/" + s.tags[i] + "@" + std::to_string(s.starts[i]) + "-" +
                    std::to_string(s.ends[i]));
  }
  const std::vector<std::string> want = {"🙂/O@0-1",
                                         "José/B-PER@2-6",
                                         "vive/O@7-11",
                                         "en/O@12-14",
                                         "C/O@15-16",
                                         "//O@16-17",
                                         "Rosales/B-CALLE@17-24",
                                         ",/O@24-25",
                                         "Tel/O@26-29",
                                         ":/O@29-30",
                                         "3001234567/B-TEL@30-40",
                                         "./O@40-41"};
  EXPECT_EQ(pairs, want);
  EXPECT_EQ(stats.entities, 3u);
  EXPECT_EQ(stats.overlaps_dropped, 0u);
  EXPECT_TRUE(warnings.empty());
}

TEST(ProjectBratDocument, SplitsANumberTokenAtAnInnerBoundary) {
  // The annotation covers only "28001" of the number token "28001.5": a forced split.
  const std::string text = "CP 28001.5 ok";
  auto doc = Doc(text, {{"T1", "CP", 3, 8, "28001"}});
  std::vector<TaggedSequence> out;
  BratProjectionStats stats;
  ProjectBratDocument(doc, text::Tokenizer(), &out, &stats, nullptr);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].tokens, (std::vector<std::string>{"CP", "28001", ".5", "ok"}));
  EXPECT_EQ(out[0].tags, (std::vector<std::string>{"O", "B-CP", "O", "O"}));
  EXPECT_EQ(stats.boundary_splits, 1u);
}

TEST(ProjectBratDocument, KeepsTheLongestOfOverlappingAnnotationsAndWarns) {
  const std::string text = "Ana María Gómez llegó";
  auto doc = Doc(text, {{"T1", "NOMBRE", 0, 9, "Ana María"},
                        {"T2", "NOMBRE", 0, 15, "Ana María Gómez"},
                        {"T3", "APELLIDO", 10, 15, "Gómez"}});
  std::vector<TaggedSequence> out;
  BratProjectionStats stats;
  std::vector<std::string> warnings;
  ProjectBratDocument(doc, text::Tokenizer(), &out, &stats, &warnings);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].tags, (std::vector<std::string>{"B-NOMBRE", "I-NOMBRE", "I-NOMBRE", "O"}));
  EXPECT_EQ(stats.overlaps_dropped, 2u);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("2 overlapping"), std::string::npos);
}

TEST(ProjectBratDocument, NeverBreaksASentenceInsideAnAnnotation) {
  const std::string text = "Vive en Av. Sur 5. Bien";
  // Without the annotation "Av." + " Sur" would not split (abbreviation) but "5." + " Bien"
  // would; an annotation over "Sur 5. Bien" keeps it in one sentence.
  auto doc = Doc(text, {{"T1", "CALLE", 12, 23, "Sur 5. Bien"}});
  std::vector<TaggedSequence> out;
  ProjectBratDocument(doc, text::Tokenizer(), &out, nullptr, nullptr);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].tags.back(), "I-CALLE");
}

// ------------------------------------------------------------------------------------------
// Training, inference, serialization.

TEST(EntityTagger, LearnsASmallSyntheticSet) {
  TaggerTrainReport report;
  auto tagger = EntityTagger::Train(SyntheticCorpus(6), {}, FastOptions(), &report);
  ASSERT_TRUE(tagger.ok()) << tagger.status().ToString();
  EXPECT_EQ(tagger->entity_types(), (std::vector<std::string>{"LOC", "ORG", "PER"}));
  TaggerState state;
  // Unseen name and city in a seen context.
  auto tags = tagger->Tag({"el", "señor", "Camilo", "Pérez", "vive", "en", "Pasto", "."}, &state);
  EXPECT_EQ(tags, (std::vector<std::string>{"O", "O", "B-PER", "I-PER", "O", "O", "B-LOC", "O"}));
  EXPECT_EQ(report.train_sentences, 108u);
  EXPECT_EQ(report.epochs, 5);
  EXPECT_EQ(report.data_sha256.size(), 64u);

  auto ents = tagger->Extract("La doctora Marta viajó desde Cali hoy", &state);
  ASSERT_TRUE(ents.ok());
  ASSERT_EQ(ents->size(), 2u);
  EXPECT_EQ((*ents)[0].type, "PER");
  EXPECT_EQ((*ents)[0].start, 11u);
  EXPECT_EQ((*ents)[0].end, 16u);
  EXPECT_EQ((*ents)[0].text, "Marta");
  EXPECT_EQ((*ents)[0].source, Entity::Source::kModel);
  EXPECT_GT((*ents)[0].score, 0.0f);
  EXPECT_LT((*ents)[0].score, 1.0f);
  EXPECT_EQ((*ents)[1].type, "LOC");
  EXPECT_EQ((*ents)[1].text, "Cali");
}

TEST(EntityTagger, ExtractCountsTheSentencesHoldingEachType) {
  auto tagger = EntityTagger::Train(SyntheticCorpus(6), {}, FastOptions(), nullptr);
  ASSERT_TRUE(tagger.ok()) << tagger.status().ToString();
  TaggerState state;
  SentenceCounts counts;
  counts.sentences = 99;  // overwritten, not added to
  // Three sentences: two names in the first (one sentence holding PER), a city in the second,
  // nothing in the third.
  auto ents = tagger->Extract(
      "La doctora Marta habló con el señor Camilo Pérez. Viajó desde Cali hoy.\nGracias", &state,
      &counts);
  ASSERT_TRUE(ents.ok());
  EXPECT_EQ(counts.sentences, 3u);
  ASSERT_EQ(counts.with_type.size(), 3u);  // LOC, ORG, PER (entity_types() order)
  EXPECT_EQ(counts.with_type[0], 1u);
  EXPECT_EQ(counts.with_type[1], 0u);
  EXPECT_EQ(counts.with_type[2], 1u);
  ASSERT_TRUE(tagger->Extract("", &state, &counts).ok());
  EXPECT_EQ(counts.sentences, 0u);
  EXPECT_EQ(counts.with_type, (std::vector<uint32_t>{0, 0, 0}));
}

TEST(EntityTagger, DevSentencesAreCountedByTheModelThatDidNotLearnThem) {
  TaggerTrainOptions o = FastOptions();
  TaggerTrainReport report;
  const std::vector<TaggedSequence> dev = SyntheticCorpus(1);
  auto tagger = EntityTagger::Train(SyntheticCorpus(4), dev, o, &report);
  ASSERT_TRUE(tagger.ok()) << tagger.status().ToString();
  EXPECT_EQ(report.dev_profile_sentences, dev.size());
  // Two of the three synthetic sentences name a person and a city, one an organisation.
  const double n = static_cast<double>(dev.size());
  EXPECT_NEAR(report.dev_type_sentences["PER"] / n, 2.0 / 3, 0.1);
  EXPECT_NEAR(report.dev_type_sentences["LOC"] / n, 2.0 / 3, 0.1);
  EXPECT_NEAR(report.dev_type_sentences["ORG"] / n, 1.0 / 3, 0.1);
  for (const auto& [type, n] : report.dev_type_sentences) EXPECT_LE(n, dev.size()) << type;
  TaggerTrainReport without;
  ASSERT_TRUE(EntityTagger::Train(SyntheticCorpus(4), {}, o, &without).ok());
  EXPECT_EQ(without.dev_profile_sentences, 0u);
  EXPECT_TRUE(without.dev_type_sentences.empty());
}

TEST(EntityTagger, OneStateServesSeveralModelsAsFreshStatesDo) {
  // A state remembers per-form weight sums of the model it last served; another model (here one
  // that learned the opposite labels) must not see them.
  auto a = EntityTagger::Train(SyntheticCorpus(6), {}, FastOptions(), nullptr);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  std::vector<TaggedSequence> swapped = SyntheticCorpus(6);
  for (auto& seq : swapped) {
    for (auto& tag : seq.tags) {
      if (tag.size() > 2 && tag.substr(2) == "PER") {
        tag = tag.substr(0, 2) + "LOC";
      } else if (tag.size() > 2 && tag.substr(2) == "LOC") {
        tag = tag.substr(0, 2) + "PER";
      }
    }
  }
  auto b = EntityTagger::Train(swapped, {}, FastOptions(), nullptr);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  const std::vector<std::string> sentence = {"el",   "señor", "Ana",  "Ruiz",
                                             "vive", "en",    "Lima", "."};
  TaggerState shared, fresh_a, fresh_b;
  for (int round = 0; round < 3; ++round) {
    EXPECT_EQ(a->Tag(sentence, &shared), a->Tag(sentence, &fresh_a)) << round;
    EXPECT_EQ(b->Tag(sentence, &shared), b->Tag(sentence, &fresh_b)) << round;
  }
  EXPECT_NE(a->Tag(sentence, &shared), b->Tag(sentence, &shared));
}

TEST(EntityTagger, ExtractRejectsInvalidUtf8) {
  auto tagger = EntityTagger::Train(SyntheticCorpus(1), {}, FastOptions(), nullptr);
  ASSERT_TRUE(tagger.ok());
  TaggerState state;
  auto r = tagger->Extract("abc \xff def", &state);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
}

TEST(EntityTagger, RejectsTagsThatAreNotIob2) {
  auto bad = EntityTagger::Train({Seq({"a", "b"}, {"O", "I-PER"})}, {}, FastOptions(), nullptr);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  auto mismatch = EntityTagger::Train({Seq({"a", "b"}, {"O"})}, {}, FastOptions(), nullptr);
  EXPECT_EQ(mismatch.status().code(), StatusCode::kInvalidArgument);
  auto empty = EntityTagger::Train({}, {}, FastOptions(), nullptr);
  EXPECT_EQ(empty.status().code(), StatusCode::kInvalidArgument);
}

TEST(EntityTagger, DevSetChoosesTheEpochAndIsRecordedInMeta) {
  TaggerTrainOptions o;
  o.max_epochs = 4;
  o.patience = 0;
  TaggerTrainReport report;
  auto tagger = EntityTagger::Train(SyntheticCorpus(4), SyntheticCorpus(1), o, &report);
  ASSERT_TRUE(tagger.ok());
  ASSERT_EQ(report.dev_f1_per_epoch.size(), 4u);
  EXPECT_GE(report.epochs, 1);
  EXPECT_EQ(report.dev_f1,
            *std::max_element(report.dev_f1_per_epoch.begin(), report.dev_f1_per_epoch.end()));
  auto meta = nlohmann::json::parse(tagger->meta_json());
  EXPECT_EQ(meta["kind"], "tagger");
  EXPECT_EQ(meta["version_id"], tagger->version_id());
  EXPECT_EQ(meta["training"]["epochs"], report.epochs);
  EXPECT_EQ(meta["training"]["data_sha256"], report.data_sha256);
  EXPECT_EQ(meta["entity_types"], (nlohmann::json{"LOC", "ORG", "PER"}));
}

TEST(EntityTagger, SerializationRoundTripGivesIdenticalPredictions) {
  auto tagger = EntityTagger::Train(SyntheticCorpus(3), {}, FastOptions(), nullptr);
  ASSERT_TRUE(tagger.ok());
  const std::string bytes = model::SerializeModelFile(tagger->ToModelFile());
  auto file = model::ParseModelFile(bytes, "t.lote");
  ASSERT_TRUE(file.ok());
  auto loaded = EntityTagger::FromModelFile(*file);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->version_id(), tagger->version_id());
  EXPECT_EQ(loaded->tag_names(), tagger->tag_names());
  // Re-serializing the loaded model gives the same bytes.
  EXPECT_EQ(model::SerializeModelFile(loaded->ToModelFile()), bytes);
  TaggerState s1, s2;
  const std::string text = "El señor Pedro Díaz vive en Lima. Trabaja para Bancol S.A. desde 2019";
  auto a = tagger->Extract(text, &s1);
  auto b = loaded->Extract(text, &s2);
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_EQ(a->size(), b->size());
  ASSERT_FALSE(a->empty());
  for (size_t i = 0; i < a->size(); ++i) {
    EXPECT_EQ((*a)[i].type, (*b)[i].type);
    EXPECT_EQ((*a)[i].start, (*b)[i].start);
    EXPECT_EQ((*a)[i].end, (*b)[i].end);
    EXPECT_EQ((*a)[i].score, (*b)[i].score);
  }
}

TEST(EntityTagger, ModelsWithManyTypesRoundTripAndTagLikeSmallOnes) {
  // Up to 12 tags (5 types) the weights live in the inline key+weights table; more types use
  // the row layout. Both must tag, serialize and reload identically.
  std::vector<TaggedSequence> data = SyntheticCorpus(4);
  const std::vector<std::string> extra = {"AAA", "BBB", "CCC"};
  for (int c = 0; c < 12; ++c) {
    for (const auto& type : extra) {
      data.push_back(Seq({"código", type + std::to_string(c % 3), "registrado", "hoy"},
                         {"O", "B-" + type, "O", "O"}));
    }
  }
  auto tagger = EntityTagger::Train(data, {}, FastOptions(), nullptr);
  ASSERT_TRUE(tagger.ok()) << tagger.status().ToString();
  EXPECT_EQ(tagger->tag_names().size(), 13u);  // 6 types: over the inline limit
  const std::string bytes = model::SerializeModelFile(tagger->ToModelFile());
  auto file = model::ParseModelFile(bytes, "t.lote");
  ASSERT_TRUE(file.ok());
  auto loaded = EntityTagger::FromModelFile(*file);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(model::SerializeModelFile(loaded->ToModelFile()), bytes);
  TaggerState state;
  const std::vector<std::string> want = {"O", "O", "B-PER", "I-PER", "O", "O", "B-LOC", "O"};
  const std::vector<std::string> sent = {"el",   "señor", "Camilo", "Pérez",
                                         "vive", "en",    "Cali",   "."};
  EXPECT_EQ(tagger->Tag(sent, &state), want);
  EXPECT_EQ(loaded->Tag(sent, &state), want);
  EXPECT_EQ(loaded->Tag({"código", "BBB1", "registrado", "hoy"}, &state),
            (std::vector<std::string>{"O", "B-BBB", "O", "O"}));
}

TEST(EntityTagger, TruncatedWeightsSectionIsDataLoss) {
  auto tagger = EntityTagger::Train(SyntheticCorpus(1), {}, FastOptions(), nullptr);
  ASSERT_TRUE(tagger.ok());
  model::ModelFile file = tagger->ToModelFile();
  const std::string weights = file.sections["tagger.weights"];
  for (size_t cut : {size_t{0}, size_t{3}, size_t{12}, weights.size() / 2, weights.size() - 1}) {
    model::ModelFile broken = file;
    broken.sections["tagger.weights"] = weights.substr(0, cut);
    auto r = EntityTagger::FromModelFile(broken);
    ASSERT_FALSE(r.ok()) << cut;
    EXPECT_EQ(r.status().code(), StatusCode::kDataLoss) << cut;
  }
  model::ModelFile missing = file;
  missing.sections.erase("tagger.tags");
  EXPECT_EQ(EntityTagger::FromModelFile(missing).status().code(), StatusCode::kNotFound);
}

TEST(EntityTagger, AMetaFieldOfTheWrongTypeIsDataLossNotAnException) {
  auto tagger = EntityTagger::Train(SyntheticCorpus(1), {}, FastOptions(), nullptr);
  ASSERT_TRUE(tagger.ok());
  const model::ModelFile file = tagger->ToModelFile();
  for (const char* meta : {R"({"name": 7})", R"({"version_id": ["x"]})", R"({"name": null})"}) {
    model::ModelFile broken = file;
    broken.sections["meta"] = meta;
    auto r = EntityTagger::FromModelFile(broken);
    ASSERT_FALSE(r.ok()) << meta;
    EXPECT_EQ(r.status().code(), StatusCode::kDataLoss) << meta;
  }
}

TEST(EntityTagger, ModelOfAnotherFeatureVersionIsRefusedWithAClearError) {
  auto tagger = EntityTagger::Train(SyntheticCorpus(1), {}, FastOptions(), nullptr);
  ASSERT_TRUE(tagger.ok());
  model::ModelFile file = tagger->ToModelFile();
  // tagger.config: uint32 section format, uint32 feature version, ... (little-endian).
  std::string& config = file.sections["tagger.config"];
  ASSERT_GE(config.size(), 8u);
  uint32_t version = 0;
  std::memcpy(&version, config.data() + 4, 4);
  EXPECT_GE(version, 3u);  // 3 added the 5-code-point prefix / suffix templates
  EXPECT_GE(version, 4u);  // 4 added the two-pass (document window) tagger
  for (const uint32_t old_version : {2u, 3u}) {
    model::ModelFile old = file;
    std::memcpy(old.sections["tagger.config"].data() + 4, &old_version, 4);
    auto r = EntityTagger::FromModelFile(old);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
    EXPECT_NE(r.status().ToString().find("feature version " + std::to_string(old_version)),
              std::string::npos)
        << r.status().ToString();
    EXPECT_NE(r.status().ToString().find("retrain"), std::string::npos) << r.status().ToString();
  }
}

TEST(FeatureExtractor, StaticAndContextKeysTogetherAreExactlyTheFullSet) {
  // The tagger caches the static keys' weights per form and probes only the others: the two
  // parts must add up to Features(..., with_static=true), key for key, wherever the token is.
  internal::FeatureExtractor fx(nullptr, nullptr);
  const std::vector<std::string> tokens = {"El", "señor", "Ñandú", "pagó", "$50.000",
                                           "a",  "«",     "BANCO", "S.A.", "»",
                                           "el", "15/03", "!",     "x",    "1234567890ab"};
  std::vector<internal::TokenInfo> infos(tokens.size());
  std::string scratch;
  for (size_t i = 0; i < tokens.size(); ++i) fx.Analyze(tokens[i], &infos[i], &scratch);
  fx.AnalyzeSentence(infos.data(), infos.size(), nullptr);
  for (size_t n : {size_t{1}, size_t{2}, tokens.size()}) {
    for (size_t i = 0; i < n; ++i) {
      uint64_t all[internal::kMaxFeatures], parts[2 * internal::kMaxFeatures];
      const int k_all = fx.Features(infos.data(), n, i, all);
      int k = fx.Features(infos.data(), n, i, parts, /*with_static=*/false);
      k += internal::FeatureExtractor::StaticFeatures(infos[i], parts + k);
      std::vector<uint64_t> a(all, all + k_all), b(parts, parts + k);
      std::sort(a.begin(), a.end());
      std::sort(b.begin(), b.end());
      EXPECT_EQ(a, b) << "token " << i << " of " << n;
    }
  }
}

TEST(DocWindow, SeesHowAnEarlierSentenceTaggedTheSameWordButNotTheTokenItself) {
  using internal::DocToken;
  // Labels: 0 = O, 1 + entity type.
  auto tok = [](uint64_t lower, uint16_t label, bool mid, bool cap) {
    DocToken d;
    d.lower = lower;
    d.label = label;
    d.counted = 1;
    d.mid = mid;
    d.cap = cap;
    return d;
  };
  const DocToken here = tok(42, 0, false, true);  // sentence-initial, tagged O by pass 1
  auto keys_with = [&](const std::vector<DocToken>& window) {
    internal::DocWindow w;
    w.Reset(4);
    for (const auto& d : window) w.Add(d, 1);
    uint64_t keys[internal::kMaxDocFeatures];
    const int k = w.Features(here, 5, 0, 0, internal::kInitCap, true, keys);
    return std::vector<uint64_t>(keys, keys + k);
  };
  const auto alone = keys_with({here});
  // The token's own occurrence is left out: the window holding only it looks like an empty one
  // apart from the "seen nowhere else" key.
  EXPECT_EQ(keys_with({here, tok(7, 2, true, true)}), alone);
  // An earlier sentence tagged the same word as type 2, capitalised mid-sentence.
  const auto seen = keys_with({tok(42, 2, true, true), here});
  EXPECT_NE(seen, alone);
  EXPECT_GT(seen.size(), alone.size());
  // Added and removed again (the window slid past it): back to the same keys.
  internal::DocWindow w;
  w.Reset(4);
  w.Add(tok(42, 2, true, true), 1);
  w.Add(here, 1);
  w.Add(tok(42, 2, true, true), -1);
  uint64_t keys[internal::kMaxDocFeatures];
  const int k = w.Features(here, 5, 0, 0, internal::kInitCap, true, keys);
  EXPECT_EQ(std::vector<uint64_t>(keys, keys + k), alone);
}

TEST(EntityTagger, TwoPassModelRoundTripsAndTagsDocuments) {
  TaggerTrainOptions o = FastOptions();
  o.doc_window = 5;
  o.doc_folds = 3;
  const auto data = SyntheticCorpus(3);
  auto tagger = EntityTagger::Train(data, {}, o, nullptr);
  ASSERT_TRUE(tagger.ok()) << tagger.status().ToString();
  EXPECT_EQ(tagger->doc_window(), 5);
  const model::ModelFile file = tagger->ToModelFile();
  ASSERT_TRUE(file.sections.count("tagger.doc.config"));
  ASSERT_TRUE(file.sections.count("tagger.doc.weights"));
  EXPECT_NE(tagger->meta_json().find("\"doc_window\":5"), std::string::npos);
  auto loaded = EntityTagger::FromModelFile(file);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->doc_window(), 5);
  EXPECT_EQ(model::SerializeModelFile(loaded->ToModelFile()), model::SerializeModelFile(file));
  // A document long enough for the second pass (>= 20 sentences), and a short one.
  std::vector<std::vector<std::string>> doc;
  for (size_t i = 0; i < 24; ++i) doc.push_back(data[i].tokens);
  TaggerState s1, s2;
  const auto a = tagger->TagDocument(doc, &s1);
  const auto b = loaded->TagDocument(doc, &s2);
  EXPECT_EQ(a, b);
  ASSERT_EQ(a.size(), doc.size());
  size_t correct = 0, total = 0;
  for (size_t i = 0; i < doc.size(); ++i) {
    ASSERT_EQ(a[i].size(), doc[i].size());
    for (size_t j = 0; j < a[i].size(); ++j) correct += a[i][j] == data[i].tags[j], ++total;
  }
  EXPECT_TRUE(quality::AtLeast("two-pass token accuracy on its training documents",
                               static_cast<double>(correct) / total, 0.99));
  const auto one = tagger->TagDocument({doc[0]}, &s1);
  EXPECT_EQ(one[0], tagger->Tag(doc[0], &s2));  // short documents: the first pass alone
  // A second-pass section from a newer build is refused.
  model::ModelFile newer = file;
  newer.sections["tagger.doc.config"][0] = 9;
  EXPECT_EQ(EntityTagger::FromModelFile(newer).status().code(), StatusCode::kFailedPrecondition);
  // Two-pass training is deterministic too.
  auto again = EntityTagger::Train(data, {}, o, nullptr);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->ToModelFile().sections, file.sections);
}

// `lote eval --format conll` tags a long file in parallel blocks, each with doc_window()
// sentences of context on both sides: that must give exactly the tags of one TagDocument call.
TEST(EntityTagger, BlocksWithWindowContextTagLikeTheWholeDocument) {
  TaggerTrainOptions o = FastOptions();
  o.doc_window = 5;
  o.doc_folds = 3;
  const auto data = SyntheticCorpus(3);
  auto tagger = EntityTagger::Train(data, {}, o, nullptr);
  ASSERT_TRUE(tagger.ok()) << tagger.status().ToString();
  std::vector<std::vector<std::string>> doc;
  for (const auto& s : data) doc.push_back(s.tokens);
  ASSERT_GE(doc.size(), 50u);
  TaggerState st;
  const auto whole = tagger->TagDocument(doc, &st);
  const size_t w = static_cast<size_t>(tagger->doc_window());
  // Blocks of 25 sentences as eval cuts them (the last one takes the remainder).
  const size_t blocks = doc.size() / 25;
  for (size_t b = 0; b < blocks; ++b) {
    const size_t begin = b * 25, end = b + 1 == blocks ? doc.size() : begin + 25;
    const size_t from = begin > w ? begin - w : 0, to = std::min(doc.size(), end + w);
    const auto part = tagger->TagDocument({doc.begin() + from, doc.begin() + to}, &st);
    for (size_t i = begin; i < end; ++i) EXPECT_EQ(part[i - from], whole[i]) << "sentence " << i;
  }
}

// ------------------------------------------------------------------------------------------
// Sentences longer than kMaxSentenceTokens.

TEST(CapSentences, CutsOnlySentencesLongerThanTheCapAndKeepsEmptyOnes) {
  const uint32_t k = static_cast<uint32_t>(kMaxSentenceTokens);
  // An empty sentence, one of exactly k tokens, one of k + 1, one of 3k.
  const std::vector<uint32_t> sent_off = {0, 0, k, 2 * k + 1, 5 * k + 1};
  std::vector<uint32_t> pieces, piece_sentence;
  internal::CapSentences(sent_off, &pieces, &piece_sentence);
  EXPECT_EQ(pieces,
            (std::vector<uint32_t>{0, 0, k, 2 * k, 2 * k + 1, 3 * k + 1, 4 * k + 1, 5 * k + 1}));
  EXPECT_EQ(piece_sentence, (std::vector<uint32_t>{0, 1, 2, 2, 3, 3, 3}));
  internal::CapSentences({0}, &pieces, &piece_sentence);  // no sentences
  EXPECT_EQ(pieces, (std::vector<uint32_t>{0}));
  EXPECT_TRUE(piece_sentence.empty());
}

// The tokens of the synthetic corpus, one after the other, until there are n.
std::vector<std::string> RunOnTokens(size_t n, bool letters_only) {
  const auto corpus = SyntheticCorpus(1);
  std::vector<std::string> out;
  while (out.size() < n) {
    for (const auto& s : corpus) {
      for (const auto& t : s.tokens) {
        const bool word = std::all_of(t.begin(), t.end(), [](char c) {
          return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c & 0x80);
        });
        if (out.size() < n && (word || !letters_only)) out.push_back(t);
      }
    }
  }
  return out;
}

TEST(EntityTagger, ASentenceLongerThanTheCapIsTaggedAsPiecesOfTheCap) {
  auto tagger = EntityTagger::Train(SyntheticCorpus(3), {}, FastOptions(), nullptr);
  ASSERT_TRUE(tagger.ok()) << tagger.status().ToString();
  const size_t k = kMaxSentenceTokens;
  std::vector<std::string> tokens = RunOnTokens(2 * k + 100, false);
  // A name across the first cut: "Ana" ends the first piece, "Gómez" starts the second.
  const std::vector<std::string> around = {"el", "señor", "Ana", "Gómez", "vive", "en"};
  std::copy(around.begin(), around.end(), tokens.begin() + (k - 3));
  TaggerState st;
  std::vector<std::string> pieces;
  for (size_t at = 0; at < tokens.size(); at += k) {
    const std::vector<std::string> piece(tokens.begin() + at,
                                         tokens.begin() + std::min(tokens.size(), at + k));
    const auto tags = tagger->Tag(piece, &st);
    pieces.insert(pieces.end(), tags.begin(), tags.end());
  }
  EXPECT_EQ(tagger->Tag(tokens, &st), pieces);
  // Each piece is a sentence of its own: the name cannot continue across the cut.
  EXPECT_EQ(pieces[k - 1], "B-PER");
  EXPECT_NE(pieces[k], "I-PER");
  const auto doc = tagger->TagDocument({{"el", "señor", "Luis"}, tokens, {}}, &st);
  ASSERT_EQ(doc.size(), 3u);
  EXPECT_EQ(doc[1], pieces);
  EXPECT_EQ(doc[0], tagger->Tag({"el", "señor", "Luis"}, &st));
  EXPECT_TRUE(doc[2].empty());
  EXPECT_NE(std::count(pieces.begin(), pieces.end(), "B-PER"), 0);
}

TEST(EntityTagger, ExtractCutsARunOnTextAtTheCapAsALineBreakWould) {
  auto tagger = EntityTagger::Train(SyntheticCorpus(3), {}, FastOptions(), nullptr);
  ASSERT_TRUE(tagger.ok()) << tagger.status().ToString();
  const size_t k = kMaxSentenceTokens;
  const std::vector<std::string> words = RunOnTokens(2 * k + 50, true);
  std::string run_on, broken;  // no punctuation, no line break; the same broken at the cap
  for (size_t i = 0; i < words.size(); ++i) {
    if (i > 0) {
      run_on += ' ';
      broken += i % k == 0 ? '\n' : ' ';
    }
    run_on += words[i];
    broken += words[i];
  }
  TaggerState st;
  auto a = tagger->Extract(run_on, &st);
  auto b = tagger->Extract(broken, &st);
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_FALSE(a->empty());
  ASSERT_EQ(a->size(), b->size());
  for (size_t i = 0; i < a->size(); ++i) {
    EXPECT_EQ((*a)[i].type, (*b)[i].type);
    EXPECT_EQ((*a)[i].start, (*b)[i].start);
    EXPECT_EQ((*a)[i].end, (*b)[i].end);
    EXPECT_EQ((*a)[i].score, (*b)[i].score);
  }
}

TEST(EntityTagger, PiecesOfALongSentenceCountAsSentencesForTheSecondPass) {
  TaggerTrainOptions o = FastOptions();
  o.doc_window = 5;
  o.doc_folds = 3;
  auto tagger = EntityTagger::Train(SyntheticCorpus(3), {}, o, nullptr);
  ASSERT_TRUE(tagger.ok()) << tagger.status().ToString();
  const size_t k = kMaxSentenceTokens;
  // 21 pieces: enough for the second pass, as 21 sentences would be.
  const std::vector<std::string> tokens = RunOnTokens(20 * k + 7, false);
  std::vector<std::vector<std::string>> pieces;
  for (size_t at = 0; at < tokens.size(); at += k) {
    pieces.emplace_back(tokens.begin() + at, tokens.begin() + std::min(tokens.size(), at + k));
  }
  ASSERT_EQ(pieces.size(), 21u);
  TaggerState st;
  const auto whole = tagger->TagDocument({tokens}, &st);
  const auto parts = tagger->TagDocument(pieces, &st);
  std::vector<std::string> joined;
  for (const auto& p : parts) joined.insert(joined.end(), p.begin(), p.end());
  ASSERT_EQ(whole.size(), 1u);
  EXPECT_EQ(whole[0], joined);
}

TEST(EntityTagger, TrainingIsDeterministic) {
  const auto data = SyntheticCorpus(3);
  auto a = EntityTagger::Train(data, SyntheticCorpus(1), FastOptions(), nullptr);
  auto b = EntityTagger::Train(data, SyntheticCorpus(1), FastOptions(), nullptr);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->ToModelFile().sections, b->ToModelFile().sections);
  // A different seed changes the shuffle and so the weights.
  TaggerTrainOptions other = FastOptions();
  other.seed = 7;
  auto c = EntityTagger::Train(data, SyntheticCorpus(1), other, nullptr);
  ASSERT_TRUE(c.ok());
  EXPECT_NE(a->ToModelFile().sections.at("tagger.weights"),
            c->ToModelFile().sections.at("tagger.weights"));
}

}  // namespace
}  // namespace lote::extract
