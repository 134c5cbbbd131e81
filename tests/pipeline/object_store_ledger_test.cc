// The ledger of an output on an object store (OpenObjectStoreLedger): the log under
// OUTPUT/_ledger/log is the truth and the SQLite catalog a cache that can be deleted at any time,
// rebuilt from the log and the published files. Runs here on mem://; tests/integration/
// s3_cli_test.cc runs `lote run` s3 -> s3 killed and resumed from an empty HOME on moto.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <set>
#include <string>

#include "lote/base/digest.h"
#include "lote/io/byte_source.h"
#include "lote/pipeline/catalog.h"
#include "lote/pipeline/ledger.h"
#include "lote/pipeline/pipeline.h"
#include "lote/storage/fault_injecting_storage.h"
#include "pipeline/fake_engine.h"
#include "pipeline/pipeline_test_util.h"

namespace lote::pipeline {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::FakeInferenceEngine;
using testing::ReadRows;

constexpr const char* kLog = "mem://t/out/_ledger/log";

class ObjectStoreLedgerTest : public testing::MemPipelineTest {
 protected:
  void SetUp() override {
    SetUpMem("lote_osl_test", "mem://t/out", "cache-a.db");
    options_.threads = 2;
    options_.batch_records = 3;
    Put("a.jsonl",
        "{\"id\":\"m1\",\"text\":\"Quiero pagar mi tarjeta\"}\n"
        "{\"id\":\"m2\",\"text\":\"bloquear la cuenta\"}\n"
        "not json\n");
    Put("b.csv", "id,text\nc1,hola buenas\nc2,\"how do I pay, please\"\nc3,FAILME now\n");
    Put("c.jsonl",
        "{\"id\":\"m1\",\"text\":\"delivered twice\"}\n{\"id\":\"d1\",\"text\":\"x\"}\n");
  }

