// `lote query` must only read, whatever the SQL: every way SQLite offers to write, create, attach
// or change the connection is tried on a real catalog, and each must be refused with nothing
// changed (the catalog's files byte for byte, no new file where ATTACH or VACUUM INTO point, no
// temp table, no open transaction, no changed pragma). Plus the bounds and the reads that must
// keep working.
#include "pipeline/read_only_query.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "lote/base/digest.h"
#include "lote/pipeline/catalog.h"
#include "lote/pipeline/pipeline.h"
#include "lote/storage/storage.h"
#include "pipeline/fake_engine.h"
#include "pipeline/sqlite_db.h"

namespace lote::pipeline {
namespace {

namespace fs = std::filesystem;

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Every file of a folder with the SHA-256 of its bytes. The -shm file is SQLite's shared-memory
// index, where every reader, as its job, records what it reads: only its presence counts.
std::map<std::string, std::string> Snapshot(const std::string& dir) {
  std::map<std::string, std::string> files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    const bool shm = name.size() > 4 && name.substr(name.size() - 4) == "-shm";
    files[name] = shm ? "" : Sha256Hex(ReadFile(entry.path()));
  }
  return files;
}

// What a trusted connection reports, to check that a refused statement changed no setting.
std::string TrustedScalar(sqlite3* db, const std::string& sql) {
  sqlite3_stmt* stmt = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK) << sql;
  std::string out;
  if (sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_text(stmt, 0) != nullptr) {
    out = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
  }
  sqlite3_finalize(stmt);
  return out;
}

class ReadOnlyQueryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static std::atomic<int> counter{0};
    root_ =
        (fs::temp_directory_path() / ("lote_read_only_query_test_" + std::to_string(::getpid()) +
                                      "_" + std::to_string(counter++)))
            .string();
    catalog_dir_ = root_ + "/catalog";
    targets_ = root_ + "/targets";
    fs::create_directories(catalog_dir_);
    fs::create_directories(targets_);
    auto mem = storage::NewMemStorage();
    ASSERT_TRUE(mem->Write("mem://t/in/a.jsonl",
                           "{\"id\":\"m1\",\"text\":\"quiero pagar la cuenta 12345678\"}\n"
                           "{\"id\":\"m2\",\"text\":\"bloquear tarjeta\"}\n"
                           "not json\n")
                    .ok());
    PipelineOptions o;
    o.input_uri = "mem://t/in";
    o.output_uri = "mem://t/out";
    o.catalog_path = catalog_ = catalog_dir_ + "/lote.db";
    o.input_storage = mem;
    o.output_storage = mem;
    auto report = RunPipeline(o, std::make_shared<testing::FakeInferenceEngine>());
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    run_id_ = report->run_id;
    // A first read creates SQLite's -wal and -shm files if they are missing: part of reading.
    ASSERT_TRUE(QueryCatalog(catalog_, "SELECT count(*) FROM results").ok());
    before_ = Snapshot(catalog_dir_);
    ASSERT_TRUE(before_.count("lote.db"));
  }
  void TearDown() override { fs::remove_all(root_); }

  // `sql` with TARGETS replaced by the folder where writes must not land.
  std::string Sql(std::string sql) const {
    for (size_t at; (at = sql.find("TARGETS")) != std::string::npos;) {
      sql.replace(at, 7, targets_);
    }
    return sql;
  }
  void ExpectNothingChanged() const {
    EXPECT_EQ(Snapshot(catalog_dir_), before_) << "the catalog's files changed";
    EXPECT_TRUE(fs::is_empty(targets_)) << "a file appeared where a statement pointed";
  }

  std::string root_, catalog_dir_, catalog_, targets_, run_id_;
  std::map<std::string, std::string> before_;
};

struct Hostile {
  std::string sql;
  std::string refusal;             // a part of the error message
  bool refused_by_sqlite = false;  // SQLite's own error, before any guard of ours
};

