// The model registry: registered models with numbered versions, approval statuses, tags and
// aliases (MLflow's data model since 2.9, SageMaker's approval statuses), at a storage URI
// (a folder or file:// by default, s3:// or mem://), and an audit log of every change that is
// never rewritten, so that "which version held `champion` on that day, who moved it and why" is
// always answered (MLflow keeps no such history).
//
// Layout under the registry URI:
//   models/NAME/events/0000000001.json   one event per change, append-only: each is created
//                                        with Storage::CreateIfAbsent (S3: If-None-Match: *), so
//                                        of two writers racing for the same number exactly one
//                                        wins and the other re-reads and decides again
//   models/NAME/checkpoints/0000000100.jsonl  events 1..100 (every 100th event's writer adds
//                                        one), one compact JSON line each: a reader lists the
//                                        events, reads the newest checkpoint the list covers in
//                                        one request and only the events after it. A checkpoint
//                                        that does not read back as exactly those events is
//                                        ignored (the events are read), never used in part
//   blobs/sha256/HEX.lote                the model files, stored by content
// A model's state (versions, statuses, tags, aliases) is the fold of its events in order. Events
// are numbered without gaps: a missing event file, or a damaged one past the newest checkpoint,
// is DataLoss naming it, never a silently different state. (A checkpoint is derived from the
// events by lote itself and created only if absent; it is trusted as the events are.)
//
// Event JSON: {"seq", "type", "at" (ISO 8601 UTC), "by" (who), ...}; types:
//   register      "version", "model_sha256", "size", "model_version_id", "model_name",
//                 "created_at", "parts" (the model's meta: training data SHA-256, parameters,
//                 metrics), "preprocess_version", "source", "description", "tags"
//   alias_set     "alias", "from_version" (null: new alias), "to_version", "reason",
//                 "evaluation" (JSON object or null: what justified the move), "model_sha256",
//                 "rollback" (true when it undid the previous move)
//   alias_delete  "alias", "from_version", "reason"
//   alias_refused "alias", "expected_version", "from_version" (what it found), "to_version",
//                 "reason", "evaluation": a move refused because the alias had moved meanwhile
//   status        "version", "status" (pending | approved | rejected), "reason"
//   tag           "version" (null: the model), "key", "value" (null: removed)
//   description   "description"
//
// Thread-safety: a Registry is immutable configuration; its methods may be called from any
// thread and any number of processes (the event files serialize writers).
#ifndef LOTE_REGISTRY_REGISTRY_H_
#define LOTE_REGISTRY_REGISTRY_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lote/base/status.h"
#include "lote/storage/storage.h"

namespace lote::registry {

// Policy bounds (a registry is shared; a hostile or damaged event must not exhaust memory).
inline constexpr size_t kMaxNameBytes = 64;        // model names and aliases
inline constexpr size_t kMaxTextBytes = 4096;      // reasons, descriptions, sources, tag values
inline constexpr size_t kMaxEventBytes = 1 << 20;  // one event file
inline constexpr uint64_t kMaxEvents = 100000;     // events per model
inline constexpr uint64_t kMaxModelBytes = uint64_t{4} << 30;

// Model names: 1 to 64 of [A-Za-z0-9._-], starting with a letter or digit. Aliases: 1 to 64 of
// [A-Za-z0-9_-], starting with a letter (so `NAME@ALIAS` and `NAME/VERSION` never mix).
Status ValidateModelName(std::string_view name);
Status ValidateAlias(std::string_view alias);

struct ModelVersion {
  int version = 0;
  std::string model_sha256, model_version_id, model_name, model_created_at;
  uint64_t size = 0;
  std::string parts_json = "{}";  // the model's meta "parts": training data, parameters, metrics
  std::string preprocess_version;
  std::string source, description;
  std::map<std::string, std::string> tags;
  std::string status = "pending", status_reason;
  std::string registered_at, registered_by;
};

// One entry of an alias's history (alias_set and alias_delete events).
struct AliasChange {
  uint64_t seq = 0;
  std::string alias;
  std::optional<int> from_version, to_version;  // to_version empty: deleted
  std::string at, by, reason;
  std::string evaluation_json = "null";
  std::string model_sha256;
  bool rollback = false;
  bool refused = false;  // an alias_refused event: the alias had moved; nothing changed
};

struct RegisteredModel {
  std::string name, description;
  std::map<std::string, std::string> tags;
  std::vector<ModelVersion> versions;      // by version, from 1
  std::map<std::string, int> aliases;      // alias -> version
  std::vector<AliasChange> alias_history;  // oldest first
  uint64_t events = 0;
  uint64_t checkpoint_events = 0;  // of them, read from a checkpoint (0: each event was read)
};

// What a conditional alias move expects the alias to name (version empty: no version).
struct AliasExpectation {
  std::optional<int> version;
};

struct RegisterOptions {
  std::map<std::string, std::string> tags;
  std::string description;
  std::string source;              // who or what trained it, e.g. a flow execution's ARN
  std::string preprocess_version;  // prep's version the model was trained and profiled with
};

// Who makes a change: recorded in every event.
struct Actor {
  std::string by;  // e.g. $LOTE_USER or $USER, or "flow:EXECUTION"
};

// A `models:/NAME/VERSION` or `models:/NAME@ALIAS` reference.
struct ModelRef {
  std::string name;
  std::optional<int> version;
  std::string alias;
};
// True if `s` starts with "models:/".
bool IsModelUri(std::string_view s);
// InvalidArgument naming what is wrong otherwise.
Result<ModelRef> ParseModelUri(std::string_view uri);

// What a model reference resolved to: the file's bytes (verified against the registered
// SHA-256) and which version they are.
struct ResolvedModel {
  std::string bytes;
  std::string name;
  ModelVersion version;
  std::string uri;       // the reference as given
  std::string resolved;  // "models:/NAME/VERSION"
};

class Registry {
 public:
  // `uri`: the registry's root. `storage` null: the storage for the URI's scheme.
  static Result<Registry> Open(std::string uri, std::shared_ptr<storage::Storage> storage = {});

