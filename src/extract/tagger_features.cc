#include "tagger_features.h"

#include <utf8proc.h>
#include <xxhash.h>

#include <algorithm>

#include "lote/model/bytes.h"
#include "tagger_gazetteer.h"

namespace lote::extract::internal {

namespace {

inline uint64_t SplitMix(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// Feature key of template `t` over one or more value hashes. Template ids are part of the
// feature version: renumbering them changes every key.
inline uint64_t Key(uint64_t t, uint64_t a) { return SplitMix(a ^ (t * 0xD6E8FEB86659FD93ull)); }
inline uint64_t Key(uint64_t t, uint64_t a, uint64_t b) {
  return SplitMix(Key(t, a) ^ (b * 0x9E3779B97F4A7C15ull));
}
inline uint64_t Key(uint64_t t, uint64_t a, uint64_t b, uint64_t c) {
  return SplitMix(Key(t, a, b) ^ (c * 0xC2B2AE3D27D4EB4Full));
}

inline uint64_t Hash(std::string_view s) { return XXH3_64bits(s.data(), s.size()); }

// Open-addressing index over n sorted keys (key_at(i)): slot -> 1 + position of the first
// occurrence of each key, 0 = empty; *slots is empty when n is 0. Keys are already hashes, so
// their low bits pick the slot. Returns the mask (capacity - 1).
template <typename KeyAt>
size_t BuildSortedIndex(size_t n, KeyAt key_at, std::vector<uint32_t>* slots) {
  slots->clear();
  if (n == 0) return 0;
  size_t cap = 16;
  while (cap < n * 2) cap <<= 1;
  slots->assign(cap, 0);
  const size_t mask = cap - 1;
  for (size_t i = 0; i < n; ++i) {
    if (i > 0 && key_at(i) == key_at(i - 1)) continue;  // first of its key only
    size_t pos = static_cast<size_t>(key_at(i)) & mask;
    while ((*slots)[pos] != 0) pos = (pos + 1) & mask;
    (*slots)[pos] = static_cast<uint32_t>(i + 1);
  }
  return mask;
}

// Hashes of the padding outside a sentence.
constexpr uint64_t kBos2 = 0x6c6f74652d626f32ull;
constexpr uint64_t kBos1 = 0x6c6f74652d626f31ull;
constexpr uint64_t kEos1 = 0x6c6f74652d656f31ull;
constexpr uint64_t kEos2 = 0x6c6f74652d656f32ull;

enum class CharClass { kUpper, kLower, kDigit, kOtherLetter, kOther };

CharClass Classify(int32_t cp) {
  if (cp < 0x80) {
    if (cp >= 'A' && cp <= 'Z') return CharClass::kUpper;
    if (cp >= 'a' && cp <= 'z') return CharClass::kLower;
    if (cp >= '0' && cp <= '9') return CharClass::kDigit;
    return CharClass::kOther;
  }
  switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LT:
      return CharClass::kUpper;
    case UTF8PROC_CATEGORY_LL:
      return CharClass::kLower;
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
      return CharClass::kOtherLetter;
    case UTF8PROC_CATEGORY_ND:
      return CharClass::kDigit;
    default:
      return CharClass::kOther;
  }
}

// Decodes one code point at s[*pos]; invalid bytes decode as -1 and advance by one.
inline int32_t Next(std::string_view s, size_t* pos) {
  const unsigned char c = static_cast<unsigned char>(s[*pos]);
  if (c < 0x80) {
    ++*pos;
    return c;
  }
  utf8proc_int32_t cp = -1;
  const utf8proc_ssize_t n =
      utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t*>(s.data()) + *pos,
                       static_cast<utf8proc_ssize_t>(s.size() - *pos), &cp);
  if (n <= 0) {
    ++*pos;
    return -1;
  }
  *pos += static_cast<size_t>(n);
  return cp;
}

}  // namespace

uint64_t HashWord(std::string_view lower) { return Hash(lower); }

