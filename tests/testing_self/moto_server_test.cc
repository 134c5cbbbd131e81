// The test services themselves: MotoServer starts a real moto_server and stops it by pid.
#include "testing/moto_server.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace lote::testing {
namespace {

namespace fs = std::filesystem;

std::string ProcEnviron(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/environ", std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string env = ss.str();
  for (char& c : env) {
    if (c == '\0') c = '\n';
  }
  return "\n" + env;
}

HttpCall Put(std::string target, std::string body) {
  HttpCall call;
  call.method = "PUT";
  call.target = std::move(target);
  call.body = std::move(body);
  return call;
}

HttpCall Get(std::string target) {
  HttpCall call;
  call.target = std::move(target);
  return call;
}

// A failed start keeps its log and names it ("; log PATH:\n..."); tests that fail on purpose
// remove it.
void RemoveLogNamedIn(const Status& status) {
  const std::string& m = status.message();
  size_t begin = m.find("; log ");
  size_t end = begin == std::string::npos ? begin : m.find(":\n", begin);
  if (end != std::string::npos) fs::remove(m.substr(begin + 6, end - begin - 6));
}

// A shell script standing in for moto_server, in a folder removed at the end.
class FakeProgram {
 public:
  explicit FakeProgram(const std::string& script) {
    std::string tmpl = (fs::temp_directory_path() / "lote-fake-moto-XXXXXX").string();
    dir_ = ::mkdtemp(tmpl.data());
    path_ = dir_ + "/fake_moto_server";
    std::ofstream(path_) << "#!/bin/sh\n" << script;
    fs::permissions(path_, fs::perms::owner_all);
  }
  ~FakeProgram() { fs::remove_all(dir_); }
  const std::string& path() const { return path_; }
  std::string dir() const { return dir_; }

 private:
  std::string dir_;
  std::string path_;
};

TEST(MotoServer, StartsOnALoopbackPortWithItsOwnEnvironmentAndStopsByPid) {
  MotoServerOptions options;
  options.env = {{"S3_UPLOAD_PART_MIN_SIZE", "1024"}, {"LOTE_MOTO_TEST_MARKER", "42"}};
  auto started = MotoServer::Start(options);
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  MotoServer& moto = **started;
  EXPECT_EQ(moto.endpoint(), "http://127.0.0.1:" + std::to_string(moto.port()));
  const pid_t pid = moto.pid();
  ASSERT_GT(pid, 0);
  const std::string log = moto.log_path();
  EXPECT_TRUE(fs::exists(log));

  // The child's environment has the fake credentials and the extra variables; ours does not.
  const std::string env = ProcEnviron(pid);
  EXPECT_NE(env.find("\nAWS_ACCESS_KEY_ID=testing\n"), std::string::npos) << env;
  EXPECT_NE(env.find("\nAWS_SECRET_ACCESS_KEY=testing\n"), std::string::npos);
  EXPECT_NE(env.find("\nAWS_DEFAULT_REGION=us-east-1\n"), std::string::npos);
  EXPECT_NE(env.find("\nS3_UPLOAD_PART_MIN_SIZE=1024\n"), std::string::npos);
  EXPECT_NE(env.find("\nLOTE_MOTO_TEST_MARKER=42\n"), std::string::npos);
  EXPECT_EQ(std::getenv("LOTE_MOTO_TEST_MARKER"), nullptr);

  // It serves S3; Reset forgets every bucket.
  ASSERT_TRUE(moto.CreateBucket("lote-own").ok());
  EXPECT_TRUE(moto.CreateBucket("lote-own").ok());  // moto, like S3 in us-east-1: 200 again
  EXPECT_EQ(moto.CreateBucket("xy").code(), StatusCode::kInvalidArgument);  // under 3 characters
  auto put = moto.Request(Put("/lote-own/k", "v"));
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  EXPECT_EQ(put->status, 200);
  auto got = moto.Request(Get("/lote-own/k"));
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->status, 200);
  EXPECT_EQ(got->body, "v");
  ASSERT_TRUE(moto.Reset().ok());
  auto gone = moto.Request(Get("/lote-own/k"));
  ASSERT_TRUE(gone.ok());
  EXPECT_EQ(gone->status, 404);
  EXPECT_NE(gone->body.find("NoSuchBucket"), std::string::npos);

