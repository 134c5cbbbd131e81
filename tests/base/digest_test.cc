#include "lote/base/digest.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "lote/base/secret.h"

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

TEST(KeyedHash, IsHmacSha256UnderAKeyDerivedForItsPurpose) {
  const Secret key(std::string(32, 'k'));
  KeyedHash text(key, "text");
  // RFC 2104 by hand: the purpose key is HMAC(key, "lote/text"), the digest HMAC(purpose key, m).
  const std::string purpose_hex = HmacSha256Hex(key.Reveal(), "lote/text");
  uint8_t purpose_key[32];
  ASSERT_TRUE(HexDecode(purpose_hex, purpose_key, 32));
  const std::string expected =
      HmacSha256Hex(std::string_view(reinterpret_cast<const char*>(purpose_key), 32), "hola");
  EXPECT_EQ(text.HexDigest("hola"), expected);
  EXPECT_EQ(text.HexDigest("hola"), expected);  // the prepared state is reused, not consumed
  EXPECT_EQ(text.HexDigest("").size(), 64u);
  // Another purpose, another key, or the unkeyed hash: all different.
  KeyedHash content(key, "content");
  EXPECT_NE(content.HexDigest("hola"), expected);
  KeyedHash other(Secret(std::string(32, 'j')), "text");
  EXPECT_NE(other.HexDigest("hola"), expected);
  EXPECT_NE(Sha256Hex("hola"), expected);
  EXPECT_NE(HmacSha256Hex(key.Reveal(), "hola"), expected);  // not the redactor's pseudonym
}

TEST(Secret, ParseKeyStripsLineEndingsTheSameWayAndRefusesShortKeys) {
  auto lf = ParseKey("0123456789abcdef0123\n", "a");
  auto crlf = ParseKey("0123456789abcdef0123\r\n", "b");
  auto bare = ParseKey("0123456789abcdef0123", "c");
  ASSERT_TRUE(lf.ok() && crlf.ok() && bare.ok());
  EXPECT_EQ(lf->Reveal(), "0123456789abcdef0123");
  EXPECT_EQ(crlf->Reveal(), lf->Reveal());
  EXPECT_EQ(bare->Reveal(), lf->Reveal());
  auto short_key = ParseKey("short-key-12345\n", "--pii-key-file k.txt");  // 15 bytes
  ASSERT_FALSE(short_key.ok());
  EXPECT_EQ(short_key.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(short_key.status().message().find("--pii-key-file k.txt"), std::string::npos);
  EXPECT_NE(short_key.status().message().find("15 bytes"), std::string::npos);
  EXPECT_EQ(short_key.status().message().find("short-key"), std::string::npos);
  EXPECT_FALSE(ParseKey("", "x").ok());
  EXPECT_FALSE(ParseKey("\r\n\n", "x").ok());
}

TEST(Secret, DebugStringNeverShowsTheBytes) {
  const Secret s(std::string("super-secret-value-123"));
  EXPECT_EQ(s.DebugString().find("super"), std::string::npos);
  EXPECT_EQ(Secret().DebugString(), "<no secret>");
  Secret moved = std::move(const_cast<Secret&>(s));
  EXPECT_EQ(moved.Reveal(), "super-secret-value-123");
}

TEST(UrlDecode, DecodesEscapesLenientlyAndPlusOnlyWhenAsked) {
  EXPECT_EQ(UrlDecode("a%20b%2Fc", false), "a b/c");
  EXPECT_EQ(UrlDecode("a+b", false), "a+b");
  EXPECT_EQ(UrlDecode("a+b", true), "a b");
  EXPECT_EQ(UrlDecode("%41%4a%4A", true), "AJJ");
  EXPECT_EQ(UrlDecode("100%", true), "100%");  // a cut escape stays as sent
  EXPECT_EQ(UrlDecode("%4", true), "%4");
  EXPECT_EQ(UrlDecode("%zz%41", true), "%zzA");  // so does one that is not hex
  EXPECT_EQ(UrlDecode("%00", true), std::string(1, '\0'));
}

TEST(Base64, EncodesRfc4648VectorsInBothAlphabets) {
  EXPECT_EQ(Base64Encode(""), "");
  EXPECT_EQ(Base64Encode("f"), "Zg==");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(Base64Encode("\xfb\xff"), "+/8=");
  EXPECT_EQ(Base64UrlEncode("\xfb\xff"), "-_8=");
}

}  // namespace
}  // namespace lote
