// What "normal" looks like for a model, and what a batch looked like: a Profile holds, for a set
// of texts as the model saw them, the distributions monitoring compares (lote/monitoring/drift.h):
//
//   categorical  label (predicted), lang (prep's language), abstained (yes | no; models with an
//                out-of-scope label only)
//   numeric      top_score (calibrated probability of the predicted label, 50 bins over [0, 1]),
//                text_length (code points, bins of a quarter octave), unknown_word_rate and
//                unknown_char_ngram_rate (share of the text's word tokens / character n-grams the
//                classifier has no feature for, 20 bins over [0, 1])
//   per label    records, sum and sum of squares of the top score, and its 50-bin histogram
//   entities     of the records the pattern extractors ran on, how many held each pattern type
//                (extract::PatternTypes()), and the check-digit candidates of CEDULA, NIT and
//                CARD with their failures (extract::CheckCounts)
//
// Profiles are sums: Add() one record at a time (never a second pass, bounded memory: the bins
// are fixed; the label and language sets are the model's and prep's), Merge() the profiles of
// several workers or objects. The model's reference profile is taken at training time on the
// calibration split, scored by the calibration-phase model (rows the model did not learn from;
// see docs/monitoring.md) and stored in the model file's "profile" section as JSON (ToJson).
//
// No record text, id or value is ever stored: only counts per bin and per label or language.
// Thread-safety: a Profile is a value; use one per thread and Merge.
#ifndef LOTE_MONITORING_PROFILE_H_
#define LOTE_MONITORING_PROFILE_H_

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lote/base/status.h"
#include "lote/classify/features.h"
#include "lote/extract/patterns.h"
#include "lote/monitoring/terms.h"

namespace lote::monitoring {

// What the pattern extractors found in one record (before overlaps with a tagger's entities are
// resolved: the reference has no tagger).
struct EntityObservation {
  bool observed = false;  // the pattern extractors ran on the record
  uint32_t types = 0;     // bit i: extract::PatternTypes()[i] found at least once
  extract::CheckCounts checks;
};

// What a model's tagger found in one record, in sentences (extract::SentenceCounts): the
// reference counts the tagger's dev sentences, so a run counts sentences too.
struct TaggerObservation {
  bool observed = false;  // the tagger ran on the record
  uint32_t sentences = 0;
  // Per entity type found, the record's sentences holding at least one (types found nowhere in
  // the record are absent).
  std::vector<std::pair<std::string, uint32_t>> types;
};

// One record as the model saw it.
struct Observation {
  std::string_view label;  // predicted label; empty: the model has no classifier
  float score = 0.0f;      // calibrated probability of `label`
  bool abstained = false;  // `label` is the model's out-of-scope label
  std::string_view lang;   // prep's language ("es", "en", "other", "und"); empty: unknown
  uint32_t chars = 0;      // code points of the text the model was given
  classify::VocabularyCounts vocabulary;  // word tokens and character n-grams, known or not
  EntityObservation entities;
  const TaggerObservation* tagger = nullptr;  // null: no tagger ran
};

enum class NumericSignal { kTopScore, kTextLength, kUnknownWordRate, kUnknownCharNgramRate };
inline constexpr int kNumericSignals = 4;

// The signal's name in reports ("top_score", ...).
std::string_view NumericSignalName(NumericSignal s);
// Its fixed binning, as stored in profiles ("linear:0:1:50", "log2x4:72"): profiles with another
// binning of a signal cannot be compared on it.
std::string_view NumericSignalBins(NumericSignal s);
int NumericSignalBinCount(NumericSignal s);
// The bin of `value`, and the value a bin stands for (its centre; for text_length the geometric
// centre of its code-point range).
int NumericSignalBin(NumericSignal s, double value);
double NumericSignalBinValue(NumericSignal s, int bin);

struct NumericHistogram {
  std::vector<uint64_t> counts;  // NumericSignalBinCount bins
  double sum = 0, sum_sq = 0;    // of the unbinned values
  uint64_t total() const;
  double mean() const;
  double stddev() const;  // population standard deviation of the unbinned values
};

struct LabelProfile {
  uint64_t records = 0;
  double score_sum = 0, score_sq_sum = 0;
  std::vector<uint64_t> score_bins;  // top_score binning
};

// Sums of EntityObservation over the records the pattern extractors ran on.
struct EntityProfile {
  uint64_t records = 0;
  std::vector<uint64_t> type_records;  // per extract::PatternTypes() index
  std::array<uint64_t, extract::kCheckedTypes> candidates{}, failures{};
  EntityProfile();
};

// Sums of TaggerObservation: sentences tagged and, per entity type, the sentences holding it.
struct TaggerEntityProfile {
  uint64_t sentences = 0;
  std::map<std::string, uint64_t, std::less<>> type_sentences;
};

// How well the model's probabilities matched reality on the reference rows (reference only).
struct CalibrationSummary {
  uint64_t rows = 0;
  double accuracy = 0;    // measured on the calibration rows
  double mean_score = 0;  // mean calibrated probability of the predicted label
  double ece = 0;         // expected calibration error, 15 equal-width bins
};

class Profile {
 public:
  Profile();

