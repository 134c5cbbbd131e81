// The HistoryStore contract (lote/flow/history.h), run against the in-memory, the SQLite and the
// object-store history (over mem://), then what only the SQLite store has: two handles on one
// file, refusing foreign files, reopening (the object store's own: object_store_history_test.cc).
#include "lote/flow/history.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "flow/history_test_util.h"

namespace lote::flow {
namespace {

using testing::Ids;
using testing::Record;

// A fresh directory per test, removed at the end.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "lote_history_XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

struct MemoryStoreFactory {
  std::unique_ptr<HistoryStore> Make(const TempDir&) { return NewMemoryHistory(); }
};

struct SqliteStoreFactory {
  std::unique_ptr<HistoryStore> Make(const TempDir& dir) {
    auto store = OpenSqliteHistory(dir.File("history.db"));
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(store).value() : nullptr;
  }
};

// The object-store history over the process's shared mem:// storage, one prefix per test.
struct ObjectStoreFactory {
  std::unique_ptr<HistoryStore> Make(const TempDir& dir) {
    auto store = OpenObjectStoreHistory("mem://history-test" + dir.File("h") + "/");
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(store).value() : nullptr;
  }
};

HistoryEvent Event(int64_t id, std::string type = "PassStateEntered") {
  HistoryEvent e;
  e.id = id;
  e.previous_event_id = id - 1;
  e.timestamp_micros = 1000 * id;
  e.type = std::move(type);
  e.details = Json::object({{"stateEnteredEventDetails", {{"name", "A"}, {"input", "{}"}}}});
  return e;
}

template <typename Factory>
class HistoryContract : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = Factory().Make(dir_);
    ASSERT_NE(store_, nullptr);
  }
  // Creates `name` and claims it for "runner-a" until t=1000.
  void Started(const std::string& name) {
    ASSERT_TRUE(store_->Create(Record(name, 1)).ok());
    ASSERT_TRUE(store_->Claim(name, "runner-a", 0, 1000).ok());
  }

  TempDir dir_;
  std::unique_ptr<HistoryStore> store_;
};

using StoreFactories = ::testing::Types<MemoryStoreFactory, SqliteStoreFactory, ObjectStoreFactory>;
TYPED_TEST_SUITE(HistoryContract, StoreFactories);

TYPED_TEST(HistoryContract, CreatesAndGetsRecordsAndRefusesDuplicateNames) {
  HistoryStore& s = *this->store_;
  ExecutionRecord r = Record("run-1", 42);
  r.status = ExecutionStatus::kFailed;
  r.stop_micros = 50;
  r.error = StateError{"States.Timeout", "took too long"};
  ASSERT_TRUE(s.Create(r).ok());
  auto got = s.Get("run-1");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->name, "run-1");
  EXPECT_EQ(got->state_machine, "pipeline");
  EXPECT_EQ(got->definition, r.definition);
  EXPECT_EQ(got->input, r.input);
  EXPECT_EQ(got->status, ExecutionStatus::kFailed);
  EXPECT_EQ(got->start_micros, 42);
  EXPECT_EQ(got->stop_micros, 50);
  EXPECT_FALSE(got->output.has_value());
  EXPECT_EQ(got->error, (StateError{"States.Timeout", "took too long"}));

  ExecutionRecord other = Record("run-1", 99);
  EXPECT_EQ(s.Create(other).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(s.Get("run-1")->start_micros, 42);  // the first record is untouched
  EXPECT_EQ(s.Get("nope").status().code(), StatusCode::kNotFound);
}

