// The catalog: SQL over what the pipeline published, and the Athena/Glue DDL for the same layout.
//
// The catalog is the SQLite database the pipeline keeps in step with its files (default
// OUTPUT/_catalog/lote.db). Tables and views a query can use:
//   results     one row per record: its latest published version (same columns as the files,
//               plus dt and model as in the Athena partitions)
//   results_history  every published version of every record
//   entities    record_id, type, start, end, text, value, score, run_id, model_version, dt (of the
//               records in `results`)
//   quarantine  record_id, source, line, stage, reason, run_id, processed_at, dt, model
//   runs        run_id, state, input, output, model_version, preprocess_version, started_at,
//               finished_at, records_in, records_out, records_quarantined, records_duplicate,
//               manifest
//   monitoring  run_id, model_version, verdict, records, reference_records, estimated_accuracy,
//               accuracy_low, accuracy_high, report (the run's monitoring.json)
//   drift_signals  run_id, name, kind, test, statistic, threshold, warn_threshold, p_value, band
//   alarms      run_id, name, signal, condition, consecutive_runs, runs_met, firing
//               (docs/monitoring.md)
//   feedback    one row per labelled record (`lote feedback`): record_id, label, feedback_id,
//               received_at, and the version it was matched to when the label arrived: run_id,
//               model_version, predicted_label, score, correct (1/0; NULL unmatched or without a
//               prediction), label_known
//   feedback_batches  feedback_id, received_at, file, rows, sha256
//   feedback_accuracy  per run (predicted_label NULL) and per run and predicted label: labelled,
//               correct, accuracy, accuracy_low, accuracy_high (Wilson 95 %), mean_score,
//               estimated_accuracy (for the same records), run_estimated_accuracy,
//               run_accuracy_low, run_accuracy_high, unknown_labels, updated_at
//               (lote/pipeline/feedback.h, docs/monitoring.md)
// Thread-safety: free functions, thread-safe; queries open their own read-only connection and
// see a consistent snapshot even while a run writes (WAL). A query can only read, whatever its
// SQL says (see QueryCatalog).
#ifndef LOTE_PIPELINE_CATALOG_H_
#define LOTE_PIPELINE_CATALOG_H_

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "lote/base/status.h"