  void Add(const Observation& o);
  void Merge(const Profile& other);

  uint64_t records() const { return records_; }
  bool has_abstention() const { return has_abstention_; }
  void set_has_abstention(bool v) { has_abstention_ = v; }
  // Counts per category of a categorical signal (empty for an unknown name).
  std::map<std::string, uint64_t, std::less<>> categorical(std::string_view name) const;
  // Names of the categorical signals with data ("label", "lang", "abstained").
  std::vector<std::string> categorical_names() const;
  const NumericHistogram& numeric(NumericSignal s) const { return numeric_[static_cast<int>(s)]; }
  const std::map<std::string, LabelProfile, std::less<>>& labels() const { return labels_; }
  const EntityProfile& entities() const { return entities_; }
  const TaggerEntityProfile& tagger_entities() const { return tagger_entities_; }
  // A reference's tagger counts: the dev sentences as the tagger's selection model tagged them
  // (extract::TaggerTrainReport), stored in a tagger model's "tagger.profile" section.
  void set_tagger_entities(TaggerEntityProfile t) { tagger_entities_ = std::move(t); }
  // Sums over all records: word tokens, unknown ones, character n-grams, unknown ones.
  uint64_t words() const { return words_; }
  uint64_t unknown_words() const { return unknown_words_; }
  uint64_t char_ngrams() const { return char_ngrams_; }
  uint64_t unknown_char_ngrams() const { return unknown_char_ngrams_; }
  // The records' word unigrams and bigrams (lote/monitoring/terms.h): a reference's are counted
  // at training time; a batch's are added by the pipeline's workers, not by Add.
  const TermCounts& terms() const { return terms_; }
  TermCounts* mutable_terms() { return &terms_; }

  // Reference profiles: where the rows came from and how calibrated the model was on them.
  std::string source;  // e.g. "calibration split (dev), scored by the calibration-phase model"
  CalibrationSummary calibration;

  // {"format": "lote-profile", "version": 1, "records", "source", "calibration", "categorical",
  // "numeric": {name: {"bins", "counts", "sum", "sum_sq"}}, "labels", "tokens", "entities" (when
  // observed: {"records", "types": {TYPE: records}, "check_digits": {TYPE: {"candidates",
  // "failures"}}}), "tagger_entities" (when a tagger ran: {"sentences", "types": {TYPE:
  // sentences}}), "terms" (when
  // counted: the kReferenceTerms most frequent in at least kReferenceMinRecords records)}
  // (docs/monitoring.md).
  std::string ToJson(int indent = -1) const;
  // Errors: InvalidArgument naming the field for a malformed profile; FailedPrecondition for
  // another format version. A numeric signal stored with another binning is dropped (it cannot
  // be compared) and named in *dropped when given.
  static Result<Profile> FromJson(std::string_view json,
                                  std::vector<std::string>* dropped = nullptr);

 private:
  uint64_t records_ = 0;
  bool has_abstention_ = false;
  std::map<std::string, uint64_t, std::less<>> lang_counts_;
  uint64_t abstained_ = 0;  // records whose label is the out-of-scope label
  std::array<NumericHistogram, kNumericSignals> numeric_;
  std::map<std::string, LabelProfile, std::less<>> labels_;
  uint64_t words_ = 0, unknown_words_ = 0, char_ngrams_ = 0, unknown_char_ngrams_ = 0;
  EntityProfile entities_;
  TaggerEntityProfile tagger_entities_;
  TermCounts terms_;
};

}  // namespace lote::monitoring

#endif  // LOTE_MONITORING_PROFILE_H_
