// The SQLite implementation of Ledger (see lote/pipeline/ledger.h), internal: the ledger and
// the catalog in one database file. For a local output it is the ledger; for an output on an
// object store it is the local cache of the ledger kept there (object_store_ledger.h), which
// uses the extra methods below.
#ifndef LOTE_SRC_PIPELINE_SQLITE_LEDGER_H_
#define LOTE_SRC_PIPELINE_SQLITE_LEDGER_H_

#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "lote/pipeline/ledger.h"
#include "pipeline/sqlite_db.h"

namespace lote::pipeline {

class SqliteLedger : public Ledger {
 public:
  static Result<std::unique_ptr<SqliteLedger>> Open(const std::string& path,
                                                    const std::string& output_uri);

  Result<std::optional<LedgerRun>> FindUnfinishedRun(const std::string& run_key) override;
  Status CreateRun(const LedgerRun& run) override;
  Status FinishRun(const std::string& run_id, const std::string& state,
                   const std::string& finished_at, const AttemptCounts& totals,
                   const std::string& manifest_uri) override;
  Result<int64_t> ObjectVersion(const std::string& uri, uint64_t size,
                                const std::string& content_id) override;
  Result<std::optional<std::pair<int64_t, std::string>>> DoneAttempt(int64_t object_id) override;
  Result<std::optional<int64_t>> VersionByEtag(const std::string& uri, uint64_t size,
                                               const std::string& etag) override;
  Status RememberEtag(int64_t object_id, const std::string& etag) override;
  Result<int64_t> SourceId(const std::string& uri) override;
  Result<int64_t> BeginAttempt(int64_t object_id, const AttemptInfo& info) override;
  Status AbortAttempt() override;
  Result<bool> SeenRecord(const std::string& record_id, int64_t source_id, int64_t attempt_id,
                          bool dedup) override;
  Result<bool> SeenContent(const std::string& content_key, const std::string& record_id,
                           int64_t attempt_id) override;
  Status AddResult(int64_t attempt_id, const ResultRow& row,
                   const std::string& entities_json) override;
  Status AddQuarantine(int64_t attempt_id, const QuarantineRow& row) override;
  Status CommitAttempt(int64_t attempt_id, int64_t object_id, const std::string& output_uri,
                       const AttemptCounts& counts, const LabelCounts& labels,
                       std::vector<StagedPart>* parts) override;
  Result<std::vector<PendingCommit>> PendingCommits() override;
  Status MarkDone(int64_t attempt_id, int64_t now_us) override;
  Result<AttemptCounts> RunTotals(const std::string& run_id) override;
  Result<std::vector<AttemptSummary>> RunAttempts(const std::string& run_id) override;
  Result<std::vector<StagedPart>> RunParts(const std::string& run_id) override;
  Result<std::vector<std::pair<std::string, uint64_t>>> TopLabels(const std::string& run_id,
                                                                  int n) override;
  Result<std::vector<std::pair<std::string, uint64_t>>> TopQuarantineReasons(
      const std::string& run_id, int n) override;
  Status RecordMonitoring(const std::string& report_json) override;
  Result<std::vector<std::string>> RecentMonitoring(const std::string& run_id, int n) override;
  Status StageFeedback(std::string_view record_id, std::string_view label) override;
  Status MatchStagedFeedback(const std::function<Status(const FeedbackRow&)>& row) override;
  Result<std::vector<std::string>> RecordFeedback(const FeedbackBatch& batch) override;
  Status DiscardStagedFeedback() override;
  Result<std::vector<FeedbackAccuracy>> RunFeedbackAccuracy(const std::string& run_id) override;

  // --- as the local cache of a ledger kept elsewhere (object_store_ledger.cc) ---
  // Called by CommitAttempt inside the attempt's transaction, once the final part names are
  // fixed and before COMMIT, with what CommitAttempt was given, the parts and the files of
  // superseded attempts to delete. An error rolls the attempt back; what the hook writes here
  // (SetMeta) commits with the attempt.
  using CommitHook = std::function<Status(
      int64_t attempt_id, const AttemptCounts& counts, const LabelCounts& labels,
      const std::vector<StagedPart>& parts, const std::vector<std::string>& deletes)>;
  void set_commit_hook(CommitHook hook) { commit_hook_ = std::move(hook); }
  // A value of catalog_meta ("" if absent); SetMeta inserts or replaces (inside an open
  // transaction, as part of it).
  Result<std::string> Meta(std::string_view key);
  Status SetMeta(std::string_view key, std::string_view value);
  Status Begin() {
    LOTE_RETURN_IF_ERROR(EndStageTransaction());
    return db_->Exec("BEGIN IMMEDIATE");
  }
  Status Commit() { return db_->Exec("COMMIT"); }
  void Rollback() { (void)db_->Exec("ROLLBACK"); }
  // Commits the open attempt (BeginAttempt) as CommitAttempt does, but with the final names
  // already in `parts` (an attempt replayed from a log): the partitions' part numbers move past
  // them. No commit hook.
  Status CommitReplayed(int64_t attempt_id, int64_t object_id, const AttemptCounts& counts,
                        const LabelCounts& labels, const std::vector<StagedPart>& parts);
  // True once any run is recorded.
  Result<bool> HasRuns();
  // Inserts a run unless one with its id exists (replaying a log), in the open transaction.
  Status InsertRunIfAbsent(const LedgerRun& run);
  // Stages a feedback row with its match as recorded (replaying a log): RecordFeedback then
  // records it without matching again.
  Status StageMatchedFeedback(const FeedbackRow& row);