// Each statement tries to write, create, attach or change state in a way SQLite offers.
const std::vector<Hostile>& HostileStatements() {
  static const auto* statements = new std::vector<Hostile>{
      // Data changes, also inside WITH, with RETURNING, as an upsert, or under EXPLAIN.
      {"INSERT INTO runs(run_id, run_key, state) VALUES ('x', 'k', 'done')", "INSERT into 'runs'"},
      {"REPLACE INTO runs(run_id, run_key, state) VALUES ('x', 'k', 'done')", "INSERT into 'runs'"},
      {"INSERT INTO runs(run_id, run_key, state) VALUES ('x', 'k', 'done') "
       "ON CONFLICT(run_id) DO UPDATE SET state = 'x'",
       "INSERT into 'runs'"},
      {"UPDATE runs SET state = 'failed'", "UPDATE of 'runs'"},
      {"DELETE FROM runs", "DELETE from 'runs'"},
      {"DELETE FROM runs RETURNING *", "DELETE from 'runs'"},
      {"WITH x AS (SELECT 1) INSERT INTO runs(run_id, run_key, state) SELECT 'a', 'b', 'c' FROM x",
       "INSERT into 'runs'"},
      {"WITH x AS (SELECT run_id FROM runs) DELETE FROM runs WHERE run_id IN x",
       "DELETE from 'runs'"},
      {"WITH x AS (SELECT 1) UPDATE result_rows SET label = 'x'", "UPDATE of 'result_rows'"},
      {"EXPLAIN DELETE FROM runs", "DELETE from 'runs'"},
      {"INSERT INTO sqlite_master VALUES ('table', 't', 't', 0, 'CREATE TABLE t(x)')",
       "creating a table"},
      // SQLite refuses this itself (defensive mode, no writable_schema) before the authorizer.
      {"UPDATE sqlite_master SET sql = 'x'", "table sqlite_master may not be modified", true},
      // Schema changes, in the catalog and in the temp database.
      {"CREATE TABLE t(x)", "creating a table, view, index or trigger in the catalog"},
      {"CREATE TABLE t AS SELECT * FROM runs", "creating a table"},
      {"CREATE TEMP TABLE t(x)", "creating a temp table, view, index or trigger"},
      {"CREATE TEMP TABLE t AS SELECT * FROM runs", "creating a temp table"},
      {"CREATE TABLE temp.t(x)", "creating a temp table"},
      {"CREATE VIEW v AS SELECT 1", "creating a table"},
      {"CREATE TEMP VIEW v AS SELECT * FROM results", "creating a temp table"},
      {"CREATE TRIGGER tr AFTER INSERT ON runs BEGIN DELETE FROM runs; END", "CREATE TRIGGER 'tr'"},
      {"CREATE TEMP TRIGGER tr AFTER INSERT ON runs BEGIN SELECT 1; END",
       "CREATE TEMP TRIGGER 'tr'"},
      {"CREATE INDEX i ON runs(state)", "creating a table"},
      {"CREATE VIRTUAL TABLE temp.f USING fts5(x)", "creating a temp table"},
      {"CREATE VIRTUAL TABLE temp.r USING rtree(id, a, b)", "creating a temp table"},
      {"DROP TABLE runs", "dropping a table, view, index or trigger"},
      {"DROP VIEW results", "dropping a table"},
      {"DROP INDEX runs_key", "dropping a table"},
      {"ALTER TABLE runs ADD COLUMN x", "ALTER TABLE 'runs'"},
      {"ALTER TABLE runs RENAME TO r", "ALTER TABLE 'runs'"},
      // Other files: ATTACH (a URI can ask for read-write-create) and VACUUM INTO.
      {"ATTACH 'file:TARGETS/a.db?mode=rwc' AS x", "ATTACH 'file:"},
      {"ATTACH 'TARGETS/b.db' AS x", "ATTACH"},
      {"ATTACH ':memory:' AS m", "ATTACH"},
      {"DETACH x", "DETACH"},
      {"VACUUM INTO 'TARGETS/c.db'", "a statement that writes"},
      {"VACUUM main INTO 'file:TARGETS/d.db?mode=rwc'", "a statement that writes"},
      {"VACUUM", "a statement that writes"},
      // Compiles to nothing (the temp database is never vacuumed): caught as a statement without
      // columns.
      {"VACUUM temp", "a statement that returns no columns"},
      // Transactions, savepoints, maintenance.
      {"BEGIN", "a transaction (BEGIN)"},
      {"BEGIN EXCLUSIVE", "a transaction (BEGIN)"},
      {"COMMIT", "a transaction (COMMIT)"},
      {"ROLLBACK", "a transaction (ROLLBACK)"},
      {"SAVEPOINT s", "a savepoint"},
      {"RELEASE s", "a savepoint"},
      // ANALYZE first creates sqlite_stat1, which is what is refused.
      {"ANALYZE", "creating a table"},
      {"ANALYZE runs", "creating a table"},
      {"REINDEX", "REINDEX"},
      {"REINDEX runs", "REINDEX"},
      // Pragmas that write or change the connection, also as table-valued functions.
      {"PRAGMA journal_mode = DELETE", "PRAGMA 'journal_mode'"},
      {"PRAGMA journal_mode", "PRAGMA 'journal_mode'"},
      {"PRAGMA writable_schema = ON", "PRAGMA 'writable_schema'"},
      {"PRAGMA temp_store_directory = 'TARGETS'", "PRAGMA 'temp_store_directory'"},
      {"PRAGMA temp_store = FILE", "PRAGMA 'temp_store'"},
      {"PRAGMA user_version = 99", "PRAGMA 'user_version'"},
      {"PRAGMA query_only = OFF", "PRAGMA 'query_only'"},
      {"PRAGMA trusted_schema = ON", "PRAGMA 'trusted_schema'"},
      {"PRAGMA cell_size_check = ON", "PRAGMA 'cell_size_check'"},
      {"PRAGMA wal_checkpoint(TRUNCATE)", "PRAGMA 'wal_checkpoint'"},
      {"PRAGMA optimize", "PRAGMA 'optimize'"},
      {"PRAGMA incremental_vacuum", "PRAGMA 'incremental_vacuum'"},
      {"PRAGMA locking_mode = EXCLUSIVE", "PRAGMA 'locking_mode'"},
      {"PRAGMA main.cache_size = 1", "PRAGMA 'cache_size'"},
      {"PRAGMA integrity_check", "PRAGMA 'integrity_check'"},
      {"SELECT * FROM pragma_journal_mode", "a table-valued function other than json_each"},
      {"SELECT * FROM pragma_writable_schema", "a table-valued function other than json_each"},
      {"SELECT * FROM pragma_database_list", "a table-valued function other than json_each"},
      // Table-valued functions other than the allowed ones, and functions with side effects.
      {"SELECT * FROM dbstat", "a table-valued function other than json_each"},
      {"SELECT * FROM sqlite_stmt", "a table-valued function other than json_each"},
      {"SELECT load_extension('TARGETS/evil')", "the function load_extension()"},
      {"SELECT fts3_tokenizer('simple')", "the function fts3_tokenizer()"},
      {"SELECT sqlite_log(1, 'forged')", "the function sqlite_log()"},
      {"SELECT sqlite_compileoption_get(0)", "the function sqlite_compileoption_get()"},
      {"SELECT record_id FROM results WHERE load_extension('x') IS NULL",
       "the function load_extension()"},
      {"SELECT changes()", "the function changes()"},
  };
  return *statements;
}

