#include "lote/text/tokenizer.h"

#include <utf8proc.h>

#include <array>

#include "text/unicode.h"

namespace lote::text {
namespace {

using internal::DecodeOrReplace;

enum class CharClass : uint8_t {
  kSeparator,  // white space, controls, format characters: never part of a token
  kLetter,
  kDigit,        // ASCII digit
  kOtherNumber,  // non-ASCII Nd/Nl/No: part of words
  kMark,
  kPunct,
  kCurrency,
  kSymbol,
  kEmoji,  // Extended_Pictographic
  kRegionalIndicator,
  kEmojiExtender,  // skin tones, variation selectors, keycap, tags: only after an emoji
};

constexpr std::array<CharClass, 128> MakeAsciiClasses() {
  std::array<CharClass, 128> t{};
  for (int c = 0; c < 128; ++c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
      t[c] = CharClass::kLetter;
    } else if (c >= '0' && c <= '9') {
      t[c] = CharClass::kDigit;
    } else if (c <= 0x20 || c == 0x7F) {
      t[c] = CharClass::kSeparator;
    } else {
      t[c] = CharClass::kPunct;
    }
  }
  // Unicode puts these ASCII characters in the Symbol categories (Sc, Sm, Sk).
  t['$'] = CharClass::kCurrency;
  for (char c : {'+', '<', '=', '>', '^', '`', '|', '~'})
    t[static_cast<uint8_t>(c)] = CharClass::kSymbol;
  return t;
}
constexpr std::array<CharClass, 128> kAsciiClasses = MakeAsciiClasses();

CharClass ClassifyNonAscii(char32_t c) {
  if (internal::IsWhiteSpace(c)) return CharClass::kSeparator;
  if (internal::IsEmojiModifier(c) || internal::IsVariationSelector(c) || internal::IsTag(c) ||
      c == 0x20E3) {
    return CharClass::kEmojiExtender;
  }
  if (internal::IsRegionalIndicator(c)) return CharClass::kRegionalIndicator;
  const utf8proc_property_t* prop = utf8proc_get_property(static_cast<utf8proc_int32_t>(c));
  if (prop->boundclass == UTF8PROC_BOUNDCLASS_EXTENDED_PICTOGRAPHIC ||
      prop->boundclass == UTF8PROC_BOUNDCLASS_E_ZWG) {
    return CharClass::kEmoji;
  }
  switch (prop->category) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
      return CharClass::kLetter;
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC:
    case UTF8PROC_CATEGORY_ME:
      return CharClass::kMark;
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_NO:
      return CharClass::kOtherNumber;
    case UTF8PROC_CATEGORY_PC:
    case UTF8PROC_CATEGORY_PD:
    case UTF8PROC_CATEGORY_PS:
    case UTF8PROC_CATEGORY_PE:
    case UTF8PROC_CATEGORY_PI:
    case UTF8PROC_CATEGORY_PF:
    case UTF8PROC_CATEGORY_PO:
      return CharClass::kPunct;
    case UTF8PROC_CATEGORY_SC:
      return CharClass::kCurrency;
    case UTF8PROC_CATEGORY_SM:
    case UTF8PROC_CATEGORY_SK:
    case UTF8PROC_CATEGORY_SO:
      return CharClass::kSymbol;
    default:  // Zs/Zl/Zp, Cc, Cf (ZWSP, soft hyphen, BOM), Cs, Co, Cn
      return CharClass::kSeparator;
  }
}

bool IsWordClass(CharClass k) {
  return k == CharClass::kLetter || k == CharClass::kDigit || k == CharClass::kOtherNumber ||
         k == CharClass::kMark;
}

// Scans one text; all offsets are byte offsets into it.
class Scanner {
 public:
  explicit Scanner(std::string_view text)
      : p_(reinterpret_cast<const unsigned char*>(text.data())), n_(text.size()) {}

  void Run(std::vector<Token>* out);

