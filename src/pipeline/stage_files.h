// The files through which the stages of include/lote/pipeline/stages.h hand over: per input
// object version a marker KEY.json (StagedObject) and a data file of StageRecord lines.
// Thread-safety: plain values and free functions; storage calls as thread-safe as the storage.
#ifndef LOTE_SRC_PIPELINE_STAGE_FILES_H_
#define LOTE_SRC_PIPELINE_STAGE_FILES_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lote/base/clock.h"
#include "lote/base/status.h"
#include "lote/monitoring/profile.h"
#include "lote/pipeline/inference.h"
#include "lote/storage/storage.h"

namespace lote::pipeline {

// The marker of one object version in one stage folder.
struct StagedObject {
  std::string key;         // hex; the file names' stem
  std::string uri;         // the input object as listed
  uint64_t size = 0;       // of the input object
  std::string content_id;  // "xxh3:..." of the input object's bytes
  // The stage's data files, in record order: ingest's snapshot; prep's parts (each at most
  // PipelineOptions::prep_part_bytes of rows plus one record: one transform request each); the
  // infer stage's one file (none when the object has no records).
  std::vector<std::string> data_uris;
  uint64_t records = 0;                          // lines in data_uris
  std::string text_field, id_field;              // prep and later
  std::string preprocess_version;                // prep and later
  std::string model_version;                     // infer
  std::string shadow_model_version;              // infer with a shadow model ("" without)
  double ingest_s = 0, prep_s = 0, infer_s = 0;  // carried forward for the manifest
  // infer: the records' terms for monitoring (monitoring::TermCounts JSON), "" when not counted
  std::string terms_json;
  std::string marker_uri;  // where this marker was read from (not serialized)
};

// OUTPUT/_stages/STAGE
std::string StageFolder(std::string_view output_uri, std::string_view stage);
// KEY of an object version: 24 hex digits of SHA-256(uri "\n" content_id).
std::string StageKey(std::string_view uri, std::string_view content_id);

// Writes `object` as STAGE_FOLDER/KEY.json (atomic). Errors of the storage.
Status WriteMarker(storage::Storage* storage, std::string_view folder, StagedObject* object);
// Every marker in `folder`, sorted by key. Empty when the folder does not exist. DataLoss for a
// marker that does not parse.
Result<std::vector<StagedObject>> ListMarkers(const storage::Storage& storage,
                                              std::string_view folder);
// The marker `folder`/KEY.json, or NotFound.
Result<StagedObject> ReadMarker(const storage::Storage& storage, std::string_view folder,
                                std::string_view key);

// One record between stages. After prep: text is the clean text; after infer: text is empty and
// the inference fields are set. `stage`/`reason` set: quarantined at that stage.
struct StageRecord {
  std::string record_id;
  uint64_t line = 0;
  std::string stage, reason;
  std::string text, lang;
  std::string text_hmac;    // keyed fingerprint of the raw text (hex), "" without a key
  std::string content_key;  // keyed fingerprint of the clean text, only with dedup by content
  bool has_label = false;
  std::string label;
  double score = 0;
  std::vector<std::pair<std::string, float>> top_k;
  std::string entities_json;  // the engine's JSON array text, kept byte for byte
  RecordSignals signals;      // the model's view, for monitoring (counts only)
  // Shadow scoring (infer with a shadow model): the challenger's prediction, when it gave one.
  bool has_shadow = false;
  std::string shadow_label;  // "" when the challenger has no classifier
  double shadow_score = 0;
  std::string shadow_entities_json;
};

// The model's reference profile, left by the infer stage in FOLDER/profiles/MODEL_VERSION.json
// for publish's monitoring report. Reading a model version that has none gives null.
Status WriteStagedReference(storage::Storage* storage, std::string_view folder,
                            std::string_view model_version, const monitoring::Profile& profile);
Status DeleteStagedReference(storage::Storage* storage, std::string_view folder,
                             std::string_view model_version);
Result<std::shared_ptr<const monitoring::Profile>> ReadStagedReference(
    const storage::Storage& storage, std::string_view folder, std::string_view model_version);

// Infers prep records in place, the infer stage's and TransformPart's one code, with the engine's
// per-thread state (and a shadow engine's, when given). One per thread.
class StageRecordInferer {
 public:
  // The engines must outlive the inferer.
  StageRecordInferer(const InferenceEngine& engine, const InferenceEngine* shadow);
  // Sets the inference fields (and the shadow's) and clears the text. An engine error
  // quarantines the record at stage "infer" with the status as reason, not yet redacted. A
  // record already quarantined is left alone. True when the engine inferred it.
  bool Infer(StageRecord* record);
  // Adds the terms of the record last inferred (InferenceEngine::CountTerms).
  void CountTerms(std::string_view record_id, monitoring::TermSampler* sampler,
                  monitoring::TermCounts* terms) const;

 private:
  const InferenceEngine& engine_;
  const InferenceEngine* shadow_;
  std::unique_ptr<InferenceState> state_, shadow_state_;
  InferenceOutput out_, challenger_;  // reused record after record
};

std::string EncodeStageRecord(const StageRecord& record);
// DataLoss when `line` is not a stage record.
Status DecodeStageRecord(std::string_view line, StageRecord* record);

// Reads stage data files (zstd JSON lines) one after the other, record by record with constant
// memory.
class StageRecordReader {
 public:
  static Result<std::unique_ptr<StageRecordReader>> Open(const storage::Storage& storage,
                                                         std::vector<std::string> uris);
  ~StageRecordReader();
  // Next record; false at the end. DataLoss / Unavailable on a damaged file.
  Result<bool> Next(StageRecord* record);

 private:
  StageRecordReader() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Deletes the stage files of `object` (ingest, prep and infer: data and markers), earlier stages
// first and each marker after its data, so that whatever a kill leaves behind still has its
// infer marker, which the next publish skips (done) and deletes. Missing files are fine.
Status DeleteStageFiles(storage::Storage* storage, std::string_view output_uri,
                        const StagedObject& object);

// Takes the exclusive lock OUTPUT/_lock, waiting up to `wait_seconds` (measured on `clock`) for
// another holder. Unavailable naming the holder when it stays taken.
Result<std::unique_ptr<storage::StorageLock>> AcquireOutputLock(storage::Storage* storage,
                                                                std::string_view output_uri,
                                                                double wait_seconds,
                                                                const Clock& clock);

}  // namespace lote::pipeline

#endif  // LOTE_SRC_PIPELINE_STAGE_FILES_H_
