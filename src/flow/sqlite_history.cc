// The SQLite HistoryStore (lote/flow/history.h): executions, their events and checkpoints in one
// local database file, written by the runner and read (or stopped) by other `lote flow` processes
// at the same time.
//
// Conventions as the pipeline's catalog (src/pipeline/sqlite_ledger.cc): WAL so readers never
// block the writer, a busy timeout so a second process waits for the write lock instead of
// failing, the schema version in PRAGMA user_version, and a file that is not ours refused with its
// name. Every write is one BEGIN IMMEDIATE transaction: in WAL mode a read transaction that later
// wants to write can fail with SQLITE_BUSY at once (its snapshot went stale), while IMMEDIATE takes
// the write lock up front and lets the busy handler wait for it.
#include <chrono>
#include <mutex>
#include <thread>

#include "flow/flow_internal.h"
#include "lote/base/clock.h"
#include "lote/flow/history.h"
#include "pipeline/sqlite_db.h"

namespace lote::flow {
namespace {

using pipeline::SqliteDb;
using pipeline::SqliteStmt;

// PRAGMA user_version of the files this code reads and writes. A file with another version is
// refused (naming it) rather than misread.
constexpr int kSchemaVersion = 1;
// history_meta's 'format' row: what marks the file as a lote history (a lote catalog or any other
// SQLite file has none).
constexpr std::string_view kSqliteFormat = "lote flow history";

constexpr std::string_view kSchema = R"sql(
CREATE TABLE history_meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE executions(
  name TEXT PRIMARY KEY, state_machine TEXT NOT NULL, definition TEXT NOT NULL,
  input TEXT NOT NULL, status TEXT NOT NULL, start_micros INTEGER NOT NULL,
  stop_micros INTEGER NOT NULL DEFAULT 0, output TEXT, error TEXT, cause TEXT,
  owner TEXT, lease_until INTEGER NOT NULL DEFAULT 0, stop_error TEXT, stop_cause TEXT);
CREATE INDEX executions_start ON executions(start_micros, name);
CREATE INDEX executions_status ON executions(status, start_micros, name);
CREATE TABLE events(
  execution TEXT NOT NULL, id INTEGER NOT NULL, previous_event_id INTEGER NOT NULL,
  timestamp INTEGER NOT NULL, type TEXT NOT NULL, details TEXT NOT NULL,
  PRIMARY KEY(execution, id)) WITHOUT ROWID;
CREATE TABLE checkpoints(
  execution TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
  PRIMARY KEY(execution, key)) WITHOUT ROWID;
)sql";

constexpr const char* kRecordColumns =
    "name, state_machine, definition, input, status, start_micros, stop_micros, output, error, "
    "cause";

// Json::dump throws on invalid UTF-8 by default; replace instead (a history must not fail on it).
int64_t ClampLimit(size_t limit) {
  return limit > static_cast<size_t>(INT64_MAX) ? INT64_MAX : static_cast<int64_t>(limit);
}

class SqliteHistory : public HistoryStore {
 public:
  SqliteHistory(std::unique_ptr<SqliteDb> db, std::string path)
      : db_(std::move(db)), path_(std::move(path)) {}

