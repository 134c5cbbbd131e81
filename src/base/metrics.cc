#include "lote/base/metrics.h"

namespace lote {

std::string InMemoryMetrics::Key(std::string_view name, MetricLabels labels) {
  std::string key(name);
  if (labels.empty()) return key;
  key.push_back('{');
  for (size_t i = 0; i < labels.size(); ++i) {
    if (i > 0) key.push_back(',');
    key.append(labels[i].name).append("=\"").append(labels[i].value).push_back('"');
  }
  key.push_back('}');
  return key;
}

void InMemoryMetrics::Count(std::string_view name, MetricLabels labels, double delta) {
  std::string key = Key(name, labels);
  std::lock_guard<std::mutex> lock(mu_);
  Series& s = series_[key];
  s.value += delta;
  ++s.count;
}

void InMemoryMetrics::Gauge(std::string_view name, MetricLabels labels, double value) {
  std::string key = Key(name, labels);
  std::lock_guard<std::mutex> lock(mu_);
  Series& s = series_[key];
  s.value = value;
  ++s.count;
}

void InMemoryMetrics::Observe(std::string_view name, MetricLabels labels, double value) {
  std::string key = Key(name, labels);
  std::lock_guard<std::mutex> lock(mu_);
  Series& s = series_[key];
  s.value += value;
  ++s.count;
}

InMemoryMetrics::Series InMemoryMetrics::Get(const std::string& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = series_.find(key);
  return it == series_.end() ? Series{} : it->second;
}

std::vector<std::string> InMemoryMetrics::Keys() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> keys;
  for (const auto& [k, v] : series_) keys.push_back(k);
  return keys;
}

}  // namespace lote
