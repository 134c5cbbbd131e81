#include "lote/monitoring/reference_profile.h"

#include <gtest/gtest.h>

#include "lote/bundle/model.h"
#include "lote/pipeline/inference.h"
#include "testing/toy_model.h"

namespace lote::monitoring {
namespace {

std::vector<classify::LabeledText> Rows(int copies) {
  std::vector<classify::LabeledText> rows;
  for (int i = 0; i < copies; ++i) {
    // A word of its own in every row ("qaaw", "qaax", ...).
    const std::string n =
        std::string("q") + static_cast<char>('a' + i / 26) + static_cast<char>('a' + i % 26);
    rows.push_back({"quiero recargar mi celular " + n + "w", "recarga"});
    rows.push_back({"top up my phone please " + n + "x", "recarga"});
    rows.push_back({"cual es mi saldo disponible " + n + "y", "saldo"});
    rows.push_back({"what is my balance today " + n + "z", "saldo"});
  }
  return rows;
}

TEST(BuildReferenceProfile, ProfilesTheCalibrationRowsAsThePipelineSeesThem) {
  const auto train = Rows(20);
  std::vector<classify::LabeledText> dev = {{"recargar el <b>celular</b>", "recarga"},
                                            {"saldo de la cuenta xyzzy", "saldo"},
                                            {"my balance", "saldo"}};
  classify::ClassifierTrainOptions o;
  o.threads = 1;
  o.profile_folds = 0;  // the calibration rows, as the calibration-phase model saw them
  classify::ClassifierTrainReport report;
  auto c = classify::IntentClassifier::Train(train, dev, o, &report);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_EQ(report.calibration.size(), 3u);
  EXPECT_EQ(report.calibration_split, "dev");
  // Of "saldo de la cuenta xyzzy" the model knows only "saldo".
  EXPECT_EQ(report.calibration[1].vocabulary.words, 5u);
  EXPECT_EQ(report.calibration[1].vocabulary.unknown_words, 4u);
  EXPECT_GT(report.calibration[1].vocabulary.unknown_char_ngrams, 0u);
  EXPECT_LT(report.calibration[1].vocabulary.unknown_char_ngrams,
            report.calibration[1].vocabulary.char_ngrams);
  // The classifier scores the text as given (the tags' "b" twice, and "el", are unknown).
  EXPECT_EQ(report.calibration[0].vocabulary.unknown_words, 3u);

  Profile p = BuildReferenceProfile(**c, report, report.calibration_split, pipeline::PrepOptions(),
                                    std::nullopt);
  EXPECT_EQ(p.records(), 3u);
  EXPECT_EQ(p.calibration.rows, 3u);
  EXPECT_NEAR(p.calibration.ece, report.dev_ece, 1e-12);
  EXPECT_NE(p.source.find("dev"), std::string::npos);
  EXPECT_EQ(p.categorical("lang").at("es"), 2u);
  EXPECT_EQ(p.categorical("lang").at("en"), 1u);
  // Length after prep: the HTML tags are gone ("recargar el celular" = 19 code points).
  const NumericHistogram& len = p.numeric(NumericSignal::kTextLength);
  EXPECT_NEAR(len.sum, 19 + 24 + 10, 1e-9);
  EXPECT_FALSE(p.has_abstention());
}

TEST(BuildReferenceProfile, AfterARefitEveryRowIsScoredOutOfFold) {
  const auto train = Rows(20);
  std::vector<classify::LabeledText> dev = {{"recargar el celular", "recarga"},
                                            {"saldo de la cuenta", "saldo"}};
  classify::ClassifierTrainOptions o;
  o.threads = 1;
  classify::ClassifierTrainReport report;
  auto c = classify::IntentClassifier::Train(train, dev, o, &report);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(report.calibration_split, "out_of_fold_5");
  ASSERT_EQ(report.calibration.size(), train.size() + dev.size());
  // Every training row has a word of its own: out of fold, the model never saw it.
  size_t with_unknown = 0;
  for (const auto& row : report.calibration) {
    ASSERT_NE(row.row, nullptr);
    with_unknown += row.vocabulary.unknown_words > 0;
  }
  EXPECT_GE(with_unknown, train.size());
  // The same data and options give the same rows (the folds are seeded).
  classify::ClassifierTrainReport again;
  ASSERT_TRUE(classify::IntentClassifier::Train(train, dev, o, &again).ok());
  Profile a = BuildReferenceProfile(**c, report, report.calibration_split, {}, std::nullopt);
  EXPECT_EQ(a.ToJson(),
            BuildReferenceProfile(**c, again, again.calibration_split, {}, std::nullopt).ToJson());
  EXPECT_EQ(a.records(), train.size() + dev.size());
  EXPECT_GT(a.calibration.accuracy, 0.9);
  EXPECT_NE(a.source.find("out_of_fold_5"), std::string::npos);
}

TEST(ReadReferenceProfile, OldModelsHaveNoneAndStillRun) {
  const std::string bytes = testing::ToyClassifierModelBytes();  // no profile section
  auto model = bundle::LoadModel(bytes, "toy.lote");
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  auto ref = ReadReferenceProfile(model->file, "toy.lote");
  ASSERT_TRUE(ref.ok());
  EXPECT_FALSE(ref->has_value());
  auto engine = pipeline::LoadInferenceEngine(bytes, "toy.lote", {});
  ASSERT_TRUE(engine.ok()) << engine.status().ToString();
  EXPECT_EQ((*engine)->reference_profile(), nullptr);
}

TEST(ReadReferenceProfile, ADamagedProfileIsAnErrorNamingTheModel) {
  auto model = bundle::LoadModel(testing::ToyClassifierModelBytes(), "toy.lote");
  ASSERT_TRUE(model.ok());
  model::ModelFile file = model->file;
  file.sections.erase("meta");
  file.sections[std::string(kProfileSection)] = "{\"format\":\"lote-profile\",\"version\":1}";
  auto ref = ReadReferenceProfile(file, "toy.lote");
  ASSERT_FALSE(ref.ok());
  EXPECT_NE(ref.status().ToString().find("toy.lote"), std::string::npos);
  EXPECT_NE(ref.status().ToString().find("records"), std::string::npos);

  // A good one travels with the model into the engine.
  Profile p;
  p.Add({.label = "saldo",
         .score = 0.8f,
         .lang = "es",
         .chars = 12,
         .vocabulary = {2, 0, 0, 0},
         .entities = {}});
  file.sections[std::string(kProfileSection)] = p.ToJson();
  const std::string bytes =
      bundle::FinishModelFile(&file, "toy", "2026-01-01T00:00:00Z", "{}", nullptr);
  auto engine = pipeline::LoadInferenceEngine(bytes, "toy.lote", {});
  ASSERT_TRUE(engine.ok()) << engine.status().ToString();
  ASSERT_NE((*engine)->reference_profile(), nullptr);
  EXPECT_EQ((*engine)->reference_profile()->ToJson(), p.ToJson());
}

}  // namespace
}  // namespace lote::monitoring
