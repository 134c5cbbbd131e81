// Reference word lists the entity tagger learns from (TaggerTrainOptions::word_lists): what the
// training data cannot say, that "Abejorral" is a place name although it never occurs there.
// The caller reads the lists (lote's CLI reads Debian's hunspell-es, iso-codes and
// python3-fake-factory files) and hands their bytes over; the library parses bytes only and
// never opens a file, so the same lists give the same model on any machine.
#ifndef LOTE_EXTRACT_WORD_LIST_H_
#define LOTE_EXTRACT_WORD_LIST_H_

#include <optional>
#include <string>
#include <string_view>

namespace lote::extract {

// How a list's bytes are read, and which class of word it gives (one feature bit each).
enum class WordListKind {
  // A hunspell dictionary (.dic: an entry count, then "word/FLAGS" lines): its capitalised
  // entries made only of letters are proper nouns.
  kSpellingDictionary,
  // iso-codes' iso_3166-1.json: the words of every country's name, common name and official
  // name, translated with the kCountryNameTranslations catalogs given (untranslated names are
  // kept as written).
  kCountryNames,
  // A GNU gettext .mo catalog translating kCountryNames (iso-codes' es/iso_3166-1.mo). Gives no
  // words of its own.
  kCountryNameTranslations,
  // iso-codes' iso_3166-2.json: the words of every country subdivision's name.
  kSubdivisionNames,
  // A Faker person provider (python3-fake-factory's faker/providers/person/LOCALE/__init__.py):
  // the string literals of the tuples, lists or OrderedDicts assigned to names containing
  // "first_name" or "last_name" are given names and surnames.
  kPersonNames,
};

// "spelling-dictionary", "country-names", "country-name-translations", "subdivision-names",
// "person-names": the names the model's meta records and the CLI accepts.
std::string_view WordListKindName(WordListKind kind);
// The kind named `name` (as WordListKindName writes it); nullopt for any other name.
std::optional<WordListKind> ParseWordListKind(std::string_view name);

// One list as the caller read it.
struct WordList {
  // Recorded in the model with the bytes' SHA-256: say what the list is
  // ("/usr/share/hunspell/es_ES.dic"), not where this machine happened to keep a copy, or the
  // same lists give different model files on different machines.
  std::string name;
  WordListKind kind = WordListKind::kSpellingDictionary;
  std::string bytes;  // the file's contents
  // Where the bytes came from (a path), for error messages only; not stored in the model.
  std::string origin;
};

}  // namespace lote::extract

#endif  // LOTE_EXTRACT_WORD_LIST_H_
