// A loaded lote model: the parts one model file holds (an intent classifier, an entity tagger,
// or both after `lote bundle`), its name and version id, and its metadata.
//
// Meta JSON ("meta" section): {"format": "lote-model", "name", "version_id", "created_at",
// "lote_version", "parts": {"classifier": {...}, "tagger": {...}}}.
// Thread-safety: a Model is immutable after Load/Build; its parts are shared and thread-safe.
#ifndef LOTE_BUNDLE_MODEL_H_
#define LOTE_BUNDLE_MODEL_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "lote/base/status.h"
#include "lote/classify/intent_classifier.h"
#include "lote/model/model_file.h"

namespace lote::extract {
class EntityTagger;
}

namespace lote::bundle {

struct Model {
  std::string name;
  std::string version_id;  // "<name>-<12 hex of content checksum>"
  std::string created_at;  // ISO 8601 UTC
  std::string meta_json;   // the whole "meta" section
  std::shared_ptr<const classify::IntentClassifier> classifier;  // may be null
  std::shared_ptr<const extract::EntityTagger> tagger;           // may be null
  model::ModelFile file;  // the sections as read (a bundle copies them)
};

// Parses, verifies and loads every part. Errors: see model::ParseModelFile, plus DataLoss for
// an inconsistent part and InvalidArgument for a file that holds no known part.
Result<Model> LoadModel(std::string_view bytes, std::string_view source);

// Writes "meta" for the sections already in `file` and returns the serialized model file.
// `parts_json` is a JSON object text {"classifier": {...}, ...}.
std::string FinishModelFile(model::ModelFile* file, std::string_view name,
                            std::string_view created_at, std::string_view parts_json,
                            std::string* version_id);

// Combines the sections of several loaded models into one file (at most one classifier and one
// tagger: InvalidArgument otherwise).
Result<std::string> BundleModels(const std::vector<const Model*>& parts, std::string_view name,
                                 std::string_view created_at, std::string* version_id);

}  // namespace lote::bundle

#endif  // LOTE_BUNDLE_MODEL_H_