  Status PrepareStatements() {
    LOTE_ASSIGN_OR_RETURN(begin_, db_->Prepare("BEGIN IMMEDIATE"));
    LOTE_ASSIGN_OR_RETURN(commit_, db_->Prepare("COMMIT"));
    LOTE_ASSIGN_OR_RETURN(rollback_, db_->Prepare("ROLLBACK"));
    LOTE_ASSIGN_OR_RETURN(
        head_, db_->Prepare("SELECT status, owner, lease_until, (SELECT ifnull(max(id), 0) FROM "
                            "events WHERE execution = ?1) FROM executions WHERE name = ?1"));
    LOTE_ASSIGN_OR_RETURN(insert_event_,
                          db_->Prepare("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?)"));
    LOTE_ASSIGN_OR_RETURN(upsert_checkpoint_,
                          db_->Prepare("INSERT INTO checkpoints VALUES (?, ?, ?) ON "
                                       "CONFLICT(execution, key) DO UPDATE SET value = "
                                       "excluded.value"));
    LOTE_ASSIGN_OR_RETURN(
        create_, db_->Prepare("INSERT INTO executions(" + std::string(kRecordColumns) +
                              ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(name) DO "
                              "NOTHING"));
    LOTE_ASSIGN_OR_RETURN(get_, db_->Prepare("SELECT " + std::string(kRecordColumns) +
                                             " FROM executions WHERE name = ?"));
    LOTE_ASSIGN_OR_RETURN(list_all_, db_->Prepare("SELECT " + std::string(kRecordColumns) +
                                                  " FROM executions ORDER BY start_micros DESC, "
                                                  "name DESC LIMIT ?"));
    LOTE_ASSIGN_OR_RETURN(list_status_,
                          db_->Prepare("SELECT " + std::string(kRecordColumns) +
                                       " FROM executions WHERE status = ? ORDER BY start_micros "
                                       "DESC, name DESC LIMIT ?"));
    LOTE_ASSIGN_OR_RETURN(claim_, db_->Prepare("UPDATE executions SET owner = ?, lease_until = ? "
                                               "WHERE name = ?"));
    LOTE_ASSIGN_OR_RETURN(
        finish_, db_->Prepare("UPDATE executions SET status = ?, output = ?, error = ?, cause = ?, "
                              "stop_micros = ?, owner = NULL, lease_until = 0 WHERE name = ?"));
    LOTE_ASSIGN_OR_RETURN(request_stop_, db_->Prepare("UPDATE executions SET stop_error = ?, "
                                                      "stop_cause = ? WHERE name = ?"));
    LOTE_ASSIGN_OR_RETURN(stop_requested_,
                          db_->Prepare("SELECT status, stop_error, stop_cause FROM executions "
                                       "WHERE name = ?"));
    LOTE_ASSIGN_OR_RETURN(events_, db_->Prepare("SELECT id, previous_event_id, timestamp, type, "
                                                "details FROM events WHERE execution = ? AND id "
                                                "> ? ORDER BY id LIMIT ?"));
    LOTE_ASSIGN_OR_RETURN(checkpoints_, db_->Prepare("SELECT key, value FROM checkpoints WHERE "
                                                     "execution = ? ORDER BY key"));
    LOTE_ASSIGN_OR_RETURN(exists_, db_->Prepare("SELECT 1 FROM executions WHERE name = ?"));
    return Status::Ok();
  }

  Status Create(const ExecutionRecord& r) override {
    std::lock_guard<std::mutex> lock(mu_);
    create_.BindStatic(1, r.name).BindStatic(2, r.state_machine).BindStatic(3, r.definition);
    create_.BindStatic(4, r.input).Bind(5, ExecutionStatusName(r.status));
    create_.Bind(6, r.start_micros).Bind(7, r.stop_micros);
    BindOptional(create_, 8, r.output);
    BindError(create_, 9, r.error ? &*r.error : nullptr);
    LOTE_RETURN_IF_ERROR(Context(create_.Run()));
    if (db_->Changes() == 0) {
      return AlreadyExistsError("execution " + r.name + " already exists in " + path_);
    }
    return Status::Ok();
  }

  Result<ExecutionRecord> Get(const std::string& name) override {
    std::lock_guard<std::mutex> lock(mu_);
    get_.BindStatic(1, name);
    LOTE_ASSIGN_OR_RETURN(bool row, Context(get_.Step()));
    if (!row) return NotFound(name);
    Result<ExecutionRecord> r = ReadRecord(get_);
    get_.Reset();
    return r;
  }

  Result<std::vector<ExecutionRecord>> List(std::optional<ExecutionStatus> status,
                                            size_t limit) override {
    std::lock_guard<std::mutex> lock(mu_);
    SqliteStmt& s = status ? list_status_ : list_all_;
    if (status) {
      s.Bind(1, ExecutionStatusName(*status)).Bind(2, ClampLimit(limit));
    } else {
      s.Bind(1, ClampLimit(limit));
    }
    std::vector<ExecutionRecord> out;
    while (true) {
      LOTE_ASSIGN_OR_RETURN(bool row, Context(s.Step()));
      if (!row) break;
      Result<ExecutionRecord> r = ReadRecord(s);
      if (!r.ok()) {
        s.Reset();
        return r.status();
      }
      out.push_back(std::move(r).value());
    }
    return out;
  }

