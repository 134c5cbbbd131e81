// ASCII-only case helpers for protocol text (HTTP header names, AWS signing, config keys, HTML
// tag names): bytes outside A-Z and a-z are kept as they are, whatever the locale.
#ifndef LOTE_BASE_ASCII_H_
#define LOTE_BASE_ASCII_H_

#include <string>
#include <string_view>

namespace lote {

constexpr char AsciiLower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}
constexpr char AsciiUpper(char c) {
  return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
}

inline std::string AsciiLowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = AsciiLower(c);
  return out;
}

constexpr bool EqualsIgnoreAsciiCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (AsciiLower(a[i]) != AsciiLower(b[i])) return false;
  }
  return true;
}

}  // namespace lote

#endif  // LOTE_BASE_ASCII_H_