void LowerUtf8(std::string_view in, std::string* out) {
  out->clear();
  size_t pos = 0;
  while (pos < in.size()) {
    const unsigned char c = static_cast<unsigned char>(in[pos]);
    if (c < 0x80) {
      out->push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : static_cast<char>(c));
      ++pos;
      continue;
    }
    const size_t start = pos;
    const int32_t cp = Next(in, &pos);
    if (cp < 0) {
      out->push_back(static_cast<char>(c));
      continue;
    }
    const int32_t lower = utf8proc_tolower(cp);
    if (lower == cp) {
      out->append(in.data() + start, pos - start);
    } else {
      utf8proc_uint8_t buf[4];
      const utf8proc_ssize_t n = utf8proc_encode_char(lower, buf);
      out->append(reinterpret_cast<const char*>(buf), static_cast<size_t>(n));
    }
  }
}

void FeatureExtractor::Analyze(std::string_view token, TokenInfo* info,
                               std::string* scratch) const {
  LowerUtf8(token, scratch);
  const std::string_view lower = *scratch;
  info->lower = HashWord(lower);
  info->form = Hash(token);

  // Shapes and flags from the original form.
  char shape[33];
  char short_shape[33];
  size_t shape_len = 0, short_len = 0, run = 0;
  char last = 0;
  uint32_t flags = 0;
  size_t n_upper = 0, n_lower = 0, n_digit = 0, n_letter = 0, n_cp = 0;
  bool first_upper = false, inner_upper = false;
  size_t pos = 0;
  while (pos < token.size()) {
    const int32_t cp = Next(token, &pos);
    const CharClass cls = cp < 0 ? CharClass::kOther : Classify(cp);
    char ch;
    switch (cls) {
      case CharClass::kUpper:
        ch = 'X';
        ++n_upper;
        ++n_letter;
        if (n_cp == 0)
          first_upper = true;
        else
          inner_upper = true;
        break;
      case CharClass::kLower:
        ch = 'x';
        ++n_lower;
        ++n_letter;
        break;
      case CharClass::kOtherLetter:
        ch = 'o';
        ++n_letter;
        break;
      case CharClass::kDigit:
        ch = 'd';
        ++n_digit;
        break;
      default:
        ch = (cp > 0x20 && cp < 0x7f) ? static_cast<char>(cp) : '*';
        if (cp == '-') flags |= kHasHyphen;
        if (cp == '.') flags |= kHasPeriod;
        break;
    }
    ++n_cp;
    if (ch == last) {
      ++run;
    } else {
      run = 1;
      last = ch;
      if (short_len < 32) short_shape[short_len++] = ch;
    }
    if (run <= 4 && shape_len < 32) shape[shape_len++] = ch;
  }
  info->shape = Hash(std::string_view(shape, shape_len));
  info->short_shape = Hash(std::string_view(short_shape, short_len));
  if (first_upper) flags |= kInitCap;
  if (n_upper > 0 && n_lower == 0) flags |= kAllCaps;
  if (n_lower > 0 && n_upper == 0) flags |= kAllLower;
  if (n_digit) flags |= kHasDigit;
  if (n_digit == n_cp && n_cp) flags |= kAllDigit;
  if (n_letter) flags |= kHasAlpha;
  if (n_letter == 0 && n_digit == 0) flags |= kPunctOnly;
  if (inner_upper && n_lower) flags |= kInnerCap;
  info->flags = flags;
  info->length_bucket =
      n_cp <= 3 ? static_cast<uint32_t>(n_cp) : (n_cp <= 6 ? 4 : (n_cp <= 10 ? 5 : 6));

  // Prefixes and suffixes of the lower-cased form, in code points.
  size_t cut[5];  // byte offsets after the first 1..5 code points
  size_t ncut = 0;
  pos = 0;
  while (pos < lower.size() && ncut < 5) {
    Next(lower, &pos);
    cut[ncut++] = pos;
  }
  for (size_t k = 0; k < 5; ++k) info->prefix[k] = k < ncut ? Hash(lower.substr(0, cut[k])) : 0;
  // Suffix starts: walk back over continuation bytes.
  size_t end = lower.size(), start = end;
  for (size_t k = 0; k < 5; ++k) {
    if (start == 0) {
      info->suffix[k] = 0;
      continue;
    }
    --start;
    while (start > 0 && (static_cast<unsigned char>(lower[start]) & 0xC0) == 0x80) --start;
    info->suffix[k] = Hash(lower.substr(start, end - start));
  }
  info->cap_class = lexicon_ ? lexicon_->Lookup(info->lower) : 0;
  info->gaz = gazetteer_ ? gazetteer_->Lookup(info->lower) : 0;
  info->is_quote = token == "\"" || token == "\u00ab" || token == "\u00bb" || token == "\u201c" ||
                   token == "\u201d" || token == "'";
  info->n_gazetteer = 0;
  info->in_quotes = 0;
}

