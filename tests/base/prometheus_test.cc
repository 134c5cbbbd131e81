#include "lote/base/prometheus.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <thread>
#include <vector>

namespace lote {
namespace {

TEST(PrometheusRegistry, RendersFamiliesSortedByNameWithHelpAndTypeOnce) {
  PrometheusRegistry r;
  r.Declare("lote_requests_total", MetricType::kCounter, "Requests by path.");
  r.Declare("lote_inflight", MetricType::kGauge, "Requests in flight.");
  const MetricLabel ping[] = {{"path", "/ping"}, {"code", "200"}};
  const MetricLabel inv[] = {{"code", "200"}, {"path", "/invocations"}};
  r.Count("lote_requests_total", ping, 1);
  r.Count("lote_requests_total", ping, 2);
  r.Count("lote_requests_total", inv, 5);
  r.Gauge("lote_inflight", {}, 3);
  EXPECT_EQ(r.Render(),
            "# HELP lote_inflight Requests in flight.\n"
            "# TYPE lote_inflight gauge\n"
            "lote_inflight 3\n"
            "# HELP lote_requests_total Requests by path.\n"
            "# TYPE lote_requests_total counter\n"
            "lote_requests_total{code=\"200\",path=\"/invocations\"} 5\n"
            "lote_requests_total{code=\"200\",path=\"/ping\"} 3\n");
}

TEST(PrometheusRegistry, LabelsInAnotherOrderAreTheSameSeries) {
  PrometheusRegistry r;
  const MetricLabel ab[] = {{"a", "1"}, {"b", "2"}};
  const MetricLabel ba[] = {{"b", "2"}, {"a", "1"}};
  r.Count("x_total", ab, 1);
  r.Count("x_total", ba, 1);
  EXPECT_NE(r.Render().find("x_total{a=\"1\",b=\"2\"} 2\n"), std::string::npos) << r.Render();
}

TEST(PrometheusRegistry, EscapesLabelValuesAndHelp) {
  PrometheusRegistry r;
  r.Declare("x", MetricType::kGauge, "back\\slash\nnewline");
  const MetricLabel l[] = {{"v", "a\\b\"c\nd"}};
  r.Gauge("x", l, 1);
  EXPECT_EQ(r.Render(),
            "# HELP x back\\\\slash\\nnewline\n"
            "# TYPE x gauge\n"
            "x{v=\"a\\\\b\\\"c\\nd\"} 1\n");
}

TEST(PrometheusRegistry, HistogramBucketsAreCumulativeAndInfEqualsCount) {
  PrometheusRegistry r;
  r.Declare("lat_seconds", MetricType::kHistogram, "Latency.", {1, 0.5, 2, 0.5});
  for (double v : {0.25, 0.5, 0.75, 1.0, 3.0, 100.0}) r.Observe("lat_seconds", {}, v);
  EXPECT_EQ(r.Render(),
            "# HELP lat_seconds Latency.\n"
            "# TYPE lat_seconds histogram\n"
            "lat_seconds_bucket{le=\"0.5\"} 2\n"
            "lat_seconds_bucket{le=\"1\"} 4\n"
            "lat_seconds_bucket{le=\"2\"} 4\n"
            "lat_seconds_bucket{le=\"+Inf\"} 6\n"
            "lat_seconds_sum 105.5\n"
            "lat_seconds_count 6\n");
}

TEST(PrometheusRegistry, UndeclaredObserveIsAHistogramWithDefaultBuckets) {
  PrometheusRegistry r;
  const MetricLabel l[] = {{"path", "/ping"}};
  r.Observe("req_seconds", l, 0.003);
  const std::string text = r.Render();
  EXPECT_NE(text.find("# TYPE req_seconds histogram\n"), std::string::npos) << text;
  EXPECT_NE(text.find("req_seconds_bucket{path=\"/ping\",le=\"0.005\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("req_seconds_bucket{path=\"/ping\",le=\"10\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("# HELP req_seconds "), std::string::npos);
  EXPECT_EQ(DefaultLatencyBuckets().size(), 11u);
}

TEST(PrometheusRegistry, FormatsNumbersAsPrometheusReadsThem) {
  EXPECT_EQ(FormatPrometheusNumber(42), "42");
  EXPECT_EQ(FormatPrometheusNumber(-3), "-3");
  EXPECT_EQ(FormatPrometheusNumber(0.1), "0.1");
  EXPECT_EQ(FormatPrometheusNumber(1e100), "1e+100");
  EXPECT_EQ(FormatPrometheusNumber(1234567890123.0), "1234567890123");
  EXPECT_EQ(FormatPrometheusNumber(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(FormatPrometheusNumber(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(FormatPrometheusNumber(std::nan("")), "NaN");
  const double third = 1.0 / 3;
  EXPECT_EQ(std::stod(FormatPrometheusNumber(third)), third);
}

TEST(PrometheusRegistry, SeriesPastTheCapAreDroppedAndCounted) {
  PrometheusRegistry r(PrometheusRegistryOptions{.max_series_per_family = 2});
  for (const char* v : {"a", "b", "c", "d"}) {
    const MetricLabel l[] = {{"k", v}};
    r.Count("x_total", l, 1);
  }
  const MetricLabel a[] = {{"k", "a"}};
  r.Count("x_total", a, 1);  // an existing series still counts
  const std::string text = r.Render();
  EXPECT_NE(text.find("x_total{k=\"a\"} 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("x_total{k=\"b\"} 1\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("k=\"c\""), std::string::npos) << text;
  EXPECT_NE(text.find("lote_metrics_dropped_series_total{reason=\"series_limit\"} 2\n"),
            std::string::npos)
      << text;
}

TEST(PrometheusRegistry, InvalidNamesValuesAndTypeMismatchesAreDroppedAndCounted) {
  PrometheusRegistry r;
  r.Count("bad-name", {}, 1);
  const MetricLabel bad_label[] = {{"1x", "v"}};
  r.Gauge("ok", bad_label, 1);
  const MetricLabel le[] = {{"le", "1"}};
  r.Observe("h", le, 1);
  r.Count("c_total", {}, -1);
  r.Gauge("c_total", {}, 1);  // c_total does not exist yet: becomes a gauge
  r.Observe("c_total", {}, 1);
  const std::string text = r.Render();
  EXPECT_NE(text.find("{reason=\"invalid_name\"} 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("{reason=\"invalid_value\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("{reason=\"type_mismatch\"} 1\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("bad-name"), std::string::npos);
}

TEST(PrometheusRegistry, RedeclaringWithAnotherTypeKeepsTheFirst) {
  PrometheusRegistry r;
  r.Declare("x", MetricType::kGauge, "first");
  r.Declare("x", MetricType::kGauge, "second");
  r.Declare("x", MetricType::kCounter, "third");
  r.Gauge("x", {}, 1);
  EXPECT_EQ(r.Render(), "# HELP x first\n# TYPE x gauge\nx 1\n");
}

TEST(PrometheusRegistry, CountsFromManyThreadsAddUp) {
  PrometheusRegistry r;
  constexpr int kThreads = 4, kPerThread = 20000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&r, t] {
      const std::string code = t % 2 ? "200" : "500";
      const MetricLabel l[] = {{"code", code}};
      for (int i = 0; i < kPerThread; ++i) {
        r.Count("req_total", l, 1);
        r.Observe("lat_seconds", {}, 0.001);
        if (i % 1000 == 0) (void)r.Render();
      }
    });
  }
  for (auto& t : threads) t.join();
  const std::string text = r.Render();
  EXPECT_NE(text.find("req_total{code=\"200\"} 40000\n"), std::string::npos) << text;
  EXPECT_NE(text.find("req_total{code=\"500\"} 40000\n"), std::string::npos) << text;
  EXPECT_NE(text.find("lat_seconds_count 80000\n"), std::string::npos) << text;
  EXPECT_NE(text.find("lat_seconds_bucket{le=\"0.005\"} 80000\n"), std::string::npos) << text;
}

}  // namespace
}  // namespace lote
