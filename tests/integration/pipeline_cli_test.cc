// Reliability of the pipeline through the CLI with a real model: `lote run` and the stage
// subcommands killed with SIGKILL mid-way and run again publish every record exactly once
// (checked with `lote query` and by decompressing the parts); two runs on one output; a file
// with malformed records of every kind. The deterministic kill points of the commit protocol,
// disk full and inputs changed mid-run are covered at library level (pipeline_crash_test.cc,
// tests/pipeline/).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "cli_runner.h"
#include "lote/storage/storage.h"
#include "pipeline/pipeline_test_util.h"

namespace lote::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr int kFiles = 3;
// ~1.5 MB each: a run must last long enough to be killed between two objects' commits. The
// sanitizer trees' CLI is about ten times slower, so a third of it lasts longer there.
constexpr int kRecordsPerFile = LOTE_TEST_SANITIZED ? 5000 : 15000;

// Files under `folder` (recursively) whose name ends with `suffix`; 0 if it does not exist yet.
int CountFiles(const std::string& folder, std::string_view suffix) {
  std::error_code ec;
  int n = 0;
  for (fs::recursive_directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().filename().string().ends_with(suffix)) ++n;
  }
  return n;
}

class PipelineCli : public SampleModelTest {
 protected:
  // kFiles JSONL files of sample texts with unique ids, plus per file one malformed line and
  // one id delivered again. Returns the ids that must be published.
  std::set<std::string> WriteBigInput() {
    std::vector<std::string> texts;
    std::ifstream in(kSample + "/train.jsonl");
    for (std::string line; std::getline(in, line);) {
      texts.push_back(json::parse(line)["text"].get<std::string>());
    }
    fs::create_directories(tmp_ / "in");
    std::set<std::string> ids;
    for (int f = 0; f < kFiles; ++f) {
      // (a prefix appended, not "f" + string: GCC 12 reports a false -Wrestrict on the latter)
      const std::string prefix = std::string(1, 'f').append(std::to_string(f)).append("-");
      std::ofstream out(tmp_ / ("in/feed-" + std::to_string(f) + ".jsonl"));
      for (int i = 0; i < kRecordsPerFile; ++i) {
        std::string id = prefix + std::to_string(i);
        ids.insert(id);
        out << json{{"id", id}, {"text", texts[(f * 7919 + i) % texts.size()]}}.dump() << "\n";
      }
      out << "{\"id\": \"broken\n";
      out << json{{"id", prefix + "0"}, {"text", "otra vez"}}.dump() << "\n";
    }
    return ids;
  }

  // Every published results row, read from the part files themselves.
  std::vector<json> PublishedRows() {
    auto local = storage::NewLocalStorage();
    return pipeline::testing::ReadRows(*local, tmp_ / "out/results");
  }