void FeatureExtractor::AnalyzeSentence(TokenInfo* infos, size_t n,
                                       const EntityLexicon* lexicon) const {
  uint32_t quotes = 0;
  for (size_t i = 0; i < n; ++i) {
    infos[i].n_gazetteer = 0;
    infos[i].in_quotes = quotes & 1;
    if (infos[i].is_quote) ++quotes;
  }
  if (lexicon == nullptr || lexicon->empty()) return;
  for (size_t s = 0; s < n; ++s) {
    uint64_t h = 0;
    for (size_t len = 1; len <= EntityLexicon::kMaxLength && s + len <= n; ++len) {
      h = EntityLexicon::Extend(h, infos[s + len - 1].form);
      lexicon->ForEach(h, [&](uint8_t type) {
        for (size_t j = s; j < s + len; ++j) {
          TokenInfo& t = infos[j];
          if (t.n_gazetteer >= 4) continue;
          const uint64_t role = j == s ? 1 : 2;
          t.gazetteer[t.n_gazetteer++] =
              (uint64_t{type} << 16) | (role << 8) | std::min<uint64_t>(len, 4);
        }
      });
    }
  }
}

uint64_t EntityLexicon::Extend(uint64_t h, uint64_t form_hash) {
  return SplitMix(h * 0x9E3779B97F4A7C15ull ^ form_hash);
}

void EntityLexicon::Add(const uint64_t* form_hashes, size_t n, uint8_t type) {
  if (n == 0 || n > kMaxLength) return;
  uint64_t h = 0;
  for (size_t i = 0; i < n; ++i) h = Extend(h, form_hashes[i]);
  entries_.emplace_back(h, type);
}

void EntityLexicon::Finish() {
  std::sort(entries_.begin(), entries_.end());
  entries_.erase(std::unique(entries_.begin(), entries_.end()), entries_.end());
  BuildIndex();
}

void EntityLexicon::BuildIndex() {
  mask_ = BuildSortedIndex(
      entries_.size(), [&](size_t i) { return entries_[i].first; }, &index_);
}

void EntityLexicon::Serialize(std::string* out) const {
  std::vector<uint64_t> keys;
  std::vector<uint8_t> types;
  for (const auto& [k, t] : entries_) {
    keys.push_back(k);
    types.push_back(t);
  }
  model::ByteWriter w;
  w.PutVector(keys);
  w.PutVector(types);
  *out = w.Release();
}

Status EntityLexicon::Parse(std::string_view bytes) {
  model::ByteReader r(bytes, "tagger.entities");
  std::vector<uint64_t> keys;
  std::vector<uint8_t> types;
  LOTE_RETURN_IF_ERROR(r.GetVector(&keys));
  LOTE_RETURN_IF_ERROR(r.GetVector(&types));
  LOTE_RETURN_IF_ERROR(r.ExpectEnd());
  if (keys.size() != types.size()) return DataLossError("tagger.entities: sizes disagree");
  entries_.clear();
  for (size_t i = 0; i < keys.size(); ++i) entries_.emplace_back(keys[i], types[i]);
  if (!std::is_sorted(entries_.begin(), entries_.end())) {
    return DataLossError("tagger.entities: entries not sorted");
  }
  BuildIndex();
  return Status::Ok();
}

