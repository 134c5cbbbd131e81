// Errors of the Amazon States Language (ASL): how a failure travels inside an execution.
//
// A state fails with an error name and a cause, as Step Functions reports them ("States.Timeout",
// "States.TaskFailed", or any name a task throws). Retry and Catch match on the name. These are
// execution outcomes, not lote Status values: a definition that cannot be parsed is a Status
// (InvalidArgument, naming file, state and field); a state that fails at run time is a StateError.
// Thread-safety: plain values.
#ifndef LOTE_FLOW_STATE_ERROR_H_
#define LOTE_FLOW_STATE_ERROR_H_

#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <variant>

namespace lote::flow {

// Every JSON value inside the executor. Ordered: objects keep their keys in insertion order, as
// Step Functions prints them (States.JsonToString, outputs).
using Json = nlohmann::ordered_json;

// The predefined error names (AWS: "Error names" in the States Language).
inline constexpr char kStatesAll[] = "States.ALL";
inline constexpr char kStatesTaskFailed[] = "States.TaskFailed";
inline constexpr char kStatesTimeout[] = "States.Timeout";
inline constexpr char kStatesHeartbeatTimeout[] = "States.HeartbeatTimeout";
inline constexpr char kStatesRuntime[] = "States.Runtime";
inline constexpr char kStatesDataLimitExceeded[] = "States.DataLimitExceeded";
inline constexpr char kStatesIntrinsicFailure[] = "States.IntrinsicFailure";
inline constexpr char kStatesResultPathMatchFailure[] = "States.ResultPathMatchFailure";
inline constexpr char kStatesParameterPathFailure[] = "States.ParameterPathFailure";
inline constexpr char kStatesBranchFailed[] = "States.BranchFailed";
inline constexpr char kStatesNoChoiceMatched[] = "States.NoChoiceMatched";
inline constexpr char kStatesExceedToleratedFailureThreshold[] =
    "States.ExceedToleratedFailureThreshold";
inline constexpr char kStatesItemReaderFailed[] = "States.ItemReaderFailed";
inline constexpr char kStatesResultWriterFailed[] = "States.ResultWriterFailed";
inline constexpr char kStatesPermissions[] = "States.Permissions";

struct StateError {
  std::string error;  // e.g. "States.Runtime"
  std::string cause;  // human-readable; never holds record contents beyond what the flow put there

  bool operator==(const StateError&) const = default;
};

inline StateError RuntimeError(std::string cause) { return {kStatesRuntime, std::move(cause)}; }

// A value or the StateError that replaced it (the executor's Result).
template <typename T>
class [[nodiscard]] Outcome {
 public:
  Outcome(T value) : v_(std::move(value)) {}           // NOLINT: implicit by design
  Outcome(StateError error) : v_(std::move(error)) {}  // NOLINT: implicit by design

  bool ok() const { return v_.index() == 0; }
  T& value() & {
    if (!ok()) std::abort();
    return std::get<0>(v_);
  }
  const T& value() const& {
    if (!ok()) std::abort();
    return std::get<0>(v_);
  }
  T&& value() && {
    if (!ok()) std::abort();
    return std::get<0>(std::move(v_));
  }
  const StateError& error() const {
    if (ok()) std::abort();
    return std::get<1>(v_);
  }

 private:
  std::variant<T, StateError> v_;
};

}  // namespace lote::flow

#endif  // LOTE_FLOW_STATE_ERROR_H_
