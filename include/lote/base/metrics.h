// MetricsSink: where lote reports what it counts and times (records per outcome, objects, stage
// seconds). The library writes through this interface only; what a sink does with the numbers
// is the caller's: the in-memory sink below for tests and summaries, and the Prometheus and
// CloudWatch (EMF) sinks of the metrics issue.
//
// Rules every caller follows: metric names are fixed `lote_...` snake_case identifiers; label
// values come from closed sets (a stage name, an outcome, a model version), never from the data
// (no record ids, texts, object names or user-supplied strings), so metrics cannot leak personal
// data and their cardinality stays bounded.
// Thread-safety: implementations must be thread-safe; the pipeline reports from several threads.
#ifndef LOTE_BASE_METRICS_H_
#define LOTE_BASE_METRICS_H_

#include <cstdint>
#include <map>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lote {

struct MetricLabel {
  std::string_view name;
  std::string_view value;
};
using MetricLabels = std::span<const MetricLabel>;

class MetricsSink {
 public:
  virtual ~MetricsSink() = default;
  // Adds `delta` (>= 0) to the counter `name` with `labels`.
  virtual void Count(std::string_view name, MetricLabels labels, double delta) = 0;
  // Sets the gauge `name` with `labels` to `value`.
  virtual void Gauge(std::string_view name, MetricLabels labels, double value) = 0;
  // Records one observation (a duration in seconds, a size) of the distribution `name`.
  virtual void Observe(std::string_view name, MetricLabels labels, double value) = 0;
};

// Keeps every series in memory: counters' sums, gauges' last values, observations' count and
// sum. For tests and for printing a summary.
class InMemoryMetrics : public MetricsSink {
 public:
  struct Series {
    double value = 0;    // counter: sum of deltas; gauge: last value; distribution: sum
    uint64_t count = 0;  // updates (distribution: observations)
  };
  void Count(std::string_view name, MetricLabels labels, double delta) override;
  void Gauge(std::string_view name, MetricLabels labels, double value) override;
  void Observe(std::string_view name, MetricLabels labels, double value) override;

  // The series `name{a="x",b="y"}` (labels in the order given when reported); zero if absent.
  Series Get(const std::string& key) const;
  // Every series key, sorted.
  std::vector<std::string> Keys() const;

  // `name{a="x",b="y"}` for `labels` in order; `name` without labels.
  static std::string Key(std::string_view name, MetricLabels labels);

 private:
  mutable std::mutex mu_;
  std::map<std::string, Series> series_;
};

}  // namespace lote

#endif  // LOTE_BASE_METRICS_H_
