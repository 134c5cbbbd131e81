// `lote watch` through the CLI: new files are run once they settle (a file still being written
// is not taken half-way), SIGTERM finishes the run in hand and exits 0, a restarted watch runs
// nothing twice (the ledger), an S3 prefix on moto is watched the same way, and S3's event
// notifications are read from an SQS queue on moto (--queue).
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cli_runner.h"
#include "lote/aws/sqs.h"
#include "lote/storage/s3_storage.h"
#include "testing/moto_server.h"

namespace lote::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// `n` JSONL records with ids PREFIX-i and sample texts.
std::string Records(const std::string& prefix, int n) {
  std::vector<std::string> texts;
  std::ifstream in(std::string(LOTE_SAMPLE_DIR) + "/train.jsonl");
  for (std::string line; std::getline(in, line);) texts.push_back(json::parse(line)["text"]);
  std::string out;
  for (int i = 0; i < n; ++i) {
    out += json{{"id", prefix + "-" + std::to_string(i)}, {"text", texts[i % texts.size()]}}.dump();
    out += "\n";
  }
  return out;
}

// The JSON run summaries `lote watch` printed so far (one per line of its stdout).
std::vector<json> Summaries(const std::string& path) {
  std::vector<json> out;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    auto j = json::parse(line, nullptr, false);
    if (j.is_object()) out.push_back(std::move(j));
  }
  return out;
}

// Waits (bounded) until `done()` holds.
bool WaitFor(const std::function<bool()>& done, int seconds = 120) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

// Sends SIGTERM and expects exit 0.
void Terminate(pid_t pid) {
  ::kill(pid, SIGTERM);
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status)) << "killed by a signal instead of exiting";
  if (WIFEXITED(status)) {
    EXPECT_EQ(WEXITSTATUS(status), 0);
  }
}

class WatchCli : public SampleModelTest {
 protected:
  // Starts `lote watch` (stdout: the run summaries; stderr: the log).
  pid_t StartWatch(const std::string& input, const std::string& output, const std::string& extra,
                   const std::string& env = "", const std::string& settle = "1") {
    const std::string cmd = "watch --input " + input + " --output " + output + " --model " +
                            Model() + " --interval 0.2 --log-format json --settle " + settle + " " +
                            extra;
    return SpawnLote(cmd, tmp_ / "summaries", env, tmp_ / "watch.log");
  }
  std::string Log() const { return ReadAll(tmp_ / "watch.log"); }

  TempDir tmp_;
};

TEST_F(WatchCli, RunsSettledFilesOnceAndARestartRunsNothingTwice) {
  fs::create_directories(tmp_ / "in");
  const std::string out = tmp_ / "out";
  pid_t pid = StartWatch(tmp_ / "in", out, "");
  WriteAll(tmp_ / "in/a.jsonl", Records("a", 100));
  ASSERT_TRUE(WaitFor([&] { return Summaries(tmp_ / "summaries").size() == 1; })) << Log();
  // b is written in two steps, well within the settle time: it must be run whole.
  const std::string b = Records("b", 200);
  {
    std::ofstream f(tmp_ / "in/b.jsonl");
    f << b.substr(0, b.size() / 2) << std::flush;
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    f << b.substr(b.size() / 2);
  }
  ASSERT_TRUE(WaitFor([&] { return Summaries(tmp_ / "summaries").size() == 2; })) << Log();
  Terminate(pid);
  auto runs = Summaries(tmp_ / "summaries");
  EXPECT_EQ(runs[0]["records_out"], 100);
  EXPECT_EQ(runs[1]["records_out"], 200) << "b was taken before it had settled";
  EXPECT_NE(Log().find("starting a run on 1 object(s): " + (tmp_ / "in/b.jsonl")),
            std::string::npos)
      << Log();

  // A new watch process sees both files as new; the ledger knows they are done.
  fs::remove(tmp_ / "summaries");
  pid = StartWatch(tmp_ / "in", out, "");
  ASSERT_TRUE(WaitFor([&] { return Summaries(tmp_ / "summaries").size() == 1; })) << Log();
  Terminate(pid);
  json again = Summaries(tmp_ / "summaries")[0];
  EXPECT_EQ(again["objects_skipped"], 2);
  EXPECT_EQ(again["records_in"], 0);
  auto q = RunLote("query --format json --output " + out +
                   " \"SELECT count(*) AS n, count(DISTINCT record_id) AS ids FROM results\"");
  ASSERT_EQ(q.exit_code, 0) << q.err;
  EXPECT_EQ(json::parse(q.out)[0]["n"], 300);
  EXPECT_EQ(json::parse(q.out)[0]["ids"], 300);
}

