#include "lote/registry/registry.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "lote/base/ascii.h"
#include "lote/base/clock.h"
#include "lote/base/digest.h"
#include "lote/text/utf8.h"

namespace lote::registry {

namespace {

using Json = nlohmann::ordered_json;

constexpr int kAppendTries = 32;  // concurrent writers racing for the next event number
const char* const kStatuses[] = {"pending", "approved", "rejected"};

bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

Status ValidateToken(std::string_view what, std::string_view s, std::string_view extra,
                     bool letter_first) {
  bool ok = !s.empty() && s.size() <= kMaxNameBytes &&
            (letter_first ? IsAlpha(s[0]) : IsAsciiAlnum(s[0]));
  for (char c : s) ok = ok && (IsAsciiAlnum(c) || extra.find(c) != std::string_view::npos);
  if (ok) return Status::Ok();
  return InvalidArgumentError(std::string(what) + " must be 1 to " + std::to_string(kMaxNameBytes) +
                              " of letters, digits and '" + std::string(extra) +
                              "', starting with a " +
                              (letter_first ? "letter" : "letter or digit"));
}

// Free text recorded in events (reasons, descriptions, sources, tag values).
Status ValidateText(std::string_view what, std::string_view s) {
  if (s.size() > kMaxTextBytes) {
    return InvalidArgumentError(std::string(what) + " is longer than " +
                                std::to_string(kMaxTextBytes) + " bytes");
  }
  if (!text::ValidateUtf8(s).ok() || s.find('\0') != std::string_view::npos) {
    return InvalidArgumentError(std::string(what) + " is not valid UTF-8 text");
  }
  return Status::Ok();
}

Status ValidateTagKey(std::string_view key) {
  return ValidateToken("a tag key", key, "._:-", /*letter_first=*/false);
}

// A checkpoint is written after every this many events.
constexpr uint64_t kCheckpointEvery = 100;
// A checkpoint larger than this is not read (the events are).
constexpr uint64_t kMaxCheckpointBytes = uint64_t{256} << 20;

std::string SeqName(uint64_t seq) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%010llu.json", static_cast<unsigned long long>(seq));
  return buf;
}

std::string CheckpointName(uint64_t seq) { return SeqName(seq) + "l"; }  // NNNNNNNNNN.jsonl

Json OptionalVersion(const std::optional<int>& v) { return v ? Json(*v) : Json(nullptr); }

std::optional<int> ReadOptionalVersion(const Json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::nullopt;
  return it->get<int>();
}

// Applies one event to the model's state; DataLoss (from the caller) when it does not fit.
Status Apply(const Json& e, RegisteredModel* m) {
  const std::string type = e.at("type").get<std::string>();
  const std::string at = e.at("at").get<std::string>();
  const std::string by = e.at("by").get<std::string>();
  auto version_of = [&](int v) -> ModelVersion* {
    if (v < 1 || static_cast<size_t>(v) > m->versions.size()) return nullptr;
    return &m->versions[static_cast<size_t>(v) - 1];
  };
  if (type == "register") {
    ModelVersion v;
    v.version = e.at("version").get<int>();
    if (v.version != static_cast<int>(m->versions.size()) + 1) {
      return DataLossError("register event for version " + std::to_string(v.version) + " after " +
                           std::to_string(m->versions.size()) + " version(s)");
    }
    v.model_sha256 = e.at("model_sha256").get<std::string>();
    v.size = e.at("size").get<uint64_t>();
    v.model_version_id = e.at("model_version_id").get<std::string>();
    v.model_name = e.at("model_name").get<std::string>();
    v.model_created_at = e.at("created_at").get<std::string>();
    v.parts_json = e.at("parts").dump();
    v.preprocess_version = e.at("preprocess_version").get<std::string>();
    v.source = e.at("source").get<std::string>();
    v.description = e.at("description").get<std::string>();
    v.tags = e.at("tags").get<std::map<std::string, std::string>>();
    v.registered_at = at;
    v.registered_by = by;
    if (v.model_sha256.size() != 64) return DataLossError("model_sha256 is not a SHA-256");
    m->versions.push_back(std::move(v));
  } else if (type == "alias_set" || type == "alias_delete" || type == "alias_refused") {
    AliasChange c;
    c.seq = e.at("seq").get<uint64_t>();
    c.alias = e.at("alias").get<std::string>();
    c.at = at;
    c.by = by;
    c.reason = e.at("reason").get<std::string>();
    c.from_version = ReadOptionalVersion(e, "from_version");
    auto current = m->aliases.find(c.alias);
    const std::optional<int> now =
        current == m->aliases.end() ? std::nullopt : std::optional<int>(current->second);
    if (c.from_version != now) {
      return DataLossError("alias event for '" + c.alias + "' does not start where it was");
    }
    if (type == "alias_delete") {
      if (!now) return DataLossError("alias_delete of an alias that does not exist");
      m->aliases.erase(current);
    } else {
      c.to_version = e.at("to_version").get<int>();
      ModelVersion* v = version_of(*c.to_version);
      if (v == nullptr) return DataLossError("alias event names an unknown version");
      c.model_sha256 = v->model_sha256;
      c.evaluation_json = e.at("evaluation").dump();
      if (type == "alias_set") {
        c.rollback = e.value("rollback", false);
        m->aliases[c.alias] = *c.to_version;
      } else {
        c.refused = true;
      }
    }
    m->alias_history.push_back(std::move(c));
  } else if (type == "status") {
    ModelVersion* v = version_of(e.at("version").get<int>());
    if (v == nullptr) return DataLossError("status event names an unknown version");
    v->status = e.at("status").get<std::string>();
    v->status_reason = e.at("reason").get<std::string>();
  } else if (type == "tag") {
    std::map<std::string, std::string>* tags = &m->tags;
    if (const auto v = ReadOptionalVersion(e, "version")) {
      ModelVersion* mv = version_of(*v);
      if (mv == nullptr) return DataLossError("tag event names an unknown version");
      tags = &mv->tags;
    }
    const std::string key = e.at("key").get<std::string>();
    if (e.at("value").is_null()) {
      tags->erase(key);
    } else {
      (*tags)[key] = e.at("value").get<std::string>();
    }
  } else if (type == "description") {
    m->description = e.at("description").get<std::string>();
  } else {
    return DataLossError("unknown event type '" + type + "'");
  }
  return Status::Ok();
}

// Parses and applies the event text `bytes` expected to be event `seq`; `where` names it.
Status ApplyEventText(std::string_view bytes, uint64_t seq, const std::string& where,
                      RegisteredModel* m, std::vector<std::string>* texts) {
  const Json e = Json::parse(bytes, nullptr, false);
  if (e.is_discarded() || !e.is_object()) return DataLossError(where + ": not a JSON object");
  try {
    if (e.at("seq").get<uint64_t>() != seq) {
      return DataLossError(where + ": holds event " + e.at("seq").dump());
    }
    if (Status s = Apply(e, m); !s.ok()) return DataLossError(where + ": " + s.message());
  } catch (const std::exception& ex) {
    return DataLossError(where + ": damaged event (" + ex.what() + ")");
  }
  if (texts != nullptr) texts->push_back(e.dump());
  return Status::Ok();
}

}  // namespace

