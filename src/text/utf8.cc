#include "lote/text/utf8.h"

#include <cstring>

#include "text/unicode.h"

namespace lote::text {
namespace {

// Length of the leading run of ASCII bytes, 8 at a time.
size_t AsciiPrefix(const unsigned char* p, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t word;
    std::memcpy(&word, p + i, 8);
    if (word & 0x8080808080808080ULL) break;
  }
  while (i < n && p[i] < 0x80) ++i;
  return i;
}

}  // namespace

size_t FindInvalidUtf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    i += AsciiPrefix(p + i, n - i);
    if (i >= n) break;
    char32_t cp;
    const int len = internal::ClassifyUtf8(p + i, n - i, &cp);
    if (len < 0) return i;
    i += len;
  }
  return std::string_view::npos;
}

Status ValidateUtf8(std::string_view s) {
  const size_t pos = FindInvalidUtf8(s);
  if (pos == std::string_view::npos) return Status::Ok();
  return InvalidArgumentError("invalid UTF-8 at byte " + std::to_string(pos));
}

std::string ReplaceInvalidUtf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    const size_t ascii = AsciiPrefix(p + i, n - i);
    out.append(s.data() + i, ascii);
    i += ascii;
    if (i >= n) break;
    char32_t cp;
    const int len = internal::ClassifyUtf8(p + i, n - i, &cp);
    if (len > 0) {
      out.append(s.data() + i, len);
      i += len;
    } else {
      out.append("\xEF\xBF\xBD");
      i += -len;
    }
  }
  return out;
}

char32_t DecodeUtf8(std::string_view s, size_t* pos) {
  return internal::DecodeAt(reinterpret_cast<const unsigned char*>(s.data()), pos);
}

void AppendUtf8(char32_t cp, std::string* out) {
  char buf[4];
  out->append(buf, internal::EncodeUtf8(cp, buf));
}

size_t CodePointCount(std::string_view s) {
  size_t count = 0;
  for (const char c : s) count += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return count;
}

std::vector<uint32_t> CodePointOffsets(std::string_view s) {
  std::vector<uint32_t> offsets;
  offsets.reserve(s.size() + 1);
  for (size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80)
      offsets.push_back(static_cast<uint32_t>(i));
  }
  offsets.push_back(static_cast<uint32_t>(s.size()));
  return offsets;
}

std::string Excerpt(std::string_view s, size_t max_code_points) {
  std::string out;
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  size_t i = 0;
  size_t count = 0;
  while (i < n) {
    if (count == max_code_points) {
      out.append("...");
      break;
    }
    char32_t cp;
    const int len = internal::ClassifyUtf8(p + i, n - i, &cp);
    if (len < 0) {
      cp = 0xFFFD;
      i += -len;
    } else {
      i += len;
    }
    // Control characters and bidirectional overrides could garble or spoof a log line.
    const bool control = cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029 ||
                         (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
    AppendUtf8(control ? U' ' : cp, &out);
    ++count;
  }
  return out;
}

std::string EscapeControl(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(s.size());
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  auto append_byte_escape = [&](unsigned char b) {
    out += "\\x";
    out += kHex[b >> 4];
    out += kHex[b & 0xF];
  };
  size_t i = 0;
  while (i < n) {
    const unsigned char b = p[i];
    if (b < 0x80) {
      ++i;
      switch (b) {
        case '\n':
          out += "\\n";
          break;
        case '\r':
          out += "\\r";
          break;
        case '\t':
          out += "\\t";
          break;
        case '\\':
          out += "\\\\";
          break;
        default:
          if (b < 0x20 || b == 0x7F) {
            append_byte_escape(b);
          } else {
            out += static_cast<char>(b);
          }
      }
      continue;
    }
    char32_t cp;
    const int len = internal::ClassifyUtf8(p + i, n - i, &cp);
    if (len < 0) {
      // Each byte of the maximal invalid subpart, so that nothing is lost.
      for (int k = 0; k < -len; ++k) append_byte_escape(p[i + k]);
      i += -len;
      continue;
    }
    const bool escape = (cp >= 0x80 && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029 ||
                        (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
    if (escape) {
      out += "\\u";
      for (int shift = 12; shift >= 0; shift -= 4) out += kHex[(cp >> shift) & 0xF];
    } else {
      out.append(s.data() + i, len);
    }
    i += len;
  }
  return out;
}

}  // namespace lote::text
