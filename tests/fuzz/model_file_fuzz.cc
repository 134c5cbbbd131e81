// Fuzzes the model file container (model::ParseModelFile, src/model/model_file.cc) and loading
// a model through bundle::LoadModel (classifier and tagger sections). Input: a model file.
//
// A mutated file almost never keeps a valid SHA-256, so the container alone would stop every
// input at the checksum. The target therefore also re-frames the input: the bytes between the
// 20-byte header and the last 32 become the payload, with a correct length and checksum, and
// the "meta" section gets the version id of the mutated content. What LoadModel then parses is
// what a hand-edited file with a recomputed checksum would give it.
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "fuzz_util.h"
#include "lote/base/digest.h"
#include "lote/bundle/model.h"
#include "lote/extract/tagger.h"
#include "lote/model/model_file.h"

namespace {

using lote::fuzz::Check;

constexpr size_t kHeader = 8 + 4 + 8;  // magic, version, payload length
constexpr size_t kDigest = 32;

bool IsParseError(lote::StatusCode code) {
  return code == lote::StatusCode::kInvalidArgument ||
         code == lote::StatusCode::kFailedPrecondition || code == lote::StatusCode::kDataLoss;
}

// The input with a valid header length and checksum around what lies between them.
std::string Reframe(std::string_view data) {
  std::string_view payload = data.size() > kHeader ? data.substr(kHeader) : std::string_view();
  if (data.size() >= kHeader + kDigest) payload.remove_suffix(kDigest);
  std::string out(lote::model::kModelMagic, sizeof(lote::model::kModelMagic));
  uint32_t version = lote::model::kModelFormatVersion;
  if (data.size() >= 12) std::memcpy(&version, data.data() + 8, 4);
  const uint64_t len = payload.size();
  out.append(reinterpret_cast<const char*>(&version), 4);
  out.append(reinterpret_cast<const char*>(&len), 8);
  out.append(payload);
  lote::Sha256 h;
  h.Update(payload);
  const auto md = h.Final();
  out.append(reinterpret_cast<const char*>(md.data()), md.size());
  return out;
}

void LoadAndUse(const lote::model::ModelFile& parsed) {
  lote::model::ModelFile file = parsed;
  if (auto it = file.sections.find("meta"); it != file.sections.end()) {
    auto meta = nlohmann::json::parse(it->second, nullptr, /*allow_exceptions=*/false);
    if (meta.is_object() && meta.contains("name") && meta["name"].is_string()) {
      meta["version_id"] =
          lote::model::VersionId(meta["name"].get<std::string>(), file);  // meta is not hashed
      it->second = meta.dump();
    }
  }
  const std::string bytes = lote::model::SerializeModelFile(file);
  auto model = lote::bundle::LoadModel(bytes, "fuzz.lote");
  if (!model.ok()) {
    const auto code = model.status().code();
    Check(IsParseError(code) || code == lote::StatusCode::kNotFound, "LoadModel error codes");
    return;
  }
  Check(model->classifier != nullptr || model->tagger != nullptr, "a model holds a part");
  const std::string_view text = "Transferí 200.000 a Juan Pérez el 3 de mayo, ¿llegó?";
  if (model->classifier) {
    auto state = model->classifier->NewState();
    lote::classify::ClassifierPrediction p;
    model->classifier->Predict(text, state.get(), 3, &p);
  }
  if (model->tagger) {
    lote::extract::TaggerState state;
    auto entities = model->tagger->Extract(text, &state);
    (void)entities;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  const std::string_view data(reinterpret_cast<const char*>(bytes), size);
  auto raw = lote::model::ParseModelFile(data, "fuzz.lote");
  if (raw.ok()) {
    // Sections are written sorted and unique: anything that parses is what Serialize writes.
    Check(lote::model::SerializeModelFile(*raw) == data, "parse then serialize is the identity");
  } else {
    Check(IsParseError(raw.status().code()), "ParseModelFile error codes");
  }
  auto fixed = lote::model::ParseModelFile(Reframe(data), "fuzz.lote");
  if (fixed.ok()) LoadAndUse(*fixed);
  return 0;
}