Status ValidateModelName(std::string_view name) {
  return ValidateToken("a model name", name, "._-", /*letter_first=*/false);
}

Status ValidateAlias(std::string_view alias) {
  return ValidateToken("an alias", alias, "_-", /*letter_first=*/true);
}

bool IsModelUri(std::string_view s) { return s.starts_with("models:/"); }

Result<ModelRef> ParseModelUri(std::string_view uri) {
  if (!IsModelUri(uri)) return InvalidArgumentError("not a models:/ URI");
  std::string_view rest = uri.substr(8);
  ModelRef ref;
  const size_t at = rest.find('@');
  const size_t slash = rest.find('/');
  if (at != std::string_view::npos && slash == std::string_view::npos) {
    ref.name = std::string(rest.substr(0, at));
    ref.alias = std::string(rest.substr(at + 1));
    LOTE_RETURN_IF_ERROR(ValidateAlias(ref.alias));
  } else if (slash != std::string_view::npos && at == std::string_view::npos) {
    ref.name = std::string(rest.substr(0, slash));
    const std::string_view v = rest.substr(slash + 1);
    int n = 0;
    bool ok = !v.empty() && v.size() <= 9 && v[0] != '0';
    for (char c : v) ok = ok && c >= '0' && c <= '9';
    if (ok) n = std::atoi(std::string(v).c_str());
    if (!ok || n < 1) {
      return InvalidArgumentError("models:/NAME/VERSION: the version must be a number from 1");
    }
    ref.version = n;
  } else {
    return InvalidArgumentError("a model URI is models:/NAME/VERSION or models:/NAME@ALIAS, not '" +
                                text::EscapeControl(std::string(uri.substr(0, 200))) + "'");
  }
  LOTE_RETURN_IF_ERROR(ValidateModelName(ref.name));
  return ref;
}

