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

int64_t DaysFromCivil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2 ? 1 : 0;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

void CivilFromDays(int64_t z, int64_t* y, int64_t* m, int64_t* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = yoe + era * 400 + (*m <= 2 ? 1 : 0);
}

}  // namespace lote
