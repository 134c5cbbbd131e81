// Private to the tagger: the trained model (TaggerModel) and the per-thread scratch
// (TaggerBuffers) that its three parts share:
//   tagger_model.cc   the model's tables, its file sections (ToModelFile / FromModelFile) and the
//                     inline weight table used for inference
//   tagger_decode.cc  emission scores, Viterbi, document tagging (TagDoc), TagTokens, Extract
//   tagger_train.cc   Train: the averaged perceptron, the second pass, the training meta
#ifndef LOTE_SRC_EXTRACT_TAGGER_MODEL_H_
#define LOTE_SRC_EXTRACT_TAGGER_MODEL_H_

#include <sys/mman.h>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <new>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "lote/base/status.h"
#include "lote/extract/tagger.h"
#include "lote/model/model_file.h"
#include "lote/text/tokenizer.h"
#include "tagger_features.h"
#include "tagger_gazetteer.h"

namespace lote::extract::internal {

// Transition score of a forbidden IOB2 transition (I-X after O or another type).
inline constexpr float kForbidden = -1e30f;
// Documents shorter than this are tagged by the first pass alone: the second pass learned from
// full windows, and on 2-5 sentence documents it scored below the first pass (dev1/dev2 of
// esp.testa cut into chunks), at 20 it was on par or above.
inline constexpr size_t kMinDocSentences = 20;
// Models with at most this many tags (O + B/I for up to 5 types, as CoNLL's 9) keep each
// feature's int16 weight steps next to its key in one 32-byte slot (InlineSlot).
inline constexpr size_t kInlineTags = 12;

// A non-owning reference to a callable, for the per-sentence callbacks below (std::function
// would allocate for most lambdas, and tagging must not allocate once its buffers have grown).
// The callable must outlive the call it is passed to.
template <typename Signature>
class FunctionRef;
template <typename R, typename... Args>
class FunctionRef<R(Args...)> {
 public:
  template <typename F>
  requires(!std::is_same_v<std::remove_cvref_t<F>, FunctionRef>)
      FunctionRef(F&& f)  // NOLINT: implicit, as std::function
      : object_(const_cast<void*>(static_cast<const void*>(&f))),
        call_([](void* o, Args... args) -> R {
          return (*static_cast<std::remove_reference_t<F>*>(o))(std::forward<Args>(args)...);
        }) {}
  R operator()(Args... args) const { return call_(object_, std::forward<Args>(args)...); }

 private:
  void* object_;
  R (*call_)(void*, Args...);
};

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

// Per-thread scratch of tagging (TaggerState holds one) and of training.
struct TaggerBuffers {
  std::vector<TokenInfo> infos;
  std::string scratch;
  std::vector<uint64_t> keys;
  std::vector<uint32_t> rows;
  std::vector<float> emis, alpha, beta, margins;
  std::vector<uint16_t> back, path;
  std::vector<std::string_view> views;
  SegmentedText seg;
  // Documents (TagDoc): views of all sentences, sentence offsets into views, the analyses of the
  // pieces between the two passes, first-pass tags, and the second pass's window and keys.
  std::vector<uint32_t> sent_off;
  // The pieces the decoder sees (CapSentences of sent_off) and the sentence of each.
  std::vector<uint32_t> piece_off, piece_sentence;
  std::vector<uint16_t> long_path;  // TagViews on a sentence longer than kMaxSentenceTokens
  std::vector<float> long_margins;
  // Extract's SentenceCounts: per entity type, the last sentence (from 1) it was counted in.
  std::vector<uint32_t> type_stamp;
  std::vector<std::vector<TokenInfo>> piece_infos;  // a ring of doc_window + 1 pieces
  std::vector<uint16_t> tags1;
  std::vector<DocToken> dtoks;
  std::vector<uint32_t> flags;
  DocWindow window;
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

// A new id for every model object (TaggerModel::uid).
uint64_t NextModelUid();

// One perceptron's tables (a two-pass model holds the second pass in `doc`).
struct TaggerModel {
  const uint64_t uid = NextModelUid();  // tells TaggerBuffers' form caches apart
  std::string name;
  std::vector<std::string> tags;  // tags[0] == "O", then B-X, I-X per type (sorted)
  std::vector<std::string> types;
  std::vector<int> tag_type;  // -1 for O
  std::vector<uint8_t> tag_is_begin;
  std::vector<float> trans;   // (T + 1) x T: row T is the start of a sentence
  std::vector<float> masked;  // trans with forbidden IOB2 transitions at kForbidden
  CapitalizationLexicon lexicon;
  WordGazetteer gazetteer;
  EntityLexicon entities;
  FeatureIndex index;
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
  std::unique_ptr<TaggerModel> doc;
  uint32_t doc_window = 0;