  Status Claim(const std::string& name, const std::string& owner, int64_t now_micros,
               int64_t lease_until_micros) override {
    std::lock_guard<std::mutex> lock(mu_);
    return InTransaction([&]() -> Status {
      LOTE_ASSIGN_OR_RETURN(Head h, ReadHead(name));
      LOTE_RETURN_IF_ERROR(CheckRunning(name, h.status));
      if (!h.owner.empty() && h.owner != owner && h.lease_until > now_micros) {
        return AbortedError("execution " + name + " is run by another process (lease until " +
                            FormatLease(h.lease_until) + ")");
      }
      claim_.BindStatic(1, owner).Bind(2, lease_until_micros).BindStatic(3, name);
      return claim_.Run();
    });
  }

  Result<std::string> Owner(const std::string& name) override {
    std::lock_guard<std::mutex> lock(mu_);
    std::string owner;
    Status s = InTransaction([&]() -> Status {
      LOTE_ASSIGN_OR_RETURN(Head h, ReadHead(name));
      owner = h.owner;
      return Status::Ok();
    });
    if (!s.ok()) return s;
    return owner;
  }

  Status TakeOver(const std::string& name, const std::string& dead_owner, const std::string& owner,
                  int64_t lease_until_micros) override {
    std::lock_guard<std::mutex> lock(mu_);
    return InTransaction([&]() -> Status {
      LOTE_ASSIGN_OR_RETURN(Head h, ReadHead(name));
      LOTE_RETURN_IF_ERROR(CheckRunning(name, h.status));
      if (h.owner != dead_owner) return AbortedError("execution " + name + " changed hands");
      claim_.BindStatic(1, owner).Bind(2, lease_until_micros).BindStatic(3, name);
      return claim_.Run();
    });
  }

  Status Append(const std::string& name, const std::string& owner,
                std::span<const HistoryEvent> events,
                std::span<const Checkpoint> checkpoints) override {
    std::lock_guard<std::mutex> lock(mu_);
    return InTransaction([&]() -> Status {
      LOTE_ASSIGN_OR_RETURN(Head h, ReadHead(name));
      if (h.owner.empty() || h.owner != owner) return LostLeaseError(name);
      LOTE_RETURN_IF_ERROR(CheckEventIds(name, h.last_event_id, events));
      std::string details;
      for (const HistoryEvent& ev : events) {
        details = DumpJson(ev.details);
        insert_event_.BindStatic(1, name).Bind(2, ev.id).Bind(3, ev.previous_event_id);
        insert_event_.Bind(4, ev.timestamp_micros).BindStatic(5, ev.type);
        insert_event_.BindStatic(6, details);
        LOTE_RETURN_IF_ERROR(insert_event_.Run());
      }
      std::string value;
      for (const Checkpoint& c : checkpoints) {
        value = DumpJson(c.value);
        upsert_checkpoint_.BindStatic(1, name).BindStatic(2, c.key).BindStatic(3, value);
        LOTE_RETURN_IF_ERROR(upsert_checkpoint_.Run());
      }
      return Status::Ok();
    });
  }

  Status Finish(const std::string& name, const std::string& owner, ExecutionStatus status,
                const std::optional<std::string>& output, const std::optional<StateError>& error,
                int64_t stop_micros) override {
    LOTE_RETURN_IF_ERROR(CheckFinalStatus(name, status));
    std::lock_guard<std::mutex> lock(mu_);
    return InTransaction([&]() -> Status {
      LOTE_ASSIGN_OR_RETURN(Head h, ReadHead(name));
      if (h.owner.empty() || h.owner != owner) return LostLeaseError(name);
      finish_.Bind(1, ExecutionStatusName(status));
      BindOptional(finish_, 2, output);
      BindError(finish_, 3, error ? &*error : nullptr);
      finish_.Bind(5, stop_micros).BindStatic(6, name);
      return finish_.Run();
    });
  }

  Result<std::vector<HistoryEvent>> Events(const std::string& name, int64_t after_id,
                                           size_t limit) override {
    std::lock_guard<std::mutex> lock(mu_);
    LOTE_RETURN_IF_ERROR(CheckExists(name));
    events_.BindStatic(1, name).Bind(2, after_id).Bind(3, ClampLimit(limit));
    std::vector<HistoryEvent> out;
    while (true) {
      LOTE_ASSIGN_OR_RETURN(bool row, Context(events_.Step()));
      if (!row) break;
      HistoryEvent ev;
      ev.id = events_.Int(0);
      ev.previous_event_id = events_.Int(1);
      ev.timestamp_micros = events_.Int(2);
      ev.type = events_.Text(3);
      Result<Json> details = ParseStored(events_.Text(4), "event " + std::to_string(ev.id));
      if (!details.ok()) {
        events_.Reset();
        return details.status();
      }
      ev.details = std::move(details).value();
      out.push_back(std::move(ev));
    }
    return out;
  }

