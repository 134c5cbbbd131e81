#include "lote/base/clock.h"

#include <gtest/gtest.h>

#include "lote/base/metrics.h"

namespace lote {
namespace {

TEST(Clock, FormatsUtcTimestampsInOneWay) {
  const int64_t t = 1714566896789123;  // 2024-05-01T12:34:56.789123Z
  EXPECT_EQ(FormatTimestampMillis(t), "2024-05-01T12:34:56.789Z");
  EXPECT_EQ(FormatTimestampSeconds(t), "2024-05-01T12:34:56Z");
  EXPECT_EQ(FormatDate(t), "2024-05-01");
  EXPECT_EQ(FormatCompactTimestamp(t), "20240501T123456Z");
  EXPECT_EQ(FormatTimestampMillis(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatTimestampMillis(-1000), "1969-12-31T23:59:59.999Z");
}

TEST(Clock, CivilDatesAndDaysSinceTheEpoch) {
  EXPECT_EQ(DaysFromCivil(1970, 1, 1), 0);
  EXPECT_EQ(DaysFromCivil(2000, 3, 1), 11017);
  EXPECT_EQ(DaysFromCivil(1969, 12, 31), -1);
  EXPECT_EQ(DaysFromCivil(2024, 3, 1) - DaysFromCivil(2024, 2, 28), 2);  // a leap year
  EXPECT_EQ(DaysFromCivil(1900, 3, 1) - DaysFromCivil(1900, 2, 28), 1);  // not one
  for (int64_t days = -800000; days <= 800000; days += 997) {
    int64_t y, m, d;
    CivilFromDays(days, &y, &m, &d);
    ASSERT_TRUE(m >= 1 && m <= 12 && d >= 1 && d <= 31) << days;
    ASSERT_EQ(DaysFromCivil(y, m, d), days);
  }
}

TEST(Clock, ManualClockMovesOnlyWhenTold) {
  ManualClock c(1000);
  EXPECT_EQ(c.NowMicros(), 1000);
  const int64_t start = c.MonotonicNanos();
  c.Advance(2500000);
  EXPECT_EQ(c.NowMicros(), 2501000);
  EXPECT_DOUBLE_EQ(c.SecondsSince(start), 2.5);
  auto sys = SystemClock();
  EXPECT_GT(sys->NowMicros(), int64_t{1700000000} * 1000000);
  EXPECT_EQ(ClockOr(nullptr), sys);
}

TEST(Metrics, InMemorySinkSumsCountersAndKeepsGaugesPerLabelSet) {
  InMemoryMetrics m;
  const MetricLabel out[] = {{"outcome", "out"}};
  const MetricLabel q[] = {{"outcome", "quarantined"}};
  m.Count("lote_records_total", out, 3);
  m.Count("lote_records_total", out, 2);
  m.Count("lote_records_total", q, 1);
  m.Gauge("lote_threads", {}, 4);
  m.Gauge("lote_threads", {}, 2);
  m.Observe("lote_object_seconds", {}, 0.5);
  m.Observe("lote_object_seconds", {}, 1.5);
  EXPECT_EQ(m.Get("lote_records_total{outcome=\"out\"}").value, 5);
  EXPECT_EQ(m.Get("lote_records_total{outcome=\"quarantined\"}").value, 1);
  EXPECT_EQ(m.Get("lote_threads").value, 2);
  EXPECT_EQ(m.Get("lote_object_seconds").count, 2u);
  EXPECT_EQ(m.Get("lote_object_seconds").value, 2.0);
  EXPECT_EQ(m.Get("absent").count, 0u);
  EXPECT_EQ(m.Keys().size(), 4u);
}

}  // namespace
}  // namespace lote
