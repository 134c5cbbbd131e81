// The SQLite implementation of Ledger (lote/pipeline/ledger.h): ledger and catalog in one
// database file, so that `lote query` reads exactly what was committed.
#include "pipeline/sqlite_ledger.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "lote/base/digest.h"
#include "lote/base/json_writer.h"
#include "lote/base/version.h"
#include "lote/monitoring/drift.h"
#include "lote/pipeline/ledger.h"
#include "lote/storage/storage.h"

namespace lote::pipeline {
namespace {

// Schema version, in PRAGMA user_version. A catalog written by another version is refused (a
// clear error naming the file) rather than misread. Version 4: keyed text fingerprints
// (text_hmac) instead of unkeyed SHA-256 (version 3's catalogs and files hold those: they are
// not migrated but refused, see Open), and the catalog bound to one output (catalog_meta).
constexpr int kSchemaVersion = 4;

// result_rows' key is (attempt_id << kRowKeyBits) | the row's number in the attempt: an
// attempt's rows are one key range (deleted as one, found without a second index), and rows are
// appended in key order, which is SQLite's cheapest insert.
constexpr int kRowKeyBits = 32;

// Standard errors of the measured accuracy's Wilson interval (95 %).
constexpr double kFeedbackZ = 1.96;

// The catalog stores each result row once, compactly: what is the same for every row of an
// attempt (source, run, model and preprocessing versions, dt) lives in `attempts` and `objects`
// and the views join it back. No index is keyed by record_id except the dedup table: indexes
// keyed by a random id make every insert touch a random page, which is what made large runs
// slow down as the catalog grew. Versions replaced by a changed object are listed in
// `stale_rows` (usually empty) instead of being found by a window over all rows at query time.
constexpr std::string_view kSchema = R"sql(
CREATE TABLE IF NOT EXISTS catalog_meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS runs(
  run_id TEXT PRIMARY KEY, run_key TEXT NOT NULL, state TEXT NOT NULL,
  input TEXT, output TEXT, model_version TEXT, preprocess_version TEXT,
  started_at TEXT, finished_at TEXT,
  records_in INTEGER DEFAULT 0, records_out INTEGER DEFAULT 0,
  records_quarantined INTEGER DEFAULT 0, records_duplicate INTEGER DEFAULT 0,
  manifest TEXT);
CREATE INDEX IF NOT EXISTS runs_key ON runs(run_key, state);
CREATE TABLE IF NOT EXISTS sources(source_id INTEGER PRIMARY KEY, uri TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS objects(
  object_id INTEGER PRIMARY KEY, uri TEXT NOT NULL, size INTEGER NOT NULL,
  content_id TEXT NOT NULL, UNIQUE(uri, size, content_id));
CREATE TABLE IF NOT EXISTS attempts(
  attempt_id INTEGER PRIMARY KEY, object_id INTEGER NOT NULL, run_id TEXT NOT NULL,
  state TEXT NOT NULL, started_us INTEGER, finished_us INTEGER,
  dt TEXT, model_version TEXT, preprocess_version TEXT,
  records_in INTEGER DEFAULT 0, records_out INTEGER DEFAULT 0,
  records_quarantined INTEGER DEFAULT 0, records_duplicate INTEGER DEFAULT 0,
  bytes_in INTEGER DEFAULT 0, ingest_s REAL DEFAULT 0, prep_s REAL DEFAULT 0,
  infer_s REAL DEFAULT 0, publish_s REAL DEFAULT 0, catalog_s REAL DEFAULT 0);
CREATE INDEX IF NOT EXISTS attempts_object ON attempts(object_id, state);
CREATE INDEX IF NOT EXISTS attempts_run ON attempts(run_id);
CREATE TABLE IF NOT EXISTS parts(
  attempt_id INTEGER NOT NULL, kind TEXT NOT NULL, partition TEXT NOT NULL,
  staged_uri TEXT NOT NULL, final_uri TEXT NOT NULL, rows INTEGER, bytes INTEGER, sha256 TEXT);
CREATE INDEX IF NOT EXISTS parts_attempt ON parts(attempt_id);
CREATE TABLE IF NOT EXISTS part_deletes(attempt_id INTEGER NOT NULL, final_uri TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS partitions(partition TEXT PRIMARY KEY, next_part INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS seen_records(
  record_id TEXT PRIMARY KEY, source_id INTEGER NOT NULL, attempt_id INTEGER NOT NULL)
  WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS seen_content(
  content_key BLOB PRIMARY KEY, record_id TEXT NOT NULL, attempt_id INTEGER NOT NULL)
  WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS attempt_labels(
  attempt_id INTEGER NOT NULL, label TEXT NOT NULL, n INTEGER NOT NULL,
  PRIMARY KEY(attempt_id, label)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS stale_rows(
  attempt_id INTEGER NOT NULL, record_id TEXT NOT NULL, PRIMARY KEY(attempt_id, record_id))
  WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS result_rows(
  row_key INTEGER PRIMARY KEY, attempt_id INTEGER NOT NULL, record_id TEXT NOT NULL,
  line INTEGER, text_hmac BLOB, lang TEXT, label TEXT, score REAL, top_k TEXT, entities TEXT,
  processed_at TEXT);
CREATE TABLE IF NOT EXISTS quarantine_rows(
  attempt_id INTEGER NOT NULL, record_id TEXT, line INTEGER, stage TEXT, reason TEXT,
  processed_at TEXT);
CREATE INDEX IF NOT EXISTS quarantine_rows_attempt ON quarantine_rows(attempt_id);
CREATE VIEW IF NOT EXISTS results_history AS
  SELECT r.record_id, o.uri AS source, r.line,
         CASE WHEN r.text_hmac IS NULL THEN NULL ELSE lower(hex(r.text_hmac)) END AS text_hmac,
         r.lang, r.label, r.score, r.top_k, r.entities, a.model_version,
         a.preprocess_version, a.run_id, r.processed_at, a.dt, a.model_version AS model,
         r.attempt_id
  FROM result_rows r JOIN attempts a ON a.attempt_id = r.attempt_id
    JOIN objects o ON o.object_id = a.object_id
  WHERE a.state = 'done';
CREATE VIEW IF NOT EXISTS results AS
  SELECT record_id, source, line, text_hmac, lang, label, score, top_k, entities,
         model_version, preprocess_version, run_id, processed_at, dt, model
  FROM results_history h
  WHERE NOT EXISTS (SELECT 1 FROM stale_rows s
                    WHERE s.attempt_id = h.attempt_id AND s.record_id = h.record_id);
-- Entities are unnested from the rows' entities JSON at query time, as Athena does with UNNEST:
-- one copy in the catalog, no per-entity inserts. ->> gives strings unquoted, numbers as
-- numbers and objects as their JSON text.
CREATE VIEW IF NOT EXISTS entities AS
  SELECT r.record_id, j.value ->> '$.type' AS type, j.value ->> '$.start' AS start,
         j.value ->> '$.end' AS "end", j.value ->> '$.text' AS text,
         j.value ->> '$.value' AS value, j.value ->> '$.score' AS score, r.run_id,
         r.model_version, r.dt
  FROM results r, json_each(r.entities) j;
CREATE VIEW IF NOT EXISTS quarantine AS
  SELECT q.record_id, o.uri AS source, q.line, q.stage, q.reason, a.run_id, q.processed_at,
         a.dt, a.model_version AS model
  FROM quarantine_rows q JOIN attempts a ON a.attempt_id = q.attempt_id
    JOIN objects o ON o.object_id = a.object_id
  WHERE a.state = 'done';
)sql";

// Daily summaries of what the views show, for the dashboard: its pages count millions of rows,
// and a GROUP BY over the `results` view reads every row (its joins, its stale-row check) each
// time. These hold the same counts per day, model version, language and label, kept in step with
// the views by the ledger itself: an attempt's rows are added when it is marked done (the moment
// the views show it), and taken away when they go stale (a new version of the record) or their
// attempt is superseded (--force). No NULL in a key, so that a count finds its row: '' stands for
// a missing language, label or type, and score_tenth -1 for a row without a score (no label).
// score_tenth is min(floor(score * 10), 9): 0.95 and 1.0 are both in tenth 9.
constexpr std::string_view kSummarySchema = R"sql(
CREATE TABLE IF NOT EXISTS results_daily(
  dt TEXT NOT NULL, model_version TEXT NOT NULL, lang TEXT NOT NULL, label TEXT NOT NULL,
  score_tenth INTEGER NOT NULL, records INTEGER NOT NULL, score_sum REAL NOT NULL,
  PRIMARY KEY(dt, model_version, lang, label, score_tenth)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS entities_daily(
  dt TEXT NOT NULL, model_version TEXT NOT NULL, lang TEXT NOT NULL, label TEXT NOT NULL,
  type TEXT NOT NULL, entities INTEGER NOT NULL,
  PRIMARY KEY(dt, model_version, lang, label, type)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS quarantine_daily(
  dt TEXT NOT NULL, model_version TEXT NOT NULL, stage TEXT NOT NULL, records INTEGER NOT NULL,
  PRIMARY KEY(dt, model_version, stage)) WITHOUT ROWID;
CREATE TEMP TABLE IF NOT EXISTS stale_new(
  attempt_id INTEGER NOT NULL, record_id TEXT NOT NULL, PRIMARY KEY(attempt_id, record_id))
  WITHOUT ROWID;
)sql";

// The "type" of each entity in `json`, an array of entity objects as lote writes them ("" for an
// entity without one, as the entities view's ->> gives NULL for it), appended to `types`. Only the
// array's own objects are looked into: a "type" inside an entity's value is not an entity's.
// False when the text is not such an array (its entities are then not counted, as the SQL path
// passes over text that is not JSON).
bool EntityTypes(std::string_view json, std::vector<std::string_view>* types) {
  types->clear();
  int depth = 0;
  bool type_next = false;  // in an entity, the value read next is its type
  bool has_type = false;   // the entity being read has one
  for (size_t i = 0; i < json.size(); ++i) {
    const char c = json[i];
    if (c == '"') {
      const size_t start = i + 1;
      for (++i; i < json.size() && json[i] != '"'; ++i) {
        if (json[i] == '\\') ++i;
      }
      if (i >= json.size()) return false;
      if (depth != 2) continue;
      const std::string_view str = json.substr(start, i - start);
      size_t j = i + 1;
      while (j < json.size() &&
             (json[j] == ' ' || json[j] == '\n' || json[j] == '\t' || json[j] == '\r')) {
        ++j;
      }
      if (j < json.size() && json[j] == ':') {  // a member's name
        type_next = str == "type";
        i = j;
      } else {
        if (type_next) {
          types->push_back(str);
          has_type = true;
        }
        type_next = false;
      }
    } else if (c == '[' || c == '{') {
      ++depth;
      if ((depth == 1 && c != '[') || (depth == 2 && c != '{')) return false;
      if (depth == 2) has_type = false;
      type_next = false;
    } else if (c == ']' || c == '}') {
      if (depth == 2 && !has_type) types->push_back("");
      if (--depth < 0) return false;
    } else if (depth == 2 && c != ',' && c != ' ' && c != '\n' && c != '\t' && c != '\r') {
      type_next = false;  // a number or literal
    }
  }
  return depth == 0;
}

// Adds (`sign` "1") or takes away ("-1") one attempt's quarantined rows in quarantine_daily.
std::string QuarantineSummarySql(const std::string& attempt_id, const std::string& sign) {
  return "INSERT INTO quarantine_daily SELECT a.dt, coalesce(a.model_version, ''), "
         "coalesce(q.stage, ''), " +
         sign +
         " * count(*) FROM quarantine_rows q JOIN attempts a ON a.attempt_id = " + attempt_id +
         " WHERE q.attempt_id = " + attempt_id +
         " GROUP BY 1, 2, 3 ON CONFLICT(dt, model_version, stage) DO UPDATE SET records = "
         "records + excluded.records;";
}

// The first column of every row `s` gives, as integers.
Result<std::vector<int64_t>> IntColumn(SqliteStmt& s) {
  std::vector<int64_t> out;
  while (true) {
    LOTE_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) return out;
    out.push_back(s.Int(0));
  }
}

// catalog_meta's key once every done attempt is in the summaries.
constexpr std::string_view kMetaSummaries = "daily_summaries";

AttemptCounts CountsFrom(const SqliteStmt& s, int first) {
  AttemptCounts c;
  c.records_in = static_cast<uint64_t>(s.Int(first));
  c.records_out = static_cast<uint64_t>(s.Int(first + 1));
  c.records_quarantined = static_cast<uint64_t>(s.Int(first + 2));
  c.records_duplicate = static_cast<uint64_t>(s.Int(first + 3));
  c.bytes_in = static_cast<uint64_t>(s.Int(first + 4));
  c.ingest_s = s.Double(first + 5);
  c.prep_s = s.Double(first + 6);
  c.infer_s = s.Double(first + 7);
  c.publish_s = s.Double(first + 8);
  c.catalog_s = s.Double(first + 9);
  return c;
}

constexpr const char* kCountColumns =
    "records_in, records_out, records_quarantined, records_duplicate, bytes_in, ingest_s, "
    "prep_s, infer_s, publish_s, catalog_s";

}  // namespace

std::string ReasonClass(std::string_view reason) {
  // Numbers become N ("at byte 12" -> "at byte N"); digits glued to letters or '-' stay, so
  // "UTF-8" is not "UTF-N".
  std::string out;
  for (size_t i = 0; i < reason.size();) {
    const char c = reason[i];
    const bool standalone = c >= '0' && c <= '9' &&
                            (i == 0 || !(std::isalpha(static_cast<unsigned char>(reason[i - 1])) ||
                                         reason[i - 1] == '-'));
    if (!standalone) {
      out.push_back(c);
      ++i;
      continue;
    }
    out.push_back('N');
    while (i < reason.size() && reason[i] >= '0' && reason[i] <= '9') ++i;
  }
  return out;
}

Result<std::unique_ptr<SqliteLedger>> SqliteLedger::Open(const std::string& path,
                                                         const std::string& output_uri) {
  if (output_uri.empty()) return InvalidArgumentError("a ledger needs its output URI");
  LOTE_ASSIGN_OR_RETURN(auto db, SqliteDb::Open(path, /*read_only=*/false));
  // WAL: `lote query` reads while a run writes. synchronous=FULL: a commit that returned is on
  // disk, so files renamed after it are never ahead of the ledger (see the commit protocol).
  // A bounded 64 MiB page cache: the dedup B-tree grows with the data (millions of record ids),
  // and the default 2 MiB cache makes inserts page in and out of the OS cache.
  // Switching a new database to WAL takes an exclusive lock, and SQLite answers SQLITE_BUSY at
  // once (without its busy handler) while another process is opening the same new file: retried
  // here, for as long as the busy timeout.
  Status wal =
      db->Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA cache_size=-65536;");
  for (int i = 0; i < 1000 && wal.code() == StatusCode::kUnavailable; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    wal = db->Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA cache_size=-65536;");
  }
  if (!wal.ok()) return wal.WithContext("catalog " + path);
  std::unique_ptr<SqliteLedger> ledger(new SqliteLedger(std::move(db)));
  // First without a write lock, so that a catalog another output's run is writing to is refused
  // at once with the reason, instead of after waiting for that run's transaction.
  LOTE_ASSIGN_OR_RETURN(State state, ledger->ReadState());
  LOTE_RETURN_IF_ERROR(CheckState(state, path, output_uri));
  if (state.empty || state.bound.empty()) {
    // A new catalog: schema, version and binding in one transaction, so that a crash leaves
    // either nothing or all three, and of two runs creating it at once exactly one binds it (the
    // other sees the binding when its turn comes).
    SqliteDb* d = ledger->db_.get();
    LOTE_RETURN_IF_ERROR(d->Exec("BEGIN IMMEDIATE"));
    Status created = [&]() -> Status {
      LOTE_ASSIGN_OR_RETURN(State now, ledger->ReadState());
      LOTE_RETURN_IF_ERROR(CheckState(now, path, output_uri));
      LOTE_RETURN_IF_ERROR(d->Exec(kSchema));
      if (now.empty) {
        LOTE_RETURN_IF_ERROR(d->Exec("PRAGMA user_version=" + std::to_string(kSchemaVersion)));
      }
      if (now.bound.empty()) {
        LOTE_ASSIGN_OR_RETURN(auto ins,
                              d->Prepare("INSERT INTO catalog_meta VALUES ('output', ?)"));
        ins.Bind(1, output_uri);
        LOTE_RETURN_IF_ERROR(ins.Run());
      }
      return d->Exec("COMMIT");
    }();
    if (!created.ok()) {
      (void)d->Exec("ROLLBACK");
      return created;
    }
  }
  LOTE_RETURN_IF_ERROR(ledger->Prepare());
  return ledger;
}

Result<SqliteLedger::State> SqliteLedger::ReadState() {
  State st;
  LOTE_ASSIGN_OR_RETURN(auto version, db_->Prepare("PRAGMA user_version"));
  LOTE_ASSIGN_OR_RETURN(bool has_version, version.Step());
  st.version = has_version ? version.Int(0) : 0;
  version.Reset();
  LOTE_ASSIGN_OR_RETURN(auto tables, db_->Prepare("SELECT count(*), count(*) FILTER (WHERE name "
                                                  "= 'catalog_meta') FROM sqlite_master"));
  LOTE_ASSIGN_OR_RETURN(bool has_count, tables.Step());
  st.empty = !has_count || tables.Int(0) == 0;
  const bool has_meta = has_count && tables.Int(1) > 0;
  tables.Reset();
  if (has_meta) {
    LOTE_ASSIGN_OR_RETURN(auto sel,
                          db_->Prepare("SELECT value FROM catalog_meta WHERE key = 'output'"));
    LOTE_ASSIGN_OR_RETURN(bool row, sel.Step());
    if (row) st.bound = sel.Text(0);
    sel.Reset();
  }
  return st;
}

Status SqliteLedger::CheckState(const State& st, const std::string& path,
                                const std::string& output_uri) {
  if (!st.empty && st.version != kSchemaVersion) {
    std::string why;
    if (st.version == 3) {
      why =
          " (version 3 kept unkeyed SHA-256 text hashes, in the catalog and in the published "
          "files, from which short texts can be recovered by guessing: publish to a new output "
          "folder and delete the old one)";
    }
    return FailedPreconditionError("catalog " + path + " has schema version " +
                                   std::to_string(st.version) + "; this lote (" +
                                   std::string(Version()) + ") reads and writes version " +
                                   std::to_string(kSchemaVersion) + why);
  }
  if (!st.bound.empty() && st.bound != output_uri) {
    return FailedPreconditionError(
        "catalog " + path + " belongs to output " + st.bound + ", not " + output_uri +
        ": a catalog holds one output's exactly-once state; give this output its own catalog "
        "(the default, OUTPUT/_catalog/lote.db, or another --catalog)");
  }
  return Status::Ok();
}

Status SqliteLedger::Prepare() {
  // Added in the same schema version: a catalog without it gets it here (an empty table means
  // only that every object is read once more to be identified).
  LOTE_RETURN_IF_ERROR(
      db_->Exec("CREATE TABLE IF NOT EXISTS object_etags(uri TEXT NOT NULL, size INTEGER NOT "
                "NULL, etag TEXT NOT NULL, object_id INTEGER NOT NULL, PRIMARY KEY(uri, size, "
                "etag)) WITHOUT ROWID"));
  // Monitoring (added in the same schema version, like object_etags): one row per run, one per
  // signal tested.
  LOTE_RETURN_IF_ERROR(db_->Exec(
      "CREATE TABLE IF NOT EXISTS monitoring(run_id TEXT PRIMARY KEY, model_version TEXT, "
      "verdict TEXT NOT NULL, records INTEGER, reference_records INTEGER, estimated_accuracy "
      "REAL, accuracy_low REAL, accuracy_high REAL, report TEXT NOT NULL);"
      "CREATE TABLE IF NOT EXISTS drift_signals(run_id TEXT NOT NULL, name TEXT NOT NULL, kind "
      "TEXT, test TEXT, statistic REAL, threshold REAL, warn_threshold REAL, p_value REAL, band "
      "TEXT NOT NULL, PRIMARY KEY(run_id, name)) WITHOUT ROWID;"
      "CREATE TABLE IF NOT EXISTS alarms(run_id TEXT NOT NULL, name TEXT NOT NULL, signal TEXT, "
      "condition TEXT, consecutive_runs INTEGER, runs_met INTEGER, firing INTEGER NOT NULL, "
      "PRIMARY KEY(run_id, name)) WITHOUT ROWID"));
  // Feedback (late labels; added in the same schema version): the batches, the latest label of
  // each record with the version it was matched to, and the measured accuracy per run (whole run:
  // predicted_label NULL; then one row per predicted label). The stage is a temporary table:
  // private to this connection, on disk, gone when it closes.
  LOTE_RETURN_IF_ERROR(db_->Exec(
      "CREATE TABLE IF NOT EXISTS feedback_batches(feedback_id TEXT PRIMARY KEY, received_at "
      "TEXT NOT NULL, file TEXT NOT NULL, rows INTEGER NOT NULL, sha256 TEXT);"
      "CREATE TABLE IF NOT EXISTS feedback(record_id TEXT PRIMARY KEY, label TEXT NOT NULL, "
      "feedback_id TEXT NOT NULL, received_at TEXT NOT NULL, run_id TEXT, model_version TEXT, "
      "predicted_label TEXT, score REAL, correct INTEGER, label_known INTEGER) WITHOUT ROWID;"
      "CREATE INDEX IF NOT EXISTS feedback_run ON feedback(run_id);"
      "CREATE TABLE IF NOT EXISTS feedback_accuracy(run_id TEXT NOT NULL, model_version TEXT, "
      "predicted_label TEXT, labelled INTEGER NOT NULL, correct INTEGER NOT NULL, accuracy REAL, "
      "accuracy_low REAL, accuracy_high REAL, mean_score REAL, estimated_accuracy REAL, "
      "run_estimated_accuracy REAL, run_accuracy_low REAL, run_accuracy_high REAL, "
      "unknown_labels INTEGER, updated_at TEXT);"
      "CREATE INDEX IF NOT EXISTS feedback_accuracy_run ON feedback_accuracy(run_id);"
      "CREATE TEMP TABLE IF NOT EXISTS feedback_stage(record_id TEXT PRIMARY KEY, label TEXT NOT "
      "NULL, run_id TEXT, model_version TEXT, has_prediction INTEGER NOT NULL DEFAULT 0, "
      "predicted_label TEXT, score REAL, label_known INTEGER NOT NULL DEFAULT 0, matched INTEGER "
      "NOT NULL DEFAULT 0) WITHOUT ROWID;"
      "CREATE TEMP TABLE IF NOT EXISTS feedback_known(model_version TEXT NOT NULL, label TEXT "
      "NOT NULL, PRIMARY KEY(model_version, label)) WITHOUT ROWID"));
  // The flow execution that started a run (added in the same schema version).
  {
    LOTE_ASSIGN_OR_RETURN(auto has, db_->Prepare("SELECT count(*) FROM pragma_table_info('runs') "
                                                 "WHERE name = 'flow_execution'"));
    LOTE_ASSIGN_OR_RETURN(bool row, has.Step());
    const bool present = row && has.Int(0) > 0;
    has.Reset();
    if (!present) {
      LOTE_RETURN_IF_ERROR(db_->Exec("ALTER TABLE runs ADD COLUMN flow_execution TEXT"));
    }
  }
  // The daily summaries: added in the same schema version, built here for a catalog without.
  LOTE_RETURN_IF_ERROR(db_->Exec(kSummarySchema));
  LOTE_RETURN_IF_ERROR(BackfillSummaries());
  LOTE_ASSIGN_OR_RETURN(stage_put_, db_->Prepare("INSERT OR REPLACE INTO temp.feedback_stage "
                                                 "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  LOTE_ASSIGN_OR_RETURN(seen_get_,
                        db_->Prepare("SELECT source_id, attempt_id FROM seen_records WHERE "
                                     "record_id = ?"));
  LOTE_ASSIGN_OR_RETURN(seen_put_,
                        db_->Prepare("INSERT OR REPLACE INTO seen_records VALUES (?, ?, ?)"));
  LOTE_ASSIGN_OR_RETURN(seen_add_, db_->Prepare("INSERT INTO seen_records VALUES (?, ?, ?) ON "
                                                "CONFLICT(record_id) DO NOTHING"));
  LOTE_ASSIGN_OR_RETURN(content_get_,
                        db_->Prepare("SELECT record_id FROM seen_content WHERE content_key = ?"));
  LOTE_ASSIGN_OR_RETURN(content_put_,
                        db_->Prepare("INSERT OR REPLACE INTO seen_content VALUES (?, ?, ?)"));
  LOTE_ASSIGN_OR_RETURN(stale_put_, db_->Prepare("INSERT OR IGNORE INTO stale_rows VALUES (?, ?)"));
  LOTE_ASSIGN_OR_RETURN(stale_new_put_,
                        db_->Prepare("INSERT OR IGNORE INTO temp.stale_new VALUES (?, ?)"));
  const std::string one_row = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
  std::string many = "INSERT INTO result_rows VALUES " + one_row;
  for (size_t i = 1; i < kResultBatch; ++i) many += ", " + one_row;
  LOTE_ASSIGN_OR_RETURN(add_result_, db_->Prepare("INSERT INTO result_rows VALUES " + one_row));
  LOTE_ASSIGN_OR_RETURN(add_results_, db_->Prepare(many));
  LOTE_ASSIGN_OR_RETURN(add_quarantine_,
                        db_->Prepare("INSERT INTO quarantine_rows VALUES (?, ?, ?, ?, ?, ?)"));
  return Status::Ok();
}

Result<std::optional<LedgerRun>> SqliteLedger::FindUnfinishedRun(const std::string& run_key) {
  LOTE_ASSIGN_OR_RETURN(auto s,
                        db_->Prepare("SELECT run_id, started_at FROM runs WHERE run_key = ? AND "
                                     "state = 'running' ORDER BY started_at DESC LIMIT 1"));
  s.Bind(1, run_key);
  LOTE_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return std::optional<LedgerRun>();
  LedgerRun run;
  run.run_id = s.Text(0);
  run.started_at = s.Text(1);
  run.run_key = run_key;
  run.state = "running";
  s.Reset();
  return std::optional<LedgerRun>(run);
}

Status SqliteLedger::CreateRun(const LedgerRun& run) { return InsertRun(run, "INSERT"); }

Status SqliteLedger::InsertRun(const LedgerRun& run, std::string_view verb) {
  LOTE_ASSIGN_OR_RETURN(auto s,
                        db_->Prepare(std::string(verb) +
                                     " INTO runs(run_id, run_key, state, input, output, "
                                     "model_version, preprocess_version, started_at, "
                                     "flow_execution) VALUES (?, ?, 'running', ?, ?, ?, ?, ?, ?)"));
  s.Bind(1, run.run_id).Bind(2, run.run_key).Bind(3, run.input).Bind(4, run.output);
  s.Bind(5, run.model_version).Bind(6, run.preprocess_version).Bind(7, run.started_at);
  if (run.flow_execution.empty()) {
    s.BindNull(8);
  } else {
    s.Bind(8, run.flow_execution);
  }
  return s.Run();
}

Status SqliteLedger::FinishRun(const std::string& run_id, const std::string& state,
                               const std::string& finished_at, const AttemptCounts& totals,
                               const std::string& manifest_uri) {
  LOTE_ASSIGN_OR_RETURN(auto s,
                        db_->Prepare("UPDATE runs SET state = ?, finished_at = ?, records_in = ?, "
                                     "records_out = ?, records_quarantined = ?, "
                                     "records_duplicate = ?, manifest = ? WHERE run_id = ?"));
  s.Bind(1, state).Bind(2, finished_at).Bind(3, totals.records_in).Bind(4, totals.records_out);
  s.Bind(5, totals.records_quarantined).Bind(6, totals.records_duplicate);
  s.Bind(7, manifest_uri).Bind(8, run_id);
  return s.Run();
}

Result<int64_t> SqliteLedger::ObjectVersion(const std::string& uri, uint64_t size,
                                            const std::string& content_id) {
  LOTE_ASSIGN_OR_RETURN(auto ins, db_->Prepare("INSERT OR IGNORE INTO objects(uri, size, "
                                               "content_id) VALUES (?, ?, ?)"));
  ins.Bind(1, uri).Bind(2, size).Bind(3, content_id);
  LOTE_RETURN_IF_ERROR(ins.Run());
  LOTE_ASSIGN_OR_RETURN(auto sel, db_->Prepare("SELECT object_id FROM objects WHERE uri = ? AND "
                                               "size = ? AND content_id = ?"));
  sel.Bind(1, uri).Bind(2, size).Bind(3, content_id);
  LOTE_ASSIGN_OR_RETURN(bool row, sel.Step());
  if (!row) return InternalError("object version vanished from the ledger: " + uri);
  int64_t id = sel.Int(0);
  sel.Reset();
  return id;
}

Result<std::optional<std::pair<int64_t, std::string>>> SqliteLedger::DoneAttempt(
    int64_t object_id) {
  LOTE_ASSIGN_OR_RETURN(auto s, db_->Prepare("SELECT attempt_id, run_id FROM attempts WHERE "
                                             "object_id = ? AND state = 'done' ORDER BY "
                                             "attempt_id DESC"));
  s.Bind(1, object_id);
  LOTE_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return std::optional<std::pair<int64_t, std::string>>();
  std::pair<int64_t, std::string> done(s.Int(0), s.Text(1));
  s.Reset();
  return std::optional<std::pair<int64_t, std::string>>(std::move(done));
}

Result<std::optional<int64_t>> SqliteLedger::VersionByEtag(const std::string& uri, uint64_t size,
                                                           const std::string& etag) {
  LOTE_ASSIGN_OR_RETURN(auto s, db_->Prepare("SELECT object_id FROM object_etags WHERE uri = ? "
                                             "AND size = ? AND etag = ?"));
  s.Bind(1, uri).Bind(2, size).Bind(3, etag);
  LOTE_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return std::optional<int64_t>();
  const int64_t id = s.Int(0);
  s.Reset();
  return std::optional<int64_t>(id);
}

Status SqliteLedger::RememberEtag(int64_t object_id, const std::string& etag) {
  LOTE_ASSIGN_OR_RETURN(auto s,
                        db_->Prepare("INSERT OR REPLACE INTO object_etags SELECT uri, "
                                     "size, ?, object_id FROM objects WHERE object_id = ?"));
  s.Bind(1, etag).Bind(2, object_id);
  return s.Run();
}

Result<int64_t> SqliteLedger::SourceId(const std::string& uri) {
  LOTE_ASSIGN_OR_RETURN(auto ins, db_->Prepare("INSERT OR IGNORE INTO sources(uri) VALUES (?)"));
  ins.Bind(1, uri);
  LOTE_RETURN_IF_ERROR(ins.Run());
  LOTE_ASSIGN_OR_RETURN(auto sel, db_->Prepare("SELECT source_id FROM sources WHERE uri = ?"));
  sel.Bind(1, uri);
  LOTE_ASSIGN_OR_RETURN(bool row, sel.Step());
  if (!row) return InternalError("source vanished from the ledger: " + uri);
  int64_t id = sel.Int(0);
  sel.Reset();
  return id;
}

Result<int64_t> SqliteLedger::BeginAttempt(int64_t object_id, const AttemptInfo& info) {
  LOTE_RETURN_IF_ERROR(EndStageTransaction());
  LOTE_RETURN_IF_ERROR(db_->Exec("BEGIN IMMEDIATE"));
  result_seq_ = 0;
  LOTE_ASSIGN_OR_RETURN(auto s, db_->Prepare("INSERT INTO attempts(object_id, run_id, state, "
                                             "started_us, dt, model_version, "
                                             "preprocess_version) VALUES "
                                             "(?, ?, 'open', ?, ?, ?, ?)"));
  s.Bind(1, object_id).Bind(2, info.run_id).Bind(3, info.now_us).Bind(4, info.dt);
  s.Bind(5, info.model_version).Bind(6, info.preprocess_version);
  Status st = s.Run();
  if (!st.ok()) {
    (void)db_->Exec("ROLLBACK");
    return st;
  }
  open_counts_.attempt_id = db_->LastInsertId();
  open_counts_.results.clear();
  open_counts_.entities.clear();
  return open_counts_.attempt_id;
}

Status SqliteLedger::AbortAttempt() {
  pending_size_ = 0;
  open_counts_.attempt_id = -1;
  return db_->Exec("ROLLBACK");
}

// Dedup by record_id: a record is a duplicate if its id was already published from another
// source (delivered twice), or earlier in this same attempt (twice in one file). The same id
// from the same source in an earlier attempt is a new version of the record (a changed object, or
// --force): it is processed again and the earlier version becomes stale. With `dedup` false only
// the versions are tracked.
Result<bool> SqliteLedger::SeenRecord(const std::string& record_id, int64_t source_id,
                                      int64_t attempt_id, bool dedup) {
  // Most ids are new: one insert that does nothing when the id is known settles them, and only
  // the known ones are looked up.
  seen_add_.BindStatic(1, record_id).Bind(2, source_id).Bind(3, attempt_id);
  LOTE_RETURN_IF_ERROR(seen_add_.Run());
  if (db_->Changes() == 1) return false;
  seen_get_.BindStatic(1, record_id);
  LOTE_ASSIGN_OR_RETURN(bool row, seen_get_.Step());
  if (row) {
    const int64_t seen_source = seen_get_.Int(0);
    const int64_t seen_attempt = seen_get_.Int(1);
    seen_get_.Reset();
    if (seen_source != source_id || seen_attempt == attempt_id) {
      if (dedup) return true;
    } else {
      stale_put_.Bind(1, seen_attempt).Bind(2, record_id);
      LOTE_RETURN_IF_ERROR(stale_put_.Run());
      if (db_->Changes() == 1) {  // leaves the summaries when this attempt commits
        stale_new_put_.Bind(1, seen_attempt).Bind(2, record_id);
        LOTE_RETURN_IF_ERROR(stale_new_put_.Run());
      }
    }
    if (seen_source != source_id) return false;  // dedup off: the first source keeps the id
  }
  seen_put_.Bind(1, record_id).Bind(2, source_id).Bind(3, attempt_id);
  LOTE_RETURN_IF_ERROR(seen_put_.Run());
  return false;
}

// Dedup by content: a duplicate if another record already had the same clean text (compared by
// its keyed fingerprint, stored as 32 bytes).
Result<bool> SqliteLedger::SeenContent(const std::string& content_key, const std::string& record_id,
                                       int64_t attempt_id) {
  uint8_t key[32];
  if (!HexDecode(content_key, key, sizeof(key))) {
    return InternalError("content fingerprint is not 64 hex digits");
  }
  content_get_.BindBlob(1, key, sizeof(key));
  LOTE_ASSIGN_OR_RETURN(bool row, content_get_.Step());
  if (row) {
    bool dup = content_get_.Text(0) != record_id;
    content_get_.Reset();
    if (dup) return true;
  }
  content_put_.BindBlob(1, key, sizeof(key)).Bind(2, record_id).Bind(3, attempt_id);
  LOTE_RETURN_IF_ERROR(content_put_.Run());
  return false;
}

Status SqliteLedger::AddResult(int64_t attempt_id, const ResultRow& r,
                               const std::string& entities_json) {
  // Rows are buffered and inserted kResultBatch at a time by one multi-row INSERT: one statement
  // run per batch instead of per row. The buffer is part of the open transaction's state:
  // flushed before the commit, dropped by a rollback.
  PendingResult& p = pending_[pending_size_++];
  p.row_key = (attempt_id << kRowKeyBits) | static_cast<int64_t>(result_seq_++);
  p.attempt_id = attempt_id;
  p.record_id.assign(r.record_id);
  p.line = r.line;
  p.has_hmac = HexDecode(r.text_hmac, p.hmac, sizeof(p.hmac));
  p.lang.assign(r.lang);
  p.has_label = !r.label.empty();
  p.label.assign(r.label);
  // The score as the published file has it, so that a catalog rebuilt from the files (an
  // object store's cache) holds the same value, and falls in the same tenth of the summaries.
  p.score = AsWrittenJsonNumber(r.score);
  p.top_k.assign(r.top_k_json);
  p.entities.assign(entities_json.empty() ? std::string_view("[]")
                                          : std::string_view(entities_json));
  p.processed_at.assign(r.processed_at);
  CountForSummaries(p);
  if (pending_size_ == kResultBatch) return FlushResults();
  return Status::Ok();
}

Status SqliteLedger::FlushResults() {
  size_t done = 0;
  while (done < pending_size_) {
    const bool batch = pending_size_ - done == kResultBatch;
    SqliteStmt& s = batch ? add_results_ : add_result_;
    const size_t n = batch ? kResultBatch : 1;
    for (size_t k = 0; k < n; ++k) {
      const PendingResult& p = pending_[done + k];
      const int c = static_cast<int>(k) * kResultColumns;
      s.Bind(c + 1, p.row_key).Bind(c + 2, p.attempt_id).BindStatic(c + 3, p.record_id);
      s.Bind(c + 4, p.line);
      if (p.has_hmac) {
        s.BindBlob(c + 5, p.hmac, sizeof(p.hmac));
      } else {
        s.BindNull(c + 5);
      }
      s.BindStatic(c + 6, p.lang);
      if (!p.has_label) {
        s.BindNull(c + 7).BindNull(c + 8).BindNull(c + 9);
      } else {
        s.BindStatic(c + 7, p.label).Bind(c + 8, p.score).BindStatic(c + 9, p.top_k);
      }
      s.BindStatic(c + 10, p.entities).BindStatic(c + 11, p.processed_at);
    }
    LOTE_RETURN_IF_ERROR(s.Run());
    done += n;
  }
  pending_size_ = 0;
  return Status::Ok();
}

Status SqliteLedger::AddQuarantine(int64_t attempt_id, const QuarantineRow& r) {
  auto& s = add_quarantine_;
  s.Bind(1, attempt_id).Bind(2, r.record_id).Bind(3, r.line).Bind(4, r.stage);
  s.Bind(5, r.reason).Bind(6, r.processed_at);
  return s.Run();
}

Status SqliteLedger::CommitAttempt(int64_t attempt_id, int64_t object_id,
                                   const std::string& output_uri, const AttemptCounts& counts,
                                   const LabelCounts& labels, std::vector<StagedPart>* parts) {
  return CommitOpen(attempt_id, object_id, output_uri, counts, labels, parts, false);
}

Status SqliteLedger::CommitReplayed(int64_t attempt_id, int64_t object_id,
                                    const AttemptCounts& counts, const LabelCounts& labels,
                                    const std::vector<StagedPart>& parts) {
  std::vector<StagedPart> named = parts;
  return CommitOpen(attempt_id, object_id, "", counts, labels, &named, true);
}

Status SqliteLedger::CommitOpen(int64_t attempt_id, int64_t object_id,
                                const std::string& output_uri, const AttemptCounts& c,
                                const LabelCounts& labels, std::vector<StagedPart>* parts,
                                bool replayed) {
  auto fail = [this](Status s) {
    pending_size_ = 0;
    open_counts_.attempt_id = -1;
    (void)db_->Exec("ROLLBACK");
    return s;
  };
  if (Status s = FlushResults(); !s.ok()) return fail(s);
  // The rows this attempt made stale leave the summaries, those of done attempts (a committing
  // attempt's rows enter them without its stale ones when it is marked done).
  {
    auto stale = db_->Prepare(
        "SELECT DISTINCT s.attempt_id FROM temp.stale_new s JOIN attempts a ON a.attempt_id = "
        "s.attempt_id WHERE a.state = 'done'");
    if (!stale.ok()) return fail(stale.status());
    auto ids = IntColumn(*stale);
    if (!ids.ok()) return fail(ids.status());
    for (int64_t id : *ids) {
      if (Status s = Summarize(id, -1, /*newly_stale=*/true); !s.ok()) return fail(s);
    }
    if (Status s = db_->Exec("DELETE FROM temp.stale_new"); !s.ok()) return fail(s);
  }
  std::vector<std::string> deletes;  // for the commit hook
  // Earlier done attempts of this object version (--force): superseded, files to delete.
  {
    auto old = db_->Prepare(
        "SELECT attempt_id FROM attempts WHERE object_id = ? AND state = "
        "'done' AND attempt_id <> ?");
    if (!old.ok()) return fail(old.status());
    old->Bind(1, object_id).Bind(2, attempt_id);
    auto ids = IntColumn(*old);
    if (!ids.ok()) return fail(ids.status());
    for (int64_t id : *ids) {
      std::string n = std::to_string(id);
      if (Status s = Summarize(id, -1, /*newly_stale=*/false); !s.ok()) return fail(s);
      if (commit_hook_ && !replayed) {
        auto files = db_->Prepare("SELECT final_uri FROM parts WHERE attempt_id = " + n);
        if (!files.ok()) return fail(files.status());
        while (true) {
          auto row = files->Step();
          if (!row.ok()) return fail(row.status());
          if (!*row) break;
          deletes.push_back(files->Text(0));
        }
      }
      Status s = db_->Exec("INSERT INTO part_deletes SELECT " + std::to_string(attempt_id) +
                           ", final_uri FROM parts WHERE attempt_id = " + n +
                           "; UPDATE attempts SET state = 'superseded' WHERE attempt_id = " + n +
                           "; DELETE FROM result_rows WHERE row_key BETWEEN " +
                           std::to_string(id << kRowKeyBits) + " AND " +
                           std::to_string(((id + 1) << kRowKeyBits) - 1) +
                           "; DELETE FROM quarantine_rows WHERE attempt_id = " + n +
                           "; DELETE FROM stale_rows WHERE attempt_id = " + n +
                           "; DELETE FROM attempt_labels WHERE attempt_id = " + n + ";");
      if (!s.ok()) return fail(s);
    }
  }
  auto next = db_->Prepare(
      "INSERT INTO partitions VALUES (?, 1) ON CONFLICT(partition) DO UPDATE SET next_part = "
      "next_part + 1 RETURNING next_part - 1");
  // A replayed part keeps its number; later allocations start after it.
  auto past = db_->Prepare(
      "INSERT INTO partitions VALUES (?1, ?2) ON CONFLICT(partition) DO UPDATE SET next_part = "
      "max(next_part, ?2)");
  if (!past.ok()) return fail(past.status());
  if (!next.ok()) return fail(next.status());
  auto add = db_->Prepare("INSERT INTO parts VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
  if (!add.ok()) return fail(add.status());
  for (StagedPart& p : *parts) {
    if (replayed) {
      long long number = 0;
      const size_t slash = p.final_uri.rfind('/');
      if (slash == std::string::npos ||
          std::sscanf(p.final_uri.c_str() + slash + 1, "part-%lld.", &number) != 1) {
        return fail(DataLossError("replayed part has no part number: " + p.final_uri));
      }
      past->Bind(1, p.partition).Bind(2, static_cast<int64_t>(number) + 1);
      if (Status s = past->Run(); !s.ok()) return fail(s);
    } else {
      next->Bind(1, p.partition);
      auto row = next->Step();
      if (!row.ok()) return fail(row.status());
      if (!*row) return fail(InternalError("part number allocation returned nothing"));
      int64_t number = next->Int(0);
      next->Reset();
      char name[48];
      std::snprintf(name, sizeof(name), "part-%05lld.jsonl.zst", static_cast<long long>(number));
      p.final_uri = storage::JoinUri(output_uri, p.partition + "/" + name);
    }
    add->Bind(1, attempt_id).Bind(2, p.kind).Bind(3, p.partition).Bind(4, p.staged_uri);
    add->Bind(5, p.final_uri).Bind(6, p.rows).Bind(7, p.bytes).Bind(8, p.sha256);
    Status s = add->Run();
    if (!s.ok()) return fail(s);
  }
  auto add_label = db_->Prepare("INSERT INTO attempt_labels VALUES (?, ?, ?)");
  if (!add_label.ok()) return fail(add_label.status());
  for (const auto& [label, n] : labels) {
    add_label->Bind(1, attempt_id).Bind(2, label).Bind(3, n);
    Status s = add_label->Run();
    if (!s.ok()) return fail(s);
  }
  auto upd = db_->Prepare(
      "UPDATE attempts SET state = 'committing', records_in = ?, records_out = ?, "
      "records_quarantined = ?, records_duplicate = ?, bytes_in = ?, ingest_s = ?, prep_s = ?, "
      "infer_s = ?, publish_s = ?, catalog_s = ? WHERE attempt_id = ?");
  if (!upd.ok()) return fail(upd.status());
  upd->Bind(1, c.records_in).Bind(2, c.records_out).Bind(3, c.records_quarantined);
  upd->Bind(4, c.records_duplicate).Bind(5, c.bytes_in).Bind(6, c.ingest_s).Bind(7, c.prep_s);
  upd->Bind(8, c.infer_s).Bind(9, c.publish_s).Bind(10, c.catalog_s).Bind(11, attempt_id);
  Status s = upd->Run();
  if (!s.ok()) return fail(s);
  if (commit_hook_ && !replayed) {
    s = commit_hook_(attempt_id, c, labels, *parts, deletes);
    if (!s.ok()) return fail(s);
  }
  s = db_->Exec("COMMIT");
  if (!s.ok()) return fail(s);
  if (open_counts_.attempt_id == attempt_id) {
    committed_counts_.push_back(std::move(open_counts_));
    if (committed_counts_.size() > kMaxCommittedCounts) committed_counts_.pop_front();
  }
  open_counts_ = AttemptSummaryCounts{};
  return Status::Ok();
}

Result<std::vector<PendingCommit>> SqliteLedger::PendingCommits() {
  std::vector<PendingCommit> out;
  LOTE_ASSIGN_OR_RETURN(auto a, db_->Prepare("SELECT attempt_id FROM attempts WHERE state = "
                                             "'committing' ORDER BY attempt_id"));
  while (true) {
    LOTE_ASSIGN_OR_RETURN(bool row, a.Step());
    if (!row) break;
    out.push_back(PendingCommit{a.Int(0), {}, {}});
  }
  LOTE_ASSIGN_OR_RETURN(auto p, db_->Prepare("SELECT kind, partition, staged_uri, final_uri, rows, "
                                             "bytes, sha256 FROM parts WHERE attempt_id = ?"));
  LOTE_ASSIGN_OR_RETURN(auto d,
                        db_->Prepare("SELECT final_uri FROM part_deletes WHERE attempt_id = ?"));
  for (PendingCommit& pc : out) {
    p.Bind(1, pc.attempt_id);
    while (true) {
      LOTE_ASSIGN_OR_RETURN(bool row, p.Step());
      if (!row) break;
      pc.parts.push_back(StagedPart{p.Text(0), p.Text(1), p.Text(2), p.Text(3),
                                    static_cast<uint64_t>(p.Int(4)),
                                    static_cast<uint64_t>(p.Int(5)), p.Text(6)});
    }
    d.Bind(1, pc.attempt_id);
    while (true) {
      LOTE_ASSIGN_OR_RETURN(bool row, d.Step());
      if (!row) break;
      pc.deletes.push_back(d.Text(0));
    }
  }
  return out;
}

Status SqliteLedger::MarkDone(int64_t attempt_id, int64_t now_us) {
  // Done, and into the summaries, in one transaction: the views show the attempt from here on.
  // Only a committing attempt changes, so that marking one twice counts it once.
  LOTE_RETURN_IF_ERROR(Begin());
  Status s = [&]() -> Status {
    LOTE_ASSIGN_OR_RETURN(auto done, db_->Prepare("UPDATE attempts SET state = 'done', "
                                                  "finished_us = ? WHERE attempt_id = ? AND "
                                                  "state = 'committing'"));
    done.Bind(1, now_us).Bind(2, attempt_id);
    LOTE_RETURN_IF_ERROR(done.Run());
    if (db_->Changes() == 1) {
      auto counted = std::find_if(committed_counts_.begin(), committed_counts_.end(),
                                  [&](const auto& c) { return c.attempt_id == attempt_id; });
      if (counted != committed_counts_.end()) {
        LOTE_RETURN_IF_ERROR(AddCountedSummaries(*counted));
      } else {
        LOTE_RETURN_IF_ERROR(Summarize(attempt_id, 1, false));
      }
    }
    LOTE_ASSIGN_OR_RETURN(auto d, db_->Prepare("DELETE FROM part_deletes WHERE attempt_id = ?"));
    d.Bind(1, attempt_id);
    LOTE_RETURN_IF_ERROR(d.Run());
    return Commit();
  }();
  if (!s.ok()) Rollback();
  std::erase_if(committed_counts_, [&](const auto& c) { return c.attempt_id == attempt_id; });
  return s;
}

void SqliteLedger::CountForSummaries(const PendingResult& p) {
  if (open_counts_.attempt_id != p.attempt_id) return;
  std::string& key = count_key_;
  key.assign(p.lang).push_back('\0');
  if (p.has_label) key.append(p.label);
  key.push_back('\0');
  const size_t prefix = key.size();
  const int64_t tenth =
      p.has_label ? std::max<int64_t>(0, std::min<int64_t>(static_cast<int64_t>(p.score * 10), 9))
                  : -1;
  key.push_back(static_cast<char>(tenth + kTenthByte));
  auto r = open_counts_.results.find(key);
  if (r == open_counts_.results.end()) {
    r = open_counts_.results.emplace(key, std::pair<int64_t, double>{0, 0.0}).first;
  }
  ++r->second.first;
  if (p.has_label) r->second.second += p.score;
  if (p.entities == "[]") return;
  std::vector<std::string_view> types;
  if (!EntityTypes(p.entities, &types)) return;
  for (std::string_view type : types) {
    key.resize(prefix);
    key.append(type);
    ++open_counts_.entities[key];
  }
}

Status SqliteLedger::AddCountedSummaries(const AttemptSummaryCounts& counts) {
  const std::string id = std::to_string(counts.attempt_id);
  // Rows already stale (a later attempt replaced them before this one was done) are left out
  // by reading the rows; so is the quarantine, which is small.
  LOTE_ASSIGN_OR_RETURN(auto any, db_->Prepare("SELECT EXISTS (SELECT 1 FROM stale_rows WHERE "
                                               "attempt_id = ?), dt, coalesce(model_version, "
                                               "'') FROM attempts WHERE attempt_id = ?"));
  any.Bind(1, counts.attempt_id).Bind(2, counts.attempt_id);
  LOTE_ASSIGN_OR_RETURN(bool row, any.Step());
  if (!row) return InternalError("attempt " + id + " vanished from the catalog");
  if (any.Int(0) != 0) {
    any.Reset();
    return Summarize(counts.attempt_id, 1, false);
  }
  const std::string dt = any.Text(1), model = any.Text(2);
  any.Reset();
  auto split = [](std::string_view key, std::string_view* lang, std::string_view* label) {
    const size_t a = key.find('\0');
    const size_t b = key.find('\0', a + 1);
    *lang = key.substr(0, a);
    *label = key.substr(a + 1, b - a - 1);
    return key.substr(b + 1);
  };
  LOTE_ASSIGN_OR_RETURN(
      auto add_result,
      db_->Prepare("INSERT INTO results_daily VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(dt, "
                   "model_version, lang, label, score_tenth) DO UPDATE SET records = records + "
                   "excluded.records, score_sum = score_sum + excluded.score_sum"));
  for (const auto& [key, n] : counts.results) {
    std::string_view lang, label;
    const int64_t tenth = split(key, &lang, &label)[0] - kTenthByte;
    add_result.Bind(1, dt).Bind(2, model).Bind(3, lang).Bind(4, label);
    add_result.Bind(5, tenth).Bind(6, n.first).Bind(7, n.second);
    LOTE_RETURN_IF_ERROR(add_result.Run());
  }
  LOTE_ASSIGN_OR_RETURN(
      auto add_entity,
      db_->Prepare("INSERT INTO entities_daily VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(dt, "
                   "model_version, lang, label, type) DO UPDATE SET entities = entities + "
                   "excluded.entities"));
  for (const auto& [key, n] : counts.entities) {
    std::string_view lang, label;
    const std::string_view type = split(key, &lang, &label);
    add_entity.Bind(1, dt).Bind(2, model).Bind(3, lang).Bind(4, label).Bind(5, type);
    add_entity.Bind(6, n);
    LOTE_RETURN_IF_ERROR(add_entity.Run());
  }
  return db_->Exec(QuarantineSummarySql(id, "1"));
}

Status SqliteLedger::Summarize(int64_t attempt_id, int sign, bool newly_stale) {
  const std::string id = std::to_string(attempt_id);
  const std::string sg = sign < 0 ? "-1" : "1";
  std::string rows = "r.row_key BETWEEN " + std::to_string(attempt_id << kRowKeyBits) + " AND " +
                     std::to_string(((attempt_id + 1) << kRowKeyBits) - 1);
  if (newly_stale) {
    rows +=
        " AND r.record_id IN (SELECT record_id FROM temp.stale_new WHERE attempt_id = " + id + ")";
  } else {
    // Most attempts have no stale row: the check per row is left out for them.
    LOTE_ASSIGN_OR_RETURN(auto any, db_->Prepare("SELECT EXISTS (SELECT 1 FROM stale_rows WHERE "
                                                 "attempt_id = ?)"));
    any.Bind(1, attempt_id);
    LOTE_ASSIGN_OR_RETURN(bool row, any.Step());
    const bool has_stale = row && any.Int(0) != 0;
    any.Reset();
    if (has_stale) {
      rows += " AND NOT EXISTS (SELECT 1 FROM stale_rows s WHERE s.attempt_id = " + id +
              " AND s.record_id = r.record_id)";
    }
  }
  const std::string key =
      "SELECT a.dt, coalesce(a.model_version, ''), coalesce(r.lang, ''), coalesce(r.label, ''), ";
  const std::string from = " FROM result_rows r JOIN attempts a ON a.attempt_id = " + id;
  std::string sql =
      "INSERT INTO results_daily " + key +
      "CASE WHEN r.label IS NULL THEN -1 ELSE max(0, min(CAST(r.score * 10 AS INTEGER), 9)) END, " +
      sg + " * count(*), " + sg + " * total(r.score)" + from + " WHERE " + rows +
      " GROUP BY 1, 2, 3, 4, 5 ON CONFLICT(dt, model_version, lang, label, score_tenth) DO UPDATE "
      "SET records = records + excluded.records, score_sum = score_sum + excluded.score_sum;"
      // Rows without entities are passed over before any JSON is read; a row whose entities are
      // not JSON (never written by lote) counts none instead of failing the commit.
      "INSERT INTO entities_daily " +
      key + "coalesce(j.value ->> '$.type', ''), " + sg + " * count(*)" + from +
      ", json_each(r.entities) j WHERE " + rows +
      " AND r.entities <> '[]' AND json_valid(r.entities) GROUP BY 1, 2, 3, 4, 5 ON "
      "CONFLICT(dt, model_version, lang, label, type) DO UPDATE SET entities = entities + "
      "excluded.entities;";
  if (!newly_stale) {  // quarantined rows never go stale
    sql += QuarantineSummarySql(id, sg);
  }
  if (sign < 0) {
    sql +=
        "DELETE FROM results_daily WHERE records = 0; DELETE FROM entities_daily WHERE entities "
        "= 0; DELETE FROM quarantine_daily WHERE records = 0;";
  }
  return db_->Exec(sql);
}

Status SqliteLedger::BackfillSummaries() {
  LOTE_ASSIGN_OR_RETURN(std::string built, Meta(kMetaSummaries));
  if (!built.empty()) return Status::Ok();
  LOTE_RETURN_IF_ERROR(Begin());
  Status s = [&]() -> Status {
    LOTE_ASSIGN_OR_RETURN(std::string now, Meta(kMetaSummaries));  // another writer built them
    if (!now.empty()) return Commit();
    LOTE_RETURN_IF_ERROR(db_->Exec(
        "DELETE FROM results_daily; DELETE FROM entities_daily; DELETE FROM quarantine_daily"));
    LOTE_ASSIGN_OR_RETURN(auto done, db_->Prepare("SELECT attempt_id FROM attempts WHERE state = "
                                                  "'done' ORDER BY attempt_id"));
    LOTE_ASSIGN_OR_RETURN(std::vector<int64_t> ids, IntColumn(done));
    for (int64_t id : ids) LOTE_RETURN_IF_ERROR(Summarize(id, 1, false));
    LOTE_RETURN_IF_ERROR(SetMeta(kMetaSummaries, "1"));
    return Commit();
  }();
  if (!s.ok()) Rollback();
  return s;
}

Result<AttemptCounts> SqliteLedger::RunTotals(const std::string& run_id) {
  std::string sql = "SELECT ";
  for (const char* col : {"records_in", "records_out", "records_quarantined", "records_duplicate",
                          "bytes_in", "ingest_s", "prep_s", "infer_s", "publish_s", "catalog_s"}) {
    sql += std::string(sql.size() > 7 ? ", " : "") + "coalesce(sum(" + col + "), 0)";
  }
  sql += " FROM attempts WHERE run_id = ? AND state <> 'open'";
  LOTE_ASSIGN_OR_RETURN(auto s, db_->Prepare(sql));
  s.Bind(1, run_id);
  LOTE_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return AttemptCounts{};
  AttemptCounts c = CountsFrom(s, 0);
  s.Reset();
  return c;
}

Result<std::vector<AttemptSummary>> SqliteLedger::RunAttempts(const std::string& run_id) {
  LOTE_ASSIGN_OR_RETURN(auto s, db_->Prepare(std::string("SELECT a.attempt_id, o.uri, "
                                                         "o.content_id, o.size, ") +
                                             kCountColumns +
                                             " FROM attempts a JOIN objects o USING(object_id) "
                                             "WHERE a.run_id = ? AND a.state <> 'open' ORDER "
                                             "BY a.attempt_id"));
  s.Bind(1, run_id);
  std::vector<AttemptSummary> out;
  while (true) {
    LOTE_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    out.push_back(AttemptSummary{s.Int(0), s.Text(1), s.Text(2), static_cast<uint64_t>(s.Int(3)),
                                 CountsFrom(s, 4)});
  }
  return out;
}

Result<std::vector<StagedPart>> SqliteLedger::RunParts(const std::string& run_id) {
  LOTE_ASSIGN_OR_RETURN(auto s,
                        db_->Prepare("SELECT p.kind, p.partition, p.staged_uri, p.final_uri, "
                                     "p.rows, p.bytes, p.sha256 FROM parts p JOIN attempts a "
                                     "USING(attempt_id) WHERE a.run_id = ? AND a.state = 'done' "
                                     "ORDER BY p.final_uri"));
  s.Bind(1, run_id);
  std::vector<StagedPart> out;
  while (true) {
    LOTE_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    out.push_back(StagedPart{s.Text(0), s.Text(1), s.Text(2), s.Text(3),
                             static_cast<uint64_t>(s.Int(4)), static_cast<uint64_t>(s.Int(5)),
                             s.Text(6)});
  }
  return out;
}

Result<std::vector<std::pair<std::string, uint64_t>>> SqliteLedger::TopLabels(
    const std::string& run_id, int n) {
  // From the per-attempt counts the writer kept: scanning the run's result rows took seconds
  // at millions of rows.
  LOTE_ASSIGN_OR_RETURN(auto s,
                        db_->Prepare("SELECT l.label, sum(l.n) FROM attempt_labels l JOIN "
                                     "attempts a USING(attempt_id) WHERE a.run_id = ? AND "
                                     "a.state <> 'open' GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT ?"));
  s.Bind(1, run_id).Bind(2, n);
  std::vector<std::pair<std::string, uint64_t>> out;
  while (true) {
    LOTE_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    out.emplace_back(s.Text(0), static_cast<uint64_t>(s.Int(1)));
  }
  return out;
}

Result<std::vector<std::pair<std::string, uint64_t>>> SqliteLedger::TopQuarantineReasons(
    const std::string& run_id, int n) {
  LOTE_ASSIGN_OR_RETURN(auto s,
                        db_->Prepare("SELECT q.stage, q.reason, count(*) FROM quarantine_rows q "
                                     "JOIN attempts a USING(attempt_id) WHERE a.run_id = ? "
                                     "GROUP BY 1, 2"));
  s.Bind(1, run_id);
  std::map<std::string, uint64_t> classes;
  while (true) {
    LOTE_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    classes[s.Text(0) + ": " + ReasonClass(s.Text(1))] += static_cast<uint64_t>(s.Int(2));
  }
  std::vector<std::pair<std::string, uint64_t>> out(classes.begin(), classes.end());
  std::stable_sort(out.begin(), out.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  if (out.size() > static_cast<size_t>(n)) out.resize(static_cast<size_t>(n));
  return out;
}

Result<std::string> SqliteLedger::Meta(std::string_view key) {
  LOTE_ASSIGN_OR_RETURN(auto s, db_->Prepare("SELECT value FROM catalog_meta WHERE key = ?"));
  s.Bind(1, key);
  LOTE_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return std::string();
  std::string value = s.Text(0);
  s.Reset();
  return value;
}

Status SqliteLedger::SetMeta(std::string_view key, std::string_view value) {
  LOTE_ASSIGN_OR_RETURN(auto s, db_->Prepare("INSERT OR REPLACE INTO catalog_meta VALUES (?, ?)"));
  s.Bind(1, key).Bind(2, value);
  return s.Run();
}

Result<bool> SqliteLedger::HasRuns() {
  LOTE_ASSIGN_OR_RETURN(auto s, db_->Prepare("SELECT EXISTS (SELECT 1 FROM runs)"));
  LOTE_ASSIGN_OR_RETURN(bool row, s.Step());
  const bool any = row && s.Int(0) != 0;
  if (row) s.Reset();
  return any;
}

Status SqliteLedger::InsertRunIfAbsent(const LedgerRun& run) {
  return InsertRun(run, "INSERT OR IGNORE");
}

Result<std::unique_ptr<Ledger>> OpenSqliteLedger(const std::string& path,
                                                 const std::string& output_uri) {
  LOTE_ASSIGN_OR_RETURN(auto ledger, SqliteLedger::Open(path, output_uri));
  return std::unique_ptr<Ledger>(std::move(ledger));
}

Status SqliteLedger::RecordMonitoring(const std::string& report_json) {
  const nlohmann::json r = nlohmann::json::parse(report_json, nullptr, false);
  if (!r.is_object() || !r.contains("run_id") || !r["run_id"].is_string() ||
      !r.contains("verdict") || !r["verdict"].is_string() || !r.contains("signals") ||
      !r["signals"].is_array()) {
    return InvalidArgumentError(
        "monitoring report: not a JSON object with run_id, verdict and "
        "signals");
  }
  const std::string run_id = r["run_id"].get<std::string>();
  auto text = [](const nlohmann::json& o, const char* key) {
    auto it = o.find(key);
    return it != o.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  auto bind_number = [](SqliteStmt& s, int i, const nlohmann::json& o, const char* key) {
    auto it = o.find(key);
    if (it != o.end() && it->is_number()) {
      s.Bind(i, it->get<double>());
    } else {
      s.BindNull(i);
    }
  };
  // A savepoint: atomic on its own, and nested inside a replay's transaction.
  LOTE_RETURN_IF_ERROR(db_->Exec("SAVEPOINT monitoring"));
  Status s = [&]() -> Status {
    LOTE_ASSIGN_OR_RETURN(auto ins, db_->Prepare("INSERT OR REPLACE INTO monitoring VALUES (?, ?, "
                                                 "?, ?, ?, ?, ?, ?, ?)"));
    ins.Bind(1, run_id).Bind(2, text(r, "model_version")).Bind(3, text(r, "verdict"));
    bind_number(ins, 4, r, "records");
    bind_number(ins, 5, r, "reference_records");
    const nlohmann::json acc = r.value("estimated_accuracy", nlohmann::json());
    bind_number(ins, 6, acc, "value");
    bind_number(ins, 7, acc, "low");
    bind_number(ins, 8, acc, "high");
    ins.Bind(9, report_json);
    LOTE_RETURN_IF_ERROR(ins.Run());
    LOTE_ASSIGN_OR_RETURN(auto del, db_->Prepare("DELETE FROM drift_signals WHERE run_id = ?"));
    del.Bind(1, run_id);
    LOTE_RETURN_IF_ERROR(del.Run());
    LOTE_ASSIGN_OR_RETURN(auto sig, db_->Prepare("INSERT OR REPLACE INTO drift_signals VALUES "
                                                 "(?, ?, ?, ?, ?, ?, ?, ?, ?)"));
    for (const auto& g : r["signals"]) {
      if (!g.is_object())
        return InvalidArgumentError("monitoring report: a signal is not an object");
      sig.Bind(1, run_id)
          .Bind(2, text(g, "name"))
          .Bind(3, text(g, "kind"))
          .Bind(4, text(g, "test"));
      bind_number(sig, 5, g, "statistic");
      bind_number(sig, 6, g, "threshold");
      bind_number(sig, 7, g, "warn_threshold");
      bind_number(sig, 8, g, "p_value");
      sig.Bind(9, text(g, "band"));
      LOTE_RETURN_IF_ERROR(sig.Run());
    }
    LOTE_ASSIGN_OR_RETURN(auto del_alarms, db_->Prepare("DELETE FROM alarms WHERE run_id = ?"));
    del_alarms.Bind(1, run_id);
    LOTE_RETURN_IF_ERROR(del_alarms.Run());
    auto alarms = r.find("alarms");
    if (alarms == r.end() || !alarms->is_array()) return Status::Ok();
    LOTE_ASSIGN_OR_RETURN(auto al, db_->Prepare("INSERT OR REPLACE INTO alarms VALUES (?, ?, ?, ?, "
                                                "?, ?, ?)"));
    for (const auto& a : *alarms) {
      if (!a.is_object())
        return InvalidArgumentError("monitoring report: an alarm is not an object");
      al.Bind(1, run_id).Bind(2, text(a, "name")).Bind(3, text(a, "signal"));
      al.Bind(4, text(a, "condition"));
      bind_number(al, 5, a, "consecutive_runs");
      bind_number(al, 6, a, "runs_met");
      al.Bind(7, a.value("firing", false) ? 1 : 0);
      LOTE_RETURN_IF_ERROR(al.Run());
    }
    return Status::Ok();
  }();
  if (!s.ok()) {
    (void)db_->Exec("ROLLBACK TO monitoring");
    (void)db_->Exec("RELEASE monitoring");
    return s;
  }
  return db_->Exec("RELEASE monitoring");
}

Result<std::vector<std::string>> SqliteLedger::RecentMonitoring(const std::string& run_id, int n) {
  LOTE_ASSIGN_OR_RETURN(
      auto sel, db_->Prepare("SELECT report FROM monitoring WHERE run_id != ? "
                             "AND records > 0 ORDER BY json_extract(report, '$.written_at') "
                             "DESC, run_id DESC LIMIT ?"));
  sel.Bind(1, run_id).Bind(2, n);
  std::vector<std::string> out;
  while (true) {
    LOTE_ASSIGN_OR_RETURN(bool row, sel.Step());
    if (!row) break;
    out.push_back(sel.Text(0));
  }
  return out;
}

// --- feedback ---

Status SqliteLedger::EndStageTransaction() {
  if (!stage_tx_open_) return Status::Ok();
  stage_tx_open_ = false;
  stage_tx_rows_ = 0;
  return db_->Exec("COMMIT");
}

Status SqliteLedger::StageRow(const FeedbackRow& row, bool matched) {
  if (!stage_tx_open_) {
    // Deferred: only the temporary database is written, so no lock on the catalog is taken.
    LOTE_RETURN_IF_ERROR(db_->Exec("BEGIN"));
    stage_tx_open_ = true;
  }
  stage_put_.Bind(1, row.record_id).Bind(2, row.label);
  if (row.run_id.empty()) {
    stage_put_.BindNull(3).BindNull(4);
  } else {
    stage_put_.Bind(3, row.run_id).Bind(4, row.model_version);
  }
  stage_put_.Bind(5, row.has_prediction ? 1 : 0);
  if (row.has_prediction) {
    stage_put_.Bind(6, row.predicted_label).Bind(7, row.score);
  } else {
    stage_put_.BindNull(6).BindNull(7);
  }
  stage_put_.Bind(8, row.label_known ? 1 : 0).Bind(9, matched ? 1 : 0);
  LOTE_RETURN_IF_ERROR(stage_put_.Run());
  if (++stage_tx_rows_ >= kStageBatch) return EndStageTransaction();
  return Status::Ok();
}

Status SqliteLedger::StageFeedback(std::string_view record_id, std::string_view label) {
  FeedbackRow row;
  row.record_id = std::string(record_id);
  row.label = std::string(label);
  return StageRow(row, /*matched=*/false);
}

Status SqliteLedger::StageMatchedFeedback(const FeedbackRow& row) {
  return StageRow(row, /*matched=*/true);
}

Status SqliteLedger::DiscardStagedFeedback() {
  LOTE_RETURN_IF_ERROR(EndStageTransaction());
  return db_->Exec("DELETE FROM temp.feedback_stage");
}

Status SqliteLedger::MatchStagedFeedback(const std::function<Status(const FeedbackRow&)>& row) {
  LOTE_RETURN_IF_ERROR(EndStageTransaction());
  // One read transaction: the versions matched are one snapshot of the catalog.
  LOTE_RETURN_IF_ERROR(db_->Exec("BEGIN"));
  Status matched = [&]() -> Status {
    // The labels each model version predicted in committed attempts: a label outside them is
    // one the model does not know (or never chose here).
    LOTE_RETURN_IF_ERROR(db_->Exec(
        "DELETE FROM temp.feedback_known; INSERT OR IGNORE INTO temp.feedback_known SELECT "
        "a.model_version, l.label FROM attempt_labels l JOIN attempts a USING(attempt_id) "
        "WHERE a.state IN ('committing', 'done') AND a.model_version IS NOT NULL"));
    // The attempts holding the staged records' latest versions (the dedup state names the
    // attempt of each record's latest version; a committed attempt whose files are still being
    // renamed counts: its commit is durable).
    LOTE_ASSIGN_OR_RETURN(
        auto attempts,
        db_->Prepare("SELECT DISTINCT s.attempt_id, a.run_id, a.model_version FROM "
                     "temp.feedback_stage f JOIN seen_records s ON s.record_id = f.record_id "
                     "JOIN attempts a ON a.attempt_id = s.attempt_id WHERE f.matched = 0 AND "
                     "a.state IN ('committing', 'done') ORDER BY s.attempt_id"));
    struct Holder {
      int64_t attempt_id;
      std::string run_id, model_version;
    };
    std::vector<Holder> holders;
    while (true) {
      LOTE_ASSIGN_OR_RETURN(bool more, attempts.Step());
      if (!more) break;
      holders.push_back({attempts.Int(0), attempts.Text(1), attempts.Text(2)});
    }
    // Each attempt's rows are scanned once, in key order, probing the stage: result rows have no
    // index by record id (see kSchema), and this costs one pass over those attempts whatever
    // the number of labels. The last row of a record in an attempt is its version there.
    LOTE_ASSIGN_OR_RETURN(
        auto rows, db_->Prepare("SELECT r.record_id, r.label, r.score FROM result_rows r CROSS "
                                "JOIN temp.feedback_stage f ON f.record_id = r.record_id JOIN "
                                "seen_records s ON s.record_id = r.record_id AND s.attempt_id = "
                                "?3 WHERE r.row_key BETWEEN ?1 AND ?2 AND f.matched = 0 ORDER "
                                "BY r.row_key"));
    LOTE_ASSIGN_OR_RETURN(
        auto update,
        db_->Prepare("UPDATE temp.feedback_stage SET run_id = ?2, model_version = ?3, "
                     "has_prediction = ?4, predicted_label = ?5, score = ?6, label_known = "
                     "EXISTS (SELECT 1 FROM temp.feedback_known k WHERE k.model_version = ?3 AND "
                     "k.label = feedback_stage.label) WHERE record_id = ?1"));
    for (const Holder& h : holders) {
      rows.Bind(1, h.attempt_id << kRowKeyBits)
          .Bind(2, ((h.attempt_id + 1) << kRowKeyBits) - 1)
          .Bind(3, h.attempt_id);
      while (true) {
        LOTE_ASSIGN_OR_RETURN(bool more, rows.Step());
        if (!more) break;
        update.Bind(1, rows.Text(0)).Bind(2, h.run_id).Bind(3, h.model_version);
        if (rows.IsNull(1)) {
          update.Bind(4, 0).BindNull(5).BindNull(6);
        } else {
          update.Bind(4, 1).Bind(5, rows.Text(1)).Bind(6, rows.Double(2));
        }
        LOTE_RETURN_IF_ERROR(update.Run());
      }
    }
    return Status::Ok();
  }();
  if (!matched.ok()) {
    (void)db_->Exec("ROLLBACK");
    return matched;
  }
  LOTE_RETURN_IF_ERROR(db_->Exec("COMMIT"));
  LOTE_ASSIGN_OR_RETURN(auto staged, db_->Prepare("SELECT record_id, label, run_id, model_version, "
                                                  "has_prediction, predicted_label, score, "
                                                  "label_known FROM temp.feedback_stage ORDER BY "
                                                  "record_id"));
  FeedbackRow r;
  while (true) {
    LOTE_ASSIGN_OR_RETURN(bool more, staged.Step());
    if (!more) break;
    r.record_id = staged.Text(0);
    r.label = staged.Text(1);
    r.run_id = staged.Text(2);
    r.model_version = staged.Text(3);
    r.has_prediction = staged.Int(4) != 0;
    r.predicted_label = staged.Text(5);
    r.score = staged.Double(6);
    r.label_known = staged.Int(7) != 0;
    Status s = row(r);
    if (!s.ok()) {
      staged.Reset();
      return s;
    }
  }
  return Status::Ok();
}

Result<std::vector<std::string>> SqliteLedger::RecordFeedback(const FeedbackBatch& batch) {
  LOTE_RETURN_IF_ERROR(EndStageTransaction());
  std::vector<std::string> runs;
  // A savepoint: atomic on its own, and nested inside a log entry's transaction.
  LOTE_RETURN_IF_ERROR(db_->Exec("SAVEPOINT feedback"));
  Status s = [&]() -> Status {
    // The runs whose measured accuracy changes: those the records' earlier labels counted for,
    // and those they count for now.
    LOTE_ASSIGN_OR_RETURN(
        auto affected,
        db_->Prepare("SELECT run_id FROM feedback WHERE record_id IN (SELECT record_id FROM "
                     "temp.feedback_stage) AND run_id IS NOT NULL UNION SELECT run_id FROM "
                     "temp.feedback_stage WHERE run_id IS NOT NULL ORDER BY 1"));
    while (true) {
      LOTE_ASSIGN_OR_RETURN(bool more, affected.Step());
      if (!more) break;
      runs.push_back(affected.Text(0));
    }
    LOTE_ASSIGN_OR_RETURN(auto add, db_->Prepare("INSERT OR REPLACE INTO feedback_batches VALUES "
                                                 "(?, ?, ?, ?, ?)"));
    add.Bind(1, batch.feedback_id).Bind(2, batch.received_at).Bind(3, batch.file_uri);
    add.Bind(4, batch.rows).Bind(5, batch.sha256);
    LOTE_RETURN_IF_ERROR(add.Run());
    LOTE_ASSIGN_OR_RETURN(
        auto put,
        db_->Prepare("INSERT OR REPLACE INTO feedback SELECT record_id, label, ?1, ?2, run_id, "
                     "model_version, CASE WHEN has_prediction THEN predicted_label END, CASE "
                     "WHEN has_prediction THEN score END, CASE WHEN has_prediction THEN "
                     "predicted_label = label END, label_known FROM temp.feedback_stage"));
    put.Bind(1, batch.feedback_id).Bind(2, batch.received_at);
    LOTE_RETURN_IF_ERROR(put.Run());
    LOTE_RETURN_IF_ERROR(db_->Exec("DELETE FROM temp.feedback_stage"));
    for (const std::string& run_id : runs) {
      LOTE_RETURN_IF_ERROR(RecomputeFeedbackAccuracy(run_id));
    }
    return Status::Ok();
  }();
  if (!s.ok()) {
    (void)db_->Exec("ROLLBACK TO feedback");
    (void)db_->Exec("RELEASE feedback");
    return s;
  }
  LOTE_RETURN_IF_ERROR(db_->Exec("RELEASE feedback"));
  return runs;
}

Status SqliteLedger::RecomputeFeedbackAccuracy(const std::string& run_id) {
  LOTE_ASSIGN_OR_RETURN(auto del, db_->Prepare("DELETE FROM feedback_accuracy WHERE run_id = ?"));
  del.Bind(1, run_id);
  LOTE_RETURN_IF_ERROR(del.Run());
  // The run's own estimates (overall and per predicted label) and calibration offset.
  std::optional<double> offset;
  std::map<std::string, std::array<double, 3>, std::less<>> estimates;  // "" = the whole run
  LOTE_ASSIGN_OR_RETURN(auto report,
                        db_->Prepare("SELECT report FROM monitoring WHERE run_id = ?"));
  report.Bind(1, run_id);
  LOTE_ASSIGN_OR_RETURN(bool has_report, report.Step());
  if (has_report) {
    const nlohmann::json r = nlohmann::json::parse(report.Text(0), nullptr, false);
    report.Reset();
    auto number = [](const nlohmann::json& o, const char* key) -> std::optional<double> {
      auto it = o.find(key);
      if (it == o.end() || !it->is_number()) return std::nullopt;
      return it->get<double>();
    };
    auto keep = [&](const std::string& label, const nlohmann::json& e) {
      auto v = number(e, "value"), lo = number(e, "low"), hi = number(e, "high");
      if (v && lo && hi) estimates[label] = {*v, *lo, *hi};
    };
    if (r.is_object()) {
      if (auto e = r.find("estimated_accuracy"); e != r.end() && e->is_object()) {
        keep("", *e);
        offset = number(*e, "calibration_offset");
      }
      if (auto by = r.find("estimated_accuracy_by_label"); by != r.end() && by->is_array()) {
        for (const auto& l : *by) {
          if (l.is_object() && l.contains("label") && l["label"].is_string()) {
            keep(l["label"].get<std::string>(), l);
          }
        }
      }
    }
  }
  // Whole run first (predicted_label NULL), then per predicted label.
  LOTE_ASSIGN_OR_RETURN(
      auto sums,
      db_->Prepare("SELECT NULL, max(model_version), count(*), sum(correct), sum(score), "
                   "sum(label_known = 0), max(received_at) FROM feedback WHERE run_id = ?1 AND "
                   "correct IS NOT NULL HAVING count(*) > 0 UNION ALL SELECT * FROM (SELECT "
                   "predicted_label, max(model_version), count(*), sum(correct), sum(score), "
                   "sum(label_known = 0), max(received_at) FROM feedback WHERE run_id = ?1 AND "
                   "correct IS NOT NULL GROUP BY predicted_label ORDER BY 3 DESC, 1)"));
  LOTE_ASSIGN_OR_RETURN(auto put, db_->Prepare("INSERT INTO feedback_accuracy VALUES (?, ?, ?, ?, "
                                               "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  sums.Bind(1, run_id);
  while (true) {
    LOTE_ASSIGN_OR_RETURN(bool more, sums.Step());
    if (!more) break;
    const bool whole = sums.IsNull(0);
    const std::string label = whole ? "" : sums.Text(0);
    const auto n = static_cast<uint64_t>(sums.Int(2));
    const auto correct = static_cast<uint64_t>(sums.Int(3));
    const double mean_score = sums.Double(4) / static_cast<double>(n);
    const auto [low, high] = monitoring::WilsonInterval(correct, n, kFeedbackZ);
    put.Bind(1, run_id).Bind(2, sums.Text(1));
    if (whole) {
      put.BindNull(3);
    } else {
      put.Bind(3, label);
    }
    put.Bind(4, n).Bind(5, correct).Bind(6, static_cast<double>(correct) / static_cast<double>(n));
    put.Bind(7, low).Bind(8, high).Bind(9, mean_score);
    if (offset) {
      put.Bind(10, std::clamp(mean_score - *offset, 0.0, 1.0));
    } else {
      put.BindNull(10);
    }
    if (auto e = estimates.find(label); e != estimates.end()) {
      put.Bind(11, e->second[0]).Bind(12, e->second[1]).Bind(13, e->second[2]);
    } else {
      put.BindNull(11).BindNull(12).BindNull(13);
    }
    put.Bind(14, sums.Int(5)).Bind(15, sums.Text(6));
    Status s = put.Run();
    if (!s.ok()) {
      sums.Reset();
      return s;
    }
  }
  return Status::Ok();
}

Result<std::vector<FeedbackAccuracy>> SqliteLedger::RunFeedbackAccuracy(const std::string& run_id) {
  LOTE_ASSIGN_OR_RETURN(
      auto sel, db_->Prepare("SELECT run_id, model_version, predicted_label, labelled, correct, "
                             "unknown_labels, accuracy, accuracy_low, accuracy_high, mean_score, "
                             "estimated_accuracy, run_estimated_accuracy, run_accuracy_low, "
                             "run_accuracy_high, updated_at FROM feedback_accuracy WHERE run_id = "
                             "? ORDER BY predicted_label IS NOT NULL, labelled DESC, "
                             "predicted_label"));
  sel.Bind(1, run_id);
  std::vector<FeedbackAccuracy> out;
  auto optional = [&](int col) {
    return sel.IsNull(col) ? std::optional<double>() : std::optional<double>(sel.Double(col));
  };
  while (true) {
    LOTE_ASSIGN_OR_RETURN(bool more, sel.Step());
    if (!more) break;
    FeedbackAccuracy a;
    a.run_id = sel.Text(0);
    a.model_version = sel.Text(1);
    a.predicted_label = sel.Text(2);
    a.labelled = static_cast<uint64_t>(sel.Int(3));
    a.correct = static_cast<uint64_t>(sel.Int(4));
    a.unknown_labels = static_cast<uint64_t>(sel.Int(5));
    a.accuracy = sel.Double(6);
    a.low = sel.Double(7);
    a.high = sel.Double(8);
    a.mean_score = sel.Double(9);
    a.estimated_accuracy = optional(10);
    a.run_estimate = optional(11);
    a.run_estimate_low = optional(12);
    a.run_estimate_high = optional(13);
    a.updated_at = sel.Text(14);
    out.push_back(std::move(a));
  }
  return out;
}

}  // namespace lote::pipeline
