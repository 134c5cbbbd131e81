// lote's executor of Amazon States Language state machines: runs an execution to its end,
// durably, with the semantics Step Functions documents.
//
// An execution moves from state to state; every step is recorded in a HistoryStore as the events
// GetExecutionHistory shows, together with checkpoints that let a restarted process resume it.
// Durability rule: events are buffered and written (one transaction) before anything outside the
// executor can observe the step: before a Task is invoked, before a Wait or a retry sleeps, when
// the execution ends, and at least every `flush_every_events`. Pure states (Pass, Choice) between
// two such points are recomputed after a crash; a Task whose success was recorded is never invoked
// again; one that was in flight is invoked again (at-least-once, as Step Functions).
// Waits keep their deadline across restarts. Parallel branches and Map iterations run on worker
// threads (bounded by `max_threads` for the whole execution; the calling thread always works too,
// so nested Maps cannot deadlock).
//
// Task resources are run by a TaskHandler (lote's own stages, configured commands) or answered by
// a mock test case (AWS Step Functions Local's format). The executor itself does no I/O but
// through the history store, the handler and the item reader/writer given in its options.
// Thread-safety: one Executor runs one execution at a time (Run/Resume are not reentrant).
#ifndef LOTE_FLOW_EXECUTOR_H_
#define LOTE_FLOW_EXECUTOR_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "lote/base/clock.h"
#include "lote/base/status.h"
#include "lote/flow/definition.h"
#include "lote/flow/history.h"
#include "lote/flow/mock_config.h"
#include "lote/flow/state_error.h"

namespace lote::flow {

// One call of a Task state's resource.
struct TaskInvocation {
  std::string state_name;
  std::string resource;          // the ARN as written in the definition
  Json parameters;               // the effective input (after InputPath and Parameters)
  Json context;                  // the context object ($$)
  double timeout_seconds = 0;    // 0: none
  double heartbeat_seconds = 0;  // 0: none
  // True once the execution stops, times out or this task's timeout passed: a long-running
  // handler should return soon after (its result is then ignored).
  std::function<bool()> cancelled;
  // Tells the executor the task is alive (resets the HeartbeatSeconds clock).
  std::function<void()> heartbeat;
};

class TaskHandler {
 public:
  virtual ~TaskHandler() = default;
  // Runs the resource. Errors are returned as StateError with the name the service would give
  // (a resource the handler does not know: States.Runtime naming the ARN). Must be thread-safe:
  // Map iterations and Parallel branches call it concurrently.
  virtual Outcome<Json> Invoke(const TaskInvocation& invocation) = 0;
};

// Reads the items of a distributed Map's ItemReader (s3:getObject, s3:listObjectsV2) with the
// evaluated Parameters and ReaderConfig; writes a ResultWriter's results. Errors name the object;
// the executor reports them as States.ItemReaderFailed / States.ResultWriterFailed.
class ItemStore {
 public:
  virtual ~ItemStore() = default;
  virtual Outcome<Json> ReadItems(const std::string& resource, const Json& parameters,
                                  const Json& reader_config) = 0;
  // Returns the ResultWriterDetails object ({"Bucket": ..., "Key": manifest key}).
  virtual Outcome<Json> WriteResults(const std::string& resource, const Json& parameters,
                                     const std::string& map_run_id, const Json& succeeded,
                                     const Json& failed) = 0;
};

// A line of progress for a human (lote flow run prints them on stderr).
struct ProgressEvent {
  std::string type;   // "TaskStateEntered", "ExecutionSucceeded", ...
  std::string state;  // empty for execution events
  std::string scope;  // "" at top level, e.g. "Fan/b0" or "Each/i3" inside branches
};

struct ExecutorOptions {
  std::shared_ptr<const Clock> clock;  // default SystemClock()
  // Sleeps up to `micros` (may return early); default: real sleep. Tests with a ManualClock
  // advance it instead.
  std::function<void(int64_t micros)> sleep;

  HistoryStore* history = nullptr;  // required
  TaskHandler* tasks = nullptr;     // null: every unmocked Task fails with States.Runtime
  const MockCase* mocks = nullptr;  // mocked responses by state name, checked first
  ItemStore* items = nullptr;       // distributed Map ItemReader / ResultWriter

  size_t max_payload_bytes = 256 * 1024;  // States.DataLimitExceeded above it (AWS: 256 KiB)
  int64_t max_history_events = 25000;     // the execution fails with States.Runtime past it
  int max_threads = 16;                   // worker threads for Map/Parallel, whole execution
  int default_map_concurrency = 40;       // MaxConcurrency 0 (AWS runs up to 40 inline)
  size_t flush_every_events = 512;        // buffered events are written at least this often
  int64_t lease_micros = 60'000'000;      // ownership lease on the execution, renewed at 1/3
  std::string region = "local";           // in ARNs ($$.Execution.Id)
  std::string account = "000000000000";

  std::function<void(const ProgressEvent&)> on_progress;  // may be null

  // Ownership tokens are owner_prefix + a random part. When another owner holds the execution's
  // lease and owner_is_gone(its token) says that process no longer exists (lote flow: same host,
  // pid not alive), the execution is taken over at once instead of after the lease expires.
  std::string owner_prefix;
  std::function<bool(const std::string& owner)> owner_is_gone;
};

struct ExecutionResult {
  ExecutionStatus status = ExecutionStatus::kRunning;
  std::optional<Json> output;       // SUCCEEDED
  std::optional<StateError> error;  // FAILED, TIMED_OUT, ABORTED
  int64_t events = 0;               // events in the history
  bool resumed = false;             // an earlier process had started it
};

class Executor {
 public:
  explicit Executor(ExecutorOptions options);
  ~Executor();

  // Starts execution `name` of `machine` (parsed from `definition`, stored with the history) on
  // `input` and runs it to its end. A RUNNING execution of that name with the same definition and
  // input (a killed run) is resumed; a closed one, or one with other input, is AlreadyExists (as
  // StartExecution's ExecutionAlreadyExists). Other errors: the history store's (Unavailable...),
  // Aborted when another process runs this execution.
  Result<ExecutionResult> Run(const std::string& name, const std::string& state_machine,
                              const std::string& definition, const Json& input);

  // Continues a RUNNING execution from its history (its stored definition and input). A closed
  // execution gives its recorded result.
  Result<ExecutionResult> Resume(const std::string& name);

  struct Impl;

 private:
  ExecutorOptions options_;
};

// The ARN of execution `name` of state machine `state_machine` under `options`.
std::string ExecutionArn(const ExecutorOptions& options, const std::string& state_machine,
                         const std::string& name);

}  // namespace lote::flow

#endif  // LOTE_FLOW_EXECUTOR_H_
