// EMAIL and URL scanners.
#include <string>

#include "extract/patterns_internal.h"

namespace lote::extract::internal {
namespace {

bool IsLocalChar(char c) {
  return IsAlnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-';
}
bool IsDomainChar(char c) { return IsAlnum(c) || c == '-'; }

// Lower-cases ASCII letters of the original text (non-ASCII bytes kept).
std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  }
  return out;
}

bool IsUrlChar(char c) {
  if (c <= ' ' || c == kOther) return false;
  switch (c) {
    case '<':
    case '>':
    case '"':
    case '`':
    case '{':
    case '}':
    case '|':
    case '\\':
    case '^':
      return false;
    default:
      return true;
  }
}

}  // namespace

void ScanEmailAt(const ScanState& s, int64_t at) {
  const ScanText& t = s.text;
  int64_t b = at;
  while (IsLocalChar(t.at(b - 1))) --b;
  while (b < at && (t.at(b) == '.' || t.at(b) == '-' || t.at(b) == '+')) ++b;
  if (b == at || t.at(at - 1) == '.') return;
  // Domain: labels of [a-z0-9-] separated by single dots, at least two labels, a final label of
  // 2+ letters.
  int64_t i = at + 1;
  int64_t end = 0;
  int labels = 0;
  while (true) {
    int64_t ls = i;
    while (IsDomainChar(t.at(i))) ++i;
    if (i == ls || t.at(ls) == '-' || t.at(i - 1) == '-') break;
    ++labels;
    bool alpha_label = true;
    for (int64_t k = ls; k < i; ++k) alpha_label = alpha_label && IsAlpha(t.at(k));
    if (labels >= 2 && alpha_label && i - ls >= 2) end = i;
    if (t.at(i) == '.' && IsDomainChar(t.at(i + 1))) {
      ++i;
      continue;
    }
    break;
  }
  if (end == 0) return;
  std::string value;
  AppendJsonString(AsciiLower(t.Original(static_cast<uint32_t>(b), static_cast<uint32_t>(end))),
                   &value);
  Emit(t, "EMAIL", b, end, std::move(value), s.out);
}

void ScanUrlAt(const ScanState& s, int64_t pos) {
  const ScanText& t = s.text;
  int64_t host;
  if (StartsWithAt(t, pos, "https://")) {
    host = pos + 8;
  } else if (StartsWithAt(t, pos, "http://")) {
    host = pos + 7;
  } else if (StartsWithAt(t, pos, "www.")) {
    host = pos;
  } else {
    return;
  }
  // Host: at least one dot with a label on each side.
  int64_t i = host;
  bool dot = false;
  while (IsDomainChar(t.at(i)) || (t.at(i) == '.' && IsDomainChar(t.at(i + 1)))) {
    dot = dot || t.at(i) == '.';
    ++i;
  }
  if (!dot || i == host) return;
  while (IsUrlChar(t.at(i))) ++i;
  // Trailing punctuation belongs to the sentence; a closing bracket only if it closes one inside.
  int64_t end = i;
  while (end > host) {
    char c = t.at(end - 1);
    if (c == '.' || c == ',' || c == ';' || c == ':' || c == '!' || c == '?' || c == '\'' ||
        c == '*') {
      --end;
      continue;
    }
    if (c == ')' || c == ']') {
      char open = c == ')' ? '(' : '[';
      int depth = 0;
      for (int64_t k = pos; k < end; ++k) {
        if (t.at(k) == open) ++depth;
        if (t.at(k) == c) --depth;
      }
      if (depth < 0) {
        --end;
        continue;
      }
    }
    break;
  }
  std::string value;
  AppendJsonString(t.Original(static_cast<uint32_t>(pos), static_cast<uint32_t>(end)), &value);
  Emit(t, "URL", pos, end, std::move(value), s.out);
}

}  // namespace lote::extract::internal