  void Put(const std::string& rel, const std::string& data) {
    ASSERT_TRUE(mem_->Write("mem://t/in/" + rel, data).ok());
  }
  // Rows of a catalog query, as one string per row (cells joined by '|').
  std::vector<std::string> Rows(const std::string& catalog, const std::string& sql) {
    auto r = QueryCatalog(catalog, sql);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    std::vector<std::string> out;
    if (!r.ok()) return out;
    for (const auto& row : r->rows) {
      std::string line;
      for (const auto& cell : row) line += cell.text + "|";
      out.push_back(line);
    }
    return out;
  }
  // What a catalog says about the output, for comparing a cache with its rebuild.
  std::vector<std::string> CatalogState(const std::string& catalog) {
    std::vector<std::string> all;
    for (const char* sql :
         // The live cache keeps the score as the files have it, so a rebuilt one equals it.
         {"SELECT record_id, source, line, text_hmac, lang, label, score, top_k, "
          "entities, model_version, preprocess_version, run_id, processed_at, dt, model FROM "
          "results ORDER BY record_id",
          "SELECT count(*) FROM results_history",
          "SELECT record_id, source, line, stage, reason, run_id, dt, model FROM quarantine "
          "ORDER BY record_id, line",
          "SELECT run_id, state, records_in, records_out, records_quarantined, "
          "records_duplicate, manifest, flow_execution FROM runs ORDER BY run_id",
          "SELECT run_id, model_version, verdict, records, estimated_accuracy, report FROM "
          "monitoring ORDER BY run_id",
          "SELECT * FROM drift_signals ORDER BY run_id, name",
          "SELECT dt, model_version, lang, label, score_tenth, records, round(score_sum, 4) FROM "
          "results_daily ORDER BY 1, 2, 3, 4, 5",
          "SELECT * FROM entities_daily ORDER BY 1, 2, 3, 4, 5",
          "SELECT * FROM quarantine_daily ORDER BY 1, 2, 3"}) {
      for (auto& row : Rows(catalog, sql)) all.push_back(std::move(row));
    }
    return all;
  }
  // Opens the ledger as `lote query` does (a reader), bringing `cache` up to date.
  Status Sync(const std::string& cache) {
    PipelineOptions o = options_;
    o.catalog_path = cache;
    std::string path;
    return OpenOutputLedger(o, /*writer=*/false, nullptr, &path).status();
  }
  std::set<std::string> Entries() {
    std::set<std::string> names;
    auto listed = mem_->List(kLog);
    if (listed.ok()) {
      for (const auto& info : *listed) names.insert(info.uri.substr(info.uri.rfind('/') + 1));
    }
    return names;
  }
};

TEST_F(ObjectStoreLedgerTest, EveryStepIsAnEntryInTheLog) {
  auto report = RunPipeline(options_, engine_);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  // 0: the ledger; 1: the writer's claim; 2: run started; 3-5: the three objects; 6: the
  // monitoring report; 7: run finished.
  std::set<std::string> expected;
  for (int i = 0; i <= 7; ++i) {
    char name[32];
    std::snprintf(name, sizeof(name), "%020d.json", i);
    expected.insert(name);
  }
  EXPECT_EQ(Entries(), expected);
  auto first = json::parse(*mem_->Read(std::string(kLog) + "/00000000000000000000.json"));
  EXPECT_EQ(first["type"], "ledger");
  EXPECT_EQ(first["output"], "mem://t/out");
  EXPECT_EQ(first["ledger_id"].get<std::string>().size(), 32u);
  EXPECT_EQ(json::parse(*mem_->Read(std::string(kLog) + "/00000000000000000001.json"))["type"],
            "writer");
  auto commit = json::parse(*mem_->Read(std::string(kLog) + "/00000000000000000003.json"));
  EXPECT_EQ(commit["type"], "commit");
  EXPECT_EQ(commit["run_id"], report->run_id);
  EXPECT_EQ(commit["object"]["uri"], "mem://t/in/a.jsonl");
  ASSERT_FALSE(commit["parts"].empty());
  for (const json& part : commit["parts"]) {
    EXPECT_TRUE(mem_->Stat(part["final"].get<std::string>()).ok()) << part.dump();
  }
  auto monitoring = json::parse(*mem_->Read(std::string(kLog) + "/00000000000000000006.json"));
  EXPECT_EQ(monitoring["type"], "monitoring");
  const json monitoring_report = json::parse(monitoring["report"].get<std::string>());
  EXPECT_EQ(monitoring_report["run_id"], report->run_id);
  EXPECT_EQ(monitoring_report["verdict"], report->monitoring.verdict);
  auto last = json::parse(*mem_->Read(std::string(kLog) + "/00000000000000000007.json"));
  EXPECT_EQ(last["type"], "run_finished");
  EXPECT_EQ(last["state"], "succeeded");
  EXPECT_EQ(last["totals"]["records_in"], report->counts.records_in);
}

TEST_F(ObjectStoreLedgerTest, ADeletedCacheIsRebuiltFromTheLogAndTheFiles) {
  options_.flow_execution = "arn:aws:states:local:000000000000:execution:pipeline:e1";
  auto first = RunPipeline(options_, engine_);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_EQ(first->counts.records_duplicate, 1u);  // m1 of c.jsonl
  const std::vector<std::string> before = CatalogState(options_.catalog_path);
  ASSERT_FALSE(before.empty());

  // Another machine: a new cache, brought up to date by `lote query`'s reader.
  const std::string fresh = dir_ + "/cache-b.db";
  ASSERT_TRUE(Sync(fresh).ok());
  EXPECT_EQ(CatalogState(fresh), before);
  EXPECT_GT(testing::ExpectSummariesMatchTheViews(fresh), 0);
  EXPECT_EQ(Rows(fresh, "SELECT flow_execution FROM runs"),
            std::vector<std::string>{options_.flow_execution + "|"});

  // And the dedup state came back too: a run from that machine skips every object and a new
  // object delivering m2 again is a duplicate.
  options_.catalog_path = fresh;
  Put("d.jsonl", "{\"id\":\"m2\",\"text\":\"again\"}\n{\"id\":\"e1\",\"text\":\"nuevo\"}\n");
  auto second = RunPipeline(options_, engine_);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->objects_skipped, 3u);
  EXPECT_EQ(second->counts.records_in, 2u);
  EXPECT_EQ(second->counts.records_out, 1u);
  EXPECT_EQ(second->counts.records_duplicate, 1u);

