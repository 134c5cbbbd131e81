// `lote run` on S3 through the CLI, against moto_server started by the test: s3 -> s3 exactly
// once with no local state (each process runs as a new machine would: its own working directory
// and an empty HOME, so its catalog cache starts empty), the same through a proxy failing 10 % of
// requests, runs killed with SIGKILL at several points and resumed elsewhere, two runs started
// at once, storage.s3 settings from the config file, and clear errors for a missing bucket and
// an unreachable endpoint.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "cli_runner.h"
#include "lote/aws/credentials.h"
#include "lote/storage/s3_storage.h"
#include "pipeline/pipeline_test_util.h"
#include "testing/fault_proxy.h"
#include "testing/moto_server.h"

namespace lote::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr int kS3Files = 3;
constexpr int kS3RecordsPerFile = 4000;

class S3Cli : public SampleModelTest {
 protected:
  void SetUp() override {
    SampleModelTest::SetUp();
    if (HasFatalFailure()) return;
    auto moto = SharedMotoServer();
    ASSERT_TRUE(moto.ok()) << moto.status().ToString();
    moto_ = *moto;
    bucket_ = UniqueBucketName("cli");
    ASSERT_TRUE(moto_->CreateBucket(bucket_).ok());
    auto s3 = storage::NewS3Storage(MotoS3Options(moto_->endpoint()));
    ASSERT_TRUE(s3.ok()) << s3.status().ToString();
    s3_ = *s3;
  }

  // The environment lote runs with: credentials and endpoint as the AWS CLI takes them, no
  // profile, no instance metadata; a new working directory and an empty HOME each time (a new
  // machine: no catalog cache), no XDG_CACHE_HOME.
  std::string Env(const std::string& endpoint = "") {
    const std::string machine = tmp_ / ("machine-" + std::to_string(machines_++));
    fs::create_directories(machine + "/home");
    fs::create_directories(machine + "/work");
    return "env -C " + machine +
           "/work -u AWS_PROFILE -u AWS_SESSION_TOKEN -u AWS_CONFIG_FILE "
           "-u AWS_SHARED_CREDENTIALS_FILE -u AWS_ENDPOINT_URL_S3 -u XDG_CACHE_HOME HOME=" +
           machine + "/home" +
           " AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1 "
           "AWS_EC2_METADATA_DISABLED=true AWS_ENDPOINT_URL=" +
           (endpoint.empty() ? moto_->endpoint() : endpoint);
  }
  std::string In() const { return "s3://" + bucket_ + "/raw/"; }
  std::string Out() const { return "s3://" + bucket_ + "/results"; }
  std::string RunArgs(const std::string& extra = "") const {
    return "run --input " + In() + " --output " + Out() + " --model " + Model() + " --threads 2 " +
           extra;
  }
  // Entries of the output's ledger log of one type.
  int LogEntries(const std::string& type) {
    int n = 0;
    auto listed = s3_->List(Out() + "/_ledger/log/");
    if (!listed.ok()) return 0;
    for (const auto& e : *listed) n += json::parse(*s3_->Read(e.uri))["type"] == type ? 1 : 0;
    return n;
  }

  // kS3Files JSONL objects of sample texts with unique ids (one key with a space and a non-ASCII
  // character), plus per object one malformed line. Returns the ids.
  std::set<std::string> WriteInput() {
    std::vector<std::string> texts;
    std::ifstream in(std::string(LOTE_SAMPLE_DIR) + "/train.jsonl");
    for (std::string line; std::getline(in, line);) {
      texts.push_back(json::parse(line)["text"].get<std::string>());
    }
    std::set<std::string> ids;
    for (int f = 0; f < kS3Files; ++f) {
      std::string data;
      for (int i = 0; i < kS3RecordsPerFile; ++i) {
        std::string id =
            std::string(1, 'f').append(std::to_string(f)).append("-").append(std::to_string(i));
        ids.insert(id);
        data += json{{"id", id}, {"text", texts[(f * 7919 + i) % texts.size()]}}.dump() + "\n";
      }
      data += "{\"id\": \"broken\n";
      const std::string key =
          f == 1 ? "raw/día 1/feed.jsonl" : "raw/feed-" + std::to_string(f) + ".jsonl";
      EXPECT_TRUE(s3_->Write("s3://" + bucket_ + "/" + key, data).ok());
    }
    return ids;
  }

