#include "lote/extract/tagger.h"

#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <map>
#include <new>
#include <nlohmann/json.hpp>

#include "lote/base/digest.h"
#include "lote/model/bytes.h"
#include "lote/text/utf8.h"
#include "tagger_features.h"
#include "tagger_gazetteer.h"

namespace lote::extract {

namespace {

// Section format versions; a reader refuses versions it does not know (bump on any change).
constexpr uint32_t kConfigFormat = 1;
constexpr uint32_t kWeightsFormat = 1;
constexpr float kForbidden = -1e30f;
constexpr int kQuantMax = 32767;
constexpr size_t kLexiconFolds = 10;
constexpr uint32_t kDocFormat = 1;
// Documents shorter than this are tagged by the first pass alone: the second pass learned from
// full windows, and on 2-5 sentence documents it scored below the first pass (dev1/dev2 of
// esp.testa cut into chunks), at 20 it was on par or above.
constexpr size_t kMinDocSentences = 20;

// Allocator for the inline weight table: tables of 2 MiB or more are 2 MiB-aligned and marked
// MADV_HUGEPAGE, so that random probes over several MB of slots do not miss the TLB on nearly
// every access (Linux's transparent huge pages are often in madvise-only mode). Smaller tables
// use operator new.
template <typename T>
struct HugePageAllocator {
  using value_type = T;
  static constexpr size_t kHuge = size_t{2} << 20;
  HugePageAllocator() = default;
  template <typename U>
  HugePageAllocator(const HugePageAllocator<U>&) {}  // NOLINT: allocator rebind
  static size_t Rounded(size_t n) { return (n * sizeof(T) + kHuge - 1) / kHuge * kHuge; }
  T* allocate(size_t n) {
    if (n * sizeof(T) < kHuge) return static_cast<T*>(::operator new(n * sizeof(T)));
    void* p = std::aligned_alloc(kHuge, Rounded(n));
    if (p == nullptr) throw std::bad_alloc();
#ifdef MADV_HUGEPAGE
    (void)::madvise(p, Rounded(n), MADV_HUGEPAGE);  // advisory: small pages if refused
#endif
    return static_cast<T*>(p);
  }
  void deallocate(T* p, size_t n) {
    if (n * sizeof(T) < kHuge) {
      ::operator delete(p);
    } else {
      std::free(p);
    }
  }
  friend bool operator==(const HugePageAllocator&, const HugePageAllocator&) { return true; }
};
// Models with at most this many tags (O + B/I for up to 5 types, as CoNLL's 9) keep each
// feature's int16 weight steps next to its key in one 32-byte slot (InlineSlot).
constexpr size_t kInlineTags = 12;

uint64_t SplitMix64(uint64_t* state) {
  uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

}  // namespace

struct TaggerState::Buffers {
  std::vector<internal::TokenInfo> infos;
  std::string scratch;
  std::vector<uint64_t> keys;
  std::vector<uint32_t> rows;
  std::vector<float> emis, alpha, beta, margins;
  std::vector<uint16_t> back, path;
  std::vector<std::string_view> views;
  SegmentedText seg;
  // Documents (TagDoc): views of all sentences, sentence offsets into views, their analyses,
  // first-pass tags, and the second pass's window and keys.
  std::vector<uint32_t> sent_off;
  std::vector<internal::TokenInfo> all_infos;
  std::vector<uint16_t> tags1;
  std::vector<internal::DocToken> dtoks;
  std::vector<uint32_t> flags;
  internal::DocWindow window;
  std::vector<uint64_t> dkeys;
  std::vector<uint32_t> doff;
  // Per-form sums of a model's static feature weights (FeatureExtractor::StaticFeatures; inline
  // models only), since most tokens of a text are forms seen before. One cache per pass, keyed
  // by the model's uid: a state used with another model (or with a model allocated where a freed
  // one was) starts afresh.
  struct FormCache {
    struct Entry {
      uint64_t form = 0;  // 0 = empty
      int32_t acc[kInlineTags];
    };
    uint64_t model = 0;
    size_t used = 0;
    std::vector<Entry> slots;
    void Reset(uint64_t uid) {
      model = uid;
      used = 0;
      slots.assign(size_t{1} << 15, Entry{});
    }
  };
  FormCache form_cache[2];
  int form_cache_next = 0;  // the one to reset next
  FormCache* CacheFor(uint64_t uid) {
    for (FormCache& c : form_cache) {
      if (c.model == uid) return &c;
    }
    FormCache* c = &form_cache[form_cache_next];
    form_cache_next ^= 1;
    c->Reset(uid);
    return c;
  }
};

uint64_t NextModelUid() {
  static std::atomic<uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

TaggerState::TaggerState() : b_(std::make_unique<Buffers>()) {}
TaggerState::~TaggerState() = default;
TaggerState::TaggerState(TaggerState&&) noexcept = default;
TaggerState& TaggerState::operator=(TaggerState&&) noexcept = default;

struct EntityTagger::Model {
  const uint64_t uid = NextModelUid();  // tells TaggerState's form caches apart
  std::string name;
  std::vector<std::string> tags;  // tags[0] == "O", then B-X, I-X per type (sorted)
  std::vector<std::string> types;
  std::vector<int> tag_type;  // -1 for O
  std::vector<uint8_t> tag_is_begin;
  std::vector<float> trans;   // (T + 1) x T: row T is the start of a sentence
  std::vector<float> masked;  // trans with forbidden IOB2 transitions at kForbidden
  internal::CapitalizationLexicon lexicon;
  internal::WordGazetteer gazetteer;
  internal::EntityLexicon entities;
  internal::FeatureIndex index;
  std::vector<float> weights;  // rows x T
  float scale = 0;             // quantisation step of weights
  // Inference copy of index + weights for models with at most kInlineTags tags: open addressing
  // over slots that hold the key and the row's int16 steps together, so a feature costs one
  // cache line instead of a slot and a row; sums are exact in int32 and scaled once per token.
  struct InlineSlot {
    uint64_t key = 0;  // 0 = empty; key 0 is stored as 1 (as FeatureIndex does)
    int16_t w[kInlineTags] = {};
  };
  static_assert(sizeof(InlineSlot) == 32);
  std::vector<InlineSlot, HugePageAllocator<InlineSlot>> inline_slots;
  size_t inline_mask = 0;
  std::vector<uint64_t> inline_keys;  // keys by row (index and weights are freed)
  bool UsesInline() const { return T() <= kInlineTags && scale > 0; }
  // Moves index + weights into the inline table when UsesInline().
  void BuildInline();
  void InitInline(std::vector<uint64_t> keys);  // empty slots for these keys
  InlineSlot* InsertInline(uint64_t key);       // nullptr when the key is already there
  const InlineSlot* FindInline(uint64_t key) const;
  // acc[t] += the int16 steps of each of keys[0..k) found in the inline table (keys of 0 become
  // 1, as stored).
  void SumInline(uint64_t* keys, int k, int32_t* acc) const;
  size_t rows() const { return inline_slots.empty() ? index.size() : inline_keys.size(); }
  float margin_scale = 1;
  std::string meta_json;
  std::string version_id;
  text::Tokenizer tokenizer;
  // Second pass (two-pass models): its own weights over the same token analysis plus the
  // document features, trained with first-pass tags from jackknifed models.
  std::unique_ptr<Model> doc;
  uint32_t doc_window = 0;

  size_t T() const { return tags.size(); }

  Status SetTags(std::vector<std::string> tag_names);
  void BuildMask();
  // Emission scores of a sentence of analysed tokens into b->emis (n x T); extra keys of token
  // i (second pass) are extra[extra_off[i] .. extra_off[i + 1]) when extra is not null.
  void Emissions(const internal::TokenInfo* infos, size_t n, TaggerState::Buffers* b,
                 const uint64_t* extra, const uint32_t* extra_off) const;
  // Tags the document in b->views / b->sent_off; calls emit(sentence, offset, n) with the final
  // path (and margins) of each sentence in b->path / b->margins.
  template <typename F>
  void TagDoc(TaggerState::Buffers* b, bool margins, F&& emit) const;
  // Viterbi best path into b->path; with margins, b->margins[i] is the max-marginal margin of
  // token i's tag.
  void Decode(size_t n, const float* emis, const float* trans_masked, TaggerState::Buffers* b,
              bool margins) const;
  void TagViews(std::span<const std::string_view> tokens, TaggerState::Buffers* b,
                bool margins) const;
  static std::string WriteWeights(const Model& m);
  // Reads a weights section into index / weights / scale / trans (tags already set).
  Status ParseWeights(std::string_view bytes, const char* what);
};

Status EntityTagger::Model::SetTags(std::vector<std::string> tag_names) {
  if (tag_names.empty() || tag_names[0] != "O") {
    return DataLossError("tagger.tags: the first tag must be O");
  }
  if (tag_names.size() > 255) return DataLossError("tagger.tags: more than 255 tags");
  tags = std::move(tag_names);
  types.clear();
  tag_type.assign(tags.size(), -1);
  tag_is_begin.assign(tags.size(), 0);
  std::map<std::string, int> type_ids;
  for (size_t t = 1; t < tags.size(); ++t) {
    const ParsedTag p = ParseTag(tags[t]);
    if (p.prefix != 'B' && p.prefix != 'I') {
      return DataLossError("tagger.tags: tag " + std::to_string(t) + " is not B-X or I-X");
    }
    auto [it, inserted] = type_ids.emplace(std::string(p.type), 0);
    if (inserted) types.emplace_back(p.type);
    tag_is_begin[t] = p.prefix == 'B';
  }
  std::sort(types.begin(), types.end());
  for (size_t i = 0; i < types.size(); ++i) type_ids[types[i]] = static_cast<int>(i);
  for (size_t t = 1; t < tags.size(); ++t)
    tag_type[t] = type_ids[std::string(ParseTag(tags[t]).type)];
  return Status::Ok();
}

void EntityTagger::Model::BuildMask() {
  const size_t n = T();
  masked.assign((n + 1) * n, 0.0f);
  for (size_t p = 0; p <= n; ++p) {
    for (size_t t = 0; t < n; ++t) {
      // IOB2: I-X only after B-X or I-X; never at the start.
      bool ok = true;
      if (t > 0 && !tag_is_begin[t]) ok = p < n && p > 0 && tag_type[p] == tag_type[t];
      masked[p * n + t] = ok ? trans[p * n + t] : kForbidden;
    }
  }
}

void EntityTagger::Model::InitInline(std::vector<uint64_t> keys) {
  size_t cap = 16;
  while (cap < keys.size() + keys.size() / 2) cap *= 2;  // load factor at most 2/3
  inline_slots.assign(cap, InlineSlot{});
  inline_mask = cap - 1;
  inline_keys = std::move(keys);
}

EntityTagger::Model::InlineSlot* EntityTagger::Model::InsertInline(uint64_t key) {
  const uint64_t k = key ? key : 1;
  size_t pos = static_cast<size_t>(k) & inline_mask;
  for (; inline_slots[pos].key != 0; pos = (pos + 1) & inline_mask) {
    if (inline_slots[pos].key == k) return nullptr;
  }
  inline_slots[pos].key = k;
  return &inline_slots[pos];
}

void EntityTagger::Model::BuildInline() {
  if (!UsesInline()) return;
  const size_t nt = T();
  InitInline(index.keys());
  for (size_t r = 0; r < inline_keys.size(); ++r) {
    InlineSlot* s = InsertInline(inline_keys[r]);
    for (size_t t = 0; t < nt; ++t)
      s->w[t] = static_cast<int16_t>(std::lround(weights[r * nt + t] / scale));
  }
  index = internal::FeatureIndex();
  weights = {};
}

const EntityTagger::Model::InlineSlot* EntityTagger::Model::FindInline(uint64_t key) const {
  const uint64_t k = key ? key : 1;
  for (size_t pos = static_cast<size_t>(k) & inline_mask;; pos = (pos + 1) & inline_mask) {
    const InlineSlot& s = inline_slots[pos];
    if (s.key == k) return &s;
    if (s.key == 0) return nullptr;
  }
}

void EntityTagger::Model::SumInline(uint64_t* keys, int k, int32_t* acc) const {
  // Touch every key's home slot first (independent misses the CPU overlaps), then probe.
  const InlineSlot* slots = inline_slots.data();
  for (int j = 0; j < k; ++j) {
    if (keys[j] == 0) keys[j] = 1;
    __builtin_prefetch(slots + (static_cast<size_t>(keys[j]) & inline_mask));
  }
  for (int j = 0; j < k; ++j) {
    const uint64_t key = keys[j];
    for (size_t pos = static_cast<size_t>(key) & inline_mask;; pos = (pos + 1) & inline_mask) {
      const InlineSlot& s = slots[pos];
      if (s.key == key) {
        for (size_t t = 0; t < kInlineTags; ++t) acc[t] += s.w[t];
        break;
      }
      if (s.key == 0) break;
    }
  }
}

void EntityTagger::Model::Emissions(const internal::TokenInfo* infos, size_t n,
                                    TaggerState::Buffers* b, const uint64_t* extra,
                                    const uint32_t* extra_off) const {
  const size_t nt = T();
  internal::FeatureExtractor fx(&lexicon, &gazetteer);
  b->emis.assign(n * nt, 0.0f);
  b->keys.resize(internal::kMaxFeatures + internal::kMaxDocFeatures);
  b->rows.resize(internal::kMaxFeatures + internal::kMaxDocFeatures);
  const bool use_inline = !inline_slots.empty();
  TaggerState::Buffers::FormCache* cache = use_inline ? b->CacheFor(uid) : nullptr;
  uint64_t skeys[internal::kMaxFeatures];
  for (size_t i = 0; i < n; ++i) {
    int k = fx.Features(infos, n, i, b->keys.data(), /*with_static=*/!use_inline);
    if (extra) {
      for (uint32_t j = extra_off[i]; j < extra_off[i + 1]; ++j) b->keys[k++] = extra[j];
    }
    if (use_inline) {
      int32_t acc[kInlineTags] = {};
      // The token's own features: from the form cache, or summed once and remembered.
      const uint64_t form = infos[i].form;
      TaggerState::Buffers::FormCache::Entry* entry = nullptr;
      if (form != 0) {
        const size_t mask = cache->slots.size() - 1;
        for (size_t pos = static_cast<size_t>(form) & mask;; pos = (pos + 1) & mask) {
          entry = &cache->slots[pos];
          if (entry->form == form || entry->form == 0) break;
        }
      }
      if (entry != nullptr && entry->form == form) {
        std::copy(entry->acc, entry->acc + kInlineTags, acc);
      } else {
        const int ks = internal::FeatureExtractor::StaticFeatures(infos[i], skeys);
        SumInline(skeys, ks, acc);
        if (entry != nullptr) {
          entry->form = form;
          std::copy(acc, acc + kInlineTags, entry->acc);
          if (++cache->used * 10 > cache->slots.size() * 7) cache->Reset(uid);
        }
      }
      SumInline(b->keys.data(), k, acc);
      float* e = b->emis.data() + i * nt;
      for (size_t t = 0; t < nt; ++t) e[t] = static_cast<float>(acc[t]) * scale;
      continue;
    }
    // Look every key up first, then add the rows: the lookups are independent cache misses
    // the CPU can overlap.
    int m = 0;
    for (int j = 0; j < k; ++j) {
      const uint32_t r = index.Find(b->keys[j]);
      if (r != internal::FeatureIndex::kMissing) {
        b->rows[m++] = r;
        __builtin_prefetch(weights.data() + static_cast<size_t>(r) * nt);
      }
    }
    float* e = b->emis.data() + i * nt;
    for (int j = 0; j < m; ++j) {
      const float* w = weights.data() + static_cast<size_t>(b->rows[j]) * nt;
      for (size_t t = 0; t < nt; ++t) e[t] += w[t];
    }
  }
}

void EntityTagger::Model::Decode(size_t n, const float* emis, const float* tm,
                                 TaggerState::Buffers* b, bool margins) const {
  const size_t nt = T();
  b->path.resize(n);
  if (n == 0) return;
  b->alpha.resize(n * nt);
  b->back.resize(n * nt);
  float* alpha = b->alpha.data();
  const float* start = tm + nt * nt;
  for (size_t t = 0; t < nt; ++t) alpha[t] = emis[t] + start[t];
  for (size_t i = 1; i < n; ++i) {
    const float* prev = alpha + (i - 1) * nt;
    float* cur = alpha + i * nt;
    uint16_t* bp = b->back.data() + i * nt;
    for (size_t t = 0; t < nt; ++t) {
      float best = -std::numeric_limits<float>::infinity();
      uint16_t arg = 0;
      for (size_t p = 0; p < nt; ++p) {
        const float s = prev[p] + tm[p * nt + t];
        if (s > best) {
          best = s;
          arg = static_cast<uint16_t>(p);
        }
      }
      cur[t] = best + emis[i * nt + t];
      bp[t] = arg;
    }
  }
  const float* last = alpha + (n - 1) * nt;
  uint16_t arg = 0;
  for (size_t t = 1; t < nt; ++t) {
    if (last[t] > last[arg]) arg = static_cast<uint16_t>(t);
  }
  b->path[n - 1] = arg;
  for (size_t i = n - 1; i > 0; --i) b->path[i - 1] = b->back[i * nt + b->path[i]];
  if (!margins) return;

  // Max-marginals: alpha (best prefix ending in t) + beta (best suffix after t). The margin of
  // token i is how much worse the best path with any other tag at i scores.
  b->beta.assign(n * nt, 0.0f);
  float* beta = b->beta.data();
  for (size_t i = n - 1; i > 0; --i) {
    const float* nb = beta + i * nt;
    const float* ne = emis + i * nt;
    float* cb = beta + (i - 1) * nt;
    for (size_t p = 0; p < nt; ++p) {
      float best = -std::numeric_limits<float>::infinity();
      for (size_t t = 0; t < nt; ++t) best = std::max(best, tm[p * nt + t] + ne[t] + nb[t]);
      cb[p] = best;
    }
  }
  b->margins.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const uint16_t y = b->path[i];
    const float chosen = alpha[i * nt + y] + beta[i * nt + y];
    float other = -std::numeric_limits<float>::infinity();
    for (size_t t = 0; t < nt; ++t) {
      if (t != y) other = std::max(other, alpha[i * nt + t] + beta[i * nt + t]);
    }
    b->margins[i] = std::max(0.0f, other <= kForbidden / 2 ? 1e6f : chosen - other);
  }
}

namespace {

// Second-pass keys of every sentence of a document: for sentence s, the window holds the
// sentences [s - window, s + window]. Calls f(s) with b->dkeys / b->doff filled.
template <typename F>
void ForEachDocSentence(const std::vector<internal::DocToken>& dtoks,
                        const std::vector<uint32_t>& flags, const uint16_t* tags1,
                        const std::vector<uint32_t>& sent_off, size_t nt, size_t n_labels,
                        size_t window, internal::DocWindow* win, std::vector<uint64_t>* dkeys,
                        std::vector<uint32_t>* doff, F&& f) {
  const size_t S = sent_off.size() - 1;
  win->Reset(n_labels);
  size_t added = 0, removed = 0;
  uint64_t keys[internal::kMaxDocFeatures];
  for (size_t s = 0; s < S; ++s) {
    for (; added < S && added <= s + window; ++added) {
      for (uint32_t u = sent_off[added]; u < sent_off[added + 1]; ++u) win->Add(dtoks[u], 1);
    }
    for (; removed + window < s; ++removed) {
      for (uint32_t u = sent_off[removed]; u < sent_off[removed + 1]; ++u) win->Add(dtoks[u], -1);
    }
    const uint32_t off = sent_off[s], n = sent_off[s + 1] - off;
    dkeys->clear();
    doff->assign(1, 0);
    for (uint32_t i = 0; i < n; ++i) {
      const uint32_t prev = i > 0 ? tags1[off + i - 1] : static_cast<uint32_t>(nt);
      const uint32_t next = i + 1 < n ? tags1[off + i + 1] : static_cast<uint32_t>(nt);
      const int k =
          win->Features(dtoks[off + i], prev, tags1[off + i], next, flags[off + i], i == 0, keys);
      dkeys->insert(dkeys->end(), keys, keys + k);
      doff->push_back(static_cast<uint32_t>(dkeys->size()));
    }
    f(s);
  }
}

internal::DocToken MakeDocToken(const internal::TokenInfo& info, uint32_t i, uint16_t label) {
  internal::DocToken d;
  d.lower = info.lower;
  d.label = label;
  d.counted = (info.flags & internal::kHasAlpha) ? 1 : 0;
  d.mid = i > 0 ? 1 : 0;
  d.cap = (info.flags & internal::kInitCap) ? 1 : 0;
  return d;
}

}  // namespace

template <typename F>
void EntityTagger::Model::TagDoc(TaggerState::Buffers* b, bool margins, F&& emit) const {
  const size_t S = b->sent_off.size() - 1;
  const size_t N = b->sent_off[S];
  internal::FeatureExtractor fx(&lexicon, &gazetteer);
  b->all_infos.resize(N);
  for (size_t u = 0; u < N; ++u) fx.Analyze(b->views[u], &b->all_infos[u], &b->scratch);
  b->tags1.resize(N);
  const Model* second = S >= kMinDocSentences ? doc.get() : nullptr;
  for (size_t s = 0; s < S; ++s) {
    const uint32_t off = b->sent_off[s], n = b->sent_off[s + 1] - off;
    internal::TokenInfo* infos = b->all_infos.data() + off;
    fx.AnalyzeSentence(infos, n, &entities);
    Emissions(infos, n, b, nullptr, nullptr);
    Decode(n, b->emis.data(), masked.data(), b, margins && !second);
    if (!second) {
      emit(s, off, n);
    } else {
      std::copy(b->path.begin(), b->path.begin() + n, b->tags1.begin() + off);
    }
  }
  if (!second) return;
  b->dtoks.resize(N);
  b->flags.resize(N);
  for (size_t s = 0; s < S; ++s) {
    for (uint32_t u = b->sent_off[s]; u < b->sent_off[s + 1]; ++u) {
      const uint16_t y = b->tags1[u];
      b->dtoks[u] = MakeDocToken(b->all_infos[u], u - b->sent_off[s],
                                 y == 0 ? 0 : static_cast<uint16_t>(1 + tag_type[y]));
      b->flags[u] = b->all_infos[u].flags;
    }
  }
  ForEachDocSentence(b->dtoks, b->flags, b->tags1.data(), b->sent_off, T(), types.size() + 1,
                     doc_window, &b->window, &b->dkeys, &b->doff, [&](size_t s) {
                       const uint32_t off = b->sent_off[s], n = b->sent_off[s + 1] - off;
                       doc->Emissions(b->all_infos.data() + off, n, b, b->dkeys.data(),
                                      b->doff.data());
                       doc->Decode(n, b->emis.data(), doc->masked.data(), b, margins);
                       emit(s, off, n);
                     });
}

void EntityTagger::Model::TagViews(std::span<const std::string_view> tokens,
                                   TaggerState::Buffers* b, bool margins) const {
  // One sentence: below kMinDocSentences, so the first pass alone.
  const size_t n = tokens.size();
  internal::FeatureExtractor fx(&lexicon, &gazetteer);
  b->infos.resize(n);
  for (size_t i = 0; i < n; ++i) fx.Analyze(tokens[i], &b->infos[i], &b->scratch);
  fx.AnalyzeSentence(b->infos.data(), n, &entities);
  Emissions(b->infos.data(), n, b, nullptr, nullptr);
  Decode(n, b->emis.data(), masked.data(), b, margins);
}

EntityTagger::EntityTagger(std::unique_ptr<Model> model) : m_(std::move(model)) {}
EntityTagger::EntityTagger(EntityTagger&&) noexcept = default;
EntityTagger& EntityTagger::operator=(EntityTagger&&) noexcept = default;
EntityTagger::~EntityTagger() = default;

const std::vector<std::string>& EntityTagger::tag_names() const { return m_->tags; }
const std::vector<std::string>& EntityTagger::entity_types() const { return m_->types; }
const std::string& EntityTagger::meta_json() const { return m_->meta_json; }
const std::string& EntityTagger::version_id() const { return m_->version_id; }
int EntityTagger::doc_window() const { return m_->doc ? static_cast<int>(m_->doc_window) : 0; }

void EntityTagger::TagTokens(std::span<const std::string_view> tokens, TaggerState* state,
                             std::vector<uint16_t>* tags) const {
  m_->TagViews(tokens, state->b_.get(), false);
  tags->assign(state->b_->path.begin(), state->b_->path.begin() + tokens.size());
}

std::vector<std::string> EntityTagger::Tag(const std::vector<std::string>& tokens,
                                           TaggerState* state) const {
  auto& views = state->b_->views;
  views.assign(tokens.begin(), tokens.end());
  m_->TagViews(views, state->b_.get(), false);
  std::vector<std::string> out;
  out.reserve(tokens.size());
  for (size_t i = 0; i < tokens.size(); ++i) out.push_back(m_->tags[state->b_->path[i]]);
  return out;
}

std::vector<std::vector<std::string>> EntityTagger::TagDocument(
    const std::vector<std::vector<std::string>>& sentences, TaggerState* state) const {
  TaggerState::Buffers* b = state->b_.get();
  std::vector<std::vector<std::string>> out(sentences.size());
  if (sentences.empty()) return out;
  b->views.clear();
  b->sent_off.assign(1, 0);
  for (const auto& s : sentences) {
    b->views.insert(b->views.end(), s.begin(), s.end());
    b->sent_off.push_back(static_cast<uint32_t>(b->views.size()));
  }
  m_->TagDoc(b, false, [&](size_t s, uint32_t, uint32_t n) {
    out[s].reserve(n);
    for (uint32_t i = 0; i < n; ++i) out[s].push_back(m_->tags[b->path[i]]);
  });
  return out;
}

Result<std::vector<Entity>> EntityTagger::Extract(std::string_view text, TaggerState* state) const {
  const size_t bad = text::FindInvalidUtf8(text);
  if (bad != std::string_view::npos) {
    return InvalidArgumentError("tagger: invalid UTF-8 at byte " + std::to_string(bad));
  }
  TaggerState::Buffers* b = state->b_.get();
  SegmentText(text, m_->tokenizer, {}, {}, &b->seg);
  std::vector<Entity> out;
  const auto& toks = b->seg.tokens;
  const auto& starts = b->seg.sentence_starts;
  if (starts.empty()) return out;
  b->views.clear();
  for (const TextToken& t : toks) b->views.push_back(text.substr(t.begin, t.end - t.begin));
  b->sent_off.assign(starts.begin(), starts.end());
  b->sent_off.push_back(static_cast<uint32_t>(toks.size()));
  m_->TagDoc(b, true, [&](size_t, uint32_t first, uint32_t n) {
    for (size_t i = 0; i < n;) {
      const uint16_t y = b->path[i];
      if (y == 0) {
        ++i;
        continue;
      }
      size_t j = i + 1;
      float margin = b->margins[i];
      while (j < n && b->path[j] != 0 && !m_->tag_is_begin[b->path[j]] &&
             m_->tag_type[b->path[j]] == m_->tag_type[y]) {
        margin = std::min(margin, b->margins[j]);
        ++j;
      }
      const TextToken& a = toks[first + i];
      const TextToken& z = toks[first + j - 1];
      Entity e;
      e.type = m_->types[m_->tag_type[y]];
      e.start = a.cp_begin;
      e.end = z.cp_end;
      e.text.assign(text.substr(a.begin, z.end - a.begin));
      e.score = margin / (margin + m_->margin_scale);
      e.source = Entity::Source::kModel;
      out.push_back(std::move(e));
      i = j;
    }
  });
  return out;
}

// ---------------------------------------------------------------------------------------------
// Serialization.

namespace {

std::string WriteWeightsImpl(const std::vector<float>& weights, const std::vector<uint64_t>& keys,
                             float scale, const std::vector<float>& trans, size_t nt);

}  // namespace

std::string EntityTagger::Model::WriteWeights(const Model& m) {
  if (m.inline_slots.empty()) {
    return WriteWeightsImpl(m.weights, m.index.keys(), m.scale, m.trans, m.T());
  }
  const size_t nt = m.T();
  std::vector<float> weights(m.inline_keys.size() * nt);
  for (size_t r = 0; r < m.inline_keys.size(); ++r) {
    const InlineSlot* s = m.FindInline(m.inline_keys[r]);
    for (size_t t = 0; t < nt; ++t) weights[r * nt + t] = static_cast<float>(s->w[t]) * m.scale;
  }
  return WriteWeightsImpl(weights, m.inline_keys, m.scale, m.trans, nt);
}

namespace {

std::string WriteWeightsImpl(const std::vector<float>& weights, const std::vector<uint64_t>& keys,
                             float scale, const std::vector<float>& trans, size_t nt) {
  // Rows are stored sparse (tag id + int16 step count per non-zero weight): most features
  // only ever touch a few tags, which keeps models with many types small.
  std::vector<uint8_t> nnz, ids;
  std::vector<int16_t> values;
  const size_t rows = keys.size();
  nnz.reserve(rows);
  for (size_t r = 0; r < rows; ++r) {
    uint8_t c = 0;
    for (size_t t = 0; t < nt; ++t) {
      const float w = weights[r * nt + t];
      if (w != 0.0f) {
        ++c;
        ids.push_back(static_cast<uint8_t>(t));
        values.push_back(static_cast<int16_t>(std::lround(w / scale)));
      }
    }
    nnz.push_back(c);
  }
  model::ByteWriter w;
  w.Put<uint32_t>(kWeightsFormat);
  w.Put<uint32_t>(static_cast<uint32_t>(nt));
  w.PutVector(keys);
  w.Put<float>(scale);
  w.PutVector(nnz);
  w.PutVector(ids);
  w.PutVector(values);
  w.PutVector(trans);
  return w.Release();
}

}  // namespace

model::ModelFile EntityTagger::ToModelFile() const {
  const Model& m = *m_;
  const size_t nt = m.T();
  model::ModelFile file;
  {
    model::ByteWriter w;
    w.Put<uint32_t>(kConfigFormat);
    w.Put<uint32_t>(internal::kFeatureVersion);
    w.Put<uint32_t>(static_cast<uint32_t>(nt));
    w.Put<float>(m.margin_scale);
    file.sections["tagger.config"] = w.Release();
  }
  {
    model::ByteWriter w;
    w.PutStrings(m.tags);
    file.sections["tagger.tags"] = w.Release();
  }
  m.lexicon.Serialize(&file.sections["tagger.lexicon"]);
  m.entities.Serialize(&file.sections["tagger.entities"]);
  m.gazetteer.Serialize(&file.sections["tagger.gazetteer"]);
  file.sections["tagger.weights"] = Model::WriteWeights(m);
  if (m.doc) {
    model::ByteWriter w;
    w.Put<uint32_t>(kDocFormat);
    w.Put<uint32_t>(m.doc_window);
    file.sections["tagger.doc.config"] = w.Release();
    file.sections["tagger.doc.weights"] = Model::WriteWeights(*m.doc);
  }
  file.sections["meta"] = m.meta_json;
  return file;
}

namespace {

Result<std::string_view> Section(const model::ModelFile& file, const std::string& name) {
  auto it = file.sections.find(name);
  if (it == file.sections.end()) return NotFoundError("tagger model: section " + name + " missing");
  return std::string_view(it->second);
}

}  // namespace

Status EntityTagger::Model::ParseWeights(std::string_view bytes, const char* what) {
  const size_t nt = T();

  model::ByteReader r(bytes, what);
  uint32_t wformat = 0, wnt = 0;
  LOTE_RETURN_IF_ERROR(r.Get(&wformat));
  if (wformat != kWeightsFormat) {
    return FailedPreconditionError(std::string(what) + ": format " + std::to_string(wformat) +
                                   " unknown");
  }
  LOTE_RETURN_IF_ERROR(r.Get(&wnt));
  if (wnt != T())
    return DataLossError(std::string(what) + ": tag count disagrees with tagger.config");
  std::vector<uint64_t> keys;
  std::vector<uint8_t> nnz, ids;
  std::vector<int16_t> values;
  LOTE_RETURN_IF_ERROR(r.GetVector(&keys));
  LOTE_RETURN_IF_ERROR(r.Get(&scale));
  LOTE_RETURN_IF_ERROR(r.GetVector(&nnz));
  LOTE_RETURN_IF_ERROR(r.GetVector(&ids));
  LOTE_RETURN_IF_ERROR(r.GetVector(&values));
  LOTE_RETURN_IF_ERROR(r.GetVector(&trans));
  LOTE_RETURN_IF_ERROR(r.ExpectEnd());
  if (nnz.size() != keys.size() || ids.size() != values.size() ||
      trans.size() != (static_cast<size_t>(nt) + 1) * nt || !std::isfinite(scale)) {
    return DataLossError(std::string(what) + ": inconsistent sizes");
  }
  // Straight into the inline table when it applies (no float copy of the weights in between).
  const bool use_inline = UsesInline();
  const size_t rows = keys.size();
  if (use_inline) {
    InitInline(std::move(keys));
  } else {
    weights.assign(rows * nt, 0.0f);
  }
  size_t at = 0;
  for (size_t row = 0; row < rows; ++row) {
    if (ids.size() - at < nnz[row])
      return DataLossError(std::string(what) + ": inconsistent sizes");
    InlineSlot* slot = use_inline ? InsertInline(inline_keys[row]) : nullptr;
    if (use_inline && slot == nullptr) return DataLossError(std::string(what) + ": duplicate keys");
    for (uint8_t c = 0; c < nnz[row]; ++c, ++at) {
      if (ids[at] >= nt) return DataLossError(std::string(what) + ": tag id out of range");
      if (slot) {
        slot->w[ids[at]] = values[at];
      } else {
        weights[row * nt + ids[at]] = static_cast<float>(values[at]) * scale;
      }
    }
  }
  if (at != ids.size()) return DataLossError(std::string(what) + ": inconsistent sizes");
  if (use_inline) return Status::Ok();
  index.Build(keys);
  if (index.size() != keys.size()) return DataLossError(std::string(what) + ": duplicate keys");
  return Status::Ok();
}

Result<EntityTagger> EntityTagger::FromModelFile(const model::ModelFile& file) {
  auto m = std::make_unique<Model>();
  LOTE_ASSIGN_OR_RETURN(std::string_view config, Section(file, "tagger.config"));
  LOTE_ASSIGN_OR_RETURN(std::string_view tags, Section(file, "tagger.tags"));
  LOTE_ASSIGN_OR_RETURN(std::string_view lexicon, Section(file, "tagger.lexicon"));
  LOTE_ASSIGN_OR_RETURN(std::string_view weights, Section(file, "tagger.weights"));
  LOTE_ASSIGN_OR_RETURN(std::string_view entities, Section(file, "tagger.entities"));
  LOTE_ASSIGN_OR_RETURN(std::string_view meta, Section(file, "meta"));

  uint32_t format = 0, feature_version = 0, nt = 0;
  {
    model::ByteReader r(config, "tagger.config");
    LOTE_RETURN_IF_ERROR(r.Get(&format));
    if (format != kConfigFormat) {
      return FailedPreconditionError("tagger.config: format " + std::to_string(format) +
                                     " unknown (this build reads " + std::to_string(kConfigFormat) +
                                     ")");
    }
    LOTE_RETURN_IF_ERROR(r.Get(&feature_version));
    if (feature_version != internal::kFeatureVersion) {
      return FailedPreconditionError(
          "tagger.config: model uses feature version " + std::to_string(feature_version) +
          ", this build computes version " + std::to_string(internal::kFeatureVersion) +
          " (retrain the model)");
    }
    LOTE_RETURN_IF_ERROR(r.Get(&nt));
    LOTE_RETURN_IF_ERROR(r.Get(&m->margin_scale));
    LOTE_RETURN_IF_ERROR(r.ExpectEnd());
    if (!(m->margin_scale > 0)) return DataLossError("tagger.config: bad margin scale");
  }
  {
    model::ByteReader r(tags, "tagger.tags");
    std::vector<std::string> names;
    LOTE_RETURN_IF_ERROR(r.GetStrings(&names));
    LOTE_RETURN_IF_ERROR(r.ExpectEnd());
    LOTE_RETURN_IF_ERROR(m->SetTags(std::move(names)));
    if (m->T() != nt) return DataLossError("tagger.tags: tag count disagrees with tagger.config");
  }
  LOTE_RETURN_IF_ERROR(m->lexicon.Parse(lexicon));
  LOTE_RETURN_IF_ERROR(m->entities.Parse(entities));
  // After the feature version check: older models have no gazetteer section.
  LOTE_ASSIGN_OR_RETURN(std::string_view gazetteer, Section(file, "tagger.gazetteer"));
  LOTE_RETURN_IF_ERROR(m->gazetteer.Parse(gazetteer));
  LOTE_RETURN_IF_ERROR(m->ParseWeights(weights, "tagger.weights"));
  if (file.sections.count("tagger.doc.config")) {
    LOTE_ASSIGN_OR_RETURN(std::string_view dconfig, Section(file, "tagger.doc.config"));
    LOTE_ASSIGN_OR_RETURN(std::string_view dweights, Section(file, "tagger.doc.weights"));
    model::ByteReader r(dconfig, "tagger.doc.config");
    uint32_t dformat = 0;
    LOTE_RETURN_IF_ERROR(r.Get(&dformat));
    if (dformat != kDocFormat) {
      return FailedPreconditionError("tagger.doc.config: format " + std::to_string(dformat) +
                                     " unknown");
    }
    LOTE_RETURN_IF_ERROR(r.Get(&m->doc_window));
    LOTE_RETURN_IF_ERROR(r.ExpectEnd());
    m->doc = std::make_unique<Model>();
    LOTE_RETURN_IF_ERROR(m->doc->SetTags(m->tags));
    LOTE_RETURN_IF_ERROR(m->doc->ParseWeights(dweights, "tagger.doc.weights"));
    m->doc->BuildMask();
  }
  m->BuildMask();
  m->meta_json.assign(meta);
  const nlohmann::json j = nlohmann::json::parse(meta, nullptr, /*allow_exceptions=*/false);
  if (j.is_object()) {
    m->name = j.value("name", std::string("tagger"));
    m->version_id = j.value("version_id", std::string());
  }
  if (m->version_id.empty()) m->version_id = model::VersionId(m->name, file);
  return EntityTagger(std::move(m));
}

// ---------------------------------------------------------------------------------------------
// Training.

namespace {

// A sentence with its features resolved to weight rows.
struct Prepared {
  std::vector<uint32_t> offsets;  // n + 1 offsets into rows
  std::vector<uint32_t> rows;
  std::vector<uint16_t> gold;  // empty for dev sentences
};

Status ValidateTags(const TaggedSequence& s, size_t index, const char* what) {
  if (s.tags.size() != s.tokens.size()) {
    return InvalidArgumentError(std::string(what) + " sentence " + std::to_string(index) + ": " +
                                std::to_string(s.tokens.size()) + " tokens but " +
                                std::to_string(s.tags.size()) + " tags");
  }
  std::string_view prev_type;
  bool prev_open = false;
  for (size_t i = 0; i < s.tags.size(); ++i) {
    const ParsedTag p = ParseTag(s.tags[i]);
    const bool is_o = s.tags[i] == "O";
    if (!is_o && p.prefix != 'B' && p.prefix != 'I') {
      return InvalidArgumentError(std::string(what) + " sentence " + std::to_string(index) +
                                  ": tag " + text::Excerpt(s.tags[i], 20) +
                                  " is not O, B-X or I-X (convert with ToIob2)");
    }
    if (p.prefix == 'I' && (!prev_open || prev_type != p.type)) {
      return InvalidArgumentError(std::string(what) + " sentence " + std::to_string(index) +
                                  ": I- tag at token " + std::to_string(i) +
                                  " does not continue an entity (IOB2 expected; see ToIob2)");
    }
    prev_open = !is_o;
    prev_type = p.type;
  }
  return Status::Ok();
}

}  // namespace

// First-pass tags of the second pass's training sentences (ids in the model's tag space).
struct EntityTagger::WordLists {
  internal::WordGazetteer gazetteer;
  std::vector<internal::GazetteerSource> used;
  std::vector<std::string> missing;
};

struct EntityTagger::DocInput {
  std::vector<std::vector<uint16_t>> tags1;
  uint32_t window = 0;
};

Result<EntityTagger> EntityTagger::Train(const std::vector<TaggedSequence>& train,
                                         const std::vector<TaggedSequence>& dev,
                                         const TaggerTrainOptions& options,
                                         TaggerTrainReport* report) {
  // Word lists from the machine's Debian packages, read once for every model trained below and
  // stored in each (see TaggerTrainOptions::system_gazetteer).
  WordLists lists;
  if (options.system_gazetteer) {
    LOTE_RETURN_IF_ERROR(internal::LoadSystemGazetteer(options.gazetteer_root, &lists.gazetteer,
                                                       &lists.used, &lists.missing));
  }
  lists.gazetteer.Finish();
  if (options.doc_window <= 0) return TrainOne(train, dev, options, report, nullptr, lists);
  const auto t0 = std::chrono::steady_clock::now();
  TaggerTrainOptions one = options;
  one.doc_window = 0;
  TaggerTrainReport rep1;
  LOTE_ASSIGN_OR_RETURN(EntityTagger tagger, TrainOne(train, dev, one, &rep1, nullptr, lists));
  // The second pass trains on what the final first pass trained on.
  std::vector<TaggedSequence> data = train;
  if (!dev.empty() && options.refit_on_dev) data.insert(data.end(), dev.begin(), dev.end());
  TaggerTrainOptions fixed = one;
  fixed.refit_on_dev = false;
  fixed.epochs = dev.empty() ? options.epochs : std::max(1, rep1.epochs);
  Model& m = *tagger.m_;
  std::map<std::string, uint16_t, std::less<>> tag_id;
  for (size_t t = 0; t < m.T(); ++t) tag_id[m.tags[t]] = static_cast<uint16_t>(t);
  DocInput di;
  di.window = static_cast<uint32_t>(options.doc_window);
  di.tags1.resize(data.size());
  const size_t folds =
      std::clamp<size_t>(static_cast<size_t>(std::max(2, options.doc_folds)), 2, data.size());
  TaggerState st;
  for (size_t f = 0; f < folds; ++f) {
    // Contiguous blocks: a fold model has not seen the block's documents at all.
    const size_t lo = data.size() * f / folds, hi = data.size() * (f + 1) / folds;
    std::vector<TaggedSequence> sub(data.begin(), data.begin() + lo);
    sub.insert(sub.end(), data.begin() + hi, data.end());
    if (sub.empty() || lo == hi) continue;
    LOTE_ASSIGN_OR_RETURN(EntityTagger fm, TrainOne(sub, {}, fixed, nullptr, nullptr, lists));
    for (size_t si = lo; si < hi; ++si) {
      const std::vector<std::string> tags = fm.Tag(data[si].tokens, &st);
      auto& out = di.tags1[si];
      out.reserve(tags.size());
      for (const auto& t : tags) {
        auto it = tag_id.find(t);
        out.push_back(it == tag_id.end() ? 0 : it->second);
      }
    }
  }
  TaggerTrainReport rep2;
  LOTE_ASSIGN_OR_RETURN(EntityTagger second, TrainOne(data, {}, fixed, &rep2, &di, lists));
  m.doc = std::move(second.m_);
  m.doc_window = di.window;
  {
    // Margin scale of the two-pass output (median entity-token margin on the training data,
    // read as one document).
    TaggerState::Buffers* b = st.b_.get();
    b->views.clear();
    b->sent_off.assign(1, 0);
    for (const auto& s : data) {
      b->views.insert(b->views.end(), s.tokens.begin(), s.tokens.end());
      b->sent_off.push_back(static_cast<uint32_t>(b->views.size()));
    }
    std::vector<float> margins;
    m.TagDoc(b, true, [&](size_t, uint32_t, uint32_t n) {
      for (uint32_t i = 0; i < n; ++i) {
        if (b->path[i] != 0 && b->margins[i] < 1e5f) margins.push_back(b->margins[i]);
      }
    });
    if (!margins.empty()) {
      std::nth_element(margins.begin(), margins.begin() + margins.size() / 2, margins.end());
      m.margin_scale = std::max(1e-3f, margins[margins.size() / 2]);
    }
  }
  model::ModelFile file = tagger.ToModelFile();
  file.sections.erase("meta");
  m.version_id = model::VersionId(m.name, file);
  auto meta = nlohmann::json::parse(m.meta_json);
  meta["version_id"] = m.version_id;
  meta["model"] = "two-pass averaged structured perceptron, first-order Viterbi, IOB2";
  meta["training"]["doc_window"] = di.window;
  meta["training"]["doc_folds"] = folds;
  meta["training"]["doc_features"] = rep2.features;
  m.meta_json = meta.dump();
  if (report) {
    *report = rep1;
    report->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  return tagger;
}

Result<EntityTagger> EntityTagger::TrainOne(const std::vector<TaggedSequence>& train,
                                            const std::vector<TaggedSequence>& dev,
                                            const TaggerTrainOptions& options,
                                            TaggerTrainReport* report, const DocInput* doc,
                                            const WordLists& lists) {
  const auto t0 = std::chrono::steady_clock::now();
  if (train.empty()) return InvalidArgumentError("tagger: no training sentences");
  if (!dev.empty() && options.refit_on_dev) {
    // Model selection on dev (the epoch count), then a final model on train + dev with that
    // count: 20 % more data for CoNLL-2002-sized sets, same hyperparameters.
    TaggerTrainOptions select = options;
    select.refit_on_dev = false;
    TaggerTrainReport selection;
    LOTE_ASSIGN_OR_RETURN(EntityTagger chosen,
                          TrainOne(train, dev, select, &selection, nullptr, lists));
    (void)chosen;
    std::vector<TaggedSequence> all = train;
    all.insert(all.end(), dev.begin(), dev.end());
    TaggerTrainOptions refit = options;
    refit.refit_on_dev = false;
    refit.epochs = std::max(1, selection.epochs);
    TaggerTrainReport final_report;
    LOTE_ASSIGN_OR_RETURN(EntityTagger tagger,
                          TrainOne(all, {}, refit, &final_report, nullptr, lists));
    {
      // The final model's metadata tells how it was chosen: dev F1 of the selection model.
      auto meta = nlohmann::json::parse(tagger.m_->meta_json);
      meta["training"]["refit_on_dev"] = true;
      meta["training"]["dev_sentences"] = dev.size();
      meta["training"]["dev_entity_f1"] = selection.dev_f1;
      meta["training"]["dev_f1_per_epoch"] = selection.dev_f1_per_epoch;
      tagger.m_->meta_json = meta.dump();
    }
    if (report) {
      *report = final_report;
      report->dev_sentences = dev.size();
      report->dev_f1 = selection.dev_f1;  // of the selection model, on data it did not see
      report->dev_f1_per_epoch = selection.dev_f1_per_epoch;
      report->epochs = selection.epochs;
      report->seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    }
    return tagger;
  }
  for (size_t i = 0; i < train.size(); ++i)
    LOTE_RETURN_IF_ERROR(ValidateTags(train[i], i, "train"));
  for (size_t i = 0; i < dev.size(); ++i) LOTE_RETURN_IF_ERROR(ValidateTags(dev[i], i, "dev"));
  if (options.epochs < 1 || options.max_epochs < 1) {
    return InvalidArgumentError("tagger: epochs must be at least 1");
  }

  auto m = std::make_unique<Model>();
  m->name = options.name;
  {
    std::vector<std::string> types;
    for (const auto& s : train) {
      for (const auto& t : s.tags) {
        if (t != "O") types.emplace_back(ParseTag(t).type);
      }
    }
    std::sort(types.begin(), types.end());
    types.erase(std::unique(types.begin(), types.end()), types.end());
    if (types.size() * 2 + 1 > 255)
      return InvalidArgumentError("tagger: more than 127 entity types");
    std::vector<std::string> names = {"O"};
    for (const auto& t : types) {
      names.push_back("B-" + t);
      names.push_back("I-" + t);
    }
    LOTE_RETURN_IF_ERROR(m->SetTags(std::move(names)));
  }
  const size_t nt = m->T();
  std::map<std::string, uint16_t, std::less<>> tag_id;
  for (size_t t = 0; t < nt; ++t) tag_id[m->tags[t]] = static_cast<uint16_t>(t);

  // Data fingerprint and the capitalisation lexicon (from the training text only).
  Sha256 sha;
  std::string scratch;
  size_t train_tokens = 0;
  for (const auto& s : train) {
    m->lexicon.Count(s.tokens, &scratch);
    train_tokens += s.tokens.size();
    for (size_t i = 0; i < s.tokens.size(); ++i) {
      sha.Update(s.tokens[i]);
      sha.Update("\t", 1);
      sha.Update(s.tags[i]);
      sha.Update("\n", 1);
    }
    sha.Update("\n", 1);
  }
  m->lexicon.Finish();
  m->gazetteer = lists.gazetteer;

  // Feature keys -> rows, in order of first occurrence (deterministic).
  internal::FeatureExtractor fx(&m->lexicon, &m->gazetteer);
  TaggerState state;
  TaggerState::Buffers* b = state.b_.get();
  std::vector<uint64_t> keybuf(internal::kMaxFeatures + internal::kMaxDocFeatures);
  internal::FeatureIndex all;
  std::vector<uint32_t> counts;
  auto analyze = [&](const TaggedSequence& s, const internal::EntityLexicon* entities) {
    b->infos.resize(s.tokens.size());
    for (size_t i = 0; i < s.tokens.size(); ++i) fx.Analyze(s.tokens[i], &b->infos[i], &scratch);
    fx.AnalyzeSentence(b->infos.data(), s.tokens.size(), entities);
  };
  // Entity lexicon: the model keeps one built from all training entities; each training
  // sentence sees one built without its own fold (jackknife), or the weights would learn to
  // trust a lexicon that always contains the answer.
  std::vector<internal::EntityLexicon> folds(kLexiconFolds);
  {
    std::vector<uint64_t> forms;
    for (size_t si = 0; si < train.size(); ++si) {
      const auto& s = train[si];
      analyze(s, nullptr);
      for (const LabeledSpan& e : ChunkTags(s.tags)) {
        const auto type = static_cast<uint8_t>(
            std::lower_bound(m->types.begin(), m->types.end(), e.type) - m->types.begin());
        forms.clear();
        for (uint32_t i = e.start; i < e.end; ++i) forms.push_back(b->infos[i].form);
        m->entities.Add(forms.data(), forms.size(), type);
        for (size_t f = 0; f < folds.size(); ++f) {
          if (f != si % kLexiconFolds) folds[f].Add(forms.data(), forms.size(), type);
        }
      }
    }
    m->entities.Finish();
    for (auto& f : folds) f.Finish();
  }
  // Second pass: document keys of every training sentence from the jackknifed first-pass tags.
  std::vector<std::vector<uint64_t>> doc_keys;
  std::vector<std::vector<uint32_t>> doc_off;
  if (doc) {
    if (doc->tags1.size() != train.size()) return InvalidArgumentError("tagger: doc tags size");
    std::vector<uint32_t> sent_off = {0}, flags;
    std::vector<internal::DocToken> dtoks;
    std::vector<uint16_t> tags1;
    for (size_t si = 0; si < train.size(); ++si) {
      const auto& s = train[si];
      if (doc->tags1[si].size() != s.tokens.size())
        return InvalidArgumentError("tagger: doc tags size");
      analyze(s, nullptr);
      for (size_t i = 0; i < s.tokens.size(); ++i) {
        const uint16_t y = doc->tags1[si][i];
        dtoks.push_back(MakeDocToken(b->infos[i], static_cast<uint32_t>(i),
                                     y == 0 ? 0 : static_cast<uint16_t>(1 + m->tag_type[y])));
        flags.push_back(b->infos[i].flags);
        tags1.push_back(y);
      }
      sent_off.push_back(static_cast<uint32_t>(dtoks.size()));
    }
    doc_keys.resize(train.size());
    doc_off.resize(train.size());
    ForEachDocSentence(dtoks, flags, tags1.data(), sent_off, nt, m->types.size() + 1, doc->window,
                       &b->window, &b->dkeys, &b->doff, [&](size_t s) {
                         doc_keys[s] = b->dkeys;
                         doc_off[s] = b->doff;
                       });
  }
  std::vector<Prepared> prepared(train.size());
  for (size_t si = 0; si < train.size(); ++si) {
    const auto& s = train[si];
    analyze(s, &folds[si % kLexiconFolds]);
    Prepared& p = prepared[si];
    p.offsets.push_back(0);
    for (size_t i = 0; i < s.tokens.size(); ++i) {
      int k = fx.Features(b->infos.data(), s.tokens.size(), i, keybuf.data());
      if (doc) {
        for (uint32_t j = doc_off[si][i]; j < doc_off[si][i + 1]; ++j)
          keybuf[k++] = doc_keys[si][j];
      }
      for (int j = 0; j < k; ++j) {
        const uint32_t r = all.FindOrInsert(keybuf[j]);
        if (r >= counts.size()) counts.push_back(0);
        ++counts[r];
        p.rows.push_back(r);
      }
      p.offsets.push_back(static_cast<uint32_t>(p.rows.size()));
      p.gold.push_back(tag_id.find(s.tags[i])->second);
    }
  }
  // Frequency cut-off: renumber the surviving rows.
  std::vector<uint64_t> kept_keys;
  {
    std::vector<uint32_t> remap(all.size(), internal::FeatureIndex::kMissing);
    for (size_t r = 0; r < all.size(); ++r) {
      if (counts[r] >= static_cast<uint32_t>(std::max(1, options.min_feature_count))) {
        remap[r] = static_cast<uint32_t>(kept_keys.size());
        kept_keys.push_back(all.keys()[r]);
      }
    }
    for (auto& p : prepared) {
      std::vector<uint32_t> rows, offsets = {0};
      for (size_t i = 0; i + 1 < p.offsets.size(); ++i) {
        for (uint32_t k = p.offsets[i]; k < p.offsets[i + 1]; ++k) {
          if (remap[p.rows[k]] != internal::FeatureIndex::kMissing)
            rows.push_back(remap[p.rows[k]]);
        }
        offsets.push_back(static_cast<uint32_t>(rows.size()));
      }
      p.rows = std::move(rows);
      p.offsets = std::move(offsets);
    }
  }
  m->index.Build(kept_keys);
  all = internal::FeatureIndex();
  folds.clear();
  counts = {};
  const size_t n_rows = kept_keys.size();

  std::vector<Prepared> dev_prepared(dev.size());
  for (size_t si = 0; si < dev.size(); ++si) {
    analyze(dev[si], &m->entities);
    Prepared& p = dev_prepared[si];
    p.offsets.push_back(0);
    for (size_t i = 0; i < dev[si].tokens.size(); ++i) {
      const int k = fx.Features(b->infos.data(), dev[si].tokens.size(), i, keybuf.data());
      for (int j = 0; j < k; ++j) {
        const uint32_t r = m->index.Find(keybuf[j]);
        if (r != internal::FeatureIndex::kMissing) p.rows.push_back(r);
      }
      p.offsets.push_back(static_cast<uint32_t>(p.rows.size()));
    }
  }

  // Averaged structured perceptron (Collins 2002) with the lazy-averaging trick (Daume):
  // w accumulates updates, u accumulates c * update, the average is w - u / c.
  std::vector<float> w(n_rows * nt, 0.0f), u(n_rows * nt, 0.0f);
  std::vector<float> tw((nt + 1) * nt, 0.0f), tu((nt + 1) * nt, 0.0f);
  std::vector<float> tmask((nt + 1) * nt);
  double c = 1;
  auto emissions = [&](const Prepared& p, const std::vector<float>& weights, size_t n) {
    b->emis.assign(n * nt, 0.0f);
    for (size_t i = 0; i < n; ++i) {
      float* e = b->emis.data() + i * nt;
      for (uint32_t k = p.offsets[i]; k < p.offsets[i + 1]; ++k) {
        const float* row = weights.data() + static_cast<size_t>(p.rows[k]) * nt;
        for (size_t t = 0; t < nt; ++t) e[t] += row[t];
      }
    }
  };
  auto mask = [&](const std::vector<float>& trans) {
    m->trans = trans;
    m->BuildMask();
    tmask = m->masked;
  };
  std::vector<float> avg, avg_trans, best, best_trans;
  auto average = [&]() {
    avg.resize(w.size());
    avg_trans.resize(tw.size());
    const float inv = static_cast<float>(1.0 / c);
    for (size_t i = 0; i < w.size(); ++i) avg[i] = w[i] - u[i] * inv;
    for (size_t i = 0; i < tw.size(); ++i) avg_trans[i] = tw[i] - tu[i] * inv;
  };
  auto dev_f1 = [&]() {
    mask(avg_trans);
    EntityEvaluator ev;
    std::vector<std::string> pred;
    for (size_t si = 0; si < dev.size(); ++si) {
      const size_t n = dev[si].tokens.size();
      emissions(dev_prepared[si], avg, n);
      m->Decode(n, b->emis.data(), tmask.data(), b, false);
      pred.clear();
      for (size_t i = 0; i < n; ++i) pred.push_back(m->tags[b->path[i]]);
      ev.AddTags(dev[si].tags, pred);
    }
    return ev.Report().micro.f1;
  };

  std::vector<uint32_t> order(train.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<uint32_t>(i);
  uint64_t rng = options.seed;
  const int max_epochs = dev.empty() ? options.epochs : options.max_epochs;
  double best_f1 = -1;
  int best_epoch = 0, since_best = 0;
  TaggerTrainReport rep;
  for (int epoch = 1; epoch <= max_epochs; ++epoch) {
    for (size_t i = order.size(); i > 1; --i) {
      const size_t j = static_cast<size_t>(SplitMix64(&rng) % i);
      std::swap(order[i - 1], order[j]);
    }
    for (uint32_t si : order) {
      const Prepared& p = prepared[si];
      const size_t n = p.gold.size();
      if (n == 0) continue;
      mask(tw);
      emissions(p, w, n);
      m->Decode(n, b->emis.data(), tmask.data(), b, false);
      const float cf = static_cast<float>(c);
      uint16_t prev_g = static_cast<uint16_t>(nt), prev_p = static_cast<uint16_t>(nt);
      for (size_t i = 0; i < n; ++i) {
        const uint16_t g = p.gold[i], y = b->path[i];
        if (g != y) {
          for (uint32_t k = p.offsets[i]; k < p.offsets[i + 1]; ++k) {
            const size_t base = static_cast<size_t>(p.rows[k]) * nt;
            w[base + g] += 1;
            u[base + g] += cf;
            w[base + y] -= 1;
            u[base + y] -= cf;
          }
        }
        if (g != y || prev_g != prev_p) {
          tw[prev_g * nt + g] += 1;
          tu[prev_g * nt + g] += cf;
          tw[prev_p * nt + y] -= 1;
          tu[prev_p * nt + y] -= cf;
        }
        prev_g = g;
        prev_p = y;
      }
      c += 1;
    }
    if (dev.empty()) continue;
    average();
    const double f1 = dev_f1();
    rep.dev_f1_per_epoch.push_back(f1);
    if (f1 > best_f1) {
      best_f1 = f1;
      best_epoch = epoch;
      best = avg;
      best_trans = avg_trans;
      since_best = 0;
    } else if (options.patience > 0 && ++since_best >= options.patience) {
      break;
    }
  }
  if (dev.empty()) {
    average();
    best = std::move(avg);
    best_trans = std::move(avg_trans);
    best_epoch = options.epochs;
  }
  w = {};
  u = {};

  // Quantise to int16 steps (what the file stores) and drop rows that became all zero, so the
  // trained model and the one loaded from its file predict identically.
  float max_abs = 0;
  for (float v : best) max_abs = std::max(max_abs, std::fabs(v));
  m->scale = max_abs > 0 ? max_abs / kQuantMax : 1.0f;
  std::vector<uint64_t> final_keys;
  std::vector<float> final_weights;
  for (size_t r = 0; r < n_rows; ++r) {
    bool nonzero = false;
    float* row = best.data() + r * nt;
    for (size_t t = 0; t < nt; ++t) {
      row[t] = static_cast<float>(std::lround(row[t] / m->scale)) * m->scale;
      nonzero |= row[t] != 0.0f;
    }
    if (!nonzero) continue;
    final_keys.push_back(kept_keys[r]);
    final_weights.insert(final_weights.end(), row, row + nt);
  }
  best = {};
  m->index.Build(final_keys);
  m->weights = std::move(final_weights);
  m->BuildInline();
  m->trans = std::move(best_trans);
  m->BuildMask();

  // Margin scale: median margin of entity tokens on dev (train when there is no dev). A second
  // pass gets its scale from the two-pass output (Train).
  if (!doc) {
    std::vector<float> margins;
    const auto& sample = dev.empty() ? train : dev;
    for (const auto& s : sample) {
      b->views.assign(s.tokens.begin(), s.tokens.end());
      m->TagViews(b->views, b, true);
      for (size_t i = 0; i < s.tokens.size(); ++i) {
        if (b->path[i] != 0 && b->margins[i] < 1e5f) margins.push_back(b->margins[i]);
      }
    }
    if (!margins.empty()) {
      std::nth_element(margins.begin(), margins.begin() + margins.size() / 2, margins.end());
      m->margin_scale = std::max(1e-3f, margins[margins.size() / 2]);
    }
  }

  rep.train_sentences = train.size();
  rep.train_tokens = train_tokens;
  rep.dev_sentences = dev.size();
  rep.features = m->rows();
  rep.epochs = best_epoch;
  rep.dev_f1 = dev.empty() ? 0 : best_f1;
  rep.data_sha256 = sha.FinalHex();
  rep.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  EntityTagger tagger(std::move(m));
  // Meta: everything but timing, so that training twice gives identical files.
  model::ModelFile file = tagger.ToModelFile();
  file.sections.erase("meta");
  Model& mm = *tagger.m_;
  mm.version_id = model::VersionId(mm.name, file);
  nlohmann::json meta = {
      {"name", mm.name},
      {"kind", "tagger"},
      {"version_id", mm.version_id},
      {"entity_types", mm.types},
      {"tags", mm.tags},
      {"feature_version", internal::kFeatureVersion},
      {"model", "averaged structured perceptron, first-order Viterbi, IOB2"},
      {"training",
       {{"data_sha256", rep.data_sha256},
        {"train_sentences", rep.train_sentences},
        {"train_tokens", rep.train_tokens},
        {"dev_sentences", rep.dev_sentences},
        {"features", rep.features},
        {"epochs", rep.epochs},
        {"dev_entity_f1", rep.dev_f1},
        {"dev_f1_per_epoch", rep.dev_f1_per_epoch},
        {"seed", options.seed},
        {"min_feature_count", options.min_feature_count}}},
  };
  {
    nlohmann::json gaz = {{"words", mm.gazetteer.size()},
                          {"sources", nlohmann::json::array()},
                          {"missing", lists.missing}};
    for (const auto& s : lists.used) {
      gaz["sources"].push_back({{"path", s.path}, {"sha256", s.sha256}, {"words", s.words}});
    }
    meta["training"]["gazetteer"] = std::move(gaz);
  }
  mm.meta_json = meta.dump();
  if (report) *report = rep;
  return tagger;
}

}  // namespace lote::extract
