#include "lote/text/stemmer.h"

#include <libstemmer.h>

#include <string>

namespace lote::text {

struct Stemmer::Impl {
  sb_stemmer* stemmer = nullptr;
  ~Impl() {
    if (stemmer != nullptr) sb_stemmer_delete(stemmer);
  }
};

Result<std::unique_ptr<Stemmer>> Stemmer::Create(std::string_view language) {
  const std::string name(language);  // libstemmer wants a NUL-terminated name
  sb_stemmer* stemmer = sb_stemmer_new(name.c_str(), "UTF_8");
  if (stemmer == nullptr) {
    return NotFoundError("no Snowball stemmer for language '" + name.substr(0, 32) + "'");
  }
  std::unique_ptr<Stemmer> result(new Stemmer());
  result->impl_ = std::make_unique<Impl>();
  result->impl_->stemmer = stemmer;
  return result;
}

Stemmer::~Stemmer() = default;

std::string_view Stemmer::Stem(std::string_view word) {
  // libstemmer takes an int length; words this long are not words, leave them alone.
  if (word.size() > 1024) return word;
  const sb_symbol* stem =
      sb_stemmer_stem(impl_->stemmer, reinterpret_cast<const sb_symbol*>(word.data()),
                      static_cast<int>(word.size()));
  if (stem == nullptr) return word;  // out of memory inside libstemmer: the word is its own stem
  return {reinterpret_cast<const char*>(stem),
          static_cast<size_t>(sb_stemmer_length(impl_->stemmer))};
}

}  // namespace lote::text