 private:
  // Class of the character at `pos` (kSeparator past the end); *next receives its end.
  CharClass ClassAt(size_t pos, size_t* next) const {
    if (pos >= n_) {
      *next = pos;
      return CharClass::kSeparator;
    }
    if (p_[pos] < 0x80) {
      *next = pos + 1;
      return kAsciiClasses[p_[pos]];
    }
    *next = pos;
    return ClassifyNonAscii(DecodeOrReplace(p_, n_, next));
  }
  char32_t CodePointAt(size_t pos, size_t* next) const {
    *next = pos;
    return DecodeOrReplace(p_, n_, next);
  }
  bool IsAsciiAt(size_t pos, char c) const { return pos < n_ && p_[pos] == c; }
  bool MatchesAsciiNoCase(size_t pos, std::string_view lower) const;

  size_t ScanWord(size_t pos) const;
  size_t ScanNumber(size_t pos, bool* has_separator) const;
  size_t ScanEmoji(size_t pos) const;
  size_t KeycapEnd(size_t pos) const;
  // An e-mail's local part is a word plus . _ % + -, so a word (or number) ending anywhere else
  // cannot start an e-mail address: the e-mail scan is skipped for almost every word.
  bool MayContinueAsEmail(size_t word_end) const {
    if (word_end >= n_) return false;
    const unsigned char c = p_[word_end];
    return c == '@' || c == '.' || c == '_' || c == '%' || c == '+' || c == '-';
  }
  bool TryUrl(size_t pos, size_t* end) const;
  bool TryEmail(size_t pos, size_t* end);

  const unsigned char* p_;
  size_t n_;
  // A failed e-mail attempt from `pos` fails from every later start before this offset too
  // (they share the local part), so they are skipped: the scan stays linear.
  size_t no_email_before_ = 0;
};

bool Scanner::MatchesAsciiNoCase(size_t pos, std::string_view lower) const {
  if (n_ - pos < lower.size()) return false;
  for (size_t i = 0; i < lower.size(); ++i) {
    unsigned char c = p_[pos + i];
    if (c >= 'A' && c <= 'Z') c += 32;
    if (c != static_cast<unsigned char>(lower[i])) return false;
  }
  return true;
}

// Letters, digits and marks, with inner apostrophes, hyphens and underscores ("don't",
// "Juan-Pablo", "mi_usuario") when a word character follows them.
size_t Scanner::ScanWord(size_t pos) const {
  while (pos < n_) {
    const unsigned char c = p_[pos];
    if (c < 0x80) {
      const CharClass k = kAsciiClasses[c];
      if (k == CharClass::kLetter || k == CharClass::kDigit) {
        ++pos;
        continue;
      }
      if (c == '\'' || c == '-' || c == '_') {
        size_t after;
        const CharClass k_next = ClassAt(pos + 1, &after);
        if (IsWordClass(k_next) && k_next != CharClass::kMark) {
          pos += 1;
          continue;
        }
      }
      return pos;
    }
    size_t next;
    const char32_t cp = CodePointAt(pos, &next);
    if (cp == 0x2019 || cp == 0x2010 || cp == 0x2011) {  // ’ ‐ ‑
      size_t after;
      const CharClass k = ClassAt(next, &after);
      if (IsWordClass(k) && k != CharClass::kMark) {
        pos = next;
        continue;
      }
      return pos;
    }
    if (!IsWordClass(ClassifyNonAscii(cp))) return pos;
    pos = next;
  }
  return pos;
}

// Digits with inner separators followed by a digit: 50.000  1,5  15/03/2024  10:30
// 300-123-4567  1'500.000 (Colombian millions). Starts at an ASCII digit.
size_t Scanner::ScanNumber(size_t pos, bool* has_separator) const {
  *has_separator = false;
  while (pos < n_) {
    const unsigned char c = p_[pos];
    if (c >= '0' && c <= '9') {
      ++pos;
      continue;
    }
    if ((c == '.' || c == ',' || c == '/' || c == ':' || c == '-' || c == '\'') && pos + 1 < n_ &&
        p_[pos + 1] >= '0' && p_[pos + 1] <= '9') {
      *has_separator = true;
      ++pos;
      continue;
    }
    break;
  }
  return pos;
}

