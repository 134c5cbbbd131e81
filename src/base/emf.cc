#include "lote/base/emf.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <nlohmann/json.hpp>

namespace lote {
namespace {

using Json = nlohmann::ordered_json;

constexpr std::array<std::string_view, 27> kUnits = {"Seconds",
                                                     "Microseconds",
                                                     "Milliseconds",
                                                     "Bytes",
                                                     "Kilobytes",
                                                     "Megabytes",
                                                     "Gigabytes",
                                                     "Terabytes",
                                                     "Bits",
                                                     "Kilobits",
                                                     "Megabits",
                                                     "Gigabits",
                                                     "Terabits",
                                                     "Percent",
                                                     "Count",
                                                     "Bytes/Second",
                                                     "Kilobytes/Second",
                                                     "Megabytes/Second",
                                                     "Gigabytes/Second",
                                                     "Terabytes/Second",
                                                     "Bits/Second",
                                                     "Kilobits/Second",
                                                     "Megabits/Second",
                                                     "Gigabits/Second",
                                                     "Terabits/Second",
                                                     "Count/Second",
                                                     "None"};

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

Json Number(double v) {
  if (v == std::trunc(v) && std::fabs(v) < 9007199254740992.0) return static_cast<int64_t>(v);
  return v;
}

// One metric of one event: a name, its unit, and a value or a slice of its values.
struct Item {
  const std::string* name;
  std::string_view unit;
  bool listed;
  double value;
  const double* values;
  size_t n;
};

}  // namespace

bool IsCloudWatchUnit(std::string_view unit) {
  return std::find(kUnits.begin(), kUnits.end(), unit) != kUnits.end();
}

std::string_view UnitForName(std::string_view name) {
  if (EndsWith(name, "_timestamp_seconds")) return "None";
  if (EndsWith(name, "_seconds") || EndsWith(name, "_seconds_total")) return "Seconds";
  if (EndsWith(name, "_bytes") || EndsWith(name, "_bytes_total")) return "Bytes";
  if (EndsWith(name, "_per_second")) return "Count/Second";
  if (EndsWith(name, "_total") || EndsWith(name, "_records") || EndsWith(name, "_objects") ||
      EndsWith(name, "_executions")) {
    return "Count";
  }
  return "None";
}

EmfMetrics::EmfMetrics(EmfOptions options) : options_(std::move(options)) {}

EmfMetrics::Series* EmfMetrics::SeriesFor(std::string_view name, MetricLabels labels) {
  // Called with mu_ held. Labels with an empty value are left out: CloudWatch refuses empty
  // dimension values, and an absent label reads the same.
  Labels key;
  key.reserve(labels.size());
  for (const MetricLabel& l : labels) {
    if (l.value.empty()) continue;
    for (const auto& [dim, v] : options_.dimensions) {
      if (dim == l.name) {
        ++dropped_;  // a label shadowing a fixed dimension would make the event ambiguous
        return nullptr;
      }
    }
    key.emplace_back(std::string(l.name), std::string(l.value));
  }
  if (name.empty() || key.size() + options_.dimensions.size() > options_.max_dimensions) {
    ++dropped_;
    return nullptr;
  }
  auto& metrics = groups_[std::move(key)];
  auto it = metrics.find(name);
  if (it != metrics.end()) return &it->second;
  if (series_count_ >= options_.max_series) {
    ++dropped_;
    return nullptr;
  }
  ++series_count_;
  return &metrics[std::string(name)];
}

void EmfMetrics::Count(std::string_view name, MetricLabels labels, double delta) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!std::isfinite(delta)) {
    ++dropped_;
    return;
  }
  if (Series* s = SeriesFor(name, labels); s != nullptr && !s->listed) s->value += delta;
}

void EmfMetrics::Gauge(std::string_view name, MetricLabels labels, double value) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!std::isfinite(value)) {
    ++dropped_;
    return;
  }
  if (Series* s = SeriesFor(name, labels); s != nullptr && !s->listed) s->value = value;
}

