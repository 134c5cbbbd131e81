#include "lote/text/stemmer.h"

#include <gtest/gtest.h>

#include <string>

namespace lote::text {
namespace {

TEST(Stemmer, StemsSpanishInflectionsToOneStem) {
  auto stemmer = Stemmer::Create("spanish");
  ASSERT_TRUE(stemmer.ok()) << stemmer.status().ToString();
  const std::string cobrar(stemmer.value()->Stem("cobraron"));
  EXPECT_EQ(cobrar, "cobr");
  EXPECT_EQ(stemmer.value()->Stem("cobro"), cobrar);
  EXPECT_EQ(stemmer.value()->Stem("cobrando"), cobrar);
  EXPECT_EQ(stemmer.value()->Stem("transferencias"), "transferent");
  EXPECT_EQ(stemmer.value()->Stem("tarjetas"), "tarjet");
}

TEST(Stemmer, StemsEnglishWords) {
  auto stemmer = Stemmer::Create("english");
  ASSERT_TRUE(stemmer.ok());
  EXPECT_EQ(stemmer.value()->Stem("charges"), "charg");
  EXPECT_EQ(stemmer.value()->Stem("running"), "run");
  EXPECT_EQ(stemmer.value()->Stem(""), "");
}

TEST(Stemmer, RejectsUnknownLanguageWithNotFound) {
  auto stemmer = Stemmer::Create("klingon");
  ASSERT_FALSE(stemmer.ok());
  EXPECT_EQ(stemmer.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(stemmer.status().message(), "no Snowball stemmer for language 'klingon'");
}

}  // namespace
}  // namespace lote::text