  // Every id exactly once in the published parts and the catalog; every run reconciles.
  void ExpectExactlyOnce(const std::set<std::string>& ids) {
    std::multiset<std::string> seen;
    for (const json& r : pipeline::testing::ReadRows(*s3_, Out() + "/results")) {
      seen.insert(r["record_id"].get<std::string>());
    }
    EXPECT_EQ(seen.size(), ids.size()) << "rows in the part files";
    EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()), ids);
    // The catalog of a new machine, rebuilt from the ledger on the bucket.
    auto q = RunLote("query --format json --output " + Out() +
                         " \"SELECT count(*) AS n, count(DISTINCT record_id) AS ids FROM results\"",
                     Env());
    ASSERT_EQ(q.exit_code, 0) << q.err;
    json n = json::parse(q.out);
    EXPECT_EQ(n[0]["n"], ids.size());
    EXPECT_EQ(n[0]["ids"], ids.size());
    auto runs = s3_->List(Out() + "/_runs/");
    ASSERT_TRUE(runs.ok()) << runs.status().ToString();
    for (const auto& m : *runs) {
      if (!m.uri.ends_with("/manifest.json")) continue;
      json manifest = json::parse(*s3_->Read(m.uri));
      EXPECT_TRUE(manifest["reconciliation"]["ok"].get<bool>()) << m.uri;
    }
  }

  TempDir tmp_;
  MotoServer* moto_ = nullptr;
  int machines_ = 0;
  std::string bucket_;
  std::shared_ptr<storage::Storage> s3_;
};

TEST_F(S3Cli, RunsS3ToS3ExactlyOnceAndARerunDoesNothing) {
  std::set<std::string> ids = WriteInput();
  auto r = RunLote(RunArgs("--log-format json"), Env());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json summary = json::parse(r.out);
  EXPECT_EQ(summary["records_out"], ids.size());
  EXPECT_EQ(summary["records_quarantined"], kS3Files);
  ExpectExactlyOnce(ids);
  EXPECT_EQ(s3_->Stat(Out() + "/_lock").status().code(), StatusCode::kNotFound)
      << "the output lock is released";
  auto again = RunLote(RunArgs("--log-format json"), Env());
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(json::parse(again.out)["objects_skipped"], kS3Files);
  ExpectExactlyOnce(ids);
}

TEST_F(S3Cli, CompletesExactlyOnceWithTenPercentOfRequestsFailing) {
  std::set<std::string> ids = WriteInput();
  FaultProxyOptions po;
  po.upstream_port = moto_->port();
  po.fault_rate = 0.10;
  po.seed = 12;
  po.stall_seconds = 0.3;
  auto proxy = FaultProxy::Start(po);
  ASSERT_TRUE(proxy.ok()) << proxy.status().ToString();
  auto r = RunLote(RunArgs("--log-format json"), Env((*proxy)->endpoint()));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const FaultCounters c = (*proxy)->counters();
  EXPECT_GE(c.faults(), 1u) << "no faults were injected in " << c.requests << " requests";
  ExpectExactlyOnce(ids);
}

TEST_F(S3Cli, ARunKilledMidWayAndRunAgainPublishesEveryRecordOnce) {
  std::set<std::string> ids = WriteInput();
  // A killed run leaves its lock object behind; a short TTL lets the next run take it over. Not
  // too short: under TSan on a loaded machine a renewal once took longer than the 1 s a 2 s TTL
  // left it, and the live run stopped (as it must) before its lock could expire.
  const std::string config = tmp_ / "lock.yaml";
  std::ofstream(config) << "storage:\n  s3:\n    lock_ttl_seconds: 5\n    lock_renew_seconds: 1\n";
  const std::string args = RunArgs("--config " + config + " --lock-wait 30");
  auto count = [&](const std::string& prefix) {
    auto listed = s3_->List(prefix);
    return listed.ok() ? listed->size() : size_t{0};
  };
  // Killed once the run is in the ledger, once an object's commit entry is written (its parts
  // may not be moved yet), once more parts are published; each time the next process runs as a
  // new machine.
  const std::string log = Out() + "/_ledger/log/";
  const std::vector<std::function<bool(size_t)>> points = {
      [&](size_t) { return LogEntries("run") > 0; },
      [&](size_t before) { return count(log) > before; },
      [&](size_t) { return count(Out() + "/results/") > 0 && count(log) > 0; },
  };
  int killed = 0;
  for (const auto& progressed : points) {
    const size_t before = count(log);
    pid_t pid = SpawnLote(args, tmp_ / "log", Env());
    killed += KillOnceProgressed(
        pid, [&] { return progressed(before); }, 5);
  }
  EXPECT_GE(killed, 2) << "the runs finished before they could be killed";
  auto r = RunLote(args + " --log-format json", Env());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json summary = json::parse(r.out);
  EXPECT_TRUE(summary["resumed"].get<bool>()) << "the killed run is resumed, not a new one";
  EXPECT_EQ(summary["records_out"], ids.size());
  EXPECT_EQ(summary["records_quarantined"], kS3Files);
  ExpectExactlyOnce(ids);
  EXPECT_EQ(LogEntries("commit"), kS3Files) << "each object committed once";
  EXPECT_EQ(count(Out() + "/_staging/"), 0u);
  EXPECT_EQ(s3_->Stat(Out() + "/_lock").status().code(), StatusCode::kNotFound);
}

