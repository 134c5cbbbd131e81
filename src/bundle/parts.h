// Loading of the model parts that live in other modules (private to bundle/).
#ifndef LOTE_SRC_BUNDLE_PARTS_H_
#define LOTE_SRC_BUNDLE_PARTS_H_

#include <string_view>

#include "lote/bundle/model.h"

namespace lote::bundle {

// Loads the "tagger.*" sections of `file` into m->tagger.
Status LoadTaggerPart(const model::ModelFile& file, std::string_view source, Model* m);

}  // namespace lote::bundle

#endif  // LOTE_SRC_BUNDLE_PARTS_H_
