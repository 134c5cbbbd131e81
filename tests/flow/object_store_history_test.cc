// What only the object-store history has (the HistoryStore contract runs over it in
// history_test.cc): several processes (store instances) on one prefix, fencing of a stale owner by
// the entry numbers, the log's layout, corrupt and missing entries, size limits, names that are
// not plain path segments, the format marker, and a whole execution run by the executor.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "flow/history_test_util.h"
#include "lote/base/digest.h"
#include "lote/flow/executor.h"
#include "lote/flow/history.h"
#include "lote/storage/storage.h"

namespace lote::flow {
namespace {

using testing::Ids;
using testing::Record;

// A fresh mem:// prefix per test (the mem:// storage is shared by the process).
std::string Prefix() { return "mem://objhist-" + RandomHex(8) + "/flow/"; }

std::unique_ptr<HistoryStore> Open(const std::string& uri,
                                   const ObjectStoreHistoryOptions& o = {}) {
  auto store = OpenObjectStoreHistory(uri, o);
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  return store.ok() ? std::move(store).value() : nullptr;
}

std::shared_ptr<storage::Storage> Mem() { return storage::OpenStorage("mem://x").value(); }

HistoryEvent PassEvent(int64_t id, std::string payload = "{}") {
  HistoryEvent e;
  e.id = id;
  e.previous_event_id = id - 1;
  e.timestamp_micros = 1000 * id;
  e.type = "PassStateEntered";
  e.details = Json::object({{"stateEnteredEventDetails", {{"name", "A"}, {"input", payload}}}});
  return e;
}

std::vector<Checkpoint> Cp(std::string key, Json value) {
  return {Checkpoint{std::move(key), std::move(value)}};
}

std::string EntryUri(const std::string& prefix, const std::string& name, int seq) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%020d.json", seq);
  return prefix + "log/" + name + "/" + buf;
}

TEST(ObjectStoreHistory, TwoProcessesOnOnePrefixSeeEachOthersWrites) {
  const std::string prefix = Prefix();
  auto runner = Open(prefix);
  auto cli = Open(prefix);
  ASSERT_TRUE(runner && cli);
  ASSERT_TRUE(runner->Create(Record("run", 1)).ok());
  ASSERT_TRUE(runner->Claim("run", "runner-a", 0, 1000).ok());
  std::vector<HistoryEvent> ev = {PassEvent(1), PassEvent(2)};
  std::vector<Checkpoint> cp = {{"A#0", Json{{"done", true}}}};
  ASSERT_TRUE(runner->Append("run", "runner-a", ev, cp).ok());

  EXPECT_EQ(cli->Get("run")->status, ExecutionStatus::kRunning);
  EXPECT_EQ(*cli->Owner("run"), "runner-a");
  EXPECT_EQ(Ids(*cli->Events("run", 0, 10)), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(cli->Checkpoints("run")->at(0).value, (Json{{"done", true}}));
  EXPECT_EQ(cli->Claim("run", "runner-b", 10, 2000).code(), StatusCode::kAborted);
  // `lote flow stop` from the other process: seen by the runner, whose next Append (its cached
  // entry number now taken by the stop) catches up and succeeds.
  ASSERT_TRUE(cli->RequestStop("run", {"Stopped", "by cli"}, 10).ok());
  EXPECT_EQ(runner->StopRequested("run")->value_or(StateError{}),
            (StateError{"Stopped", "by cli"}));
  std::vector<HistoryEvent> third = {PassEvent(3)};
  ASSERT_TRUE(runner->Append("run", "runner-a", third, {}).ok());
  ASSERT_TRUE(runner
                  ->Finish("run", "runner-a", ExecutionStatus::kAborted, std::nullopt,
                           StateError{"Stopped", "by cli"}, 20)
                  .ok());
  EXPECT_EQ(Ids(*cli->Events("run", 2, 10)), (std::vector<int64_t>{3}));
  auto got = cli->Get("run");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->status, ExecutionStatus::kAborted);
  EXPECT_EQ(got->stop_micros, 20);
  // A third process that never saw it lists it with its final status.
  auto fresh = Open(prefix);
  auto listed = fresh->List(ExecutionStatus::kAborted, 10);
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].error, (StateError{"Stopped", "by cli"}));
  EXPECT_TRUE(fresh->List(ExecutionStatus::kRunning, 10)->empty());
}