TYPED_TEST(HistoryContract, ListsMostRecentFirstFilteredAndLimited) {
  HistoryStore& s = *this->store_;
  ASSERT_TRUE(s.Create(Record("old", 10)).ok());
  ASSERT_TRUE(s.Create(Record("newest", 30)).ok());
  ASSERT_TRUE(s.Create(Record("middle", 20)).ok());
  ExecutionRecord done = Record("done", 25);
  done.status = ExecutionStatus::kSucceeded;
  done.output = R"({"ok":true})";
  ASSERT_TRUE(s.Create(done).ok());

  auto all = s.List(std::nullopt, 10);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  std::vector<std::string> names;
  for (const auto& r : *all) names.push_back(r.name);
  EXPECT_EQ(names, (std::vector<std::string>{"newest", "done", "middle", "old"}));

  auto running = s.List(ExecutionStatus::kRunning, 2);
  ASSERT_TRUE(running.ok());
  ASSERT_EQ(running->size(), 2u);
  EXPECT_EQ((*running)[0].name, "newest");
  EXPECT_EQ((*running)[1].name, "middle");

  auto succeeded = s.List(ExecutionStatus::kSucceeded, 10);
  ASSERT_TRUE(succeeded.ok());
  ASSERT_EQ(succeeded->size(), 1u);
  EXPECT_EQ((*succeeded)[0].output, R"({"ok":true})");
  EXPECT_TRUE(s.List(ExecutionStatus::kAborted, 10)->empty());
  EXPECT_TRUE(s.List(std::nullopt, 0)->empty());
}

TYPED_TEST(HistoryContract, AppendsOnlyIdsThatFollowTheStoredOnes) {
  HistoryStore& s = *this->store_;
  this->Started("run");
  std::vector<HistoryEvent> first = {Event(1, "ExecutionStarted"), Event(2)};
  ASSERT_TRUE(s.Append("run", "runner-a", first, {}).ok());
  std::vector<HistoryEvent> gap = {Event(4)};
  EXPECT_EQ(s.Append("run", "runner-a", gap, {}).code(), StatusCode::kFailedPrecondition);
  std::vector<HistoryEvent> again = {Event(2)};
  EXPECT_EQ(s.Append("run", "runner-a", again, {}).code(), StatusCode::kFailedPrecondition);
  std::vector<HistoryEvent> next = {Event(3), Event(4)};
  ASSERT_TRUE(s.Append("run", "runner-a", next, {}).ok());

  auto all = s.Events("run", 0, 100);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_EQ(Ids(*all), (std::vector<int64_t>{1, 2, 3, 4}));
  EXPECT_EQ((*all)[0].type, "ExecutionStarted");
  EXPECT_EQ((*all)[1].previous_event_id, 1);
  EXPECT_EQ((*all)[1].timestamp_micros, 2000);
  EXPECT_EQ((*all)[1].details, Event(2).details);
  EXPECT_EQ(Ids(*s.Events("run", 1, 2)), (std::vector<int64_t>{2, 3}));
  EXPECT_TRUE(s.Events("run", 4, 10)->empty());
  EXPECT_EQ(s.Events("nope", 0, 10).status().code(), StatusCode::kNotFound);
}

