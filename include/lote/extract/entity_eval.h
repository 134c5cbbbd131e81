// Entity-level evaluation: exact-match micro precision/recall/F1 and per-type scores.
//
// Two ways to feed it:
//  - tag sequences (CoNLL): both gold and predicted tags are chunked with conlleval's rules
//    (IOB1, IOB2 and IOBES tags are all read; an I- tag after O or after another type starts a
//    new entity), chunks are spans of token indices;
//  - spans (BRAT): strict matching of (type, start, end), typically code point offsets.
// An entity is correct only when type, start and end all match. Only types that occur in the
// gold data are scored: predicted entities of any other type are ignored (they are neither
// counted as false positives nor reported), so a model with extra types can be scored on a
// corpus that annotates fewer.
// Thread-safety: EntityEvaluator is a plain value; use one per thread and Merge() the results.
#ifndef LOTE_EXTRACT_ENTITY_EVAL_H_
#define LOTE_EXTRACT_ENTITY_EVAL_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace lote::extract {

// One entity as a half-open span [start, end) with a type. The unit (token index or code
// point) is up to the caller but must be the same for gold and predictions.
struct LabeledSpan {
  std::string type;
  uint32_t start = 0;
  uint32_t end = 0;

  friend bool operator==(const LabeledSpan&, const LabeledSpan&) = default;
  friend auto operator<=>(const LabeledSpan&, const LabeledSpan&) = default;
};

// Splits a tag into its prefix letter ('B', 'I', 'E', 'S', or 'O') and type ("PER"). BILOU's
// L- and U- read as E- and S-. A tag without such a prefix (including "O") reads as 'O' with an
// empty type.
struct ParsedTag {
  char prefix = 'O';
  std::string_view type;
};
ParsedTag ParseTag(std::string_view tag);

// Chunks a tag sequence into entities with conlleval's rules: B-X always starts an entity;
// I-X / E-X start one after O, after a different type or after an entity that ended (E-/S-);
// S-X is a one-token entity. Spans are token indices. Works for IOB1, IOB2 and IOBES.
std::vector<LabeledSpan> ChunkTags(const std::vector<std::string>& tags);

// Rewrites IOB1 / IOBES / IOB2 tags as IOB2 with the same chunks (ChunkTags of the result
// equals ChunkTags of the input).
std::vector<std::string> ToIob2(const std::vector<std::string>& tags);

struct EntityScores {
  size_t gold = 0;       // support: gold entities
  size_t predicted = 0;  // predicted entities (of scored types)
  size_t correct = 0;    // exact matches
  double precision = 0;  // correct / predicted (0 when nothing predicted)
  double recall = 0;     // correct / gold (0 when no gold)
  double f1 = 0;         // harmonic mean (0 when precision + recall == 0)
};

struct EntityEvalReport {
  EntityScores micro;
  std::map<std::string, EntityScores> per_type;  // only types present in gold
  size_t ignored_predictions = 0;                // predicted entities of types absent from gold

  // Multi-line human-readable table (conlleval-like), one line per type.
  std::string ToString() const;
};

class EntityEvaluator {
 public:
  // Adds one unit (sentence or document) of gold and predicted spans. Each span is matched at
  // most once (duplicates count as separate entities).
  void AddSpans(const std::vector<LabeledSpan>& gold, const std::vector<LabeledSpan>& predicted);

  // Adds one sentence of gold and predicted tags (equal lengths expected; a shorter predicted
  // sequence is read as padded with O). Chunked with ChunkTags.
  void AddTags(const std::vector<std::string>& gold, const std::vector<std::string>& predicted);

  // Adds the counts of another evaluator.
  void Merge(const EntityEvaluator& other);

  // Scores over everything added so far.
  EntityEvalReport Report() const;

 private:
  struct Counts {
    size_t gold = 0;
    size_t predicted = 0;
    size_t correct = 0;
  };
  std::map<std::string, Counts, std::less<>> counts_;
};

}  // namespace lote::extract

#endif  // LOTE_EXTRACT_ENTITY_EVAL_H_
