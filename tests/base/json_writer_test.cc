#include "lote/base/json_writer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

namespace lote {
namespace {

std::string Number(double v) {
  std::string out;
  AppendJsonNumber(&out, v);
  return out;
}

TEST(JsonWriter, NumbersAreSixSignificantDigitsAsPrintfG) {
  EXPECT_EQ(Number(0.999999), "0.999999");
  EXPECT_EQ(Number(0.9999996), "1");
  EXPECT_EQ(Number(2.79422e-07), "2.79422e-07");
  EXPECT_EQ(Number(0.5), "0.5");
  EXPECT_EQ(Number(50000), "50000");
  EXPECT_EQ(Number(1234567), "1.23457e+06");
  EXPECT_EQ(Number(-3.25), "-3.25");
  EXPECT_EQ(Number(0), "0");
}

TEST(JsonWriter, NonFiniteNumbersBecomeZeroToKeepTheJsonValid) {
  EXPECT_EQ(Number(std::numeric_limits<double>::quiet_NaN()), "0");
  EXPECT_EQ(Number(std::numeric_limits<double>::infinity()), "0");
}

TEST(JsonWriter, StringsAreEscaped) {
  std::string out;
  AppendJsonString(&out, "a\"b\\c\n\x01ñ");
  EXPECT_EQ(out, "\"a\\\"b\\\\c\\n\\u0001ñ\"");
}

}  // namespace
}  // namespace lote