Result<Registry> Registry::Open(std::string uri, std::shared_ptr<storage::Storage> storage) {
  if (uri.empty()) return InvalidArgumentError("no registry URI");
  while (uri.size() > 1 && uri.back() == '/') uri.pop_back();
  LOTE_ASSIGN_OR_RETURN(auto s, storage::OpenStorageOr(std::move(storage), uri));
  return Registry(std::move(uri), std::move(s));
}

std::string Registry::ModelPrefix(std::string_view name) const {
  return storage::JoinUri(uri_, "models/" + std::string(name));
}

std::string Registry::EventUri(std::string_view name, uint64_t seq) const {
  return storage::JoinUri(ModelPrefix(name), "events/" + SeqName(seq));
}

std::string Registry::BlobUri(std::string_view sha256) const {
  return storage::JoinUri(uri_, "blobs/sha256/" + std::string(sha256) + ".lote");
}

Result<std::vector<std::string>> Registry::ListModels() const {
  const std::string prefix = storage::JoinUri(uri_, "models") + "/";
  auto listed = storage_->List(prefix);
  std::vector<std::string> names;
  if (!listed.ok()) {
    if (listed.status().code() == StatusCode::kNotFound) return names;
    return listed.status();
  }
  for (const auto& o : *listed) {
    // PREFIX/NAME/events/SEQ.json
    std::string_view rest = std::string_view(o.uri).substr(prefix.size());
    const size_t slash = rest.find('/');
    if (slash == std::string_view::npos) continue;
    std::string name(rest.substr(0, slash));
    // The listing is sorted: a model's events are together.
    if (ValidateModelName(name).ok() && (names.empty() || names.back() != name)) {
      names.push_back(std::move(name));
    }
  }
  return names;
}

Result<RegisteredModel> Registry::Get(std::string_view name) const { return Load(name, nullptr); }

std::string Registry::CheckpointUri(std::string_view name, uint64_t seq) const {
  return storage::JoinUri(ModelPrefix(name), "checkpoints/" + CheckpointName(seq));
}

