#include "testing/prometheus_server.h"

#include <gtest/gtest.h>

#include "lote/base/prometheus.h"
#include "lote/monitoring/pushgateway.h"

namespace lote::testing {
namespace {

TEST(PrometheusServer, ScrapesAPushgatewayAndAnswersAQueryWithThePushedValue) {
  auto gateway = Pushgateway::Start();
  ASSERT_TRUE(gateway.ok()) << gateway.status().ToString();
  PrometheusServerOptions o;
  o.targets = {(*gateway)->target()};
  auto prometheus = PrometheusServer::Start(o);
  ASSERT_TRUE(prometheus.ok()) << prometheus.status().ToString();

  PrometheusRegistry r;
  r.Declare("lote_job_records", MetricType::kGauge, "Records by outcome.");
  const MetricLabel out[] = {{"outcome", "out"}};
  r.Gauge("lote_job_records", out, 371);
  monitoring::PushgatewayOptions push;
  push.url = (*gateway)->endpoint();
  push.grouping = {{"stage", "run"}};
  ASSERT_TRUE(monitoring::PushMetrics(push, r.Render()).ok());

  auto v =
      (*prometheus)->WaitForValue(R"(lote_job_records{job="lote",stage="run",outcome="out"})", 30);
  ASSERT_TRUE(v.ok()) << v.status().ToString() << "\n" << (*prometheus)->process().LogTail();
  EXPECT_EQ(*v, 371);
  auto scalar = (*prometheus)->Query("scalar(vector(2) * 21)");
  ASSERT_TRUE(scalar.ok()) << scalar.status().ToString();
  EXPECT_EQ(*scalar, 42);
  EXPECT_EQ((*prometheus)->Query("sum(").status().code(), StatusCode::kInvalidArgument);
}

TEST(PrometheusServer, AMissingProgramFailsNamingIt) {
  PrometheusServerOptions o;
  o.program = "/nonexistent/prometheus";
  auto p = PrometheusServer::Start(o);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("/nonexistent/prometheus"), std::string::npos);
}

TEST(PromtoolCheckMetrics, ReportsALintProblem) {
  EXPECT_TRUE(PromtoolCheckMetrics("# HELP a_total A.\n# TYPE a_total counter\na_total 1\n").ok());
  Status s = PromtoolCheckMetrics("# HELP a A.\n# TYPE a counter\na 1\n");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
  EXPECT_NE(s.message().find("_total"), std::string::npos) << s.ToString();
}

}  // namespace
}  // namespace lote::testing
