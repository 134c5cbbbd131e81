// The parts of lote/flow/history.h every store shares (status names, the event's
// GetExecutionHistory shape) and the in-memory store, which keeps the same contract as the SQLite
// one (tests run both through one suite) without durability.
#include "lote/flow/history.h"

#include <algorithm>
#include <map>
#include <mutex>
#include <unordered_map>

#include "flow/flow_internal.h"
#include "lote/base/clock.h"

namespace lote::flow {

std::string_view ExecutionStatusName(ExecutionStatus status) {
  switch (status) {
    case ExecutionStatus::kRunning:
      return "RUNNING";
    case ExecutionStatus::kSucceeded:
      return "SUCCEEDED";
    case ExecutionStatus::kFailed:
      return "FAILED";
    case ExecutionStatus::kTimedOut:
      return "TIMED_OUT";
    case ExecutionStatus::kAborted:
      return "ABORTED";
  }
  return "RUNNING";
}

std::optional<ExecutionStatus> ParseExecutionStatus(std::string_view name) {
  for (ExecutionStatus s :
       {ExecutionStatus::kRunning, ExecutionStatus::kSucceeded, ExecutionStatus::kFailed,
        ExecutionStatus::kTimedOut, ExecutionStatus::kAborted}) {
    if (ExecutionStatusName(s) == name) return s;
  }
  return std::nullopt;
}

Json HistoryEvent::ToJson() const {
  // Key order as GetExecutionHistory prints events: timestamp, type, id, previousEventId, then the
  // one "<type>EventDetails" object.
  Json out = Json::object();
  out["timestamp"] = FormatTimestampMillis(timestamp_micros);
  out["type"] = type;
  out["id"] = id;
  out["previousEventId"] = previous_event_id;
  if (details.is_object()) {
    for (auto it = details.begin(); it != details.end(); ++it) out[it.key()] = it.value();
  }
  return out;
}

namespace {

class MemoryHistory : public HistoryStore {
 public:
  Status Create(const ExecutionRecord& record) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto [it, inserted] = executions_.try_emplace(record.name);
    if (!inserted) return AlreadyExistsError("execution " + record.name + " already exists");
    it->second.record = record;
    return Status::Ok();
  }

  Result<ExecutionRecord> Get(const std::string& name) override {
    std::lock_guard<std::mutex> lock(mu_);
    LOTE_ASSIGN_OR_RETURN(Execution * e, Find(name));
    return e->record;
  }

  Result<std::vector<ExecutionRecord>> List(std::optional<ExecutionStatus> status,
                                            size_t limit) override {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<const ExecutionRecord*> all;
    for (const auto& [name, e] : executions_) {
      if (!status || e.record.status == *status) all.push_back(&e.record);
    }
    // Most recent first; the name breaks ties (as the SQLite store's ORDER BY).
    std::sort(all.begin(), all.end(), [](const ExecutionRecord* a, const ExecutionRecord* b) {
      if (a->start_micros != b->start_micros) return a->start_micros > b->start_micros;
      return a->name > b->name;
    });
    std::vector<ExecutionRecord> out;
    for (size_t i = 0; i < all.size() && i < limit; ++i) out.push_back(*all[i]);
    return out;
  }

  Status Claim(const std::string& name, const std::string& owner, int64_t now_micros,
               int64_t lease_until_micros) override {
    std::lock_guard<std::mutex> lock(mu_);
    LOTE_ASSIGN_OR_RETURN(Execution * e, Find(name));
    LOTE_RETURN_IF_ERROR(CheckRunning(name, e->record.status));
    if (!e->owner.empty() && e->owner != owner && e->lease_until > now_micros) {
      return AbortedError("execution " + name + " is run by another process (lease until " +
                          FormatTimestampMillis(e->lease_until) + ")");
    }
    e->owner = owner;
    e->lease_until = lease_until_micros;
    return Status::Ok();
  }

  Result<std::string> Owner(const std::string& name) override {
    std::lock_guard<std::mutex> lock(mu_);
    LOTE_ASSIGN_OR_RETURN(Execution * e, Find(name));
    return e->owner;
  }

  Status TakeOver(const std::string& name, const std::string& dead_owner, const std::string& owner,
                  int64_t lease_until_micros) override {
    std::lock_guard<std::mutex> lock(mu_);
    LOTE_ASSIGN_OR_RETURN(Execution * e, Find(name));
    LOTE_RETURN_IF_ERROR(CheckRunning(name, e->record.status));
    if (e->owner != dead_owner) return AbortedError("execution " + name + " changed hands");
    e->owner = owner;
    e->lease_until = lease_until_micros;
    return Status::Ok();
  }

