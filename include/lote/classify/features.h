// Sparse text features for the intent classifier: hashed word n-grams and character n-grams
// within word boundaries (like scikit-learn's char_wb), weighted by sublinear TF x IDF and
// L2-normalized per block (words, characters).
//
// Text goes through lote::text::Normalizer (NFKC, case folding, accent folding by default) and
// Tokenizer first; digits inside numbers are mapped to '0' so amounts and dates generalize.
// FeatureExtractor is immutable and thread-safe; per-thread scratch lives in FeatureScratch.
#ifndef LOTE_CLASSIFY_FEATURES_H_
#define LOTE_CLASSIFY_FEATURES_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "lote/text/normalizer.h"
#include "lote/text/tokenizer.h"

namespace lote::classify {

struct FeatureOptions {
  int word_ngram_max = 2;  // word n-grams 1..word_ngram_max
  int char_ngram_min = 2;  // character n-grams within padded words
  int char_ngram_max = 5;
  float word_block_weight = 1.0f;  // scale of the L2-normalized word block
  float char_block_weight = 1.0f;  // scale of the L2-normalized character block
  bool sublinear_tf = true;        // 1 + log(tf)
  text::NormalizerOptions normalizer{.nfkc = true, .case_fold = true, .strip_accents = true};

  // Stable text form stored in model metadata.
  std::string Fingerprint() const;
};

// A feature before vocabulary lookup: 64-bit hash whose top bit tells the block
// (1 = character n-gram, 0 = word n-gram).
using FeatureHash = uint64_t;
inline constexpr FeatureHash kCharFeatureBit = FeatureHash{1} << 63;
inline bool IsCharFeature(FeatureHash h) { return (h & kCharFeatureBit) != 0; }
// A word unigram's feature: its word hash (FeatureScratch::word_hashes) without the top bit.
inline FeatureHash WordFeature(uint64_t word_hash) { return word_hash & ~kCharFeatureBit; }
// Chains two word (or n-gram) hashes, order-sensitive: an n-gram's hash chains its words' hashes
// right to left.
inline uint64_t CombineWordHashes(uint64_t a, uint64_t b) {
  return (a * 0x100000001b3ull) ^ (b + 0x9e3779b97f4a7c15ull + (a << 6) + (a >> 2));
}
// The feature of the word bigram (first, second), from their word hashes.
inline FeatureHash WordBigramFeature(uint64_t first, uint64_t second) {
  return (CombineWordHashes(first, second) ^ 2) & ~kCharFeatureBit;
}

struct FeatureScratch {
  text::NormalizedText normalized;
  std::vector<text::Token> tokens;
  std::vector<std::string> words;  // token texts after digit mapping
  std::vector<uint64_t> word_hashes;
  std::string padded;
  std::vector<FeatureHash> hashes;
};

// How much of a text the classifier has features for (monitoring, lote/monitoring/profile.h): its
// word tokens and character n-grams, and how many of each the vocabulary lacks.
struct VocabularyCounts {
  uint32_t words = 0, unknown_words = 0;
  uint32_t char_ngrams = 0, unknown_char_ngrams = 0;
};

// One sparse row: parallel index/value arrays, indices ascending.
struct SparseRow {
  std::vector<uint32_t> index;
  std::vector<float> value;
  void Clear() {
    index.clear();
    value.clear();
  }
};

class FeatureExtractor {
 public:
  explicit FeatureExtractor(FeatureOptions options);
  const FeatureOptions& options() const { return options_; }

  // All feature hashes of `text` (valid UTF-8), with repetitions, into scratch->hashes.
  void Hash(std::string_view text, FeatureScratch* scratch) const;

 private:
  FeatureOptions options_;
  text::Normalizer normalizer_;
  text::Tokenizer tokenizer_;
};

}  // namespace lote::classify

#endif  // LOTE_CLASSIFY_FEATURES_H_
