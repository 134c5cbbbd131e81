// Private to the pattern scanners (src/extract/patterns*.cc).
//
// Every scanner works on a folded copy of the text with ONE ASCII byte PER CODE POINT, so an index
// into it is directly a code point offset into the original: ASCII letters lower-cased, Latin-1
// accented letters reduced to their base letter ("é" -> 'e', "ñ" -> 'n'), Unicode spaces -> ' ',
// Unicode dashes -> '-', "º"/"°" -> 'o', every other non-ASCII code point -> kOther (not a letter,
// digit, space or punctuation the scanners know). Out-of-range reads return '\0'.
#ifndef LOTE_SRC_EXTRACT_PATTERNS_INTERNAL_H_
#define LOTE_SRC_EXTRACT_PATTERNS_INTERNAL_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "lote/extract/entity.h"
#include "lote/extract/patterns.h"

namespace lote::extract::internal {

inline constexpr char kOther = '\x1a';

struct ScanText {
  std::string_view original;
  std::string f;                  // folded text, f.size() == number of code points
  std::vector<uint32_t> byte_at;  // byte offset of each code point (+ end); empty if all ASCII
  int64_t n = 0;

  char at(int64_t i) const { return (i < 0 || i >= n) ? '\0' : f[static_cast<size_t>(i)]; }
  std::string_view Original(uint32_t start, uint32_t end) const {
    if (byte_at.empty()) return original.substr(start, end - start);
    return original.substr(byte_at[start], byte_at[end] - byte_at[start]);
  }
};

inline bool IsDigit(char c) { return c >= '0' && c <= '9'; }
inline bool IsAlpha(char c) { return c >= 'a' && c <= 'z'; }
inline bool IsAlnum(char c) { return IsDigit(c) || IsAlpha(c); }

// How many digits start at `pos` of the folded text.
inline int64_t RunLength(const ScanText& t, int64_t pos) {
  int64_t i = pos;
  while (IsDigit(t.at(i))) ++i;
  return i - pos;
}

// True if f[pos..] starts with `word` and the word ends there (next char not a letter/digit).
inline bool WordAt(const ScanText& t, int64_t pos, std::string_view word) {
  if (pos < 0 || pos + static_cast<int64_t>(word.size()) > t.n) return false;
  if (t.f[static_cast<size_t>(pos)] != word[0]) return false;
  if (t.f.compare(static_cast<size_t>(pos), word.size(), word) != 0) return false;
  return !IsAlnum(t.at(pos + static_cast<int64_t>(word.size())));
}

// True if f[pos..] starts with `s` (no boundary check).
inline bool StartsWithAt(const ScanText& t, int64_t pos, std::string_view s) {
  if (pos < 0 || pos + static_cast<int64_t>(s.size()) > t.n) return false;
  return t.f.compare(static_cast<size_t>(pos), s.size(), s) == 0;
}

// A number starting at `pos` is not glued to a letter or to a preceding number ("v2", "1.5",
// "10:30", "abc@").
inline bool StartsCleanly(const ScanText& t, int64_t pos) {
  char p = t.at(pos - 1);
  if (IsAlnum(p) || p == '@' || p == '_') return false;
  if ((p == '.' || p == ',' || p == '-' || p == '/' || p == ':') && IsDigit(t.at(pos - 2)))
    return false;
  return true;
}

// A number ending at `end` (exclusive) is not followed by a letter, digit or separator + digit.
inline bool EndsCleanly(const ScanText& t, int64_t end) {
  char c = t.at(end);
  if (IsAlnum(c) || c == '@' || c == '_' || c == '%') return false;
  if ((c == '.' || c == ',' || c == '-' || c == '/' || c == ':') && IsDigit(t.at(end + 1)))
    return false;
  return true;
}

// The word (letters only) ending right before position `pos` after exactly one space, or "" if
// there is none. Sets *start to where it begins (pos when there is none).
inline std::string_view PrevWord(const ScanText& t, int64_t pos, int64_t* start) {
  *start = pos;
  if (t.at(pos - 1) != ' ') return {};
  const int64_t e = pos - 1;
  int64_t b = e;
  while (IsAlpha(t.at(b - 1))) --b;
  *start = b;
  return std::string_view(t.f).substr(static_cast<size_t>(b), static_cast<size_t>(e - b));
}

// Class of the nearest context keyword before a number.
enum class Context : uint8_t {
  kNone,
  kCedula,
  kNit,
  kAccount,
  kPhone,
  kCard,
  kMoney,     // "cobraron", "saldo", "valor": a following "150.000" is an amount
  kNegative,  // "pedido", "radicado", "factura": a following number is not personal data
};

// Looks back from `pos` at most `window` code points (stopping at a digit or a newline) for the
// nearest context keyword and returns its class.
Context NearestContext(const ScanText& t, int64_t pos, int window);

// Calendar helpers (proleptic Gregorian).
int64_t DaysFromCivil(int y, int m, int d);
CivilDate CivilFromDays(int64_t days);
int WeekdayOf(int64_t days);  // 0 = Monday ... 6 = Sunday

// Appends `s` as a JSON string literal.
void AppendJsonString(std::string_view s, std::string* out);

// `s` (plain ASCII, nothing to escape) as a JSON string literal.
inline std::string Quoted(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out.push_back('"');
  out.append(s);
  out.push_back('"');
  return out;
}

// Adds a kPattern entity for code points [start, end).
void Emit(const ScanText& t, const char* type, int64_t start, int64_t end, std::string value_json,
          std::vector<Entity>* out);

// Scanners. Each is called at one position and appends zero or more candidates (overlaps are
// resolved afterwards).
struct ScanState {
  const ScanText& text;
  const ExtractOptions& options;
  const PatternExtractorOptions& config;
  std::vector<Entity>* out;
  CheckCounts* checks = nullptr;  // null: not counted
};
// At the first digit of a digit run.
void ScanNumberAt(const ScanState& s, int64_t pos);
void ScanMoneyAt(const ScanState& s, int64_t pos);
void ScanNumericDateAt(const ScanState& s, int64_t pos);
// At the first letter of a word.
void ScanDateWordAt(const ScanState& s, int64_t pos);
// After scanning: an explicit date right after a weekday ("el martes 12 de marzo", "Monday,
// March 3") takes the weekday (and its article) into its span; the value stays the date's.
void ExtendDatesWithWeekday(const ScanText& t, std::vector<Entity>* candidates);
void ScanMoneyWordAt(const ScanState& s, int64_t pos);
void ScanUrlAt(const ScanState& s, int64_t pos);
// At the first '.' inside a token: a URL without scheme or "www." ("x.example.com/path").
void ScanBareUrlAt(const ScanState& s, int64_t dot);
// At an '@'.
void ScanEmailAt(const ScanState& s, int64_t pos);

}  // namespace lote::extract::internal

#endif  // LOTE_SRC_EXTRACT_PATTERNS_INTERNAL_H_
