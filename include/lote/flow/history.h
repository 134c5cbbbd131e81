// Durable execution history of lote's state-machine executor.
//
// Every execution has a record (name, definition, input, status, output or error) and an
// append-only list of events shaped as Step Functions' GetExecutionHistory returns them: id,
// previousEventId, timestamp, type ("TaskStateEntered", "TaskScheduled", "TaskSucceeded", ...)
// and one details object whose key depends on the type ("stateEnteredEventDetails",
// "taskScheduledEventDetails", ...). Beside the events the executor keeps checkpoints: small
// records keyed by a state visit ("Map[3]/Score#0"), which let a resumed execution skip what
// already finished. Events and checkpoints of one step are appended in one transaction, so a
// crash keeps both or neither.
//
// Ownership: one process runs an execution at a time. It claims the execution with a lease
// (Claim/Renew); another process may claim it only once the lease has expired (a killed runner).
// `lote flow stop` from any process records a stop request the runner sees at its next step.
// Thread-safety: every method may be called from any thread (the store serializes).
#ifndef LOTE_FLOW_HISTORY_H_
#define LOTE_FLOW_HISTORY_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "lote/base/status.h"
#include "lote/flow/state_error.h"

namespace lote::storage {
class Storage;
}  // namespace lote::storage

namespace lote::flow {

enum class ExecutionStatus { kRunning, kSucceeded, kFailed, kTimedOut, kAborted };

// "RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED" (Step Functions' names).
std::string_view ExecutionStatusName(ExecutionStatus status);
std::optional<ExecutionStatus> ParseExecutionStatus(std::string_view name);

struct ExecutionRecord {
  std::string name;           // unique in the store
  std::string state_machine;  // the state machine's name (file stem or --state-machine)
  std::string definition;     // the definition text as run (after substitutions)
  std::string input;          // JSON text
  ExecutionStatus status = ExecutionStatus::kRunning;
  int64_t start_micros = 0;
  int64_t stop_micros = 0;            // 0 while running
  std::optional<std::string> output;  // JSON text, when SUCCEEDED
  std::optional<StateError> error;    // when FAILED / TIMED_OUT / ABORTED
};

struct HistoryEvent {
  int64_t id = 0;                 // 1, 2, ... within the execution
  int64_t previous_event_id = 0;  // 0 for the first
  int64_t timestamp_micros = 0;
  std::string type;               // e.g. "TaskStateEntered"
  Json details = Json::object();  // e.g. {"stateEnteredEventDetails": {"name": ..., "input": ...}}

  // The event as GetExecutionHistory prints it: {"timestamp": "...", "type": ..., "id": ...,
  // "previousEventId": ..., "<...>EventDetails": {...}}.
  Json ToJson() const;
};

struct Checkpoint {
  std::string key;  // a state visit, e.g. "Fan/b1/Score#0"
  Json value;
};

class HistoryStore {
 public:
  virtual ~HistoryStore() = default;

  // Creates an execution. AlreadyExists when the name is taken (the caller then compares
  // definition and input to decide between resuming and refusing).
  virtual Status Create(const ExecutionRecord& record) = 0;
  // NotFound when there is no such execution.
  virtual Result<ExecutionRecord> Get(const std::string& name) = 0;
  // Most recent first, at most `limit`; `status` filters when set.
  virtual Result<std::vector<ExecutionRecord>> List(std::optional<ExecutionStatus> status,
                                                    size_t limit) = 0;

  // Takes the execution for `owner` (a random token) until `lease_until_micros`. Aborted when
  // another owner holds an unexpired lease; FailedPrecondition when it is no longer running.
  virtual Status Claim(const std::string& name, const std::string& owner, int64_t now_micros,
                       int64_t lease_until_micros) = 0;

  // The owner holding (or last holding) the execution's lease; empty when none.
  virtual Result<std::string> Owner(const std::string& name) = 0;
  // Claims the execution from `dead_owner` before its lease expires: the caller knows that
  // process is gone (same host, pid no longer alive). Aborted when someone else holds it now.
  virtual Status TakeOver(const std::string& name, const std::string& dead_owner,
                          const std::string& owner, int64_t lease_until_micros) = 0;

  // Appends events (ids must follow the last stored one) and upserts checkpoints, atomically.
  // Aborted when `owner` no longer holds the lease (another process took the execution over):
  // the caller must stop.
  virtual Status Append(const std::string& name, const std::string& owner,
                        std::span<const HistoryEvent> events,
                        std::span<const Checkpoint> checkpoints) = 0;

  // Sets the final status, output or error and stop time, and releases the lease.
  virtual Status Finish(const std::string& name, const std::string& owner, ExecutionStatus status,
                        const std::optional<std::string>& output,
                        const std::optional<StateError>& error, int64_t stop_micros) = 0;

  // Events with id > after_id, in id order, at most `limit`.
  virtual Result<std::vector<HistoryEvent>> Events(const std::string& name, int64_t after_id,
                                                   size_t limit) = 0;
  virtual Result<std::vector<Checkpoint>> Checkpoints(const std::string& name) = 0;

  // Records a stop request (lote flow stop); the runner ends the execution ABORTED with it.
  // A stop for an execution no process runs (lease expired) is finished here directly.
  virtual Status RequestStop(const std::string& name, const StateError& reason,
                             int64_t now_micros) = 0;
  // The pending stop request, if any.
  virtual Result<std::optional<StateError>> StopRequested(const std::string& name) = 0;
};

struct SqliteHistoryOptions {
  // true: each Append is on disk before it returns (synchronous=FULL); false: it survives the
  // process being killed but maybe not a power cut (WAL, synchronous=NORMAL). Both survive kill -9.
  bool sync_every_append = false;
};

// Opens (creating if needed) a history database at `path` (a local file). The schema is
// versioned; a file that is not a lote history database is refused naming it.
Result<std::unique_ptr<HistoryStore>> OpenSqliteHistory(const std::string& path,
                                                        const SqliteHistoryOptions& options = {});

struct ObjectStoreHistoryOptions {
  // The storage to write to; null: storage::OpenStorage(uri) (s3://, mem://, file://).
  std::shared_ptr<storage::Storage> storage;
  // StopRequested reads the log (on S3 a LIST request) at most this often; in between it answers
  // from what this store has seen. 0: at every call.
  int64_t stop_poll_micros = 0;
};

// Opens a history kept on an object store under the prefix `uri` (e.g. "s3://bucket/flow/"), the
// way the pipeline's object-store ledger is kept: per execution a record created once and a log
// of numbered immutable entries, each created only if absent (S3: If-None-Match: *), so of two
// processes only one can write entry N. Nothing is written until the first Create; a prefix
// holding a history of another format is refused naming it.
Result<std::unique_ptr<HistoryStore>> OpenObjectStoreHistory(
    const std::string& uri, const ObjectStoreHistoryOptions& options = {});

// A history kept in memory (tests, benchmarks without durability).
std::unique_ptr<HistoryStore> NewMemoryHistory();

}  // namespace lote::flow

#endif  // LOTE_FLOW_HISTORY_H_