  // The output holds each id of `ids` exactly once, in the files and in the catalog, the
  // quarantine holds the malformed lines once, and every succeeded run reconciles.
  void ExpectExactlyOnce(const std::set<std::string>& ids) {
    std::vector<json> rows = PublishedRows();
    std::multiset<std::string> seen;
    for (const json& r : rows) seen.insert(r["record_id"].get<std::string>());
    EXPECT_EQ(rows.size(), ids.size()) << "rows in the part files";
    EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()), ids) << "missing or extra ids";
    auto q = RunLote("query --format json --output " + (tmp_ / "out") +
                     " \"SELECT count(*) AS n, count(DISTINCT record_id) AS ids FROM results\"");
    ASSERT_EQ(q.exit_code, 0) << q.err;
    json n = json::parse(q.out);
    EXPECT_EQ(n[0]["n"], ids.size());
    EXPECT_EQ(n[0]["ids"], ids.size());
    q = RunLote("query --format json --output " + (tmp_ / "out") +
                " \"SELECT count(*) AS n FROM quarantine\"");
    ASSERT_EQ(q.exit_code, 0) << q.err;
    EXPECT_EQ(json::parse(q.out)[0]["n"], kFiles);
    q = RunLote("query --format json --output " + (tmp_ / "out") +
                " \"SELECT sum(records_in) AS i, sum(records_out) AS o, "
                "sum(records_quarantined) AS q, sum(records_duplicate) AS d FROM runs "
                "WHERE state = 'succeeded'\"");
    ASSERT_EQ(q.exit_code, 0) << q.err;
    json t = json::parse(q.out)[0];
    EXPECT_EQ(t["i"], kFiles * (kRecordsPerFile + 2));
    EXPECT_EQ(t["o"], ids.size());
    EXPECT_EQ(t["q"], kFiles);
    EXPECT_EQ(t["d"], kFiles);
    for (const auto& e : fs::directory_iterator(tmp_ / "out/_runs")) {
      json m = json::parse(ReadAll(e.path().string() + "/manifest.json"));
      const json& c = m["counts"];
      EXPECT_EQ(c["records_in"].get<uint64_t>(), c["records_out"].get<uint64_t>() +
                                                     c["records_quarantined"].get<uint64_t>() +
                                                     c["records_duplicate"].get<uint64_t>());
      EXPECT_TRUE(m["reconciliation"]["ok"].get<bool>());
    }
    EXPECT_FALSE(fs::exists(tmp_ / "out/_staging"));
  }

  std::string RunArgs(const std::string& extra = "") {
    return "run --input " + (tmp_ / "in") + " --output " + (tmp_ / "out") + " --model " + Model() +
           " --threads 2 " + extra;
  }

  TempDir tmp_;
};

