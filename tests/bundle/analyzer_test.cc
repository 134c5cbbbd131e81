#include "lote/bundle/analyzer.h"

#include <gtest/gtest.h>

#include "lote/bundle/model.h"
#include "lote/pipeline/inference.h"
#include "testing/toy_model.h"

namespace lote::bundle {
namespace {

using lote::testing::ToyClassifierModelBytes;

TEST(TextAnalyzer, ClassifiesAndExtractsPatternsInOnePass) {
  auto m = LoadModel(ToyClassifierModelBytes(), "toy.lote");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  auto a = TextAnalyzer::Create(&*m, {});
  ASSERT_TRUE(a.ok());
  auto st = (*a)->NewState();
  Analysis out;
  ASSERT_TRUE((*a)->Analyze("ñoño 😀 recarga al 300 123 4567 porfa", st.get(), &out).ok());
  ASSERT_TRUE(out.has_label);
  EXPECT_EQ(m->classifier->labels()[out.prediction.label], "recarga");
  ASSERT_EQ(out.entities.size(), 1u);
  EXPECT_EQ(out.entities[0].type, "PHONE");
  EXPECT_EQ(out.entities[0].start, 18u);  // code points: the emoji counts as one
  EXPECT_EQ(out.entities[0].end, 30u);
  std::string json;
  (*a)->AppendEntitiesJson(out, &json);
  EXPECT_NE(json.find("\"value\":\"+573001234567\""), std::string::npos) << json;
}

TEST(TextAnalyzer, MaskPolicyKeepsPersonalValuesOutOfJsonAndFreeText) {
  auto m = LoadModel(ToyClassifierModelBytes(), "toy.lote");
  ASSERT_TRUE(m.ok());
  AnalyzerOptions o;
  o.pii = PiiPolicy::kMask;
  auto a = TextAnalyzer::Create(&*m, o);
  ASSERT_TRUE(a.ok());
  auto st = (*a)->NewState();
  Analysis out;
  const std::string text = "mi correo es ana.perez@example.com y mi cel 3001234567";
  ASSERT_TRUE((*a)->Analyze(text, st.get(), &out).ok());
  std::string json;
  (*a)->AppendEntitiesJson(out, &json);
  EXPECT_EQ(json.find("ana.perez"), std::string::npos) << json;
  EXPECT_EQ(json.find("3001234567"), std::string::npos) << json;
  const std::string red = (*a)->RedactText(text, st.get());
  EXPECT_EQ(red.find("ana.perez"), std::string::npos) << red;
  EXPECT_EQ(red.find("3001234567"), std::string::npos) << red;
  EXPECT_EQ(red.size(), text.size());  // mask keeps the length
}

TEST(TextAnalyzer, HashPolicyNeedsAKeyAndGivesStableTokens) {
  auto m = LoadModel(ToyClassifierModelBytes(), "toy.lote");
  ASSERT_TRUE(m.ok());
  AnalyzerOptions o;
  o.pii = PiiPolicy::kHash;
  EXPECT_EQ(TextAnalyzer::Create(&*m, o).status().code(), StatusCode::kInvalidArgument);
  o.pii_key = Secret(std::string("secret-key-0123456789"));
  auto a = TextAnalyzer::Create(&*m, o);
  ASSERT_TRUE(a.ok());
  auto st = (*a)->NewState();
  Analysis x, y;
  ASSERT_TRUE((*a)->Analyze("llamar al 300 123 4567", st.get(), &x).ok());
  ASSERT_TRUE((*a)->Analyze("mi numero +57 3001234567", st.get(), &y).ok());
  std::string jx, jy;
  (*a)->AppendEntitiesJson(x, &jx);
  (*a)->AppendEntitiesJson(y, &jy);
  const auto token = [](const std::string& j) {
    const size_t p = j.find("[PHONE_");
    return p == std::string::npos ? std::string() : j.substr(p, 24);
  };
  EXPECT_FALSE(token(jx).empty()) << jx;
  EXPECT_EQ(token(jx), token(jy));  // same E.164 value, same token
}

TEST(ModelEngine, LoadsTheRealModelBehindThePipelineSeam) {
  pipeline::EngineOptions eo;
  eo.pii_mode = "type";
  auto e = pipeline::LoadInferenceEngine(ToyClassifierModelBytes(), "toy.lote", eo);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_TRUE((*e)->model_version().starts_with("toy-"));
  auto st = (*e)->NewState();
  pipeline::InferenceOutput out;
  ASSERT_TRUE((*e)->Infer("ver saldo, cc 1020345678", st.get(), &out).ok());
  EXPECT_EQ(out.label, "saldo");
  EXPECT_EQ(out.top_k.size(), 2u);
  EXPECT_NE(out.entities_json.find("\"text\":\"[CEDULA]\""), std::string::npos)
      << out.entities_json;
  EXPECT_EQ((*e)->RedactText("cc 1020345678"), "cc [CEDULA]");
  auto bad = pipeline::LoadInferenceEngine("garbage", "x.lote", eo);
  EXPECT_FALSE(bad.ok());
}

}  // namespace
}  // namespace lote::bundle
