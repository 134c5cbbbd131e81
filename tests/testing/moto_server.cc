#include "testing/moto_server.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "lote/aws/credentials.h"
#include "testing/child_process.h"

extern char** environ;

namespace lote::testing {
namespace {

using SteadyClock = std::chrono::steady_clock;

Result<std::string> FindOnPath(const std::string& program) {
  if (program.find('/') != std::string::npos) {
    if (::access(program.c_str(), X_OK) == 0) return program;
    return NotFoundError("not executable: " + program);
  }
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    std::string candidate = (dir.empty() ? "." : dir) + "/" + program;
    struct stat st;
    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
        ::access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
  }
  return NotFoundError(program + " is not on PATH (" + (path ? path : "") +
                       "); scripts/bootstrap.sh --services installs moto");
}

std::string DescribeExit(int wstatus) {
  if (WIFEXITED(wstatus)) return "exited with status " + std::to_string(WEXITSTATUS(wstatus));
  if (WIFSIGNALED(wstatus)) return "was killed by signal " + std::to_string(WTERMSIG(wstatus));
  return "stopped";
}

// The child's environment: ours without AWS_* (a developer's real profile or keys must not
// reach the emulator), then fake credentials, then the caller's additions (which win).
std::vector<std::string> ChildEnvironment(const MotoServerOptions& options) {
  std::vector<std::pair<std::string, std::string>> vars = {
      {"AWS_ACCESS_KEY_ID", "testing"},
      {"AWS_SECRET_ACCESS_KEY", "testing"},
      {"AWS_DEFAULT_REGION", "us-east-1"},
  };
  for (const auto& [k, v] : options.env) {
    bool replaced = false;
    for (auto& [ek, ev] : vars) {
      if (ek == k) {
        ev = v;
        replaced = true;
      }
    }
    if (!replaced) vars.emplace_back(k, v);
  }
  std::vector<std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view entry(*e);
    std::string_view name = entry.substr(0, entry.find('='));
    if (name.rfind("AWS_", 0) == 0) continue;
    bool overridden = false;
    for (const auto& [k, v] : vars) overridden = overridden || name == k;
    if (!overridden) env.emplace_back(entry);
  }
  for (const auto& [k, v] : vars) env.push_back(k + "=" + v);
  return env;
}

struct Spawned {
  pid_t pid = -1;
  std::string log_path;
};

Result<Spawned> Spawn(const std::string& program, int port, const MotoServerOptions& options) {
  std::string tmpl = (std::filesystem::temp_directory_path() /
                      ("lote-moto-" + std::to_string(port) + "-XXXXXX.log"))
                         .string();
  int log_fd = ::mkostemps(tmpl.data(), 4, O_CLOEXEC);
  if (log_fd < 0) return UnavailableError("cannot create a log file: " + tmpl);
  // Everything the child needs is built before fork: between fork and exec only
  // async-signal-safe calls are allowed (other threads of the test may hold malloc's locks).
  const std::string port_text = std::to_string(port);
  std::vector<std::string> args = {program, "-H", "127.0.0.1", "-p", port_text};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env = ChildEnvironment(options);
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  const pid_t parent = ::getpid();

  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(log_fd);
    return UnavailableError("fork: " + std::string(std::strerror(errno)));
  }
  if (pid == 0) {
    ::setpgid(0, 0);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);  // the parent died before prctl
    int null_fd = ::open("/dev/null", O_RDONLY);
    if (null_fd >= 0) ::dup2(null_fd, 0);
    ::dup2(log_fd, 1);
    ::dup2(log_fd, 2);
    ::execve(argv[0], argv.data(), envp.data());
    const char msg[] = "lote MotoServer: execve failed\n";
    (void)!::write(2, msg, sizeof(msg) - 1);
    ::_exit(127);
  }
  ::setpgid(pid, pid);  // also from the parent: no window where a kill(-pid) misses it
  ::close(log_fd);
  return Spawned{pid, tmpl};
}

std::string XmlCode(const std::string& body) {
  size_t begin = body.find("<Code>");
  size_t end = body.find("</Code>");
  if (begin == std::string::npos || end == std::string::npos || end < begin) return "";
  return body.substr(begin + 6, end - begin - 6);
}

}  // namespace

