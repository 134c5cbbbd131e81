#include "job_metrics.h"

#include <cstdio>

#include "common.h"
#include "lote/base/clock.h"
#include "lote/monitoring/job_metrics.h"
#include "lote/monitoring/pushgateway.h"

namespace lote::cli {
namespace {

// Reports to both outputs.
class TeeSink : public MetricsSink {
 public:
  TeeSink(MetricsSink* a, MetricsSink* b) : a_(a), b_(b) {}
  void Count(std::string_view name, MetricLabels labels, double delta) override {
    a_->Count(name, labels, delta);
    b_->Count(name, labels, delta);
  }
  void Gauge(std::string_view name, MetricLabels labels, double value) override {
    a_->Gauge(name, labels, value);
    b_->Gauge(name, labels, value);
  }
  void Observe(std::string_view name, MetricLabels labels, double value) override {
    a_->Observe(name, labels, value);
    b_->Observe(name, labels, value);
  }

 private:
  MetricsSink* a_;
  MetricsSink* b_;
};

}  // namespace

CLI::Option* AddMetricsFlag(CLI::App* cmd, std::vector<std::string>* specs) {
  return cmd
      ->add_option("--metrics", *specs,
                   "Metrics output, repeatable: emf (CloudWatch EMF lines on stderr), emf:FILE "
                   "(appended to FILE), pushgateway:URL (Prometheus Pushgateway)")
      ->check([](const std::string& spec) -> std::string {
        if (spec == "emf") return "";
        if (spec.rfind("emf:", 0) == 0) return spec.size() > 4 ? "" : "emf: needs a file name";
        if (spec.rfind("pushgateway:", 0) == 0) {
          monitoring::PushgatewayOptions o;
          o.url = spec.substr(12);
          auto url = monitoring::PushgatewayUrl(o);
          return url.ok() ? "" : url.status().message();
        }
        return "expected emf, emf:FILE or pushgateway:URL";
      });
}

JobMetrics::JobMetrics(const std::vector<std::string>& specs, std::string stage)
    : stage_(std::move(stage)) {
  for (const std::string& spec : specs) {
    if (spec == "emf") {
      emf_files_.push_back("");
    } else if (spec.rfind("emf:", 0) == 0) {
      emf_files_.push_back(spec.substr(4));
    } else if (spec.rfind("pushgateway:", 0) == 0) {
      gateways_.push_back(spec.substr(12));
    }
  }
  enabled_ = !emf_files_.empty() || !gateways_.empty();
  registry_ = std::make_shared<PrometheusRegistry>();
  monitoring::DeclareJobMetrics(registry_.get());
  EmfOptions emf;
  emf.dimensions = {{"stage", stage_}};
  emf_ = std::make_shared<EmfMetrics>(std::move(emf));
  sink_ = std::make_unique<TeeSink>(registry_.get(), emf_.get());
}

JobMetrics::~JobMetrics() = default;

void JobMetrics::Finish(bool success) {
  if (!enabled_ || finished_) return;
  finished_ = true;
  if (!emf_files_.empty()) {
    std::string text;
    for (const std::string& line : emf_->Render(SystemClock()->NowMicros() / 1000)) {
      text.append(line).push_back('\n');
    }
    for (const std::string& path : emf_files_) {
      if (path.empty()) {
        std::fputs(text.c_str(), stderr);
        std::fflush(stderr);
        continue;
      }
      // Appended: a log file an agent (CloudWatch agent, Fluent Bit) tails across runs.
      std::FILE* f = std::fopen(path.c_str(), "a");
      bool ok = f != nullptr && std::fwrite(text.data(), 1, text.size(), f) == text.size();
      if (f != nullptr) ok = (std::fclose(f) == 0) && ok;
      if (!ok) Warn("metrics: cannot write the EMF file " + path);
    }
  }
  const std::string body = registry_->Render();
  for (const std::string& url : gateways_) {
    monitoring::PushgatewayOptions o;
    o.url = url;
    o.grouping = {{"stage", stage_}};
    o.replace = success;
    Status s = monitoring::PushMetrics(o, body);
    if (!s.ok()) Warn("metrics: " + s.message());
  }
}

}  // namespace lote::cli
