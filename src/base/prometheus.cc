#include "lote/base/prometheus.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <limits>

namespace lote {
namespace {

// More labels than this on one series is refused (invalid_name): label sets are small closed
// sets, and the bound keeps key building on the stack.
constexpr size_t kMaxLabels = 16;

bool IsNameStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsNameChar(char c) { return IsNameStart(c) || (c >= '0' && c <= '9'); }

void AppendHelp(std::string* out, std::string_view help) {
  for (char c : help) {
    if (c == '\\') {
      out->append("\\\\");
    } else if (c == '\n') {
      out->append("\\n");
    } else {
      out->push_back(c);
    }
  }
}

const char* TypeName(MetricType type) {
  switch (type) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
  }
  return "untyped";
}

std::vector<double> CleanBuckets(std::vector<double> buckets) {
  buckets.erase(
      std::remove_if(buckets.begin(), buckets.end(), [](double b) { return !std::isfinite(b); }),
      buckets.end());
  std::sort(buckets.begin(), buckets.end());
  buckets.erase(std::unique(buckets.begin(), buckets.end()), buckets.end());
  if (buckets.empty()) return DefaultLatencyBuckets();
  return buckets;
}

// Builds the series key `a="x",b="y"` (sorted by label name) into *key. False when a label name
// is invalid or repeated, `le` is used on a histogram, or there are too many labels.
bool BuildKey(MetricLabels labels, bool histogram, std::string* key) {
  key->clear();
  if (labels.size() > kMaxLabels) return false;
  std::array<const MetricLabel*, kMaxLabels> sorted;
  for (size_t i = 0; i < labels.size(); ++i) sorted[i] = &labels[i];
  std::sort(sorted.begin(), sorted.begin() + labels.size(),
            [](const MetricLabel* a, const MetricLabel* b) { return a->name < b->name; });
  for (size_t i = 0; i < labels.size(); ++i) {
    const MetricLabel& l = *sorted[i];
    if (!IsValidLabelName(l.name) || (histogram && l.name == "le")) return false;
    if (i > 0 && sorted[i - 1]->name == l.name) return false;
    if (i > 0) key->push_back(',');
    key->append(l.name).append("=\"");
    AppendEscapedLabelValue(key, l.value);
    key->push_back('"');
  }
  return true;
}

// The series key buffer of this thread: reused, so a call on an existing series allocates nothing.
std::string& KeyBuffer() {
  thread_local std::string key;
  return key;
}

void AppendSample(std::string* out, std::string_view name, std::string_view suffix,
                  std::string_view key, std::string_view extra_label, double value) {
  out->append(name).append(suffix);
  if (!key.empty() || !extra_label.empty()) {
    out->push_back('{');
    out->append(key);
    if (!key.empty() && !extra_label.empty()) out->push_back(',');
    out->append(extra_label);
    out->push_back('}');
  }
  out->push_back(' ');
  out->append(FormatPrometheusNumber(value));
  out->push_back('\n');
}

}  // namespace

