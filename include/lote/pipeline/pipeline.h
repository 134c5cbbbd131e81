// The batch pipeline behind `lote run`: ingest -> prep -> infer -> publish, exactly once.
//
//   ingest   lists the input objects (a folder, a single object or a glob) through Storage; the
//            format comes from the extension (.jsonl/.ndjson, .csv, .txt, each optionally .gz or
//            .zst); record_id is the id field's value or "SOURCE:LINE". A record longer than
//            max_record_bytes is quarantined without being held in memory.
//   prep     see prep.h; then dedup against the ledger (by record_id across runs by default).
//   infer    the InferenceEngine on N worker threads (RunOrdered: bounded, output in order).
//   publish  Hive-partitioned JSONL + zstd under the output:
//              results/dt=YYYY-MM-DD/model=MODEL_VERSION/part-NNNNN.jsonl.zst
//              quarantine/dt=YYYY-MM-DD/model=MODEL_VERSION/part-NNNNN.jsonl.zst
//              _runs/RUN_ID/manifest.json
//            plus the ledger + catalog (default: SQLite at OUTPUT/_catalog/lote.db).
//
// Exactly once: each input object version (URI, size, XXH3-128 of its bytes) is processed in one
// ledger transaction into staged parts, committed, then moved to its final names (see
// lote/pipeline/ledger.h for the protocol). Kill the process at any moment and run the same
// command again: the unfinished run resumes under the same run id, finished objects are skipped,
// interrupted commits are completed, and no row is lost or written twice. A run holds an
// exclusive lock on OUTPUT/_lock: a second run on the same output waits (lock_wait_seconds) or
// fails with Unavailable. The ledger is bound to its output, so the lock covers it: a catalog
// shared by two outputs is refused (FailedPrecondition).
//
// Before anything runs, an output inside the input (or the input inside the output) is refused:
// each run would otherwise read the previous run's results. Local inputs are read without
// following a symlink out of the input folder unless follow_symlinks is set.
//
// Every record has exactly one outcome: a results row, a quarantine row (stage ingest, prep or
// infer, with a reason), or a duplicate; the run checks
// records_in == records_out + records_quarantined + records_duplicate before reporting success.
//
// Personal data: results carry `text_hmac`, a keyed fingerprint of the raw text
// (HMAC-SHA256 under fingerprint_key), never an unkeyed hash: without the key nobody can
// confirm a guess of a short text. Without a key the field is null. Dedup by content compares
// keyed fingerprints too, so it needs the key.
//
// The library never prints: progress and log lines go to the callbacks in PipelineOptions,
// numbers to its MetricsSink, time comes from its Clock.
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

