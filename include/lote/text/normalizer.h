// Text normalization with a map back to the original text (as sentencepiece's normalizer).
//
// Steps, each optional: Unicode NFKC, full case folding, accent folding (removal of combining
// marks after canonical decomposition: "información" -> "informacion", "ñ" is kept as "ñ" unless
// fold_enye), whitespace collapsing (runs of Unicode white space -> one ASCII space, trimmed).
// Every byte of the normalized text maps back to a [start, end) range of code points in the
// original, so spans found on normalized text are reported on the caller's text.
// Thread-safety: Normalizer is immutable after construction; Normalize is const and thread-safe.
#ifndef LOTE_TEXT_NORMALIZER_H_
#define LOTE_TEXT_NORMALIZER_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lote::text {

struct NormalizerOptions {
  bool nfkc = true;               // compatibility composition: "ﬁ" -> "fi", full-width -> ASCII
  bool case_fold = true;          // full Unicode case folding ("ẞ" -> "ss")
  bool strip_accents = false;     // remove combining marks (Mn) after decomposition
  bool fold_enye = false;         // with strip_accents: also "ñ" -> "n" (off: ñ is a letter in es)
  bool collapse_whitespace = true;

  // Stable text form, e.g. "nfkc=1,case_fold=1,strip_accents=0,fold_enye=0,ws=1"; stored in
  // model files and hashed into the preprocessing version.
  std::string Fingerprint() const;
};

// Normalized text plus its alignment to the original.
struct NormalizedText {
  std::string text;  // normalized, valid UTF-8
  // For every byte i of `text`: the original code point range [orig_start[i], orig_end[i]) that
  // produced the character containing byte i.
  std::vector<uint32_t> orig_start;
  std::vector<uint32_t> orig_end;

  // Original code point range [start, end) covered by normalized bytes [begin, end).
  // Precondition: begin < end <= text.size().
  std::pair<uint32_t, uint32_t> ToOriginal(size_t begin, size_t end) const {
    return {orig_start[begin], orig_end[end - 1]};
  }
  void Clear() {
    text.clear();
    orig_start.clear();
    orig_end.clear();
  }
};

class Normalizer {
 public:
  explicit Normalizer(NormalizerOptions options = {});

  const NormalizerOptions& options() const { return options_; }

  // Normalizes `input` (must be valid UTF-8; validate first) into *out, reusing its buffers.
  // ASCII-only input takes a fast path without Unicode tables.
  void Normalize(std::string_view input, NormalizedText* out) const;

  // Convenience: normalized text only (no offset map).
  std::string NormalizeToString(std::string_view input) const;

 private:
  NormalizerOptions options_;
};

}  // namespace lote::text

#endif  // LOTE_TEXT_NORMALIZER_H_