TYPED_TEST(HistoryContract, FailedAppendLeavesNeitherEventsNorCheckpoints) {
  HistoryStore& s = *this->store_;
  this->Started("run");
  std::vector<HistoryEvent> one = {Event(1)};
  std::vector<Checkpoint> cp = {{"Score#0", Json{{"v", 1}}}};
  ASSERT_TRUE(s.Append("run", "runner-a", one, cp).ok());

  // Event 2 is fine, 4 is not: the whole call is refused, checkpoints included.
  std::vector<HistoryEvent> bad = {Event(2), Event(4)};
  std::vector<Checkpoint> cps = {{"Score#0", Json{{"v", 2}}}, {"Map[1]/Score#0", Json(7)}};
  EXPECT_EQ(s.Append("run", "runner-a", bad, cps).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(Ids(*s.Events("run", 0, 10)), (std::vector<int64_t>{1}));
  auto stored = s.Checkpoints("run");
  ASSERT_TRUE(stored.ok());
  ASSERT_EQ(stored->size(), 1u);
  EXPECT_EQ((*stored)[0].value, (Json{{"v", 1}}));

  // A refused owner changes nothing either.
  EXPECT_EQ(s.Append("run", "intruder", bad, cps).code(), StatusCode::kAborted);
  EXPECT_EQ(s.Checkpoints("run")->size(), 1u);
}

TYPED_TEST(HistoryContract, UpsertsCheckpointsAndListsThemByKey) {
  HistoryStore& s = *this->store_;
  this->Started("run");
  std::vector<Checkpoint> a = {{"b", Json{{"x", "one"}}}, {"a", Json::array({1, 2})}};
  ASSERT_TRUE(s.Append("run", "runner-a", {}, a).ok());
  std::vector<Checkpoint> b = {{"b", Json{{"x", "two"}}}};
  ASSERT_TRUE(s.Append("run", "runner-a", {}, b).ok());
  auto got = s.Checkpoints("run");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_EQ(got->size(), 2u);
  EXPECT_EQ((*got)[0].key, "a");
  EXPECT_EQ((*got)[0].value, Json::array({1, 2}));
  EXPECT_EQ((*got)[1].key, "b");
  EXPECT_EQ((*got)[1].value, (Json{{"x", "two"}}));
  EXPECT_EQ(s.Checkpoints("nope").status().code(), StatusCode::kNotFound);
}

TYPED_TEST(HistoryContract, LeaseKeepsOtherOwnersOutUntilItExpires) {
  HistoryStore& s = *this->store_;
  this->Started("run");  // runner-a until t=1000
  EXPECT_EQ(s.Claim("run", "runner-b", 500, 2000).code(), StatusCode::kAborted);
  EXPECT_EQ(s.Claim("run", "runner-b", 999, 2000).code(), StatusCode::kAborted);
  std::vector<HistoryEvent> one = {Event(1)};
  std::vector<HistoryEvent> two = {Event(2)};
  EXPECT_EQ(s.Append("run", "runner-b", one, {}).code(), StatusCode::kAborted);
  ASSERT_TRUE(s.Append("run", "runner-a", one, {}).ok());
  // The holder renews by claiming again.
  ASSERT_TRUE(s.Claim("run", "runner-a", 900, 1500).ok());
  EXPECT_EQ(s.Claim("run", "runner-b", 1200, 2000).code(), StatusCode::kAborted);
  // Expired: another process takes over, and the old runner is fenced off.
  ASSERT_TRUE(s.Claim("run", "runner-b", 1500, 3000).ok());
  EXPECT_EQ(s.Append("run", "runner-a", two, {}).code(), StatusCode::kAborted);
  EXPECT_EQ(s.Claim("run", "runner-a", 1600, 4000).code(), StatusCode::kAborted);
  ASSERT_TRUE(s.Append("run", "runner-b", two, {}).ok());
  EXPECT_EQ(s.Claim("nope", "runner-a", 0, 1).code(), StatusCode::kNotFound);
}

TYPED_TEST(HistoryContract, AppendWithoutAClaimIsAborted) {
  HistoryStore& s = *this->store_;
  ASSERT_TRUE(s.Create(Record("run", 1)).ok());
  std::vector<HistoryEvent> one = {Event(1)};
  EXPECT_EQ(s.Append("run", "runner-a", one, {}).code(), StatusCode::kAborted);
  EXPECT_EQ(s.Append("nope", "runner-a", one, {}).code(), StatusCode::kNotFound);
}

TYPED_TEST(HistoryContract, FinishRecordsTheOutcomeAndReleasesTheLease) {
  HistoryStore& s = *this->store_;
  this->Started("run");
  EXPECT_EQ(s.Finish("run", "runner-b", ExecutionStatus::kSucceeded, "{}", std::nullopt, 70).code(),
            StatusCode::kAborted);
  EXPECT_EQ(
      s.Finish("run", "runner-a", ExecutionStatus::kRunning, std::nullopt, std::nullopt, 70).code(),
      StatusCode::kInvalidArgument);
  ASSERT_TRUE(
      s.Finish("run", "runner-a", ExecutionStatus::kSucceeded, R"({"r":1})", std::nullopt, 70)
          .ok());
  auto got = s.Get("run");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->status, ExecutionStatus::kSucceeded);
  EXPECT_EQ(got->output, R"({"r":1})");
  EXPECT_FALSE(got->error.has_value());
  EXPECT_EQ(got->stop_micros, 70);
  // Released: the old owner can write no more, and nobody can claim a finished execution.
  std::vector<HistoryEvent> one = {Event(1)};
  EXPECT_EQ(s.Append("run", "runner-a", one, {}).code(), StatusCode::kAborted);
  EXPECT_EQ(s.Claim("run", "runner-a", 100, 200).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.Claim("run", "runner-b", 100, 200).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(
      s.Finish("run", "runner-a", ExecutionStatus::kFailed, std::nullopt, StateError{"X", "y"}, 80)
          .code(),
      StatusCode::kAborted);
  EXPECT_EQ(s.Get("run")->status, ExecutionStatus::kSucceeded);
}

TYPED_TEST(HistoryContract, FinishKeepsTheError) {
  HistoryStore& s = *this->store_;
  this->Started("run");
  ASSERT_TRUE(s.Finish("run", "runner-a", ExecutionStatus::kFailed, std::nullopt,
                       StateError{"States.TaskFailed", "boom"}, 9)
                  .ok());
  auto got = s.Get("run");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->status, ExecutionStatus::kFailed);
  EXPECT_FALSE(got->output.has_value());
  EXPECT_EQ(got->error, (StateError{"States.TaskFailed", "boom"}));
}

