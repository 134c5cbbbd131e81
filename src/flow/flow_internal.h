// Small pieces the flow module's sources share (not public API).
#ifndef LOTE_SRC_FLOW_FLOW_INTERNAL_H_
#define LOTE_SRC_FLOW_FLOW_INTERNAL_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "lote/base/status.h"
#include "lote/flow/history.h"
#include "lote/flow/state_error.h"

namespace lote::flow {

// Compact JSON as the histories and item stores write it: invalid UTF-8 in strings replaced
// (U+FFFD) rather than thrown on.
inline std::string DumpJson(const Json& j) {
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

// "an object", "an array", "a string", "a boolean", "null" or "a number": for error messages.
inline const char* JsonTypePhrase(const Json& v) {
  switch (v.type()) {
    case Json::value_t::object:
      return "an object";
    case Json::value_t::array:
      return "an array";
    case Json::value_t::string:
      return "a string";
    case Json::value_t::boolean:
      return "a boolean";
    case Json::value_t::null:
      return "null";
    default:
      return "a number";
  }
}

// What every history store answers a runner that no longer holds the execution.
inline Status LostLeaseError(const std::string& name) {
  return AbortedError("execution " + name +
                      " is no longer held by this runner (another process took it over, or it "
                      "was finished or stopped)");
}

// Claims, takeovers and stops need a RUNNING execution; `status` as the store names it.
inline Status CheckRunning(const std::string& name, std::string_view status) {
  if (status == ExecutionStatusName(ExecutionStatus::kRunning)) return Status::Ok();
  return FailedPreconditionError("execution " + name + " is " + std::string(status) +
                                 ", not RUNNING");
}
inline Status CheckRunning(const std::string& name, ExecutionStatus status) {
  return CheckRunning(name, ExecutionStatusName(status));
}

// Appended events must continue the stored history: ids last_id + 1, last_id + 2, ...
inline Status CheckEventIds(const std::string& name, int64_t last_id,
                            std::span<const HistoryEvent> events) {
  int64_t next = last_id + 1;
  for (const HistoryEvent& ev : events) {
    if (ev.id != next) {
      return FailedPreconditionError("execution " + name + ": event id " + std::to_string(ev.id) +
                                     " does not follow the stored history (expected " +
                                     std::to_string(next) + ")");
    }
    ++next;
  }
  return Status::Ok();
}

// Finish takes a final status only.
inline Status CheckFinalStatus(const std::string& name, ExecutionStatus status) {
  if (status == ExecutionStatus::kRunning) {
    return InvalidArgumentError("Finish " + name + ": RUNNING is not a final status");
  }
  return Status::Ok();
}

}  // namespace lote::flow

#endif  // LOTE_SRC_FLOW_FLOW_INTERNAL_H_
