#include "lote/base/json_writer.h"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace lote {

void AppendJsonString(std::string* out, std::string_view s) {
  static const char* kHex = "0123456789abcdef";
  out->push_back('"');
  size_t run = 0;  // start of the pending run of bytes that need no escaping
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out->append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default:
        out->append("\\u00");
        out->push_back(kHex[c >> 4]);
        out->push_back(kHex[c & 15]);
    }
  }
  out->append(s.data() + run, s.size() - run);
  out->push_back('"');
}

void AppendJsonNumber(std::string* out, double v) {
  if (!std::isfinite(v)) v = 0;
  char buf[32];
  // As printf's "%.6g" (the standard defines it so), without the locale and format parsing.
  const auto r = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::general, 6);
  out->append(buf, static_cast<size_t>(r.ptr - buf));
}

double AsWrittenJsonNumber(double v) {
  if (!std::isfinite(v)) return 0;
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::general, 6);
  double back = 0;
  std::from_chars(buf, r.ptr, back);
  return back;
}

}  // namespace lote