TYPED_TEST(HistoryContract, StopOfARunningExecutionIsRecordedForItsRunner) {
  HistoryStore& s = *this->store_;
  this->Started("run");  // lease until t=1000
  std::vector<HistoryEvent> one = {Event(1)};
  ASSERT_TRUE(s.Append("run", "runner-a", one, {}).ok());
  EXPECT_EQ(s.StopRequested("run")->has_value(), false);
  const StateError reason{"Stopped", "lote flow stop by alice"};
  ASSERT_TRUE(s.RequestStop("run", reason, 500).ok());
  EXPECT_EQ(s.Get("run")->status, ExecutionStatus::kRunning);
  auto pending = s.StopRequested("run");
  ASSERT_TRUE(pending.ok());
  EXPECT_EQ(*pending, reason);
  // The runner sees it and ends the execution itself.
  std::vector<HistoryEvent> two = {Event(2, "ExecutionAborted")};
  ASSERT_TRUE(s.Append("run", "runner-a", two, {}).ok());
  ASSERT_TRUE(
      s.Finish("run", "runner-a", ExecutionStatus::kAborted, std::nullopt, reason, 600).ok());
  EXPECT_FALSE(s.StopRequested("run")->has_value());
  EXPECT_EQ(s.RequestStop("run", reason, 700).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.RequestStop("nope", reason, 700).code(), StatusCode::kNotFound);
  EXPECT_EQ(s.StopRequested("nope").status().code(), StatusCode::kNotFound);
}

TYPED_TEST(HistoryContract, StopWithNoLiveRunnerAbortsAtOnce) {
  HistoryStore& s = *this->store_;
  this->Started("run");  // lease until t=1000; the runner then dies
  std::vector<HistoryEvent> two = {Event(1), Event(2)};
  ASSERT_TRUE(s.Append("run", "runner-a", two, {}).ok());
  const StateError reason{"Stopped", "runner gone"};
  ASSERT_TRUE(s.RequestStop("run", reason, 1000).ok());  // the lease ends at 1000: expired
  auto got = s.Get("run");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->status, ExecutionStatus::kAborted);
  EXPECT_EQ(got->error, reason);
  EXPECT_EQ(got->stop_micros, 1000);
  auto events = s.Events("run", 0, 10);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(Ids(*events), (std::vector<int64_t>{1, 2, 3}));
  const HistoryEvent& last = events->back();
  EXPECT_EQ(last.type, "ExecutionAborted");
  EXPECT_EQ(last.previous_event_id, 2);
  EXPECT_EQ(last.timestamp_micros, 1000);
  EXPECT_EQ(
      last.details,
      (Json{{"executionAbortedEventDetails", {{"error", "Stopped"}, {"cause", "runner gone"}}}}));
  // A runner that comes back is fenced off and cannot claim it again.
  std::vector<HistoryEvent> three = {Event(3)};
  EXPECT_EQ(s.Append("run", "runner-a", three, {}).code(), StatusCode::kAborted);
  EXPECT_EQ(s.Claim("run", "runner-a", 1100, 2000).code(), StatusCode::kFailedPrecondition);

  // Never claimed at all: the same.
  ASSERT_TRUE(s.Create(Record("queued", 2)).ok());
  ASSERT_TRUE(s.RequestStop("queued", reason, 5).ok());
  EXPECT_EQ(s.Get("queued")->status, ExecutionStatus::kAborted);
  EXPECT_EQ(Ids(*s.Events("queued", 0, 10)), (std::vector<int64_t>{1}));
}