  // The first machine's cache catches up with the second's run when opened.
  ASSERT_TRUE(Sync(dir_ + "/cache-a.db").ok());
  EXPECT_EQ(CatalogState(dir_ + "/cache-a.db"), CatalogState(fresh));
}

TEST_F(ObjectStoreLedgerTest, AForcedRerunReplaysToTheLatestVersionOnly) {
  ASSERT_TRUE(RunPipeline(options_, engine_).ok());
  options_.force = true;
  auto second = RunPipeline(options_, engine_);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  // The first run's parts are deleted; its entries still name them.
  const std::string fresh = dir_ + "/cache-b.db";
  ASSERT_TRUE(Sync(fresh).ok());
  EXPECT_EQ(CatalogState(fresh), CatalogState(options_.catalog_path));
  EXPECT_GT(testing::ExpectSummariesMatchTheViews(fresh), 0);
  EXPECT_EQ(Rows(fresh, "SELECT DISTINCT run_id FROM results"),
            std::vector<std::string>{second->run_id + "|"});
}

// A run that fails at each write in turn (storage down), then run again from a new machine (a
// new, empty cache) or the same one: every record exactly once, the same run resumed.
TEST_F(ObjectStoreLedgerTest, RunFailingAtEveryWriteThenResumedAnywherePublishesExactlyOnce) {
  // A clean run for the expected outcome and the number of writes.
  auto clean_store = storage::NewMemStorage();
  auto counting = std::make_shared<storage::FaultInjectingStorage>(clean_store);
  const auto inputs = mem_->List("mem://t/in");
  ASSERT_TRUE(inputs.ok());
  for (const auto& info : *inputs) {
    ASSERT_TRUE(clean_store->Write(info.uri, *mem_->Read(info.uri)).ok());
  }
  PipelineOptions clean = options_;
  clean.input_storage = clean_store;
  clean.output_storage = counting;
  clean.catalog_path = dir_ + "/clean.db";
  auto expected = RunPipeline(clean, engine_);
  ASSERT_TRUE(expected.ok()) << expected.status().ToString();
  const uint64_t writes = counting->write_count();
  ASSERT_GT(writes, 10u);
  const std::vector<std::string> expected_results =
      Rows(clean.catalog_path, "SELECT record_id, source, label FROM results ORDER BY 1");

  for (uint64_t n = 1; n <= writes; ++n) {
    for (bool new_machine : {false, true}) {
      SCOPED_TRACE("failing write " + std::to_string(n) + (new_machine ? ", new cache" : ""));
      auto store = storage::NewMemStorage();
      for (const auto& info : *inputs) {
        ASSERT_TRUE(store->Write(info.uri, *mem_->Read(info.uri)).ok());
      }
      auto faulty = std::make_shared<storage::FaultInjectingStorage>(store);
      faulty->FailNthWrite(n, UnavailableError("injected: storage down"), /*sticky=*/true);
      PipelineOptions o = options_;
      o.input_storage = store;
      o.output_storage = faulty;
      o.catalog_path = dir_ + "/fail-" + std::to_string(n) + ".db";
      auto failed = RunPipeline(o, engine_);
      if (failed.ok()) continue;  // the failing write was not needed (a best-effort delete)
      o.output_storage = store;
      if (new_machine) o.catalog_path = dir_ + "/resume-" + std::to_string(n) + ".db";
      auto resumed = RunPipeline(o, engine_);
      ASSERT_TRUE(resumed.ok()) << resumed.status().ToString();
      EXPECT_EQ(Rows(o.catalog_path, "SELECT record_id, source, label FROM results ORDER BY 1"),
                expected_results);
      // The files hold each record once, and what the catalog says.
      std::map<std::string, int> seen;
      for (const json& row : ReadRows(*store, "mem://t/out/results")) {
        ++seen[row["record_id"].get<std::string>() + "@" + row["source"].get<std::string>()];
      }
      EXPECT_EQ(seen.size(), expected_results.size());
      for (const auto& [id, count] : seen) EXPECT_EQ(count, 1) << id;
      EXPECT_EQ(ReadRows(*store, "mem://t/out/quarantine").size(),
                expected->counts.records_quarantined);
      // Nothing staged is left behind.
      auto staged = store->List("mem://t/out/_staging");
      EXPECT_TRUE(!staged.ok() || staged->empty());
    }
  }
}

