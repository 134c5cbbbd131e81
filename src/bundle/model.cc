#include "lote/bundle/model.h"

#include <nlohmann/json.hpp>

#include "bundle/parts.h"
#include "lote/base/version.h"

namespace lote::bundle {

std::string FinishModelFile(model::ModelFile* file, std::string_view name,
                            std::string_view created_at, std::string_view parts_json,
                            std::string* version_id) {
  file->sections.erase("meta");
  const std::string vid = model::VersionId(name, *file);
  nlohmann::ordered_json meta;
  meta["format"] = "lote-model";
  meta["name"] = std::string(name);
  meta["version_id"] = vid;
  meta["created_at"] = std::string(created_at);
  meta["lote_version"] = std::string(Version());
  meta["parts"] = nlohmann::ordered_json::parse(parts_json, nullptr, false);
  file->sections["meta"] = meta.dump();
  if (version_id) *version_id = vid;
  return model::SerializeModelFile(*file);
}

Result<Model> LoadModel(std::string_view bytes, std::string_view source) {
  const std::string src(source);
  LOTE_ASSIGN_OR_RETURN(model::ModelFile file, model::ParseModelFile(bytes, source));
  Model m;
  auto meta_it = file.sections.find("meta");
  if (meta_it == file.sections.end()) return DataLossError(src + ": model has no meta section");
  auto meta = nlohmann::json::parse(meta_it->second, nullptr, false);
  if (!meta.is_object() || !meta.contains("name") || !meta["name"].is_string()) {
    return DataLossError(src + ": model meta section is not valid");
  }
  // nlohmann's value() throws on a field of another type: a file with a valid checksum but a
  // hand-edited meta must be an error, not an exception.
  for (const char* key : {"created_at", "version_id"}) {
    if (meta.contains(key) && !meta[key].is_string()) {
      return DataLossError(src + ": model meta field '" + key + "' is not a string");
    }
  }
  m.name = meta["name"].get<std::string>();
  m.created_at = meta.value("created_at", "");
  m.version_id = model::VersionId(m.name, file);
  if (meta.value("version_id", "") != m.version_id) {
    return DataLossError(src + ": model version id does not match its content");
  }
  m.meta_json = meta_it->second;
  bool any = false;
  if (file.sections.count("classifier.config")) {
    LOTE_ASSIGN_OR_RETURN(m.classifier, classify::IntentClassifier::Load(file, source));
    any = true;
  }
  if (file.sections.count("tagger.config")) {
    LOTE_RETURN_IF_ERROR(LoadTaggerPart(file, source, &m));
    any = true;
  }
  if (!any) return InvalidArgumentError(src + ": model file holds no classifier and no tagger");
  m.file = std::move(file);
  return m;
}

Result<std::string> BundleModels(const std::vector<const Model*>& parts, std::string_view name,
                                 std::string_view created_at, std::string* version_id) {
  model::ModelFile out;
  nlohmann::ordered_json parts_meta = nlohmann::ordered_json::object();
  bool has_classifier = false, has_tagger = false;
  for (const Model* p : parts) {
    if (p->classifier && has_classifier) {
      return InvalidArgumentError("bundle: more than one part holds a classifier");
    }
    if (p->tagger && has_tagger)
      return InvalidArgumentError("bundle: more than one part holds a tagger");
    has_classifier |= p->classifier != nullptr;
    has_tagger |= p->tagger != nullptr;
    for (const auto& [sec, data] : p->file.sections) {
      if (sec != "meta") out.sections[sec] = data;
    }
    auto meta = nlohmann::ordered_json::parse(p->meta_json, nullptr, false);
    if (meta.contains("parts") && meta["parts"].is_object()) {
      for (auto& [k, v] : meta["parts"].items()) {
        if (v.is_object()) v["from_model"] = p->version_id;  // operator[] throws on a non-object
        parts_meta[k] = v;
      }
    }
  }
  return FinishModelFile(&out, name, created_at, parts_meta.dump(), version_id);
}

}  // namespace lote::bundle
