// `lote serve` as a child process for the integration tests: started on a kernel-chosen port,
// waited for, asked over HTTP, stopped with SIGTERM.
#ifndef LOTE_TESTS_INTEGRATION_SERVE_PROCESS_H_
#define LOTE_TESTS_INTEGRATION_SERVE_PROCESS_H_

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include "cli_runner.h"
#include "testing/http_wire.h"

namespace lote::testing {

// A `lote serve` started on a kernel-chosen port; stopped with SIGTERM by Stop().
class ServeProcess {
 public:
  // `program` is the lote binary or a symlink to it; `args` go after it.
  ServeProcess(const std::string& program, const std::string& args, const std::string& err_log,
               const std::string& env = "")
      : err_log_(err_log) {
    pid_ = ::fork();
    if (pid_ == 0) {
      std::string cmd = "exec env " + env + " " + program + " " + args + " >/dev/null 2>" + err_log;
      ::execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
  }
  ~ServeProcess() {
    if (pid_ > 0 && !exited_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  // Waits for "listening on HOST:PORT" and then for `path` (/ping: the model is in) to answer
  // 200; false if the process ended.
  bool WaitReady(const std::string& path = "/ping") {
    for (int i = 0; i < 600; ++i) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        exited_ = true;
        exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        return false;
      }
      std::string log = ReadAll(err_log_);
      size_t at = log.find("listening on ");
      if (at != std::string::npos && port_ == 0) {
        size_t colon = log.find(':', at + 13);
        size_t comma = log.find(',', colon);
        if (colon != std::string::npos && comma != std::string::npos) {
          port_ = std::stoi(log.substr(colon + 1, comma - colon - 1));
        }
      }
      if (port_ > 0) {
        auto c = HttpConnection::Open(port_, 2);
        if (c.ok()) {
          auto r = (*c)->RoundTrip({"GET", path, {}, ""});
          if (r.ok() && r->status == 200) return true;
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }
  // SIGTERM, then the exit code.
  int Stop() {
    if (exited_) return exit_code_;
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    exited_ = true;
    exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return exit_code_;
  }
  int exit_code() {
    if (!exited_) {
      int status = 0;
      ::waitpid(pid_, &status, 0);
      exited_ = true;
      exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    return exit_code_;
  }
  int port() const { return port_; }
  std::string log() const { return ReadAll(err_log_); }

  Result<HttpReply> Post(const std::string& content_type, const std::string& body,
                         const std::string& accept = "") {
    LOTE_ASSIGN_OR_RETURN(auto c, HttpConnection::Open(port_, 60));
    HttpCall call{"POST", "/invocations", {{"Content-Type", content_type}}, body};
    if (!accept.empty()) call.headers.push_back({"Accept", accept});
    return c->RoundTrip(call);
  }
  Result<HttpReply> Get(const std::string& target, HttpHeaderList headers = {}) {
    LOTE_ASSIGN_OR_RETURN(auto c, HttpConnection::Open(port_, 60));
    return c->RoundTrip({"GET", target, std::move(headers), ""});
  }
  Result<HttpReply> Call(HttpCall call) {
    LOTE_ASSIGN_OR_RETURN(auto c, HttpConnection::Open(port_, 60));
    return c->RoundTrip(call);
  }

 private:
  std::string err_log_;
  pid_t pid_ = -1;
  int port_ = 0;
  bool exited_ = false;
  int exit_code_ = -1;
};

}  // namespace lote::testing

#endif  // LOTE_TESTS_INTEGRATION_SERVE_PROCESS_H_
