// Entity: one typed span found in a text, shared by the pattern extractor (patterns.h), the
// model tagger and the PII redactor (redactor.h). Plain value type, copyable, thread-compatible.
#ifndef LOTE_EXTRACT_ENTITY_H_
#define LOTE_EXTRACT_ENTITY_H_

#include <cstdint>
#include <string>
#include <vector>

namespace lote::extract {

struct Entity {
  enum class Source : uint8_t { kPattern, kModel };

  std::string type;  // "PHONE", "MONEY", "PER", ...
  // Code point offsets into the ORIGINAL text given to the extractor, end exclusive.
  uint32_t start = 0;
  uint32_t end = 0;
  std::string text;        // the original text of [start, end)
  std::string value_json;  // normalized value as JSON text ("\"+573001234567\""), empty if none
  float score = 1.0f;      // 1 for patterns; model confidence in [0, 1] for model entities
  Source source = Source::kPattern;
};

// True for pattern types whose value carries a verified check digit (CARD: Luhn, NIT: DIAN dv).
bool HasCheckDigit(const Entity& e);

// Keeps a set of non-overlapping entities and returns them sorted by start.
//
// Rule (greedy, deterministic): candidates are ranked by
//   1. longer span first (end - start, in code points);
//   2. then rank: pattern type with a check digit (CARD, NIT) > other pattern > model;
//   3. then higher score;  4. then earlier start;  5. then type name (alphabetical);
// and accepted in that order when they do not overlap an already accepted entity. So on an exact
// tie of span a Luhn-checked CARD wins over a model's ACCOUNT, and any pattern wins over a model
// entity. Empty spans (start >= end) are dropped. Thread-safe (pure function).
std::vector<Entity> ResolveOverlaps(std::vector<Entity> entities);

}  // namespace lote::extract

#endif  // LOTE_EXTRACT_ENTITY_H_