Result<RegisteredModel> Registry::Load(std::string_view name,
                                       std::vector<std::string>* texts) const {
  LOTE_RETURN_IF_ERROR(ValidateModelName(name));
  const std::string events = storage::JoinUri(ModelPrefix(name), "events") + "/";
  auto listed = storage_->List(events);
  if (!listed.ok() || listed->empty()) {
    if (listed.ok() || listed.status().code() == StatusCode::kNotFound) {
      return NotFoundError("registry " + uri_ + " has no model '" + std::string(name) + "'");
    }
    return listed.status();
  }
  if (listed->size() > kMaxEvents) {
    return ResourceExhaustedError(events + ": more than " + std::to_string(kMaxEvents) + " events");
  }
  // The listing is the log: numbered from 1 without gaps.
  for (size_t i = 0; i < listed->size(); ++i) {
    const std::string expected = EventUri(name, i + 1);
    const std::string& uri = (*listed)[i].uri;
    if (uri != expected) {
      return DataLossError(expected +
                           ": missing (the registry's events must be numbered without "
                           "gaps; found " +
                           uri + ")");
    }
    if ((*listed)[i].size > kMaxEventBytes) {
      return DataLossError(uri + ": larger than " + std::to_string(kMaxEventBytes) + " bytes");
    }
  }
  RegisteredModel m;
  m.name = std::string(name);
  // The newest checkpoint the log covers holds events 1..C in one object: read it instead of C
  // objects. One that does not read back as exactly those events is ignored (the events are
  // read instead), never trusted in part.
  uint64_t from = 0;
  const std::string prefix = storage::JoinUri(ModelPrefix(name), "checkpoints") + "/";
  auto checkpoints = storage_->List(prefix);
  if (checkpoints.ok()) {
    for (auto it = checkpoints->rbegin(); it != checkpoints->rend() && from == 0; ++it) {
      const std::string file = it->uri.substr(prefix.size());
      uint64_t seq = 0;
      if (file.size() != 16 || file.substr(10) != ".jsonl" ||
          std::sscanf(file.c_str(), "%10llu", reinterpret_cast<unsigned long long*>(&seq)) != 1 ||
          it->uri != CheckpointUri(name, seq) || seq == 0 || seq > listed->size() ||
          it->size > kMaxCheckpointBytes) {
        continue;
      }
      auto bytes = storage_->Read(it->uri);
      if (!bytes.ok()) {
        if (bytes.status().code() == StatusCode::kUnavailable) return bytes.status();
        continue;
      }
      RegisteredModel candidate;
      candidate.name = m.name;
      std::vector<std::string> lines;
      uint64_t n = 0;
      bool ok = true;
      for (size_t at = 0; ok && at < bytes->size();) {
        size_t end = bytes->find('\n', at);
        if (end == std::string::npos) end = bytes->size();
        ok = ApplyEventText(std::string_view(*bytes).substr(at, end - at), ++n, it->uri, &candidate,
                            texts != nullptr ? &lines : nullptr)
                 .ok();
        at = end + 1;
      }
      if (!ok || n != seq) continue;
      m = std::move(candidate);
      if (texts != nullptr) *texts = std::move(lines);
      from = seq;
    }
  } else if (checkpoints.status().code() == StatusCode::kUnavailable) {
    return checkpoints.status();
  }
  for (size_t i = from; i < listed->size(); ++i) {
    const std::string& uri = (*listed)[i].uri;
    LOTE_ASSIGN_OR_RETURN(std::string bytes, storage_->Read(uri));
    LOTE_RETURN_IF_ERROR(ApplyEventText(bytes, i + 1, uri, &m, texts));
  }
  m.events = listed->size();
  m.checkpoint_events = from;
  return m;
}

