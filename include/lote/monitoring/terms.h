// Text drift in the model's own terms: word unigrams and bigrams as the classifier's feature
// extractor sees them (normalized, case and accent folded, digits mapped to 0; Spanish and English
// alike, no stop list), counted by the records they occur in.
//
// TermCounts keeps those counts in bounded memory and time. At most 2 x capacity terms are held;
// when that fills, a prune keeps the `capacity` terms with the highest counts and raises `floor`
// to the highest count it dropped (lossy counting, mergeable as in Agarwal et al. 2012). For a kept
// term, hits <= records it occurred in <= hits + error; a term not kept occurred in at most
// floor() records. A term frequent in the batch enters early and is never dropped.
//
// A run samples records to bound the cost (TermSampler): the first kTermsCountedInFull records
// are all counted; after that, the i-th record is counted when the hash of its id falls in a 2^-L
// share, L = 1 + floor(log2((i - 1) / kTermsCountedInFull)), with weight 2^L (Horvitz-Thompson:
// hits are then unbiased estimates of the records a term occurred in). About 2,048 + 1,024 x
// log2(n / 2,048) of n records are counted: one in thirteen of 100,000, one in ninety of
// 1,000,000.
// The choice depends on the record's id and on the order the run's threads took the records, not
// on its text. A reference's counts (training rows) are exact.
//
// Terms are keyed by the classifier's 64-bit word n-gram feature hashes (classify::WordFeature,
// classify::WordBigramFeature). A batch's counts also keep each term's text and the ids of the
// first kTermExamples records it occurred in; a reference's keep hashes only: a model file holds
// no word of its training data (the vocabulary is hashed as well).
//
// TopTerms names the terms that most separate a batch from the reference: for each term the batch
// has in at least min_records of its counted records, the log-odds ratio of its record share in
// the batch against the reference, with an informative Dirichlet prior (Monroe, Colaresi and Quinn
// 2008, "Fightin' words"; the prior's mean is the pooled share), and its z-score, the batch's
// share taken on its counted records (a sample's variance), the batch side's variance scaled by
// the inflation the terms the batch has fewer of show over what independent records give
// (genomic control: records repeat templates and customers); the terms whose z reaches both min_z
// and the Bonferroni bound for the terms tested (P(Z > z) < alpha / tested), by z. Counts are taken
// on the safe side: the batch's lower bound, the reference's upper bound.
//
// Thread-safety: a TermCounts is a value; one per thread, then Merge.
#ifndef LOTE_MONITORING_TERMS_H_
#define LOTE_MONITORING_TERMS_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lote/base/status.h"
#include "lote/classify/features.h"

namespace lote::monitoring {

inline constexpr size_t kBatchTermCapacity = 4096;
inline constexpr uint64_t kTermsCountedInFull = 2048;
// Training rows are few (thousands to a few hundred thousand): counted exactly, then the
// kReferenceTerms most frequent terms occurring in at least kReferenceMinRecords rows are stored.
inline constexpr size_t kReferenceTermCapacity = size_t{1} << 22;
inline constexpr size_t kReferenceTerms = 20000;
inline constexpr uint64_t kReferenceMinRecords = 3;
inline constexpr size_t kTermExamples = 3;
// Record ids longer than this are not kept as examples.
inline constexpr size_t kMaxExampleIdBytes = 256;
// Longest term text kept (bytes); longer terms are counted but shown cut at a code point.
inline constexpr size_t kMaxTermBytes = 128;

// One kept term (a copy: see TermCounts::Entries).
struct TermEntry {
  uint64_t hits = 0;   // records counted since the entry was made (weighted)
  uint64_t error = 0;  // records it may have occurred in before (see the header comment)
  uint32_t seen = 0;   // records counted since the entry was made (unweighted)
  // Batch counts only, taken from the second record the entry counts (most terms never come
  // back: no copy for them).
  std::string text;
  std::vector<std::string> examples;  // record ids, at most kTermExamples
};

class TermCounts {
 public:
  // `keep_text` (a batch's counts): keep each term's text and example record ids.
  explicit TermCounts(size_t capacity = kBatchTermCapacity, bool keep_text = true);

  // One record whose distinct terms are `hashes`, counted with `weight` (0: a record left out of
  // the sample, counted in records() only). `text(i, &s)` writes the text of hashes[i] into s; it
  // is called only when texts are kept and the term has none yet.
  void AddRecord(std::span<const uint64_t> hashes,
                 const std::function<void(size_t, std::string*)>& text, std::string_view record_id,
                 uint64_t weight = 1);
  void Merge(const TermCounts& other);

