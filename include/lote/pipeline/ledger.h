// Ledger: the pipeline's source of truth for exactly-once processing, behind an interface so
// that where it lives can change: SQLite next to the catalog for a local output
// (OpenSqliteLedger), a log on the object store with a SQLite cache for an s3:// or mem://
// output (OpenObjectStoreLedger).
//
// What it records:
//   runs        one row per run: identity, state (running/succeeded/failed), totals
//   objects     one row per object version: (uri, size, content_id) -> object_id
//   attempts    one processing of one object version in one run; state:
//                 open        being written (inside the attempt's transaction)
//                 committing  parts are staged and the final names fixed, renames may be pending
//                 done        files published
//                 superseded  replaced by a later attempt (--force); its files were deleted
//   parts       staged and final URI, rows, bytes and SHA-256 of every output file of an attempt
//   dedup state record ids (and, with dedup by content, keyed fingerprints of clean texts) seen
//               by earlier attempts, and which attempt holds each record's latest version
//   catalog rows  the published rows, for `lote query` (see catalog.h)
//   feedback    labels that arrived after the predictions (`lote feedback`), each with the
//               published version it was matched to, and the measured accuracy per run
//
// Commit protocol, per object: BeginAttempt opens the object's write transaction; dedup state and
// catalog rows go into it as records are written; CommitAttempt records the parts with their
// final names and state 'committing' and commits. Only then are the staged files renamed (the
// caller's RollForward), and MarkDone makes the attempt 'done'. A crash before the commit rolls
// the transaction back, leaving staged files the next run deletes; a crash after it leaves
// 'committing' attempts, which the next run finishes first (renames are idempotent).
//
// A ledger belongs to one output: Open binds it to the output it is first opened for and refuses
// any other (FailedPrecondition), so two outputs can never share dedup state. The output lock
// (OUTPUT/_lock) therefore covers the ledger too: one writer per output, hence per ledger.
//
// Thread-safety: one thread at a time (the pipeline's writer thread).
#ifndef LOTE_PIPELINE_LEDGER_H_
#define LOTE_PIPELINE_LEDGER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lote/base/status.h"

namespace lote::storage {
class Storage;
}

