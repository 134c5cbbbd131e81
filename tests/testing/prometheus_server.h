// Real Prometheus services for tests, started on free loopback ports and stopped by pid, as
// MotoServer is (see docs/testing.md, "Services the tests start"):
//
//   PrometheusServer  Debian's /usr/bin/prometheus (2.42) with a generated configuration that
//                     scrapes the given 127.0.0.1:PORT targets every second (honor_labels, as a
//                     Pushgateway is scraped), its TSDB in a temporary folder; Query() asks the
//                     HTTP API (/api/v1/query) for a PromQL expression's value.
//   Pushgateway       Debian's /usr/bin/prometheus-pushgateway (1.5), no persistence; Metrics()
//                     is its GET /metrics, Sample() one value out of it.
//
// Each runs in a process group of its own with PR_SET_PDEATHSIG (start them from the test's main
// thread), its stdout and stderr in $TMPDIR/lote-NAME-PORT-XXXXXX.log. Start waits, bounded,
// for GET /-/ready to answer 200 while the child lives; a port taken in between is retried on
// another. A failed start is an error with the command and the log's end (the test FAILS, it
// never skips). Stop (and the destructor): SIGTERM to the group, SIGKILL after 5 s, waitpid;
// the log and the temporary folder are removed unless a test failed or LOTE_KEEP_SERVICE_LOGS
// is set. Thread-safety: the const methods may be called from many threads.
#ifndef LOTE_TESTS_TESTING_PROMETHEUS_SERVER_H_
#define LOTE_TESTS_TESTING_PROMETHEUS_SERVER_H_

#include <sys/types.h>

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lote/base/status.h"

namespace lote::testing {

// A service process: a child in its own process group, with a log file and a loopback port.
class ServiceProcess {
 public:
  // Starts `make_argv(port)` (argv[0] an absolute path) on a free port and waits until
  // GET `ready_path` answers 200 (at most `timeout_seconds`); retries 3 ports when the log says
  // "address already in use".
  static Result<std::unique_ptr<ServiceProcess>> Start(
      const std::string& name, const std::function<std::vector<std::string>(int port)>& make_argv,
      const std::string& ready_path, double timeout_seconds);
  ~ServiceProcess();
  ServiceProcess(const ServiceProcess&) = delete;
  ServiceProcess& operator=(const ServiceProcess&) = delete;

  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  const std::string& log_path() const { return log_path_; }
  std::string LogTail(size_t max_bytes = 4000) const;
  // GET `target`; the body of a 200 answer, else Unavailable with the status and body.
  Result<std::string> Get(const std::string& target, double timeout_seconds = 10) const;
  void Stop();

 private:
  ServiceProcess(pid_t pid, int port, std::string log_path);
  pid_t pid_;
  int port_;
  std::string log_path_;
  bool keep_log_ = false;
  pid_t owner_;
};

struct PrometheusServerOptions {
  std::vector<std::string> targets;  // "127.0.0.1:PORT", scraped at /metrics
  double scrape_interval_seconds = 1;
  std::string program = "/usr/bin/prometheus";
  double startup_timeout_seconds = 30;
};

class PrometheusServer {
 public:
  static Result<std::unique_ptr<PrometheusServer>> Start(PrometheusServerOptions options);
  ~PrometheusServer();

  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(process_->port()); }
  int port() const { return process_->port(); }
  const ServiceProcess& process() const { return *process_; }

  // The value of an instant query: a scalar, or the first sample of a vector. NotFound when the
  // vector is empty (not scraped yet), InvalidArgument for an error answer (bad PromQL).
  Result<double> Query(std::string_view promql) const;
  // Query() until it returns a value (polled every 200 ms, at most `timeout_seconds`).
  Result<double> WaitForValue(std::string_view promql, double timeout_seconds = 30) const;

 private:
  PrometheusServer(std::unique_ptr<ServiceProcess> process, std::string dir);
  std::unique_ptr<ServiceProcess> process_;
  std::string dir_;  // configuration and TSDB
};

class Pushgateway {
 public:
  static Result<std::unique_ptr<Pushgateway>> Start(
      std::string program = "/usr/bin/prometheus-pushgateway", double startup_timeout_seconds = 30);

  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(process_->port()); }
  // "127.0.0.1:PORT", a PrometheusServer target.
  std::string target() const { return "127.0.0.1:" + std::to_string(process_->port()); }
  int port() const { return process_->port(); }
  const ServiceProcess& process() const { return *process_; }

  // GET /metrics: every pushed group's metrics plus the gateway's own, in the text format.
  Result<std::string> Metrics() const;
  // The value of the sample `name` whose labels include every one of `labels` (from Metrics()).
  // NotFound when there is none.
  Result<double> Sample(std::string_view name,
                        const std::vector<std::pair<std::string, std::string>>& labels) const;

 private:
  explicit Pushgateway(std::unique_ptr<ServiceProcess> process) : process_(std::move(process)) {}
  std::unique_ptr<ServiceProcess> process_;
};

// Runs `promtool check metrics` (Debian's /usr/bin/promtool) on `exposition`: OK when it finds
// no problem; else InvalidArgument with promtool's report (lint findings included), or
// Unavailable when promtool cannot be run.
Status PromtoolCheckMetrics(std::string_view exposition);

// The value of the sample `name` with all of `labels` in a text-format `exposition`; NotFound
// when absent.
Result<double> FindSample(std::string_view exposition, std::string_view name,
                          const std::vector<std::pair<std::string, std::string>>& labels);

}  // namespace lote::testing

#endif  // LOTE_TESTS_TESTING_PROMETHEUS_SERVER_H_
