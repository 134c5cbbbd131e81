#include "pipeline/stage_files.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "lote/base/digest.h"
#include "lote/io/byte_source.h"

namespace lote::pipeline {

using nlohmann::json;

std::string StageFolder(std::string_view output_uri, std::string_view stage) {
  return storage::JoinUri(output_uri, "_stages/" + std::string(stage));
}

std::string StageKey(std::string_view uri, std::string_view content_id) {
  return Sha256Hex(std::string(uri) + "\n" + std::string(content_id)).substr(0, 24);
}

Status WriteMarker(storage::Storage* storage, std::string_view folder, StagedObject* o) {
  json j = {{"key", o->key},
            {"uri", o->uri},
            {"size", o->size},
            {"content_id", o->content_id},
            {"data_uris", o->data_uris},
            {"records", o->records},
            {"text_field", o->text_field},
            {"id_field", o->id_field},
            {"preprocess_version", o->preprocess_version},
            {"model_version", o->model_version},
            {"ingest_s", o->ingest_s},
            {"prep_s", o->prep_s},
            {"infer_s", o->infer_s}};
  if (!o->terms_json.empty()) j["terms"] = o->terms_json;
  if (!o->shadow_model_version.empty()) j["shadow_model_version"] = o->shadow_model_version;
  o->marker_uri = storage::JoinUri(folder, o->key + ".json");
  return storage->Write(o->marker_uri, j.dump() + "\n");
}

namespace {

Result<StagedObject> ParseMarker(const std::string& uri, const std::string& text) {
  StagedObject o;
  try {
    json j = json::parse(text);
    o.key = j.at("key").get<std::string>();
    o.uri = j.at("uri").get<std::string>();
    o.size = j.at("size").get<uint64_t>();
    o.content_id = j.at("content_id").get<std::string>();
    if (auto d = j.find("data_uris"); d != j.end()) {
      o.data_uris = d->get<std::vector<std::string>>();
    } else if (std::string one = j.at("data_uri").get<std::string>(); !one.empty()) {
      o.data_uris.push_back(std::move(one));  // a marker of lote before multi-part prep
    }
    o.records = j.at("records").get<uint64_t>();
    o.text_field = j.at("text_field").get<std::string>();
    o.id_field = j.at("id_field").get<std::string>();
    o.preprocess_version = j.at("preprocess_version").get<std::string>();
    o.model_version = j.at("model_version").get<std::string>();
    o.ingest_s = j.at("ingest_s").get<double>();
    o.prep_s = j.at("prep_s").get<double>();
    o.infer_s = j.at("infer_s").get<double>();
    if (auto t = j.find("terms"); t != j.end()) o.terms_json = t->get<std::string>();
    if (auto t = j.find("shadow_model_version"); t != j.end()) {
      o.shadow_model_version = t->get<std::string>();
    }
  } catch (const json::exception& e) {
    return DataLossError("stage marker " + uri + " is damaged: " + e.what());
  }
  o.marker_uri = uri;
  return o;
}

}  // namespace

Result<std::vector<StagedObject>> ListMarkers(const storage::Storage& storage,
                                              std::string_view folder) {
  std::vector<StagedObject> out;
  auto listed = storage.List(std::string(folder) + "/");
  if (!listed.ok()) {
    if (listed.status().code() == StatusCode::kNotFound) return out;
    return listed.status();
  }
  for (const auto& info : *listed) {
    // Markers only: data files sit next to them, and nothing below a sub-folder is ours.
    std::string_view name = std::string_view(info.uri).substr(folder.size() + 1);
    if (name.find('/') != std::string_view::npos || !name.ends_with(".json")) continue;
    LOTE_ASSIGN_OR_RETURN(std::string text, storage.Read(info.uri));
    LOTE_ASSIGN_OR_RETURN(StagedObject o, ParseMarker(info.uri, text));
    out.push_back(std::move(o));
  }
  return out;
}

Result<StagedObject> ReadMarker(const storage::Storage& storage, std::string_view folder,
                                std::string_view key) {
  std::string uri = storage::JoinUri(folder, std::string(key) + ".json");
  LOTE_ASSIGN_OR_RETURN(std::string text, storage.Read(uri));
  return ParseMarker(uri, text);
}

namespace {
std::string StagedReferenceUri(std::string_view folder, std::string_view model_version) {
  return storage::JoinUri(folder, "profiles/" + std::string(model_version) + ".json");
}
}  // namespace

Status WriteStagedReference(storage::Storage* storage, std::string_view folder,
                            std::string_view model_version, const monitoring::Profile& profile) {
  return storage->Write(StagedReferenceUri(folder, model_version), profile.ToJson());
}

Status DeleteStagedReference(storage::Storage* storage, std::string_view folder,
                             std::string_view model_version) {
  Status s = storage->Delete(StagedReferenceUri(folder, model_version));
  return s.code() == StatusCode::kNotFound ? Status::Ok() : s;
}

Result<std::shared_ptr<const monitoring::Profile>> ReadStagedReference(
    const storage::Storage& storage, std::string_view folder, std::string_view model_version) {
  const std::string uri = StagedReferenceUri(folder, model_version);
  auto text = storage.Read(uri);
  if (text.status().code() == StatusCode::kNotFound) {
    return std::shared_ptr<const monitoring::Profile>();
  }
  if (!text.ok()) return text.status();
  auto profile = monitoring::Profile::FromJson(*text);
  if (!profile.ok()) return profile.status().WithContext(uri);
  return std::shared_ptr<const monitoring::Profile>(
      std::make_shared<monitoring::Profile>(std::move(*profile)));
}

StageRecordInferer::StageRecordInferer(const InferenceEngine& engine, const InferenceEngine* shadow)
    : engine_(engine),
      shadow_(shadow),
      state_(engine.NewState()),
      shadow_state_(shadow != nullptr ? shadow->NewState() : nullptr) {}

void StageRecordInferer::CountTerms(std::string_view record_id, monitoring::TermSampler* sampler,
                                    monitoring::TermCounts* terms) const {
  engine_.CountTerms(state_.get(), record_id, sampler, terms);
}

bool StageRecordInferer::Infer(StageRecord* r) {
  if (!r->stage.empty()) return false;
  InferenceOutput& out = out_;
  out.Clear();
  Status s = engine_.Infer(r->text, state_.get(), &out);
  if (!s.ok()) {
    r->text.clear();
    r->stage = "infer";
    r->reason = s.ToString();
    return false;
  }
  // The challenger's failure leaves the record as the champion scored it (no shadow row), as in
  // lote run.
  if (shadow_ != nullptr) {
    InferenceOutput& challenger = challenger_;
    challenger.Clear();
    r->has_shadow = shadow_->Infer(r->text, shadow_state_.get(), &challenger).ok();
    if (r->has_shadow) {
      r->shadow_label = std::move(challenger.label);
      r->shadow_score = challenger.score;
      r->shadow_entities_json =
          challenger.entities_json.empty() ? "[]" : std::move(challenger.entities_json);
    }
  }
  r->text.clear();
  r->has_label = !out.label.empty();
  r->label = std::move(out.label);
  r->score = out.score;
  r->top_k = std::move(out.top_k);
  r->entities_json = out.entities_json.empty() ? "[]" : std::move(out.entities_json);
  r->signals = out.signals;
  return true;
}

std::string EncodeStageRecord(const StageRecord& r) {
  // Invalid UTF-8 can only reach here in a quarantine reason or record id (prep rejects or
  // repairs texts); nlohmann would throw on it, so replace it.
  json j = {{"id", r.record_id}, {"line", r.line}};
  if (!r.stage.empty()) {
    j["stage"] = r.stage;
    j["reason"] = r.reason;
  }
  if (!r.text.empty()) j["text"] = r.text;
  if (!r.lang.empty()) j["lang"] = r.lang;
  if (!r.text_hmac.empty()) j["hmac"] = r.text_hmac;
  if (!r.content_key.empty()) j["ckey"] = r.content_key;
  if (r.has_label) {
    j["label"] = r.label;
    j["score"] = r.score;
    json top = json::array();
    for (const auto& [l, s] : r.top_k) top.push_back({l, s});
    j["top_k"] = top;
  }
  if (!r.entities_json.empty()) j["entities"] = r.entities_json;
  if (r.has_shadow) {
    json sh = {{"entities", r.shadow_entities_json}};
    if (!r.shadow_label.empty()) {
      sh["label"] = r.shadow_label;
      sh["score"] = r.shadow_score;
    }
    j["shadow"] = std::move(sh);
  }
  if (r.signals.observed) {
    const RecordSignals& g = r.signals;
    const classify::VocabularyCounts& v = g.vocabulary;
    j["sig"] = {g.chars,
                v.words,
                v.unknown_words,
                v.char_ngrams,
                v.unknown_char_ngrams,
                g.abstained ? 1 : 0};
    // What the pattern extractors saw: the type bits, then candidates and failures of CEDULA,
    // NIT and CARD (counts only).
    if (const monitoring::EntityObservation& e = g.entities; e.observed) {
      json& s = j["sig"];
      s.push_back(e.types);
      for (int t = 0; t < extract::kCheckedTypes; ++t) {
        s.push_back(e.checks.candidates[t]);
        s.push_back(e.checks.failures[t]);
      }
    }
    // What the tagger saw: its sentences, then the sentences holding each type found.
    if (const monitoring::TaggerObservation& t = g.tagger; t.observed) {
      json types = json::object();
      for (const auto& [type, n] : t.types) types[type] = n;
      j["tsig"] = {{"n", t.sentences}, {"t", types}};
    }
  }
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

Status DecodeStageRecord(std::string_view line, StageRecord* r) {
  *r = StageRecord();
  try {
    json j = json::parse(line);
    r->record_id = j.at("id").get<std::string>();
    r->line = j.at("line").get<uint64_t>();
    if (j.contains("stage")) {
      r->stage = j["stage"].get<std::string>();
      r->reason = j.at("reason").get<std::string>();
    }
    if (j.contains("text")) r->text = j["text"].get<std::string>();
    if (j.contains("lang")) r->lang = j["lang"].get<std::string>();
    if (j.contains("hmac")) r->text_hmac = j["hmac"].get<std::string>();
    if (j.contains("ckey")) r->content_key = j["ckey"].get<std::string>();
    if (j.contains("label")) {
      r->has_label = true;
      r->label = j["label"].get<std::string>();
      r->score = j.at("score").get<double>();
      for (const auto& e : j.at("top_k")) {
        r->top_k.emplace_back(e.at(0).get<std::string>(), e.at(1).get<float>());
      }
    }
    if (j.contains("entities")) r->entities_json = j["entities"].get<std::string>();
    if (auto sh = j.find("shadow"); sh != j.end()) {
      r->has_shadow = true;
      r->shadow_entities_json = sh->at("entities").get<std::string>();
      if (sh->contains("label")) {
        r->shadow_label = sh->at("label").get<std::string>();
        r->shadow_score = sh->at("score").get<double>();
      }
    }
    if (auto sig = j.find("sig"); sig != j.end()) {
      RecordSignals& g = r->signals;
      g.observed = true;
      g.chars = sig->at(0).get<uint32_t>();
      g.vocabulary = {sig->at(1).get<uint32_t>(), sig->at(2).get<uint32_t>(),
                      sig->at(3).get<uint32_t>(), sig->at(4).get<uint32_t>()};
      g.abstained = sig->at(5).get<int>() != 0;
      if (sig->size() >= 7 + 2 * extract::kCheckedTypes) {
        monitoring::EntityObservation& e = g.entities;
        e.observed = true;
        e.types = sig->at(6).get<uint32_t>();
        for (int t = 0; t < extract::kCheckedTypes; ++t) {
          e.checks.candidates[t] = sig->at(7 + 2 * t).get<uint32_t>();
          e.checks.failures[t] =
              std::min(e.checks.candidates[t], sig->at(8 + 2 * t).get<uint32_t>());
        }
      }
      if (auto tsig = j.find("tsig"); tsig != j.end()) {
        monitoring::TaggerObservation& t = g.tagger;
        t.observed = true;
        t.sentences = tsig->at("n").get<uint32_t>();
        for (const auto& item : tsig->at("t").items()) {
          t.types.emplace_back(item.key(), std::min(t.sentences, item.value().get<uint32_t>()));
        }
      }
    }
  } catch (const json::exception& e) {
    return DataLossError(std::string("damaged stage record: ") + e.what());
  }
  return Status::Ok();
}

struct StageRecordReader::Impl {
  const storage::Storage* storage = nullptr;
  std::vector<std::string> uris;
  size_t next_uri = 0;  // the part to open after the current one
  std::unique_ptr<io::ByteSource> source;
  std::unique_ptr<io::LineReader> lines;
  std::string uri, line;

  // Opens the next part; false when there is none.
  Result<bool> OpenNext() {
    lines.reset();
    source.reset();
    if (next_uri == uris.size()) return false;
    uri = uris[next_uri++];
    LOTE_ASSIGN_OR_RETURN(auto raw, storage->OpenRead(uri));
    source = io::MakeZstdSource(std::move(raw));
    lines = std::make_unique<io::LineReader>(source.get());
    return true;
  }
};

StageRecordReader::~StageRecordReader() = default;

Result<std::unique_ptr<StageRecordReader>> StageRecordReader::Open(const storage::Storage& storage,
                                                                   std::vector<std::string> uris) {
  std::unique_ptr<StageRecordReader> reader(new StageRecordReader());
  reader->impl_ = std::make_unique<Impl>();
  reader->impl_->storage = &storage;
  reader->impl_->uris = std::move(uris);
  LOTE_RETURN_IF_ERROR(reader->impl_->OpenNext().status());
  return reader;
}

Result<bool> StageRecordReader::Next(StageRecord* record) {
  while (true) {
    if (!impl_->lines) return false;
    auto next = impl_->lines->Next(&impl_->line);
    if (!next.ok()) return next.status().WithContext(impl_->uri);
    if (*next) break;
    LOTE_ASSIGN_OR_RETURN(bool more, impl_->OpenNext());
    if (!more) return false;
  }
  LOTE_RETURN_IF_ERROR(
      DecodeStageRecord(impl_->line, record)
          .WithContext(impl_->uri + ":" + std::to_string(impl_->lines->line_number())));
  return true;
}

Status DeleteStageFiles(storage::Storage* storage, std::string_view output_uri,
                        const StagedObject& object) {
  for (const char* stage : {"ingest", "prep", "infer"}) {
    const std::string folder = StageFolder(output_uri, stage);
    auto marker = ReadMarker(*storage, folder, object.key);
    if (!marker.ok()) {
      if (marker.status().code() == StatusCode::kNotFound) continue;
      return marker.status();
    }
    for (const std::string& data : marker->data_uris) {
      Status s = storage->Delete(data);
      if (!s.ok() && s.code() != StatusCode::kNotFound) return s;
    }
    Status s = storage->Delete(marker->marker_uri);
    if (!s.ok() && s.code() != StatusCode::kNotFound) return s;
  }
  return Status::Ok();
}

Result<std::unique_ptr<storage::StorageLock>> AcquireOutputLock(storage::Storage* storage,
                                                                std::string_view output_uri,
                                                                double wait_seconds,
                                                                const Clock& clock) {
  std::string lock_uri = storage::JoinUri(output_uri, "_lock");
  char host[256] = {0};
  ::gethostname(host, sizeof(host) - 1);
  std::string owner = "pid=" + std::to_string(::getpid()) + " host=" + host +
                      " since=" + FormatTimestampMillis(clock.NowMicros()) + "\n";
  const int64_t deadline = clock.MonotonicNanos() + static_cast<int64_t>(wait_seconds * 1e9);
  while (true) {
    auto lock = storage->TryLock(lock_uri, owner);
    if (lock.ok()) return lock;
    if (lock.status().code() != StatusCode::kUnavailable || clock.MonotonicNanos() >= deadline) {
      return lock.status().WithContext("another lote run is writing to " + std::string(output_uri));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

}  // namespace lote::pipeline
