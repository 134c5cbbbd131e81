// Private to the tagger: word lists from reference data that Debian ships (Spanish proper nouns
// of the hunspell-es dictionary, country names in Spanish and country subdivisions from
// iso-codes, given names and surnames from python3-fake-factory). They tell the tagger what the
// training data cannot: that "Abejorral" is a place name although it never occurs in the training
// text.
#ifndef LOTE_SRC_EXTRACT_TAGGER_GAZETTEER_H_
#define LOTE_SRC_EXTRACT_TAGGER_GAZETTEER_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "lote/base/status.h"
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
// model tags the same on machines without the source files.
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

// A file a gazetteer was built from.
struct GazetteerSource {
  std::string path;
  std::string sha256;
  size_t words = 0;  // words it contributed (before merging)
};

// Adds the word lists found under `root` (normally "/": the files live in /usr/share) to *g:
//   usr/share/hunspell/es_ES.dic                  capitalised, all-letter entries (hunspell-es)
//   usr/share/iso-codes/json/iso_3166-1.json  +   country names, translated to Spanish with
//   usr/share/locale/es/LC_MESSAGES/iso_3166-1.mo
//   usr/share/iso-codes/json/iso_3166-2.json      subdivision names (iso-codes)
//   usr/lib/python3/dist-packages/faker/providers/person/{es_ES,es_MX,en_US}/__init__.py
//                                                 given names and surnames (python3-fake-factory)
// Names are split into words at spaces and punctuation; words of one or two letters are skipped.
// Missing files are skipped and listed in *missing; files that exist but cannot be parsed are a
// DataLoss error naming the file. Does not call Finish.
Status LoadSystemGazetteer(const std::string& root, WordGazetteer* g,
                           std::vector<GazetteerSource>* used, std::vector<std::string>* missing);

// Parses a GNU gettext message catalog (.mo, either byte order) into msgid -> msgstr.
// Errors: DataLoss naming `name` for a bad magic number or offsets outside the file.
Result<std::map<std::string, std::string>> ParseMoCatalog(std::string_view bytes,
                                                          const std::string& name);

}  // namespace lote::extract::internal

#endif  // LOTE_SRC_EXTRACT_TAGGER_GAZETTEER_H_