#include "lote/base/clock.h"
#include "lote/base/metrics.h"
#include "lote/base/secret.h"
#include "lote/base/status.h"
#include "lote/monitoring/alarms.h"
#include "lote/monitoring/drift.h"
#include "lote/pipeline/inference.h"
#include "lote/pipeline/ledger.h"
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
  std::string input_uri;   // folder, object or glob; file://, plain path, s3:// or mem://
  std::string output_uri;  // folder; file://, plain path, s3:// or mem://
  // When set, only the listed input objects for which it returns true are run; the others are
  // left alone (not ignored, not counted): `lote watch` runs the objects that have settled.
  std::function<bool(const storage::ObjectInfo&)> object_filter;
  // When set, only the input objects whose URI sorts after it are listed (Storage::ListAfter):
  // `lote watch` lists the same range its poll did.
  std::string list_after;
  // When non-empty, the run takes these objects instead of listing the input (`lote watch
  // --queue`: the objects S3's event notifications named). Each must lie under input_uri (or
  // match its glob); each is looked up again (its size and ETag now), and one that is gone is
  // left out with a warning and counted as ignored.
  std::vector<storage::ObjectInfo> input_objects;
  // The state machine execution (its ARN) whose task runs this: recorded with the run it creates
  // (the catalog's runs.flow_execution), so that a run leads to its execution's history.
  std::string flow_execution;
  // SQLite ledger + catalog. Local output: the ledger itself; empty means
  // OUTPUT/_catalog/lote.db. Output on an object store: only the local cache of the ledger kept
  // on the store (see OpenObjectStoreLedger), which can be deleted at any time; empty means
  // $XDG_CACHE_HOME (or $HOME/.cache, else the temp folder)/lote/catalogs/<hash of the output>.db.
  std::string catalog_path;

  std::string text_field = "text";  // JSONL key / CSV column of the text
  std::string id_field = "id";      // JSONL key / CSV column of the record id ("" = none)
  // A record longer than this (JSONL/txt: its line; CSV: all its lines) is quarantined at
  // ingest ("line longer than N bytes") without being buffered: memory per record stays
  // bounded by a small multiple of it.
  size_t max_record_bytes = size_t{1} << 20;
  // Local inputs: read files that are symlinks to somewhere outside the input folder. Off: such
  // files are skipped with a warning (and counted as ignored).
  bool follow_symlinks = false;
  PrepOptions prep;
  // Keys text_hmac and dedup by content (see above). Empty: text_hmac is null, and
  // prep.dedup_content is refused (InvalidArgument).
  Secret fingerprint_key;

  int threads = 0;              // inference workers; 0: the CPUs this process may run on (affinity)
  size_t batch_records = 1024;  // records per unit of work, at most
  size_t batch_bytes = size_t{1} << 20;  // text bytes per unit of work, about (closes a batch)
  size_t max_inflight_batches = 0;  // bound on batches between reader and writer; 0: 4 x threads
  uint64_t max_part_bytes = 128ull << 20;  // uncompressed bytes per part before rolling
  // The prep stage's parts (stages.h): uncompressed bytes of rows before a new part starts. Each
  // part is one request of the pipeline's Batch Transform (transform.h), which SageMaker caps at
  // MaxPayloadInMB (at most 100 MiB); a part holds at most this plus one record.
  uint64_t prep_part_bytes = 8ull << 20;
  int zstd_level = 3;
  bool force = false;            // reprocess objects already done (replaces their outputs)
  double lock_wait_seconds = 0;  // wait this long for another run's lock, then Unavailable
  int max_changed_retries = 2;   // an object that changes while read is retried this often

  // Storage overrides (tests: FaultInjectingStorage). Null: chosen by the URIs' schemes.
  std::shared_ptr<storage::Storage> input_storage;
  std::shared_ptr<storage::Storage> output_storage;
  // Ledger override (tests, other backends). Null: the SQLite ledger at catalog_path.
  std::shared_ptr<Ledger> ledger;

  // Monitoring (docs/monitoring.md): every run compares what the model saw with the model's
  // reference profile and writes OUTPUT/_runs/RUN_ID/monitoring.json and the catalog tables
  // `monitoring` and `drift_signals`. Off: none of it (and the report stays empty).
  bool monitor = true;
  monitoring::DriftOptions drift;
  // Alarm rules evaluated on each run's report and the reports before it (validated:
  // ValidateAlarmRule).
  std::vector<monitoring::AlarmRule> alarms;

  // Shadow scoring (`lote run --shadow`, `lote infer --shadow`): a second model (a challenger)
  // scores every record that gets a results row; its predictions go to OUTPUT/shadow/dt=.../
  // model=SHADOW_VERSION/ in the same parts, committed with the champion's rows, and the run's
  // agreement with the champion into the monitoring report. The infer stage hands the
  // challenger's predictions over with the champion's, and publish writes them (it takes no
  // shadow model itself; ingest and prep refuse one). Null: none.
  std::shared_ptr<const InferenceEngine> shadow;

  // Where time is read. Null: SystemClock().
  std::shared_ptr<const Clock> clock;
  // Where counts and timings go (lote_pipeline_* series; labels: stage, outcome, state). Null:
  // nowhere.
  std::shared_ptr<MetricsSink> metrics;
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
  // catalog: dedup lookups, catalog rows and the ledger commit (not in publish).
  double ingest_s = 0, prep_s = 0, infer_s = 0, publish_s = 0, catalog_s = 0;
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
  uint64_t objects_ignored = 0;    // unknown format, or a symlink out of the input (logged)
  double wall_s = 0;               // this invocation
  // The scores of the run's results that have a label: their sum and number. With monitoring on,
  // over the records of the monitoring report (the whole run: a resumed run's earlier
  // invocations saved their objects' profiles); with it off, over the results this invocation
  // committed.
  double score_sum = 0;
  uint64_t scored_records = 0;
  std::vector<std::pair<std::string, uint64_t>> top_labels;
  std::vector<std::pair<std::string, uint64_t>> quarantine_reasons;  // "stage: reason class"
  std::string manifest_uri;
  std::string catalog_path;
  // The run's monitoring report (its scope field says which records) and where it was written
  // (OUTPUT/_runs/RUN_ID/monitoring.json).
  monitoring::MonitoringReport monitoring;
  std::vector<monitoring::AlarmResult> alarms;  // one per rule, in the rules' order
  std::string monitoring_json;                  // monitoring.json as written
  std::string monitoring_uri;
  // Shadow scoring (PipelineOptions::shadow), over the whole run (resumed invocations too): the
  // shadow rows written and those whose label is the champion's.
  std::string shadow_model_version;
  uint64_t shadow_records = 0, shadow_agree = 0;
};

// Runs (or resumes) the pipeline. Errors:
//   InvalidArgument  bad options, an output inside the input (or the reverse), dedup by content
//                    without a fingerprint key, model_version unusable in a path;
//   NotFound         input not found;
//   FailedPrecondition  the catalog belongs to another output, or to another schema version;
//   Unavailable      output locked by another run, or storage unreachable;
//   ResourceExhausted  disk full: nothing half-published; the same command resumes;
//   Aborted          an input object kept changing while being read;
//   Internal         reconciliation failed (a bug: the run is not marked succeeded).
// Quarantined records are not an error (see RunReport::counts).
Result<RunReport> RunPipeline(const PipelineOptions& options,
                              std::shared_ptr<const InferenceEngine> engine);

// The catalog path RunPipeline uses for `options` (see catalog_path above).
Result<std::string> ResolveCatalogPath(const PipelineOptions& options);

// The ledger of options.output_uri (options.ledger if set): the SQLite ledger at the catalog path
// for a local output; for an output on an object store, the ledger kept there with the catalog
// path as its cache, brought up to date. `writer`: the caller holds the output lock (a new
// object-store ledger is created). `log` hears about cache rebuilds and replays (may be empty).
// Sets *catalog_path to the SQLite file, which `lote query` then reads.
Result<std::shared_ptr<Ledger>> OpenOutputLedger(const PipelineOptions& options, bool writer,
                                                 const std::function<void(const std::string&)>& log,
                                                 std::string* catalog_path);

}  // namespace lote::pipeline

#endif  // LOTE_PIPELINE_PIPELINE_H_