  Status Append(const std::string& name, const std::string& owner,
                std::span<const HistoryEvent> events,
                std::span<const Checkpoint> checkpoints) override {
    std::lock_guard<std::mutex> lock(mu_);
    LOTE_ASSIGN_OR_RETURN(Execution * e, Find(name));
    if (e->owner.empty() || e->owner != owner) return LostLeaseError(name);
    // Everything is checked before anything changes: a failed Append leaves nothing.
    LOTE_RETURN_IF_ERROR(CheckEventIds(name, e->events.empty() ? 0 : e->events.back().id, events));
    e->events.insert(e->events.end(), events.begin(), events.end());
    for (const Checkpoint& c : checkpoints) e->checkpoints[c.key] = c.value;
    return Status::Ok();
  }

  Status Finish(const std::string& name, const std::string& owner, ExecutionStatus status,
                const std::optional<std::string>& output, const std::optional<StateError>& error,
                int64_t stop_micros) override {
    LOTE_RETURN_IF_ERROR(CheckFinalStatus(name, status));
    std::lock_guard<std::mutex> lock(mu_);
    LOTE_ASSIGN_OR_RETURN(Execution * e, Find(name));
    if (e->owner.empty() || e->owner != owner) return LostLeaseError(name);
    e->record.status = status;
    e->record.output = output;
    e->record.error = error;
    e->record.stop_micros = stop_micros;
    e->owner.clear();
    e->lease_until = 0;
    return Status::Ok();
  }

  Result<std::vector<HistoryEvent>> Events(const std::string& name, int64_t after_id,
                                           size_t limit) override {
    std::lock_guard<std::mutex> lock(mu_);
    LOTE_ASSIGN_OR_RETURN(Execution * e, Find(name));
    std::vector<HistoryEvent> out;
    auto it = std::upper_bound(e->events.begin(), e->events.end(), after_id,
                               [](int64_t id, const HistoryEvent& ev) { return id < ev.id; });
    for (; it != e->events.end() && out.size() < limit; ++it) out.push_back(*it);
    return out;
  }

  Result<std::vector<Checkpoint>> Checkpoints(const std::string& name) override {
    std::lock_guard<std::mutex> lock(mu_);
    LOTE_ASSIGN_OR_RETURN(Execution * e, Find(name));
    std::vector<Checkpoint> out;
    for (const auto& [key, value] : e->checkpoints) out.push_back({key, value});
    return out;
  }

  Status RequestStop(const std::string& name, const StateError& reason,
                     int64_t now_micros) override {
    std::lock_guard<std::mutex> lock(mu_);
    LOTE_ASSIGN_OR_RETURN(Execution * e, Find(name));
    LOTE_RETURN_IF_ERROR(CheckRunning(name, e->record.status));
    e->stop = reason;
    if (!e->owner.empty() && e->lease_until > now_micros) return Status::Ok();
    // No process runs it: end it here, with the event a runner would have written.
    HistoryEvent aborted;
    aborted.id = e->events.empty() ? 1 : e->events.back().id + 1;
    aborted.previous_event_id = aborted.id - 1;
    aborted.timestamp_micros = now_micros;
    aborted.type = "ExecutionAborted";
    aborted.details = Json::object(
        {{"executionAbortedEventDetails", {{"error", reason.error}, {"cause", reason.cause}}}});
    e->events.push_back(std::move(aborted));
    e->record.status = ExecutionStatus::kAborted;
    e->record.error = reason;
    e->record.stop_micros = now_micros;
    e->owner.clear();
    e->lease_until = 0;
    return Status::Ok();
  }

  Result<std::optional<StateError>> StopRequested(const std::string& name) override {
    std::lock_guard<std::mutex> lock(mu_);
    LOTE_ASSIGN_OR_RETURN(Execution * e, Find(name));
    if (e->record.status != ExecutionStatus::kRunning) return std::optional<StateError>();
    return e->stop;
  }

 private:
  struct Execution {
    ExecutionRecord record;
    std::string owner;  // empty: nobody holds it
    int64_t lease_until = 0;
    std::optional<StateError> stop;
    std::vector<HistoryEvent> events;
    std::map<std::string, Json> checkpoints;
  };

  Result<Execution*> Find(const std::string& name) {
    auto it = executions_.find(name);
    if (it == executions_.end()) return NotFoundError("no execution named " + name);
    return &it->second;
  }

  std::mutex mu_;
  std::unordered_map<std::string, Execution> executions_;
};

}  // namespace

std::unique_ptr<HistoryStore> NewMemoryHistory() { return std::make_unique<MemoryHistory>(); }

}  // namespace lote::flow
