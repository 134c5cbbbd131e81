#include "lote/classify/intent_classifier.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "lote/bundle/model.h"
#include "lote/model/model_file.h"
#include "quality_floor.h"

namespace lote::classify {
namespace {

std::vector<LabeledText> Toy() {
  std::vector<LabeledText> rows;
  const char* transfer[] = {"la transferencia no llegó",
                            "mi transferencia fallo",
                            "transferí plata y no aparece",
                            "la transferencia está rechazada",
                            "no me llega la transferencia de ayer",
                            "transfer failed",
                            "my transfer did not arrive",
                            "transferencia pendiente hace días"};
  const char* balance[] = {"cuál es mi saldo",          "quiero consultar el saldo",
                           "cuanto tengo en la cuenta", "saldo disponible por favor",
                           "what is my balance",        "ver saldo de ahorros",
                           "consultar saldo",           "mi saldo actual"};
  const char* card[] = {"perdí la tarjeta débito",
                        "bloquear tarjeta de débito",
                        "la tarjeta no funciona en el datáfono",
                        "my debit card was stolen",
                        "tarjeta debito vencida",
                        "nueva tarjeta débito",
                        "tarjeta rechazada",
                        "activar tarjeta débito"};
  for (auto* t : transfer) rows.push_back({t, "transferencia"});
  for (auto* t : balance) rows.push_back({t, "saldo"});
  for (auto* t : card) rows.push_back({t, "tarjeta"});
  return rows;
}

ClassifierTrainOptions Options(int threads = 1) {
  ClassifierTrainOptions o;
  o.threads = threads;
  o.provenance_json = R"({"train_sha256":"x"})";
  return o;
}

std::string Serialize(const IntentClassifier& c) {
  model::ModelFile f;
  c.Save(&f);
  return model::SerializeModelFile(f);
}

TEST(IntentClassifier, LearnsToyIntentsInSpanishAndEnglish) {
  ClassifierTrainReport rep;
  auto c = IntentClassifier::Train(Toy(), {}, Options(), &rep);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  auto st = (*c)->NewState();
  ClassifierPrediction p;
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"no me llegó la transferencia", "transferencia"},
      {"saldo de mi cuenta", "saldo"},
      {"se me perdió la tarjeta debito", "tarjeta"},
      {"MY TRANSFER FAILED", "transferencia"}};
  for (const auto& [text, want] : cases) {
    (*c)->Predict(text, st.get(), 3, &p);
    EXPECT_EQ((*c)->labels()[p.label], want) << text;
    ASSERT_EQ(p.top_k.size(), 3u);
    EXPECT_EQ(p.top_k[0].label, p.label);
    EXPECT_GE(p.top_k[0].score, p.top_k[1].score);
    float sum = 0;
    std::vector<float> probs;
    (*c)->Probabilities(text, st.get(), &probs);
    for (float x : probs) sum += x;
    EXPECT_NEAR(sum, 1.0f, 1e-4);
  }
}

// Vectorize counts the words and character n-grams it has no feature for (monitoring), finding
// the unigrams among the word features by position: the same counts as looking every word and
// n-gram up, for any n-gram order.
TEST(IntentClassifier, CountsUnknownWordsAndNgramsAsADirectLookupWould) {
  for (int order : {1, 2, 3}) {
    ClassifierTrainOptions o;
    o.threads = 1;
    o.features.word_ngram_max = order;
    auto c = IntentClassifier::Train(Toy(), {}, o, nullptr);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    FeatureExtractor extractor(o.features);
    ClassifierState st;
    FeatureScratch scratch;
    for (const char* text : {"quiero consultar mi tarjeta xyzzy", "", "!!!", "saldo",
                             "what is my balance frobnicate 123 and more unknown words here",
                             "recargar recargar recargar qwerty"}) {
      (*c)->Vectorize(text, &st);
      extractor.Hash(text, &scratch);
      // Direct lookups: a word is known when its unigram feature has a non-zero column in the
      // model's vocabulary, which is what Vectorize's row shows for a one-word text.
      uint32_t unknown_words = 0;
      for (size_t i = 0; i < scratch.word_hashes.size(); ++i) {
        ClassifierState one;
        (*c)->Vectorize(scratch.words[i], &one);
        // A one-word text's unigram is its only word feature.
        unknown_words += one.vocabulary.unknown_words;
      }
      EXPECT_EQ(st.vocabulary.words, scratch.word_hashes.size()) << text;
      EXPECT_EQ(st.vocabulary.unknown_words, unknown_words) << text << " order " << order;
      uint32_t ngrams = 0;
      for (uint64_t h : scratch.hashes) ngrams += IsCharFeature(h);
      EXPECT_EQ(st.vocabulary.char_ngrams, ngrams) << text;
      EXPECT_LE(st.vocabulary.unknown_char_ngrams, st.vocabulary.char_ngrams);
    }
    (*c)->Vectorize("xyzzy qwerty", &st);
    EXPECT_EQ(st.vocabulary.unknown_words, 2u);
    (*c)->Vectorize("tarjeta saldo", &st);
    EXPECT_EQ(st.vocabulary.unknown_words, 0u);
    EXPECT_EQ(st.vocabulary.unknown_char_ngrams, 0u);
  }
}

TEST(IntentClassifier, TrainingIsByteIdenticalAcrossRunsAndThreadCounts) {
  auto a = IntentClassifier::Train(Toy(), {}, Options(1), nullptr);
  auto b = IntentClassifier::Train(Toy(), {}, Options(1), nullptr);
  auto c = IntentClassifier::Train(Toy(), {}, Options(4), nullptr);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(Serialize(**a), Serialize(**b));
  EXPECT_EQ(Serialize(**a), Serialize(**c));
}