TYPED_TEST(HistoryContract, ThreadsAppendingToTheirOwnExecutionsKeepEveryEvent) {
  HistoryStore& s = *this->store_;
  constexpr int kThreads = 4;
  constexpr int kEvents = 200;
  for (int t = 0; t < kThreads; ++t) {
    const std::string name = "run-" + std::to_string(t);
    ASSERT_TRUE(s.Create(Record(name, t)).ok());
    ASSERT_TRUE(s.Claim(name, "owner-" + std::to_string(t), 0, 1000).ok());
  }
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&s, t] {
      const std::string name = "run-" + std::to_string(t);
      const std::string owner = "owner-" + std::to_string(t);
      for (int i = 1; i <= kEvents; ++i) {
        std::vector<HistoryEvent> ev = {Event(i)};
        std::vector<Checkpoint> cp = {{"last", Json(i)}};
        EXPECT_TRUE(s.Append(name, owner, ev, cp).ok());
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) {
    const std::string name = "run-" + std::to_string(t);
    EXPECT_EQ(s.Events(name, 0, 1000)->size(), static_cast<size_t>(kEvents));
    EXPECT_EQ(s.Checkpoints(name)->at(0).value, Json(kEvents));
  }
}

TEST(HistoryEventJson, HasGetExecutionHistoryShape) {
  HistoryEvent e;
  e.id = 2;
  e.previous_event_id = 1;
  e.timestamp_micros = 1796558400123456;  // 2026-12-06T12:00:00.123456Z
  e.type = "TaskStateEntered";
  e.details = Json::object({{"stateEnteredEventDetails", {{"name", "Infer"}, {"input", "{}"}}}});
  EXPECT_EQ(e.ToJson().dump(),
            R"({"timestamp":"2026-12-06T12:00:00.123Z","type":"TaskStateEntered","id":2,)"
            R"("previousEventId":1,"stateEnteredEventDetails":{"name":"Infer","input":"{}"}})");
  HistoryEvent first;
  first.id = 1;
  first.type = "ExecutionStarted";
  first.details = Json::object();
  EXPECT_EQ(first.ToJson().dump(),
            R"({"timestamp":"1970-01-01T00:00:00.000Z","type":"ExecutionStarted","id":1,)"
            R"("previousEventId":0})");
}

TEST(ExecutionStatusNames, RoundTripStepFunctionsNames) {
  EXPECT_EQ(ExecutionStatusName(ExecutionStatus::kTimedOut), "TIMED_OUT");
  for (auto st : {ExecutionStatus::kRunning, ExecutionStatus::kSucceeded, ExecutionStatus::kFailed,
                  ExecutionStatus::kTimedOut, ExecutionStatus::kAborted}) {
    EXPECT_EQ(ParseExecutionStatus(ExecutionStatusName(st)), st);
  }
  EXPECT_FALSE(ParseExecutionStatus("running").has_value());
  EXPECT_FALSE(ParseExecutionStatus("").has_value());
}

// --- SQLite only -----------------------------------------------------------------------------

void RawExec(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* err = nullptr;
  EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
  sqlite3_free(err);
  sqlite3_close(db);
}

std::string RawJournalMode(const std::string& path) {
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, nullptr);
  std::string mode;
  if (sqlite3_step(st) == SQLITE_ROW)
    mode = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
  sqlite3_finalize(st);
  sqlite3_close(db);
  return mode;
}