namespace lote::pipeline {

struct PipelineOptions;

// The catalog file a reader of options.output_uri opens: options.catalog_path, or the output's
// own (OUTPUT/_catalog/lote.db) for a local output; for an output on an object store, its local
// cache (options.catalog_path, or the default cache), first brought up to date from the ledger
// there. `log` hears about cache rebuilds and replays (may be empty). Errors: the output's
// storage and ledger errors. The file may not exist (nothing was ever published locally).
Result<std::string> ReadableCatalogPath(const PipelineOptions& options,
                                        const std::function<void(const std::string&)>& log);

struct QueryValue {
  enum class Type { kNull, kInteger, kReal, kText };
  Type type = Type::kNull;
  std::string text;  // the value as text (empty for null)
};

struct QueryResult {
  std::vector<std::string> columns;
  std::vector<std::vector<QueryValue>> rows;
};

// Bounds on one query. The SQL is untrusted (the dashboard will pass it from HTTP requests): each
// bound stops a query that would hold the process too long or take too much memory, with
// InvalidArgument naming the bound. The defaults suit the CLI on a large catalog; a server
// passes tighter ones.
struct QueryOptions {
  // Wall-clock time the statement may run, checked every 1000 SQLite VM steps (a single function
  // call is not interrupted; max_value_bytes bounds how long one can take).
  std::chrono::milliseconds time_budget{60'000};
  // The result is built in memory: at most this many rows...
  size_t max_rows = 1'000'000;
  // ...and this many bytes, counting each value's text plus sizeof(QueryValue).
  size_t max_result_bytes = size_t{256} << 20;
  // Longest SQL text accepted (SQLITE_LIMIT_SQL_LENGTH).
  int max_sql_bytes = 100'000;
  // Longest string or blob a query may read or build (SQLITE_LIMIT_LENGTH): bounds the memory
  // of zeroblob(), printf('%.*c', ...), group_concat() and the like.
  int max_value_bytes = 32 << 20;
  // Parser bounds: nesting depth of an expression (SQLITE_LIMIT_EXPR_DEPTH) and terms of a
  // compound SELECT (SQLITE_LIMIT_COMPOUND_SELECT).
  int max_expr_depth = 200;
  int max_compound_select = 100;
};

// Runs one SQL statement against the catalog at `catalog_path` and returns its whole result. The
// statement can only read, whatever it says: it cannot write, create or attach anything anywhere
// (the catalog, a temp table or view, another file), change the connection's state, or load
// code. Layered guards, each of SQLite's own making, enforce it:
//   - the connection is opened read-only, in defensive mode (SQLITE_DBCONFIG_DEFENSIVE), with
//     extension loading, triggers and the FTS3 tokenizer override off, no attached database
//     allowed (SQLITE_LIMIT_ATTACHED 0, which also stops VACUUM INTO), and the schema untrusted
//     (SQLITE_DBCONFIG_TRUSTED_SCHEMA off) unless the catalog's views need it trusted: SQLite
//     3.40 (Debian 12) does not mark its JSON functions innocuous, so `entities` needs it;
//   - an authorizer allows only SELECT, reading columns, recursive CTEs, the built-in scalar,
//     aggregate, window, date, math and JSON functions (an allowlist: load_extension(),
//     fts3_tokenizer(), sqlite_log() and the like are refused, in views too), the json_each and
//     json_tree table-valued functions and the schema pragmas table_info, table_xinfo,
//     table_list, index_list, index_info and index_xinfo (also as pragma_table_info(...) and so
//     on); everything else (INSERT, UPDATE, DELETE, CREATE incl. TEMP, DROP, ALTER, ATTACH,
//     DETACH, BEGIN, SAVEPOINT, ANALYZE, REINDEX, any other PRAGMA, ...) is refused;
//   - the prepared statement must be read-only (sqlite3_stmt_readonly: this catches VACUUM,
//     which has no authorizer code) and return columns;
//   - exactly one statement: SQL after the first one other than spaces, comments and `;` is
//     refused, never silently dropped;
//   - the bounds of `options` (time, rows, bytes, SQL length, value length, parser depth).
// Errors: NotFound (no catalog there); InvalidArgument for the caller's SQL: it does not compile,
// it was refused (the message says what was refused), or it hit a bound of `options` (the
// message names it and suggests LIMIT); Unavailable (the catalog is locked), DataLoss
// (corrupt). Reading a catalog in WAL mode creates its -wal and -shm files if they are missing,
// as any SQLite reader does; nothing else is written. Thread-safe: each call opens its own
// connection.
Result<QueryResult> QueryCatalog(const std::string& catalog_path, std::string_view sql,
                                 const QueryOptions& options = {});

enum class QueryFormat { kTable, kCsv, kJson };
Result<QueryFormat> ParseQueryFormat(std::string_view name);  // table | csv | json

// Renders a result: an aligned text table (NULL shown as NULL; names and values through
// text::EscapeControl, so that no value can move the cursor or send a terminal escape sequence),
// RFC 4180 CSV with a header, or a JSON array of objects (numbers as numbers, NULL as null); CSV
// and JSON are data formats and keep every value as it is. Ends with a newline.
std::string FormatQueryResult(const QueryResult& result, QueryFormat format);

struct AthenaDdlOptions {
  std::string database = "lote";
  std::string location = "s3://BUCKET/PREFIX";  // the output URI as S3 will hold it
  // Partition projection for model: the known model versions as an enum, or empty for
  // "injected" (every query must then filter on model).
  std::vector<std::string> model_versions;
  std::string dt_from = "2024-01-01";  // first day of the dt projection range (to NOW)
};

// CREATE EXTERNAL TABLE statements (JSON SerDe over .jsonl.zst, partition projection on dt and
// model) for results and quarantine, then CREATE OR REPLACE VIEW for AthenaViews, each statement
// ending with ";\n" (Athena runs one statement per query).
std::string AthenaDdl(const AthenaDdlOptions& options);

// The views that give Athena the catalog's names: `entities` (the results' entities unnested)
// and the daily summaries `results_daily`, `entities_daily`, `quarantine_daily`, with the same
// columns and counts as the catalog's (which the ledger keeps as tables), so that the
// dashboard's SQL over them runs on both. `select` reads `DATABASE.results` and
// `DATABASE.quarantine`; with database "main" it runs on a catalog as it is, but for the
// `FROM ... UNNEST` clause (AthenaEntitiesUnnest), which SQLite does not have.
struct AthenaView {
  std::string name;
  std::string select;
};
std::vector<AthenaView> AthenaViews(const std::string& database);
std::string AthenaEntitiesUnnest(const std::string& database);

// The model versions present in a catalog (for the projection enum).
Result<std::vector<std::string>> CatalogModelVersions(const std::string& catalog_path);

}  // namespace lote::pipeline

#endif  // LOTE_PIPELINE_CATALOG_H_
