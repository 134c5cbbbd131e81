// Reliability of `lote run`'s engine: kill -9 at every step of the commit protocol (and at
// arbitrary records), rerun, and check that every record was published exactly once; two runs
// on one output at once. The processes are forked children running the library with the fake
// engine (the real model engine is not needed to prove the storage protocol).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <set>
#include <string>

#include "lote/pipeline/catalog.h"
#include "lote/pipeline/pipeline.h"
#include "pipeline/fake_engine.h"
#include "pipeline/pipeline_test_util.h"

namespace lote::pipeline {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr int kRecordsPerFile = 300;

class PipelineCrashTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static std::atomic<int> counter{0};
    dir_ = (fs::temp_directory_path() /
            ("lote_crash_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++)))
               .string();
    fs::create_directories(dir_ + "/in");
    local_ = storage::NewLocalStorage();
    // Three objects, each with good records, a bad JSON line, an empty text and a duplicate id.
    for (int f = 0; f < 3; ++f) {
      std::string data;
      for (int i = 0; i < kRecordsPerFile; ++i) {
        std::string id = "f" + std::to_string(f) + "-" + std::to_string(i);
        data += "{\"id\":\"" + id + "\",\"text\":\"" + (i % 2 ? "pagar" : "bloquear") + " cuota " +
                std::to_string(i) + "\"}\n";
      }
      data += "{broken\n{\"id\":\"empty" + std::to_string(f) + "\",\"text\":\" \"}\n";
      data += "{\"id\":\"f0-0\",\"text\":\"duplicado\"}\n";
      ASSERT_TRUE(local_->Write(dir_ + "/in/part" + std::to_string(f) + ".jsonl", data).ok());
    }
    options_.input_uri = dir_ + "/in";
    options_.output_uri = dir_ + "/out";
    options_.threads = 2;
    options_.batch_records = 16;
    options_.max_part_bytes = 16 << 10;  // several parts per object
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Runs the pipeline in a child that SIGKILLs itself at the `nth` hit of `point` (or at the
  // `nth` inference when point is "infer"). Returns true if the child was killed.
  bool RunAndKill(const std::string& point, int nth) {
    pid_t child = ::fork();
    if (child == 0) {
      auto engine = std::make_shared<testing::FakeInferenceEngine>();
      std::atomic<int> hits{0};
      PipelineOptions o = options_;
      if (point == "infer") {
        engine->on_infer = [&](std::string_view) {
          if (++hits == nth) ::kill(::getpid(), SIGKILL);
        };
      } else {
        o.fault_hook = [&](std::string_view p) {
          if (p == point && ++hits == nth) ::kill(::getpid(), SIGKILL);
        };
      }
      auto r = RunPipeline(o, engine);
      ::_exit(r.ok() ? 0 : 3);
    }
    int status = 0;
    ::waitpid(child, &status, 0);
    if (WIFSIGNALED(status)) return WTERMSIG(status) == SIGKILL;
    EXPECT_EQ(WEXITSTATUS(status), 0) << "child run failed without being killed";
    return false;
  }

  // The invariants of a finished output: every good record exactly once, every bad one
  // quarantined exactly once, the catalog and the manifest agreeing with the files.
  void ExpectExactlyOnce() {
    auto engine = std::make_shared<testing::FakeInferenceEngine>();
    auto report = RunPipeline(options_, engine);
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    std::vector<json> rows = testing::ReadRows(*local_, dir_ + "/out/results");
    std::multiset<std::string> ids;
    for (const json& r : rows) ids.insert(r["record_id"].get<std::string>());
    ASSERT_EQ(rows.size(), 3u * kRecordsPerFile);
    ASSERT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), rows.size())
        << "a record was published twice";
    for (int f = 0; f < 3; ++f) {
      for (int i = 0; i < kRecordsPerFile; i += 37) {
        EXPECT_EQ(ids.count("f" + std::to_string(f) + "-" + std::to_string(i)), 1u);
      }
    }
    std::vector<json> q = testing::ReadRows(*local_, dir_ + "/out/quarantine");
    EXPECT_EQ(q.size(), 6u);  // per file: the broken line and the empty text
    std::string catalog = dir_ + "/out/_catalog/lote.db";
    auto n = QueryCatalog(catalog, "SELECT count(*), count(DISTINCT record_id) FROM results");
    ASSERT_TRUE(n.ok());
    EXPECT_EQ(n->rows[0][0].text, std::to_string(3 * kRecordsPerFile));
    EXPECT_EQ(n->rows[0][1].text, std::to_string(3 * kRecordsPerFile));
    auto runs = QueryCatalog(catalog,
                             "SELECT sum(records_in), sum(records_out), sum(records_quarantined), "
                             "sum(records_duplicate) FROM runs WHERE state = 'succeeded'");
    ASSERT_TRUE(runs.ok());
    const int in_per_file = kRecordsPerFile + 3;
    EXPECT_EQ(runs->rows[0][0].text, std::to_string(3 * in_per_file));
    EXPECT_EQ(runs->rows[0][1].text, std::to_string(3 * kRecordsPerFile));
    EXPECT_EQ(runs->rows[0][2].text, "6");
    EXPECT_EQ(runs->rows[0][3].text, "3");
    auto manifest = local_->Read(report->manifest_uri);
    ASSERT_TRUE(manifest.ok());
    EXPECT_TRUE(json::parse(*manifest)["reconciliation"]["ok"].get<bool>());
    EXPECT_FALSE(fs::exists(dir_ + "/out/_staging"));
    // Nothing left half-written anywhere in the output.
    for (const auto& e : fs::recursive_directory_iterator(dir_ + "/out")) {
      EXPECT_EQ(e.path().string().find(".lote-tmp-"), std::string::npos) << e.path();
    }
  }

  std::string dir_;
  std::shared_ptr<storage::Storage> local_;
  PipelineOptions options_;
};

struct KillPoint {
  const char* point;
  int nth;
};

class PipelineKillTest : public PipelineCrashTest,
                         public ::testing::WithParamInterface<KillPoint> {};

TEST_P(PipelineKillTest, RerunAfterKillPublishesEveryRecordExactlyOnce) {
  EXPECT_TRUE(RunAndKill(GetParam().point, GetParam().nth)) << "kill point never reached";
  ExpectExactlyOnce();
}

INSTANTIATE_TEST_SUITE_P(
    CommitProtocol, PipelineKillTest,
    ::testing::Values(KillPoint{"attempt_begun", 1}, KillPoint{"first_batch_written", 1},
                      KillPoint{"parts_closed", 1}, KillPoint{"committed", 1},
                      KillPoint{"first_part_renamed", 1}, KillPoint{"object_done", 1},
                      KillPoint{"attempt_begun", 2}, KillPoint{"committed", 2},
                      KillPoint{"first_part_renamed", 3}, KillPoint{"object_done", 3},
                      KillPoint{"manifest_written", 1}, KillPoint{"infer", 5},
                      KillPoint{"infer", 450}, KillPoint{"infer", 890}),
    [](const ::testing::TestParamInfo<KillPoint>& info) {
      return std::string(info.param.point) + "_" + std::to_string(info.param.nth);
    });

TEST_F(PipelineCrashTest, SurvivesRepeatedKillsInARow) {
  // Kill the same run again and again at different places before letting it finish.
  EXPECT_TRUE(RunAndKill("first_batch_written", 1));
  EXPECT_TRUE(RunAndKill("committed", 1));
  EXPECT_TRUE(RunAndKill("first_part_renamed", 1));
  EXPECT_TRUE(RunAndKill("infer", 100));
  ExpectExactlyOnce();
  auto runs = QueryCatalog(dir_ + "/out/_catalog/lote.db", "SELECT count(*) FROM runs");
  ASSERT_TRUE(runs.ok());
  EXPECT_EQ(runs->rows[0][0].text, "1");  // every rerun resumed the same run
}

TEST_F(PipelineCrashTest, TwoRunsOnOneOutputNeverBothWrite) {
  int to_parent[2], to_child[2];
  ASSERT_EQ(::pipe(to_parent), 0);
  ASSERT_EQ(::pipe(to_child), 0);
  pid_t child = ::fork();
  if (child == 0) {
    PipelineOptions o = options_;
    bool paused = false;
    o.fault_hook = [&](std::string_view p) {
      if (p == "attempt_begun" && !paused) {
        paused = true;
        char c = 'r';
        (void)!::write(to_parent[1], &c, 1);
        (void)!::read(to_child[0], &c, 1);  // hold the lock until the parent has tried
      }
    };
    auto r = RunPipeline(o, std::make_shared<testing::FakeInferenceEngine>());
    ::_exit(r.ok() ? 0 : 3);
  }
  char c = 0;
  ASSERT_EQ(::read(to_parent[0], &c, 1), 1);
  auto second = RunPipeline(options_, std::make_shared<testing::FakeInferenceEngine>());
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(second.status().message().find("pid=" + std::to_string(child)), std::string::npos)
      << second.status().message();
  // Waiting for the lock works too: release the child, then wait for it.
  PipelineOptions patient = options_;
  patient.lock_wait_seconds = 60;
  (void)!::write(to_child[1], &c, 1);
  auto third = RunPipeline(patient, std::make_shared<testing::FakeInferenceEngine>());
  ASSERT_TRUE(third.ok()) << third.status().ToString();
  int status = 0;
  ::waitpid(child, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_EQ(third->objects_skipped, 3u);  // the first run did everything
  ExpectExactlyOnce();
}

TEST_F(PipelineCrashTest, InputRewrittenInPlaceDuringARunIsANewVersionForTheNextRun) {
  // Rewriting the file in place (same inode) while the pipeline works on it. The run publishes
  // a consistent snapshot: exactly the bytes it hashed while reading (if the rewrite lands inside
  // what is still to be read, the attempt is discarded and redone, logged as "changed while being
  // read"). The next run sees new content under the same URI, processes it as a new object
  // version, and the `results` view shows the latest version of each record.
  // part0 is listed first and is small enough to be read whole before its first inference:
  // rewriting its first record then changes the file after the run has read (and hashed) it.
  std::string path = dir_ + "/in/part0.jsonl";
  auto engine = std::make_shared<testing::FakeInferenceEngine>();
  std::atomic<bool> rewritten{false};
  engine->on_infer = [&](std::string_view) {
    if (!rewritten.exchange(true)) {
      FILE* f = std::fopen(path.c_str(), "r+");
      ASSERT_NE(f, nullptr);
      // Same length as {"id":"f0-0","text":"bloquear cuota 0"}: the file keeps its size.
      std::fputs("{\"id\":\"f0-0\",\"text\":\"zzzzzzzzzzzzzzzz\"}", f);
      std::fclose(f);
    }
  };
  PipelineOptions o = options_;
  o.threads = 1;
  auto first = RunPipeline(o, engine);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_TRUE(rewritten.load());
  auto second = RunPipeline(o, std::make_shared<testing::FakeInferenceEngine>());
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->objects_processed, 1u);  // only the rewritten object
  auto row = QueryCatalog(dir_ + "/out/_catalog/lote.db",
                          "SELECT label FROM results WHERE record_id = 'f0-0'");
  ASSERT_TRUE(row.ok());
  ASSERT_EQ(row->rows.size(), 1u);
  EXPECT_EQ(row->rows[0][0].text, "otro");  // the rewritten text, not "bloquear cuota 0"
  auto latest = QueryCatalog(dir_ + "/out/_catalog/lote.db",
                             "SELECT count(*), count(DISTINCT record_id) FROM results");
  ASSERT_TRUE(latest.ok());
  EXPECT_EQ(latest->rows[0][0].text, latest->rows[0][1].text);  // one row per record
}

}  // namespace
}  // namespace lote::pipeline
