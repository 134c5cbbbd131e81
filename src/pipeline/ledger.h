// IngestLedger: the SQLite database that makes runs exactly-once and holds the catalog.
//
// Tables (schema in ledger.cc):
//   runs        one row per run: identity, state (running/succeeded/failed), totals
//   objects     one row per object version: (uri, size, content_id) -> object_id
//   attempts    one processing of one object version in one run; state:
//                 committing  parts are staged and the final names fixed, renames may be pending
//                 done        files published
//                 superseded  replaced by a later attempt (--force); its files were deleted
//   parts       staged and final URI, rows, bytes and SHA-256 of every output file of an attempt
//   part_deletes  final URIs a committing attempt removes (files of the attempt it supersedes)
//   partitions  next part number per output folder (results/dt=../model=..)
//   sources     one id per object URI (dedup state refers to it)
//   seen_records / seen_content  dedup state across runs; seen_records also maps each record_id
//               to the attempt holding its latest version
//   attempt_labels  result rows per label of each attempt (the run summary's top labels)
//   stale_rows  (attempt, record_id) versions replaced by a later attempt of the same source
//   result_rows / quarantine_rows  catalog rows of every attempt, without what is
//               the same for the whole attempt (in attempts/objects)
// Views: results_history (rows of done attempts), results (minus stale versions), entities,
// quarantine. The schema version is PRAGMA user_version; another version is refused.
//
// Commit protocol, per object: BeginAttempt opens one write transaction; dedup state and catalog
// rows of the object go into it as records are written; CommitAttempt records the parts with
// their final names and state 'committing' and commits. Only then are the staged files renamed
// (RollForward), and the attempt becomes 'done'. A crash before the commit rolls the transaction
// back (SQLite does it), leaving staged files that the next run deletes; a crash after it leaves
// 'committing' attempts, which the next run finishes first (renames are idempotent).
// Thread-safety: one thread at a time.
#ifndef LOTE_SRC_PIPELINE_LEDGER_H_
#define LOTE_SRC_PIPELINE_LEDGER_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "lote/base/status.h"
#include "pipeline/sqlite_db.h"

namespace lote::pipeline {

struct LedgerRun {
  std::string run_id;
  std::string state;    // running / succeeded / failed
  std::string run_key;  // same key = same command: an unfinished run with it is resumed
  std::string input, output, model_version, preprocess_version;
  std::string started_at;  // ISO 8601 UTC
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
  double ingest_s = 0, prep_s = 0, infer_s = 0, publish_s = 0;
};

struct PendingCommit {
  int64_t attempt_id = 0;
  std::vector<StagedPart> parts;
  std::vector<std::string> deletes;
};

// Result rows per label ("(none)" for rows without one) of one attempt.
using LabelCounts = std::map<std::string, uint64_t>;

// What is the same for every row of an attempt.
struct AttemptInfo {
  std::string run_id;
  int64_t now_us = 0;
  std::string dt;  // partition date, YYYY-MM-DD
  std::string model_version, preprocess_version;
};

struct ResultRow {
  std::string record_id;
  uint64_t line = 0;
  std::string text_sha256;  // hex
  std::string lang, label;
  double score = 0;
  std::string top_k_json, processed_at;
};

struct QuarantineRow {
  std::string record_id;
  uint64_t line = 0;
  std::string stage, reason, processed_at;
};

class IngestLedger {
 public:
  // Opens or creates the database at `path` (WAL, synchronous=FULL) and its schema.
  static Result<std::unique_ptr<IngestLedger>> Open(const std::string& path);

  // --- runs ---
  // The newest run with `run_key` whose state is 'running' (its process died: the caller holds
  // the output lock), to be resumed.
  Result<std::optional<LedgerRun>> FindUnfinishedRun(const std::string& run_key);
  Status CreateRun(const LedgerRun& run);
  Status FinishRun(const std::string& run_id, const std::string& state,
                   const std::string& finished_at, const AttemptCounts& totals,
                   const std::string& manifest_uri);

  // --- objects and attempts ---
  Result<int64_t> ObjectVersion(const std::string& uri, uint64_t size,
                                const std::string& content_id);
  // The done attempt of this object version, if any.
  Result<std::optional<int64_t>> DoneAttempt(int64_t object_id);
  // The id of an object URI (any version), created on first use.
  Result<int64_t> SourceId(const std::string& uri);
  // Opens the object's write transaction and inserts its attempt row.
  Result<int64_t> BeginAttempt(int64_t object_id, const AttemptInfo& info);
  // Rolls the open transaction back (attempt, dedup state and catalog rows vanish).
  Status AbortAttempt();
  // True if this record is a duplicate (see dedup rules in ledger.cc; never with `dedup`
  // false); else records it as the record's latest version.
  Result<bool> SeenRecord(const std::string& record_id, int64_t source_id, int64_t attempt_id,
                          bool dedup);
  Result<bool> SeenContent(const std::string& text_sha256, const std::string& record_id,
                           int64_t attempt_id);
  // Catalog rows (inside the open transaction).
  // `entities_json` is the row's entities array (the `entities` view unnests it).
  Status AddResult(int64_t attempt_id, const ResultRow& row, const std::string& entities_json);
  Status AddQuarantine(int64_t attempt_id, const QuarantineRow& row);
  // Allocates final part names, marks earlier done attempts of the same object version as
  // superseded (their files listed for deletion, their catalog rows deleted when `force`), and
  // commits. `parts` get their final_uri. `output_uri` is the base of final names.
  Status CommitAttempt(int64_t attempt_id, int64_t object_id, const std::string& output_uri,
                       const AttemptCounts& counts, const LabelCounts& labels,
                       std::vector<StagedPart>* parts);

  // Attempts in state 'committing', with what remains to do.
  Result<std::vector<PendingCommit>> PendingCommits();
  Status MarkDone(int64_t attempt_id, int64_t now_us);

  // --- totals and manifest inputs for a run ---
  Result<AttemptCounts> RunTotals(const std::string& run_id);
  struct AttemptSummary {
    int64_t attempt_id;
    std::string uri, content_id;
    uint64_t size;
    AttemptCounts counts;
  };
  Result<std::vector<AttemptSummary>> RunAttempts(const std::string& run_id);
  Result<std::vector<StagedPart>> RunParts(const std::string& run_id);
  // Top `n` labels / quarantine reasons (digits folded to N) of a run, by count.
  Result<std::vector<std::pair<std::string, uint64_t>>> TopLabels(const std::string& run_id, int n);
  Result<std::vector<std::pair<std::string, uint64_t>>> TopQuarantineReasons(
      const std::string& run_id, int n);

  SqliteDb* db() { return db_.get(); }

 private:
  explicit IngestLedger(std::unique_ptr<SqliteDb> db) : db_(std::move(db)) {}
  Status Prepare();
  std::unique_ptr<SqliteDb> db_;
  SqliteStmt seen_get_, seen_put_, content_get_, content_put_, stale_put_, add_result_,
      add_quarantine_;
};

// Name of the quarantine reason class: digits replaced by N ("invalid UTF-8 at byte N").
std::string ReasonClass(std::string_view reason);

}  // namespace lote::pipeline

#endif  // LOTE_SRC_PIPELINE_LEDGER_H_