  Result<std::vector<Checkpoint>> Checkpoints(const std::string& name) override {
    std::lock_guard<std::mutex> lock(mu_);
    LOTE_RETURN_IF_ERROR(CheckExists(name));
    checkpoints_.BindStatic(1, name);
    std::vector<Checkpoint> out;
    while (true) {
      LOTE_ASSIGN_OR_RETURN(bool row, Context(checkpoints_.Step()));
      if (!row) break;
      Checkpoint c;
      c.key = checkpoints_.Text(0);
      Result<Json> value = ParseStored(checkpoints_.Text(1), "checkpoint " + c.key);
      if (!value.ok()) {
        checkpoints_.Reset();
        return value.status();
      }
      c.value = std::move(value).value();
      out.push_back(std::move(c));
    }
    return out;
  }

  Status RequestStop(const std::string& name, const StateError& reason,
                     int64_t now_micros) override {
    std::lock_guard<std::mutex> lock(mu_);
    return InTransaction([&]() -> Status {
      LOTE_ASSIGN_OR_RETURN(Head h, ReadHead(name));
      LOTE_RETURN_IF_ERROR(CheckRunning(name, h.status));
      request_stop_.BindStatic(1, reason.error).BindStatic(2, reason.cause).BindStatic(3, name);
      LOTE_RETURN_IF_ERROR(request_stop_.Run());
      if (!h.owner.empty() && h.lease_until > now_micros) return Status::Ok();
      // No process runs it (never claimed, or its runner died and the lease ran out): end it here,
      // with the event a runner would have written last.
      const int64_t id = h.last_event_id + 1;
      const std::string details = DumpJson(Json::object(
          {{"executionAbortedEventDetails", {{"error", reason.error}, {"cause", reason.cause}}}}));
      insert_event_.BindStatic(1, name).Bind(2, id).Bind(3, id - 1).Bind(4, now_micros);
      insert_event_.Bind(5, "ExecutionAborted").BindStatic(6, details);
      LOTE_RETURN_IF_ERROR(insert_event_.Run());
      finish_.Bind(1, ExecutionStatusName(ExecutionStatus::kAborted)).BindNull(2);
      BindError(finish_, 3, &reason);
      finish_.Bind(5, now_micros).BindStatic(6, name);
      return finish_.Run();
    });
  }

  Result<std::optional<StateError>> StopRequested(const std::string& name) override {
    std::lock_guard<std::mutex> lock(mu_);
    stop_requested_.BindStatic(1, name);
    LOTE_ASSIGN_OR_RETURN(bool row, Context(stop_requested_.Step()));
    if (!row) return NotFound(name);
    std::optional<StateError> stop;
    if (stop_requested_.Text(0) == ExecutionStatusName(ExecutionStatus::kRunning) &&
        !stop_requested_.IsNull(1)) {
      stop = StateError{stop_requested_.Text(1), stop_requested_.Text(2)};
    }
    stop_requested_.Reset();
    return stop;
  }

 private:
  struct Head {
    std::string status;
    std::string owner;  // empty: nobody holds it
    int64_t lease_until = 0;
    int64_t last_event_id = 0;
  };

  // Runs `body` in one write transaction: COMMIT when it returns OK, else ROLLBACK (nothing it
  // did stays). Errors name the file.
  template <typename F>
  Status InTransaction(F&& body) {
    LOTE_RETURN_IF_ERROR(Context(begin_.Run()));
    Status s = body();
    if (s.ok()) s = commit_.Run();
    if (!s.ok()) {
      // A statement that failed was reset by SqliteStmt::Step; one a check returned before
      // stepping keeps its bindings until it is rebound (harmless).
      (void)rollback_.Run();
      return Context(s);
    }
    return s;
  }

  Result<Head> ReadHead(const std::string& name) {
    head_.BindStatic(1, name);
    LOTE_ASSIGN_OR_RETURN(bool row, head_.Step());
    if (!row) return NotFound(name);
    Head h;
    h.status = head_.Text(0);
    h.owner = head_.IsNull(1) ? std::string() : head_.Text(1);
    h.lease_until = head_.Int(2);
    h.last_event_id = head_.Int(3);
    head_.Reset();
    return h;
  }