TEST_F(ObjectStoreLedgerTest, AWriterThatLostTheLockCommitsNothing) {
  ASSERT_TRUE(RunPipeline(options_, engine_).ok());
  ObjectStoreLedgerOptions lo;
  lo.store = mem_;
  lo.output_uri = lo.canonical_uri = "mem://t/out";
  lo.cache_path = dir_ + "/one.db";
  auto one = OpenObjectStoreLedger(lo);
  ASSERT_TRUE(one.ok()) << one.status().ToString();
  lo.cache_path = dir_ + "/two.db";
  auto two = OpenObjectStoreLedger(lo);
  ASSERT_TRUE(two.ok()) << two.status().ToString();

  // Both believe they hold the lock; `two` opened (took the lock) last, so its claim entry leaves
  // `one`, the earlier holder, unable to append anything.
  auto commit = [](Ledger* ledger, const std::string& uri) -> Status {
    LOTE_ASSIGN_OR_RETURN(int64_t object_id, ledger->ObjectVersion(uri, 1, "c1"));
    AttemptInfo info;
    info.run_id = "r";
    info.dt = "2026-12-06";
    info.model_version = "m";
    info.preprocess_version = "p";
    LOTE_ASSIGN_OR_RETURN(int64_t attempt_id, ledger->BeginAttempt(object_id, info));
    std::vector<StagedPart> parts;
    return ledger->CommitAttempt(attempt_id, object_id, "mem://t/out", AttemptCounts{}, {}, &parts);
  };
  Status lost = commit(one->get(), "mem://t/in/x.jsonl");
  EXPECT_EQ(lost.code(), StatusCode::kAborted) << lost.ToString();
  EXPECT_NE(lost.message().find("lock was lost"), std::string::npos) << lost.ToString();
  ASSERT_TRUE(commit(two->get(), "mem://t/in/y.jsonl").ok());
  // The loser's cache rolled its attempt back.
  auto pending = (*one)->PendingCommits();
  ASSERT_TRUE(pending.ok());
  EXPECT_TRUE(pending->empty());
  auto object_id = (*one)->ObjectVersion("mem://t/in/x.jsonl", 1, "c1");
  ASSERT_TRUE(object_id.ok());
  auto done = (*one)->DoneAttempt(*object_id);
  ASSERT_TRUE(done.ok());
  EXPECT_FALSE(done->has_value());
}

TEST_F(ObjectStoreLedgerTest, ACacheOfADeletedOutputIsRebuilt) {
  ASSERT_TRUE(RunPipeline(options_, engine_).ok());
  ASSERT_TRUE(mem_->DeletePrefix("mem://t/out").ok());
  ASSERT_TRUE(mem_->DeletePrefix("mem://t/in").ok());
  Put("z.jsonl", "{\"id\":\"z1\",\"text\":\"pagar\"}\n");
  auto second = RunPipeline(options_, engine_);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(Rows(options_.catalog_path, "SELECT record_id FROM results"),
            std::vector<std::string>{"z1|"});
  EXPECT_EQ(Rows(options_.catalog_path, "SELECT count(*) FROM runs"),
            std::vector<std::string>{"1|"});
}

