// Prep (the ETL stage): turns a raw record text into the clean text inference sees, detects its
// language, and rejects what cannot be processed, always with a reason. Steps, in order:
//   1. UTF-8: invalid bytes reject the record or become U+FFFD (policy).
//   2. HTML: tags removed (script/style with their content), entities decoded (&amp;, &ntilde;,
//      &#241;, &#xF1; ...). Only text that contains '<' followed by a letter, '/' or '!', or '&'
//      followed by a known entity, is touched.
//   3. Control characters: C0/C1 controls (tab, CR, LF become spaces), zero-width and bidi
//      formatting characters, and the BOM are removed.
//   4. Unicode NFC (utf8proc), so "n" + U+0303 and "ñ" are the same text.
//   5. Whitespace: runs of Unicode white space become one space, trimmed.
//   6. Length: empty (after cleaning) rejects; longer than max_chars code points truncates (at a
//      code point boundary) or rejects, by policy.
//   7. Language: a vote of Spanish vs English function words and Spanish-only letters
//      (StopWordVote). On texts of at least short_text_chars code points, a vote of 3 or more
//      either way decides; otherwise cld2 does, and where cld2 is not sure (and on short texts)
//      the vote's sign does. Result "es", "en", "other" (cld2 is sure of another language) or
//      "und" (undetermined).
// Dedup is not done here: it needs the ledger (see pipeline.h).
// Thread-safety: Preprocessor is immutable; Process is const and thread-safe.
#ifndef LOTE_PIPELINE_PREP_H_
#define LOTE_PIPELINE_PREP_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "lote/base/status.h"
#include "lote/text/utf8.h"

namespace lote::pipeline {

enum class OverLongPolicy { kTruncate, kReject };

struct PrepOptions {
  text::InvalidUtf8Policy invalid_utf8 = text::InvalidUtf8Policy::kReject;
  bool strip_html = true;
  bool strip_control = true;
  bool unicode_nfc = true;
  bool collapse_whitespace = true;
  size_t max_chars = 5000;  // code points after cleaning
  OverLongPolicy over_long = OverLongPolicy::kTruncate;
  bool detect_language = true;
  size_t short_text_chars = 40;  // below this, the stop-word vote decides instead of cld2
  // Dedup (applied by the pipeline with its ledger): by record_id across runs (default), and by
  // the SHA-256 of the clean text only when asked (identical "hola" from two customers are two
  // records).
  bool dedup_record_id = true;
  bool dedup_content = false;

  // Stable text form of every option that changes prep's output, for preprocess_version.
  std::string Fingerprint() const;
};

// Policy names used in config files; InvalidArgument for anything else.
Result<text::InvalidUtf8Policy> ParseInvalidUtf8Policy(std::string_view name);  // reject|replace
Result<OverLongPolicy> ParseOverLongPolicy(std::string_view name);              // truncate|reject

// 12 hex digits of SHA-256 over the options' fingerprint and lote's version: changes whenever
// prep could produce a different text for the same input.
std::string PreprocessVersion(const PrepOptions& options);

struct PrepResult {
  std::string text;        // clean text (valid UTF-8, non-empty)
  std::string lang;        // "es", "en", "other", "und" ("" when detection is off)
  bool truncated = false;  // over max_chars and cut
  bool replaced_invalid_utf8 = false;
};

// Spanish minus English evidence in `text`: function words of each language, and letters only
// Spanish uses (ñ ¿ ¡). Positive: Spanish; negative: English; 0: no signal.
int StopWordVote(std::string_view text);

// Language of clean text, as described above. Thread-safe.
std::string DetectLanguage(std::string_view text, size_t short_text_chars);

class Preprocessor {
 public:
  explicit Preprocessor(PrepOptions options);
  const PrepOptions& options() const { return options_; }

  // Cleans `raw` into *out (buffers reused). A rejected record returns InvalidArgument with a
  // reason that never quotes the text: "invalid UTF-8 at byte 12", "empty after cleaning",
  // "too long: 7001 code points > max_chars 5000".
  Status Process(std::string_view raw, PrepResult* out) const;

 private:
  PrepOptions options_;
};

// True when steps 1-5 would leave `raw` unchanged, judged in one pass (printable ASCII but '<'
// and '&', single inner spaces, Latin-1 letters and punctuation): Process's fast path.
bool IsAlreadyClean(std::string_view raw);

// The individual steps, exposed for tests and for callers that need only one. Input must be
// valid UTF-8; output is valid UTF-8.
std::string StripHtml(std::string_view text);
std::string StripControl(std::string_view text);
std::string CollapseWhitespace(std::string_view text);

}  // namespace lote::pipeline

#endif  // LOTE_PIPELINE_PREP_H_
