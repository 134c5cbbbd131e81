// Statistical named-entity / personal-data tagger: an averaged structured perceptron over IOB2
// tags with first-order Viterbi decoding (invalid IOB2 transitions are forbidden).
//
// Features are hashed (64-bit) templates over the token and its +-2 neighbours: lower-cased word,
// case-sensitive form, prefixes and suffixes of 1-5 code points, word shapes (long and short),
// capitalisation / digit / punctuation flags, word bigrams, shape n-grams, sentence position,
// one distributional feature learned from the training text itself (how often a word is
// written capitalised inside a sentence), and which reference word lists (Spanish proper
// nouns, country and region names, given names and surnames: word_list.h, supplied by the
// caller) hold the word and its neighbours. Only features seen in training get a weight row.
//
// Two-pass models (TaggerTrainOptions::doc_window > 0, the default) add a second perceptron that
// re-tags documents of 20 or more sentences. It has the same features plus how the first pass
// tagged the same word in neighbouring sentences (TagDocument, Extract).
//
// Training data comes from CoNLL sentences (tokens given, IOB1/IOB2/IOBES tags read with
// conlleval's rules and converted to IOB2) or BRAT documents (raw text + code point spans) which
// ProjectBratDocument turns into IOB2 sentences, splitting tokens at annotation boundaries so
// that strict span matching stays possible.
//
// Thread-safety: an EntityTagger is immutable after Train / FromModelFile; its const methods are
// thread-safe. Per-thread scratch lives in a TaggerState (one per thread, reused across calls so
// that tagging does not allocate once buffers have grown).
#ifndef LOTE_EXTRACT_TAGGER_H_
#define LOTE_EXTRACT_TAGGER_H_

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lote/base/status.h"
#include "lote/extract/entity.h"
#include "lote/extract/entity_eval.h"
#include "lote/extract/word_list.h"
#include "lote/io/records.h"
#include "lote/model/model_file.h"
#include "lote/text/tokenizer.h"

