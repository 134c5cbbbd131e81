// A thin RAII layer over the SQLite C API for the ledger and the catalog: errors become Status,
// statements are prepared once and reset after use. Thread-safety: one thread per SqliteDb.
#ifndef LOTE_SRC_PIPELINE_SQLITE_DB_H_
#define LOTE_SRC_PIPELINE_SQLITE_DB_H_

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "lote/base/status.h"

namespace lote::pipeline {

class SqliteStmt {
 public:
  SqliteStmt() = default;
  SqliteStmt(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  ~SqliteStmt() { sqlite3_finalize(stmt_); }
  SqliteStmt(SqliteStmt&& o) noexcept : db_(o.db_), stmt_(o.stmt_) { o.stmt_ = nullptr; }
  SqliteStmt& operator=(SqliteStmt&& o) noexcept {
    std::swap(db_, o.db_);
    std::swap(stmt_, o.stmt_);
    return *this;
  }

  // Binds are 1-based, as in SQLite.
  SqliteStmt& Bind(int i, std::string_view v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  // Binds text the caller keeps alive and unchanged until the statement is stepped and reset
  // (no copy).
  SqliteStmt& BindStatic(int i, std::string_view v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
    return *this;
  }
  SqliteStmt& Bind(int i, const char* v) { return Bind(i, std::string_view(v)); }
  SqliteStmt& Bind(int i, const std::string& v) { return Bind(i, std::string_view(v)); }
  SqliteStmt& Bind(int i, int64_t v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  SqliteStmt& Bind(int i, uint64_t v) { return Bind(i, static_cast<int64_t>(v)); }
  SqliteStmt& Bind(int i, int v) { return Bind(i, static_cast<int64_t>(v)); }
  SqliteStmt& Bind(int i, double v) {
    sqlite3_bind_double(stmt_, i, v);
    return *this;
  }
  SqliteStmt& BindBlob(int i, const void* data, size_t n) {
    sqlite3_bind_blob(stmt_, i, data, static_cast<int>(n), SQLITE_TRANSIENT);
    return *this;
  }
  SqliteStmt& BindNull(int i) {
    sqlite3_bind_null(stmt_, i);
    return *this;
  }

  // Steps once: true with a row, false when done. Resets automatically when done or on error.
  Result<bool> Step() {
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    sqlite3_reset(stmt_);
    if (rc == SQLITE_DONE) {
      sqlite3_clear_bindings(stmt_);
      return false;
    }
    return ErrorFor(rc);
  }
  // Runs a statement that returns no rows.
  Status Run() {
    auto r = Step();
    if (!r.ok()) return r.status();
    if (*r) Reset();
    return Status::Ok();
  }
  void Reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }

  int64_t Int(int col) const { return sqlite3_column_int64(stmt_, col); }
  double Double(int col) const { return sqlite3_column_double(stmt_, col); }
  bool IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  std::string Text(int col) const {
    const unsigned char* p = sqlite3_column_text(stmt_, col);
    return p == nullptr ? std::string()
                        : std::string(reinterpret_cast<const char*>(p),
                                      static_cast<size_t>(sqlite3_column_bytes(stmt_, col)));
  }
  int ColumnCount() const { return sqlite3_column_count(stmt_); }
  std::string ColumnName(int col) const { return sqlite3_column_name(stmt_, col); }
  int ColumnType(int col) const { return sqlite3_column_type(stmt_, col); }

 private:
  Status ErrorFor(int rc) const {
    std::string msg = std::string("SQLite: ") + sqlite3_errmsg(db_);
    if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) return UnavailableError(msg);
    if (rc == SQLITE_FULL) return ResourceExhaustedError(msg);
    if (rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB) return DataLossError(msg);
    return InternalError(msg);
  }
  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
};

class SqliteDb {
 public:
  // Opens (creating unless read_only) the database at `path`. Errors: Unavailable / DataLoss.
  static Result<std::unique_ptr<SqliteDb>> Open(const std::string& path, bool read_only);
  ~SqliteDb() { sqlite3_close_v2(db_); }

  Status Exec(std::string_view sql);
  // InvalidArgument for SQL that does not compile (the message is SQLite's).
  Result<SqliteStmt> Prepare(std::string_view sql);
  int64_t Changes() const { return sqlite3_changes64(db_); }
  int64_t LastInsertId() const { return sqlite3_last_insert_rowid(db_); }
  sqlite3* raw() const { return db_; }

 private:
  explicit SqliteDb(sqlite3* db) : db_(db) {}
  sqlite3* db_;
};

}  // namespace lote::pipeline

#endif  // LOTE_SRC_PIPELINE_SQLITE_DB_H_
