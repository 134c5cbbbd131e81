#include "lote/classify/features.h"

#include <xxhash.h>

#include <cstdio>

namespace lote::classify {

namespace {

constexpr uint64_t kCharBit = kCharFeatureBit;
constexpr uint64_t kWordSeed = 0x9e3779b97f4a7c15ull;
constexpr uint64_t kCharSeed = 0xc2b2ae3d27d4eb4full;

inline uint64_t HashBytes(const char* p, size_t n, uint64_t seed) {
  return XXH3_64bits_withSeed(p, n, seed);
}

bool IsWordLike(text::TokenKind kind) {
  return kind == text::TokenKind::kWord || kind == text::TokenKind::kNumber ||
         kind == text::TokenKind::kEmoji || kind == text::TokenKind::kUrl ||
         kind == text::TokenKind::kEmail;
}

}  // namespace

std::string FeatureOptions::Fingerprint() const {
  char buf[256];
  std::snprintf(buf, sizeof(buf), "word=1-%d,char=%d-%d,wblock=%g,cblock=%g,sublinear=%d,%s",
                word_ngram_max, char_ngram_min, char_ngram_max, word_block_weight,
                char_block_weight, sublinear_tf ? 1 : 0, normalizer.Fingerprint().c_str());
  return buf;
}

FeatureExtractor::FeatureExtractor(FeatureOptions options)
    : options_(options), normalizer_(options.normalizer) {}

void FeatureExtractor::Hash(std::string_view input, FeatureScratch* s) const {
  s->hashes.clear();
  normalizer_.Normalize(input, &s->normalized);
  const std::string& t = s->normalized.text;
  tokenizer_.Tokenize(t, &s->tokens);

  // Word tokens, digits mapped to '0' ("$50.000" -> "$00.000") so amounts generalize.
  size_t n_words = 0;
  if (s->words.size() < s->tokens.size()) s->words.resize(s->tokens.size());
  for (const auto& tok : s->tokens) {
    if (!IsWordLike(tok.kind)) continue;
    std::string& w = s->words[n_words++];
    w.assign(t.data() + tok.begin, tok.end - tok.begin);
    if (tok.kind == text::TokenKind::kNumber || tok.kind == text::TokenKind::kWord) {
      for (char& c : w) {
        if (c >= '1' && c <= '9') c = '0';
      }
    }
  }

  // Word n-grams: an n-gram's hash chains the hashes of its words, right to left. Layout (which
  // IntentClassifier::Vectorize relies on to find unigrams by position): per word i, its unigram,
  // then its min(i, word_ngram_max - 1) longer n-grams; character n-grams after all words.
  s->word_hashes.resize(n_words);
  for (size_t i = 0; i < n_words; ++i) {
    const std::string& w = s->words[i];
    const uint64_t h = HashBytes(w.data(), w.size(), kWordSeed);
    s->word_hashes[i] = h;
    s->hashes.push_back(WordFeature(h));
    uint64_t g = h;
    for (int k = 1; k < options_.word_ngram_max && static_cast<size_t>(k) <= i; ++k) {
      g = CombineWordHashes(s->word_hashes[i - k], g) ^ static_cast<uint64_t>(k + 1);
      s->hashes.push_back(g & ~kCharBit);
    }
  }

  // Character n-grams of each word padded with spaces (" casa "), on code points' bytes: an
  // n-gram is n code points, so accents and ñ count as one character.
  const int cmin = options_.char_ngram_min, cmax = options_.char_ngram_max;
  if (cmax <= 0) return;
  uint32_t starts[256 + 3];
  for (size_t i = 0; i < n_words; ++i) {
    const std::string& w = s->words[i];
    s->padded.clear();
    s->padded.push_back(' ');
    s->padded.append(w);
    s->padded.push_back(' ');
    const std::string& p = s->padded;
    // Code point start offsets (capped for very long tokens such as URLs).
    size_t ncp = 0;
    for (size_t b = 0; b < p.size() && ncp < 256; ++b) {
      if ((static_cast<unsigned char>(p[b]) & 0xC0) != 0x80)
        starts[ncp++] = static_cast<uint32_t>(b);
    }
    size_t limit_bytes = ncp < 256 ? p.size() : starts[ncp - 1];
    starts[ncp] = static_cast<uint32_t>(limit_bytes);
    for (int n = cmin; n <= cmax; ++n) {
      if (static_cast<size_t>(n) > ncp) break;
      for (size_t a = 0; a + n <= ncp; ++a) {
        const uint32_t b0 = starts[a], b1 = starts[a + n];
        s->hashes.push_back(HashBytes(p.data() + b0, b1 - b0, kCharSeed) | kCharBit);
      }
    }
  }
}

}  // namespace lote::classify
