// Late labels (`lote feedback`): labels for some published records arrive after the predictions.
// Each labelled record is matched with its latest published version (run, model version,
// predicted label, calibrated score), the batch is recorded in the catalog (tables
// feedback_batches, feedback, feedback_accuracy) and in OUTPUT/_feedback/, and every run whose
// records gained (or lost) labels gets its measured accuracy, with a Wilson interval, beside the
// label-free estimate for the same records, in the catalog and in
// OUTPUT/_runs/RUN_ID/feedback.json. docs/monitoring.md ("Late labels: measured accuracy") has the
// formats.
//
// The labels file is read and checked to its end before the output is touched: a file with any
// bad row writes nothing (not even the output lock). Rows go to a temporary SQLite database (on
// disk), so memory does not grow with the file; a record id given twice keeps its last label.
// Then, holding the output lock (so that no run commits meanwhile), the rows are matched, written
// to OUTPUT/_feedback/FEEDBACK_ID-00000.jsonl.zst and recorded: for a local output in the SQLite
// catalog's transaction, for an object-store output by the ledger's log entry naming that file.
//
// Nothing about an individual record (id, label, text) goes into a log line or an error message:
// errors name the labels file and line and what is wrong; logs give counts.
// Thread-safety: RecordFeedbackFile may be called from any thread; the output lock serializes
// callers (and runs) on one output.
#ifndef LOTE_PIPELINE_FEEDBACK_H_
#define LOTE_PIPELINE_FEEDBACK_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "lote/base/clock.h"
#include "lote/base/status.h"
#include "lote/io/byte_source.h"
#include "lote/pipeline/ledger.h"
#include "lote/pipeline/pipeline.h"
#include "lote/storage/storage.h"

namespace lote::pipeline {

enum class LabelsFormat { kAuto, kCsv, kJsonl };
// "csv", "jsonl" (also "ndjson", "json"), "auto"; InvalidArgument otherwise.
Result<LabelsFormat> ParseLabelsFormat(std::string_view name);
// From the extension, ignoring a trailing .gz/.zst: .csv -> kCsv; .jsonl, .ndjson, .json ->
// kJsonl; anything else kAuto (the first non-blank byte decides: '{' JSONL, else CSV).
LabelsFormat LabelsFormatFromPath(std::string_view path);

// Policy bounds of one labels file (a longer file is refused, not cut: split it).
inline constexpr uint64_t kMaxFeedbackRows = 10'000'000;
inline constexpr size_t kMaxFeedbackIdBytes = 4096;        // a record id (a URI:LINE fits)
inline constexpr size_t kMaxFeedbackLabelBytes = 1024;     // a label
inline constexpr size_t kMaxFeedbackLineBytes = 64 << 10;  // a JSONL line or a CSV record

struct FeedbackOptions {
  std::string output_uri;    // a pipeline output: folder, file://, s3:// or mem://
  std::string catalog_path;  // as PipelineOptions::catalog_path (empty: the default)
  // Overrides (tests). Null: the storage for the output's scheme, the output's ledger.
  std::shared_ptr<storage::Storage> output_storage;
  std::shared_ptr<Ledger> ledger;
  double lock_wait_seconds = 0;  // wait this long for a run's lock, then Unavailable
  uint64_t max_rows = kMaxFeedbackRows;
  std::shared_ptr<const Clock> clock;  // null: SystemClock()
  // Log lines (counts only).
  std::function<void(LogLevel, std::string_view)> log;
  // Test hook, called at "locked", "matched" (the batch's file written) and "recorded".
  std::function<void(std::string_view point)> fault_hook;
};

struct FeedbackSummary {
  std::string feedback_id;  // "20261207T101500Z-1a2b3c"
  std::string received_at;
  std::string file_uri;             // OUTPUT/_feedback/FEEDBACK_ID-00000.jsonl.zst
  uint64_t rows = 0;                // data rows read
  uint64_t records = 0;             // distinct record ids recorded
  uint64_t duplicates = 0;          // rows - records: repeated ids, whose last label was kept
  uint64_t matched = 0;             // records with a published results row
  uint64_t unmatched = 0;           // records without one (not published, or quarantined)
  uint64_t without_prediction = 0;  // matched rows without a label (entities-only models)
  // Matched records whose label their model version never predicted on this output; they count
  // as wrong.
  uint64_t unknown_labels = 0;
  // The runs whose measured accuracy changed, sorted, with their accuracy rows (whole run first,
  // then per predicted label; empty when the run has no labelled record any more) and the
  // feedback.json written for each ("" when deleted: no labelled record left).
  std::vector<std::string> runs;
  std::vector<std::vector<FeedbackAccuracy>> accuracy;
  std::vector<std::string> feedback_uris;
};

// Reads `labels` (CSV with a header holding the columns record_id and label, RFC 4180 quoting;
// or JSON lines {"record_id": ..., "label": ...}; other columns and keys are ignored) and
// records it as one feedback batch of the output. Errors, each naming the labels file (and line
// when a row is at fault) and nothing of its contents but column names:
//   InvalidArgument  a bad row (invalid UTF-8, a NUL byte, malformed CSV or JSON, a missing or
//                    empty record_id or label, one of the wrong JSON type, a field or line
//                    longer than its bound), more than max_rows rows, or no row at all; a
//                    missing column (FailedPrecondition). Nothing is written;
//   NotFound         the output has no catalog (nothing was ever published there);
//   Unavailable      the output is locked by a run (after lock_wait_seconds), storage errors;
//   Aborted          the output lock was lost meanwhile: nothing was recorded.
// The JSON text values record_id and label may also be numbers or booleans, taken as their JSON
// text (as the pipeline takes ids).
Result<FeedbackSummary> RecordFeedbackFile(const FeedbackOptions& options,
                                           std::unique_ptr<io::ByteSource> labels,
                                           LabelsFormat format);

// OUTPUT/_runs/RUN_ID/feedback.json for one run's accuracy rows (RunFeedbackAccuracy's order):
// {"run_id", "model_version", "updated_at", "measured_accuracy": {"value", "low", "high",
// "records", "correct", "interval"}, "estimated_accuracy": {"value", "mean_score"},
// "run_estimated_accuracy": {"value", "low", "high"} | null, "unknown_labels", "by_label":
// [{"label", "records", "correct", "value", "low", "high", "mean_score", "estimated_accuracy",
// "run_estimated_accuracy", "unknown_labels"}]}. `rows` must not be empty.
std::string FeedbackAccuracyJson(const std::vector<FeedbackAccuracy>& rows);

}  // namespace lote::pipeline

#endif  // LOTE_PIPELINE_FEEDBACK_H_
