#include "pipeline/read_only_query.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <iterator>
#include <string>

#include "lote/text/utf8.h"

namespace lote::pipeline {
namespace {

using SteadyClock = std::chrono::steady_clock;

// The progress handler runs every this many VM instructions: about a microsecond apart, so the
// time budget is kept to well under a millisecond at the cost of one clock read per call.
constexpr int kProgressInstructions = 1000;
// Nobody needs a longer LIKE/GLOB pattern, and the matcher's cost grows with the pattern.
constexpr int kMaxLikePatternBytes = 1000;

// Built-in functions of SQLite 3.40 a read needs (core scalar, aggregate, window, date, math and
// JSON). An allowlist, so that a function a later SQLite adds is refused until someone looks at
// it. Left out on purpose: load_extension, fts3_tokenizer (registers a tokenizer from a pointer),
// sqlite_log (writes to the error log), optimize (merges an FTS index), the FTS and R*Tree
// helpers, and the sqlite_*/changes() introspection functions. Sorted for binary search.
constexpr std::string_view kAllowedFunctions[] = {
    "->",
    "->>",
    "abs",
    "acos",
    "acosh",
    "asin",
    "asinh",
    "atan",
    "atan2",
    "atanh",
    "avg",
    "ceil",
    "ceiling",
    "char",
    "coalesce",
    "cos",
    "cosh",
    "count",
    "cume_dist",
    "current_date",
    "current_time",
    "current_timestamp",
    "date",
    "datetime",
    "degrees",
    "dense_rank",
    "exp",
    "first_value",
    "floor",
    "format",
    "glob",
    "group_concat",
    "hex",
    "ifnull",
    "iif",
    "instr",
    "json",
    "json_array",
    "json_array_length",
    "json_extract",
    "json_group_array",
    "json_group_object",
    "json_insert",
    "json_object",
    "json_patch",
    "json_quote",
    "json_remove",
    "json_replace",
    "json_set",
    "json_type",
    "json_valid",
    "julianday",
    "lag",
    "last_value",
    "lead",
    "length",
    "like",
    "likelihood",
    "likely",
    "ln",
    "log",
    "log10",
    "log2",
    "lower",
    "ltrim",
    "max",
    "min",
    "mod",
    "nth_value",
    "ntile",
    "nullif",
    "percent_rank",
    "pi",
    "pow",
    "power",
    "printf",
    "quote",
    "radians",
    "random",
    "randomblob",
    "rank",
    "replace",
    "round",
    "row_number",
    "rtrim",
    "sign",
    "sin",
    "sinh",
    "soundex",
    "sqrt",
    "strftime",
    "substr",
    "substring",
    "sum",
    "tan",
    "tanh",
    "time",
    "total",
    "trim",
    "trunc",
    "typeof",
    "unicode",
    "unixepoch",
    "unlikely",
    "upper",
    "zeroblob",
};

// Pragmas that only describe the schema, whatever their argument. Every other pragma is refused:
// many change the connection (journal_mode, temp_store_directory, writable_schema, cache_size).
constexpr std::string_view kSchemaPragmas[] = {"index_info", "index_list", "index_xinfo",
                                               "table_info", "table_list", "table_xinfo"};

// The table-valued functions a query may use. SQLite builds one the first time a connection
// names it, and asks the authorizer for a write to sqlite_master while doing so; they are built
// here before the authorizer is installed, so it can refuse every write (and any other
// table-valued function: dbstat, sqlite_stmt, other pragma_* ones).
constexpr const char* kPrebuiltTableFunctions =
    "SELECT 1 FROM json_each('[]'), json_tree('[]'), pragma_table_info(''), "
    "pragma_table_xinfo(''), pragma_table_list, pragma_index_list(''), pragma_index_info(''), "
    "pragma_index_xinfo('')";

static_assert(std::is_sorted(std::begin(kAllowedFunctions), std::end(kAllowedFunctions)));
static_assert(std::is_sorted(std::begin(kSchemaPragmas), std::end(kSchemaPragmas)));

bool Contains(const auto& sorted, std::string_view name) {
  return std::binary_search(std::begin(sorted), std::end(sorted), name);
}

// What the guards saw while the statement was prepared and run, for the error message.
struct GuardState {
  SteadyClock::time_point deadline;
  bool timed_out = false;
  std::string refused;  // the first action the authorizer refused, in words
};

std::string Quoted(const char* s) {
  return s == nullptr ? std::string() : " '" + text::Excerpt(s, 60) + "'";
}

bool IsSchemaTable(const char* table) {
  if (table == nullptr) return false;
  const std::string_view t = table;
  return t == "sqlite_master" || t == "sqlite_temp_master" || t == "sqlite_schema" ||
         t == "sqlite_temp_schema";
}

std::string DescribeAction(int action, const char* a1, const char* a2, const char* db) {
  switch (action) {
    case SQLITE_CREATE_INDEX:
      return "CREATE INDEX" + Quoted(a1);
    case SQLITE_CREATE_TABLE:
      return "CREATE TABLE" + Quoted(a1);
    case SQLITE_CREATE_TEMP_INDEX:
      return "CREATE TEMP INDEX" + Quoted(a1);
    case SQLITE_CREATE_TEMP_TABLE:
      return "CREATE TEMP TABLE" + Quoted(a1);
    case SQLITE_CREATE_TEMP_TRIGGER:
      return "CREATE TEMP TRIGGER" + Quoted(a1);
    case SQLITE_CREATE_TEMP_VIEW:
      return "CREATE TEMP VIEW" + Quoted(a1);
    case SQLITE_CREATE_TRIGGER:
      return "CREATE TRIGGER" + Quoted(a1);
    case SQLITE_CREATE_VIEW:
      return "CREATE VIEW" + Quoted(a1);
    case SQLITE_DELETE:
      if (IsSchemaTable(a1)) return "dropping a table, view, index or trigger";
      return "DELETE from" + Quoted(a1);
    case SQLITE_DROP_INDEX:
    case SQLITE_DROP_TEMP_INDEX:
      return "DROP INDEX" + Quoted(a1);
    case SQLITE_DROP_TABLE:
    case SQLITE_DROP_TEMP_TABLE:
      return "DROP TABLE" + Quoted(a1);
    case SQLITE_DROP_TRIGGER:
    case SQLITE_DROP_TEMP_TRIGGER:
      return "DROP TRIGGER" + Quoted(a1);
    case SQLITE_DROP_VIEW:
    case SQLITE_DROP_TEMP_VIEW:
      return "DROP VIEW" + Quoted(a1);
    case SQLITE_INSERT:
      // SQLite asks for this first when creating anything, and stops at the refusal.
      if ((a1 != nullptr && std::string_view(a1) == "sqlite_temp_master") ||
          (db != nullptr && std::string_view(db) == "temp")) {
        return "creating a temp table, view, index or trigger";
      }
      if (IsSchemaTable(a1)) return "creating a table, view, index or trigger in the catalog";
      return "INSERT into" + Quoted(a1);
    case SQLITE_PRAGMA:
      return "PRAGMA" + Quoted(a1);
    case SQLITE_TRANSACTION:
      return "a transaction (" + std::string(a1 != nullptr ? a1 : "BEGIN") + ")";
    case SQLITE_UPDATE:
      if (IsSchemaTable(a1)) {
        // What SQLite asks for when it first builds a table-valued function in a connection.
        return "a table-valued function other than json_each, json_tree, pragma_table_info, "
               "pragma_table_xinfo, pragma_table_list, pragma_index_list, pragma_index_info "
               "and pragma_index_xinfo (or a write to the schema)";
      }
      return "UPDATE of" + Quoted(a1);
    case SQLITE_ATTACH:
      return "ATTACH" + Quoted(a1);
    case SQLITE_DETACH:
      return "DETACH" + Quoted(a1);
    case SQLITE_ALTER_TABLE:
      return "ALTER TABLE" + Quoted(a2);
    case SQLITE_REINDEX:
      return "REINDEX";
    case SQLITE_ANALYZE:
      return "ANALYZE";
    case SQLITE_CREATE_VTABLE:
      return "CREATE VIRTUAL TABLE" + Quoted(a1);
    case SQLITE_DROP_VTABLE:
      return "DROP VIRTUAL TABLE" + Quoted(a1);
    case SQLITE_FUNCTION:
      return "the function " + text::Excerpt(a2 != nullptr ? a2 : "", 60) + "()";
    case SQLITE_SAVEPOINT:
      return "a savepoint";
    default:
      return "SQLite action " + std::to_string(action);
  }
}

// Allows what a read needs and denies everything else (SQLITE_DENY fails the statement;
// SQLITE_IGNORE would quietly turn a column into NULL).
int Authorize(void* state, int action, const char* a1, const char* a2, const char* db,
              const char* /*trigger_or_view*/) {
  switch (action) {
    case SQLITE_SELECT:
    case SQLITE_READ:
    case SQLITE_RECURSIVE:
      return SQLITE_OK;
    case SQLITE_FUNCTION:
      if (a2 != nullptr && Contains(kAllowedFunctions, a2)) return SQLITE_OK;
      break;
    case SQLITE_PRAGMA:
      if (a1 != nullptr && Contains(kSchemaPragmas, a1)) return SQLITE_OK;
      break;
    default:
      break;
  }
  auto* s = static_cast<GuardState*>(state);
  if (s->refused.empty()) s->refused = DescribeAction(action, a1, a2, db);
  return SQLITE_DENY;
}

int OnProgress(void* state) {
  auto* s = static_cast<GuardState*>(state);
  if (SteadyClock::now() < s->deadline) return 0;
  s->timed_out = true;
  return 1;  // SQLite stops the statement with SQLITE_INTERRUPT
}

Status ValidateOptions(const QueryOptions& o) {
  if (o.time_budget.count() <= 0 || o.max_sql_bytes <= 0 || o.max_value_bytes <= 0 ||
      o.max_expr_depth <= 0 || o.max_compound_select <= 0) {
    return InvalidArgumentError(
        "QueryOptions: time_budget, max_sql_bytes, max_value_bytes, max_expr_depth and "
        "max_compound_select must be positive");
  }
  return Status::Ok();
}

// Whether every view in the database compiles under the connection's current settings.
bool ViewsCompile(sqlite3* db) {
  sqlite3_stmt* list = nullptr;
  bool ok = sqlite3_prepare_v2(db, "SELECT name FROM sqlite_master WHERE type = 'view'", -1, &list,
                               nullptr) == SQLITE_OK;
  while (ok && sqlite3_step(list) == SQLITE_ROW) {
    const auto* name = reinterpret_cast<const char*>(sqlite3_column_text(list, 0));
    if (name == nullptr) continue;  // a damaged schema row: the query that meets it will fail
    std::string sql = "SELECT * FROM \"";
    for (const char* c = name; *c; ++c) {
      if (*c == '"') sql += '"';
      sql += *c;
    }
    sql += '"';
    sqlite3_stmt* probe = nullptr;
    ok = sqlite3_prepare_v2(db, sql.c_str(), -1, &probe, nullptr) == SQLITE_OK;
    sqlite3_finalize(probe);
  }
  sqlite3_finalize(list);
  return ok;
}

#ifdef SQLITE_DBCONFIG_TRUSTED_SCHEMA
Status SetSchemaTrusted(sqlite3* db, int trusted) {
  int now = -1;
  if (sqlite3_db_config(db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, trusted, &now) != SQLITE_OK ||
      now != trusted) {
    return InternalError("cannot set SQLITE_DBCONFIG_TRUSTED_SCHEMA");
  }
  return Status::Ok();
}

// With the schema untrusted, a view may call only functions SQLite marks innocuous. SQLite 3.40
// (Debian 12) does not mark its JSON functions so, and the catalog's `entities` view uses ->>:
// there the schema stays trusted when (and only when) that is what the views need. That loses
// nothing here: the authorizer sees, and refuses, every function a view calls as it does those
// of the query itself, and triggers are off.
Status DistrustSchemaIfViewsAllow(sqlite3* db) {
  LOTE_RETURN_IF_ERROR(SetSchemaTrusted(db, 0));
  if (ViewsCompile(db)) return Status::Ok();
  LOTE_RETURN_IF_ERROR(SetSchemaTrusted(db, 1));
  if (ViewsCompile(db)) return Status::Ok();
  // A view broken for another reason: the query that uses it will say why.
  return SetSchemaTrusted(db, 0);
}
#endif

// Everything that holds for the connection's life rather than for one statement.
Status Harden(sqlite3* db, const QueryOptions& o) {
  if (sqlite3_db_readonly(db, "main") != 1) {
    return InternalError("a catalog query needs a read-only connection");
  }
  struct Flag {
    int op;
    int value;
    const char* name;
  };
  const Flag flags[] = {
      {SQLITE_DBCONFIG_DEFENSIVE, 1, "DEFENSIVE"},
      {SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0, "ENABLE_LOAD_EXTENSION"},
      // Debian builds SQLite with SQLITE_ENABLE_FTS3_TOKENIZER, which turns this on by default.
      {SQLITE_DBCONFIG_ENABLE_FTS3_TOKENIZER, 0, "ENABLE_FTS3_TOKENIZER"},
      {SQLITE_DBCONFIG_ENABLE_TRIGGER, 0, "ENABLE_TRIGGER"},
      {SQLITE_DBCONFIG_WRITABLE_SCHEMA, 0, "WRITABLE_SCHEMA"},
      {SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, "NO_CKPT_ON_CLOSE"},
  };
  for (const Flag& f : flags) {
    int now = -1;
    // Fail closed: a SQLite that does not know a flag does not get to run hostile SQL.
    if (sqlite3_db_config(db, f.op, f.value, &now) != SQLITE_OK || now != f.value) {
      return InternalError(std::string("cannot set SQLITE_DBCONFIG_") + f.name);
    }
  }
#ifdef SQLITE_DBCONFIG_TRUSTED_SCHEMA  // SQLite 3.31 and later
  LOTE_RETURN_IF_ERROR(DistrustSchemaIfViewsAllow(db));
#endif
  if (sqlite3_enable_load_extension(db, 0) != SQLITE_OK) {
    return InternalError("cannot turn extension loading off");
  }
  // sqlite3_limit never raises a limit above its compile-time maximum.
  sqlite3_limit(db, SQLITE_LIMIT_ATTACHED, 0);
  sqlite3_limit(db, SQLITE_LIMIT_SQL_LENGTH, o.max_sql_bytes);
  sqlite3_limit(db, SQLITE_LIMIT_LENGTH, o.max_value_bytes);
  sqlite3_limit(db, SQLITE_LIMIT_EXPR_DEPTH, o.max_expr_depth);
  sqlite3_limit(db, SQLITE_LIMIT_COMPOUND_SELECT, o.max_compound_select);
  sqlite3_limit(db, SQLITE_LIMIT_LIKE_PATTERN_LENGTH, kMaxLikePatternBytes);
  sqlite3_limit(db, SQLITE_LIMIT_WORKER_THREADS, 0);
  if (sqlite3_limit(db, SQLITE_LIMIT_ATTACHED, -1) != 0) {
    return InternalError("cannot forbid attached databases");
  }
  // A read rarely waits for a lock (WAL); when it does, the wait counts against the budget.
  sqlite3_busy_timeout(db, static_cast<int>(std::min<int64_t>(o.time_budget.count(), 1 << 30)));
  sqlite3_stmt* warm = nullptr;
  const int rc = sqlite3_prepare_v2(db, kPrebuiltTableFunctions, -1, &warm, nullptr);
  sqlite3_finalize(warm);
  if (rc != SQLITE_OK) {
    return InternalError(std::string("SQLite: cannot prepare table-valued functions: ") +
                         sqlite3_errmsg(db));
  }
  return Status::Ok();
}

// The text after the first statement may hold only what SQLite skips: white space, comments and
// empty statements. Returns the offset of the first other byte, or npos.
size_t FindMoreSql(std::string_view rest) {
  size_t i = 0;
  while (i < rest.size()) {
    const char c = rest[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v' || c == ';') {
      ++i;
    } else if (rest.substr(i, 2) == "--") {
      const size_t end = rest.find('\n', i);
      i = end == std::string_view::npos ? rest.size() : end + 1;
    } else if (rest.substr(i, 2) == "/*") {
      // An unterminated block comment runs to the end, as in SQLite.
      const size_t end = rest.find("*/", i + 2);
      i = end == std::string_view::npos ? rest.size() : end + 2;
    } else {
      return i;
    }
  }
  return std::string_view::npos;
}

Status Refused(const std::string& what) {
  return InvalidArgumentError("query refused: " + what +
                              " is not allowed (lote query runs one read-only SELECT)");
}

std::string Mib(size_t bytes) {
  return bytes % (1 << 20) == 0 ? std::to_string(bytes >> 20) + " MiB"
                                : std::to_string(bytes) + " bytes";
}

// Installs the per-statement guards and removes them when the statement is done, so that the
// connection never runs a statement of ours without them nor keeps them for a trusted caller.
class StatementGuards {
 public:
  StatementGuards(sqlite3* db, GuardState* state) : db_(db) {
    sqlite3_set_authorizer(db_, Authorize, state);
    sqlite3_progress_handler(db_, kProgressInstructions, OnProgress, state);
  }
  ~StatementGuards() {
    sqlite3_progress_handler(db_, 0, nullptr, nullptr);
    sqlite3_set_authorizer(db_, nullptr, nullptr);
  }
  StatementGuards(const StatementGuards&) = delete;
  StatementGuards& operator=(const StatementGuards&) = delete;