TEST(ObjectStoreHistory, AStaleOwnerIsFencedOffByTheNewerClaim) {
  const std::string prefix = Prefix();
  auto a = Open(prefix);
  auto b = Open(prefix);
  ASSERT_TRUE(a->Create(Record("run", 1)).ok());
  ASSERT_TRUE(a->Claim("run", "runner-a", 0, 1000).ok());
  std::vector<HistoryEvent> one = {PassEvent(1)};
  ASSERT_TRUE(a->Append("run", "runner-a", one, {}).ok());
  // a stalls past its lease; b takes the execution over and goes on.
  ASSERT_TRUE(b->Claim("run", "runner-b", 1500, 3000).ok());
  std::vector<HistoryEvent> two_b = {PassEvent(2, "\"b\"")};
  ASSERT_TRUE(b->Append("run", "runner-b", two_b, Cp("k", Json("b"))).ok());
  // a wakes up and writes what it believes is next: refused, nothing of it kept.
  std::vector<HistoryEvent> two_a = {PassEvent(2, "\"a\"")};
  EXPECT_EQ(a->Append("run", "runner-a", two_a, Cp("k", Json("a"))).code(), StatusCode::kAborted);
  EXPECT_EQ(a->Claim("run", "runner-a", 1600, 4000).code(), StatusCode::kAborted);
  EXPECT_EQ(
      a->Finish("run", "runner-a", ExecutionStatus::kSucceeded, "{}", std::nullopt, 1700).code(),
      StatusCode::kAborted);
  auto events = Open(prefix)->Events("run", 0, 10);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 2u);
  EXPECT_EQ((*events)[1].details, two_b[0].details);
  EXPECT_EQ(a->Checkpoints("run")->at(0).value, Json("b"));
  EXPECT_EQ(*a->Owner("run"), "runner-b");
}

