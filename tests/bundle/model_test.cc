#include "lote/bundle/model.h"

#include <gtest/gtest.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "lote/extract/tagger.h"
#include "lote/model/model_file.h"

namespace lote::bundle {
namespace {

using nlohmann::json;

std::string ClassifierModelBytes() {
  std::vector<classify::LabeledText> rows;
  for (const char* t : {"recargar el celular", "recarga de 20 mil", "recargar minutos"}) {
    rows.push_back({t, "recarga"});
  }
  for (const char* t : {"consultar saldo", "saldo disponible", "ver mi saldo"}) {
    rows.push_back({t, "saldo"});
  }
  classify::ClassifierTrainOptions o;
  o.threads = 1;
  auto c = classify::IntentClassifier::Train(rows, {}, o, nullptr);
  EXPECT_TRUE(c.ok());
  model::ModelFile f;
  (*c)->Save(&f);
  return FinishModelFile(&f, "toy", "2026-01-01T00:00:00Z",
                         "{\"classifier\":" + (*c)->MetadataJson() + "}", nullptr);
}

std::string TaggerModelBytes() {
  const std::vector<extract::TaggedSequence> data = {
      {{"Juan", "vive", "en", "Cali"}, {"B-PER", "O", "O", "B-LOC"}, {}, {}},
      {{"Ana", "come", "en", "Bogotá"}, {"B-PER", "O", "O", "B-LOC"}, {}, {}},
  };
  extract::TaggerTrainOptions o;
  o.epochs = 1;
  auto t = extract::EntityTagger::Train(data, {}, o, nullptr);
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  model::ModelFile f = t->ToModelFile();
  return FinishModelFile(&f, "ner", "2026-01-01T00:00:00Z", "{\"tagger\":" + t->meta_json() + "}",
                         nullptr);
}

// The model file `bytes` with its meta JSON changed by `edit`: the checksum stays valid, as in a
// file edited by hand and re-framed.
std::string WithMeta(const std::string& bytes, const std::function<void(json&)>& edit) {
  auto file = model::ParseModelFile(bytes, "m.lote");
  EXPECT_TRUE(file.ok());
  json meta = json::parse(file->sections.at("meta"));
  edit(meta);
  file->sections["meta"] = meta.dump();
  return model::SerializeModelFile(*file);
}

TEST(LoadModel, LoadsWhatFinishModelFileWrote) {
  auto m = LoadModel(ClassifierModelBytes(), "toy.lote");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->created_at, "2026-01-01T00:00:00Z");
  auto t = LoadModel(TaggerModelBytes(), "ner.lote");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_NE(t->tagger, nullptr);
}

// nlohmann's value() threw a type_error out of LoadModel for these (found by feeding
// tests/fuzz/model_file_fuzz.cc a meta edited by hand: corpus/model_file/meta_created_at_number).
TEST(LoadModel, MetaFieldOfTheWrongTypeIsDataLossNotAnException) {
  const std::string bytes = ClassifierModelBytes();
  for (const char* key : {"created_at", "version_id"}) {
    const std::string edited = WithMeta(bytes, [&](json& meta) { meta[key] = 5; });
    Result<Model> m = InvalidArgumentError("not run");
    ASSERT_NO_THROW(m = LoadModel(edited, "toy.lote")) << key;
    ASSERT_FALSE(m.ok()) << key;
    EXPECT_EQ(m.status().code(), StatusCode::kDataLoss) << key;
    EXPECT_NE(m.status().message().find(std::string("'") + key + "' is not a string"),
              std::string::npos)
        << m.status().message();
  }
}

TEST(LoadModel, TaggerMetaFieldOfTheWrongTypeIsDataLossNotAnException) {
  const std::string bytes = TaggerModelBytes();
  for (const char* key : {"name", "version_id"}) {
    const std::string edited =
        WithMeta(bytes, [&](json& meta) { meta["parts"]["tagger"][key] = json::array(); });
    Result<Model> m = InvalidArgumentError("not run");
    ASSERT_NO_THROW(m = LoadModel(edited, "ner.lote")) << key;
    ASSERT_FALSE(m.ok()) << key;
    EXPECT_EQ(m.status().code(), StatusCode::kDataLoss) << key;
    EXPECT_NE(m.status().message().find(std::string("tagger meta field '") + key + "'"),
              std::string::npos)
        << m.status().message();
  }
}

TEST(BundleModels, PartsMetaThatIsNotAnObjectIsCopiedNotAnException) {
  const std::string bytes =
      WithMeta(ClassifierModelBytes(), [](json& meta) { meta["parts"]["note"] = 5; });
  auto m = LoadModel(bytes, "toy.lote");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  Result<std::string> bundled = InvalidArgumentError("not run");
  ASSERT_NO_THROW(bundled = BundleModels({&*m}, "b", "2026-01-01T00:00:00Z", nullptr));
  ASSERT_TRUE(bundled.ok()) << bundled.status().ToString();
  auto again = LoadModel(*bundled, "b.lote");
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(json::parse(again->meta_json)["parts"]["note"], 5);
}

}  // namespace
}  // namespace lote::bundle
