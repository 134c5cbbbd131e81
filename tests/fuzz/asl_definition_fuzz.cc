// Fuzzes ParseDefinition (src/flow/definition.cc) and, for definitions that parse, runs them
// with the executor (src/flow/executor.cc) on an in-memory history, no Task handler and a manual
// clock: every execution must end (SUCCEEDED, FAILED or TIMED_OUT) within the event limit,
// errors are InvalidArgument, and nothing may crash or leak. Definitions that wait (Wait,
// Retry, timeouts) are parsed only: the manual clock would step through their waits 100 ms at a
// time. What waits is read from the parsed machine, not the text: JSON escapes ("\u0057ait")
// spell the same names (a Wait of 99999999 s so spelled hits libFuzzer's 10 s timeout).
#include <memory>
#include <string>
#include <string_view>

#include "fuzz_util.h"
#include "lote/base/clock.h"
#include "lote/flow/definition.h"
#include "lote/flow/executor.h"
#include "lote/flow/history.h"

namespace {

// Whether `m` or a machine nested in it has a state that waits on the clock.
bool Waits(const lote::flow::StateMachine& m) {
  if (m.timeout_seconds.has_value()) return true;
  for (const auto& s : m.states) {
    if (s.type == lote::flow::StateType::kWait || !s.retry.empty() || s.timeout_seconds.present() ||
        s.heartbeat_seconds.present()) {
      return true;
    }
    for (const auto& branch : s.branches) {
      if (branch && Waits(*branch)) return true;
    }
    if (s.item_processor && Waits(*s.item_processor)) return true;
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  using namespace lote;
  using fuzz::Check;
  if (size > 64 * 1024) return 0;
  const std::string text(reinterpret_cast<const char*>(bytes), size);
  auto machine = flow::ParseDefinition(text);
  if (!machine.ok()) {
    Check(machine.status().code() == StatusCode::kInvalidArgument, "errors are InvalidArgument");
    Check(!machine.status().message().empty(), "errors say what is wrong");
    return 0;
  }
  Check(!(*machine)->states.empty() && (*machine)->Find((*machine)->start_at) != nullptr,
        "a valid machine starts at one of its states");
  if (Waits(**machine)) return 0;
  auto history = flow::NewMemoryHistory();
  auto clock = std::make_shared<ManualClock>(1'700'000'000'000'000);
  flow::ExecutorOptions o;
  o.clock = clock;
  o.sleep = [clock](int64_t micros) { clock->Advance(micros); };
  o.history = history.get();
  o.max_history_events = 2000;
  o.max_threads = 2;
  o.max_payload_bytes = 64 * 1024;
  flow::Executor executor(o);
  auto r = executor.Run("fuzz", "fuzz", text, flow::Json{{"a", 1}, {"items", {1, 2, 3}}});
  Check(r.ok(), "an execution of a valid definition runs to its end");
  Check(r->status != flow::ExecutionStatus::kRunning, "the execution is closed");
  Check((r->status == flow::ExecutionStatus::kSucceeded) == r->output.has_value(),
        "an output exactly when it succeeded");
  Check(r->events <= 2000 + 1, "the event limit holds");
  return 0;
}
