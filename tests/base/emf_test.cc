#include "lote/base/emf.h"

#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

namespace lote {
namespace {

using Json = nlohmann::json;

EmfOptions RunOptions() {
  EmfOptions o;
  o.dimensions = {{"stage", "run"}};
  return o;
}

TEST(EmfMetrics, RendersOneEventPerDimensionSetWithTheDirective) {
  EmfMetrics m(RunOptions());
  const MetricLabel model[] = {{"model", "banca-1"}};
  const MetricLabel out[] = {{"outcome", "out"}, {"model", "banca-1"}};
  m.Gauge("lote_job_duration_seconds", model, 2.5);
  m.Gauge("lote_job_records", out, 371);
  auto lines = m.Render(1700000000123);
  ASSERT_EQ(lines.size(), 2u);
  // Groups are ordered by their labels: (model) before (outcome, model).
  EXPECT_EQ(lines[0],
            "{\"_aws\":{\"Timestamp\":1700000000123,\"CloudWatchMetrics\":[{\"Namespace\":"
            "\"lote\",\"Dimensions\":[[\"stage\",\"model\"]],\"Metrics\":[{\"Name\":"
            "\"lote_job_duration_seconds\",\"Unit\":\"Seconds\"}]}]},\"stage\":\"run\","
            "\"model\":\"banca-1\",\"lote_job_duration_seconds\":2.5}");
  const Json e = Json::parse(lines[1]);
  EXPECT_EQ(e["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            Json::parse(R"([["stage","outcome","model"]])"));
  EXPECT_EQ(e["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Unit"], "Count");
  EXPECT_EQ(e["lote_job_records"], 371);
  EXPECT_EQ(e["outcome"], "out");
}

TEST(EmfMetrics, SplitsAtOneHundredMetricDefinitionsPerEvent) {
  EmfMetrics m(RunOptions());
  for (int i = 0; i < 250; ++i) m.Count("lote_m" + std::to_string(1000 + i) + "_total", {}, i);
  auto lines = m.Render(1);
  ASSERT_EQ(lines.size(), 3u);
  std::set<std::string> names;
  size_t sizes[3];
  for (size_t k = 0; k < lines.size(); ++k) {
    const Json e = Json::parse(lines[k]);
    const auto& defs = e["_aws"]["CloudWatchMetrics"][0]["Metrics"];
    sizes[k] = defs.size();
    for (const auto& d : defs) {
      const std::string name = d["Name"];
      EXPECT_TRUE(e.contains(name)) << name;  // every definition has its value
      EXPECT_TRUE(names.insert(name).second) << name << " defined twice";
    }
  }
  EXPECT_EQ(sizes[0], 100u);
  EXPECT_EQ(sizes[1], 100u);
  EXPECT_EQ(sizes[2], 50u);
  EXPECT_EQ(names.size(), 250u);
}

TEST(EmfMetrics, ObservationsAreArraysOfAtMostOneHundredValues) {
  EmfMetrics m(RunOptions());
  for (int i = 0; i < 250; ++i) m.Observe("lote_object_seconds", {}, i);
  auto lines = m.Render(1);
  ASSERT_EQ(lines.size(), 3u);
  double sum = 0;
  size_t n = 0;
  for (const auto& line : lines) {
    const Json e = Json::parse(line);
    ASSERT_TRUE(e["lote_object_seconds"].is_array());
    EXPECT_LE(e["lote_object_seconds"].size(), 100u);
    for (const auto& v : e["lote_object_seconds"]) sum += v.get<double>(), ++n;
  }
  EXPECT_EQ(n, 250u);
  EXPECT_EQ(sum, 249.0 * 250 / 2);
}

TEST(EmfMetrics, EventsOverTheByteLimitAreSplit) {
  EmfOptions o = RunOptions();
  o.max_event_bytes = 600;
  EmfMetrics m(o);
  for (int i = 0; i < 20; ++i) m.Gauge("lote_gauge_" + std::to_string(100 + i), {}, i);
  auto lines = m.Render(1);
  EXPECT_GT(lines.size(), 1u);
  size_t defs = 0;
  for (const auto& line : lines) {
    EXPECT_LE(line.size(), 600u);
    defs += Json::parse(line)["_aws"]["CloudWatchMetrics"][0]["Metrics"].size();
  }
  EXPECT_EQ(defs, 20u);
}

TEST(EmfMetrics, TooManyDimensionsAndNonFiniteValuesAreDropped) {
  EmfOptions o = RunOptions();
  o.max_dimensions = 2;
  EmfMetrics m(o);
  const MetricLabel two[] = {{"a", "1"}, {"b", "2"}};  // 1 fixed + 2 > 2
  const MetricLabel shadow[] = {{"stage", "x"}};
  m.Gauge("lote_x", two, 1);
  m.Gauge("lote_y", shadow, 1);
  m.Gauge("lote_z", {}, std::nan(""));
  m.Gauge("lote_ok", {}, 1);
  EXPECT_EQ(m.dropped(), 3u);
  auto lines = m.Render(1);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(Json::parse(lines[0])["lote_ok"], 1);
}

TEST(EmfMetrics, UnitsComeFromCloudWatchsList) {
  EXPECT_EQ(UnitForName("lote_job_step_seconds"), "Seconds");
  EXPECT_EQ(UnitForName("lote_job_last_success_timestamp_seconds"), "None");
  EXPECT_EQ(UnitForName("lote_job_records_per_second"), "Count/Second");
  EXPECT_EQ(UnitForName("lote_job_input_bytes"), "Bytes");
  EXPECT_EQ(UnitForName("lote_job_records"), "Count");
  EXPECT_EQ(UnitForName("lote_job_mean_score"), "None");
  EmfMetrics m;
  EXPECT_FALSE(m.SetUnit("x", "Parsecs").ok());
  ASSERT_TRUE(m.SetUnit("x", "Percent").ok());
  m.Gauge("x", {}, 50);
  EXPECT_EQ(Json::parse(m.Render(1)[0])["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Unit"],
            "Percent");
}

}  // namespace
}  // namespace lote
