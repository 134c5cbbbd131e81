// The pipeline one stage at a time, for orchestrators (a Glue job for ingest + prep, a SageMaker
// Batch Transform for infer, a small step for publish). `lote run` (RunPipeline) streams the
// same four stages through memory in one pass; these functions hand over between stages through
// files under OUTPUT/_stages/, one set per input object version (KEY = hash of URI and content):
//
//   ingest   input object -> _stages/ingest/KEY.snapshot.EXT (a byte snapshot, as delivered,
//                            EXT the object's own, e.g. jsonl.gz) + KEY.json
//   prep     ingest       -> _stages/prep/KEY-NNNNN.jsonl.zst (parsed, cleaned records, or the
//                            quarantine reason of each bad one; parts of prep_part_bytes, at
//                            least one) + KEY.json
//   infer    prep         -> _stages/infer/KEY-00000.jsonl.zst (labels, entities; no text) +
//                            KEY.json
//   publish  infer        -> results/, quarantine/, _runs/RUN_ID/manifest.json and the catalog,
//                            through the same ledger commit as RunPipeline; then the object's
//                            stage files are deleted.
//
// Each KEY.json is written last, atomically: it is the stage's commit marker. Every stage is
// idempotent: an object whose marker exists (for the same prep configuration / model version)
// is skipped, and one already published (ledger) is not ingested again unless `force`. Killed at
// any moment, a stage is simply run again. Every stage takes the output lock (as RunPipeline).
//
// PII: ingest and prep files hold the input's text (the same sensitivity as the input itself);
// infer files hold only what results hold, with the PII policy already applied. The stage area
// of an object is deleted once it is published.
//
// Thread-safety: as RunPipeline.
#ifndef LOTE_PIPELINE_STAGES_H_
#define LOTE_PIPELINE_STAGES_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "lote/base/status.h"
#include "lote/pipeline/inference.h"
#include "lote/pipeline/pipeline.h"

namespace lote::pipeline {

enum class Stage { kIngest, kPrep, kInfer, kPublish };

// "ingest", "prep", "infer", "publish".
std::string_view StageName(Stage stage);

struct StageReport {
  Stage stage = Stage::kIngest;
  uint64_t objects_pending = 0;      // handed over by the previous stage (ingest: listed)
  uint64_t objects_done = 0;         // written by this call
  uint64_t objects_skipped = 0;      // already done (marker present, or published for ingest)
  uint64_t records = 0;              // records written by this call (prep, infer)
  uint64_t records_quarantined = 0;  // of which carry a quarantine reason
  uint64_t bytes = 0;                // ingest: bytes snapshotted
  double wall_s = 0;
};

// Runs ingest, prep or infer (kPublish: use PublishStaged). Uses input_uri (ingest), output_uri,
// catalog_path (ingest, to skip published objects), text_field/id_field and prep (prep), threads
// and batch_records (infer), force, lock_wait_seconds, zstd_level, the storages, log and
// fault_hook. `engine` is required for infer only (else may be null).
// Errors: InvalidArgument (bad options, no engine for infer), NotFound (input), Unavailable
// (locked, I/O), ResourceExhausted (disk full: nothing half-written; run again), Aborted (an
// input kept changing while snapshotted).
Result<StageReport> RunStage(Stage stage, const PipelineOptions& options,
                             std::shared_ptr<const InferenceEngine> engine);

// Publishes every object the infer stage handed over, exactly as RunPipeline's publish step:
// dedup, results and quarantine parts, ledger commit, manifest, reconciliation. The run is keyed
// by the output and the (single) model and preprocess versions of the handed-over objects, so a
// killed publish resumes the same run. Uses output_uri, catalog_path, max_part_bytes, zstd_level,
// prep.dedup_*, lock_wait_seconds, the storages, callbacks. With nothing handed over it does
// nothing and returns an empty report (no run id, no manifest). FailedPrecondition when the
// handed-over objects mix model or prep versions.
Result<RunReport> PublishStaged(const PipelineOptions& options);

}  // namespace lote::pipeline

#endif  // LOTE_PIPELINE_STAGES_H_