TEST_F(PipelineCli, RunKilledAgainAndAgainThenRerunPublishesEveryRecordOnce) {
  std::set<std::string> ids = WriteBigInput();
  int killed = 0;
  // Each invocation resumes the previous one's run and is killed once it has committed one more
  // object's results, or as soon as it has started on the first.
  const std::string results = tmp_ / "out/results";
  for (int i = 0; i < kFiles; ++i) {
    const int parts = CountFiles(results, ".jsonl.zst");
    pid_t pid = SpawnLote(RunArgs(), tmp_ / "log");
    killed += KillOnceProgressed(pid, [&] { return CountFiles(results, ".jsonl.zst") > parts; });
  }
  EXPECT_GE(killed, kFiles - 1) << "the runs finished before they could be killed";
  auto r = RunLote(RunArgs("--log-format json"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ExpectExactlyOnce(ids);
}

TEST_F(PipelineCli, StagesKilledMidWayThenRerunPublishEveryRecordOnce) {
  std::set<std::string> ids = WriteBigInput();
  const std::string out = " --output " + (tmp_ / "out");
  const std::string stages = tmp_ / "out/_stages/";
  ASSERT_EQ(RunLote("ingest --input " + (tmp_ / "in") + out).exit_code, 0);
  // Each stage is killed once it has handed over its first object (its marker written) and
  // before its last; publish once it has released the first object's staged files.
  int killed = 0;
  pid_t pid = SpawnLote("prep" + out, tmp_ / "log");
  killed += KillOnceProgressed(pid, [&] { return CountFiles(stages + "prep", ".json") > 0; });
  ASSERT_EQ(RunLote("prep" + out).exit_code, 0);
  pid = SpawnLote("infer --threads 2 --model " + Model() + out, tmp_ / "log");
  killed += KillOnceProgressed(pid, [&] { return CountFiles(stages + "infer", ".json") > 0; });
  auto infer = RunLote("infer --log-format json --threads 2 --model " + Model() + out);
  ASSERT_EQ(infer.exit_code, 0) << infer.err;
  pid = SpawnLote("publish" + out, tmp_ / "log");
  killed += KillOnceProgressed(pid, [&] { return CountFiles(stages + "infer", ".json") < kFiles; });
  auto pub = RunLote("publish --log-format json" + out);
  ASSERT_EQ(pub.exit_code, 0) << pub.err;
  EXPECT_EQ(killed, 3) << "a stage finished before it could be killed";
  ExpectExactlyOnce(ids);
  // Everything handed over was published and cleaned up; running the chain again does nothing.
  auto again = RunLote("ingest --log-format json --input " + (tmp_ / "in") + out);
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(json::parse(again.out)["objects_skipped"], kFiles);
  auto nothing = RunLote("publish --log-format json" + out);
  EXPECT_EQ(json::parse(nothing.out)["records_in"], 0);
}

TEST_F(PipelineCli, StagesOneByOnePublishTheSameRowsAsRun) {
  const std::string cmd = "python3 " + std::string(LOTE_SOURCE_DIR) +
                          "/scripts/make_demo_inputs.py " + (tmp_ / "in") + " >/dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  ASSERT_EQ(RunLote(RunArgs()).exit_code, 0);
  const std::string out = " --output " + (tmp_ / "staged");
  auto ingest = RunLote("ingest --log-format json --input " + (tmp_ / "in") + out);
  ASSERT_EQ(ingest.exit_code, 0) << ingest.err;
  EXPECT_EQ(json::parse(ingest.out)["objects_done"], 4);
  auto prep = RunLote("prep --log-format json" + out);
  ASSERT_EQ(prep.exit_code, 0) << prep.err;
  auto prep_again = RunLote("prep --log-format json" + out);
  EXPECT_EQ(json::parse(prep_again.out)["objects_skipped"], 4);
  ASSERT_EQ(RunLote("infer --model " + Model() + out).exit_code, 0);
  auto pub = RunLote("publish --strict --log-format json" + out);
  EXPECT_EQ(pub.exit_code, 4) << pub.err;  // quarantined records + --strict: partial success
  json summary = json::parse(pub.out);
  EXPECT_EQ(summary["records_in"], 376);
  EXPECT_EQ(summary["records_duplicate"], 1);

  auto local = storage::NewLocalStorage();
  auto normalized = [&](const std::string& folder) {
    std::multiset<std::string> rows;
    for (json r : pipeline::testing::ReadRows(*local, folder)) {
      r.erase("run_id");
      r.erase("processed_at");
      rows.insert(r.dump());
    }
    return rows;
  };
  EXPECT_EQ(normalized(tmp_ / "staged/results"), normalized(tmp_ / "out/results"));
  EXPECT_EQ(normalized(tmp_ / "staged/quarantine"), normalized(tmp_ / "out/quarantine"));
  EXPECT_EQ(normalized(tmp_ / "staged/results").size(), 371u);

  // The catalog too: `run` stores the engine's entity structs, `publish` parses the staged JSON.
  const std::string sql =
      " --format csv \"SELECT record_id, type, start, \\\"end\\\", text, value, score FROM "
      "entities "
      "ORDER BY record_id, start, type\"";
  auto from_run = RunLote("query --output " + (tmp_ / "out") + sql);
  auto from_stages = RunLote("query --output " + (tmp_ / "staged") + sql);
  ASSERT_EQ(from_run.exit_code, 0) << from_run.err;
  EXPECT_EQ(from_run.out, from_stages.out);
  EXPECT_GT(std::count(from_run.out.begin(), from_run.out.end(), '\n'), 20);  // patterns found
  EXPECT_NE(from_run.out.find(",****"), std::string::npos);  // masked by the default policy
}

TEST_F(PipelineCli, SecondRunOnTheSameOutputRefusesOrWaits) {
  std::set<std::string> ids = WriteBigInput();
  pid_t first = SpawnLote(RunArgs(), tmp_ / "log");
  // The catalog appears once the first run holds the lock.
  for (int i = 0; i < 200 && !fs::exists(tmp_ / "out/_catalog/lote.db"); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  auto refused = RunLote(RunArgs());
  EXPECT_EQ(refused.exit_code, 5) << refused.out << refused.err;
  EXPECT_NE(refused.err.find("another lote run is writing to"), std::string::npos) << refused.err;
  auto waited = RunLote(RunArgs("--lock-wait 120 --log-format json"));
  ASSERT_EQ(waited.exit_code, 0) << waited.err;
  EXPECT_FALSE(WaitKilled(first));
  EXPECT_EQ(json::parse(waited.out)["objects_skipped"], kFiles);  // the first did everything
  ExpectExactlyOnce(ids);
}

TEST_F(PipelineCli, MalformedRecordsOfEveryKindAreQuarantinedWithTheirReasons) {
  fs::create_directories(tmp_ / "in");
  std::string data;
  data += "{\"id\":\"ok1\",\"text\":\"quiero bloquear mi tarjeta\"}\n";
  data += "{\"id\":\"utf8\",\"text\":\"cobro \xff\xfe raro\"}\n";
  data += "{\"id\":\"json\",\"text\":\"sin cerrar\n";
  data += "{\"id\":\"notext\",\"body\":\"hola\"}\n";
  data += "{\"id\":\"number\",\"text\":42}\n";
  data += "{\"id\":\"empty\",\"text\":\"\"}\n";
  data += "{\"id\":\"blank\",\"text\":\" \\t \\u00a0 \"}\n";
  data += "{\"id\":\"tags\",\"text\":\"<p><br/></p>\"}\n";
  data += "{\"id\":\"control\",\"text\":\"\\u0001\\u0002\\u200b\"}\n";
  data += "{\"id\":\"long\",\"text\":\"" + std::string(300, 'a') + "\"}\n";
  data += "[1,2,3]\n";
  data += "{\"id\":\"ok2\",\"text\":\"transferencia fallida a nequi\"}\n";
  data += "{\"id\":\"ok1\",\"text\":\"repetido\"}\n";
  WriteAll(tmp_ / "in/feed.jsonl", data);
  WriteAll(tmp_ / "strict.yaml", "prep:\n  max_chars: 200\n  over_long: reject\n");
  auto r = RunLote(RunArgs("--log-format json --strict --config " + (tmp_ / "strict.yaml")));
  EXPECT_EQ(r.exit_code, 4) << r.err;
  json s = json::parse(r.out);
  EXPECT_EQ(s["records_in"], 13);
  EXPECT_EQ(s["records_out"], 2);
  EXPECT_EQ(s["records_duplicate"], 1);
  EXPECT_EQ(s["records_quarantined"], 10);
  json m = json::parse(ReadAll(s["manifest"].get<std::string>()));
  EXPECT_TRUE(m["reconciliation"]["ok"].get<bool>());

  auto q = RunLote("query --format json --output " + (tmp_ / "out") +
                   " \"SELECT line, stage, reason FROM quarantine ORDER BY line\"");
  ASSERT_EQ(q.exit_code, 0) << q.err;
  json rows = json::parse(q.out);
  ASSERT_EQ(rows.size(), 10u);
  // line -> (stage, a word of the reason)
  const std::vector<std::tuple<int, std::string, std::string>> expected = {
      {2, "ingest", "UTF-8"},  {3, "ingest", "JSON"}, {4, "ingest", "text"},
      {5, "ingest", "text"},   {6, "prep", "empty"},  {7, "prep", "empty"},
      {8, "prep", "empty"},    {9, "prep", "empty"},  {10, "prep", "too long"},
      {11, "ingest", "object"}};
  for (size_t i = 0; i < expected.size(); ++i) {
    const auto& [line, stage, word] = expected[i];
    EXPECT_EQ(rows[i]["line"], line);
    EXPECT_EQ(rows[i]["stage"], stage) << rows[i].dump();
    EXPECT_NE(rows[i]["reason"].get<std::string>().find(word), std::string::npos) << rows[i].dump();
  }
  std::set<std::string> published;
  for (const json& row : PublishedRows()) published.insert(row["record_id"].get<std::string>());
  EXPECT_EQ(published, (std::set<std::string>{"ok1", "ok2"}));
}

}  // namespace
}  // namespace lote::testing
