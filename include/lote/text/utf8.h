// UTF-8 validation, decoding and repair. Thread-safe free functions.
#ifndef LOTE_TEXT_UTF8_H_
#define LOTE_TEXT_UTF8_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "lote/base/status.h"

namespace lote::text {

// What to do with bytes that are not valid UTF-8 (overlongs, surrogates, truncated sequences,
// stray continuation bytes, > U+10FFFF).
enum class InvalidUtf8Policy {
  kReject,   // the record is an error (InvalidArgument naming the byte offset)
  kReplace,  // each maximal invalid subpart becomes U+FFFD (as the Unicode standard recommends)
};

// Returns the byte offset of the first invalid byte, or std::string_view::npos if `s` is valid.
size_t FindInvalidUtf8(std::string_view s);

inline bool IsValidUtf8(std::string_view s) { return FindInvalidUtf8(s) == std::string_view::npos; }

// OK if valid; otherwise InvalidArgument "invalid UTF-8 at byte N".
Status ValidateUtf8(std::string_view s);

// Copy of `s` with every maximal invalid subpart replaced by U+FFFD.
std::string ReplaceInvalidUtf8(std::string_view s);

// Decodes the code point starting at s[*pos] (s must be valid UTF-8 there) and advances *pos.
char32_t DecodeUtf8(std::string_view s, size_t* pos);

// Appends the UTF-8 encoding of `cp` to `out`.
void AppendUtf8(char32_t cp, std::string* out);

// Number of code points in valid UTF-8 `s`.
size_t CodePointCount(std::string_view s);

// Byte offset of every code point of valid UTF-8 `s`, plus s.size() at the end: entry k is where
// code point k starts, so code point offsets [a, b) are bytes [v[a], v[b]). `s` must be shorter
// than 4 GiB.
std::vector<uint32_t> CodePointOffsets(std::string_view s);

// A short excerpt of `s` for error messages: at most `max_code_points` code points, "..." when
// cut, invalid bytes shown as U+FFFD, control characters as spaces. Error messages never quote
// more than this.
std::string Excerpt(std::string_view s, size_t max_code_points = 40);

// Copy of `s` that is safe to print as part of one line of a text log or a terminal, with nothing
// dropped: what could break the line, move the cursor, run a terminal escape sequence or reorder
// the text on screen becomes a visible escape, and everything else (Spanish letters, emoji, any
// other printable character) is copied unchanged.
//   \n \r \t           line feed, carriage return, tab
//   \\                 a backslash, so that the escapes above cannot be forged and the
//                      original bytes can be recovered
//   \xHH               any other C0 control (U+0000-U+001F, ESC is \x1b), DEL (U+007F), and
//                      each byte of an invalid UTF-8 sequence (\x80-\xff); HH is lowercase hex
//   \uHHHH             C1 controls (U+0080-U+009F, NEL is \u0085), the line and paragraph
//                      separators U+2028 and U+2029, and the bidirectional embeddings,
//                      overrides and isolates U+202A-U+202E and U+2066-U+2069 (which could make
//                      a line read differently from what it holds)
// The result is valid UTF-8 with no control characters. Thread-safe.
std::string EscapeControl(std::string_view s);

}  // namespace lote::text

#endif  // LOTE_TEXT_UTF8_H_