  Status CheckExists(const std::string& name) {
    exists_.BindStatic(1, name);
    LOTE_ASSIGN_OR_RETURN(bool row, Context(exists_.Step()));
    if (!row) return NotFound(name);
    exists_.Reset();
    return Status::Ok();
  }

  Result<ExecutionRecord> ReadRecord(const SqliteStmt& s) {
    ExecutionRecord r;
    r.name = s.Text(0);
    r.state_machine = s.Text(1);
    r.definition = s.Text(2);
    r.input = s.Text(3);
    std::optional<ExecutionStatus> status = ParseExecutionStatus(s.Text(4));
    if (!status) {
      return DataLossError(path_ + ": execution " + r.name + " has an unknown status '" +
                           s.Text(4) + "'");
    }
    r.status = *status;
    r.start_micros = s.Int(5);
    r.stop_micros = s.Int(6);
    if (!s.IsNull(7)) r.output = s.Text(7);
    if (!s.IsNull(8)) r.error = StateError{s.Text(8), s.Text(9)};
    return r;
  }

  Result<Json> ParseStored(const std::string& text, const std::string& what) {
    Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) return DataLossError(path_ + ": " + what + " is not valid JSON");
    return j;
  }

  static void BindOptional(SqliteStmt& s, int i, const std::optional<std::string>& v) {
    if (v) {
      s.BindStatic(i, *v);
    } else {
      s.BindNull(i);
    }
  }
  // Binds error at i and cause at i + 1 (no copy: `e` must outlive the step).
  static void BindError(SqliteStmt& s, int i, const StateError* e) {
    if (e != nullptr) {
      s.BindStatic(i, e->error).BindStatic(i + 1, e->cause);
    } else {
      s.BindNull(i).BindNull(i + 1);
    }
  }

  Status NotFound(const std::string& name) const {
    return NotFoundError("no execution named " + name + " in " + path_);
  }
  static std::string FormatLease(int64_t micros) { return FormatTimestampMillis(micros); }

  // SQLite's own errors get the file's name; ours already name the execution and the file.
  Status Context(Status s) const {
    return s.message().starts_with("SQL") ? s.WithContext(path_) : s;
  }
  template <typename T>
  Result<T> Context(Result<T> r) const {
    if (r.ok()) return r;
    return Context(r.status());
  }

  std::mutex mu_;  // guards db_ and every statement
  std::unique_ptr<SqliteDb> db_;
  std::string path_;
  SqliteStmt begin_, commit_, rollback_, head_, insert_event_, upsert_checkpoint_, create_, get_,
      list_all_, list_status_, claim_, finish_, request_stop_, stop_requested_, events_,
      checkpoints_, exists_;
};

struct FileState {
  bool empty = false;   // no tables and no version: a new file
  bool ours = false;    // has history_meta with our format
  int64_t version = 0;  // PRAGMA user_version
};

Result<FileState> ReadFileState(SqliteDb& db) {
  FileState st;
  LOTE_ASSIGN_OR_RETURN(auto version, db.Prepare("PRAGMA user_version"));
  LOTE_ASSIGN_OR_RETURN(bool has_version, version.Step());
  st.version = has_version ? version.Int(0) : 0;
  version.Reset();
  LOTE_ASSIGN_OR_RETURN(auto tables, db.Prepare("SELECT count(*), count(*) FILTER (WHERE name = "
                                                "'history_meta') FROM sqlite_master"));
  LOTE_ASSIGN_OR_RETURN(bool has_count, tables.Step());
  const int64_t n = has_count ? tables.Int(0) : 0;
  const bool has_meta = has_count && tables.Int(1) > 0;
  tables.Reset();
  st.empty = n == 0 && st.version == 0;
  if (has_meta) {
    LOTE_ASSIGN_OR_RETURN(auto sel,
                          db.Prepare("SELECT value FROM history_meta WHERE key = 'format'"));
    LOTE_ASSIGN_OR_RETURN(bool row, sel.Step());
    st.ours = row && sel.Text(0) == kSqliteFormat;
    sel.Reset();
  }
  return st;
}

Status CheckFileState(const FileState& st, const std::string& path) {
  if (st.empty) return Status::Ok();
  if (!st.ours) {
    return FailedPreconditionError(path +
                                   " is not a lote flow history database (an SQLite file without "
                                   "lote's history tables); give the history its own file");
  }
  if (st.version != kSchemaVersion) {
    return FailedPreconditionError("flow history " + path + " has schema version " +
                                   std::to_string(st.version) + "; this lote reads and writes " +
                                   "version " + std::to_string(kSchemaVersion));
  }
  return Status::Ok();
}

