// EMAIL and URL scanners.
#include <string>

#include "extract/patterns_internal.h"
#include "lote/base/ascii.h"

namespace lote::extract::internal {
namespace {

bool IsLocalChar(char c) {
  return IsAlnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-';
}
bool IsDomainChar(char c) { return IsAlnum(c) || c == '-'; }

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
  AppendJsonString(AsciiLowercase(t.Original(static_cast<uint32_t>(b), static_cast<uint32_t>(end))),
                   &value);
  Emit(t, "EMAIL", b, end, std::move(value), s.out);
}

namespace {

// The URL starting at pos whose host starts at `host` (after the scheme, if any). `bare`: no
// scheme and no "www.", so the host must end in a top-level domain of letters and a path must
// follow.
void ScanUrlFrom(const ScanState& s, int64_t pos, int64_t host, bool bare) {
  const ScanText& t = s.text;
  // Host: at least one dot with a label on each side.
  int64_t i = host;
  int64_t last_label = host;
  bool dot = false;
  while (IsDomainChar(t.at(i)) || (t.at(i) == '.' && IsDomainChar(t.at(i + 1)))) {
    if (t.at(i) == '.') {
      dot = true;
      last_label = i + 1;
    }
    ++i;
  }
  if (!dot || i == host) return;
  if (bare) {
    // ...and then only a host whose last label is letters (a top-level domain, not "1.5"),
    // followed by a path: "gracias.buen dia" and "archivo.pdf" are not URLs.
    if (i - last_label < 2 || t.at(i) != '/' || !IsUrlChar(t.at(i + 1))) return;
    for (int64_t k = last_label; k < i; ++k) {
      if (!IsAlpha(t.at(k))) return;
    }
  }
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

}  // namespace

void ScanUrlAt(const ScanState& s, int64_t pos) {
  const ScanText& t = s.text;
  int64_t host = pos;
  if (StartsWithAt(t, pos, "https://")) {
    host = pos + 8;
  } else if (StartsWithAt(t, pos, "http://")) {
    host = pos + 7;
  } else if (!StartsWithAt(t, pos, "www.")) {
    return;
  }
  ScanUrlFrom(s, pos, host, /*bare=*/false);
}

void ScanBareUrlAt(const ScanState& s, int64_t dot) {
  // No scheme: "bono-solidario.example.com/validar?id=x", as phishing texts write them. Only at
  // the first dot of a token (a later one is the same host); the host starts where the token
  // does, not inside another URL, an e-mail or a word.
  const ScanText& t = s.text;
  int64_t b = dot;
  while (IsDomainChar(t.at(b - 1))) --b;
  const char p = t.at(b - 1);
  if (b == dot || p == '.' || p == '/' || p == '@' || p == '_' || IsAlpha(t.at(b)) == false) {
    return;
  }
  if (StartsWithAt(t, b, "www.")) return;  // ScanUrlAt's
  ScanUrlFrom(s, b, b, /*bare=*/true);
}

}  // namespace lote::extract::internal