Result<std::unique_ptr<MotoServer>> MotoServer::Start(MotoServerOptions options) {
  LOTE_ASSIGN_OR_RETURN(std::string program, FindOnPath(options.program));
  std::string problems;
  for (int attempt = 1; attempt <= std::max(1, options.port_attempts); ++attempt) {
    LOTE_ASSIGN_OR_RETURN(int port, PickFreeLoopbackPort());
    LOTE_ASSIGN_OR_RETURN(Spawned child, Spawn(program, port, options));
    // Owns the child until it is handed over: every early return stops it.
    std::unique_ptr<MotoServer> server(new MotoServer(options, child.pid, port, child.log_path));
    const std::string what = program + " -H 127.0.0.1 -p " + std::to_string(port);
    const auto started = SteadyClock::now();
    const auto deadline = started + std::chrono::duration<double>(options.startup_timeout_seconds);
    bool port_taken = false;
    while (true) {
      int wstatus = 0;
      if (::waitpid(child.pid, &wstatus, WNOHANG) == child.pid) {
        const std::string log = server->LogTail();
        server->pid_ = -1;  // reaped
        if (log.find("Address already in use") != std::string::npos) {
          port_taken = true;
          problems += "port " + std::to_string(port) + " was taken; ";
          break;
        }
        server->keep_log_ = true;
        return UnavailableError(what + " " + DescribeExit(wstatus) + " before answering; log " +
                                child.log_path + ":\n" + log);
      }
      HttpCall probe;
      probe.target = "/moto-api/";
      auto reply = HttpRoundTrip(port, probe, /*timeout_seconds=*/2);
      // Ready only if it answers AND our child is still the one alive (not another process that
      // had the port while ours failed to bind it).
      if (reply.ok() && reply->status == 200 && ::waitpid(child.pid, &wstatus, WNOHANG) == 0) {
        return server;
      }
      if (SteadyClock::now() >= deadline) {
        server->keep_log_ = true;
        return UnavailableError(
            what + " did not answer GET /moto-api/ within " +
            std::to_string(options.startup_timeout_seconds) + " s (" +
            (reply.ok() ? "status " + std::to_string(reply->status) : reply.status().ToString()) +
            "); log " + child.log_path + ":\n" + server->LogTail());
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (!port_taken) break;
  }
  return UnavailableError("moto_server could not bind a free port: " + problems);
}

MotoServer::MotoServer(MotoServerOptions options, pid_t pid, int port, std::string log_path)
    : options_(std::move(options)),
      pid_(pid),
      port_(port),
      log_path_(std::move(log_path)),
      owner_(::getpid()) {}

MotoServer::~MotoServer() { Stop(); }

void MotoServer::Stop() {
  if (::getpid() != owner_) return;
  if (pid_ > 0) {
    TerminateProcessGroup(pid_, options_.stop_timeout_seconds);
    pid_ = -1;
  }
  DisposeServiceLog(&log_path_, keep_log_, "moto_server");
}

std::string MotoServer::LogTail(size_t max_bytes) const {
  return ReadLogTail(log_path_, max_bytes);
}

Result<HttpReply> MotoServer::Request(HttpCall call) const {
  if (!FindHttpHeader(call.headers, "Authorization")) {
    call.headers.emplace_back("Authorization",
                              "AWS4-HMAC-SHA256 "
                              "Credential=testing/20260101/us-east-1/s3/aws4_request, "
                              "SignedHeaders=host, Signature=0");
  }
  if (!FindHttpHeader(call.headers, "x-amz-content-sha256")) {
    call.headers.emplace_back("x-amz-content-sha256", "UNSIGNED-PAYLOAD");
  }
  // Without a Content-Type, moto takes a body for form data and stores it empty.
  if (!call.body.empty() && !FindHttpHeader(call.headers, "Content-Type")) {
    call.headers.emplace_back("Content-Type", "application/octet-stream");
  }
  return HttpRoundTrip(port_, call, options_.request_timeout_seconds);
}

Status MotoServer::Reset() const {
  HttpCall call;
  call.method = "POST";
  call.target = "/moto-api/reset";
  LOTE_ASSIGN_OR_RETURN(HttpReply reply, Request(call));
  if (reply.status != 200) {
    return UnavailableError("POST /moto-api/reset: status " + std::to_string(reply.status) + ": " +
                            reply.body);
  }
  return Status::Ok();
}

Status MotoServer::CreateBucket(std::string_view name) const {
  HttpCall call;
  call.method = "PUT";
  call.target = "/" + std::string(name);
  LOTE_ASSIGN_OR_RETURN(HttpReply reply, Request(call));
  if (reply.status == 200) return Status::Ok();
  const std::string what = "CreateBucket " + std::string(name) + ": status " +
                           std::to_string(reply.status) + " " + XmlCode(reply.body);
  if (reply.status == 409) return AlreadyExistsError(what);
  if (reply.status == 400) return InvalidArgumentError(what);
  return UnavailableError(what + ": " + reply.body);
}

Result<std::string> MotoServer::CreateQueue(std::string_view name) const {
  HttpCall call;
  call.method = "POST";
  call.target = "/";
  // moto routes by the service in the credential scope.
  call.headers = {{"Authorization",
                   "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/sqs/aws4_request, "
                   "SignedHeaders=host, Signature=0"},
                  {"Content-Type", "application/x-amz-json-1.0"},
                  {"X-Amz-Target", "AmazonSQS.CreateQueue"}};
  call.body = "{\"QueueName\": \"" + std::string(name) + "\"}";
  LOTE_ASSIGN_OR_RETURN(HttpReply reply, Request(call));
  const std::string key = "\"QueueUrl\": \"";
  const size_t at = reply.body.find(key);
  if (reply.status != 200 || at == std::string::npos) {
    return UnavailableError("CreateQueue " + std::string(name) + ": status " +
                            std::to_string(reply.status) + ": " + reply.body);
  }
  const size_t start = at + key.size();
  return reply.body.substr(start, reply.body.find('"', start) - start);
}

Status MotoServer::NotifyQueueOnCreate(std::string_view bucket, std::string_view prefix,
                                       std::string_view queue_name) const {
  HttpCall call;
  call.method = "PUT";
  call.target = "/" + std::string(bucket) + "?notification";
  call.headers = {{"Content-Type", "application/xml"}};
  call.body =
      "<NotificationConfiguration><QueueConfiguration><Queue>arn:aws:sqs:us-east-1:123456789012:" +
      std::string(queue_name) +
      "</Queue><Event>s3:ObjectCreated:*</Event><Filter><S3Key><FilterRule><Name>prefix</Name>"
      "<Value>" +
      std::string(prefix) +
      "</Value></FilterRule></S3Key></Filter></QueueConfiguration></NotificationConfiguration>";
  LOTE_ASSIGN_OR_RETURN(HttpReply reply, Request(call));
  if (reply.status != 200) {
    return UnavailableError("PutBucketNotificationConfiguration " + std::string(bucket) +
                            ": status " + std::to_string(reply.status) + ": " + reply.body);
  }
  return Status::Ok();
}

Result<MotoServer*> SharedMotoServer() {
  static std::mutex mu;
  static std::unique_ptr<MotoServer> server;
  static Status error;
  static bool tried = false;
  std::lock_guard<std::mutex> lock(mu);
  if (!tried) {
    tried = true;
    auto started = MotoServer::Start();
    if (started.ok()) {
      server = std::move(*started);
    } else {
      error = started.status().WithContext("starting the shared moto_server");
    }
  }
  if (server) return server.get();
  return error;
}

std::string UniqueBucketName(std::string_view tag) {
  static std::atomic<int> counter{0};
  const std::string suffix = "-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
  std::string clean;
  for (char c : tag) {
    unsigned char u = static_cast<unsigned char>(c);
    clean.push_back(std::isalnum(u) ? static_cast<char>(std::tolower(u)) : '-');
  }
  std::string name = "lote-" + clean;
  if (name.size() + suffix.size() > 63) name.resize(63 - suffix.size());
  return name + suffix;
}

namespace {

std::shared_ptr<aws::CredentialsProvider> MotoCredentials() {
  aws::Credentials credentials;
  credentials.access_key_id = "testing";
  credentials.secret_access_key = Secret("testing");
  return aws::NewStaticCredentials(std::move(credentials));
}

}  // namespace

storage::S3StorageOptions MotoS3Options(const std::string& endpoint) {
  storage::S3StorageOptions o;
  o.endpoint = endpoint;
  o.region = "us-east-1";
  o.credentials = MotoCredentials();
  o.env = std::make_shared<const aws::AwsEnvironment>();
  return o;
}

aws::SqsOptions MotoSqsOptions(const std::string& endpoint) {
  aws::SqsOptions o;
  o.endpoint = endpoint;
  o.region = "us-east-1";
  o.credentials = MotoCredentials();
  o.env = std::make_shared<const aws::AwsEnvironment>();
  return o;
}

}  // namespace lote::testing
