// Alarm rules over monitoring reports: "unknown_word_rate at drift in 2 consecutive runs",
// "estimated accuracy below 0.85". Evaluated after each run on its report and the reports of the
// runs before it on the same output; a firing alarm is recorded in the report ("alarms",
// "alarm"), the catalog, the log and the metrics, so a state machine's Choice can branch on it.
// Thread-safety: pure functions.
#ifndef LOTE_MONITORING_ALARMS_H_
#define LOTE_MONITORING_ALARMS_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lote/base/status.h"

namespace lote::monitoring {

inline constexpr int kMaxConsecutiveRuns = 100;  // history an alarm may look back on

struct AlarmRule {
  std::string name;             // [A-Za-z0-9_.-]{1,64}: it becomes a metric label value
  std::string signal;           // "verdict", a signal name ("unknown_word_rate", ...) or
                                // "estimated_accuracy" / "estimated_accuracy_low"
  std::string band;             // verdict and signals: "warn" (warn or drift) or "drift"
  std::optional<double> below;  // estimated_accuracy(_low): the condition is value < below
  int consecutive_runs = 1;     // the condition held in this many runs in a row, this one last
};

// InvalidArgument naming the rule and field for an unknown signal, a missing or misplaced band or
// threshold, a bad name or consecutive_runs outside 1..kMaxConsecutiveRuns.
Status ValidateAlarmRule(const AlarmRule& rule);

// The condition in words: "unknown_word_rate >= drift", "estimated_accuracy < 0.85".
std::string AlarmCondition(const AlarmRule& rule);

struct AlarmResult {
  std::string name, signal, condition;
  int consecutive_runs = 1;  // as the rule asks
  int runs_met = 0;          // consecutive runs, this one last, in which the condition held
  bool firing = false;       // runs_met >= consecutive_runs
};

// Evaluates `rules` on the report `current` (monitoring.json text) and the reports of earlier runs
// on the same output, newest first. A report that does not hold the signal (monitoring off, no
// reference) breaks a streak.
std::vector<AlarmResult> EvaluateAlarms(const std::vector<AlarmRule>& rules,
                                        std::string_view current,
                                        const std::vector<std::string>& previous);

}  // namespace lote::monitoring

#endif  // LOTE_MONITORING_ALARMS_H_