TEST_F(ReadOnlyQueryTest, EveryWayToWriteIsRefusedAndNothingChanges) {
  for (const Hostile& h : HostileStatements()) {
    const std::string sql = Sql(h.sql);
    SCOPED_TRACE(sql);
    auto r = QueryCatalog(catalog_, sql);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << r.status().ToString();
    EXPECT_EQ(r.status().message().find("query refused: "),
              h.refused_by_sqlite ? std::string::npos : 0)
        << r.status().message();
    EXPECT_NE(r.status().message().find(Sql(h.refusal)), std::string::npos) << r.status().message();
    ExpectNothingChanged();
  }
}

TEST_F(ReadOnlyQueryTest, RefusedStatementsLeaveTheConnectionAsItWas) {
  // One connection for all: a temp table, an attached file, an open transaction or a changed
  // pragma would be visible to the next statement.
  auto db = SqliteDb::Open(catalog_, /*read_only=*/true);
  ASSERT_TRUE(db.ok());
  sqlite3* raw = (*db)->raw();
  const std::string journal_mode = TrustedScalar(raw, "PRAGMA journal_mode");
  ASSERT_EQ(journal_mode, "wal");
  const std::string user_version = TrustedScalar(raw, "PRAGMA user_version");
  for (const Hostile& h : HostileStatements()) {
    const std::string sql = Sql(h.sql);
    SCOPED_TRACE(sql);
    auto r = RunReadOnlyQuery(**db, sql, QueryOptions());
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << r.status().ToString();
    EXPECT_EQ(TrustedScalar(raw, "SELECT count(*) FROM temp.sqlite_master"), "0");
    EXPECT_EQ(sqlite3_db_filename(raw, "x"), nullptr);
    EXPECT_EQ(sqlite3_db_filename(raw, "m"), nullptr);
    EXPECT_EQ(sqlite3_get_autocommit(raw), 1) << "a transaction is open";
    EXPECT_EQ(TrustedScalar(raw, "PRAGMA journal_mode"), journal_mode);
    EXPECT_EQ(TrustedScalar(raw, "PRAGMA writable_schema"), "0");
    EXPECT_EQ(TrustedScalar(raw, "PRAGMA query_only"), "0");
    EXPECT_EQ(TrustedScalar(raw, "PRAGMA temp_store_directory"), "");
    EXPECT_EQ(TrustedScalar(raw, "PRAGMA temp_store"), "0");
    EXPECT_EQ(TrustedScalar(raw, "PRAGMA user_version"), user_version);
    // Reads still work on the same connection after a refusal.
    auto ok = RunReadOnlyQuery(**db, "SELECT count(*) FROM runs", QueryOptions());
    ASSERT_TRUE(ok.ok()) << ok.status().ToString();
    EXPECT_EQ(ok->rows[0][0].text, "1");
  }
  ExpectNothingChanged();
}

