// Private to the tagger: token analysis, feature templates and the feature-key -> row index.
#ifndef LOTE_SRC_EXTRACT_TAGGER_FEATURES_H_
#define LOTE_SRC_EXTRACT_TAGGER_FEATURES_H_

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "lote/base/status.h"

namespace lote::extract::internal {

// Bump whenever a template, a hash or the token analysis changes: weights trained with other
// templates are meaningless, so loading refuses a model whose version differs.
inline constexpr uint32_t kFeatureVersion = 5;
inline constexpr int kMaxFeatures = 72;
inline constexpr int kMaxDocFeatures = 16;

// Token flag bits.
enum TokenFlag : uint32_t {
  kInitCap = 1u << 0,
  kAllCaps = 1u << 1,
  kAllLower = 1u << 2,
  kHasDigit = 1u << 3,
  kAllDigit = 1u << 4,
  kHasHyphen = 1u << 5,
  kHasPeriod = 1u << 6,
  kHasAlpha = 1u << 7,
  kPunctOnly = 1u << 8,
  kInnerCap = 1u << 9,
};

// What the templates need of one token, all hashed once per token.
struct TokenInfo {
  uint64_t lower = 0;        // lower-cased form
  uint64_t form = 0;         // form as written
  uint64_t shape = 0;        // "Xxxxx", "dd/dd/dddd" (runs capped at 4)
  uint64_t short_shape = 0;  // runs collapsed: "Xx", "d/d/d"
  uint64_t prefix[5] = {};   // lower-cased prefixes of 1..5 code points (0 when shorter)
  uint64_t suffix[5] = {};
  uint32_t flags = 0;
  uint32_t length_bucket = 0;
  uint32_t cap_class = 0;  // from the CapitalizationLexicon (0: unknown word)
  uint32_t gaz = 0;        // WordGazetteer class bits (0: in no list)
  // Sentence-level (AnalyzeSentence): entity-lexicon matches covering this token, as values
  // ready for hashing (type, position in the match, match length), and quote parity.
  uint64_t gazetteer[4] = {};
  uint32_t n_gazetteer = 0;
  uint32_t in_quotes = 0;
  bool is_quote = false;
};

// Entity strings seen in training (case-sensitive token sequences of 1..kMaxLength tokens)
// with their types. Training uses jackknifed copies (built without the sentence's own fold) so
// the features it learns from behave as they will on unseen text.
class EntityLexicon {
 public:
  static constexpr size_t kMaxLength = 6;
  // Adds one entity occurrence: `form_hashes` are TokenInfo::form of its tokens.
  void Add(const uint64_t* form_hashes, size_t n, uint8_t type);
  void Finish();  // sorts and dedups
  // Calls f(type) for every type of the token sequence (at most a few).
  template <typename F>
  void ForEach(uint64_t ngram_hash, F f) const;
  static uint64_t Extend(uint64_t h, uint64_t form_hash);
  bool empty() const { return entries_.empty(); }

  void Serialize(std::string* out) const;
  Status Parse(std::string_view bytes);

 private:
  // Open-addressing index over entries_: slot -> 1 + index of the first entry of a hash (0 =
  // empty). Every token start probes it up to kMaxLength times, and almost every probe misses:
  // a hash probe costs one cache line where a binary search over entries_ cost ~15.
  void BuildIndex();
  std::vector<std::pair<uint64_t, uint8_t>> entries_;  // (n-gram hash, type), sorted
  std::vector<uint32_t> index_;
  size_t mask_ = 0;
};

template <typename F>
void EntityLexicon::ForEach(uint64_t ngram_hash, F f) const {
  if (index_.empty()) return;
  for (size_t pos = static_cast<size_t>(ngram_hash) & mask_;; pos = (pos + 1) & mask_) {
    const uint32_t slot = index_[pos];
    if (slot == 0) return;
    if (entries_[slot - 1].first != ngram_hash) continue;
    for (size_t i = slot - 1; i < entries_.size() && entries_[i].first == ngram_hash; ++i) {
      f(entries_[i].second);
    }
    return;
  }
}

// Lower-cases UTF-8 (simple case mapping via utf8proc; ASCII fast path). Invalid bytes are
// copied as they are.
void LowerUtf8(std::string_view in, std::string* out);

// Hash of a lower-cased word, as TokenInfo::lower holds it: the key of every word table.
uint64_t HashWord(std::string_view lower);

// A frozen word-hash -> small value map: how the tagger's word tables (CapitalizationLexicon,
// WordGazetteer) are kept and stored in the model (keys sorted). Every token looks words up, so
// lookups go through an open-addressing index (one or two probes) rather than a binary search.
class WordTable {
 public:
  // `keys` strictly increasing, one value per key.
  void Assign(std::vector<uint64_t> keys, std::vector<uint8_t> values);
  const uint8_t* Find(uint64_t key) const {
    if (slots_.empty()) return nullptr;
    for (size_t pos = static_cast<size_t>(key) & mask_;; pos = (pos + 1) & mask_) {
      const uint32_t s = slots_[pos];
      if (s == 0) return nullptr;
      if (keys_[s - 1] == key) return values_.data() + (s - 1);
    }
  }
  size_t size() const { return keys_.size(); }
  void Serialize(std::string* out) const;
  // Errors: DataLoss naming `section` (truncated, sizes disagree, keys not increasing).
  Status Parse(std::string_view bytes, const char* section);

