#include "bundle/parts.h"

namespace lote::bundle {

// Replaced when the entity tagger lands (issue 3).
Status LoadTaggerPart(const model::ModelFile&, std::string_view source, Model*) {
  return UnimplementedError(std::string(source) + ": this lote build cannot load tagger parts yet");
}

}  // namespace lote::bundle