TEST_F(WatchCli, MetricsAreReportedForEveryRun) {
  // --metrics was accepted by watch before it did anything with it.
  fs::create_directories(tmp_ / "in");
  pid_t pid = StartWatch(tmp_ / "in", tmp_ / "out", "--metrics emf:" + (tmp_ / "emf.jsonl"));
  WriteAll(tmp_ / "in/a.jsonl", Records("a", 50));
  ASSERT_TRUE(WaitFor([&] { return Summaries(tmp_ / "summaries").size() == 1; })) << Log();
  WriteAll(tmp_ / "in/b.jsonl", Records("b", 70));
  ASSERT_TRUE(WaitFor([&] { return Summaries(tmp_ / "summaries").size() == 2; })) << Log();
  Terminate(pid);
  std::vector<double> records_in;
  std::istringstream emf(ReadAll(tmp_ / "emf.jsonl"));
  for (std::string line; std::getline(emf, line);) {
    auto e = json::parse(line, nullptr, false);
    if (e.is_object() && e.contains("lote_job_records") && e.value("outcome", "") == "in") {
      records_in.push_back(e["lote_job_records"].get<double>());
    }
  }
  EXPECT_EQ(records_in, (std::vector<double>{50, 70})) << ReadAll(tmp_ / "emf.jsonl");
  EXPECT_NE(ReadAll(tmp_ / "emf.jsonl").find("lote_monitoring_verdict"), std::string::npos);
}
TEST_F(WatchCli, SigtermFinishesTheRunInHandAndExitsZero) {
  fs::create_directories(tmp_ / "in");
  pid_t pid = StartWatch(tmp_ / "in", tmp_ / "out", "", "", "0");
  WriteAll(tmp_ / "big.jsonl", Records("big", 40000));  // whole before it appears: settle is 0
  fs::rename(tmp_ / "big.jsonl", tmp_ / "in/big.jsonl");
  ASSERT_TRUE(WaitFor([&] { return Log().find("starting a run") != std::string::npos; })) << Log();
  Terminate(pid);  // while the run is going on, most likely: it takes a good fraction of a second
  auto runs = Summaries(tmp_ / "summaries");
  ASSERT_EQ(runs.size(), 1u) << Log();
  EXPECT_EQ(runs[0]["records_out"], 40000);
}

TEST_F(WatchCli, WatchesAnS3Prefix) {
  auto moto = SharedMotoServer();
  ASSERT_TRUE(moto.ok()) << moto.status().ToString();
  const std::string bucket = UniqueBucketName("watch");
  ASSERT_TRUE((*moto)->CreateBucket(bucket).ok());
  auto s3 = storage::NewS3Storage(MotoS3Options((*moto)->endpoint()));
  ASSERT_TRUE(s3.ok());
  const std::string env =
      "env -u AWS_PROFILE -u AWS_SESSION_TOKEN -u AWS_ENDPOINT_URL_S3 HOME=" + (tmp_ / "home") +
      " AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1 "
      "AWS_EC2_METADATA_DISABLED=true AWS_ENDPOINT_URL=" +
      (*moto)->endpoint();
  pid_t pid = StartWatch("s3://" + bucket + "/incoming/", "s3://" + bucket + "/results",
                         "--catalog " + (tmp_ / "catalog.db"), env);
  ASSERT_TRUE((*s3)->Write("s3://" + bucket + "/incoming/2024/x.jsonl", Records("x", 50)).ok());
  ASSERT_TRUE(WaitFor([&] { return Summaries(tmp_ / "summaries").size() == 1; })) << Log();
  Terminate(pid);
  EXPECT_EQ(Summaries(tmp_ / "summaries")[0]["records_out"], 50);
  auto parts = (*s3)->List("s3://" + bucket + "/results/results/");
  ASSERT_TRUE(parts.ok()) << parts.status().ToString();
  EXPECT_FALSE(parts->empty());
}

