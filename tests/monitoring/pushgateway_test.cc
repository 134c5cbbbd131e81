#include "lote/monitoring/pushgateway.h"

#include <gtest/gtest.h>

#include <chrono>

#include "lote/base/prometheus.h"
#include "testing/http_wire.h"
#include "testing/prometheus_server.h"

namespace lote::monitoring {
namespace {

TEST(PushgatewayUrl, AppendsJobAndGroupingLabelsEncodingUnsafeValues) {
  PushgatewayOptions o;
  o.url = "http://127.0.0.1:9091/";
  o.grouping = {{"stage", "run"}, {"path", "a/b"}, {"empty", ""}};
  auto url = PushgatewayUrl(o);
  ASSERT_TRUE(url.ok()) << url.status().ToString();
  EXPECT_EQ(*url,
            "http://127.0.0.1:9091/metrics/job/lote/stage/run/path@base64/YS9i/empty@base64/=");
  o.url = "ftp://x";
  EXPECT_EQ(PushgatewayUrl(o).status().code(), StatusCode::kInvalidArgument);
  o.url = "http://x";
  o.grouping = {{"job", "x"}};
  EXPECT_EQ(PushgatewayUrl(o).status().code(), StatusCode::kInvalidArgument);
}

TEST(RedactUrl, DropsUserPasswordAndQuery) {
  EXPECT_EQ(RedactUrl("https://user:s3cret@gw.example:9091/metrics/job/lote?x=1"),
            "https://gw.example:9091/metrics/job/lote");
  EXPECT_EQ(RedactUrl("http://gw:9091/a@b"), "http://gw:9091/a@b");
}

TEST(PushMetrics, PutsTheRenderedRegistryIntoTheGatewaysGroup) {
  auto gateway = testing::Pushgateway::Start();
  ASSERT_TRUE(gateway.ok()) << gateway.status().ToString();
  PrometheusRegistry r;
  r.Declare("lote_job_records", MetricType::kGauge, "Records by outcome.");
  const MetricLabel out[] = {{"outcome", "out"}};
  r.Gauge("lote_job_records", out, 371);
  r.Observe("lote_job_object_seconds", {}, 0.2);
  PushgatewayOptions o;
  o.url = (*gateway)->endpoint();
  o.grouping = {{"stage", "run"}};
  ASSERT_TRUE(PushMetrics(o, r.Render()).ok());
  auto v = (*gateway)->Sample("lote_job_records",
                              {{"job", "lote"}, {"stage", "run"}, {"outcome", "out"}});
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(*v, 371);
  auto count = (*gateway)->Sample("lote_job_object_seconds_count", {{"stage", "run"}});
  ASSERT_TRUE(count.ok()) << count.status().ToString();
  EXPECT_EQ(*count, 1);

  // PUT replaces the group: a metric not sent again is gone. POST keeps the others.
  PrometheusRegistry second;
  second.Gauge("lote_job_last_failure_timestamp_seconds", {}, 5);
  o.replace = false;
  ASSERT_TRUE(PushMetrics(o, second.Render()).ok());
  EXPECT_TRUE((*gateway)->Sample("lote_job_records", {{"outcome", "out"}}).ok());
  o.replace = true;
  ASSERT_TRUE(PushMetrics(o, second.Render()).ok());
  EXPECT_EQ((*gateway)->Sample("lote_job_records", {{"outcome", "out"}}).status().code(),
            StatusCode::kNotFound);
}

TEST(PushMetrics, AGatewayRefusingTheMetricsIsNotRetried) {
  auto gateway = testing::Pushgateway::Start();
  ASSERT_TRUE(gateway.ok()) << gateway.status().ToString();
  PushgatewayOptions o;
  o.url = (*gateway)->endpoint();
  o.grouping = {{"stage", "run"}};
  // Text that is not the exposition format is refused (400).
  const auto start = std::chrono::steady_clock::now();
  Status s = PushMetrics(o, "x{stage= 1\n");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
  EXPECT_NE(s.message().find("HTTP 400"), std::string::npos) << s.ToString();
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 5);
}

TEST(PushMetrics, AnUnreachableGatewayIsUnavailableAfterBoundedRetriesWithoutThePassword) {
  auto port = testing::PickFreeLoopbackPort();
  ASSERT_TRUE(port.ok());
  PushgatewayOptions o;
  o.url = "http://lote:hunter2-secret@127.0.0.1:" + std::to_string(*port);
  o.max_attempts = 3;
  o.max_retry_seconds = 5;
  const auto start = std::chrono::steady_clock::now();
  Status s = PushMetrics(o, "x 1\n");
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s.ToString();
  EXPECT_NE(s.message().find("3 attempt(s)"), std::string::npos) << s.ToString();
  EXPECT_EQ(s.message().find("hunter2"), std::string::npos) << s.ToString();
  EXPECT_LT(seconds, 5.5);
}

}  // namespace
}  // namespace lote::monitoring
