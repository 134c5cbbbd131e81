// Snowball stemmers (libstemmer) for Spanish and English.
// Thread-safety: libstemmer state is per instance; a Stemmer must not be shared between threads
// (keep one per worker thread).
#ifndef LOTE_TEXT_STEMMER_H_
#define LOTE_TEXT_STEMMER_H_

#include <memory>
#include <string>
#include <string_view>

#include "lote/base/status.h"

namespace lote::text {

class Stemmer {
 public:
  // `language`: "spanish" or "english" (any Snowball algorithm name libstemmer knows).
  // NotFound for an unknown language.
  static Result<std::unique_ptr<Stemmer>> Create(std::string_view language);
  ~Stemmer();

  // Stem of a lower-case UTF-8 word (normalize first: libstemmer expects lower case and, for
  // Spanish, handles accents itself). The returned view points into the Stemmer and is valid
  // until the next call. Words over 1024 bytes are returned unchanged.
  std::string_view Stem(std::string_view word);

 private:
  Stemmer() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace lote::text

#endif  // LOTE_TEXT_STEMMER_H_