namespace lote::pipeline {

struct LedgerRun {
  std::string run_id;
  std::string state;    // running / succeeded / failed
  std::string run_key;  // same key = same command: an unfinished run with it is resumed
  std::string input, output, model_version, preprocess_version;
  std::string started_at;  // ISO 8601 UTC
  // The state machine execution (Step Functions' execution ARN) whose task started the run, or
  // "" for a run started otherwise.
  std::string flow_execution;
};

struct StagedPart {
  std::string kind;       // "results" or "quarantine"
  std::string partition;  // "results/dt=2024-05-01/model=m1" (relative to the output)
  std::string staged_uri;
  std::string final_uri;  // filled by CommitAttempt
  uint64_t rows = 0;
  uint64_t bytes = 0;
  std::string sha256;
};

struct AttemptCounts {
  uint64_t records_in = 0;
  uint64_t records_out = 0;
  uint64_t records_quarantined = 0;
  uint64_t records_duplicate = 0;
  uint64_t bytes_in = 0;
  // Seconds per stage (summed over threads); catalog: dedup lookups, catalog rows and the
  // ledger commit, which publish_s does not include.
  double ingest_s = 0, prep_s = 0, infer_s = 0, publish_s = 0, catalog_s = 0;
};

struct PendingCommit {
  int64_t attempt_id = 0;
  std::vector<StagedPart> parts;
  std::vector<std::string> deletes;
};

// Result rows per label ("(none)" for rows without one) of one attempt.
using LabelCounts = std::map<std::string, uint64_t, std::less<>>;

// What is the same for every row of an attempt.
struct AttemptInfo {
  std::string run_id;
  int64_t now_us = 0;
  std::string dt;  // partition date, YYYY-MM-DD
  std::string model_version, preprocess_version;
};

// A results row as the catalog keeps it. Views into the caller's strings, valid for the
// AddResult call (a row is written millions of times: no copies).
struct ResultRow {
  std::string_view record_id;
  uint64_t line = 0;
  std::string_view text_hmac;  // hex keyed fingerprint of the raw text; empty without a key
  std::string_view lang, label;
  double score = 0;
  std::string_view top_k_json, processed_at;
};

struct QuarantineRow {
  std::string record_id;
  uint64_t line = 0;
  std::string stage, reason, processed_at;
};

struct AttemptSummary {
  int64_t attempt_id = 0;
  std::string uri, content_id;
  uint64_t size = 0;
  AttemptCounts counts;
};

// One labelled record of a feedback batch (`lote feedback`) and the published version its label
// was matched to: the record's latest version when the label arrived.
struct FeedbackRow {
  std::string record_id, label;
  // run_id empty: no published results row has this record id (unmatched).
  std::string run_id, model_version;
  bool has_prediction = false;  // the results row has a label (not an entities-only model)
  std::string predicted_label;
  double score = 0;  // the calibrated probability of predicted_label
  // The model version has predicted `label` in some committed run of this output; a label it
  // never predicted here (unknown to it, or a typo) still counts, as wrong.
  bool label_known = false;
};

// A feedback batch: one labels file, as recorded.
struct FeedbackBatch {
  std::string feedback_id;  // "20261207T101500Z-1a2b3c"
  std::string received_at;  // ISO 8601 UTC
  // OUTPUT/_feedback/FEEDBACK_ID.jsonl.zst: the batch's rows with their matches (FeedbackRow as
  // JSON lines), from which an object-store ledger's cache replays the batch.
  std::string file_uri;
  uint64_t rows = 0;
  std::string sha256;  // of file_uri's bytes
};

// Measured accuracy of one run's predictions on its labelled records: all of them
// (predicted_label empty) or those with one predicted label. Records matched without a
// prediction are left out.
struct FeedbackAccuracy {
  std::string run_id, model_version;
  std::string predicted_label;  // "" = every labelled record of the run
  uint64_t labelled = 0, correct = 0;
  uint64_t unknown_labels = 0;  // of `labelled`: records whose label the model never predicted
  double accuracy = 0, low = 0, high = 0;  // correct / labelled, Wilson 95 % interval
  double mean_score = 0;                   // the records' mean calibrated score
  // The run's label-free estimate for the same records: mean_score less the run's calibration
  // offset (clamped to [0, 1]); absent when the run has no monitoring report.
  std::optional<double> estimated_accuracy;
  // The run's own estimate for the whole batch (or this predicted label), from its monitoring
  // report: value, low, high.
  std::optional<double> run_estimate, run_estimate_low, run_estimate_high;
  std::string updated_at;  // received_at of the newest label counted
};

class Ledger {
 public:
  virtual ~Ledger() = default;

  // --- runs ---
  // The newest run with `run_key` whose state is 'running' (its process died: the caller holds
  // the output lock), to be resumed.
  virtual Result<std::optional<LedgerRun>> FindUnfinishedRun(const std::string& run_key) = 0;
  virtual Status CreateRun(const LedgerRun& run) = 0;
  virtual Status FinishRun(const std::string& run_id, const std::string& state,
                           const std::string& finished_at, const AttemptCounts& totals,
                           const std::string& manifest_uri) = 0;

