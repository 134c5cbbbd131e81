#include "lote/model/model_file.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "lote/base/digest.h"
#include "lote/model/bytes.h"

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

// A file framed by hand, the way SerializeModelFile does, around sections in the given order.
std::string Framed(const std::vector<std::pair<std::string, std::string>>& sections) {
  ByteWriter payload;
  payload.Put<uint32_t>(static_cast<uint32_t>(sections.size()));
  for (const auto& [name, data] : sections) {
    payload.PutString(name);
    payload.PutString(data);
  }
  ByteWriter header;
  header.Put<uint32_t>(kModelFormatVersion);
  header.Put<uint64_t>(payload.bytes().size());
  Sha256 h;
  h.Update(payload.bytes());
  const auto md = h.Final();
  return std::string(kModelMagic, sizeof(kModelMagic)) + header.bytes() + payload.bytes() +
         std::string(reinterpret_cast<const char*>(md.data()), md.size());
}

// Found by tests/fuzz/model_file_fuzz.cc (corpus/model_file/duplicate_sections,
// unsorted_sections): a repeated section used to be dropped silently, the first copy winning.
TEST(ModelFile, RepeatedOrReorderedSectionsAreDataLoss) {
  EXPECT_EQ(Framed({{"a", "1"}, {"meta", "{}"}}),
            SerializeModelFile(ModelFile{{{"a", "1"}, {"meta", "{}"}}}));
  auto twice = ParseModelFile(Framed({{"a", "1"}, {"a", "2"}}), "m.lote");
  ASSERT_FALSE(twice.ok());
  EXPECT_EQ(twice.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(twice.status().message().find("'a' appears twice"), std::string::npos)
      << twice.status().message();
  auto reordered = ParseModelFile(Framed({{"meta", "{}"}, {"a", "1"}}), "m.lote");
  ASSERT_FALSE(reordered.ok());
  EXPECT_EQ(reordered.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(reordered.status().message().find("'a' is out of order"), std::string::npos)
      << reordered.status().message();
}

}  // namespace
}  // namespace lote::model
