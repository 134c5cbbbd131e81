#include <nlohmann/json.hpp>

#include "bundle/parts.h"
#include "lote/extract/tagger.h"

namespace lote::bundle {

Status LoadTaggerPart(const model::ModelFile& file, std::string_view source, Model* m) {
  // The tagger reads its own name and version id from "meta". In a lote model file "meta" is
  // the bundle's (its "parts.tagger" member holds what the tagger wrote), so the tagger gets a
  // view of the file whose meta is that member; without one (an old or hand-made file) the
  // tagger falls back to the file's meta.
  model::ModelFile view;
  for (const auto& [name, data] : file.sections) {
    if (name.starts_with("tagger.")) view.sections[name] = data;
  }
  std::string meta;
  if (auto it = file.sections.find("meta"); it != file.sections.end()) {
    meta = it->second;
    const auto j = nlohmann::json::parse(it->second, nullptr, /*allow_exceptions=*/false);
    if (j.is_object() && j.contains("parts") && j["parts"].is_object() &&
        j["parts"].contains("tagger") && j["parts"]["tagger"].is_object()) {
      meta = j["parts"]["tagger"].dump();
    }
  }
  // The tagger reads "name" and "version_id" from its meta with nlohmann's value(), which throws
  // on another type (src/extract/tagger.cc): a hand-edited file must be DataLoss instead.
  const auto view_meta = nlohmann::json::parse(meta, nullptr, /*allow_exceptions=*/false);
  if (view_meta.is_object()) {
    for (const char* key : {"name", "version_id"}) {
      if (view_meta.contains(key) && !view_meta[key].is_string()) {
        return DataLossError(std::string(source) + ": tagger meta field '" + key +
                             "' is not a string");
      }
    }
  }
  view.sections["meta"] = std::move(meta);
  auto tagger = extract::EntityTagger::FromModelFile(view);
  if (!tagger.ok()) {
    return Status(tagger.status().code(), std::string(source) + ": " + tagger.status().message());
  }
  m->tagger = std::make_shared<const extract::EntityTagger>(std::move(*tagger));
  return Status::Ok();
}

}  // namespace lote::bundle
