// The retry budget every AWS client of lote uses: exponential backoff with full jitter (the sleep
// before the next attempt is uniform in [0, min(max, base * 2^attempt)]), bounded in attempts and
// in total time. See docs.aws.amazon.com/general/latest/gr/api-retries.html.
// Thread-safety: NextBackoff is thread-safe (a random generator per thread).
#ifndef LOTE_SRC_AWS_RETRY_H_
#define LOTE_SRC_AWS_RETRY_H_

#include <algorithm>
#include <optional>
#include <random>

namespace lote::aws {

struct RetryPolicy {
  int max_attempts = 5;
  double max_retry_seconds = 60;
  double base_backoff_seconds = 0.1;
  double max_backoff_seconds = 5;
};

// The seconds to sleep before trying again after attempt `attempt` (0-based) failed, `elapsed`
// seconds after the first began; nullopt when the budget is spent (give up).
inline std::optional<double> NextBackoff(const RetryPolicy& p, int attempt, double elapsed) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  const double cap =
      std::min(p.max_backoff_seconds,
               p.base_backoff_seconds * static_cast<double>(1ull << std::min(attempt, 30)));
  const double sleep = std::uniform_real_distribution<double>(0, cap)(rng);
  if (attempt + 1 >= p.max_attempts || elapsed + sleep > p.max_retry_seconds) return std::nullopt;
  return sleep;
}

}  // namespace lote::aws

#endif  // LOTE_SRC_AWS_RETRY_H_