  // --- objects and attempts ---
  virtual Result<int64_t> ObjectVersion(const std::string& uri, uint64_t size,
                                        const std::string& content_id) = 0;
  // The done attempt of this object version and the run it belongs to, if any.
  virtual Result<std::optional<std::pair<int64_t, std::string>>> DoneAttempt(int64_t object_id) = 0;
  // The object version last identified under this listing (URI, size, ETag), for stores whose
  // ETags identify content (storage::Storage::etags_identify_content); RememberEtag records it
  // once Identify has read that very version.
  virtual Result<std::optional<int64_t>> VersionByEtag(const std::string& uri, uint64_t size,
                                                       const std::string& etag) = 0;
  virtual Status RememberEtag(int64_t object_id, const std::string& etag) = 0;
  // The id of an object URI (any version), created on first use.
  virtual Result<int64_t> SourceId(const std::string& uri) = 0;
  // Opens the object's write transaction and inserts its attempt row.
  virtual Result<int64_t> BeginAttempt(int64_t object_id, const AttemptInfo& info) = 0;
  // Rolls the open transaction back (attempt, dedup state and catalog rows vanish).
  virtual Status AbortAttempt() = 0;
  // True if this record is a duplicate: its id was already published from another source
  // (delivered twice), or earlier in this same attempt. The same id from the same source in an
  // earlier attempt is a new version of the record (a changed object, or --force): processed
  // again, the earlier version becomes stale. With `dedup` false only versions are tracked.
  virtual Result<bool> SeenRecord(const std::string& record_id, int64_t source_id,
                                  int64_t attempt_id, bool dedup) = 0;
  // True if another record already had this clean-text fingerprint (keyed: see
  // PipelineOptions::fingerprint_key); else records it.
  virtual Result<bool> SeenContent(const std::string& content_key, const std::string& record_id,
                                   int64_t attempt_id) = 0;
  // Catalog rows (inside the open transaction). `entities_json` is the row's entities array.
  virtual Status AddResult(int64_t attempt_id, const ResultRow& row,
                           const std::string& entities_json) = 0;
  virtual Status AddQuarantine(int64_t attempt_id, const QuarantineRow& row) = 0;
  // Allocates final part names under `output_uri`, marks earlier done attempts of the same
  // object version as superseded (their files listed for deletion, their catalog rows deleted),
  // and commits. `parts` get their final_uri.
  virtual Status CommitAttempt(int64_t attempt_id, int64_t object_id, const std::string& output_uri,
                               const AttemptCounts& counts, const LabelCounts& labels,
                               std::vector<StagedPart>* parts) = 0;
  // Attempts in state 'committing', with what remains to do.
  virtual Result<std::vector<PendingCommit>> PendingCommits() = 0;
  virtual Status MarkDone(int64_t attempt_id, int64_t now_us) = 0;

  // --- totals and manifest inputs for a run ---
  virtual Result<AttemptCounts> RunTotals(const std::string& run_id) = 0;
  virtual Result<std::vector<AttemptSummary>> RunAttempts(const std::string& run_id) = 0;
  virtual Result<std::vector<StagedPart>> RunParts(const std::string& run_id) = 0;
  // Top `n` labels / quarantine reasons (digits folded to N) of a run, by count.
  virtual Result<std::vector<std::pair<std::string, uint64_t>>> TopLabels(const std::string& run_id,
                                                                          int n) = 0;
  virtual Result<std::vector<std::pair<std::string, uint64_t>>> TopQuarantineReasons(
      const std::string& run_id, int n) = 0;

  // --- monitoring ---
  // Records a run's monitoring report (the JSON of _runs/RUN_ID/monitoring.json: run_id,
  // model_version, lote/monitoring/drift.h's fields and the alarms) in the catalog tables
  // `monitoring`, `drift_signals` and `alarms`, replacing an earlier report of the same run.
  // InvalidArgument for a report that is not such JSON.
  virtual Status RecordMonitoring(const std::string& report_json) = 0;
  // The monitoring reports of the latest `n` runs other than `run_id` that had records, newest
  // first (by their written_at): the history alarm rules look back on.
  virtual Result<std::vector<std::string>> RecentMonitoring(const std::string& run_id, int n) = 0;