  // Records offered, and those whose terms were counted.
  uint64_t records() const { return records_; }
  uint64_t counted() const { return counted_; }
  uint64_t floor() const { return floor_; }
  bool empty() const { return records_ == 0; }
  // Terms kept.
  size_t size() const { return size_; }
  // A copy of every kept term by hash (reports and tests; not for the hot path).
  std::map<uint64_t, TermEntry> Entries() const;
  // Upper bound of the records `hash` occurred in.
  uint64_t UpperBound(uint64_t hash) const;

  // {"records", "counted", "floor", "hash": [16 hex digits...], "hits": [...], "error": [...], and
  // with texts "text": [...], "examples": [[...]...]}: the at most `max_terms` terms with the most
  // hits among those with at least `min_hits`; `floor` grows to cover the terms left out.
  std::string ToJson(size_t max_terms = kBatchTermCapacity, uint64_t min_hits = 1) const;
  // InvalidArgument naming the field for malformed counts (at most kReferenceTerms +
  // kBatchTermCapacity terms are accepted).
  static Result<TermCounts> FromJson(std::string_view json);

 private:
  // Open addressing with linear probing: a slot holds a term's hash (kEmpty: a free slot; the
  // hash kEmpty itself is stored as 1) and its counts, 32 bytes, so a term costs one cache line.
  // At most half the slots are used. Texts and example ids live apart, in extras_, for the few
  // terms seen twice: a term seen once costs no allocation.
  static constexpr uint64_t kEmpty = 0;
  static constexpr uint32_t kNoExtra = UINT32_MAX;
  struct Slot {
    uint64_t key = kEmpty;
    uint64_t hits = 0, error = 0;
    uint32_t seen = 0, extra = kNoExtra;
  };
  struct Extra {
    std::string text;
    std::vector<std::string> examples;
  };
  // The slot of `key` (a stored key: never kEmpty), or of the free slot where it would go.
  size_t Probe(uint64_t key) const;
  // Inserts a key known to be absent; grows or prunes first when the table is full.
  size_t Insert(uint64_t key);
  // Rebuilds the table with `slots` slots, keeping the entries `keep` says yes to.
  void Rebuild(size_t slots, const std::function<bool(const Slot&)>& keep);
  void Prune();
  Extra& ExtraOf(Slot* slot);

  size_t capacity_;
  bool keep_text_;
  uint64_t records_ = 0;
  uint64_t counted_ = 0;
  uint64_t floor_ = 0;
  size_t size_ = 0;
  int shift_ = 64;  // 64 - log2(slots)
  std::vector<Slot> slots_;
  std::vector<Extra> extras_;
};

// Which records' terms a run counts, and with what weight (see the header comment).
// Thread-safe: one per run, shared by its threads.
class TermSampler {
 public:
  uint64_t Weight(std::string_view record_id);

 private:
  std::atomic<uint64_t> offered_{0};
};

// Reusable buffers of CountRecordTerms (one per thread).
struct TermScratch {
  std::vector<std::pair<uint64_t, uint32_t>> terms;  // hash, 2i (word i) or 2i + 1 (i - 1, i)
  std::vector<uint64_t> hashes;
};

// Adds the distinct word unigrams and bigrams of the text last hashed into `features` (by
// classify::FeatureExtractor::Hash) to *counts as one record, sampled by `sampler` (null: every
// record, weight 1).
void CountRecordTerms(const classify::FeatureScratch& features, std::string_view record_id,
                      TermSampler* sampler, TermScratch* scratch, TermCounts* counts);

struct TermShift {
  std::string term;
  uint64_t batch_records = 0;  // records of the batch it occurred in (estimate; lower bound)
  double batch_share = 0;      // batch_records / batch records
  double reference_share = 0;  // upper bound of the reference rows it occurred in / rows
  double log_odds_ratio = 0;
  double z = 0;
  std::vector<std::string> examples;  // record ids
};

struct TermOptions {
  uint64_t min_records = 5;     // a term must occur in this many batch records to be named
  double min_z = 3.29;          // at least (p < 0.0005 one-sided for one term)
  double alpha = 0.01;          // family-wise, over the terms tested
  bool genomic_control = true;  // scale the batch's variance by the measured inflation
  size_t top = 10;
  double prior = 100;  // the Dirichlet prior's total weight (pseudo-records)
};

// z such that P(Z > z) = p for a standard normal Z (exposed for tests).
double UpperTailZ(double p);

// The terms the batch has markedly more of than the reference, highest z first. *inflation
// (optional): the factor the batch side's variance was scaled by (>= 1).
std::vector<TermShift> TopTerms(const TermCounts& reference, const TermCounts& batch,
                                const TermOptions& options, double* inflation = nullptr);

}  // namespace lote::monitoring

#endif  // LOTE_MONITORING_TERMS_H_