void EmfMetrics::Observe(std::string_view name, MetricLabels labels, double value) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!std::isfinite(value)) {
    ++dropped_;
    return;
  }
  Series* s = SeriesFor(name, labels);
  if (s == nullptr) return;
  if (!s->listed && s->value != 0) {  // counted or set before: keep its first kind
    ++dropped_;
    return;
  }
  s->listed = true;
  if (s->values.size() >= options_.max_values_per_series) {
    ++dropped_;
    return;
  }
  s->values.push_back(value);
}

Status EmfMetrics::SetUnit(std::string_view name, std::string_view unit) {
  if (!IsCloudWatchUnit(unit)) {
    return InvalidArgumentError("not a CloudWatch unit: '" + std::string(unit) + "'");
  }
  std::lock_guard<std::mutex> lock(mu_);
  units_[std::string(name)] = std::string(unit);
  return Status::Ok();
}

uint64_t EmfMetrics::dropped() const {
  std::lock_guard<std::mutex> lock(mu_);
  return dropped_;
}

std::vector<std::string> EmfMetrics::Render(int64_t timestamp_ms) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> events;
  const size_t per_array = std::max<size_t>(1, options_.max_values_per_array);
  const size_t per_event = std::max<size_t>(1, options_.max_metrics_per_event);
  for (const auto& group : groups_) {
    // Named, not a structured binding: the lambdas below capture them (clang 14 cannot capture
    // a structured binding).
    const Labels& labels = group.first;
    const auto& metrics = group.second;
    auto render = [&](const Item* items, size_t n) {
      Json dims = Json::array();
      for (const auto& [k, v] : options_.dimensions) dims.push_back(k);
      for (const auto& [k, v] : labels) dims.push_back(k);
      Json defs = Json::array();
      for (size_t i = 0; i < n; ++i) {
        defs.push_back(Json{{"Name", *items[i].name}, {"Unit", items[i].unit}});
      }
      Json event;
      event["_aws"] =
          Json{{"Timestamp", timestamp_ms},
               {"CloudWatchMetrics", Json::array({Json{{"Namespace", options_.namespace_name},
                                                       {"Dimensions", Json::array({dims})},
                                                       {"Metrics", defs}}})}};
      for (const auto& [k, v] : options_.dimensions) event[k] = v;
      for (const auto& [k, v] : labels) event[k] = v;
      for (size_t i = 0; i < n; ++i) {
        const Item& it = items[i];
        if (!it.listed) {
          event[*it.name] = Number(it.value);
          continue;
        }
        Json values = Json::array();
        for (size_t j = 0; j < it.n; ++j) values.push_back(Number(it.values[j]));
        event[*it.name] = std::move(values);
      }
      return event.dump();
    };
    // Splits items[0, n) until each event fits max_event_bytes.
    auto emit = [&](auto&& self, const Item* items, size_t n) -> void {
      std::string line = render(items, n);
      if (line.size() <= options_.max_event_bytes) {
        events.push_back(std::move(line));
        return;
      }
      if (n == 1) return;  // one metric alone over the limit: cannot be sent
      self(self, items, n / 2);
      self(self, items + n / 2, n - n / 2);
    };
    // Round r holds slice r of every listed metric (and, in round 0, every single value): a
    // metric appears at most once per event.
    for (size_t round = 0;; ++round) {
      std::vector<Item> items;
      for (const auto& [name, s] : metrics) {
        auto unit_it = units_.find(name);
        const std::string_view unit =
            unit_it != units_.end() ? std::string_view(unit_it->second) : UnitForName(name);
        if (!s.listed) {
          if (round == 0) items.push_back(Item{&name, unit, false, s.value, nullptr, 0});
          continue;
        }
        const size_t begin = round * per_array;
        if (begin >= s.values.size()) continue;
        const size_t n = std::min(per_array, s.values.size() - begin);
        items.push_back(Item{&name, unit, true, 0, s.values.data() + begin, n});
      }
      if (items.empty()) break;
      for (size_t i = 0; i < items.size(); i += per_event) {
        emit(emit, items.data() + i, std::min(per_event, items.size() - i));
      }
    }
  }
  return events;
}

}  // namespace lote
