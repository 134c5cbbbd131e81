// The tagger's model: tag set and transition mask, the inline weight table used for inference,
// and the model file sections (ToModelFile / FromModelFile).
#include "tagger_model.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>

#include "lote/extract/tagger.h"
#include "lote/model/bytes.h"
#include "tagger_features.h"
#include "tagger_gazetteer.h"

namespace lote::extract {

namespace {

// Section format versions; a reader refuses versions it does not know (bump on any change).
constexpr uint32_t kConfigFormat = 1;
constexpr uint32_t kWeightsFormat = 1;
constexpr uint32_t kDocFormat = 1;

}  // namespace

uint64_t internal::NextModelUid() {
  static std::atomic<uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

TaggerState::TaggerState() : b_(std::make_unique<internal::TaggerBuffers>()) {}
TaggerState::~TaggerState() = default;
TaggerState::TaggerState(TaggerState&&) noexcept = default;
TaggerState& TaggerState::operator=(TaggerState&&) noexcept = default;

Status internal::TaggerModel::SetTags(std::vector<std::string> tag_names) {
  if (tag_names.empty() || tag_names[0] != "O") {
    return DataLossError("tagger.tags: the first tag must be O");
  }
  if (tag_names.size() > 255) return DataLossError("tagger.tags: more than 255 tags");
  tags = std::move(tag_names);
  types.clear();
  tag_type.assign(tags.size(), -1);
  tag_is_begin.assign(tags.size(), 0);
  std::map<std::string, int> type_ids;
  for (size_t t = 1; t < tags.size(); ++t) {
    const ParsedTag p = ParseTag(tags[t]);
    if (p.prefix != 'B' && p.prefix != 'I') {
      return DataLossError("tagger.tags: tag " + std::to_string(t) + " is not B-X or I-X");
    }
    auto [it, inserted] = type_ids.emplace(std::string(p.type), 0);
    if (inserted) types.emplace_back(p.type);
    tag_is_begin[t] = p.prefix == 'B';
  }
  std::sort(types.begin(), types.end());
  for (size_t i = 0; i < types.size(); ++i) type_ids[types[i]] = static_cast<int>(i);
  for (size_t t = 1; t < tags.size(); ++t)
    tag_type[t] = type_ids[std::string(ParseTag(tags[t]).type)];
  return Status::Ok();
}

void internal::TaggerModel::BuildMask() { MaskTransitions(trans, &masked); }

void internal::TaggerModel::MaskTransitions(const std::vector<float>& from,
                                            std::vector<float>* out) const {
  const size_t n = T();
  out->assign((n + 1) * n, 0.0f);
  for (size_t p = 0; p <= n; ++p) {
    for (size_t t = 0; t < n; ++t) {
      // IOB2: I-X only after B-X or I-X; never at the start.
      bool ok = true;
      if (t > 0 && !tag_is_begin[t]) ok = p < n && p > 0 && tag_type[p] == tag_type[t];
      (*out)[p * n + t] = ok ? from[p * n + t] : kForbidden;
    }
  }
}

void internal::TaggerModel::InitInline(std::vector<uint64_t> keys) {
  size_t cap = 16;
  while (cap < keys.size() + keys.size() / 2) cap *= 2;  // load factor at most 2/3
  inline_slots.assign(cap, InlineSlot{});
  inline_mask = cap - 1;
  inline_keys = std::move(keys);
}

internal::TaggerModel::InlineSlot* internal::TaggerModel::InsertInline(uint64_t key) {
  const uint64_t k = key ? key : 1;
  size_t pos = static_cast<size_t>(k) & inline_mask;
  for (; inline_slots[pos].key != 0; pos = (pos + 1) & inline_mask) {
    if (inline_slots[pos].key == k) return nullptr;
  }
  inline_slots[pos].key = k;
  return &inline_slots[pos];
}

void internal::TaggerModel::BuildInline() {
  if (!UsesInline()) return;
  const size_t nt = T();
  InitInline(index.keys());
  for (size_t r = 0; r < inline_keys.size(); ++r) {
    InlineSlot* s = InsertInline(inline_keys[r]);
    for (size_t t = 0; t < nt; ++t)
      s->w[t] = static_cast<int16_t>(std::lround(weights[r * nt + t] / scale));
  }
  index = internal::FeatureIndex();
  weights = {};
}

const internal::TaggerModel::InlineSlot* internal::TaggerModel::FindInline(uint64_t key) const {
  const uint64_t k = key ? key : 1;
  for (size_t pos = static_cast<size_t>(k) & inline_mask;; pos = (pos + 1) & inline_mask) {
    const InlineSlot& s = inline_slots[pos];
    if (s.key == k) return &s;
    if (s.key == 0) return nullptr;
  }
}

EntityTagger::EntityTagger(std::unique_ptr<internal::TaggerModel> model) : m_(std::move(model)) {}
EntityTagger::EntityTagger(EntityTagger&&) noexcept = default;
EntityTagger& EntityTagger::operator=(EntityTagger&&) noexcept = default;
EntityTagger::~EntityTagger() = default;

const std::vector<std::string>& EntityTagger::tag_names() const { return m_->tags; }
const std::vector<std::string>& EntityTagger::entity_types() const { return m_->types; }
const std::string& EntityTagger::meta_json() const { return m_->meta_json; }
const std::string& EntityTagger::version_id() const { return m_->version_id; }
int EntityTagger::doc_window() const { return m_->doc ? static_cast<int>(m_->doc_window) : 0; }

// ---------------------------------------------------------------------------------------------
// Serialization.

namespace {

std::string WriteWeightsImpl(const std::vector<float>& weights, const std::vector<uint64_t>& keys,
                             float scale, const std::vector<float>& trans, size_t nt) {
  // Rows are stored sparse (tag id + int16 step count per non-zero weight): most features
  // only ever touch a few tags, which keeps models with many types small.
  std::vector<uint8_t> nnz, ids;
  std::vector<int16_t> values;
  const size_t rows = keys.size();
  nnz.reserve(rows);
  for (size_t r = 0; r < rows; ++r) {
    uint8_t c = 0;
    for (size_t t = 0; t < nt; ++t) {
      const float w = weights[r * nt + t];
      if (w != 0.0f) {
        ++c;
        ids.push_back(static_cast<uint8_t>(t));
        values.push_back(static_cast<int16_t>(std::lround(w / scale)));
      }
    }
    nnz.push_back(c);
  }
  model::ByteWriter w;
  w.Put<uint32_t>(kWeightsFormat);
  w.Put<uint32_t>(static_cast<uint32_t>(nt));
  w.PutVector(keys);
  w.Put<float>(scale);
  w.PutVector(nnz);
  w.PutVector(ids);
  w.PutVector(values);
  w.PutVector(trans);
  return w.Release();
}

}  // namespace

std::string internal::TaggerModel::WriteWeights() const {
  if (inline_slots.empty()) return WriteWeightsImpl(weights, index.keys(), scale, trans, T());
  const size_t nt = T();
  std::vector<float> dense(inline_keys.size() * nt);
  for (size_t r = 0; r < inline_keys.size(); ++r) {
    const InlineSlot* s = FindInline(inline_keys[r]);
    for (size_t t = 0; t < nt; ++t) dense[r * nt + t] = static_cast<float>(s->w[t]) * scale;
  }
  return WriteWeightsImpl(dense, inline_keys, scale, trans, nt);
}

model::ModelFile internal::ToModelFile(const TaggerModel& m) {
  const size_t nt = m.T();
  model::ModelFile file;
  {
    model::ByteWriter w;
    w.Put<uint32_t>(kConfigFormat);
    w.Put<uint32_t>(internal::kFeatureVersion);
    w.Put<uint32_t>(static_cast<uint32_t>(nt));
    w.Put<float>(m.margin_scale);
    file.sections["tagger.config"] = w.Release();
  }
  {
    model::ByteWriter w;
    w.PutStrings(m.tags);
    file.sections["tagger.tags"] = w.Release();
  }
  m.lexicon.Serialize(&file.sections["tagger.lexicon"]);
  m.entities.Serialize(&file.sections["tagger.entities"]);
  m.gazetteer.Serialize(&file.sections["tagger.gazetteer"]);
  file.sections["tagger.weights"] = m.WriteWeights();
  if (m.doc) {
    model::ByteWriter w;
    w.Put<uint32_t>(kDocFormat);
    w.Put<uint32_t>(m.doc_window);
    file.sections["tagger.doc.config"] = w.Release();
    file.sections["tagger.doc.weights"] = m.doc->WriteWeights();
  }
  file.sections["meta"] = m.meta_json;
  return file;
}

model::ModelFile EntityTagger::ToModelFile() const { return internal::ToModelFile(*m_); }

namespace {

Result<std::string_view> Section(const model::ModelFile& file, const std::string& name) {
  auto it = file.sections.find(name);
  if (it == file.sections.end()) return NotFoundError("tagger model: section " + name + " missing");
  return std::string_view(it->second);
}

}  // namespace

Status internal::TaggerModel::ParseWeights(std::string_view bytes, const char* what) {
  const size_t nt = T();

  model::ByteReader r(bytes, what);
  uint32_t wformat = 0, wnt = 0;
  LOTE_RETURN_IF_ERROR(r.Get(&wformat));
  if (wformat != kWeightsFormat) {
    return FailedPreconditionError(std::string(what) + ": format " + std::to_string(wformat) +
                                   " unknown");
  }
  LOTE_RETURN_IF_ERROR(r.Get(&wnt));
  if (wnt != T())
    return DataLossError(std::string(what) + ": tag count disagrees with tagger.config");
  std::vector<uint64_t> keys;
  std::vector<uint8_t> nnz, ids;
  std::vector<int16_t> values;
  LOTE_RETURN_IF_ERROR(r.GetVector(&keys));
  LOTE_RETURN_IF_ERROR(r.Get(&scale));
  LOTE_RETURN_IF_ERROR(r.GetVector(&nnz));
  LOTE_RETURN_IF_ERROR(r.GetVector(&ids));
  LOTE_RETURN_IF_ERROR(r.GetVector(&values));
  LOTE_RETURN_IF_ERROR(r.GetVector(&trans));
  LOTE_RETURN_IF_ERROR(r.ExpectEnd());
  if (nnz.size() != keys.size() || ids.size() != values.size() ||
      trans.size() != (static_cast<size_t>(nt) + 1) * nt || !std::isfinite(scale)) {
    return DataLossError(std::string(what) + ": inconsistent sizes");
  }
  // Straight into the inline table when it applies (no float copy of the weights in between).
  const bool use_inline = UsesInline();
  const size_t rows = keys.size();
  if (use_inline) {
    InitInline(std::move(keys));
  } else {
    weights.assign(rows * nt, 0.0f);
  }
  size_t at = 0;
  for (size_t row = 0; row < rows; ++row) {
    if (ids.size() - at < nnz[row])
      return DataLossError(std::string(what) + ": inconsistent sizes");
    InlineSlot* slot = use_inline ? InsertInline(inline_keys[row]) : nullptr;
    if (use_inline && slot == nullptr) return DataLossError(std::string(what) + ": duplicate keys");
    for (uint8_t c = 0; c < nnz[row]; ++c, ++at) {
      if (ids[at] >= nt) return DataLossError(std::string(what) + ": tag id out of range");
      if (slot) {
        slot->w[ids[at]] = values[at];
      } else {
        weights[row * nt + ids[at]] = static_cast<float>(values[at]) * scale;
      }
    }
  }
  if (at != ids.size()) return DataLossError(std::string(what) + ": inconsistent sizes");
  if (use_inline) return Status::Ok();
  index.Build(keys);
  if (index.size() != keys.size()) return DataLossError(std::string(what) + ": duplicate keys");
  return Status::Ok();
}

Result<EntityTagger> EntityTagger::FromModelFile(const model::ModelFile& file) {
  auto m = std::make_unique<internal::TaggerModel>();
  LOTE_ASSIGN_OR_RETURN(std::string_view config, Section(file, "tagger.config"));
  LOTE_ASSIGN_OR_RETURN(std::string_view tags, Section(file, "tagger.tags"));
  LOTE_ASSIGN_OR_RETURN(std::string_view lexicon, Section(file, "tagger.lexicon"));
  LOTE_ASSIGN_OR_RETURN(std::string_view weights, Section(file, "tagger.weights"));
  LOTE_ASSIGN_OR_RETURN(std::string_view entities, Section(file, "tagger.entities"));
  LOTE_ASSIGN_OR_RETURN(std::string_view meta, Section(file, "meta"));

  uint32_t format = 0, feature_version = 0, nt = 0;
  {
    model::ByteReader r(config, "tagger.config");
    LOTE_RETURN_IF_ERROR(r.Get(&format));
    if (format != kConfigFormat) {
      return FailedPreconditionError("tagger.config: format " + std::to_string(format) +
                                     " unknown (this build reads " + std::to_string(kConfigFormat) +
                                     ")");
    }
    LOTE_RETURN_IF_ERROR(r.Get(&feature_version));
    if (feature_version != internal::kFeatureVersion) {
      return FailedPreconditionError(
          "tagger.config: model uses feature version " + std::to_string(feature_version) +
          ", this build computes version " + std::to_string(internal::kFeatureVersion) +
          " (retrain the model)");
    }
    LOTE_RETURN_IF_ERROR(r.Get(&nt));
    LOTE_RETURN_IF_ERROR(r.Get(&m->margin_scale));
    LOTE_RETURN_IF_ERROR(r.ExpectEnd());
    if (!(m->margin_scale > 0)) return DataLossError("tagger.config: bad margin scale");
  }
  {
    model::ByteReader r(tags, "tagger.tags");
    std::vector<std::string> names;
    LOTE_RETURN_IF_ERROR(r.GetStrings(&names));
    LOTE_RETURN_IF_ERROR(r.ExpectEnd());
    LOTE_RETURN_IF_ERROR(m->SetTags(std::move(names)));
    if (m->T() != nt) return DataLossError("tagger.tags: tag count disagrees with tagger.config");
  }
  LOTE_RETURN_IF_ERROR(m->lexicon.Parse(lexicon));
  LOTE_RETURN_IF_ERROR(m->entities.Parse(entities));
  // After the feature version check: older models have no gazetteer section.
  LOTE_ASSIGN_OR_RETURN(std::string_view gazetteer, Section(file, "tagger.gazetteer"));
  LOTE_RETURN_IF_ERROR(m->gazetteer.Parse(gazetteer));
  LOTE_RETURN_IF_ERROR(m->ParseWeights(weights, "tagger.weights"));
  if (file.sections.count("tagger.doc.config")) {
    LOTE_ASSIGN_OR_RETURN(std::string_view dconfig, Section(file, "tagger.doc.config"));
    LOTE_ASSIGN_OR_RETURN(std::string_view dweights, Section(file, "tagger.doc.weights"));
    model::ByteReader r(dconfig, "tagger.doc.config");
    uint32_t dformat = 0;
    LOTE_RETURN_IF_ERROR(r.Get(&dformat));
    if (dformat != kDocFormat) {
      return FailedPreconditionError("tagger.doc.config: format " + std::to_string(dformat) +
                                     " unknown");
    }
    LOTE_RETURN_IF_ERROR(r.Get(&m->doc_window));
    LOTE_RETURN_IF_ERROR(r.ExpectEnd());
    m->doc = std::make_unique<internal::TaggerModel>();
    LOTE_RETURN_IF_ERROR(m->doc->SetTags(m->tags));
    LOTE_RETURN_IF_ERROR(m->doc->ParseWeights(dweights, "tagger.doc.weights"));
    m->doc->BuildMask();
  }
  m->BuildMask();
  m->meta_json.assign(meta);
  const nlohmann::json j = nlohmann::json::parse(meta, nullptr, /*allow_exceptions=*/false);
  if (j.is_object()) {
    // Checked before reading: nlohmann throws on a field of another type.
    for (const char* field : {"name", "version_id"}) {
      auto it = j.find(field);
      if (it != j.end() && !it->is_string()) {
        return DataLossError(std::string("tagger meta: '") + field + "' is not a string");
      }
    }
    m->name = j.value("name", std::string("tagger"));
    m->version_id = j.value("version_id", std::string());
  }
  if (m->version_id.empty()) m->version_id = model::VersionId(m->name, file);
  return EntityTagger(std::move(m));
}

}  // namespace lote::extract