std::vector<double> DefaultLatencyBuckets() {
  return {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

std::string FormatPrometheusNumber(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  std::to_chars_result r;
  // Integers below 2^53 are exact as doubles: print them without an exponent ("1000000").
  if (v == std::trunc(v) && std::fabs(v) < 9007199254740992.0) {
    r = std::to_chars(buf, buf + sizeof(buf), static_cast<int64_t>(v));
  } else {
    r = std::to_chars(buf, buf + sizeof(buf), v);  // shortest text that reads back the same
  }
  return std::string(buf, r.ptr);
}

bool IsValidMetricName(std::string_view name) {
  if (name.empty() || !(IsNameStart(name[0]) || name[0] == ':')) return false;
  return std::all_of(name.begin(), name.end(), [](char c) { return IsNameChar(c) || c == ':'; });
}

bool IsValidLabelName(std::string_view name) {
  if (name.empty() || !IsNameStart(name[0]) || name.substr(0, 2) == "__") return false;
  return std::all_of(name.begin(), name.end(), IsNameChar);
}

void AppendEscapedLabelValue(std::string* out, std::string_view value) {
  for (char c : value) {
    if (c == '\\') {
      out->append("\\\\");
    } else if (c == '"') {
      out->append("\\\"");
    } else if (c == '\n') {
      out->append("\\n");
    } else {
      out->push_back(c);
    }
  }
}

PrometheusRegistry::PrometheusRegistry(PrometheusRegistryOptions options) : options_(options) {
  Family& f = families_[std::string(kDroppedSeries)];
  f.type = MetricType::kCounter;
  f.declared = true;
  f.help =
      "Metric updates dropped: over a series or family limit, an invalid name or value, or a "
      "type mismatch.";
}

void PrometheusRegistry::Drop(std::string_view reason) {
  Family& f = families_.find(kDroppedSeries)->second;
  std::string key = "reason=\"";
  key.append(reason).push_back('"');
  f.series[key].value += 1;
}

PrometheusRegistry::Family* PrometheusRegistry::FamilyFor(std::string_view name, MetricType type) {
  auto it = families_.find(name);
  if (it == families_.end()) {
    if (!IsValidMetricName(name)) {
      Drop("invalid_name");
      return nullptr;
    }
    if (families_.size() >= options_.max_families + 1) {  // + the dropped-series family
      Drop("family_limit");
      return nullptr;
    }
    it = families_.emplace(std::string(name), Family{}).first;
    Family& f = it->second;
    f.type = type;
    f.help = std::string(name) + " (reported without a declaration)";
    if (type == MetricType::kHistogram) f.buckets = DefaultLatencyBuckets();
    return &f;
  }
  Family& f = it->second;
  // A gauge may be counted up (a gauge declared for a value that only grows within a run).
  const bool ok = f.type == type || (f.type == MetricType::kGauge && type == MetricType::kCounter);
  if (!ok || (name == kDroppedSeries)) {
    Drop("type_mismatch");
    return nullptr;
  }
  return &f;
}

PrometheusRegistry::Series* PrometheusRegistry::SeriesFor(Family* f, const std::string& key) {
  auto it = f->series.find(key);
  if (it != f->series.end()) return &it->second;
  if (f->series.size() >= options_.max_series_per_family) {
    Drop("series_limit");
    return nullptr;
  }
  Series& s = f->series[key];
  if (f->type == MetricType::kHistogram) s.bucket_count.assign(f->buckets.size() + 1, 0);
  return &s;
}

void PrometheusRegistry::Declare(std::string_view name, MetricType type, std::string_view help,
                                 std::vector<double> buckets) {
  if (type == MetricType::kHistogram) buckets = CleanBuckets(std::move(buckets));
  std::lock_guard<std::mutex> lock(mu_);
  auto it = families_.find(name);
  if (it == families_.end()) {
    if (!IsValidMetricName(name)) {
      Drop("invalid_name");
      return;
    }
    if (families_.size() >= options_.max_families + 1) {
      Drop("family_limit");
      return;
    }
    Family& f = families_[std::string(name)];
    f.type = type;
    f.declared = true;
    f.help = std::string(help);
    if (type == MetricType::kHistogram) f.buckets = std::move(buckets);
    return;
  }
  Family& f = it->second;
  if (f.declared || f.type != type) return;
  f.declared = true;
  f.help = std::string(help);
  if (type == MetricType::kHistogram && f.series.empty()) f.buckets = std::move(buckets);
}

void PrometheusRegistry::Count(std::string_view name, MetricLabels labels, double delta) {
  std::string& key = KeyBuffer();
  const bool valid_key = BuildKey(labels, false, &key);
  std::lock_guard<std::mutex> lock(mu_);
  if (!valid_key) return Drop("invalid_name");
  if (!(delta >= 0) || std::isinf(delta)) return Drop("invalid_value");
  Family* f = FamilyFor(name, MetricType::kCounter);
  if (f == nullptr) return;
  if (Series* s = SeriesFor(f, key)) s->value += delta;
}

void PrometheusRegistry::Gauge(std::string_view name, MetricLabels labels, double value) {
  std::string& key = KeyBuffer();
  const bool valid_key = BuildKey(labels, false, &key);
  std::lock_guard<std::mutex> lock(mu_);
  if (!valid_key) return Drop("invalid_name");
  Family* f = FamilyFor(name, MetricType::kGauge);
  if (f == nullptr) return;
  if (Series* s = SeriesFor(f, key)) s->value = value;
}

void PrometheusRegistry::Observe(std::string_view name, MetricLabels labels, double value) {
  std::string& key = KeyBuffer();
  const bool valid_key = BuildKey(labels, true, &key);
  std::lock_guard<std::mutex> lock(mu_);
  if (!valid_key) return Drop("invalid_name");
  if (std::isnan(value)) return Drop("invalid_value");
  Family* f = FamilyFor(name, MetricType::kHistogram);
  if (f == nullptr) return;
  Series* s = SeriesFor(f, key);
  if (s == nullptr) return;
  // Bucket i counts values <= buckets[i] (and > buckets[i-1]); the last slot is +Inf only.
  const size_t i = static_cast<size_t>(
      std::lower_bound(f->buckets.begin(), f->buckets.end(), value) - f->buckets.begin());
  ++s->bucket_count[i];
  ++s->count;
  s->value += value;
}

std::string PrometheusRegistry::Render() const {
  std::string out;
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [name, f] : families_) {
    if (f.series.empty()) continue;
    out.append("# HELP ").append(name).push_back(' ');
    AppendHelp(&out, f.help);
    out.append("\n# TYPE ").append(name).push_back(' ');
    out.append(TypeName(f.type)).push_back('\n');
    for (const auto& [key, s] : f.series) {
      if (f.type != MetricType::kHistogram) {
        AppendSample(&out, name, "", key, "", s.value);
        continue;
      }
      uint64_t cumulative = 0;
      std::string le;
      for (size_t i = 0; i <= f.buckets.size(); ++i) {
        cumulative += s.bucket_count[i];
        le = "le=\"";
        le += i < f.buckets.size() ? FormatPrometheusNumber(f.buckets[i]) : "+Inf";
        le.push_back('"');
        AppendSample(&out, name, "_bucket", key, le, static_cast<double>(cumulative));
      }
      AppendSample(&out, name, "_sum", key, "", s.value);
      AppendSample(&out, name, "_count", key, "", static_cast<double>(s.count));
    }
  }
  return out;
}

}  // namespace lote