TEST(IntentClassifier, SaveLoadRoundTripGivesIdenticalProbabilities) {
  auto c = IntentClassifier::Train(Toy(), {}, Options(), nullptr);
  ASSERT_TRUE(c.ok());
  model::ModelFile f;
  (*c)->Save(&f);
  auto loaded = IntentClassifier::Load(f, "toy.lote");
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  auto s1 = (*c)->NewState();
  auto s2 = (*loaded)->NewState();
  for (const auto& row : Toy()) {
    std::vector<float> p1, p2;
    (*c)->Probabilities(row.text, s1.get(), &p1);
    (*loaded)->Probabilities(row.text, s2.get(), &p2);
    EXPECT_EQ(p1, p2);
  }
  EXPECT_EQ((*loaded)->temperature(), (*c)->temperature());
}

TEST(IntentClassifier, TruncatedWeightsSectionIsDataLoss) {
  auto c = IntentClassifier::Train(Toy(), {}, Options(), nullptr);
  ASSERT_TRUE(c.ok());
  model::ModelFile f;
  (*c)->Save(&f);
  auto& w = f.sections["classifier.weights"];
  w.resize(w.size() / 2);
  auto loaded = IntentClassifier::Load(f, "toy.lote");
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(loaded.status().message().find("toy.lote"), std::string::npos);
}

TEST(IntentClassifier, RejectsSingleLabelAndMissingOosLabel) {
  std::vector<LabeledText> one{{"hola", "saludo"}, {"buenas", "saludo"}};
  auto a = IntentClassifier::Train(one, {}, Options(), nullptr);
  EXPECT_EQ(a.status().code(), StatusCode::kInvalidArgument);
  auto o = Options();
  o.oos_label = "oos";
  auto b = IntentClassifier::Train(Toy(), {}, o, nullptr);
  EXPECT_EQ(b.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(b.status().message().find("oos"), std::string::npos);
  auto empty = IntentClassifier::Train({}, {}, Options(), nullptr);
  EXPECT_EQ(empty.status().code(), StatusCode::kInvalidArgument);
}

TEST(IntentClassifier, WarnsAboutLabelSeenOnceAndIgnoresUnknownDevLabels) {
  auto rows = Toy();
  rows.push_back({"quiero un crédito de vivienda", "credito"});
  std::vector<LabeledText> dev{{"saldo", "saldo"}, {"hola", "never_trained"}};
  ClassifierTrainReport rep;
  auto c = IntentClassifier::Train(rows, dev, Options(), &rep);
  ASSERT_TRUE(c.ok());
  std::string all;
  for (const auto& w : rep.warnings) all += w + "\n";
  EXPECT_NE(all.find("'credito' has a single training example"), std::string::npos) << all;
  EXPECT_NE(all.find("1 dev row(s)"), std::string::npos) << all;
}

TEST(IntentClassifier, AbstainsToOosLabelWhenUnsure) {
  auto rows = Toy();
  const char* oos[] = {"cuál es la capital de francia", "recomiéndame una película",
                       "qué hora es en tokio",          "tell me a joke",
                       "what's the weather like",       "receta de arepas",
                       "quién ganó el partido",         "play some music"};
  for (auto* t : oos) rows.push_back({t, "oos"});
  std::vector<LabeledText> dev{{"transferencia fallida", "transferencia"},
                               {"consultar saldo ahorros", "saldo"},
                               {"tarjeta débito bloqueada", "tarjeta"},
                               {"cuéntame un chiste", "oos"},
                               {"cómo está el clima", "oos"}};
  auto o = Options();
  o.oos_label = "oos";
  auto c = IntentClassifier::Train(rows, dev, o, nullptr);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_GE((*c)->oos_label(), 0);
  auto st = (*c)->NewState();
  ClassifierPrediction p;
  (*c)->Predict("zxqv plorp", st.get(), 0, &p);
  EXPECT_EQ((*c)->labels()[p.label], "oos");
  (*c)->Predict("no llegó mi transferencia", st.get(), 0, &p);
  EXPECT_EQ((*c)->labels()[p.label], "transferencia");
}

// The bundled sample (data/sample) must be learnable: a regression guard for the whole stack.
TEST(IntentClassifier, ReachesHighAccuracyOnBundledSample) {
  auto read = [](const std::string& path) {
    std::vector<LabeledText> rows;
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) {
      auto j = nlohmann::json::parse(line);
      rows.push_back({j["text"], j["label"]});
    }
    return rows;
  };
  auto train = read(std::string(LOTE_SAMPLE_DIR) + "/train.jsonl");
  auto test = read(std::string(LOTE_SAMPLE_DIR) + "/test.jsonl");
  // The sample ships with the repository: missing is a broken checkout, not a reason to skip.
  ASSERT_FALSE(train.empty()) << LOTE_SAMPLE_DIR "/train.jsonl is missing or empty";
  ASSERT_FALSE(test.empty()) << LOTE_SAMPLE_DIR "/test.jsonl is missing or empty";
  auto c = IntentClassifier::Train(train, read(std::string(LOTE_SAMPLE_DIR) + "/dev.jsonl"),
                                   Options(2), nullptr);
  ASSERT_TRUE(c.ok());
  auto st = (*c)->NewState();
  ClassifierPrediction p;
  size_t right = 0;
  for (const auto& r : test) {
    (*c)->Predict(r.text, st.get(), 0, &p);
    right += (*c)->labels()[p.label] == r.label;
  }
  EXPECT_TRUE(quality::AtLeast("sample test accuracy (Train API)",
                               static_cast<double>(right) / test.size(), 0.99));
}

}  // namespace
}  // namespace lote::classify