  size_t T() const { return tags.size(); }

  // tagger_model.cc
  Status SetTags(std::vector<std::string> tag_names);
  void BuildMask();  // masked from trans
  // *out = `from` ((T + 1) x T transition scores) with forbidden IOB2 transitions at kForbidden.
  void MaskTransitions(const std::vector<float>& from, std::vector<float>* out) const;
  std::string WriteWeights() const;
  // Reads a weights section into index / weights / scale / trans (tags already set).
  Status ParseWeights(std::string_view bytes, const char* what);

  // tagger_decode.cc
  // Emission scores of a sentence of analysed tokens into b->emis (n x T); extra keys of token
  // i (second pass) are extra[extra_off[i] .. extra_off[i + 1]) when extra is not null.
  void Emissions(const TokenInfo* infos, size_t n, TaggerBuffers* b, const uint64_t* extra,
                 const uint32_t* extra_off) const;
  // Tags the document in b->views / b->sent_off; calls emit(sentence, offset, n) with the final
  // path (and margins) of each sentence in b->path / b->margins: once per sentence, or once per
  // piece, in order, for a sentence longer than kMaxSentenceTokens (CapSentences).
  void TagDoc(TaggerBuffers* b, bool margins,
              FunctionRef<void(size_t, uint32_t, uint32_t)> emit) const;
  // Viterbi best path into b->path; with margins, b->margins[i] is the max-marginal margin of
  // token i's tag.
  void Decode(size_t n, const float* emis, const float* trans_masked, TaggerBuffers* b,
              bool margins) const;
  // Tags one sentence (first pass) into b->path (and b->margins), in pieces of at most
  // kMaxSentenceTokens tokens.
  void TagViews(std::span<const std::string_view> tokens, TaggerBuffers* b, bool margins) const;
  // TagViews of at most kMaxSentenceTokens tokens.
  void TagPiece(std::span<const std::string_view> tokens, TaggerBuffers* b, bool margins) const;
};

// Cuts the sentences of `sent_off` (offsets, last = token count) longer than kMaxSentenceTokens
// into consecutive pieces of at most that many tokens: *pieces are the pieces' offsets in the
// same form, (*piece_sentence)[k] the sentence piece k belongs to. Shorter sentences, empty ones
// included, are one piece each.
void CapSentences(const std::vector<uint32_t>& sent_off, std::vector<uint32_t>* pieces,
                  std::vector<uint32_t>* piece_sentence);

// The model's sections (see EntityTagger::ToModelFile), meta included.
model::ModelFile ToModelFile(const TaggerModel& m);

// Second-pass keys of every sentence of a document: for sentence s, the window holds the
// sentences [s - window, s + window]. Calls prepare(k) just before sentence k enters the window
// (its dtoks, flags and tags1 are read after that; in order, k up to s + window before f(s)),
// then f(s) with *dkeys / *doff filled.
void ForEachDocSentence(const std::vector<DocToken>& dtoks, const std::vector<uint32_t>& flags,
                        const uint16_t* tags1, const std::vector<uint32_t>& sent_off, size_t nt,
                        size_t n_labels, size_t window, DocWindow* win,
                        std::vector<uint64_t>* dkeys, std::vector<uint32_t>* doff,
                        FunctionRef<void(size_t)> prepare, FunctionRef<void(size_t)> f);

// A token as the second pass's window counts it: `i` is its position in its sentence, `label`
// 0 for O, else 1 + the entity type of its first-pass tag.
DocToken MakeDocToken(const TokenInfo& info, uint32_t i, uint16_t label);

}  // namespace lote::extract::internal

#endif  // LOTE_SRC_EXTRACT_TAGGER_MODEL_H_