// A file SQLite cannot read at all (SQLITE_NOTADB: not a database, or encrypted) is refused with
// its name rather than SQLite's bare "file is not a database".
Status NotOurs(const Status& s, SqliteDb& db, const std::string& path) {
  const int code = sqlite3_errcode(db.raw());
  if (code == SQLITE_NOTADB || code == SQLITE_CORRUPT) {
    return DataLossError(path + " is not a lote flow history database (" + s.message() + ")");
  }
  return s.WithContext(path);
}

}  // namespace

Result<std::unique_ptr<HistoryStore>> OpenSqliteHistory(const std::string& path,
                                                        const SqliteHistoryOptions& options) {
  LOTE_ASSIGN_OR_RETURN(auto db, SqliteDb::Open(path, /*read_only=*/false));
  // Read-only look first: a file that is not ours is refused before anything (even the journal
  // mode, which is stored in the file) is changed in it.
  // One read transaction: the version and the tables are seen at the same instant, even while
  // another process is creating the schema.
  Status begun = db->Exec("BEGIN");
  if (!begun.ok()) return NotOurs(begun, *db, path);
  Result<FileState> state = ReadFileState(*db);
  if (!state.ok()) {
    Status refused = NotOurs(state.status(), *db, path);  // before ROLLBACK resets the error code
    (void)db->Exec("ROLLBACK");
    return refused;
  }
  (void)db->Exec("COMMIT");
  LOTE_RETURN_IF_ERROR(CheckFileState(*state, path));
  // WAL: `lote flow history` and `lote flow stop` read and write while a run appends. FULL syncs
  // the WAL at every commit; NORMAL only at checkpoints (a commit survives kill -9, maybe not a
  // power cut). A checkpoint costs two fsyncs, and with SQLite's default (every 1000 pages, a few
  // hundred Appends) those dominated Append's time: checkpoint every 16384 pages (64 MiB) instead,
  // and truncate the WAL back to that size after.
  // Switching a new file to WAL needs it to itself: SQLite does not wait for that (no busy
  // handler), so processes opening a new file together retry for up to about two seconds.
  Status pragmas;
  for (int attempt = 0; attempt < 100; ++attempt) {
    pragmas = db->Exec(std::string("PRAGMA journal_mode=WAL; PRAGMA synchronous=") +
                       (options.sync_every_append ? "FULL" : "NORMAL") +
                       "; PRAGMA wal_autocheckpoint=16384; PRAGMA journal_size_limit=67108864;");
    const int code = sqlite3_errcode(db->raw()) & 0xff;
    if (pragmas.ok() || (code != SQLITE_BUSY && code != SQLITE_LOCKED)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (!pragmas.ok()) return NotOurs(pragmas, *db, path);
  if (state->empty) {
    // Schema, version and format mark in one transaction: a crash leaves all or nothing, and of
    // two processes creating the file at once the second sees the first's schema and uses it.
    LOTE_RETURN_IF_ERROR(db->Exec("BEGIN IMMEDIATE").WithContext(path));
    Status created = [&]() -> Status {
      LOTE_ASSIGN_OR_RETURN(FileState now, ReadFileState(*db));
      LOTE_RETURN_IF_ERROR(CheckFileState(now, path));
      if (now.empty) {
        LOTE_RETURN_IF_ERROR(db->Exec(kSchema));
        LOTE_RETURN_IF_ERROR(db->Exec("PRAGMA user_version=" + std::to_string(kSchemaVersion)));
        LOTE_ASSIGN_OR_RETURN(auto ins,
                              db->Prepare("INSERT INTO history_meta VALUES ('format', ?)"));
        ins.Bind(1, kSqliteFormat);
        LOTE_RETURN_IF_ERROR(ins.Run());
      }
      return db->Exec("COMMIT");
    }();
    if (!created.ok()) {
      (void)db->Exec("ROLLBACK");
      return created.code() == StatusCode::kFailedPrecondition ? created
                                                               : created.WithContext(path);
    }
  }
  auto store = std::make_unique<SqliteHistory>(std::move(db), path);
  LOTE_RETURN_IF_ERROR(store->PrepareStatements().WithContext(path));
  return std::unique_ptr<HistoryStore>(std::move(store));
}

}  // namespace lote::flow
