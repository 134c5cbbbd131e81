// Private to the tagger: the word gazetteer built from the reference word lists the caller
// supplies (lote/extract/word_list.h), and the parsers of those lists' formats. Bytes in, words
// out: nothing here opens a file.
#ifndef LOTE_SRC_EXTRACT_TAGGER_GAZETTEER_H_
#define LOTE_SRC_EXTRACT_TAGGER_GAZETTEER_H_

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lote/base/status.h"
#include "lote/extract/word_list.h"
#include "tagger_features.h"

namespace lote::extract::internal {

// Classes of a word, OR-ed together (a word can be in several lists).
enum GazetteerBit : uint8_t {
  kGazProperNoun = 1,  // capitalised entry of the Spanish spelling dictionary
  kGazCountry = 2,     // word of a country name in Spanish (ISO 3166-1)
  kGazRegion = 4,      // word of a country subdivision name (ISO 3166-2)
  kGazPersonName = 8,  // given name or surname (Faker's es_ES, es_MX and en_US name lists)
};

// Lower-cased word hash -> class bits. Stored in the model (section "tagger.gazetteer"), so a
// model tags the same without the lists it was trained with.
class WordGazetteer {
 public:
  // `word`: UTF-8 as written; it is lower-cased and hashed as the tagger hashes tokens.
  void Add(std::string_view word, uint8_t bits);
  void Finish();  // sorts, merges duplicate words
  // Class bits of a token's lower-cased hash (TokenInfo::lower); 0 when not listed.
  uint32_t Lookup(uint64_t lower_hash) const;
  uint32_t LookupWord(std::string_view word);  // lower-cases and hashes `word` as Add does

  size_t size() const { return table_.size(); }

  void Serialize(std::string* out) const { table_.Serialize(out); }
  Status Parse(std::string_view bytes) { return table_.Parse(bytes, "tagger.gazetteer"); }

 private:
  std::vector<uint64_t> keys_;  // while adding
  std::vector<uint8_t> bits_;
  WordTable table_;
  std::string scratch_;
};

// A word list a gazetteer was built from, as the model's meta records it.
struct GazetteerSource {
  std::string name;
  WordListKind kind = WordListKind::kSpellingDictionary;
  std::string sha256;  // of the list's bytes
  size_t words = 0;    // words it contributed (before merging)
};

// Adds the words of `lists` (see WordListKind for what each kind gives) to *g and describes each
// list, in the order given, in *used. Names are split into words at spaces and punctuation;
// words of one or two letters are skipped. Country names are translated with every
// kCountryNameTranslations catalog of `lists`, whatever their order. Does not call Finish.
// Errors: DataLoss naming the list's origin (its name when origin is empty) when its bytes do
// not parse as its kind.
Status AddWordLists(std::span<const WordList> lists, WordGazetteer* g,
                    std::vector<GazetteerSource>* used);

// Parses a GNU gettext message catalog (.mo, either byte order) into msgid -> msgstr.
// Errors: DataLoss naming `name` for a bad magic number or offsets outside the file.
Result<std::map<std::string, std::string>> ParseMoCatalog(std::string_view bytes,
                                                          const std::string& name);

}  // namespace lote::extract::internal

#endif  // LOTE_SRC_EXTRACT_TAGGER_GAZETTEER_H_