TEST_F(ReadOnlyQueryTest, OnlyOneStatementRuns) {
  for (const std::string sql :
       {"SELECT 1; DROP TABLE runs", "SELECT 1; SELECT 2", "SELECT 1;;\n-- c\nSELECT 2",
        "SELECT 1 /* c */; ATTACH 'TARGETS/x.db' AS x", "SELECT 1; garbage",
        "SELECT 1; /* c */ x"}) {
    SCOPED_TRACE(sql);
    auto r = QueryCatalog(catalog_, Sql(sql));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find("runs one statement"), std::string::npos)
        << r.status().message();
    ExpectNothingChanged();
  }
  // SQLite reads up to a NUL byte; what follows must not go unseen.
  auto nul = QueryCatalog(catalog_, std::string("SELECT 1\0; DROP TABLE runs", 26));
  ASSERT_FALSE(nul.ok());
  EXPECT_NE(nul.status().message().find("NUL byte"), std::string::npos);
  // What SQLite skips after the statement is fine.
  for (const std::string sql :
       {"SELECT 1;", "SELECT 1 ;  \n\t; ", "SELECT 1; -- done", "SELECT 1 -- no newline",
        "SELECT 1; /* done */ ;", "SELECT 1 /* unterminated", "\n  SELECT 1\n"}) {
    SCOPED_TRACE(sql);
    auto r = QueryCatalog(catalog_, sql);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->rows.size(), 1u);
  }
  EXPECT_EQ(QueryCatalog(catalog_, " -- nothing").status().message(), "SQL: empty statement");
}