TEST_F(S3Cli, TwoRunsStartedAtOnceOnTwoMachinesNeverBothCommit) {
  std::set<std::string> ids = WriteInput();
  // Without waiting: the loser refuses (exit 5, naming the lock). With waiting: it runs after
  // the winner and finds everything done.
  for (const char* wait : {"0", "60"}) {
    SCOPED_TRACE(std::string("--lock-wait ") + wait);
    const std::string args = RunArgs(std::string("--log-format json --lock-wait ") + wait);
    pid_t a = SpawnLote(args, tmp_ / "a.out", Env(), tmp_ / "a.err");
    pid_t b = SpawnLote(args, tmp_ / "b.out", Env(), tmp_ / "b.err");
    int status_a = 0, status_b = 0;
    ::waitpid(a, &status_a, 0);
    ::waitpid(b, &status_b, 0);
    const int code_a = WIFEXITED(status_a) ? WEXITSTATUS(status_a) : -1;
    const int code_b = WIFEXITED(status_b) ? WEXITSTATUS(status_b) : -1;
    std::vector<int> codes = {code_a, code_b};
    std::sort(codes.begin(), codes.end());
    EXPECT_EQ(codes[0], 0) << ReadAll(tmp_ / "a.err") << ReadAll(tmp_ / "b.err");
    if (codes[1] != 0) {
      const std::string err = ReadAll(code_a != 0 ? tmp_ / "a.err" : tmp_ / "b.err");
      EXPECT_EQ(codes[1], 5) << err;
      EXPECT_NE(err.find("lock"), std::string::npos) << err;
    }
    ExpectExactlyOnce(ids);
    EXPECT_EQ(LogEntries("commit"), kS3Files) << "each object committed once";
  }
}

TEST_F(S3Cli, TakesS3SettingsFromTheConfigFile) {
  std::set<std::string> ids = WriteInput();
  const std::string config = tmp_ / "s3.yaml";
  std::ofstream(config) << "storage:\n  s3:\n    endpoint: " << moto_->endpoint()
                        << "\n    addressing: path\n    sse: AES256\n    max_attempts: 3\n";
  // The environment's endpoint points nowhere: the config's wins.
  auto r = RunLote(RunArgs("--config " + config), Env("http://127.0.0.1:1"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ExpectExactlyOnce(ids);
  std::ofstream(config) << "storage:\n  s3:\n    part_bytes: 1024\n";
  auto bad = RunLote(RunArgs("--config " + config), Env());
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("s3.yaml:3"), std::string::npos) << bad.err;
}

TEST_F(S3Cli, AMissingBucketOrAnUnreachableEndpointIsAClearError) {
  auto missing = RunLote(
      "run --input s3://no-such-bucket-1/raw/ --output " + Out() + " --model " + Model(), Env());
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.err.find("bucket no-such-bucket-1 does not exist"), std::string::npos)
      << missing.err;
  auto unreachable = RunLote(RunArgs(), Env("http://127.0.0.1:1") + " ");
  EXPECT_NE(unreachable.exit_code, 0);
  EXPECT_NE(unreachable.err.find("gave up after"), std::string::npos) << unreachable.err;
  EXPECT_EQ(unreachable.err.find("testing"), std::string::npos) << "a credential in the error";
}

TEST(Config, TheBundledConfigFileIsAccepted) {
  TempDir tmp;
  auto r = RunLote("run --config " + std::string(LOTE_SOURCE_DIR) + "/config/pipeline.yaml" +
                   " --input " + (tmp / "none") + " --output " + (tmp / "out") +
                   " --model /nonexistent.lote");
  EXPECT_EQ(r.err.find("bad config"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace lote::testing