  // --- feedback (late labels) ---
  // Stages one labelled record of a feedback batch in temporary storage private to this ledger
  // (on disk, so memory does not grow with the batch); a later row with the same record id
  // replaces the earlier one. Nothing is visible in the catalog until RecordFeedback.
  virtual Status StageFeedback(std::string_view record_id, std::string_view label) = 0;
  // Matches every staged record with its latest published version (the one the dedup state names,
  // in a committed attempt) and calls `row` for each staged record, in record id order. Costs one
  // scan of the result rows of the attempts holding those versions. The caller holds the output
  // lock, so that no run commits meanwhile.
  virtual Status MatchStagedFeedback(const std::function<Status(const FeedbackRow&)>& row) = 0;
  // Records the staged (and matched) rows as `batch` in the catalog table `feedback`, replacing
  // earlier labels of the same records, and recomputes `feedback_accuracy` for every run whose
  // records gained or lost a label; empties the stage. Returns those runs' ids, sorted. On an
  // object store, the batch's log entry (naming batch.file_uri, which must exist) is the commit.
  virtual Result<std::vector<std::string>> RecordFeedback(const FeedbackBatch& batch) = 0;
  // Drops whatever is staged (a batch given up).
  virtual Status DiscardStagedFeedback() = 0;
  // The measured accuracy of `run_id`: the whole run first, then per predicted label (most
  // labelled first). Empty when no label matched the run.
  virtual Result<std::vector<FeedbackAccuracy>> RunFeedbackAccuracy(const std::string& run_id) = 0;
};

// The SQLite ledger (and catalog) at `path`, created if absent (WAL, synchronous=FULL), bound to
// `output_uri` (the canonical output URI: see storage::Storage::CanonicalUri). Errors:
// FailedPrecondition (bound to another output, or another schema version), Unavailable, DataLoss.
Result<std::unique_ptr<Ledger>> OpenSqliteLedger(const std::string& path,
                                                 const std::string& output_uri);

// The ledger of an output on an object store (s3://, mem://), where no local file may be needed
// for correctness: the truth is a log of immutable entries under OUTPUT/_ledger/log/, numbered
// 00000000000000000000.json, 00000000000000000001.json, ..., each created with a conditional
// write (Storage::CreateIfAbsent, S3's If-None-Match: *), so that of two writers only one can
// append a given entry. Entry 0 names the ledger (a random id and the output); then one entry per
// run started, per object attempt committed (object version, counts, parts with staged and final
// names, superseded files, content fingerprints when deduplicating by content) and per run
// finished; and a "writer" entry from each writer as it opens the ledger (holding the output
// lock), which leaves any earlier holder unable to append. Writing a commit's entry is the
// commit: the SQLite cache commits the attempt only after it, and a process that finds its entry
// number taken has lost the output lock and stops (Aborted) without publishing.
//
// `cache_path` is a SQLite ledger + catalog (OpenSqliteLedger's format) brought up to date from
// the log when opened: entries it has not seen are replayed, reading each committed attempt's
// rows back from its part files (dedup state, catalog rows); a cache of another ledger (the
// output was deleted and written anew) or ahead of the log is rebuilt from scratch. It can be
// deleted at any time. `writer` (the caller holds the output lock) creates entry 0 of a new
// ledger; a reader (`lote query`) only reads the store.
struct ObjectStoreLedgerOptions {
  std::shared_ptr<storage::Storage> store;
  std::string output_uri;     // as the pipeline writes it (part URIs are under it)
  std::string canonical_uri;  // storage::Storage::CanonicalUri(output_uri)
  std::string cache_path;
  bool writer = true;
  // Told about cache rebuilds and replays ("catalog cache X: replaying ledger entries 7..12");
  // may be empty.
  std::function<void(const std::string&)> log;
};
Result<std::unique_ptr<Ledger>> OpenObjectStoreLedger(const ObjectStoreLedgerOptions& options);

// Name of the quarantine reason class: digits replaced by N ("invalid UTF-8 at byte N").
std::string ReasonClass(std::string_view reason);

}  // namespace lote::pipeline

#endif  // LOTE_PIPELINE_LEDGER_H_