template <typename Make>
Status Registry::Append(std::string_view name, const Actor& actor, bool must_exist, Make make) {
  LOTE_RETURN_IF_ERROR(ValidateModelName(name));
  LOTE_RETURN_IF_ERROR(ValidateText("the actor", actor.by));
  for (int attempt = 0; attempt < kAppendTries; ++attempt) {
    auto model = Get(name);
    const RegisteredModel* current = nullptr;
    if (model.ok()) {
      current = &*model;
    } else if (model.status().code() != StatusCode::kNotFound || must_exist) {
      return model.status();
    }
    LOTE_ASSIGN_OR_RETURN(Json body, make(current));
    const uint64_t seq = current ? current->events + 1 : 1;
    Json e;
    e["seq"] = seq;
    e["type"] = body.at("type");
    e["at"] = FormatTimestampMillis(SystemClock()->NowMicros());
    e["by"] = actor.by;
    for (const auto& [k, v] : body.items()) {
      if (k != "type") e[k] = v;
    }
    Status s = storage_->CreateIfAbsent(EventUri(name, seq), e.dump(1) + "\n");
    if (s.ok()) {
      if (seq % kCheckpointEvery == 0) {
        // Events 1..seq in one object, so that readers need not read them one by one: read back
        // (the previous checkpoint and the events after it) only by the writer of every 100th
        // event. Derived data: whoever writes it first writes the same bytes, and a failure costs
        // only speed.
        std::vector<std::string> texts;
        auto read = Load(name, &texts);
        if (read.ok() && texts.size() >= seq) {
          std::string checkpoint;
          for (uint64_t i = 0; i < seq; ++i) checkpoint += texts[i] + "\n";
          (void)storage_->CreateIfAbsent(CheckpointUri(name, seq), checkpoint);
        }
      }
      return s;
    }
    if (s.code() != StatusCode::kAlreadyExists) return s;
    // Another writer took this number: read again and decide again.
  }
  return AbortedError("registry " + uri_ + ": model '" + std::string(name) + "' changed " +
                      std::to_string(kAppendTries) + " times while writing; try again");
}

Result<ModelVersion> Registry::Register(std::string_view name, std::string_view model_bytes,
                                        std::string_view model_version_id,
                                        std::string_view model_name, std::string_view created_at,
                                        std::string_view parts_json, const RegisterOptions& o,
                                        const Actor& actor) {
  LOTE_RETURN_IF_ERROR(ValidateModelName(name));
  if (model_bytes.empty() || model_bytes.size() > kMaxModelBytes) {
    return InvalidArgumentError("a model file must hold 1 byte to 4 GiB");
  }
  LOTE_RETURN_IF_ERROR(ValidateText("the description", o.description));
  LOTE_RETURN_IF_ERROR(ValidateText("the source", o.source));
  for (const auto& [k, v] : o.tags) {
    LOTE_RETURN_IF_ERROR(ValidateTagKey(k));
    LOTE_RETURN_IF_ERROR(ValidateText("tag " + k, v));
  }
  Json parts = Json::parse(parts_json, nullptr, false);
  if (parts.is_discarded() || !parts.is_object()) parts = Json::object();
  const std::string sha = Sha256Hex(model_bytes);
  // The file first, by content: a version never names a blob that is not there.
  if (Status s = storage_->CreateIfAbsent(BlobUri(sha), model_bytes); !s.ok()) {
    if (s.code() != StatusCode::kAlreadyExists) return s;
    LOTE_ASSIGN_OR_RETURN(auto info, storage_->Stat(BlobUri(sha)));
    if (info.size != model_bytes.size()) {
      return DataLossError(BlobUri(sha) + ": holds " + std::to_string(info.size) +
                           " bytes, not the " + std::to_string(model_bytes.size()) +
                           " of the file with that SHA-256");
    }
  }
  int version = 0;
  LOTE_RETURN_IF_ERROR(
      Append(name, actor, /*must_exist=*/false, [&](const RegisteredModel* m) -> Result<Json> {
        version = m ? static_cast<int>(m->versions.size()) + 1 : 1;
        Json e;
        e["type"] = "register";
        e["version"] = version;
        e["model_sha256"] = sha;
        e["size"] = model_bytes.size();
        e["model_version_id"] = std::string(model_version_id);
        e["model_name"] = std::string(model_name);
        e["created_at"] = std::string(created_at);
        e["parts"] = parts;
        e["preprocess_version"] = o.preprocess_version;
        e["source"] = o.source;
        e["description"] = o.description;
        e["tags"] = o.tags;
        return e;
      }));
  LOTE_ASSIGN_OR_RETURN(RegisteredModel m, Get(name));
  if (version < 1 || static_cast<size_t>(version) > m.versions.size()) {
    return InternalError("registered version not found after writing it");
  }
  return m.versions[static_cast<size_t>(version) - 1];
}