TEST(SqliteHistory, TwoHandlesOnOneFileSeeEachOthersWrites) {
  TempDir dir;
  const std::string path = dir.File("h.db");
  auto runner = OpenSqliteHistory(path);
  ASSERT_TRUE(runner.ok()) << runner.status().ToString();
  auto cli = OpenSqliteHistory(path, {.sync_every_append = true});
  ASSERT_TRUE(cli.ok()) << cli.status().ToString();
  HistoryStore& a = **runner;
  HistoryStore& b = **cli;

  ASSERT_TRUE(a.Create(Record("run", 1)).ok());
  ASSERT_TRUE(a.Claim("run", "runner-a", 0, 1000).ok());
  std::vector<HistoryEvent> ev = {Event(1), Event(2)};
  std::vector<Checkpoint> cp = {{"A#0", Json{{"done", true}}}};
  ASSERT_TRUE(a.Append("run", "runner-a", ev, cp).ok());

  // `lote flow history` from another process.
  EXPECT_EQ(b.Get("run")->status, ExecutionStatus::kRunning);
  EXPECT_EQ(Ids(*b.Events("run", 0, 10)), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(b.Checkpoints("run")->size(), 1u);
  EXPECT_EQ(b.Claim("run", "runner-b", 10, 2000).code(), StatusCode::kAborted);
  // `lote flow stop` from another process, seen by the runner.
  ASSERT_TRUE(b.RequestStop("run", {"Stopped", "by b"}, 10).ok());
  EXPECT_EQ(a.StopRequested("run")->value_or(StateError{}), (StateError{"Stopped", "by b"}));
  // A write from b is numbered after a's (the store reads the file, not a cache).
  ASSERT_TRUE(b.Create(Record("second", 2)).ok());
  EXPECT_EQ(a.List(std::nullopt, 10)->size(), 2u);
  std::vector<HistoryEvent> third = {Event(3)};
  ASSERT_TRUE(a.Append("run", "runner-a", third, {}).ok());
  EXPECT_EQ(Ids(*b.Events("run", 2, 10)), (std::vector<int64_t>{3}));
  EXPECT_EQ(RawJournalMode(path), "wal");
}

TEST(SqliteHistory, KeepsEverythingAcrossReopening) {
  TempDir dir;
  const std::string path = dir.File("h.db");
  {
    auto s = OpenSqliteHistory(path);
    ASSERT_TRUE(s.ok());
    ASSERT_TRUE((*s)->Create(Record("run", 1)).ok());
    ASSERT_TRUE((*s)->Claim("run", "runner-a", 0, 1000).ok());
    std::vector<HistoryEvent> ev = {Event(1)};
    std::vector<Checkpoint> cp = {{"k", Json("v")}};
    ASSERT_TRUE((*s)->Append("run", "runner-a", ev, cp).ok());
  }
  auto s = OpenSqliteHistory(path);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(Ids(*(*s)->Events("run", 0, 10)), (std::vector<int64_t>{1}));
  EXPECT_EQ((*s)->Checkpoints("run")->at(0).value, Json("v"));
  // The lease survived too: another owner is still kept out, the holder can go on.
  EXPECT_EQ((*s)->Claim("run", "runner-b", 10, 2000).code(), StatusCode::kAborted);
  std::vector<HistoryEvent> ev2 = {Event(2)};
  EXPECT_TRUE((*s)->Append("run", "runner-a", ev2, {}).ok());
}

TEST(SqliteHistory, RefusesAnotherSqliteDatabaseNamingItAndLeavesItAlone) {
  TempDir dir;
  const std::string path = dir.File("catalog.db");
  RawExec(path, "CREATE TABLE runs(run_id TEXT PRIMARY KEY); INSERT INTO runs VALUES ('x');");
  auto s = OpenSqliteHistory(path);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.status().message().find(path), std::string::npos) << s.status().ToString();
  EXPECT_NE(s.status().message().find("not a lote flow history"), std::string::npos);
  EXPECT_EQ(RawJournalMode(path), "delete");  // not switched to WAL behind the owner's back
}

TEST(SqliteHistory, RefusesAGarbageFileNamingIt) {
  TempDir dir;
  const std::string path = dir.File("notes.txt");
  {
    std::ofstream out(path);
    for (int i = 0; i < 200; ++i) out << "these are not the pages you are looking for\n";
  }
  auto s = OpenSqliteHistory(path);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find(path), std::string::npos) << s.status().ToString();
  EXPECT_NE(s.status().message().find("not a lote flow history"), std::string::npos);
}

TEST(SqliteHistory, RefusesAnotherSchemaVersionNamingIt) {
  TempDir dir;
  const std::string path = dir.File("h.db");
  { ASSERT_TRUE(OpenSqliteHistory(path).ok()); }
  RawExec(path, "PRAGMA user_version=99");
  auto s = OpenSqliteHistory(path);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.status().message().find(path), std::string::npos) << s.status().ToString();
  EXPECT_NE(s.status().message().find("99"), std::string::npos);
}

TEST(SqliteHistory, MissingFolderIsAnErrorNamingThePath) {
  TempDir dir;
  const std::string path = dir.File("no/such/dir/h.db");
  auto s = OpenSqliteHistory(path);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find(path), std::string::npos) << s.status().ToString();
}

}  // namespace
}  // namespace lote::flow
