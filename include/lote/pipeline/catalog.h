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
// Thread-safety: free functions, thread-safe; queries open their own read-only connection and
// see a consistent snapshot even while a run writes (WAL).
#ifndef LOTE_PIPELINE_CATALOG_H_
#define LOTE_PIPELINE_CATALOG_H_

#include <string>
#include <string_view>
#include <vector>

#include "lote/base/status.h"

namespace lote::pipeline {

struct QueryValue {
  enum class Type { kNull, kInteger, kReal, kText };
  Type type = Type::kNull;
  std::string text;  // the value as text (empty for null)
};

struct QueryResult {
  std::vector<std::string> columns;
  std::vector<std::vector<QueryValue>> rows;
};

// Runs one read-only SQL statement against the catalog at `catalog_path`.
// Errors: NotFound (no catalog there), InvalidArgument (SQL error, or a statement that writes:
// the connection is read-only), Unavailable.
Result<QueryResult> QueryCatalog(const std::string& catalog_path, std::string_view sql);

enum class QueryFormat { kTable, kCsv, kJson };
Result<QueryFormat> ParseQueryFormat(std::string_view name);  // table | csv | json

// Renders a result: an aligned text table (NULL shown as NULL), RFC 4180 CSV with a header, or
// a JSON array of objects (numbers as numbers, NULL as null). Ends with a newline.
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
// model) for results and quarantine, each ending with ";\n".
std::string AthenaDdl(const AthenaDdlOptions& options);

// The model versions present in a catalog (for the projection enum).
Result<std::vector<std::string>> CatalogModelVersions(const std::string& catalog_path);

}  // namespace lote::pipeline

#endif  // LOTE_PIPELINE_CATALOG_H_
