// Rule-based tokenizer for Spanish and English user text. Keeps URLs, e-mail addresses,
// numbers with separators ("$50.000", "1,5", "15/03/2024", "+57 300 123 4567" is several tokens
// but "3001234567" one), emojis (including ZWJ sequences, skin tones and flags) and words with
// inner apostrophes/hyphens whole. Works on any valid UTF-8 (normalized or original); token
// offsets are byte offsets into the text given. Ill-formed UTF-8 is never read past the end:
// each maximal invalid subpart becomes a kSymbol token.
//
// Rules, in order, at each token start: white space, controls and format characters (ZWSP,
// soft hyphen, BOM) separate tokens; "http://", "https://", "www." start a URL running to white
// space, minus trailing . , ; : ! ? ' and unbalanced ) ]; local@domain.tld is an e-mail; an
// ASCII digit starts a number (inner . , / : - ' followed by a digit), which becomes a word if
// letters follow without a separator ("4x4", "2do"); a currency sign directly before a number
// joins it ("$50.000", "€20"); letters, marks and digits make words (inner ' ’ - _ allowed);
// emoji clusters follow ZWJ joins, skin tones, variation selectors, keycaps, tags and flag
// pairs; any other character is one kPunct (Unicode P*, incl. ¿ ¡ « ») or kSymbol token.
// Thread-safety: Tokenizer is immutable; Tokenize is const and thread-safe.
#ifndef LOTE_TEXT_TOKENIZER_H_
#define LOTE_TEXT_TOKENIZER_H_

#include <cstdint>
#include <string_view>
#include <vector>

namespace lote::text {

enum class TokenKind : uint8_t {
  kWord,    // letters (and digits mixed in: "4x4", "covid19"), inner ' - allowed
  kNumber,  // digits with . , separators, optional leading currency sign: "$50.000", "1,5"
  kUrl,     // http(s)://..., www....
  kEmail,   // local@domain.tld
  kEmoji,   // one emoji cluster
  kPunct,   // one punctuation character
  kSymbol,  // any other single character
};

struct Token {
  uint32_t begin;  // byte offset, inclusive
  uint32_t end;    // byte offset, exclusive
  TokenKind kind;
};

class Tokenizer {
 public:
  // Appends the tokens of `text` to *out (cleared first). White space separates tokens and is
  // never part of one.
  void Tokenize(std::string_view text, std::vector<Token>* out) const;
};

}  // namespace lote::text

#endif  // LOTE_TEXT_TOKENIZER_H_
