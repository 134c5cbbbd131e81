// Time, read through one interface and written in one format.
//
// Clock is how lote reads time: the wall clock for timestamps written into outputs (processed_at,
// partition dates, run ids) and a monotonic clock for durations and deadlines. Library code takes
// a Clock from its options instead of calling std::chrono directly, so tests can pin time with a
// ManualClock (as leveldb's Env hides the OS). Default: SystemClock().
//
// The formatting functions are the one place timestamps become text: ISO 8601 in UTC.
// Thread-safety: SystemClock is thread-safe; ManualClock is thread-safe (atomics).
#ifndef LOTE_BASE_CLOCK_H_
#define LOTE_BASE_CLOCK_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

namespace lote {

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time, microseconds since the Unix epoch (UTC).
  virtual int64_t NowMicros() const = 0;
  // A monotonic time in nanoseconds, for durations and deadlines (not related to the epoch).
  virtual int64_t MonotonicNanos() const = 0;

  double SecondsSince(int64_t monotonic_nanos) const {
    return static_cast<double>(MonotonicNanos() - monotonic_nanos) / 1e9;
  }
};

// The machine's clocks (CLOCK_REALTIME, CLOCK_MONOTONIC). Never null; lives forever.
std::shared_ptr<const Clock> SystemClock();

// `given` when set, else SystemClock(): how options structs resolve their `clock` member.
inline std::shared_ptr<const Clock> ClockOr(std::shared_ptr<const Clock> given) {
  return given ? std::move(given) : SystemClock();
}

// A clock that moves only when told: both readings start at the given values and advance
// together by Advance().
class ManualClock : public Clock {
 public:
  explicit ManualClock(int64_t now_micros = 0) : now_micros_(now_micros) {}
  int64_t NowMicros() const override { return now_micros_.load(); }
  int64_t MonotonicNanos() const override { return mono_nanos_.load(); }
  void Advance(int64_t micros) {
    now_micros_ += micros;
    mono_nanos_ += micros * 1000;
  }
  void SetNowMicros(int64_t micros) { now_micros_ = micros; }

 private:
  std::atomic<int64_t> now_micros_;
  std::atomic<int64_t> mono_nanos_{0};
};

// "2024-05-01T12:34:56.789Z" (milliseconds).
std::string FormatTimestampMillis(int64_t micros);
// "2024-05-01T12:34:56Z".
std::string FormatTimestampSeconds(int64_t micros);
// "2024-05-01".
std::string FormatDate(int64_t micros);
// "20240501T123456Z": sortable and usable in file and object names.
std::string FormatCompactTimestamp(int64_t micros);

// Days since 1970-01-01 of a date of the proleptic Gregorian calendar (Howard Hinnant's
// days_from_civil; any year, month 1..12, day 1..31, not checked), and back.
int64_t DaysFromCivil(int64_t year, int64_t month, int64_t day);
void CivilFromDays(int64_t days, int64_t* year, int64_t* month, int64_t* day);

}  // namespace lote

#endif  // LOTE_BASE_CLOCK_H_