// End of a keycap sequence ("1️⃣": [0-9#*] U+FE0F? U+20E3) starting at pos, or 0.
size_t Scanner::KeycapEnd(size_t pos) const {
  size_t q = pos + 1;
  if (n_ - q >= 3 && p_[q] == 0xEF && p_[q + 1] == 0xB8 && p_[q + 2] == 0x8F) q += 3;  // FE0F
  if (n_ - q >= 3 && p_[q] == 0xE2 && p_[q + 1] == 0x83 && p_[q + 2] == 0xA3) return q + 3;
  return 0;
}

// One emoji cluster: a pictographic base or a regional-indicator pair (flag), then skin tones,
// variation selectors, keycap and tag characters, repeated across ZWJ joins (👩🏽‍💻).
size_t Scanner::ScanEmoji(size_t pos) const {
  size_t next;
  const CharClass first = ClassAt(pos, &next);
  pos = next;
  if (first == CharClass::kRegionalIndicator) {
    if (ClassAt(pos, &next) == CharClass::kRegionalIndicator) pos = next;
  }
  while (pos < n_) {
    const CharClass k = ClassAt(pos, &next);
    if (k == CharClass::kEmojiExtender) {
      pos = next;
      continue;
    }
    if (p_[pos] == 0xE2 && CodePointAt(pos, &next) == internal::kZwj) {
      size_t after;
      const CharClass joined = ClassAt(next, &after);
      if (joined == CharClass::kEmoji || joined == CharClass::kRegionalIndicator) {
        pos = after;
        continue;
      }
    }
    break;
  }
  return pos;
}

// http://..., https://..., www.x...: up to white space or a character that cannot be in a URL,
// minus trailing sentence punctuation and unbalanced closing brackets.
bool Scanner::TryUrl(size_t pos, size_t* end) const {
  size_t q;
  if (MatchesAsciiNoCase(pos, "https://")) {
    q = pos + 8;
  } else if (MatchesAsciiNoCase(pos, "http://")) {
    q = pos + 7;
  } else if (MatchesAsciiNoCase(pos, "www.")) {
    q = pos + 4;
  } else {
    return false;
  }
  size_t next;
  const CharClass k = ClassAt(q, &next);
  if (k != CharClass::kLetter && k != CharClass::kDigit && k != CharClass::kOtherNumber) {
    return false;
  }
  int parens = 0, brackets = 0;
  while (q < n_) {
    const unsigned char c = p_[q];
    if (c < 0x80) {
      const CharClass ck = kAsciiClasses[c];
      if (ck == CharClass::kSeparator || c == '"' || c == '<' || c == '>' || c == '\\' ||
          c == '^' || c == '`' || c == '{' || c == '|' || c == '}') {
        break;
      }
      parens += (c == '(') - (c == ')');
      brackets += (c == '[') - (c == ']');
      ++q;
      continue;
    }
    if (!IsWordClass(ClassAt(q, &next))) break;  // IRIs: letters, marks and digits only
    q = next;
  }
  while (q > pos) {
    const unsigned char c = p_[q - 1];
    if (c == '.' || c == ',' || c == ';' || c == ':' || c == '!' || c == '?' || c == '\'' ||
        (c == ')' && parens < 0) || (c == ']' && brackets < 0)) {
      parens += c == ')';
      brackets += c == ']';
      --q;
      continue;
    }
    break;
  }
  *end = q;
  return true;
}

// local@domain.tld: local part of letters, digits and . _ % + -; domain labels of letters,
// digits and inner hyphens; at least two labels, the last one (TLD) of two or more letters.
bool Scanner::TryEmail(size_t pos, size_t* end) {
  if (pos < no_email_before_) return false;
  size_t q = pos;
  size_t next;
  while (q < n_) {
    const unsigned char c = p_[q];
    if (c == '.' || c == '_' || c == '%' || c == '+' || c == '-') {
      ++q;
      continue;
    }
    const CharClass k = ClassAt(q, &next);
    if (k != CharClass::kLetter && k != CharClass::kDigit && k != CharClass::kOtherNumber &&
        k != CharClass::kMark) {
      break;
    }
    q = next;
  }
  if (!IsAsciiAt(q, '@')) {
    no_email_before_ = q;
    return false;
  }
  ++q;
  size_t domain_end = 0;  // end of the last complete label followed by a TLD
  int labels = 0;
  while (true) {
    const size_t label_start = q;
    bool all_letters = true;
    size_t last_alnum_end = q;
    while (q < n_) {
      const CharClass k = ClassAt(q, &next);
      if (k == CharClass::kLetter || k == CharClass::kDigit || k == CharClass::kOtherNumber) {
        all_letters = all_letters && k == CharClass::kLetter;
        q = next;
        last_alnum_end = q;
      } else if (p_[q] == '-' && q > label_start) {
        all_letters = false;
        ++q;
      } else {
        break;
      }
    }
    if (last_alnum_end == label_start) break;  // empty label
    const size_t label_end = last_alnum_end;
    ++labels;
    if (labels >= 2 && all_letters && label_end - label_start >= 2 && label_end == q) {
      domain_end = label_end;
    }
    if (label_end != q || !IsAsciiAt(q, '.')) break;  // a label may not end with '-'
    ++q;
  }
  if (domain_end == 0) return false;
  *end = domain_end;
  return true;
}