namespace lote::extract {

// One sentence of training or evaluation data.
struct TaggedSequence {
  std::vector<std::string> tokens;
  std::vector<std::string> tags;  // IOB2 (see ToIob2 in entity_eval.h), same length as tokens
  // Code point offsets of each token in its document (BRAT); empty for CoNLL data.
  std::vector<uint32_t> starts;
  std::vector<uint32_t> ends;
};

// Converts a CoNLL sentence (IOB1 / IOB2 / IOBES) into a TaggedSequence with IOB2 tags.
TaggedSequence FromConll(const io::TaggedSentence& sentence);

// A token of raw text as the tagger sees it.
struct TextToken {
  uint32_t begin = 0;  // byte offsets into the text
  uint32_t end = 0;
  uint32_t cp_begin = 0;  // code point offsets into the text
  uint32_t cp_end = 0;
};

// Raw text cut into tagger tokens and sentences.
struct SegmentedText {
  std::vector<TextToken> tokens;
  // Index of the first token of each sentence, ascending, first element 0 when there are
  // tokens; sentence k covers tokens [sentence_starts[k], sentence_starts[k+1]).
  std::vector<uint32_t> sentence_starts;
  size_t forced_splits = 0;          // split points that fell strictly inside a tokenizer piece
  std::vector<text::Token> scratch;  // tokenizer output, kept to reuse its buffer
};

// Cuts `text` (valid UTF-8) into tokens with `tokenizer`, then splits word tokens further
// wherever the character class changes between letter, digit and other (so "28001-Madrid",
// "covid19" or "2ºB" become several tokens; numbers, URLs, e-mails and emojis stay whole), and
// any token at every code point offset in `split_points` (sorted ascending; annotation
// boundaries in training). Sentences end at line breaks and after '.', '!' or '?' followed by
// white space, except after a short capitalised abbreviation ("Dr.", "Sra."). No sentence
// boundary is placed inside one of the `protected_ranges` ([start, end) code points, sorted by
// start, non-overlapping).
void SegmentText(std::string_view text, const text::Tokenizer& tokenizer,
                 std::span<const uint32_t> split_points,
                 std::span<const std::pair<uint32_t, uint32_t>> protected_ranges,
                 SegmentedText* out);

// Counts gathered while projecting BRAT documents (summed over calls).
struct BratProjectionStats {
  size_t documents = 0;
  size_t sentences = 0;
  size_t tokens = 0;
  size_t entities = 0;          // annotations kept
  size_t overlaps_dropped = 0;  // annotations dropped because a longer one overlaps them
  size_t empty_dropped = 0;     // annotations covering no token (white space only, out of range)
  size_t boundary_splits = 0;   // annotation boundaries that fell inside a tokenizer token
};

// Projects one BRAT document to IOB2 sentences appended to *out (offsets filled). Overlapping
// annotations: the longest is kept (ties: the earliest), the others dropped with a warning
// appended to `warnings` (may be null). Annotation boundaries inside a token split that token.
// Afterwards every kept annotation is exactly the span of a run of tokens of one sentence.
void ProjectBratDocument(const io::BratDocument& doc, const text::Tokenizer& tokenizer,
                         std::vector<TaggedSequence>* out, BratProjectionStats* stats,
                         std::vector<std::string>* warnings);

// Gold entities of a BRAT document as code point spans, every annotation as written (overlaps
// are not resolved: the gold standard is what the annotators wrote), for strict span evaluation.
std::vector<LabeledSpan> BratGoldSpans(const io::BratDocument& doc);

struct TaggerTrainOptions {
  // Epochs when no dev set is given.
  int epochs = 12;
  // With a dev set: train up to max_epochs and keep the averaged weights of the epoch with the
  // best dev entity F1 (earliest on ties).
  int max_epochs = 20;
  // Stop early when dev F1 has not improved for this many epochs (0: never).
  int patience = 5;
  // With a dev set: after choosing the epoch count on dev, train the final model on train + dev
  // with that count (the reported dev F1 is the selection model's, on unseen dev data).
  bool refit_on_dev = true;
  // Seed of the per-epoch shuffle (the shuffle is our own Fisher-Yates over splitmix64, so the
  // order, and therefore the model, is identical on every platform).
  uint64_t seed = 20240611;
  // Features seen fewer times than this in the training data get no weight.
  int min_feature_count = 1;
  // Model name, stored in meta and used for the version id.
  std::string name = "tagger";
  // Two-pass (stacked) tagging: when > 0, a second perceptron re-tags every sentence with the
  // first pass's output plus document features: how the first pass tagged the same lower-cased
  // word in the `doc_window` sentences before and after (same input), and how that word is
  // capitalised there. Its training data gets first-pass tags by jackknife over `doc_folds`
  // contiguous blocks, so they are as noisy as on unseen text. 0: one pass. Documents of fewer
  // than 20 sentences (and Tag / TagTokens, which see one sentence) use the first pass alone.
  int doc_window = 40;
  int doc_folds = 10;
  // Reference word lists read by the caller (word_list.h; lote's CLI gives Debian's hunspell-es,
  // iso-codes and python3-fake-factory files). Each token gets the classes of the lists that
  // hold it as features. The words are stored in the model (tagging needs no lists), and the
  // model's meta (training.gazetteer) names every list with its kind, the SHA-256 of its bytes
  // and the words it gave. Empty: no word lists. Not owned: the lists must outlive Train.
  std::span<const WordList> word_lists;
};

// What training did, also stored in the model's meta JSON.
struct TaggerTrainReport {
  size_t train_sentences = 0;
  size_t train_tokens = 0;
  size_t dev_sentences = 0;
  size_t features = 0;  // weight rows after pruning
  int epochs = 0;       // epochs whose averaged weights were kept
  std::vector<double> dev_f1_per_epoch;
  double dev_f1 = 0;        // entity F1 on dev of the kept weights (0 without dev)
  std::string data_sha256;  // over the training tokens and tags
  double seconds = 0;
  // With dev: the dev sentences as the selection model (trained on train alone, the epoch count
  // chosen, before any refit on dev) tagged them, in Extract's units (see SentenceCounts): per
  // entity type, the sentences holding at least one entity of it. Types it never predicted on
  // dev are absent. The reference of monitoring's sentence_entity_rate signals; for a two-pass
  // model, of its first pass. Empty without dev.
  size_t dev_profile_sentences = 0;
  std::map<std::string, uint64_t> dev_type_sentences;
};

// What Extract tagged, for monitoring: the sentences (a sentence longer than kMaxSentenceTokens
// counts once per piece, as it is tagged) and, per entity type (index into entity_types()), the
// sentences holding at least one entity of it.
struct SentenceCounts {
  uint32_t sentences = 0;
  std::vector<uint32_t> with_type;
};

// Longest sentence, in tokens, that the tagger decodes as one. A longer one (a text without
// punctuation or line breaks, a long token list) is cut into consecutive pieces of at most this
// many tokens, each tagged as a sentence of its own (an entity across a cut becomes two), so
// that tagging memory per sentence is bounded: decoding keeps about 14 bytes per token and tag.
// Real text stays far below it: the longest sentences of data/sample, esp.testa (as raw text)
// and MEDDOCAN dev are 37, 164 and 156 tokens, the longest CoNLL sentence of esp.train 1,238.
inline constexpr size_t kMaxSentenceTokens = 4096;

class EntityTagger;

namespace internal {
struct TaggerBuffers;  // src/extract/tagger_model.h
struct TaggerModel;
}  // namespace internal

// Per-thread scratch for tagging. Not thread-safe; cheap to create, grows to the longest
// sentence and is then reused without allocating.
class TaggerState {
 public:
  TaggerState();
  ~TaggerState();
  TaggerState(TaggerState&&) noexcept;
  TaggerState& operator=(TaggerState&&) noexcept;

