// PrometheusRegistry: a MetricsSink that keeps counters, gauges and histograms in memory and
// renders them in Prometheus' text exposition format 0.0.4 (what GET /metrics answers and what a
// batch job PUTs to a Pushgateway).
//
// Families: a name with a type, a HELP text and (histograms) bucket upper bounds. Declare one
// before use to give it its HELP and buckets; a name first seen in Count is a counter, in Gauge a
// gauge, in Observe a histogram with DefaultLatencyBuckets(), each with a generated HELP.
// Series: one per label set. Labels are identified by name, so the same labels given in another
// order are the same series (rendered sorted by label name).
//
// Bounded: at most max_series_per_family series per family and max_families families. A call
// that would pass a bound, or that is invalid (a metric or label name Prometheus refuses, the
// reserved label `le` on a histogram, a counter decreased, a value reported as another type than
// its family's), changes nothing and adds 1 to
//   lote_metrics_dropped_series_total{reason="series_limit|family_limit|invalid_name|
//                                             invalid_value|type_mismatch"}
// so a bug or a cardinality explosion shows up in the metrics themselves instead of in memory.
//
// Cost: one registry mutex; a call builds its series key in a per-thread buffer (no heap
// allocation once the buffer has grown) and allocates only when it creates a series.
// Thread-safety: every method is thread-safe.
#ifndef LOTE_BASE_PROMETHEUS_H_
#define LOTE_BASE_PROMETHEUS_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "lote/base/metrics.h"

namespace lote {

enum class MetricType { kCounter, kGauge, kHistogram };

struct PrometheusRegistryOptions {
  size_t max_series_per_family = 1000;
  size_t max_families = 1000;
};

class PrometheusRegistry : public MetricsSink {
 public:
  explicit PrometheusRegistry(PrometheusRegistryOptions options = {});

  // Declares a family (HELP text, TYPE; histogram bucket upper bounds, ascending, +Inf implicit).
  // Redeclaring the same name with the same type is a no-op; a declaration with another type
  // than the family already has is ignored (the first type stays), as is an invalid name.
  // Buckets are sorted, deduplicated and stripped of non-finite values; an empty list for a
  // histogram means DefaultLatencyBuckets(). A family first created by use takes the HELP (and,
  // while it has no series, the buckets) of a later declaration.
  void Declare(std::string_view name, MetricType type, std::string_view help,
               std::vector<double> buckets = {});

  // Adds `delta` (finite, >= 0) to a counter (or to a gauge declared as such).
  void Count(std::string_view name, MetricLabels labels, double delta) override;
  // Sets a gauge (any value, NaN and infinities included).
  void Gauge(std::string_view name, MetricLabels labels, double value) override;
  // Adds one observation to a histogram (NaN is dropped as invalid_value).
  void Observe(std::string_view name, MetricLabels labels, double value) override;

  // Text exposition format 0.0.4: # HELP / # TYPE once per family, families sorted by name,
  // series sorted by their labels; histograms as _bucket{le=...} cumulative ascending with
  // le="+Inf" == _count, then _sum and _count. Families without series are left out. Integral
  // values print as integers, others as the shortest text that reads back the same double;
  // +Inf, -Inf and NaN as Prometheus spells them.
  std::string Render() const;

  static constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";
  static constexpr std::string_view kDroppedSeries = "lote_metrics_dropped_series_total";

 private:
  struct Series {
    double value = 0;                    // counter, gauge; histogram: sum
    uint64_t count = 0;                  // histogram: observations
    std::vector<uint64_t> bucket_count;  // histogram: per bucket, not cumulative
  };
  struct Family {
    MetricType type = MetricType::kCounter;
    bool declared = false;
    std::string help;
    std::vector<double> buckets;
    // Key: the rendered label pairs `a="x",b="y"` (sorted by name, values escaped).
    std::map<std::string, Series, std::less<>> series;
  };

  // The family `name` of `type`, created if allowed; null (after counting the drop) otherwise.
  Family* FamilyFor(std::string_view name, MetricType type);
  // The series of `family` for `key`, created if allowed; null (after counting) otherwise.
  Series* SeriesFor(Family* family, const std::string& key);
  void Drop(std::string_view reason);

  const PrometheusRegistryOptions options_;
  mutable std::mutex mu_;
  std::map<std::string, Family, std::less<>> families_;
};

// client_golang's DefBuckets, in seconds: .005 .01 .025 .05 .1 .25 .5 1 2.5 5 10.
std::vector<double> DefaultLatencyBuckets();

// A number as the text format writes it: "42", "0.25", "1e+100", "+Inf", "-Inf", "NaN".
std::string FormatPrometheusNumber(double v);

// Whether `name` is a valid metric name ([a-zA-Z_:][a-zA-Z0-9_:]*) / label name
// ([a-zA-Z_][a-zA-Z0-9_]*, not starting with "__").
bool IsValidMetricName(std::string_view name);
bool IsValidLabelName(std::string_view name);

// Appends `value` escaped for a label value (\\, \", \n).
void AppendEscapedLabelValue(std::string* out, std::string_view value);

}  // namespace lote

#endif  // LOTE_BASE_PROMETHEUS_H_
