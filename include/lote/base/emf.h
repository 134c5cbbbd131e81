// EmfMetrics: a MetricsSink that accumulates a job's metrics and renders them as CloudWatch
// Embedded Metric Format (EMF) events, one JSON object a line, for CloudWatch Logs to turn into
// metrics (a Lambda's or a container's stdout, or a log file an agent ships).
//
// An event:
//   {"_aws":{"Timestamp":MS,"CloudWatchMetrics":[{"Namespace":"lote",
//     "Dimensions":[["stage","model","outcome"]],"Metrics":[{"Name":"...","Unit":"Count"}]}]},
//    "stage":"run","model":"banca-1","outcome":"out","lote_job_records":371}
// The dimensions of a series are the sink's fixed dimensions (EmfOptions::dimensions, e.g. stage)
// followed by the series' labels; series with the same dimension values share events. Counters
// are summed, gauges keep their last value, observations are listed (an array of values).
//
// The format's limits are respected by construction: at most 100 metric definitions per event
// (more series with the same dimensions are split across events), at most 30 dimension keys
// (a series with more labels is dropped), at most 100 values per metric array (more values are
// split across events; at most max_values_per_series are kept per series, later ones dropped),
// and events of at most max_event_bytes (an event over it is split in two until it fits).
// Non-finite values cannot be written in JSON and are dropped. Every drop is counted
// (dropped()).
//
// Units come from CloudWatch's list; a metric's unit is SetUnit's, else guessed from its name
// (UnitForName). Thread-safety: every method is thread-safe.
#ifndef LOTE_BASE_EMF_H_
#define LOTE_BASE_EMF_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lote/base/metrics.h"
#include "lote/base/status.h"

namespace lote {

struct EmfOptions {
  std::string namespace_name = "lote";
  // Dimensions of every event, in order: {"stage", "run"}. Values must be non-empty.
  std::vector<std::pair<std::string, std::string>> dimensions;
  // The format's limits (CloudWatch's current ones); tests lower them.
  size_t max_metrics_per_event = 100;
  size_t max_dimensions = 30;
  size_t max_values_per_array = 100;
  size_t max_event_bytes = size_t{1} << 20;
  // Bounds on what is kept in memory.
  size_t max_series = 1000;
  size_t max_values_per_series = 1000;
};

class EmfMetrics : public MetricsSink {
 public:
  explicit EmfMetrics(EmfOptions options = {});

  void Count(std::string_view name, MetricLabels labels, double delta) override;
  void Gauge(std::string_view name, MetricLabels labels, double value) override;
  void Observe(std::string_view name, MetricLabels labels, double value) override;

  // The CloudWatch unit of metric `name` (InvalidArgument when `unit` is not one of CloudWatch's
  // units: Seconds, Microseconds, Milliseconds, Bytes, Kilobytes, ..., Bits/Second, Count,
  // Count/Second, Percent, None).
  Status SetUnit(std::string_view name, std::string_view unit);

  // The events for everything reported so far, one JSON object per string (no newline), with
  // `_aws.Timestamp` = `timestamp_ms` (milliseconds since the epoch). Deterministic: events
  // ordered by dimension values, metrics by name.
  std::vector<std::string> Render(int64_t timestamp_ms) const;

  // Updates dropped so far (too many labels or series, values over the bound, non-finite).
  uint64_t dropped() const;

 private:
  struct Series {
    bool listed = false;         // observations: `values` holds them
    double value = 0;            // counter sum or gauge value
    std::vector<double> values;  // observations
  };
  // Key: the label pairs in the order given; value: metric name -> series.
  using Labels = std::vector<std::pair<std::string, std::string>>;
  Series* SeriesFor(std::string_view name, MetricLabels labels);

  const EmfOptions options_;
  mutable std::mutex mu_;
  std::map<Labels, std::map<std::string, Series, std::less<>>> groups_;
  std::map<std::string, std::string, std::less<>> units_;
  size_t series_count_ = 0;
  uint64_t dropped_ = 0;
};

// Whether `unit` is one of CloudWatch's metric units.
bool IsCloudWatchUnit(std::string_view unit);

// The unit guessed from a metric name: "*_timestamp_seconds" None, "*_seconds[_total]" Seconds,
// "*_bytes[_total]" Bytes, "*_per_second" Count/Second, "*_total", "*_records", "*_objects",
// "*_executions" Count, else None.
std::string_view UnitForName(std::string_view name);

}  // namespace lote

#endif  // LOTE_BASE_EMF_H_
