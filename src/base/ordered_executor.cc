#include "lote/base/ordered_executor.h"

#include <sched.h>

#include <algorithm>
#include <charconv>
#include <cmath>

namespace lote {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\n' || s.back() == '\r' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

std::optional<int64_t> ParseInt(std::string_view s) {
  s = Trim(s);
  int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

int UsableCpuCount() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    const int n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
  const unsigned hw = std::thread::hardware_concurrency();
  return hw > 0 ? static_cast<int>(hw) : 1;
}

std::optional<double> ParseCgroupCpuMax(std::string_view cpu_max) {
  cpu_max = Trim(cpu_max);
  const size_t space = cpu_max.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  if (Trim(cpu_max.substr(0, space)) == "max") return std::nullopt;
  return ParseCgroupV1Quota(cpu_max.substr(0, space), cpu_max.substr(space + 1));
}

std::optional<double> ParseCgroupV1Quota(std::string_view quota_us, std::string_view period_us) {
  const auto quota = ParseInt(quota_us);
  const auto period = ParseInt(period_us);
  if (!quota || !period || *quota <= 0 || *period <= 0) return std::nullopt;
  return static_cast<double>(*quota) / static_cast<double>(*period);
}

int DefaultThreadCount(std::optional<double> cpu_quota) {
  int n = UsableCpuCount();
  if (cpu_quota && *cpu_quota > 0) {
    n = std::min(n, static_cast<int>(std::ceil(*cpu_quota)));
  }
  return std::clamp(n, 1, kMaxThreads);
}

}  // namespace lote
