#include "testing/prometheus_server.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "testing/child_process.h"
#include "testing/http_wire.h"

namespace lote::testing {
namespace {

using SteadyClock = std::chrono::steady_clock;

// Percent-encodes a query parameter value.
std::string QueryEscape(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      char buf[4];
      std::snprintf(buf, sizeof(buf), "%%%02X", c);
      out.append(buf);
    }
  }
  return out;
}

double ParseValue(const std::string& text) {
  if (text == "+Inf") return HUGE_VAL;
  if (text == "-Inf") return -HUGE_VAL;
  return std::strtod(text.c_str(), nullptr);  // "NaN" included
}

}  // namespace

Result<std::unique_ptr<ServiceProcess>> ServiceProcess::Start(
    const std::string& name, const std::function<std::vector<std::string>(int port)>& make_argv,
    const std::string& ready_path, double timeout_seconds) {
  std::string problems;
  for (int attempt = 0; attempt < 3; ++attempt) {
    LOTE_ASSIGN_OR_RETURN(int port, PickFreeLoopbackPort());
    std::vector<std::string> args = make_argv(port);
    if (::access(args[0].c_str(), X_OK) != 0) {
      return NotFoundError(args[0] +
                           " is not installed (scripts/bootstrap.sh installs the Debian package)");
    }
    std::string log = (std::filesystem::temp_directory_path() /
                       ("lote-" + name + "-" + std::to_string(port) + "-XXXXXX.log"))
                          .string();
    const int log_fd = ::mkostemps(log.data(), 4, O_CLOEXEC);
    if (log_fd < 0) return UnavailableError("cannot create a log file: " + log);
    // Built before fork: only async-signal-safe calls between fork and exec.
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) {
      ::close(log_fd);
      return UnavailableError("fork: " + std::string(std::strerror(errno)));
    }
    if (pid == 0) {
      ::setpgid(0, 0);
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(127);
      const int null_fd = ::open("/dev/null", O_RDONLY);
      if (null_fd >= 0) ::dup2(null_fd, 0);
      ::dup2(log_fd, 1);
      ::dup2(log_fd, 2);
      ::execv(argv[0], argv.data());
      const char msg[] = "lote ServiceProcess: execv failed\n";
      (void)!::write(2, msg, sizeof(msg) - 1);
      ::_exit(127);
    }
    ::setpgid(pid, pid);
    ::close(log_fd);
    std::unique_ptr<ServiceProcess> p(new ServiceProcess(pid, port, log));
    std::string what;
    for (const auto& a : args) what += (what.empty() ? "" : " ") + a;
    const auto deadline = SteadyClock::now() + std::chrono::duration<double>(timeout_seconds);
    bool retry = false;
    while (true) {
      int wstatus = 0;
      if (::waitpid(pid, &wstatus, WNOHANG) == pid) {
        p->pid_ = -1;
        const std::string tail = p->LogTail();
        if (tail.find("address already in use") != std::string::npos) {
          problems += "port " + std::to_string(port) + " was taken; ";
          retry = true;
          break;
        }
        p->keep_log_ = true;
        return UnavailableError(what + " exited (status " + std::to_string(wstatus) +
                                ") before it was ready; log " + log + ":\n" + tail);
      }
      HttpCall probe;
      probe.target = ready_path;
      auto reply = HttpRoundTrip(port, probe, /*timeout_seconds=*/2);
      if (reply.ok() && reply->status == 200 && ::waitpid(pid, &wstatus, WNOHANG) == 0) return p;
      if (SteadyClock::now() >= deadline) {
        p->keep_log_ = true;
        return UnavailableError(what + " was not ready (GET " + ready_path + ") within " +
                                std::to_string(timeout_seconds) + " s; log " + log + ":\n" +
                                p->LogTail());
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (!retry) break;
  }
  return UnavailableError(name + " could not bind a free port: " + problems);
}

ServiceProcess::ServiceProcess(pid_t pid, int port, std::string log_path)
    : pid_(pid), port_(port), log_path_(std::move(log_path)), owner_(::getpid()) {}

ServiceProcess::~ServiceProcess() { Stop(); }

std::string ServiceProcess::LogTail(size_t max_bytes) const {
  return ReadLogTail(log_path_, max_bytes);
}

void ServiceProcess::Stop() {
  if (::getpid() != owner_) return;
  if (pid_ > 0) {
    TerminateProcessGroup(pid_, 5);
    pid_ = -1;
  }
  DisposeServiceLog(&log_path_, keep_log_, "service");
}

Result<std::string> ServiceProcess::Get(const std::string& target, double timeout_seconds) const {
  HttpCall call;
  call.target = target;
  LOTE_ASSIGN_OR_RETURN(HttpReply reply, HttpRoundTrip(port_, call, timeout_seconds));
  if (reply.status != 200) {
    return UnavailableError("GET " + target + ": status " + std::to_string(reply.status) + ": " +
                            reply.body.substr(0, 500));
  }
  return reply.body;
}

Result<std::unique_ptr<PrometheusServer>> PrometheusServer::Start(PrometheusServerOptions o) {
  std::string dir = (std::filesystem::temp_directory_path() / "lote-prometheus-XXXXXX").string();
  if (::mkdtemp(dir.data()) == nullptr) return UnavailableError("mkdtemp: " + dir);
  {
    std::ofstream config(dir + "/prometheus.yml");
    char interval[32];
    std::snprintf(interval, sizeof(interval), "%gs", o.scrape_interval_seconds);
    config << "global:\n  scrape_interval: " << interval << "\n  evaluation_interval: " << interval
           << "\nscrape_configs:\n  - job_name: lote\n    honor_labels: true\n"
           << "    static_configs:\n      - targets: [";
    for (size_t i = 0; i < o.targets.size(); ++i) {
      config << (i ? ", " : "") << "'" << o.targets[i] << "'";
    }
    config << "]\n";
    if (!config) return UnavailableError("cannot write " + dir + "/prometheus.yml");
  }
  auto process = ServiceProcess::Start(
      "prometheus",
      [&](int port) {
        return std::vector<std::string>{o.program, "--config.file=" + dir + "/prometheus.yml",
                                        "--storage.tsdb.path=" + dir + "/data",
                                        "--web.listen-address=127.0.0.1:" + std::to_string(port),
                                        "--log.level=warn"};
      },
      "/-/ready", o.startup_timeout_seconds);
  if (!process.ok()) {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
    return process.status();
  }
  return std::unique_ptr<PrometheusServer>(new PrometheusServer(std::move(*process), dir));
}

PrometheusServer::PrometheusServer(std::unique_ptr<ServiceProcess> process, std::string dir)
    : process_(std::move(process)), dir_(std::move(dir)) {}

PrometheusServer::~PrometheusServer() {
  const bool keep = KeepServiceLogs();
  process_->Stop();
  std::error_code ec;
  if (keep) {
    std::fprintf(stderr, "prometheus folder kept: %s\n", dir_.c_str());
  } else {
    std::filesystem::remove_all(dir_, ec);
  }
}

Result<double> PrometheusServer::Query(std::string_view promql) const {
  HttpCall call;
  call.target = "/api/v1/query?query=" + QueryEscape(promql);
  LOTE_ASSIGN_OR_RETURN(HttpReply reply, HttpRoundTrip(port(), call, 10));
  auto j = nlohmann::json::parse(reply.body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return UnavailableError("query answer is not JSON: " + reply.body.substr(0, 300));
  }
  if (j.value("status", "") != "success") {
    return InvalidArgumentError("query " + std::string(promql) + ": " + reply.body.substr(0, 300));
  }
  const auto& data = j["data"];
  const std::string type = data.value("resultType", "");
  const auto& result = data["result"];
  if (type == "scalar" && result.is_array() && result.size() == 2) {
    return ParseValue(result[1].get<std::string>());
  }
  if (type == "vector" && result.is_array()) {
    if (result.empty()) return NotFoundError("no sample for " + std::string(promql));
    return ParseValue(result[0]["value"][1].get<std::string>());
  }
  return InvalidArgumentError("unexpected query answer: " + reply.body.substr(0, 300));
}

Result<double> PrometheusServer::WaitForValue(std::string_view promql,
                                              double timeout_seconds) const {
  const auto deadline = SteadyClock::now() + std::chrono::duration<double>(timeout_seconds);
  while (true) {
    auto v = Query(promql);
    if (v.ok() || v.status().code() == StatusCode::kInvalidArgument) return v;
    if (SteadyClock::now() >= deadline) {
      return v.status().WithContext("after waiting " + std::to_string(timeout_seconds) + " s");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

Result<std::unique_ptr<Pushgateway>> Pushgateway::Start(std::string program,
                                                        double startup_timeout_seconds) {
  LOTE_ASSIGN_OR_RETURN(auto process,
                        ServiceProcess::Start(
                            "pushgateway",
                            [&](int port) {
                              return std::vector<std::string>{
                                  program, "--web.listen-address=127.0.0.1:" + std::to_string(port),
                                  "--log.level=warn"};
                            },
                            "/-/ready", startup_timeout_seconds));
  return std::unique_ptr<Pushgateway>(new Pushgateway(std::move(process)));
}

Result<std::string> Pushgateway::Metrics() const { return process_->Get("/metrics"); }

Result<double> Pushgateway::Sample(
    std::string_view name, const std::vector<std::pair<std::string, std::string>>& labels) const {
  LOTE_ASSIGN_OR_RETURN(std::string text, Metrics());
  return FindSample(text, name, labels);
}

Status PromtoolCheckMetrics(std::string_view exposition) {
  std::string path = (std::filesystem::temp_directory_path() / "lote-promtool-XXXXXX").string();
  const int fd = ::mkostemp(path.data(), O_CLOEXEC);
  if (fd < 0) return UnavailableError("cannot create " + path);
  const bool written =
      ::write(fd, exposition.data(), exposition.size()) == static_cast<ssize_t>(exposition.size());
  ::close(fd);
  if (!written) return UnavailableError("cannot write " + path);
  const std::string command = "/usr/bin/promtool check metrics < " + path + " 2>&1";
  std::FILE* p = ::popen(command.c_str(), "r");
  if (p == nullptr) return UnavailableError("cannot run " + command);
  std::string output;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) output.append(buf, n);
  const int status = ::pclose(p);
  std::remove(path.c_str());
  if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) == 127) {
    return UnavailableError(command + " could not run: " + output);
  }
  if (WEXITSTATUS(status) != 0) {
    return InvalidArgumentError("promtool check metrics: exit " +
                                std::to_string(WEXITSTATUS(status)) + ": " + output);
  }
  return Status::Ok();
}

Result<double> FindSample(std::string_view exposition, std::string_view name,
                          const std::vector<std::pair<std::string, std::string>>& labels) {
  size_t pos = 0;
  while (pos < exposition.size()) {
    size_t end = exposition.find('\n', pos);
    if (end == std::string_view::npos) end = exposition.size();
    const std::string_view line = exposition.substr(pos, end - pos);
    pos = end + 1;
    if (line.empty() || line[0] == '#') continue;
    if (line.substr(0, name.size()) != name) continue;
    const std::string_view rest = line.substr(name.size());
    if (rest.empty() || (rest[0] != '{' && rest[0] != ' ')) continue;
    bool all = true;
    for (const auto& [k, v] : labels) {
      const std::string pair = k + "=\"" + v + "\"";
      all = all && (rest.find("{" + pair) != std::string_view::npos ||
                    rest.find("," + pair) != std::string_view::npos);
    }
    if (!all) continue;
    const size_t space = line.rfind(' ');
    return ParseValue(std::string(line.substr(space + 1)));
  }
  return NotFoundError("no sample " + std::string(name) + " with the given labels");
}

}  // namespace lote::testing