 private:
  // What Open checks before using a catalog.
  struct State {
    bool empty = true;    // no tables yet
    int64_t version = 0;  // PRAGMA user_version
    std::string bound;    // the output it belongs to ("" before it is bound)
  };

  explicit SqliteLedger(std::unique_ptr<SqliteDb> db) : db_(std::move(db)) {}
  Status Prepare();
  Result<State> ReadState();
  static Status CheckState(const State& state, const std::string& path,
                           const std::string& output_uri);
  std::unique_ptr<SqliteDb> db_;
  Status FlushResults();
  // CommitAttempt and CommitReplayed: `replayed` keeps the final names given in `parts`.
  Status CommitOpen(int64_t attempt_id, int64_t object_id, const std::string& output_uri,
                    const AttemptCounts& counts, const LabelCounts& labels,
                    std::vector<StagedPart>* parts, bool replayed);
  // INSERT (verb "INSERT") or INSERT OR IGNORE a run in state 'running'.
  Status InsertRun(const LedgerRun& run, std::string_view verb);
  // Feedback staging: rows go to a temporary table in transactions of kStageBatch rows (one
  // transaction per row would write a journal per row); the open one is committed before any
  // other transaction begins.
  Status StageRow(const FeedbackRow& row, bool matched);
  Status EndStageTransaction();
  Status RecomputeFeedbackAccuracy(const std::string& run_id);
  // The daily summaries (results_daily, entities_daily, quarantine_daily; see kSummarySchema):
  // adds (`sign` 1) or takes away (-1) the rows of one attempt, all of them but its stale ones,
  // or (`newly_stale`) only those this open attempt made stale (temp.stale_new).
  Status Summarize(int64_t attempt_id, int sign, bool newly_stale);
  // Builds the summaries of every done attempt once, for a catalog written before they existed.
  Status BackfillSummaries();
  static constexpr uint64_t kStageBatch = 10000;
  bool stage_tx_open_ = false;
  uint64_t stage_tx_rows_ = 0;
  SqliteStmt stage_put_;
  CommitHook commit_hook_;

  // A results row waiting for the next multi-row INSERT.
  struct PendingResult {
    int64_t row_key = 0, attempt_id = 0;
    std::string record_id;
    uint64_t line = 0;
    bool has_hmac = false;
    uint8_t hmac[32];
    std::string lang;
    bool has_label = false;
    std::string label;
    double score = 0;
    std::string top_k, entities, processed_at;
  };
  static constexpr size_t kResultBatch = 32;
  static constexpr int kResultColumns = 11;

  SqliteStmt seen_get_, seen_put_, seen_add_, content_get_, content_put_, stale_put_,
      stale_new_put_, add_result_, add_results_, add_quarantine_;
  uint64_t result_seq_ = 0;  // result rows of the open attempt so far
  PendingResult pending_[kResultBatch];
  size_t pending_size_ = 0;

  // An attempt's rows as the summaries count them, gathered as AddResult takes them, so that
  // marking it done adds a few rows instead of reading all of its rows again. Keys: lang, '\0',
  // label, '\0', then the score tenth plus kTenthByte as one byte (results: -1..9 never a '\0')
  // or the entity type (entities).
  struct AttemptSummaryCounts {
    int64_t attempt_id = -1;
    std::unordered_map<std::string, std::pair<int64_t, double>> results;
    std::unordered_map<std::string, int64_t> entities;
  };
  static constexpr int kTenthByte = 2;
  void CountForSummaries(const PendingResult& row);
  Status AddCountedSummaries(const AttemptSummaryCounts& counts);
  AttemptSummaryCounts open_counts_;
  // Committed attempts not yet marked done (a run marks each soon after its commit; a reader
  // replaying a log may never): the oldest are dropped past kMaxCommittedCounts, and marking
  // such an attempt done reads its rows instead.
  static constexpr size_t kMaxCommittedCounts = 16;
  std::deque<AttemptSummaryCounts> committed_counts_;
  std::string count_key_;
};

}  // namespace lote::pipeline

#endif  // LOTE_SRC_PIPELINE_SQLITE_LEDGER_H_
