#include "lote/base/digest.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

namespace lote {
namespace {

TEST(Digest, HexDecodeInvertsHexEncodeAndRejectsAnythingElse) {
  const std::string hex = Sha256Hex("hola");
  uint8_t bytes[32];
  ASSERT_TRUE(HexDecode(hex, bytes, sizeof(bytes)));
  EXPECT_EQ(HexEncode(bytes, sizeof(bytes)), hex);
  uint8_t two[2];
  ASSERT_TRUE(HexDecode("aBf0", two, 2));
  EXPECT_EQ(two[0], 0xAB);
  EXPECT_EQ(two[1], 0xF0);
  EXPECT_FALSE(HexDecode("abc", two, 2));     // wrong length
  EXPECT_FALSE(HexDecode("abcg", two, 2));    // not a hex digit
  EXPECT_FALSE(HexDecode("abcdef", two, 2));  // too long
}

}  // namespace
}  // namespace lote