 private:
  void BuildIndex();
  std::vector<uint64_t> keys_;
  std::vector<uint8_t> values_;
  std::vector<uint32_t> slots_;  // 1 + index into keys_, 0 = empty
  size_t mask_ = 0;
};

// How a word is written in the training text: for each lower-cased word seen inside a sentence
// (not first token), the share of its occurrences with an initial capital, in 4 classes, plus
// a frequency class. A distributional signal learned from the training text alone.
class CapitalizationLexicon {
 public:
  // Counts one sentence of tokens.
  void Count(const std::vector<std::string>& tokens, std::string* scratch);
  // Freezes the counts into classes (drops words seen once).
  void Finish();
  // 0 when unknown, else 1 + class id.
  uint32_t Lookup(uint64_t lower_hash) const;

  void Serialize(std::string* out) const;
  Status Parse(std::string_view bytes);

 private:
  struct Tally {
    uint32_t capitalised = 0;
    uint32_t total = 0;
  };
  std::vector<std::pair<uint64_t, Tally>> tallies_;  // while counting (sorted at Finish)
  WordTable classes_;
};

// Analyses tokens and produces feature keys.
class WordGazetteer;

class FeatureExtractor {
 public:
  // Either may be null (no such class for any token).
  FeatureExtractor(const CapitalizationLexicon* lexicon, const WordGazetteer* gazetteer)
      : lexicon_(lexicon), gazetteer_(gazetteer) {}

  // Fills *info for one token; `scratch` is reused to avoid allocations.
  void Analyze(std::string_view token, TokenInfo* info, std::string* scratch) const;

  // Fills the sentence-level fields of n analysed tokens (lexicon may be null).
  void AnalyzeSentence(TokenInfo* infos, size_t n, const EntityLexicon* lexicon) const;

  // Writes the feature keys of position i of a sentence of n analysed tokens into keys
  // (capacity kMaxFeatures) and returns how many. Without `with_static`, only the keys that
  // depend on more than the token itself (its neighbours, its position, the sentence); the
  // others are StaticFeatures(infos[i]).
  int Features(const TokenInfo* infos, size_t n, size_t i, uint64_t* keys,
               bool with_static = true) const;
  // The keys that depend on the token alone (its form: lower case, affixes, shapes, flags, word
  // classes), so a tagger may add up their weights once per distinct form.
  static int StaticFeatures(const TokenInfo& t, uint64_t* keys);

 private:
  const CapitalizationLexicon* lexicon_;
  const WordGazetteer* gazetteer_;
};

// Second (document-level) pass: how the first pass tagged each lower-cased word in a window of
// neighbouring sentences of the same input, and how that word is capitalised there.
struct DocToken {
  uint64_t lower = 0;
  uint16_t label = 0;   // 0: O, else 1 + entity type of the first-pass tag
  uint8_t counted = 0;  // has a letter (only these are counted and get window features)
  uint8_t mid = 0;      // not the first token of its sentence
  uint8_t cap = 0;      // initial capital
};

class DocWindow {
 public:
  void Reset(size_t n_labels);
  void Add(const DocToken& t, int sign);
  // Feature keys of a token with first-pass tag ids prev / cur / next (prev / next = the tag
  // count at sentence edges); the token's own occurrence is left out of the window counts.
  int Features(const DocToken& t, uint32_t prev, uint32_t cur, uint32_t next, uint32_t flags,
               bool first, uint64_t* keys) const;

 private:
  size_t n_labels_ = 1;
  std::vector<std::pair<uint64_t, uint32_t>> slots_;  // open addressing: (lower, 1 + entry)
  size_t mask_ = 0;
  std::vector<int32_t> counts_;  // per entry: n_labels label counts, mid count, capitalised-mid
  size_t entries_ = 0;
  uint32_t Slot(uint64_t lower, bool insert);
};

// Open-addressing map from a 64-bit feature key to a weight row.
class FeatureIndex {
 public:
  static constexpr uint32_t kMissing = 0xffffffffu;

  // Builds from keys in row order (row r has key keys[r]); keys must be distinct.
  void Build(const std::vector<uint64_t>& keys);
  // Row of `key`, inserting it as the next row when absent (training).
  uint32_t FindOrInsert(uint64_t key);
  uint32_t Find(uint64_t key) const {
    const uint64_t k = key ? key : 1;
    size_t pos = static_cast<size_t>(k) & mask_;
    while (true) {
      const Slot& s = slots_[pos];
      if (s.key == k) return s.row;
      if (s.key == 0) return kMissing;
      pos = (pos + 1) & mask_;
    }
  }
  size_t size() const { return keys_.size(); }
  const std::vector<uint64_t>& keys() const { return keys_; }

 private:
  void Rehash(size_t capacity);
  // Key and row side by side: a lookup is one cache miss, not two.
  struct Slot {
    uint64_t key = 0;  // 0 = empty; key 0 is stored as 1
    uint32_t row = 0;
  };
  std::vector<Slot> slots_;
  std::vector<uint64_t> keys_;  // by row
  size_t mask_ = 0;
};

}  // namespace lote::extract::internal

#endif  // LOTE_SRC_EXTRACT_TAGGER_FEATURES_H_