TEST_F(WatchCli, RunsWhatTheS3EventsInAQueueNameAndDeletesTheirMessages) {
  auto moto = SharedMotoServer();
  ASSERT_TRUE(moto.ok()) << moto.status().ToString();
  const std::string bucket = UniqueBucketName("watchq");
  ASSERT_TRUE((*moto)->CreateBucket(bucket).ok());
  auto queue = (*moto)->CreateQueue(bucket + "-events");
  ASSERT_TRUE(queue.ok()) << queue.status().ToString();
  ASSERT_TRUE((*moto)->NotifyQueueOnCreate(bucket, "incoming/", bucket + "-events").ok());
  auto s3 = storage::NewS3Storage(MotoS3Options((*moto)->endpoint()));
  ASSERT_TRUE(s3.ok());
  // There before the watch starts: its event waits in the queue.
  ASSERT_TRUE((*s3)->Write("s3://" + bucket + "/incoming/día 1/a.jsonl", Records("a", 30)).ok());
  const std::string env =
      "env -u AWS_PROFILE -u AWS_SESSION_TOKEN -u AWS_ENDPOINT_URL_S3 -u XDG_CACHE_HOME HOME=" +
      (tmp_ / "home") +
      " AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1 "
      "AWS_EC2_METADATA_DISABLED=true AWS_ENDPOINT_URL=" +
      (*moto)->endpoint();
  pid_t pid = StartWatch("s3://" + bucket + "/incoming/", "s3://" + bucket + "/results",
                         "--queue " + *queue, env);
  ASSERT_TRUE(WaitFor([&] { return Summaries(tmp_ / "summaries").size() == 1; })) << Log();
  ASSERT_TRUE((*s3)->Write("s3://" + bucket + "/incoming/b.jsonl", Records("b", 20)).ok());
  ASSERT_TRUE(WaitFor([&] { return Summaries(tmp_ / "summaries").size() == 2; })) << Log();
  Terminate(pid);
  const std::vector<json> runs = Summaries(tmp_ / "summaries");
  EXPECT_EQ(runs[0]["records_out"], 30);
  EXPECT_EQ(runs[0]["objects_listed"], 1);
  EXPECT_EQ(runs[1]["records_out"], 20);
  EXPECT_EQ(runs[1]["objects_listed"], 1) << "only the object the event named";
  EXPECT_NE(Log().find("through the S3 events of queue"), std::string::npos) << Log();
  // Every message was handled and deleted: nothing comes back.
  auto q = aws::OpenSqsQueue(*queue, MotoSqsOptions((*moto)->endpoint()));
  ASSERT_TRUE(q.ok());
  auto left = (*q)->Receive(10, 0, 30);
  ASSERT_TRUE(left.ok()) << left.status().ToString();
  EXPECT_TRUE(left->empty());
  // A local input cannot take a queue.
  auto r = RunLote("watch --input " + (tmp_ / "in") + " --output " + (tmp_ / "out") + " --model " +
                   Model() + " --queue " + *queue);
  EXPECT_EQ(r.exit_code, 2) << r.err;
}

TEST_F(WatchCli, RefusesBadTimings) {
  auto r = RunLote("watch --input " + (tmp_ / "in") + " --output " + (tmp_ / "out") + " --model " +
                   Model() + " --interval 0");
  EXPECT_EQ(r.exit_code, 2) << r.err;
}

}  // namespace
}  // namespace lote::testing
