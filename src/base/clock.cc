#include "lote/base/clock.h"

#include <time.h>

#include <cstdio>

namespace lote {
namespace {

class RealClock : public Clock {
 public:
  int64_t NowMicros() const override { return Read(CLOCK_REALTIME) / 1000; }
  int64_t MonotonicNanos() const override { return Read(CLOCK_MONOTONIC); }

 private:
  static int64_t Read(clockid_t id) {
    struct timespec ts;
    clock_gettime(id, &ts);
    return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
  }
};

struct Civil {
  struct tm tm;
  int millis;
};

Civil Split(int64_t micros) {
  // Floor division, so instants before 1970 still format as the right second.
  int64_t secs = micros / 1000000;
  int64_t rem = micros % 1000000;
  if (rem < 0) {
    rem += 1000000;
    --secs;
  }
  Civil c;
  const time_t t = static_cast<time_t>(secs);
  gmtime_r(&t, &c.tm);
  c.millis = static_cast<int>(rem / 1000);
  return c;
}

}  // namespace

std::shared_ptr<const Clock> SystemClock() {
  static const std::shared_ptr<const Clock> clock = std::make_shared<RealClock>();
  return clock;
}

std::string FormatTimestampMillis(int64_t micros) {
  const Civil c = Split(micros);
  char buf[48];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", c.tm.tm_year + 1900,
                c.tm.tm_mon + 1, c.tm.tm_mday, c.tm.tm_hour, c.tm.tm_min, c.tm.tm_sec, c.millis);
  return buf;
}

std::string FormatTimestampSeconds(int64_t micros) {
  const Civil c = Split(micros);
  char buf[48];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02dZ", c.tm.tm_year + 1900,
                c.tm.tm_mon + 1, c.tm.tm_mday, c.tm.tm_hour, c.tm.tm_min, c.tm.tm_sec);
  return buf;
}

std::string FormatDate(int64_t micros) {
  const Civil c = Split(micros);
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02d", c.tm.tm_year + 1900, c.tm.tm_mon + 1,
                c.tm.tm_mday);
  return buf;
}

std::string FormatCompactTimestamp(int64_t micros) {
  const Civil c = Split(micros);
  char buf[48];
  std::snprintf(buf, sizeof(buf), "%04d%02d%02dT%02d%02d%02dZ", c.tm.tm_year + 1900,
                c.tm.tm_mon + 1, c.tm.tm_mday, c.tm.tm_hour, c.tm.tm_min, c.tm.tm_sec);
  return buf;
}

}  // namespace lote