  // Stopped: the process is reaped (no such pid), the port refuses, the log is gone.
  const int port = moto.port();
  moto.Stop();
  EXPECT_EQ(::kill(pid, 0), -1);
  EXPECT_EQ(errno, ESRCH);
  EXPECT_FALSE(ConnectToLoopback(port, 1).ok());
  if (!::testing::Test::HasFailure()) {
    EXPECT_FALSE(fs::exists(log));
  }
  moto.Stop();  // idempotent
}

TEST(MotoServer, ARequestWithoutAuthorizationIsAnonymousInMoto) {
  auto moto = SharedMotoServer();
  ASSERT_TRUE(moto.ok()) << moto.status().ToString();
  const std::string bucket = UniqueBucketName("anon");
  ASSERT_TRUE((*moto)->CreateBucket(bucket).ok());
  ASSERT_EQ((*moto)->Request(Put("/" + bucket + "/k", "v"))->status, 200);
  // Why Request() adds a dummy Authorization header: without one moto answers 403.
  HttpCall bare = Get("/" + bucket + "/k");
  auto anonymous = HttpRoundTrip((*moto)->port(), bare);
  ASSERT_TRUE(anonymous.ok());
  EXPECT_EQ(anonymous->status, 403);
  EXPECT_EQ((*moto)->Request(bare)->body, "v");
}

TEST(MotoServer, SharedServerIsStartedOnceAndBucketNamesAreUnique) {
  auto first = SharedMotoServer();
  auto second = SharedMotoServer();
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(*first, *second);
  const std::string a = UniqueBucketName("Contract Test_Ñ");
  const std::string b = UniqueBucketName("Contract Test_Ñ");
  EXPECT_NE(a, b);
  EXPECT_EQ(a.rfind("lote-contract-test-", 0), 0u) << a;
  EXPECT_LE(UniqueBucketName(std::string(100, 'x')).size(), 63u);
  EXPECT_TRUE((*first)->CreateBucket(a).ok());
  EXPECT_TRUE((*first)->CreateBucket(b).ok());
}

TEST(MotoServer, RetriesOnANewPortWhenTheChosenOneWasTaken) {
  // The first start fails as moto does when another process bound the port in between; the
  // second execs the real server.
  FakeProgram fake(
      "if [ ! -e \"$LOTE_FAKE_MARK\" ]; then touch \"$LOTE_FAKE_MARK\";\n"
      "  echo 'OSError: [Errno 98] Address already in use' >&2; exit 1; fi\n"
      "exec moto_server \"$@\"\n");
  MotoServerOptions options;
  options.program = fake.path();
  options.env = {{"LOTE_FAKE_MARK", fake.dir() + "/tried"}};
  auto started = MotoServer::Start(options);
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  EXPECT_TRUE(fs::exists(fake.dir() + "/tried"));
  EXPECT_TRUE((*started)->CreateBucket("lote-retried").ok());
}

TEST(MotoServer, AServerThatCannotStartIsAnErrorWithItsLog) {
  FakeProgram crashing("echo 'boom: no module named moto' >&2; exit 3\n");
  MotoServerOptions options;
  options.program = crashing.path();
  auto crashed = MotoServer::Start(options);
  ASSERT_FALSE(crashed.ok());
  EXPECT_EQ(crashed.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(crashed.status().message().find("exited with status 3"), std::string::npos)
      << crashed.status().ToString();
  EXPECT_NE(crashed.status().message().find("boom: no module named moto"), std::string::npos);
  RemoveLogNamedIn(crashed.status());

  options.program = "lote-no-such-moto-server";
  EXPECT_EQ(MotoServer::Start(options).status().code(), StatusCode::kNotFound);
}

TEST(MotoServer, AServerThatNeverAnswersIsKilledAfterTheStartupTimeout) {
  FakeProgram silent("echo \"$$\" > \"$0.pid\"; exec sleep 60\n");
  MotoServerOptions options;
  options.program = silent.path();
  options.startup_timeout_seconds = 1;
  options.stop_timeout_seconds = 1;
  const auto began = std::chrono::steady_clock::now();
  auto silent_start = MotoServer::Start(options);
  const double took =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
  ASSERT_FALSE(silent_start.ok());
  EXPECT_NE(silent_start.status().message().find("did not answer"), std::string::npos)
      << silent_start.status().ToString();
  EXPECT_LT(took, 30) << "bounded by the startup and stop timeouts";
  RemoveLogNamedIn(silent_start.status());
  std::ifstream pid_file(silent.path() + ".pid");
  pid_t pid = 0;
  ASSERT_TRUE(pid_file >> pid);
  EXPECT_EQ(::kill(pid, 0), -1) << "the silent server was left running";
}

}  // namespace
}  // namespace lote::testing