 private:
  sqlite3* db_;
};

}  // namespace

Result<QueryResult> RunReadOnlyQuery(SqliteDb& db, std::string_view sql,
                                     const QueryOptions& options) {
  LOTE_RETURN_IF_ERROR(ValidateOptions(options));
  if (sql.size() > static_cast<size_t>(options.max_sql_bytes)) {
    return InvalidArgumentError("query refused: the SQL is " + std::to_string(sql.size()) +
                                " bytes long, more than the " +
                                std::to_string(options.max_sql_bytes) + " allowed");
  }
  // SQLite would stop reading at a NUL and leave what follows unseen.
  if (sql.find('\0') != std::string_view::npos) {
    return InvalidArgumentError("query refused: the SQL contains a NUL byte");
  }
  sqlite3* raw_db = db.raw();
  LOTE_RETURN_IF_ERROR(Harden(raw_db, options));

  GuardState state;
  state.deadline = SteadyClock::now() + options.time_budget;
  // Declared before the statement, so the guards outlive it: a statement SQLite re-prepares
  // (after a concurrent schema change) is authorized again.
  StatementGuards guards(raw_db, &state);

  sqlite3_stmt* raw_stmt = nullptr;
  const char* tail = nullptr;
  const int rc =
      sqlite3_prepare_v2(raw_db, sql.data(), static_cast<int>(sql.size()), &raw_stmt, &tail);
  SqliteStmt stmt(raw_db, raw_stmt);
  if (!state.refused.empty()) return Refused(state.refused);
  if (rc != SQLITE_OK) return InvalidArgumentError(std::string("SQL: ") + sqlite3_errmsg(raw_db));
  if (raw_stmt == nullptr) return InvalidArgumentError("SQL: empty statement");
  const size_t first_end = static_cast<size_t>(tail - sql.data());
  const size_t more = FindMoreSql(sql.substr(first_end));
  if (more != std::string_view::npos) {
    return InvalidArgumentError(
        "query refused: lote query runs one statement, and more SQL follows the first at byte " +
        std::to_string(first_end + more) + ": " + text::Excerpt(sql.substr(first_end + more)));
  }
  if (!sqlite3_stmt_readonly(raw_stmt)) {
    return Refused("a statement that writes (" + text::Excerpt(sql) + ")");
  }
  if (stmt.ColumnCount() == 0) {
    return Refused("a statement that returns no columns (" + text::Excerpt(sql) + ")");
  }

  QueryResult result;
  size_t bytes = 0;
  for (int i = 0; i < stmt.ColumnCount(); ++i) {
    result.columns.push_back(stmt.ColumnName(i));
    bytes += sizeof(std::string) + result.columns.back().size();
  }
  const size_t columns = result.columns.size();
  while (true) {
    auto row = stmt.Step();
    if (!row.ok()) {
      if (state.timed_out) {
        return InvalidArgumentError("query stopped: it ran longer than its time budget of " +
                                    std::to_string(options.time_budget.count()) +
                                    " ms; add a LIMIT or a narrower WHERE");
      }
      if (!state.refused.empty()) return Refused(state.refused);
      if (sqlite3_errcode(raw_db) == SQLITE_TOOBIG) {
        return InvalidArgumentError("query refused: a value would be larger than " +
                                    Mib(static_cast<size_t>(options.max_value_bytes)) +
                                    ", the most a query may read or build");
      }
      // Runtime errors of the caller's SQL; a locked or corrupt catalog keeps its code.
      if (row.status().code() == StatusCode::kInternal) {
        return InvalidArgumentError(row.status().message());
      }
      return row.status();
    }
    if (!*row) break;
    if (result.rows.size() == options.max_rows) {
      return InvalidArgumentError("query refused: the result has more than " +
                                  std::to_string(options.max_rows) +
                                  " rows, the most lote query holds in memory; add a LIMIT or "
                                  "aggregate");
    }
    std::vector<QueryValue> values(columns);
    bytes += sizeof(values) + columns * sizeof(QueryValue);
    for (size_t i = 0; i < columns; ++i) {
      const int col = static_cast<int>(i);
      switch (stmt.ColumnType(col)) {
        case SQLITE_NULL:
          values[i].type = QueryValue::Type::kNull;
          break;
        case SQLITE_INTEGER:
          values[i].type = QueryValue::Type::kInteger;
          break;
        case SQLITE_FLOAT:
          values[i].type = QueryValue::Type::kReal;
          break;
        default:
          values[i].type = QueryValue::Type::kText;
      }
      if (values[i].type != QueryValue::Type::kNull) values[i].text = stmt.Text(col);
      bytes += values[i].text.size();
    }
    if (bytes > options.max_result_bytes) {
      return InvalidArgumentError("query refused: the result is larger than " +
                                  Mib(options.max_result_bytes) +
                                  ", the most lote query holds in memory; add a LIMIT, select "
                                  "fewer columns or aggregate");
    }
    result.rows.push_back(std::move(values));
  }
  return result;
}

}  // namespace lote::pipeline
