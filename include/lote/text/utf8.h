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

}  // namespace lote::text

#endif  // LOTE_TEXT_UTF8_H_