void Scanner::Run(std::vector<Token>* out) {
  size_t i = 0;
  auto emit = [out](size_t b, size_t e, TokenKind kind) {
    out->push_back({static_cast<uint32_t>(b), static_cast<uint32_t>(e), kind});
  };
  while (i < n_) {
    const unsigned char c = p_[i];
    size_t next;
    const CharClass k = ClassAt(i, &next);
    size_t end;
    switch (k) {
      case CharClass::kSeparator:
      case CharClass::kEmojiExtender:  // stray, not after an emoji
        i = next;
        break;
      case CharClass::kLetter:
      case CharClass::kOtherNumber:
      case CharClass::kMark:
        if (c == 'h' || c == 'H' || c == 'w' || c == 'W') {
          if (TryUrl(i, &end)) {
            emit(i, end, TokenKind::kUrl);
            i = end;
            break;
          }
        }
        end = ScanWord(i);
        if (MayContinueAsEmail(end)) {
          size_t email_end;
          if (TryEmail(i, &email_end)) {
            emit(i, email_end, TokenKind::kEmail);
            i = email_end;
            break;
          }
        }
        emit(i, end, TokenKind::kWord);
        i = end;
        break;
      case CharClass::kDigit: {
        if ((end = KeycapEnd(i)) != 0) {
          emit(i, end, TokenKind::kEmoji);
          i = end;
          break;
        }
        bool has_separator;
        end = ScanNumber(i, &has_separator);
        if (MayContinueAsEmail(end) || MayContinueAsEmail(ScanWord(i))) {
          size_t email_end;
          if (TryEmail(i, &email_end)) {
            emit(i, email_end, TokenKind::kEmail);
            i = email_end;
            break;
          }
        }
        size_t after;
        if (!has_separator && IsWordClass(ClassAt(end, &after))) {
          end = ScanWord(i);  // "4x4", "2do", "50mil", "covid19"-like mixes are words
          emit(i, end, TokenKind::kWord);
        } else {
          emit(i, end, TokenKind::kNumber);
        }
        i = end;
        break;
      }
      case CharClass::kCurrency:
        if (next < n_ && p_[next] >= '0' && p_[next] <= '9') {
          bool has_separator;
          end = ScanNumber(next, &has_separator);
          size_t after;
          if (has_separator || !IsWordClass(ClassAt(end, &after))) {
            emit(i, end, TokenKind::kNumber);
            i = end;
            break;
          }
        }
        emit(i, next, TokenKind::kSymbol);
        i = next;
        break;
      case CharClass::kPunct:
      case CharClass::kSymbol:
        if ((c == '#' || c == '*') && (end = KeycapEnd(i)) != 0) {
          emit(i, end, TokenKind::kEmoji);
          i = end;
          break;
        }
        emit(i, next, k == CharClass::kPunct ? TokenKind::kPunct : TokenKind::kSymbol);
        i = next;
        break;
      case CharClass::kEmoji:
      case CharClass::kRegionalIndicator:
        end = ScanEmoji(i);
        emit(i, end, TokenKind::kEmoji);
        i = end;
        break;
    }
  }
}

}  // namespace

void Tokenizer::Tokenize(std::string_view text, std::vector<Token>* out) const {
  out->clear();
  Scanner scanner(text);
  scanner.Run(out);
}

}  // namespace lote::text
