#include "pipeline/sqlite_db.h"

namespace lote::pipeline {

Result<std::unique_ptr<SqliteDb>> SqliteDb::Open(const std::string& path, bool read_only) {
  sqlite3* db = nullptr;
  int flags = read_only ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  int rc = sqlite3_open_v2(path.c_str(), &db, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = "cannot open SQLite database " + path + ": " +
                      (db != nullptr ? sqlite3_errmsg(db) : "out of memory");
    sqlite3_close_v2(db);
    if (rc == SQLITE_CANTOPEN) return NotFoundError(msg);
    return UnavailableError(msg);
  }
  // Another process (lote query) may hold a read transaction: wait a while before giving up.
  sqlite3_busy_timeout(db, 10000);
  return std::unique_ptr<SqliteDb>(new SqliteDb(db));
}

Status SqliteDb::Exec(std::string_view sql) {
  char* err = nullptr;
  std::string text(sql);
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &err);
  if (rc == SQLITE_OK) return Status::Ok();
  std::string msg = std::string("SQLite: ") + (err != nullptr ? err : sqlite3_errstr(rc));
  sqlite3_free(err);
  if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) return UnavailableError(msg);
  if (rc == SQLITE_FULL) return ResourceExhaustedError(msg);
  if (rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB) return DataLossError(msg);
  if (rc == SQLITE_ERROR) return InvalidArgumentError(msg);
  return InternalError(msg);
}

Result<SqliteStmt> SqliteDb::Prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr);
  if (rc != SQLITE_OK) {
    return InvalidArgumentError(std::string("SQL: ") + sqlite3_errmsg(db_));
  }
  if (stmt == nullptr) return InvalidArgumentError("SQL: empty statement");
  return SqliteStmt(db_, stmt);
}

}  // namespace lote::pipeline
