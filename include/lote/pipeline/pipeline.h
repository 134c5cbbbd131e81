// The batch pipeline behind `lote run`: ingest -> prep -> infer -> publish, exactly once.
//
//   ingest   lists the input objects (a folder, a single object or a glob) through Storage; the
//            format comes from the extension (.jsonl/.ndjson, .csv, .txt, each optionally .gz or
//            .zst); record_id is the id field's value or "SOURCE:LINE".
//   prep     see prep.h; then dedup against the ledger (by record_id across runs by default).
//   infer    the InferenceEngine on N worker threads, bounded queues, output in source order.
//   publish  Hive-partitioned JSONL + zstd under the output:
//              results/dt=YYYY-MM-DD/model=MODEL_VERSION/part-NNNNN.jsonl.zst
//              quarantine/dt=YYYY-MM-DD/model=MODEL_VERSION/part-NNNNN.jsonl.zst
//              _runs/RUN_ID/manifest.json
//            plus the SQLite ledger + catalog (default OUTPUT/_catalog/lote.db).
//
// Exactly once: each input object version (URI, size, XXH3-128 of its bytes) is processed in one
// ledger transaction into staged parts, committed, then moved to its final names (see
// src/pipeline/ledger.h for the protocol). Kill the process at any moment and run the same
// command again: the unfinished run resumes under the same run id, finished objects are skipped,
// interrupted commits are completed, and no row is lost or written twice. A run holds an
// exclusive lock on OUTPUT/_lock: a second run on the same output waits (lock_wait_seconds) or
// fails with Unavailable.
//
// Every record has exactly one outcome: a results row, a quarantine row (stage ingest, prep or
// infer, with a reason), or a duplicate; the run checks
// records_in == records_out + records_quarantined + records_duplicate before reporting success.
//
// The library never prints: progress and log lines go to the callbacks in PipelineOptions.
// Thread-safety: RunPipeline may be called from any thread; it starts and joins its own workers.
#ifndef LOTE_PIPELINE_PIPELINE_H_
#define LOTE_PIPELINE_PIPELINE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lote/base/status.h"
#include "lote/pipeline/inference.h"
#include "lote/pipeline/prep.h"
#include "lote/storage/storage.h"

namespace lote::pipeline {

enum class LogLevel { kInfo, kWarning, kError };

// A snapshot for progress displays; records counts are of the current invocation.
struct Progress {
  uint64_t objects_total = 0;  // objects listed
  uint64_t objects_done = 0;   // processed or skipped so far
  uint64_t bytes_total = 0;    // bytes of the listed objects
  uint64_t bytes_done = 0;     // bytes of finished objects plus bytes read of the current one
  uint64_t records_in = 0;
  uint64_t records_out = 0;
  uint64_t records_quarantined = 0;
  uint64_t records_duplicate = 0;
  double elapsed_s = 0;
  std::string current_object;
};

struct PipelineOptions {
  std::string input_uri;   // folder, object or glob; file://, plain path or mem://
  std::string output_uri;  // folder; file://, plain path or mem://
  // SQLite ledger + catalog. Empty: OUTPUT/_catalog/lote.db when the output is local, else an
  // error (FailedPrecondition) since object stores cannot hold a live SQLite file.
  std::string catalog_path;

  std::string text_field = "text";  // JSONL key / CSV column of the text
  std::string id_field = "id";      // JSONL key / CSV column of the record id ("" = none)
  PrepOptions prep;

  int threads = 0;                  // inference workers; 0: std::thread::hardware_concurrency
  size_t batch_records = 256;       // records per unit of work
  size_t max_inflight_batches = 0;  // bound on batches between reader and writer; 0: 4 x threads
  uint64_t max_part_bytes = 128ull << 20;  // uncompressed bytes per part before rolling
  int zstd_level = 3;
  bool force = false;            // reprocess objects already done (replaces their outputs)
  double lock_wait_seconds = 0;  // wait this long for another run's lock, then Unavailable
  int max_changed_retries = 2;   // an object that changes while read is retried this often

  // Storage overrides (tests: FaultInjectingStorage). Null: chosen by the URIs' schemes.
  std::shared_ptr<storage::Storage> input_storage;
  std::shared_ptr<storage::Storage> output_storage;

  // Current time in microseconds since the Unix epoch. Null: the system clock.
  std::function<int64_t()> now_micros;
  // Called from the calling thread about every progress_interval_s, and once per object.
  std::function<void(const Progress&)> on_progress;
  double progress_interval_s = 1.0;
  // Log lines (already redacted with the engine's PII policy).
  std::function<void(LogLevel, std::string_view)> log;
  // Test hook: called at named points of the commit protocol ("attempt_begun",
  // "first_batch_written", "parts_closed", "committed", "first_part_renamed", "object_done",
  // "manifest_written"); crash tests kill the process from it.
  std::function<void(std::string_view point)> fault_hook;
};

struct RunCounts {
  uint64_t records_in = 0;
  uint64_t records_out = 0;
  uint64_t records_quarantined = 0;
  uint64_t records_duplicate = 0;
  uint64_t bytes_in = 0;
};

// Seconds spent per stage, summed over the threads doing that stage (so with 4 workers, infer
// may exceed wall time).
struct StageTimes {
  double ingest_s = 0, prep_s = 0, infer_s = 0, publish_s = 0;
};

struct RunReport {
  std::string run_id;
  bool resumed = false;  // an unfinished run with the same command was continued
  std::string model_version;
  std::string preprocess_version;
  RunCounts counts;  // the whole run, including work of interrupted invocations
  StageTimes stages;
  uint64_t objects_listed = 0;
  uint64_t objects_processed = 0;  // processed by this run (any invocation)
  uint64_t objects_skipped = 0;    // already done by earlier runs
  uint64_t objects_ignored = 0;    // unknown format (logged)
  double wall_s = 0;               // this invocation
  std::vector<std::pair<std::string, uint64_t>> top_labels;
  std::vector<std::pair<std::string, uint64_t>> quarantine_reasons;  // "stage: reason class"
  std::string manifest_uri;
  std::string catalog_path;
};

// Runs (or resumes) the pipeline. Errors:
//   InvalidArgument  bad options, input not found (NotFound), model_version unusable in a path;
//   Unavailable      output locked by another run, or storage unreachable;
//   ResourceExhausted  disk full: nothing half-published; the same command resumes;
//   Aborted          an input object kept changing while being read;
//   Internal         reconciliation failed (a bug: the run is not marked succeeded).
// Quarantined records are not an error (see RunReport::counts).
Result<RunReport> RunPipeline(const PipelineOptions& options,
                              std::shared_ptr<const InferenceEngine> engine);

// The catalog path RunPipeline uses for `options` (see catalog_path above).
Result<std::string> ResolveCatalogPath(const PipelineOptions& options);

}  // namespace lote::pipeline

#endif  // LOTE_PIPELINE_PIPELINE_H_