int FeatureExtractor::StaticFeatures(const TokenInfo& t, uint64_t* keys) {
  int k = 0;
  keys[k++] = Key(0, 0);
  keys[k++] = Key(1, t.lower);
  keys[k++] = Key(2, t.form);
  for (int j = 0; j < 4; ++j) {
    if (t.prefix[j]) keys[k++] = Key(9 + j, t.prefix[j]);
    if (t.suffix[j]) keys[k++] = Key(13 + j, t.suffix[j]);
  }
  keys[k++] = Key(17, t.shape);
  keys[k++] = Key(18, t.short_shape);
  keys[k++] = Key(24, t.flags);
  keys[k++] = Key(32, t.cap_class);
  keys[k++] = Key(38, t.length_bucket, t.flags & (kInitCap | kAllCaps | kHasDigit));
  if (t.prefix[4]) keys[k++] = Key(51, t.prefix[4]);
  if (t.suffix[4]) keys[k++] = Key(52, t.suffix[4]);
  keys[k++] = Key(53, t.gaz);
  return k;
}

int FeatureExtractor::Features(const TokenInfo* infos, size_t n, size_t i, uint64_t* keys,
                               bool with_static) const {
  const TokenInfo& t = infos[i];
  auto lower_at = [&](ptrdiff_t j) -> uint64_t {
    if (j < 0) return j == -1 ? kBos1 : kBos2;
    if (static_cast<size_t>(j) >= n) return static_cast<size_t>(j) == n ? kEos1 : kEos2;
    return infos[j].lower;
  };
  auto short_at = [&](ptrdiff_t j) -> uint64_t {
    if (j < 0) return j == -1 ? kBos1 : kBos2;
    if (static_cast<size_t>(j) >= n) return static_cast<size_t>(j) == n ? kEos1 : kEos2;
    return infos[j].short_shape;
  };
  auto suffix3_at = [&](ptrdiff_t j) -> uint64_t {
    if (j < 0) return kBos1;
    if (static_cast<size_t>(j) >= n) return kEos1;
    return infos[j].suffix[2] ? infos[j].suffix[2] : infos[j].lower;
  };
  auto cap_at = [&](ptrdiff_t j) -> uint64_t {
    if (j < 0 || static_cast<size_t>(j) >= n) return 99;
    return infos[j].cap_class;
  };
  const ptrdiff_t p = static_cast<ptrdiff_t>(i);
  const uint64_t position = i == 0 ? 1 : (i + 1 == n ? 2 : 0);
  int k = 0;
  if (with_static) {
    keys[k++] = Key(0, 0);
    keys[k++] = Key(1, t.lower);
    keys[k++] = Key(2, t.form);
  }
  keys[k++] = Key(3, lower_at(p - 1));
  keys[k++] = Key(4, lower_at(p + 1));
  keys[k++] = Key(5, lower_at(p - 2));
  keys[k++] = Key(6, lower_at(p + 2));
  keys[k++] = Key(7, lower_at(p - 1), t.lower);
  keys[k++] = Key(8, t.lower, lower_at(p + 1));
  if (with_static) {
    for (int j = 0; j < 4; ++j) {
      if (t.prefix[j]) keys[k++] = Key(9 + j, t.prefix[j]);
      if (t.suffix[j]) keys[k++] = Key(13 + j, t.suffix[j]);
    }
    keys[k++] = Key(17, t.shape);
    keys[k++] = Key(18, t.short_shape);
  }
  keys[k++] = Key(19, short_at(p - 1));
  keys[k++] = Key(20, short_at(p + 1));
  keys[k++] = Key(21, short_at(p - 1), t.short_shape);
  keys[k++] = Key(22, t.short_shape, short_at(p + 1));
  keys[k++] = Key(23, short_at(p - 1), t.short_shape, short_at(p + 1));
  if (with_static) keys[k++] = Key(24, t.flags);
  keys[k++] = Key(25, t.flags, position);
  keys[k++] = Key(26, suffix3_at(p - 1));
  keys[k++] = Key(27, suffix3_at(p + 1));
  keys[k++] = Key(28, lower_at(p - 1), t.short_shape);
  keys[k++] = Key(29, t.short_shape, lower_at(p + 1));
  keys[k++] = Key(30, t.cap_class, t.flags & (kInitCap | kAllCaps), position);
  keys[k++] = Key(31, cap_at(p - 1), cap_at(p + 1));
  if (with_static) keys[k++] = Key(32, t.cap_class);
  keys[k++] = Key(33, position);
  keys[k++] = Key(34, short_at(p - 2));
  keys[k++] = Key(35, short_at(p + 2));
  keys[k++] = Key(36, lower_at(p - 2), lower_at(p - 1));
  keys[k++] = Key(37, lower_at(p + 1), lower_at(p + 2));
  if (with_static) {
    keys[k++] = Key(38, t.length_bucket, t.flags & (kInitCap | kAllCaps | kHasDigit));
  }
  for (uint32_t g = 0; g < t.n_gazetteer; ++g) keys[k++] = Key(39, t.gazetteer[g]);
  if (t.n_gazetteer == 0) keys[k++] = Key(40, 0);
  keys[k++] = Key(41, t.in_quotes, t.flags & kInitCap);
  keys[k++] = Key(42, lower_at(p - 3));
  keys[k++] = Key(43, lower_at(p + 3));
  auto form_at = [&](ptrdiff_t j) -> uint64_t {
    if (j < 0 || static_cast<size_t>(j) >= n) return kBos1;
    return infos[j].form;
  };
  keys[k++] = Key(44, form_at(p - 1));
  keys[k++] = Key(45, form_at(p + 1));
  keys[k++] = Key(46, t.lower, short_at(p - 1));
  keys[k++] = Key(47, t.lower, short_at(p + 1));
  // Feature version 3: 5-code-point prefix and suffix (+0.4 entity F1 on CoNLL-2002 dev).
  if (with_static && t.prefix[4]) keys[k++] = Key(51, t.prefix[4]);
  if (with_static && t.suffix[4]) keys[k++] = Key(52, t.suffix[4]);
  // Feature version 5: word lists from Debian packages (WordGazetteer).
  auto gaz_at = [&](ptrdiff_t j) -> uint64_t {
    if (j < 0 || static_cast<size_t>(j) >= n) return 99;
    return infos[j].gaz;
  };
  if (with_static) keys[k++] = Key(53, t.gaz);
  keys[k++] = Key(54, t.gaz, t.flags & (kInitCap | kAllCaps), position);
  keys[k++] = Key(55, gaz_at(p - 1), t.gaz, gaz_at(p + 1));
  return k;
}

