// Text normalization with a map back to the original text (as sentencepiece's normalizer).
//
// Steps, each optional: Unicode NFKC, full case folding, accent folding (removal of combining
// marks after canonical decomposition: "información" -> "informacion", "ñ" is kept as "ñ" unless
// fold_enye), whitespace collapsing (runs of Unicode white space -> one ASCII space, trimmed).
// Every byte of the normalized text maps back to a [start, end) range of code points in the
// original, so spans found on normalized text are reported on the caller's text.
//
// With nfkc and case_fold on (the default) the text equals utf8proc_NFKC_Casefold of the input
// (Unicode NFKC_Casefold: default-ignorable code points such as soft hyphen and zero-width space
// are removed), with one deliberate difference: ZWJ, variation selectors and tag characters are
// kept, so emoji sequences (ZWJ families, "❤️", subdivision flags) survive. With nfkc off the
// text is NFC. Implemented with utf8proc (see docs/adr/0001-text-normalization-utf8proc.md);
// ASCII runs and most 2-byte characters (Latin-1, Latin Extended, Greek, Cyrillic) take a
// table-driven path.
//
// Thread-safety: Normalizer is immutable after construction; Normalize is const and thread-safe.
#ifndef LOTE_TEXT_NORMALIZER_H_
#define LOTE_TEXT_NORMALIZER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lote::text {

struct NormalizerOptions {
  bool nfkc = true;            // compatibility composition: "ﬁ" -> "fi", full-width -> ASCII
  bool case_fold = true;       // full Unicode case folding ("ẞ" -> "ss")
  bool strip_accents = false;  // remove combining marks (Mn) after decomposition
  bool fold_enye = false;      // with strip_accents: also "ñ" -> "n" (off: ñ is a letter in es)
  bool collapse_whitespace = true;

  // Stable text form, e.g. "nfkc=1,case_fold=1,strip_accents=0,fold_enye=0,ws=1"; stored in
  // model files and hashed into the preprocessing version.
  std::string Fingerprint() const;
};

// Normalized text plus its alignment to the original.
struct NormalizedText {
  std::string text;  // normalized, valid UTF-8
  // For every byte i of `text`: the original code point range [orig_start[i], orig_end[i]) that
  // produced the character containing byte i (a composed character covers all the code points
  // it was composed from; a collapsed space covers the whole white-space run). Both arrays are
  // non-decreasing, and orig_start[i] < orig_end[i] <= code points in the original.
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

  // Normalizes `input` into *out, replacing its contents but reusing its buffers: once warmed,
  // a call allocates nothing. ASCII runs take a fast path without Unicode tables.
  // `input` should be valid UTF-8 (validate first with ValidateUtf8 or repair with
  // ReplaceInvalidUtf8): ill-formed bytes are read as U+FFFD per maximal subpart, never past the
  // end, but each such subpart then counts as one code point in the offset map.
  // Inputs longer than 4 GiB are not supported (offsets are 32-bit).
  void Normalize(std::string_view input, NormalizedText* out) const;

  // Convenience: normalized text only (no offset map).
  std::string NormalizeToString(std::string_view input) const;

  struct Tables;  // implementation detail: per-options lookup tables built by the constructor

 private:
  NormalizerOptions options_;
  std::shared_ptr<const Tables> tables_;
};

}  // namespace lote::text

#endif  // LOTE_TEXT_NORMALIZER_H_
