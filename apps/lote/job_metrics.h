// `--metrics`, the batch jobs' metrics outputs (lote run, the stage commands, lote flow run):
//   --metrics emf          CloudWatch EMF lines on stderr (stdout carries the summary)
//   --metrics emf:FILE     EMF lines appended to FILE
//   --metrics pushgateway:URL   the run's metrics PUT to URL/metrics/job/lote/stage/STAGE
// Repeatable. A metrics output that fails (a gateway down, a file not writable) is a warning on
// stderr: it never fails the job nor changes its exit code.
#ifndef LOTE_APPS_LOTE_JOB_METRICS_H_
#define LOTE_APPS_LOTE_JOB_METRICS_H_

#include <CLI/CLI.hpp>
#include <memory>
#include <string>
#include <vector>

#include "lote/base/emf.h"
#include "lote/base/metrics.h"
#include "lote/base/prometheus.h"

namespace lote::cli {

// Adds the repeatable --metrics SPEC flag (a bad SPEC is a usage error, exit 2).
CLI::Option* AddMetricsFlag(CLI::App* cmd, std::vector<std::string>* specs);

class JobMetrics {
 public:
  // `stage`: the EMF dimension and the gateway's grouping label (run, ingest, prep, infer,
  // publish, flow). The specs were validated by AddMetricsFlag.
  JobMetrics(const std::vector<std::string>& specs, std::string stage);
  ~JobMetrics();

  // Where the job reports its numbers (both outputs); null when no --metrics was given.
  MetricsSink* sink() { return enabled_ ? sink_.get() : nullptr; }

  // Writes the EMF lines and pushes to every gateway; `success` false pushes with POST, so that
  // the group's last success timestamp stays. Warns on failures; idempotent.
  void Finish(bool success);

 private:
  bool enabled_ = false, finished_ = false;
  std::string stage_;
  std::vector<std::string> emf_files_;  // "" is stderr
  std::vector<std::string> gateways_;
  std::shared_ptr<PrometheusRegistry> registry_;
  std::shared_ptr<EmfMetrics> emf_;
  std::unique_ptr<MetricsSink> sink_;
};

}  // namespace lote::cli

#endif  // LOTE_APPS_LOTE_JOB_METRICS_H_