Status Registry::SetAlias(std::string_view name, std::string_view alias, int version,
                          std::string_view reason, std::string_view evaluation_json,
                          const Actor& actor, std::optional<AliasExpectation> expected) {
  LOTE_RETURN_IF_ERROR(ValidateAlias(alias));
  LOTE_RETURN_IF_ERROR(ValidateText("the reason", reason));
  Json evaluation =
      evaluation_json.empty() ? Json(nullptr) : Json::parse(evaluation_json, nullptr, false);
  if (evaluation.is_discarded() || !(evaluation.is_object() || evaluation.is_null())) {
    return InvalidArgumentError("the evaluation must be a JSON object");
  }
  bool refused = false;
  std::optional<int> found;
  LOTE_RETURN_IF_ERROR(
      Append(name, actor, /*must_exist=*/true, [&](const RegisteredModel* m) -> Result<Json> {
        if (version < 1 || static_cast<size_t>(version) > m->versions.size()) {
          return NotFoundError("model '" + m->name + "' has no version " + std::to_string(version) +
                               " (it has " + std::to_string(m->versions.size()) + ")");
        }
        auto it = m->aliases.find(std::string(alias));
        found = it == m->aliases.end() ? std::nullopt : std::optional<int>(it->second);
        refused = expected.has_value() && expected->version != found;
        Json e;
        e["type"] = refused ? "alias_refused" : "alias_set";
        e["alias"] = std::string(alias);
        if (refused) e["expected_version"] = OptionalVersion(expected->version);
        e["from_version"] = OptionalVersion(found);
        e["to_version"] = version;
        e["reason"] = std::string(reason);
        e["evaluation"] = evaluation;
        if (!refused)
          e["model_sha256"] = m->versions[static_cast<size_t>(version) - 1].model_sha256;
        return e;
      }));
  if (refused) {
    auto name_of = [](const std::optional<int>& v) {
      return v ? "version " + std::to_string(*v) : std::string("no version");
    };
    return AbortedError("alias '" + std::string(alias) + "' of model '" + std::string(name) +
                        "' names " + name_of(found) + ", not " + name_of(expected->version) +
                        " as this change expected: another change moved it first (the refused "
                        "attempt is in the alias history)");
  }
  return Status::Ok();
}

Status Registry::DeleteAlias(std::string_view name, std::string_view alias, std::string_view reason,
                             const Actor& actor) {
  LOTE_RETURN_IF_ERROR(ValidateAlias(alias));
  LOTE_RETURN_IF_ERROR(ValidateText("the reason", reason));
  return Append(name, actor, /*must_exist=*/true, [&](const RegisteredModel* m) -> Result<Json> {
    auto it = m->aliases.find(std::string(alias));
    if (it == m->aliases.end()) {
      return NotFoundError("model '" + m->name + "' has no alias '" + std::string(alias) + "'");
    }
    Json e;
    e["type"] = "alias_delete";
    e["alias"] = std::string(alias);
    e["from_version"] = it->second;
    e["reason"] = std::string(reason);
    return e;
  });
}

Result<int> Registry::Rollback(std::string_view name, std::string_view alias,
                               std::string_view reason, const Actor& actor) {
  LOTE_RETURN_IF_ERROR(ValidateAlias(alias));
  LOTE_RETURN_IF_ERROR(ValidateText("the reason", reason));
  int to = 0;
  LOTE_RETURN_IF_ERROR(
      Append(name, actor, /*must_exist=*/true, [&](const RegisteredModel* m) -> Result<Json> {
        auto it = m->aliases.find(std::string(alias));
        if (it == m->aliases.end()) {
          return NotFoundError("model '" + m->name + "' has no alias '" + std::string(alias) + "'");
        }
        // The version the alias held before its latest move (refused attempts moved nothing).
        std::optional<int> previous;
        for (auto c = m->alias_history.rbegin(); c != m->alias_history.rend(); ++c) {
          if (c->alias != alias || c->refused) continue;
          previous = c->from_version;
          break;
        }
        if (!previous) {
          return FailedPreconditionError("alias '" + std::string(alias) + "' of model '" + m->name +
                                         "' held no version before " + std::to_string(it->second) +
                                         ": nothing to roll back to");
        }
        to = *previous;
        Json e;
        e["type"] = "alias_set";
        e["alias"] = std::string(alias);
        e["from_version"] = it->second;
        e["to_version"] = to;
        e["reason"] = std::string(reason);
        e["evaluation"] = nullptr;
        e["model_sha256"] = m->versions[static_cast<size_t>(to) - 1].model_sha256;
        e["rollback"] = true;
        return e;
      }));
  return to;
}