TEST_F(ReadOnlyQueryTest, RunawayRecursiveQueryIsStoppedByTheTimeBudget) {
  QueryOptions o;
  o.time_budget = std::chrono::milliseconds(200);
  auto r = QueryCatalog(
      catalog_,
      "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n) SELECT count(*) "
      "FROM n",
      o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(),
            "query stopped: it ran longer than its time budget of 200 ms; add a LIMIT or a "
            "narrower WHERE");
  ExpectNothingChanged();
}

TEST_F(ReadOnlyQueryTest, ResultsBeyondTheBoundsAreRefusedSuggestingLimit) {
  const std::string numbers =
      "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 11) "
      "SELECT x, printf('%.*c', 100, 'x') FROM n";
  QueryOptions o;
  o.max_rows = 10;
  auto rows = QueryCatalog(catalog_, numbers, o);
  ASSERT_FALSE(rows.ok());
  EXPECT_EQ(rows.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(rows.status().message(),
            "query refused: the result has more than 10 rows, the most lote query holds in "
            "memory; add a LIMIT or aggregate");
  auto limited = QueryCatalog(catalog_, numbers + " LIMIT 10", o);
  ASSERT_TRUE(limited.ok()) << limited.status().ToString();
  EXPECT_EQ(limited->rows.size(), 10u);

  o = QueryOptions();
  o.max_result_bytes = 1000;  // 11 rows of 100 bytes (and overhead) do not fit
  auto bytes = QueryCatalog(catalog_, numbers, o);
  ASSERT_FALSE(bytes.ok());
  EXPECT_EQ(bytes.status().message(),
            "query refused: the result is larger than 1000 bytes, the most lote query holds in "
            "memory; add a LIMIT, select fewer columns or aggregate");

  // One value too large to build, even if the result would hold only its length.
  auto value = QueryCatalog(catalog_, "SELECT length(zeroblob(40000000))");
  ASSERT_FALSE(value.ok());
  EXPECT_EQ(value.status().message(),
            "query refused: a value would be larger than 32 MiB, the most a query may read or "
            "build");
  ExpectNothingChanged();
}

TEST_F(ReadOnlyQueryTest, ParserLimitsRefuseOversizedSql) {
  QueryOptions o;
  o.max_sql_bytes = 100;
  auto long_sql = QueryCatalog(catalog_, "SELECT '" + std::string(200, 'x') + "'", o);
  ASSERT_FALSE(long_sql.ok());
  EXPECT_EQ(long_sql.status().message(),
            "query refused: the SQL is 209 bytes long, more than the 100 allowed");

  std::string deep = "SELECT 1";
  for (int i = 0; i < 300; ++i) deep += " + 1";
  auto depth = QueryCatalog(catalog_, deep);
  ASSERT_FALSE(depth.ok());
  EXPECT_EQ(depth.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(depth.status().message().find("too large (maximum depth 200)"), std::string::npos)
      << depth.status().message();

  std::string compound = "SELECT 1";
  for (int i = 0; i < 120; ++i) compound += " UNION ALL SELECT 1";
  auto terms = QueryCatalog(catalog_, compound);
  ASSERT_FALSE(terms.ok());
  EXPECT_NE(terms.status().message().find("too many terms in compound SELECT"), std::string::npos)
      << terms.status().message();

  auto like = QueryCatalog(catalog_, "SELECT 'x' LIKE '" + std::string(1001, '%') + "'");
  ASSERT_FALSE(like.ok());
  EXPECT_NE(like.status().message().find("pattern too complex"), std::string::npos)
      << like.status().message();
  ExpectNothingChanged();
}

TEST_F(ReadOnlyQueryTest, BadOptionsAreRefused) {
  QueryOptions o;
  o.time_budget = std::chrono::milliseconds(0);
  EXPECT_EQ(QueryCatalog(catalog_, "SELECT 1", o).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(ReadOnlyQueryTest, OrdinaryReadsStillWork) {
  auto scalar = [&](const std::string& sql) {
    auto r = QueryCatalog(catalog_, sql);
    EXPECT_TRUE(r.ok()) << sql << ": " << r.status().ToString();
    return r.ok() && !r->rows.empty() ? r->rows[0][0].text : std::string("<error>");
  };
  EXPECT_EQ(scalar("SELECT group_concat(record_id || '=' || label, ' ') FROM "
                   "(SELECT * FROM results ORDER BY record_id)"),
            "m1=pago m2=bloqueo");
  EXPECT_EQ(scalar("SELECT count(*) FROM results_history"), "2");
  EXPECT_EQ(scalar("SELECT type || ':' || start || '-' || \"end\" FROM entities"),
            "NUMERO_CUENTA:23-31");
  EXPECT_EQ(scalar("SELECT stage FROM quarantine"), "ingest");
  EXPECT_EQ(
      scalar("SELECT state || ' ' || records_in || ' ' || (run_id = '" + run_id_ + "') FROM runs"),
      "succeeded 3 1");
  EXPECT_EQ(scalar("WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 5) "
                   "SELECT sum(x) FROM n"),
            "15");
  EXPECT_EQ(scalar("SELECT json_group_array(label) FROM (SELECT label FROM results ORDER BY 1)"),
            "[\"bloqueo\",\"pago\"]");
  EXPECT_EQ(scalar("SELECT json_extract(top_k, '$[0].label') || ' ' || (top_k ->> '$[1].label') "
                   "FROM results WHERE record_id = 'm1'"),
            "pago otro");
  EXPECT_EQ(scalar("SELECT count(*) FROM results r, json_each(r.top_k)"), "4");
  EXPECT_EQ(scalar("SELECT count(*) FROM json_tree('{\"a\":[1,2]}')"), "4");
  EXPECT_EQ(scalar("SELECT label || ' ' || row_number() OVER (ORDER BY label) FROM results "
                   "ORDER BY label DESC LIMIT 1"),
            "pago 2");
  EXPECT_EQ(scalar("SELECT round(avg(score), 2) || ' ' || count(*) FROM results"), "0.9 2");
  EXPECT_EQ(scalar("SELECT count(*) FROM results WHERE dt = date(processed_at)"), "2");
  EXPECT_EQ(scalar("SELECT upper(substr(coalesce(NULL, 'señor'), 1, 3)) || iif(1, '!', '?')"),
            "SEñ!");  // SQLite's upper() folds ASCII only
  // The schema, for a dashboard to list tables and columns.
  EXPECT_EQ(scalar("SELECT count(*) FROM sqlite_master WHERE type = 'view' AND name IN "
                   "('results', 'results_history', 'entities', 'quarantine')"),
            "4");
  EXPECT_EQ(scalar("SELECT group_concat(name) FROM pragma_table_info('runs') WHERE pk"), "run_id");
  EXPECT_EQ(scalar("PRAGMA table_info(runs)"), "0");
  EXPECT_EQ(scalar("SELECT count(*) > 0 FROM pragma_table_list"), "1");
  EXPECT_EQ(scalar("EXPLAIN QUERY PLAN SELECT * FROM runs WHERE run_id = 'x'") != "<error>", true);
  ExpectNothingChanged();
}

TEST_F(ReadOnlyQueryTest, ACatalogViewCannotCallWhatAQueryCannot) {
  // Someone who could write the catalog file adds a view calling a refused function: the
  // authorizer sees functions inside views too, so reading the view is refused.
  {
    auto db = SqliteDb::Open(catalog_, /*read_only=*/false);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->Exec("CREATE VIEW planted AS SELECT sqlite_log(1, 'x') AS y").ok());
  }
  ASSERT_TRUE(QueryCatalog(catalog_, "SELECT 1").ok());  // recreates -wal and -shm
  before_ = Snapshot(catalog_dir_);
  auto r = QueryCatalog(catalog_, "SELECT * FROM planted");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "query refused: the function sqlite_log() is not allowed (lote query runs one "
            "read-only SELECT)");
  // The other views still work.
  auto ok = QueryCatalog(catalog_, "SELECT count(*) FROM entities");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->rows[0][0].text, "1");
  ExpectNothingChanged();
}

}  // namespace
}  // namespace lote::pipeline