  const std::string& uri() const { return uri_; }

  // Registered model names, sorted.
  Result<std::vector<std::string>> ListModels() const;
  // NotFound for an unknown name; DataLoss for a damaged event (naming its file).
  Result<RegisteredModel> Get(std::string_view name) const;

  // Stores `model_bytes` by content and registers them as the model's next version (the model
  // is created by its first version). The caller has checked that the bytes load as a model and
  // passes their meta: `model_version_id`, `model_name`, `created_at`, `parts_json`.
  Result<ModelVersion> Register(std::string_view name, std::string_view model_bytes,
                                std::string_view model_version_id, std::string_view model_name,
                                std::string_view created_at, std::string_view parts_json,
                                const RegisterOptions& options, const Actor& actor);

  // Moves (or creates) `alias` to `version`. With `expected` set (a promotion that decided
  // against the version the alias named then; its version empty: the alias did not exist), a move
  // finding the alias elsewhere is refused: an alias_refused event records the attempt (who,
  // what it expected, what it found) and the result is Aborted. Of two promotions at once, one
  // wins and the log shows both.
  Status SetAlias(std::string_view name, std::string_view alias, int version,
                  std::string_view reason, std::string_view evaluation_json, const Actor& actor,
                  std::optional<AliasExpectation> expected = std::nullopt);
  // NotFound for an alias the model does not have.
  Status DeleteAlias(std::string_view name, std::string_view alias, std::string_view reason,
                     const Actor& actor);
  // Moves `alias` back to the version it held before its latest move (logged as a rollback).
  // FailedPrecondition when it has no earlier version. Returns the version it now names.
  Result<int> Rollback(std::string_view name, std::string_view alias, std::string_view reason,
                       const Actor& actor);
  // status: "pending", "approved" or "rejected".
  Status SetStatus(std::string_view name, int version, std::string_view status,
                   std::string_view reason, const Actor& actor);
  // A tag of the model (version empty) or of one version; `value` empty: removes the tag.
  Status SetTag(std::string_view name, std::optional<int> version, std::string_view key,
                std::optional<std::string> value, const Actor& actor);

  // Resolves a `models:/` reference and reads the file, checking its SHA-256. NotFound for an
  // unknown model, version or alias; DataLoss for a blob that does not match.
  Result<ResolvedModel> Resolve(std::string_view models_uri) const;
  // The file of version `v` of model `name` (as Get returned it), its SHA-256 checked (DataLoss
  // otherwise): for a caller that already holds the model's state.
  Result<std::string> ReadModelFile(std::string_view name, const ModelVersion& v) const;

 private:
  Registry(std::string uri, std::shared_ptr<storage::Storage> storage)
      : uri_(std::move(uri)), storage_(std::move(storage)) {}
  std::string ModelPrefix(std::string_view name) const;
  std::string EventUri(std::string_view name, uint64_t seq) const;
  std::string CheckpointUri(std::string_view name, uint64_t seq) const;
  // Get, and (texts not null) each event's JSON text in order, for writing a checkpoint.
  Result<RegisteredModel> Load(std::string_view name, std::vector<std::string>* texts) const;
  std::string BlobUri(std::string_view sha256) const;
  // Appends the event built by `make` from the model's current state (null: the model does not
  // exist yet), retrying when another writer took the next number first. `make` returns the
  // event JSON (without seq/at/by) or an error, which is returned as is.
  template <typename Make>
  Status Append(std::string_view name, const Actor& actor, bool must_exist, Make make);

  std::string uri_;
  std::shared_ptr<storage::Storage> storage_;
};

}  // namespace lote::registry

#endif  // LOTE_REGISTRY_REGISTRY_H_
