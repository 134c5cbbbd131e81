// PII redaction: replaces the spans of personal-data entities (from PatternExtractor and/or a
// model tagger) in a text, in one of three modes:
//
//   kMask  every redacted code point becomes '*' (the length in code points is kept)
//   kType  the span becomes "[TYPE]", e.g. "[PHONE]"
//   kHash  the span becomes "[TYPE_" + the first 16 hex digits of HMAC-SHA256(key, value) + "]",
//          where value is the entity's normalized value (the JSON string's content, e.g.
//          "+573001234567", or the JSON text for objects such as MONEY) or, when it has none,
//          its Unicode lower-cased text. The same value under the same key always gives the
//          same token, across texts and runs, so redacted records can still be joined.
//
// Overlapping or touching-inside entities of redacted types are merged into one span, which
// takes the type (and value) of its longest entity (earliest on ties); the value of a merged span
// that is larger than that entity is its lower-cased text. Entities of other types are ignored.
//
// Thread-safety: PiiRedactor is immutable after Create; Redact is const and thread-safe.
#ifndef LOTE_EXTRACT_REDACTOR_H_
#define LOTE_EXTRACT_REDACTOR_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lote/base/secret.h"
#include "lote/base/status.h"
#include "lote/extract/entity.h"

namespace lote::extract {

enum class RedactionMode : uint8_t { kMask, kType, kHash };

// Parses "mask", "type" or "hash"; InvalidArgument otherwise.
Result<RedactionMode> ParseRedactionMode(std::string_view name);

// The default set of redacted types: every PatternExtractor type (MONEY, DATE, PHONE, EMAIL, URL,
// CEDULA, NIT, CARD, ACCOUNT) plus the model's personal types (PER). Amounts and dates are
// included because, next to a name, they identify a transaction; callers who keep them pass
// their own set.
const std::vector<std::string>& DefaultPiiTypes();

struct RedactorOptions {
  RedactionMode mode = RedactionMode::kType;
  // HMAC key bytes for kHash (required there, ignored otherwise). Keep it secret: with the key,
  // tokens of guessable values (phones, cédulas) can be reversed by enumeration.
  Secret key;
  std::vector<std::string> types = DefaultPiiTypes();
};

// A replaced span, in code point offsets of the REDACTED text, end exclusive.
struct RedactedSpan {
  std::string type;
  uint32_t start = 0;
  uint32_t end = 0;
  friend bool operator==(const RedactedSpan&, const RedactedSpan&) = default;
};

struct Redaction {
  std::string text;
  std::vector<RedactedSpan> spans;  // sorted by start, non-overlapping
};

class PiiRedactor {
 public:
  // Validates the options: InvalidArgument for kHash with an empty key or for an empty type name.
  static Result<PiiRedactor> Create(RedactorOptions options);

  const RedactorOptions& options() const { return options_; }

  // Redacts `entities` (code point offsets into `text`, any order, may overlap) from `text`
  // (valid UTF-8). InvalidArgument if `text` is not valid UTF-8 or an entity of a redacted type
  // has start > end or ends past the text; the message names the entity's index and type, never
  // its text. Thread-safe.
  Result<Redaction> Redact(std::string_view text, std::span<const Entity> entities) const;

 private:
  explicit PiiRedactor(RedactorOptions options) : options_(std::move(options)) {}
  bool Redacts(std::string_view type) const;

  RedactorOptions options_;
};

}  // namespace lote::extract

#endif  // LOTE_EXTRACT_REDACTOR_H_