TEST(ObjectStoreHistory, RacingTakeOversLeaveExactlyOneOwner) {
  const std::string prefix = Prefix();
  ASSERT_TRUE(Open(prefix)->Create(Record("run", 1)).ok());
  constexpr int kRacers = 8;
  std::vector<std::unique_ptr<HistoryStore>> stores;
  for (int i = 0; i < kRacers; ++i) stores.push_back(Open(prefix));
  for (auto& s : stores) ASSERT_TRUE(s->Get("run").ok());  // each has seen the empty log
  std::atomic<int> won{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kRacers; ++i) {
    threads.emplace_back([&, i] {
      Status st = stores[i]->Claim("run", "racer-" + std::to_string(i), 0, 1000);
      if (st.ok()) {
        ++won;
      } else {
        EXPECT_EQ(st.code(), StatusCode::kAborted) << st.ToString();
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(won.load(), 1);
  const std::string owner = *Open(prefix)->Owner("run");
  std::vector<HistoryEvent> one = {PassEvent(1)};
  for (int i = 0; i < kRacers; ++i) {
    const std::string me = "racer-" + std::to_string(i);
    EXPECT_EQ(stores[i]->Append("run", me, one, {}).ok(), me == owner) << me;
  }
}

TEST(ObjectStoreHistory, KeepsOneEntryPerWriteUnderItsPrefix) {
  const std::string prefix = Prefix();
  auto s = Open(prefix);
  ASSERT_TRUE(s->Create(Record("run", 1)).ok());
  ASSERT_TRUE(s->Claim("run", "runner-a", 0, 1000).ok());
  std::vector<HistoryEvent> ev = {PassEvent(1), PassEvent(2)};
  ASSERT_TRUE(s->Append("run", "runner-a", ev, {}).ok());
  ASSERT_TRUE(s->Claim("run", "runner-a", 300, 1300).ok());  // a renewal is an entry too
  ASSERT_TRUE(
      s->Finish("run", "runner-a", ExecutionStatus::kSucceeded, "{}", std::nullopt, 9).ok());
  auto listed = Mem()->List(prefix);
  ASSERT_TRUE(listed.ok());
  std::vector<std::string> uris;
  for (const auto& o : *listed) uris.push_back(o.uri);
  EXPECT_EQ(uris,
            (std::vector<std::string>{prefix + "history.json", EntryUri(prefix, "run", 1),
                                      EntryUri(prefix, "run", 2), EntryUri(prefix, "run", 3),
                                      EntryUri(prefix, "run", 4), prefix + "records/run.json"}));
  auto finish = Json::parse(*Mem()->Read(EntryUri(prefix, "run", 4)));
  EXPECT_EQ(finish["type"], "finish");
  EXPECT_EQ(finish["seq"], 4);
}

TEST(ObjectStoreHistory, ACorruptEntryIsDataLossNamingIt) {
  const std::string prefix = Prefix();
  auto s = Open(prefix);
  ASSERT_TRUE(s->Create(Record("run", 1)).ok());
  ASSERT_TRUE(s->Claim("run", "runner-a", 0, 1000).ok());
  const std::string second = EntryUri(prefix, "run", 2);
  ASSERT_TRUE(Mem()->Write(second, "{\"lote_flow_history\": 1, \"seq\": 2, \"type\": ").ok());
  auto other = Open(prefix);
  for (HistoryStore* reader : {s.get(), other.get()}) {
    auto got = reader->Events("run", 0, 10);
    ASSERT_FALSE(got.ok());
    EXPECT_EQ(got.status().code(), StatusCode::kDataLoss);
    EXPECT_NE(got.status().message().find(second), std::string::npos) << got.status().ToString();
  }
  // Valid JSON that is not an entry of ours.
  ASSERT_TRUE(Mem()->Write(second, R"({"type":"append"})").ok());
  EXPECT_EQ(Open(prefix)->Get("run").status().code(), StatusCode::kDataLoss);
  // An entry of a type this lote does not know.
  ASSERT_TRUE(Mem()->Write(second, R"({"lote_flow_history":1,"seq":2,"type":"rewind"})").ok());
  auto got = Open(prefix)->Get("run");
  EXPECT_EQ(got.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(got.status().message().find("rewind"), std::string::npos) << got.status().ToString();
}

TEST(ObjectStoreHistory, AMissingEntryIsDataLossNamingTheLog) {
  const std::string prefix = Prefix();
  auto s = Open(prefix);
  ASSERT_TRUE(s->Create(Record("run", 1)).ok());
  ASSERT_TRUE(s->Claim("run", "runner-a", 0, 1000).ok());
  std::vector<HistoryEvent> one = {PassEvent(1)};
  ASSERT_TRUE(s->Append("run", "runner-a", one, {}).ok());
  ASSERT_TRUE(Mem()->Delete(EntryUri(prefix, "run", 1)).ok());
  auto got = Open(prefix)->Events("run", 0, 10);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(got.status().message().find("misses entry 1"), std::string::npos)
      << got.status().ToString();
  EXPECT_NE(got.status().message().find(prefix + "log/run/"), std::string::npos);
}

TEST(ObjectStoreHistory, AnAppendOverTheEntryLimitIsRefusedAndWritesNothing) {
  const std::string prefix = Prefix();
  auto s = Open(prefix);
  ASSERT_TRUE(s->Create(Record("run", 1)).ok());
  ASSERT_TRUE(s->Claim("run", "runner-a", 0, 1000).ok());
  // 40 events of 256 KiB: 10 MiB, over the 8 MiB one entry may hold.
  std::vector<HistoryEvent> big;
  for (int i = 1; i <= 40; ++i) big.push_back(PassEvent(i, std::string(256 * 1024, 'x')));
  Status st = s->Append("run", "runner-a", big, {});
  EXPECT_EQ(st.code(), StatusCode::kResourceExhausted) << st.ToString();
  EXPECT_NE(st.message().find("run"), std::string::npos);
  EXPECT_TRUE(s->Events("run", 0, 100)->empty());
  // 512 events of 8 KiB fit, and read back in pages.
  std::vector<HistoryEvent> many;
  for (int i = 1; i <= 512; ++i) many.push_back(PassEvent(i, std::string(8 * 1024, 'y')));
  ASSERT_TRUE(s->Append("run", "runner-a", many, {}).ok());
  EXPECT_EQ(Ids(*Open(prefix)->Events("run", 300, 2)), (std::vector<int64_t>{301, 302}));
}

TEST(ObjectStoreHistory, NamesThatAreNotPathSegmentsRoundTrip) {
  const std::string prefix = Prefix();
  auto s = Open(prefix);
  const std::vector<std::string> names = {".hidden", "a/b", "x y%", "run.lote-tmp-1", "ünï"};
  for (size_t i = 0; i < names.size(); ++i) {
    ASSERT_TRUE(s->Create(Record(names[i], static_cast<int64_t>(i))).ok()) << names[i];
    ASSERT_TRUE(s->Claim(names[i], "o", 0, 1000).ok()) << names[i];
    std::vector<HistoryEvent> one = {PassEvent(1)};
    ASSERT_TRUE(s->Append(names[i], "o", one, {}).ok()) << names[i];
  }
  EXPECT_EQ(s->Create(Record("a/b", 9)).code(), StatusCode::kAlreadyExists);
  auto listed = Open(prefix)->List(std::nullopt, 10);
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  ASSERT_EQ(listed->size(), names.size());
  for (size_t i = 0; i < names.size(); ++i) {
    EXPECT_EQ((*listed)[names.size() - 1 - i].name, names[i]);
    EXPECT_EQ(Open(prefix)->Events(names[i], 0, 10)->size(), 1u) << names[i];
  }
  EXPECT_EQ(s->Get("a").status().code(), StatusCode::kNotFound);
}

TEST(ObjectStoreHistory, ManyExecutionsThroughOneStoreStayCorrect) {
  // More executions than the store keeps replayed in memory: the evicted ones are read again.
  const std::string prefix = Prefix();
  auto s = Open(prefix);
  constexpr int kExecutions = 100;
  for (int i = 0; i < kExecutions; ++i) {
    const std::string name = "run-" + std::to_string(i);
    ASSERT_TRUE(s->Create(Record(name, i)).ok());
    ASSERT_TRUE(s->Claim(name, "o", 0, 1000).ok());
  }
  for (int round = 1; round <= 2; ++round) {
    for (int i = 0; i < kExecutions; ++i) {
      const std::string name = "run-" + std::to_string(i);
      std::vector<HistoryEvent> ev = {PassEvent(round)};
      ASSERT_TRUE(s->Append(name, "o", ev, Cp("last", Json(round))).ok()) << name;
    }
  }
  for (int i = 0; i < kExecutions; i += 7) {
    const std::string name = "run-" + std::to_string(i);
    EXPECT_EQ(Ids(*s->Events(name, 0, 10)), (std::vector<int64_t>{1, 2}));
    EXPECT_EQ(s->Checkpoints(name)->at(0).value, Json(2));
  }
  EXPECT_EQ(s->List(ExecutionStatus::kRunning, 1000)->size(), static_cast<size_t>(kExecutions));
}

TEST(ObjectStoreHistory, RefusesAPrefixWithAnotherFormatAndWritesNothingUntilCreate) {
  const std::string prefix = Prefix();
  {
    auto s = Open(prefix);
    EXPECT_TRUE(s->List(std::nullopt, 10)->empty());
    EXPECT_EQ(s->Get("x").status().code(), StatusCode::kNotFound);
    EXPECT_EQ(Mem()->List(prefix).status().code(), StatusCode::kNotFound);  // nothing written
  }
  ASSERT_TRUE(Mem()->Write(prefix + "history.json", R"({"lote_flow_history":7})").ok());
  auto newer = OpenObjectStoreHistory(prefix);
  ASSERT_FALSE(newer.ok());
  EXPECT_EQ(newer.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(newer.status().message().find(prefix + "history.json"), std::string::npos);
  ASSERT_TRUE(Mem()->Write(prefix + "history.json", "hello").ok());
  EXPECT_EQ(OpenObjectStoreHistory(prefix).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(OpenObjectStoreHistory("/tmp/no-scheme").status().code(), StatusCode::kInvalidArgument);
}

TEST(ObjectStoreHistory, WorksOnLocalFiles) {
  std::string tmpl = (std::filesystem::temp_directory_path() / "lote_objhist_XXXXXX").string();
  const std::string dir = mkdtemp(tmpl.data());
  const std::string prefix = "file://" + dir + "/h";  // no trailing '/': added
  {
    auto s = Open(prefix);
    ASSERT_TRUE(s);
    ASSERT_TRUE(s->Create(Record("run", 1)).ok());
    ASSERT_TRUE(s->Claim("run", "o", 0, 1000).ok());
    std::vector<HistoryEvent> ev = {PassEvent(1), PassEvent(2)};
    ASSERT_TRUE(s->Append("run", "o", ev, Cp("k", Json(1))).ok());
    std::vector<HistoryEvent> ev3 = {PassEvent(3)};
    ASSERT_TRUE(s->Append("run", "o", ev3, {}).ok());
  }
  auto s = Open(prefix);
  EXPECT_EQ(Ids(*s->Events("run", 1, 10)), (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(s->Claim("run", "p", 10, 2000).code(), StatusCode::kAborted);
  ASSERT_TRUE(s->RequestStop("run", {"Stopped", "x"}, 5000).ok());  // lease over: aborts
  EXPECT_EQ(s->List(ExecutionStatus::kAborted, 10)->size(), 1u);
  EXPECT_TRUE(std::filesystem::exists(dir + "/h/log/run/00000000000000000004.json"));
  std::filesystem::remove_all(dir);
}

TEST(ObjectStoreHistory, TheExecutorRunsAndResumesOnIt) {
  const std::string prefix = Prefix();
  auto history = Open(prefix);
  ExecutorOptions o;
  o.history = history.get();
  o.flush_every_events = 4;  // many entries
  Executor executor(o);
  const std::string definition = R"({"StartAt":"Fan","States":{
    "Fan":{"Type":"Map","ItemsPath":"$.items","ItemProcessor":{"StartAt":"Double","States":{
      "Double":{"Type":"Pass","Parameters":{"v.$":"$"},"End":true}}},"Next":"Done"},
    "Done":{"Type":"Pass","End":true}}})";
  auto result = executor.Run("exec-1", "fan", definition, Json{{"items", {1, 2, 3, 4, 5}}});
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->status, ExecutionStatus::kSucceeded);
  EXPECT_EQ(*result->output, Json::parse(R"([{"v":1},{"v":2},{"v":3},{"v":4},{"v":5}])"));

  auto reader = Open(prefix);
  auto got = reader->Get("exec-1");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->status, ExecutionStatus::kSucceeded);
  auto events = reader->Events("exec-1", 0, 100000);
  ASSERT_TRUE(events.ok());
  EXPECT_EQ(static_cast<int64_t>(events->size()), result->events);
  EXPECT_EQ(events->front().type, "ExecutionStarted");
  EXPECT_EQ(events->back().type, "ExecutionSucceeded");
  // Another process asking for it again gets its recorded result.
  ExecutorOptions o2;
  o2.history = reader.get();
  Executor again(o2);
  auto resumed = again.Resume("exec-1");
  ASSERT_TRUE(resumed.ok()) << resumed.status().ToString();
  EXPECT_EQ(resumed->status, ExecutionStatus::kSucceeded);
}

}  // namespace
}  // namespace lote::flow
