#include "lote/model/model_file.h"

#include <gtest/gtest.h>

namespace lote::model {
namespace {

ModelFile Sample() {
  ModelFile f;
  f.sections["meta"] = R"({"name":"x"})";
  f.sections["weights"] = std::string("\x01\x02\x03", 3);
  return f;
}

TEST(ModelFile, RoundTripsSections) {
  std::string bytes = SerializeModelFile(Sample());
  auto parsed = ParseModelFile(bytes, "m.lote");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->sections, Sample().sections);
}

TEST(ModelFile, VersionIdIgnoresMetaAndNamesContent) {
  ModelFile a = Sample();
  ModelFile b = Sample();
  b.sections["meta"] = "{}";
  EXPECT_EQ(VersionId("intents", a), VersionId("intents", b));
  EXPECT_EQ(VersionId("intents", a).size(), std::string("intents-").size() + 12);
  b.sections["weights"] = "other";
  EXPECT_NE(VersionId("intents", a), VersionId("intents", b));
}

TEST(ModelFile, EveryTruncationIsDataLossNamingTheFile) {
  std::string bytes = SerializeModelFile(Sample());
  for (size_t n = 8; n < bytes.size(); ++n) {
    auto parsed = ParseModelFile(std::string_view(bytes).substr(0, n), "m.lote");
    ASSERT_FALSE(parsed.ok()) << n;
    EXPECT_EQ(parsed.status().code(), StatusCode::kDataLoss) << n;
    EXPECT_NE(parsed.status().message().find("m.lote"), std::string::npos);
  }
}

TEST(ModelFile, FlippedByteIsChecksumMismatch) {
  std::string bytes = SerializeModelFile(Sample());
  bytes[bytes.size() - 40] ^= 0x5a;
  auto parsed = ParseModelFile(bytes, "m.lote");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(parsed.status().message().find("checksum"), std::string::npos);
}

TEST(ModelFile, RejectsWrongMagicAndVersion) {
  auto bad = ParseModelFile("hello world, not a model", "m.lote");
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  std::string bytes = SerializeModelFile(Sample());
  bytes[8] = 99;  // format version
  auto wrong = ParseModelFile(bytes, "m.lote");
  EXPECT_EQ(wrong.status().code(), StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace lote::model
