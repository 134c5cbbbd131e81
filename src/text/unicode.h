// Private Unicode helpers shared by the normalizer and the tokenizer.
#ifndef LOTE_SRC_TEXT_UNICODE_H_
#define LOTE_SRC_TEXT_UNICODE_H_

#include <cstddef>
#include <cstdint>

namespace lote::text::internal {

// Unicode White_Space property (PropList.txt), including NBSP, NEL, LS, PS and the
// U+2000..U+200A spaces. Zero-width characters (U+200B, U+FEFF) are not white space.
inline bool IsWhiteSpace(char32_t c) {
  if (c < 0x80) return c == ' ' || (c >= 0x09 && c <= 0x0D);
  return c == 0x85 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 ||
         c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

inline bool IsVariationSelector(char32_t c) {
  return (c >= 0xFE00 && c <= 0xFE0F) || (c >= 0xE0100 && c <= 0xE01EF);
}

inline bool IsEmojiModifier(char32_t c) { return c >= 0x1F3FB && c <= 0x1F3FF; }

inline bool IsRegionalIndicator(char32_t c) { return c >= 0x1F1E6 && c <= 0x1F1FF; }

// Tag characters, used by subdivision flags (England, Scotland, Wales).
inline bool IsTag(char32_t c) { return c >= 0xE0020 && c <= 0xE007F; }

inline constexpr char32_t kZwj = 0x200D;

// Writes the UTF-8 encoding of `cp` (a valid scalar value) to dst[0..3]; returns its length.
inline int EncodeUtf8(char32_t cp, char* dst) {
  if (cp < 0x80) {
    dst[0] = static_cast<char>(cp);
    return 1;
  }
  if (cp < 0x800) {
    dst[0] = static_cast<char>(0xC0 | (cp >> 6));
    dst[1] = static_cast<char>(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    dst[0] = static_cast<char>(0xE0 | (cp >> 12));
    dst[1] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    dst[2] = static_cast<char>(0x80 | (cp & 0x3F));
    return 3;
  }
  dst[0] = static_cast<char>(0xF0 | (cp >> 18));
  dst[1] = static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
  dst[2] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
  dst[3] = static_cast<char>(0x80 | (cp & 0x3F));
  return 4;
}

// Result of looking at the sequence starting at p[0]: the length of a well-formed sequence
// (> 0), or minus the length of the maximal subpart of an ill-formed one (< 0). The byte ranges
// are Table 3-7 of the Unicode standard ("Well-Formed UTF-8 Byte Sequences"); everything else
// (overlongs C0/C1/E0 80-9F/F0 80-8F, surrogates ED A0-BF, > U+10FFFF F4 90+/F5-FF, stray
// continuation bytes, truncated sequences) is ill-formed.
inline int ClassifyUtf8(const unsigned char* p, size_t n, char32_t* cp) {
  const unsigned char b0 = p[0];
  if (b0 < 0x80) {
    *cp = b0;
    return 1;
  }
  int len;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  char32_t value;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2;
    value = b0 & 0x1F;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3;
    value = b0 & 0x0F;
    if (b0 == 0xE0) lo = 0xA0;  // overlong
    if (b0 == 0xED) hi = 0x9F;  // surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4;
    value = b0 & 0x07;
    if (b0 == 0xF0) lo = 0x90;  // overlong
    if (b0 == 0xF4) hi = 0x8F;  // > U+10FFFF
  } else {
    return -1;  // continuation byte, C0, C1 or F5..FF: a maximal subpart of one byte
  }
  for (int i = 1; i < len; ++i) {
    if (static_cast<size_t>(i) >= n) return -i;  // truncated
    const unsigned char b = p[i];
    const unsigned char min = i == 1 ? lo : 0x80;
    const unsigned char max = i == 1 ? hi : 0xBF;
    if (b < min || b > max) return -i;
    value = (value << 6) | (b & 0x3F);
  }
  *cp = value;
  return len;
}

// Decodes the code point at p[*pos] of p[0, n) and advances *pos; an ill-formed sequence reads
// as U+FFFD and *pos skips its maximal subpart. Never reads past p[n - 1].
inline char32_t DecodeOrReplace(const unsigned char* p, size_t n, size_t* pos) {
  char32_t cp;
  const int len = ClassifyUtf8(p + *pos, n - *pos, &cp);
  if (len > 0) {
    *pos += len;
    return cp;
  }
  *pos += -len;
  return 0xFFFD;
}

// Decodes the code point at p[*pos] of valid UTF-8 and advances *pos.
inline char32_t DecodeAt(const unsigned char* p, size_t* pos) {
  const unsigned char b0 = p[*pos];
  if (b0 < 0x80) {
    *pos += 1;
    return b0;
  }
  const unsigned char* q = p + *pos;
  if (b0 < 0xE0) {
    *pos += 2;
    return ((b0 & 0x1F) << 6) | (q[1] & 0x3F);
  }
  if (b0 < 0xF0) {
    *pos += 3;
    return ((b0 & 0x0F) << 12) | ((q[1] & 0x3F) << 6) | (q[2] & 0x3F);
  }
  *pos += 4;
  return ((b0 & 0x07) << 18) | ((q[1] & 0x3F) << 12) | ((q[2] & 0x3F) << 6) | (q[3] & 0x3F);
}

}  // namespace lote::text::internal

#endif  // LOTE_SRC_TEXT_UNICODE_H_