 private:
  friend class EntityTagger;
  std::unique_ptr<internal::TaggerBuffers> b_;
};

class EntityTagger {
 public:
  EntityTagger(EntityTagger&&) noexcept;
  EntityTagger& operator=(EntityTagger&&) noexcept;
  ~EntityTagger();

  // Trains on `train` (IOB2 tags; see FromConll / ProjectBratDocument). `dev` may be empty.
  // Deterministic: the same data, options and word-list bytes give byte-identical model
  // sections. Reads no file: the word lists come in options.word_lists.
  // Errors: InvalidArgument (no sentences, a tags/tokens length mismatch, a tag that is not O,
  // B-X or I-X, an I-X that does not follow B-X/I-X, more than 255 tags); DataLoss naming the
  // list when a word list does not parse as its kind.
  static Result<EntityTagger> Train(const std::vector<TaggedSequence>& train,
                                    const std::vector<TaggedSequence>& dev,
                                    const TaggerTrainOptions& options, TaggerTrainReport* report);

  // Loads from a model container holding the sections written by ToModelFile.
  // Errors: NotFound (a section missing), DataLoss (truncated or inconsistent section),
  // FailedPrecondition (a section format or feature version this build does not know).
  static Result<EntityTagger> FromModelFile(const model::ModelFile& file);

  // Sections "meta" (JSON: name, kind "tagger", version_id, entity_types, tags, training),
  // "tagger.config", "tagger.tags" and "tagger.weights".
  model::ModelFile ToModelFile() const;

  // Tags a sentence of tokens; writes one tag id per token to *tags (see tag_names()).
  // Empty input gives empty output. A sentence longer than kMaxSentenceTokens is tagged in
  // pieces. Thread-safe given distinct states.
  void TagTokens(std::span<const std::string_view> tokens, TaggerState* state,
                 std::vector<uint16_t>* tags) const;

  // Convenience over TagTokens returning tag strings ("O", "B-PER", ...). A sentence alone is
  // tagged by the first pass (see TagDocument).
  std::vector<std::string> Tag(const std::vector<std::string>& tokens, TaggerState* state) const;

  // Tags consecutive sentences of one input. A two-pass model's second pass (documents of 20 or
  // more sentences) sees, for each sentence, the first pass's tags of up to doc_window()
  // sentences before and after it. Extract does the same over the sentences of its text.
  // Sentences longer than kMaxSentenceTokens are tagged as consecutive sentences of at most
  // that many tokens (and counted so).
  std::vector<std::vector<std::string>> TagDocument(
      const std::vector<std::vector<std::string>>& sentences, TaggerState* state) const;
  // Document window of the second pass (0: one-pass model).
  int doc_window() const;

  // Finds entities in raw text: segments it (SegmentText), tags every sentence (in pieces of at
  // most kMaxSentenceTokens tokens) and decodes the tags into entities with code point offsets
  // into `text`. State memory: per token of the text about 45 bytes (one pass) or 70 (two
  // passes), plus the token analyses of at most doc_window() + 1 pieces at a time (see
  // docs/extraction.md). score = m / (m + s) where m is the smallest max-marginal margin of the
  // entity's tokens and s the model's margin scale (the median entity-token margin measured
  // after training), so 0.5 is a typical entity.
  // source = Entity::Source::kModel, value_json empty. `counts`, when given, is overwritten with
  // the text's sentence counts. Errors: InvalidArgument for invalid UTF-8.
  Result<std::vector<Entity>> Extract(std::string_view text, TaggerState* state,
                                      SentenceCounts* counts = nullptr) const;

  const std::vector<std::string>& tag_names() const;
  // Entity types the model can produce, sorted.
  const std::vector<std::string>& entity_types() const;
  // Meta JSON text (as stored in the "meta" section).
  const std::string& meta_json() const;
  const std::string& version_id() const;

 private:
  explicit EntityTagger(std::unique_ptr<internal::TaggerModel> model);
  std::unique_ptr<internal::TaggerModel> m_;
};

}  // namespace lote::extract

#endif  // LOTE_EXTRACT_TAGGER_H_