TEST_F(ObjectStoreLedgerTest, BrokenLogsAreRefusedNamingTheEntry) {
  ASSERT_TRUE(RunPipeline(options_, engine_).ok());
  const std::string entry3 = std::string(kLog) + "/00000000000000000003.json";
  const std::string saved = *mem_->Read(entry3);

  ASSERT_TRUE(mem_->Write(entry3, "{\"lote_ledger\":1,\"type\":\"commit\"}").ok());
  Status s = Sync(dir_ + "/x.db");
  EXPECT_EQ(s.code(), StatusCode::kDataLoss) << s.ToString();
  EXPECT_NE(s.message().find(entry3), std::string::npos) << s.ToString();

  ASSERT_TRUE(mem_->Write(entry3, "not json").ok());
  s = Sync(dir_ + "/y.db");
  EXPECT_EQ(s.code(), StatusCode::kDataLoss) << s.ToString();

  ASSERT_TRUE(mem_->Delete(entry3).ok());
  s = Sync(dir_ + "/z.db");
  EXPECT_EQ(s.code(), StatusCode::kDataLoss) << s.ToString();
  EXPECT_NE(s.message().find("misses entry 3"), std::string::npos) << s.ToString();

  // A part a commit names, gone: the cache cannot be rebuilt, and says which.
  ASSERT_TRUE(mem_->Write(entry3, saved).ok());
  const std::string part = json::parse(saved)["parts"][0]["final"].get<std::string>();
  ASSERT_TRUE(mem_->Delete(part).ok());
  s = Sync(dir_ + "/w.db");
  EXPECT_EQ(s.code(), StatusCode::kDataLoss) << s.ToString();
  EXPECT_NE(s.message().find(part), std::string::npos) << s.ToString();
}

TEST_F(ObjectStoreLedgerTest, ALogCopiedToAnotherOutputIsRefused) {
  ASSERT_TRUE(RunPipeline(options_, engine_).ok());
  const auto entries = mem_->List(kLog);
  ASSERT_TRUE(entries.ok());
  for (const auto& info : *entries) {
    const std::string to = "mem://t/copy/_ledger/log/" + info.uri.substr(info.uri.rfind('/') + 1);
    ASSERT_TRUE(mem_->Write(to, *mem_->Read(info.uri)).ok());
  }
  options_.output_uri = "mem://t/copy";
  auto run = RunPipeline(options_, engine_);
  ASSERT_FALSE(run.ok());
  // The cache of the first output refuses first; a new cache then refuses the log itself.
  options_.catalog_path = dir_ + "/other.db";
  run = RunPipeline(options_, engine_);
  EXPECT_EQ(run.status().code(), StatusCode::kFailedPrecondition) << run.status().ToString();
  EXPECT_NE(run.status().message().find("belongs to output mem://t/out"), std::string::npos)
      << run.status().ToString();
}

// Counts the whole-object reads of the input (what identifying an object costs).
class CountingReads : public storage::FaultInjectingStorage {
 public:
  using FaultInjectingStorage::FaultInjectingStorage;
  Result<std::unique_ptr<io::ByteSource>> OpenRead(std::string_view uri) const override {
    if (uri.starts_with("mem://t/in/")) ++reads;
    return FaultInjectingStorage::OpenRead(uri);
  }
  mutable std::atomic<int> reads{0};
};

TEST_F(ObjectStoreLedgerTest, AVersionSeenBeforeIsKnownByItsEtagWithoutReadingIt) {
  auto counting = std::make_shared<CountingReads>(mem_);
  options_.input_storage = counting;
  auto first = RunPipeline(options_, engine_);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(counting->reads.load(), 6) << "each object read twice: identified, then processed";

  counting->reads = 0;
  auto again = RunPipeline(options_, engine_);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->objects_skipped, 3u);
  EXPECT_EQ(counting->reads.load(), 0) << "done versions are known by URI, size and ETag";

  // Another machine knows them too: the ETags are in the commit entries.
  options_.catalog_path = dir_ + "/cache-b.db";
  auto elsewhere = RunPipeline(options_, engine_);
  ASSERT_TRUE(elsewhere.ok()) << elsewhere.status().ToString();
  EXPECT_EQ(elsewhere->objects_skipped, 3u);
  EXPECT_EQ(counting->reads.load(), 0);

  // A rewritten object has a new ETag: read, and processed as the new version it is.
  Put("a.jsonl", "{\"id\":\"m9\",\"text\":\"pagar\"}\n");
  auto changed = RunPipeline(options_, engine_);
  ASSERT_TRUE(changed.ok()) << changed.status().ToString();
  EXPECT_EQ(changed->objects_processed, 1u);
  EXPECT_EQ(changed->objects_skipped, 2u);
  EXPECT_EQ(counting->reads.load(), 2);
  // --force reads everything again.
  options_.force = true;
  counting->reads = 0;
  auto forced = RunPipeline(options_, engine_);
  ASSERT_TRUE(forced.ok()) << forced.status().ToString();
  EXPECT_EQ(forced->objects_processed, 3u);
}