void CapitalizationLexicon::Count(const std::vector<std::string>& tokens, std::string* scratch) {
  // Inside a sentence only: a first word is capitalised whatever it is.
  for (size_t i = 1; i < tokens.size(); ++i) {
    const std::string& tok = tokens[i];
    if (tok.empty()) continue;
    LowerUtf8(tok, scratch);
    size_t pos = 0;
    const int32_t cp = Next(tok, &pos);
    const CharClass cls = cp < 0 ? CharClass::kOther : Classify(cp);
    if (cls != CharClass::kUpper && cls != CharClass::kLower) continue;
    tallies_.push_back({HashWord(*scratch), {cls == CharClass::kUpper ? 1u : 0u, 1u}});
  }
}

void CapitalizationLexicon::Finish() {
  std::sort(tallies_.begin(), tallies_.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<uint64_t> keys;
  std::vector<uint8_t> classes;
  for (size_t i = 0; i < tallies_.size();) {
    size_t j = i;
    Tally t;
    while (j < tallies_.size() && tallies_[j].first == tallies_[i].first) {
      t.capitalised += tallies_[j].second.capitalised;
      t.total += tallies_[j].second.total;
      ++j;
    }
    if (t.total >= 2) {
      const double r = static_cast<double>(t.capitalised) / t.total;
      const uint8_t ratio = r < 0.05 ? 0 : (r < 0.5 ? 1 : (r < 0.95 ? 2 : 3));
      const uint8_t freq = t.total < 5 ? 0 : (t.total < 50 ? 1 : 2);
      keys.push_back(tallies_[i].first);
      classes.push_back(static_cast<uint8_t>(ratio * 3 + freq));
    }
    i = j;
  }
  classes_.Assign(std::move(keys), std::move(classes));
  tallies_.clear();
  tallies_.shrink_to_fit();
}

uint32_t CapitalizationLexicon::Lookup(uint64_t lower_hash) const {
  const uint8_t* c = classes_.Find(lower_hash);
  return c ? 1u + *c : 0u;
}

void CapitalizationLexicon::Serialize(std::string* out) const { classes_.Serialize(out); }

Status CapitalizationLexicon::Parse(std::string_view bytes) {
  return classes_.Parse(bytes, "tagger.lexicon");
}

void WordTable::Assign(std::vector<uint64_t> keys, std::vector<uint8_t> values) {
  keys_ = std::move(keys);
  values_ = std::move(values);
  BuildIndex();
}

void WordTable::BuildIndex() {
  mask_ = BuildSortedIndex(
      keys_.size(), [&](size_t i) { return keys_[i]; }, &slots_);
}

void WordTable::Serialize(std::string* out) const {
  model::ByteWriter w;
  w.PutVector(keys_);
  w.PutVector(values_);
  *out = w.Release();
}

Status WordTable::Parse(std::string_view bytes, const char* section) {
  model::ByteReader r(bytes, section);
  LOTE_RETURN_IF_ERROR(r.GetVector(&keys_));
  LOTE_RETURN_IF_ERROR(r.GetVector(&values_));
  LOTE_RETURN_IF_ERROR(r.ExpectEnd());
  if (keys_.size() != values_.size() ||
      std::adjacent_find(keys_.begin(), keys_.end(), std::greater_equal<uint64_t>()) !=
          keys_.end()) {
    return DataLossError(std::string(section) + ": keys not increasing or sizes disagree");
  }
  BuildIndex();
  return Status::Ok();
}

void FeatureIndex::Rehash(size_t capacity) {
  slots_.assign(capacity, Slot{});
  mask_ = capacity - 1;
  for (uint32_t r = 0; r < keys_.size(); ++r) {
    const uint64_t k = keys_[r] ? keys_[r] : 1;
    size_t pos = static_cast<size_t>(k) & mask_;
    while (slots_[pos].key != 0) pos = (pos + 1) & mask_;
    slots_[pos] = Slot{k, r};
  }
}

void FeatureIndex::Build(const std::vector<uint64_t>& keys) {
  keys_ = keys;
  size_t cap = 16;
  while (cap < keys_.size() * 2) cap <<= 1;
  Rehash(cap);
}

uint32_t FeatureIndex::FindOrInsert(uint64_t key) {
  if (slots_.empty() || (keys_.size() + 1) * 2 > slots_.size()) {
    Rehash(slots_.empty() ? 1024 : slots_.size() * 2);
  }
  const uint64_t k = key ? key : 1;
  size_t pos = static_cast<size_t>(k) & mask_;
  while (true) {
    if (slots_[pos].key == k) return slots_[pos].row;
    if (slots_[pos].key == 0) break;
    pos = (pos + 1) & mask_;
  }
  const uint32_t row = static_cast<uint32_t>(keys_.size());
  keys_.push_back(key);
  slots_[pos] = Slot{k, row};
  return row;
}

void DocWindow::Reset(size_t n_labels) {
  n_labels_ = n_labels;
  if (slots_.empty()) {
    slots_.resize(1024);
    mask_ = slots_.size() - 1;
  } else {
    std::fill(slots_.begin(), slots_.end(), std::pair<uint64_t, uint32_t>(0, 0));
  }
  counts_.clear();
  entries_ = 0;
}

uint32_t DocWindow::Slot(uint64_t lower, bool insert) {
  for (size_t pos = SplitMix(lower) & mask_;; pos = (pos + 1) & mask_) {
    auto& s = slots_[pos];
    if (s.second != 0 && s.first == lower) return s.second - 1;
    if (s.second == 0) {
      if (!insert) return 0xffffffffu;
      if ((entries_ + 1) * 2 > slots_.size()) {
        std::vector<std::pair<uint64_t, uint32_t>> old(slots_.size() * 2);
        old.swap(slots_);
        mask_ = slots_.size() - 1;
        for (const auto& o : old) {
          if (o.second == 0) continue;
          size_t q = SplitMix(o.first) & mask_;
          while (slots_[q].second != 0) q = (q + 1) & mask_;
          slots_[q] = o;
        }
        return Slot(lower, true);
      }
      s.first = lower;
      s.second = static_cast<uint32_t>(++entries_);
      counts_.resize(entries_ * (n_labels_ + 2), 0);
      return static_cast<uint32_t>(entries_ - 1);
    }
  }
}

void DocWindow::Add(const DocToken& t, int sign) {
  if (!t.counted) return;
  const uint32_t e = Slot(t.lower, true);
  int32_t* c = counts_.data() + static_cast<size_t>(e) * (n_labels_ + 2);
  c[t.label] += sign;
  if (t.mid) {
    c[n_labels_] += sign;
    if (t.cap) c[n_labels_ + 1] += sign;
  }
}

int DocWindow::Features(const DocToken& t, uint32_t prev, uint32_t cur, uint32_t next,
                        uint32_t flags, bool first, uint64_t* keys) const {
  int k = 0;
  keys[k++] = Key(100, cur);
  keys[k++] = Key(101, prev, cur);
  keys[k++] = Key(102, cur, next);
  if (!t.counted) return k;
  const uint64_t capflag = (flags & kAllCaps) ? 2 : ((flags & kInitCap) ? 1 : 0);
  uint32_t e = 0xffffffffu;
  for (size_t pos = SplitMix(t.lower) & mask_; !slots_.empty(); pos = (pos + 1) & mask_) {
    const auto& s = slots_[pos];
    if (s.second == 0) break;
    if (s.first == t.lower) {
      e = s.second - 1;
      break;
    }
  }
  if (e == 0xffffffffu) return k;
  const int32_t* c = counts_.data() + static_cast<size_t>(e) * (n_labels_ + 2);
  int32_t total = 0, best_count = -1;
  uint64_t best = 0;
  for (size_t l = 0; l < n_labels_; ++l) {
    const int32_t v = c[l] - (l == t.label ? 1 : 0);
    total += v;
    if (v > best_count) {
      best_count = v;
      best = l;
    }
  }
  if (total <= 0) {
    keys[k++] = Key(103, capflag, first);
  } else {
    const uint64_t share = best_count == total ? 2 : (2 * best_count >= total ? 1 : 0);
    const uint64_t many = total == 1 ? 1 : (total <= 3 ? 2 : 3);
    keys[k++] = Key(104, best, share);
    keys[k++] = Key(105, best, share, capflag * 2 + first);
    keys[k++] = Key(106, best, many);
    keys[k++] = Key(109, best, share, t.label);
    int32_t ent_best_count = 0;
    uint64_t ent_best = 0;
    for (size_t l = 1; l < n_labels_; ++l) {
      const int32_t v = c[l] - (l == t.label ? 1 : 0);
      if (v > ent_best_count) {
        ent_best_count = v;
        ent_best = l;
      }
    }
    if (ent_best_count > 0) {
      const uint64_t ent_share =
          ent_best_count == total ? 3 : (2 * ent_best_count >= total ? 2 : 1);
      keys[k++] = Key(110, ent_best, ent_share, capflag);
    }
    int extra = 0;
    for (size_t l = 1; l < n_labels_ && extra < 4; ++l) {
      const int32_t v = c[l] - (l == t.label ? 1 : 0);
      if (v > 0 && l != best) {
        keys[k++] = Key(107, l, capflag);
        ++extra;
      }
    }
  }
  const int32_t mid = c[n_labels_] - t.mid;
  const int32_t capm = c[n_labels_ + 1] - (t.mid && t.cap ? 1 : 0);
  if (mid > 0) {
    const uint64_t b = capm == mid ? 2 : (capm > 0 ? 1 : 0);
    keys[k++] = Key(108, b, first, capflag);
  }
  return k;
}

}  // namespace lote::extract::internal