Status Registry::SetStatus(std::string_view name, int version, std::string_view status,
                           std::string_view reason, const Actor& actor) {
  if (std::find(std::begin(kStatuses), std::end(kStatuses), status) == std::end(kStatuses)) {
    return InvalidArgumentError("status must be pending, approved or rejected");
  }
  LOTE_RETURN_IF_ERROR(ValidateText("the reason", reason));
  return Append(name, actor, /*must_exist=*/true, [&](const RegisteredModel* m) -> Result<Json> {
    if (version < 1 || static_cast<size_t>(version) > m->versions.size()) {
      return NotFoundError("model '" + m->name + "' has no version " + std::to_string(version));
    }
    Json e;
    e["type"] = "status";
    e["version"] = version;
    e["status"] = std::string(status);
    e["reason"] = std::string(reason);
    return e;
  });
}

Status Registry::SetTag(std::string_view name, std::optional<int> version, std::string_view key,
                        std::optional<std::string> value, const Actor& actor) {
  LOTE_RETURN_IF_ERROR(ValidateTagKey(key));
  if (value) LOTE_RETURN_IF_ERROR(ValidateText("tag " + std::string(key), *value));
  return Append(name, actor, /*must_exist=*/true, [&](const RegisteredModel* m) -> Result<Json> {
    if (version && (*version < 1 || static_cast<size_t>(*version) > m->versions.size())) {
      return NotFoundError("model '" + m->name + "' has no version " + std::to_string(*version));
    }
    Json e;
    e["type"] = "tag";
    e["version"] = OptionalVersion(version);
    e["key"] = std::string(key);
    e["value"] = value ? Json(*value) : Json(nullptr);
    return e;
  });
}

Result<ResolvedModel> Registry::Resolve(std::string_view models_uri) const {
  LOTE_ASSIGN_OR_RETURN(ModelRef ref, ParseModelUri(models_uri));
  LOTE_ASSIGN_OR_RETURN(RegisteredModel m, Get(ref.name));
  int version = 0;
  if (ref.version) {
    version = *ref.version;
  } else {
    auto it = m.aliases.find(ref.alias);
    if (it == m.aliases.end()) {
      return NotFoundError("model '" + m.name + "' has no alias '" + ref.alias + "' (registry " +
                           uri_ + ")");
    }
    version = it->second;
  }
  if (version < 1 || static_cast<size_t>(version) > m.versions.size()) {
    return NotFoundError("model '" + m.name + "' has no version " + std::to_string(version) +
                         " (registry " + uri_ + ")");
  }
  ResolvedModel r;
  r.name = m.name;
  r.version = m.versions[static_cast<size_t>(version) - 1];
  r.uri = std::string(models_uri);
  r.resolved = "models:/" + m.name + "/" + std::to_string(version);
  LOTE_ASSIGN_OR_RETURN(r.bytes, ReadModelFile(r.name, r.version));
  return r;
}

Result<std::string> Registry::ReadModelFile(std::string_view name, const ModelVersion& v) const {
  const std::string blob = BlobUri(v.model_sha256);
  LOTE_ASSIGN_OR_RETURN(std::string bytes, storage_->Read(blob));
  if (bytes.size() != v.size || Sha256Hex(bytes) != v.model_sha256) {
    return DataLossError(blob + ": its content does not match the SHA-256 models:/" +
                         std::string(name) + "/" + std::to_string(v.version) +
                         " was registered with");
  }
  return bytes;
}

}  // namespace lote::registry