// Fails the first Rename (a crash after the commit entry, before the parts are moved).
class FailFirstRename : public storage::FaultInjectingStorage {
 public:
  using FaultInjectingStorage::FaultInjectingStorage;
  Status Rename(std::string_view from, std::string_view to) override {
    if (!failed_.exchange(true)) return UnavailableError("injected: rename failed");
    return FaultInjectingStorage::Rename(from, to);
  }

 private:
  std::atomic<bool> failed_{false};
};

TEST_F(ObjectStoreLedgerTest, AReaderSeesACommitOnceARunHasFinishedMovingItsParts) {
  options_.output_storage = std::make_shared<FailFirstRename>(mem_);
  ASSERT_FALSE(RunPipeline(options_, engine_).ok());
  // Committed (its entry exists) but its parts are still staged: a reader does not show it yet.
  const std::string reader = dir_ + "/reader.db";
  ASSERT_TRUE(Sync(reader).ok());
  EXPECT_EQ(Rows(reader, "SELECT count(*) FROM results"), std::vector<std::string>{"0|"});
  // A run (here on the same machine as the failed one) finishes the move; the reader's next
  // sync shows the object, without the run's cache.
  options_.output_storage = mem_;
  auto finished = RunPipeline(options_, engine_);
  ASSERT_TRUE(finished.ok()) << finished.status().ToString();
  ASSERT_TRUE(Sync(reader).ok());
  EXPECT_EQ(Rows(reader, "SELECT count(*) FROM results"),
            Rows(options_.catalog_path, "SELECT count(*) FROM results"));
  EXPECT_EQ(Rows(reader, "SELECT count(*) FROM results"), std::vector<std::string>{"5|"});
  EXPECT_EQ(testing::ExpectSummariesMatchTheViews(reader), 5);
}

TEST_F(ObjectStoreLedgerTest, TheDefaultCacheFolderIsPrivate) {
  options_.catalog_path.clear();
  const std::string base = dir_ + "/xdg";
  fs::create_directories(base + "/lote/catalogs");
  fs::permissions(base + "/lote/catalogs", fs::perms::all);  // 0777: anyone could read it
  ::setenv("XDG_CACHE_HOME", base.c_str(), 1);
  std::string path;
  auto ledger = OpenOutputLedger(options_, /*writer=*/false, nullptr, &path);
  ::unsetenv("XDG_CACHE_HOME");
  ASSERT_TRUE(ledger.ok()) << ledger.status().ToString();
  EXPECT_EQ(fs::status(base + "/lote/catalogs").permissions() & fs::perms::all,
            fs::perms::owner_all);
  EXPECT_EQ(fs::status(base + "/lote").permissions() & fs::perms::all, fs::perms::owner_all);
  // A folder on the way that is a symlink (someone else's, say) is refused.
  const std::string other = dir_ + "/other";
  fs::create_directories(other + "/lote/catalogs");
  fs::create_directories(dir_ + "/xdg3/lote");
  fs::create_directory_symlink(other + "/lote/catalogs", dir_ + "/xdg3/lote/catalogs");
  ::setenv("XDG_CACHE_HOME", (dir_ + "/xdg3").c_str(), 1);
  auto refused = OpenOutputLedger(options_, /*writer=*/false, nullptr, &path);
  ::unsetenv("XDG_CACHE_HOME");
  EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition)
      << refused.status().ToString();
}

TEST_F(ObjectStoreLedgerTest, TheDefaultCacheIsPerOutputUnderXdgCacheHome) {
  options_.catalog_path.clear();
  ::setenv("XDG_CACHE_HOME", dir_.c_str(), 1);
  auto path = ResolveCatalogPath(options_);
  ::unsetenv("XDG_CACHE_HOME");
  ASSERT_TRUE(path.ok()) << path.status().ToString();
  EXPECT_EQ(*path, dir_ + "/lote/catalogs/" + Sha256Hex("mem://t/out").substr(0, 32) + ".db");
}

}  // namespace
}  // namespace lote::pipeline
