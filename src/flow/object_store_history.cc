// The object-store HistoryStore (lote/flow/history.h): executions kept on any lote storage (s3://,
// mem://, file://) as the pipeline's object-store ledger keeps an output's ledger
// (src/pipeline/object_store_ledger.cc): immutable objects, the commit point of every write a
// conditional create (S3: If-None-Match: *), readers replaying what was written.
//
// Layout under ROOT (the --history prefix):
//   ROOT/history.json                      format marker, created with the first execution
//   ROOT/records/ENC(NAME).json            the ExecutionRecord as created (created once)
//   ROOT/log/ENC(NAME)/%020d.json          entries 1, 2, ...: claim | append | stop | finish
// The records have their own prefix so listing the executions does not list every log entry.
// ENC percent-encodes what is not [A-Za-z0-9._-] (and a leading '.', which listings hide).
//
// Entry N is created only if absent, by a writer that has applied entries 1..N-1 (it writes the
// number after the last it saw): the log has no gaps, and of two writers exactly one gets N.
// A writer therefore creates its entry optimistically, without listing first; AlreadyExists means
// another process wrote meanwhile: it reads the new entries, checks again (a newer claim by
// another owner: Aborted) and retries. The owner is the writer of the latest claim entry; a
// renewal is a claim entry too. A finish entry, or a stop entry that aborts, is the last entry of
// its log (every later write is refused: not RUNNING / not the owner).
//
// Per execution this store keeps in memory what it replayed (status, owner, lease, stop request,
// checkpoints, and where each event's entry is: events are read back from their entries on
// demand), for at most kMaxCachedExecutions executions; reads list only the entries after the last
// one seen (ListAfter).
#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <map>
#include <mutex>
#include <unordered_map>

#include "flow/flow_internal.h"
#include "lote/base/clock.h"
#include "lote/flow/history.h"
#include "lote/storage/storage.h"

namespace lote::flow {
namespace {

constexpr int kObjectStoreFormat = 1;
constexpr const char* kFormatKey = "lote_flow_history";
// One entry (one Append: up to 512 events) and one record at most this big; larger ones are
// refused when written and are DataLoss when read.
constexpr size_t kMaxObjectBytes = 8u << 20;
constexpr size_t kMaxCachedExecutions = 64;
// Writers racing for the next entry number: each lost race means another entry was written.
constexpr int kMaxWriteAttempts = 100;

std::string EncodeName(const std::string& name) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (size_t i = 0; i < name.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(name[i]);
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       c == '_' || c == '-' || (c == '.' && i > 0);
    if (plain) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  // A name a listing would hide (a temp file's marker inside it): encode every dot.
  if (storage::HiddenFromListing(out)) {
    std::string all;
    for (char c : out) all += c == '.' ? std::string("%2E") : std::string(1, c);
    out = std::move(all);
  }
  return out;
}

std::string EntryName(int64_t seq) {
  char name[40];
  std::snprintf(name, sizeof(name), "%020" PRId64 ".json", seq);
  return name;
}

// The entry number of a listed log object, if its name is one.
std::optional<int64_t> EntrySeq(std::string_view uri) {
  const size_t slash = uri.rfind('/');
  const std::string_view name = slash == std::string_view::npos ? uri : uri.substr(slash + 1);
  if (name.size() != 25 || name.substr(20) != ".json") return std::nullopt;
  int64_t seq = 0;
  for (char c : name.substr(0, 20)) {
    if (c < '0' || c > '9') return std::nullopt;
    seq = seq * 10 + (c - '0');
  }
  return seq;
}

// A storage error naming `uri` (once: most already do).
Status Named(const Status& s, const std::string& uri) {
  if (s.ok() || s.message().find(uri) != std::string::npos) return s;
  return s.WithContext(uri);
}

bool IsTerminal(const Json& entry) {
  const std::string type = entry.value("type", "");
  return type == "finish" || (type == "stop" && entry.value("abort", false));
}

Json EventJson(const HistoryEvent& e) {
  return Json{{"id", e.id},
              {"previous_event_id", e.previous_event_id},
              {"timestamp", e.timestamp_micros},
              {"type", e.type},
              {"details", e.details}};
}

HistoryEvent EventFrom(const Json& j) {
  HistoryEvent e;
  e.id = j.at("id").get<int64_t>();
  e.previous_event_id = j.at("previous_event_id").get<int64_t>();
  e.timestamp_micros = j.at("timestamp").get<int64_t>();
  e.type = j.at("type").get<std::string>();
  e.details = j.at("details");
  return e;
}

Json RecordJson(const ExecutionRecord& r) {
  Json j{{kFormatKey, kObjectStoreFormat},
         {"name", r.name},
         {"state_machine", r.state_machine},
         {"definition", r.definition},
         {"input", r.input},
         {"status", ExecutionStatusName(r.status)},
         {"start_micros", r.start_micros},
         {"stop_micros", r.stop_micros}};
  if (r.output) j["output"] = *r.output;
  if (r.error) j["error"] = Json{{"error", r.error->error}, {"cause", r.error->cause}};
  return j;
}

std::optional<StateError> ErrorFrom(const Json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::nullopt;
  return StateError{it->at("error").get<std::string>(), it->at("cause").get<std::string>()};
}

class ObjectStoreHistory : public HistoryStore {
 public:
  ObjectStoreHistory(std::shared_ptr<storage::Storage> store, std::string root,
                     ObjectStoreHistoryOptions options, bool marked)
      : store_(std::move(store)),
        root_(std::move(root)),
        options_(std::move(options)),
        marked_(marked) {}

  Status Create(const ExecutionRecord& record) override {
    const std::string text = DumpJson(RecordJson(record));
    if (text.size() > kMaxObjectBytes) {
      return ResourceExhaustedError("execution " + record.name + ": its record is " +
                                    std::to_string(text.size()) + " bytes, more than the " +
                                    std::to_string(kMaxObjectBytes) + " a history object holds");
    }
    LOTE_RETURN_IF_ERROR(Mark());
    const std::string uri = RecordUri(record.name);
    Status s = store_->CreateIfAbsent(uri, text + "\n");
    if (s.code() == StatusCode::kAlreadyExists) {
      return AlreadyExistsError("execution " + record.name + " already exists in " + root_ + " (" +
                                uri + ")");
    }
    return Named(s, uri);
  }

  Result<ExecutionRecord> Get(const std::string& name) override {
    LOTE_ASSIGN_OR_RETURN(Handle h, Load(name, /*sync=*/true));
    return h.e->record;
  }

  Result<std::vector<ExecutionRecord>> List(std::optional<ExecutionStatus> status,
                                            size_t limit) override {
    std::vector<ExecutionRecord> all;
    if (limit == 0) return all;
    auto listed = store_->List(root_ + "records/");
    if (!listed.ok() && listed.status().code() == StatusCode::kNotFound) return all;
    if (!listed.ok()) return Named(listed.status(), root_ + "records/");
    for (const storage::ObjectInfo& info : *listed) {
      if (!info.uri.ends_with(".json")) continue;
      LOTE_ASSIGN_OR_RETURN(ExecutionRecord r, ReadRecord(info.uri));
      if (!info.uri.ends_with("/" + EncodeName(r.name) + ".json")) {
        return DataLossError("history record " + info.uri + " names execution " + r.name +
                             ", whose record is " + RecordUri(r.name));
      }
      // Its status: the record's when created final, else the log's last entry when that ends
      // it (the execution is then immutable), else RUNNING. Listing the log is enough; only its
      // last entry is read.
      if (r.status == ExecutionStatus::kRunning) LOTE_RETURN_IF_ERROR(ApplyLastEntry(&r));
      if (!status || r.status == *status) all.push_back(std::move(r));
    }
    std::sort(all.begin(), all.end(), [](const ExecutionRecord& a, const ExecutionRecord& b) {
      if (a.start_micros != b.start_micros) return a.start_micros > b.start_micros;
      return a.name > b.name;
    });
    if (all.size() > limit) all.resize(limit);
    return all;
  }

  Status Claim(const std::string& name, const std::string& owner, int64_t now_micros,
               int64_t lease_until_micros) override {
    LOTE_ASSIGN_OR_RETURN(Handle h, Load(name, /*sync=*/false));
    return Write(h, [&](const Execution& e) -> Result<Json> {
      LOTE_RETURN_IF_ERROR(Running(e));
      if (!e.owner.empty() && e.owner != owner && e.lease_until > now_micros) {
        return AbortedError("execution " + name + " is run by another process (lease until " +
                            FormatTimestampMillis(e.lease_until) + ")");
      }
      return Json{{"type", "claim"},
                  {"owner", owner},
                  {"at", now_micros},
                  {"lease_until", lease_until_micros}};
    });
  }

  Result<std::string> Owner(const std::string& name) override {
    LOTE_ASSIGN_OR_RETURN(Handle h, Load(name, /*sync=*/true));
    return h.e->owner;
  }

  Status TakeOver(const std::string& name, const std::string& dead_owner, const std::string& owner,
                  int64_t lease_until_micros) override {
    LOTE_ASSIGN_OR_RETURN(Handle h, Load(name, /*sync=*/false));
    return Write(h, [&](const Execution& e) -> Result<Json> {
      LOTE_RETURN_IF_ERROR(Running(e));
      if (e.owner != dead_owner) return AbortedError("execution " + name + " changed hands");
      return Json{{"type", "claim"},
                  {"owner", owner},
                  {"taken_from", dead_owner},
                  {"lease_until", lease_until_micros}};
    });
  }

  Status Append(const std::string& name, const std::string& owner,
                std::span<const HistoryEvent> events,
                std::span<const Checkpoint> checkpoints) override {
    LOTE_ASSIGN_OR_RETURN(Handle h, Load(name, /*sync=*/false));
    Json evs = Json::array();
    for (const HistoryEvent& ev : events) evs.push_back(EventJson(ev));
    Json cps = Json::array();
    for (const Checkpoint& c : checkpoints) cps.push_back(Json{{"key", c.key}, {"value", c.value}});
    return Write(h, [&](const Execution& e) -> Result<Json> {
      if (e.owner.empty() || e.owner != owner) return LostLeaseError(name);
      LOTE_RETURN_IF_ERROR(CheckEventIds(name, e.last_event_id, events));
      return Json{{"type", "append"}, {"owner", owner}, {"events", evs}, {"checkpoints", cps}};
    });
  }

  Status Finish(const std::string& name, const std::string& owner, ExecutionStatus status,
                const std::optional<std::string>& output, const std::optional<StateError>& error,
                int64_t stop_micros) override {
    LOTE_RETURN_IF_ERROR(CheckFinalStatus(name, status));
    LOTE_ASSIGN_OR_RETURN(Handle h, Load(name, /*sync=*/false));
    return Write(h, [&](const Execution& e) -> Result<Json> {
      if (e.owner.empty() || e.owner != owner) return LostLeaseError(name);
      Json entry{{"type", "finish"},
                 {"owner", owner},
                 {"status", ExecutionStatusName(status)},
                 {"stop_micros", stop_micros}};
      if (output) entry["output"] = *output;
      if (error) entry["error"] = Json{{"error", error->error}, {"cause", error->cause}};
      return entry;
    });
  }

  Result<std::vector<HistoryEvent>> Events(const std::string& name, int64_t after_id,
                                           size_t limit) override {
    LOTE_ASSIGN_OR_RETURN(Handle h, Load(name, /*sync=*/true));
    const Execution& e = *h.e;
    std::vector<HistoryEvent> out;
    // The first entry holding an event after `after_id`.
    auto it = std::upper_bound(e.event_entries.begin(), e.event_entries.end(), after_id,
                               [](int64_t id, const EventEntry& ee) { return id < ee.last_id; });
    for (; it != e.event_entries.end() && out.size() < limit; ++it) {
      LOTE_ASSIGN_OR_RETURN(Json entry, ReadEntry(e, it->seq));
      const std::string uri = EntryUri(e, it->seq);
      try {
        for (const Json& j : entry.at("events")) {
          if (out.size() >= limit) break;
          HistoryEvent ev = EventFrom(j);
          if (ev.id > after_id) out.push_back(std::move(ev));
        }
      } catch (const Json::exception& ex) {
        return DataLossError("history entry " + uri + ": " + ex.what());
      }
    }
    return out;
  }

  Result<std::vector<Checkpoint>> Checkpoints(const std::string& name) override {
    LOTE_ASSIGN_OR_RETURN(Handle h, Load(name, /*sync=*/true));
    std::vector<Checkpoint> out;
    for (const auto& [key, value] : h.e->checkpoints) out.push_back({key, value});
    return out;
  }

  Status RequestStop(const std::string& name, const StateError& reason,
                     int64_t now_micros) override {
    // Synced first: a stop is decided on the log as it is now (a runner may have finished).
    LOTE_ASSIGN_OR_RETURN(Handle h, Load(name, /*sync=*/true));
    return Write(h, [&](const Execution& e) -> Result<Json> {
      LOTE_RETURN_IF_ERROR(Running(e));
      Json entry{{"type", "stop"},
                 {"error", reason.error},
                 {"cause", reason.cause},
                 {"at", now_micros},
                 {"abort", false}};
      if (!e.owner.empty() && e.lease_until > now_micros) return entry;
      // No process runs it (never claimed, or its runner died and the lease ran out): end it
      // here, with the event a runner would have written last.
      HistoryEvent aborted;
      aborted.id = e.last_event_id + 1;
      aborted.previous_event_id = aborted.id - 1;
      aborted.timestamp_micros = now_micros;
      aborted.type = "ExecutionAborted";
      aborted.details = Json::object(
          {{"executionAbortedEventDetails", {{"error", reason.error}, {"cause", reason.cause}}}});
      entry["abort"] = true;
      entry["events"] = Json::array({EventJson(aborted)});
      return entry;
    });
  }

  Result<std::optional<StateError>> StopRequested(const std::string& name) override {
    LOTE_ASSIGN_OR_RETURN(Handle h, Load(name, /*sync=*/false));
    const int64_t now = SystemClock()->NowMicros();
    if (options_.stop_poll_micros <= 0 || now - h.e->stop_polled >= options_.stop_poll_micros) {
      LOTE_RETURN_IF_ERROR(Sync(*h.e));
      h.e->stop_polled = now;
    }
    if (h.e->record.status != ExecutionStatus::kRunning) return std::optional<StateError>();
    return h.e->stop;
  }

 private:
  struct EventEntry {
    int64_t last_id = 0;  // the entry holds events up to this id
    int64_t seq = 0;
  };
  struct Execution {
    std::mutex mu;  // guards everything below, and the I/O on this execution
    bool loaded = false;
    std::string name;
    std::string log;  // ROOT/log/ENC(NAME)/
    ExecutionRecord record;
    int64_t last_seq = 0;  // entries 1..last_seq applied
    std::string owner;
    int64_t lease_until = 0;
    std::optional<StateError> stop;
    int64_t last_event_id = 0;
    std::vector<EventEntry> event_entries;
    std::map<std::string, Json> checkpoints;
    int64_t stop_polled = 0;
    uint64_t used = 0;  // for eviction (guarded by the store's mu_)
  };
  // An execution locked for the caller.
  struct Handle {
    std::shared_ptr<Execution> e;
    std::unique_lock<std::mutex> lock;
  };

  std::string RecordUri(const std::string& name) const {
    return root_ + "records/" + EncodeName(name) + ".json";
  }
  static std::string EntryUri(const Execution& e, int64_t seq) { return e.log + EntryName(seq); }

  // Writes the format marker once (before the first record): later opens check it.
  Status Mark() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (marked_) return Status::Ok();
    }
    const std::string uri = root_ + "history.json";
    Status s = store_->CreateIfAbsent(uri, DumpJson(Json{{kFormatKey, kObjectStoreFormat}}) + "\n");
    if (s.code() == StatusCode::kAlreadyExists) {
      s = CheckMarker(*store_, uri);
    }
    LOTE_RETURN_IF_ERROR(Named(s, uri));
    std::lock_guard<std::mutex> lock(mu_);
    marked_ = true;
    return Status::Ok();
  }

  // The execution, locked, loaded (its record read) and, with `sync`, up to date with its log.
  // Writers do not sync: they write after what they have seen and catch up when that fails.
  Result<Handle> Load(const std::string& name, bool sync) {
    std::shared_ptr<Execution> e;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto [it, inserted] = cache_.try_emplace(name);
      if (inserted) {
        it->second = std::make_shared<Execution>();
        it->second->name = name;
        it->second->log = root_ + "log/" + EncodeName(name) + "/";
      }
      it->second->used = ++use_counter_;
      e = it->second;
      Evict();
    }
    Handle h{e, std::unique_lock<std::mutex>(e->mu)};
    if (!e->loaded) {
      auto record = ReadRecord(RecordUri(name));
      if (!record.ok() && record.status().code() == StatusCode::kNotFound) {
        return NotFoundError("no execution named " + name + " in " + root_);
      }
      if (!record.ok()) return record.status();
      e->record = std::move(record).value();
      if (e->record.name != name) {
        return DataLossError("history record " + RecordUri(name) + " names execution " +
                             e->record.name + ", not " + name);
      }
      e->loaded = true;
      sync = true;
    }
    if (sync) LOTE_RETURN_IF_ERROR(Sync(*e));
    return h;
  }

  // Drops the least recently used executions nobody is using (they are read again when needed).
  void Evict() {
    while (cache_.size() > kMaxCachedExecutions) {
      auto victim = cache_.end();
      for (auto it = cache_.begin(); it != cache_.end(); ++it) {
        if (it->second.use_count() > 1) continue;
        if (victim == cache_.end() || it->second->used < victim->second->used) victim = it;
      }
      if (victim == cache_.end()) return;
      cache_.erase(victim);
    }
  }

  // Reads and applies the entries after the last one applied.
  Status Sync(Execution& e) {
    auto listed = store_->ListAfter(e.log, EntryUri(e, e.last_seq));
    if (!listed.ok()) return Named(listed.status(), e.log);
    for (const storage::ObjectInfo& info : *listed) {
      std::optional<int64_t> seq = EntrySeq(info.uri);
      if (!seq) continue;  // not an entry: ignored
      if (*seq != e.last_seq + 1) {
        return DataLossError("history log " + e.log + " misses entry " +
                             std::to_string(e.last_seq + 1) + " (next listed: " + info.uri + ")");
      }
      LOTE_ASSIGN_OR_RETURN(Json entry, ReadEntry(e, *seq));
      LOTE_RETURN_IF_ERROR(Apply(e, *seq, entry));
    }
    return Status::Ok();
  }

  // Creates the next entry, as `make` builds it from the execution's state (or refuses). Lost
  // races (another process wrote that number) catch up with the log and decide again.
  Status Write(Handle& h, const std::function<Result<Json>(const Execution&)>& make) {
    Execution& e = *h.e;
    bool synced = false;
    for (int attempt = 0; attempt < kMaxWriteAttempts; ++attempt) {
      Result<Json> made = make(e);
      if (!made.ok() && !synced) {
        // Refused on what this store has seen: decide again on the log as it is now.
        LOTE_RETURN_IF_ERROR(Sync(e));
        synced = true;
        made = make(e);
      }
      if (!made.ok()) return made.status();
      Json entry = std::move(made).value();
      const int64_t seq = e.last_seq + 1;
      entry[kFormatKey] = kObjectStoreFormat;
      entry["seq"] = seq;
      const std::string text = DumpJson(entry) + "\n";
      const std::string uri = EntryUri(e, seq);
      if (text.size() > kMaxObjectBytes) {
        return ResourceExhaustedError("execution " + e.name + ": a history entry of " +
                                      std::to_string(text.size()) + " bytes is more than the " +
                                      std::to_string(kMaxObjectBytes) + " one entry holds (" + uri +
                                      ")");
      }
      Status s = store_->CreateIfAbsent(uri, text);
      if (s.ok()) return Apply(e, seq, entry);
      if (s.code() != StatusCode::kAlreadyExists) return Named(s, uri);
      LOTE_RETURN_IF_ERROR(Sync(e));
      synced = true;
    }
    return UnavailableError("execution " + e.name + ": " + std::to_string(kMaxWriteAttempts) +
                            " writes to " + e.log + " in a row lost to other processes");
  }

  // Applies entry `seq` to the state. The writer checked it against the state before; an entry
  // that does not fit is DataLoss naming it.
  Status Apply(Execution& e, int64_t seq, const Json& entry) {
    const std::string uri = EntryUri(e, seq);
    auto bad = [&](const std::string& why) {
      return DataLossError("history entry " + uri + ": " + why);
    };
    try {
      if (entry.value("seq", int64_t{-1}) != seq) return bad("its number is not " + EntryName(seq));
      const std::string type = entry.at("type").get<std::string>();
      if (e.record.status != ExecutionStatus::kRunning) {
        return bad("written after the execution ended");
      }
      if (type == "claim") {
        e.owner = entry.at("owner").get<std::string>();
        e.lease_until = entry.at("lease_until").get<int64_t>();
      } else if (type == "append" || type == "stop") {
        if (type == "append" && entry.at("owner").get<std::string>() != e.owner) {
          return bad("appended by " + entry.at("owner").get<std::string>() +
                     ", who did not hold the execution");
        }
        int64_t next = e.last_event_id + 1;
        std::vector<HistoryEvent> events;
        if (auto it = entry.find("events"); it != entry.end()) {
          for (const Json& j : *it) {
            events.push_back(EventFrom(j));
            if (events.back().id != next++) return bad("its event ids do not follow the log's");
          }
        }
        std::vector<std::pair<std::string, Json>> cps;
        if (auto it = entry.find("checkpoints"); it != entry.end()) {
          for (const Json& c : *it) cps.emplace_back(c.at("key").get<std::string>(), c.at("value"));
        }
        std::optional<StateError> stop;
        const bool abort = type == "stop" && entry.at("abort").get<bool>();
        if (type == "stop") {
          stop = StateError{entry.at("error").get<std::string>(),
                            entry.at("cause").get<std::string>()};
        }
        const int64_t at = type == "stop" ? entry.at("at").get<int64_t>() : 0;
        // Parsed in full: now change the state.
        if (!events.empty()) {
          e.last_event_id = events.back().id;
          e.event_entries.push_back({e.last_event_id, seq});
        }
        for (auto& [key, value] : cps) e.checkpoints[key] = std::move(value);
        if (stop) e.stop = stop;
        if (abort) {
          e.record.status = ExecutionStatus::kAborted;
          e.record.error = stop;
          e.record.stop_micros = at;
          e.owner.clear();
          e.lease_until = 0;
        }
      } else if (type == "finish") {
        if (entry.at("owner").get<std::string>() != e.owner) {
          return bad("finished by " + entry.at("owner").get<std::string>() +
                     ", who did not hold the execution");
        }
        LOTE_RETURN_IF_ERROR(ApplyFinish(entry, uri, &e.record));
        e.owner.clear();
        e.lease_until = 0;
      } else {
        return bad("type '" + type + "' is not one this lote knows (written by a newer version?)");
      }
    } catch (const Json::exception& ex) {
      return bad(ex.what());
    }
    e.last_seq = seq;
    return Status::Ok();
  }

  // The final status of a finish entry (or an aborting stop entry) onto `r`.
  static Status ApplyFinish(const Json& entry, const std::string& uri, ExecutionRecord* r) {
    try {
      if (entry.at("type") == "stop") {
        r->status = ExecutionStatus::kAborted;
        r->error =
            StateError{entry.at("error").get<std::string>(), entry.at("cause").get<std::string>()};
        r->stop_micros = entry.at("at").get<int64_t>();
        return Status::Ok();
      }
      std::optional<ExecutionStatus> status =
          ParseExecutionStatus(entry.at("status").get<std::string>());
      if (!status || *status == ExecutionStatus::kRunning) {
        return DataLossError("history entry " + uri + ": not a final status");
      }
      r->status = *status;
      r->stop_micros = entry.at("stop_micros").get<int64_t>();
      r->output.reset();
      if (auto it = entry.find("output"); it != entry.end()) r->output = it->get<std::string>();
      r->error = ErrorFrom(entry, "error");
    } catch (const Json::exception& ex) {
      return DataLossError("history entry " + uri + ": " + ex.what());
    }
    return Status::Ok();
  }

  // For List: the status from the last entry of the execution's log, if that ended it.
  Status ApplyLastEntry(ExecutionRecord* r) {
    const std::string log = root_ + "log/" + EncodeName(r->name) + "/";
    auto listed = store_->ListAfter(log, log + EntryName(0));
    if (!listed.ok()) return Named(listed.status(), log);
    for (auto it = listed->rbegin(); it != listed->rend(); ++it) {
      if (!EntrySeq(it->uri)) continue;
      LOTE_ASSIGN_OR_RETURN(Json entry, ReadJson(it->uri, "history entry"));
      if (IsTerminal(entry)) return ApplyFinish(entry, it->uri, r);
      break;
    }
    return Status::Ok();
  }

  Result<Json> ReadEntry(const Execution& e, int64_t seq) const {
    return ReadJson(EntryUri(e, seq), "history entry");
  }

  // An object of this history: at most kMaxObjectBytes of JSON with our format mark.
  Result<Json> ReadJson(const std::string& uri, const std::string& what) const {
    auto text = store_->ReadRange(uri, 0, kMaxObjectBytes + 1);
    if (!text.ok()) return Named(text.status(), uri);
    if (text->size() > kMaxObjectBytes) {
      return DataLossError(what + " " + uri + " is larger than " + std::to_string(kMaxObjectBytes) +
                           " bytes");
    }
    Json j = Json::parse(*text, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object() || !j.contains(kFormatKey) || (*j.find(kFormatKey)) != kObjectStoreFormat) {
      return DataLossError(what + " " + uri + " is not a lote flow history object of format " +
                           std::to_string(kObjectStoreFormat));
    }
    return j;
  }

  Result<ExecutionRecord> ReadRecord(const std::string& uri) const {
    LOTE_ASSIGN_OR_RETURN(Json j_, ReadJson(uri, "history record"));
    const Json* j = &j_;
    ExecutionRecord r;
    try {
      r.name = j->at("name").get<std::string>();
      r.state_machine = j->at("state_machine").get<std::string>();
      r.definition = j->at("definition").get<std::string>();
      r.input = j->at("input").get<std::string>();
      std::optional<ExecutionStatus> status =
          ParseExecutionStatus(j->at("status").get<std::string>());
      if (!status) return DataLossError("history record " + uri + " has an unknown status");
      r.status = *status;
      r.start_micros = j->at("start_micros").get<int64_t>();
      r.stop_micros = j->at("stop_micros").get<int64_t>();
      if (auto it = j->find("output"); it != j->end()) r.output = it->get<std::string>();
      r.error = ErrorFrom(*j, "error");
    } catch (const Json::exception& ex) {
      return DataLossError("history record " + uri + ": " + ex.what());
    }
    return r;
  }

  static Status Running(const Execution& e) { return CheckRunning(e.name, e.record.status); }

 public:
  static Status CheckMarker(const storage::Storage& store, const std::string& uri) {
    auto text = store.ReadRange(uri, 0, 4096);
    if (!text.ok()) return Named(text.status(), uri);
    Json j = Json::parse(*text, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object() || !j.contains(kFormatKey)) {
      return FailedPreconditionError(uri + " is not a lote flow history's marker");
    }
    if (*j.find(kFormatKey) != kObjectStoreFormat) {
      return FailedPreconditionError("flow history " + uri + " has format " +
                                     j.find(kFormatKey)->dump() + "; this lote reads and writes " +
                                     std::to_string(kObjectStoreFormat));
    }
    return Status::Ok();
  }

 private:
  std::shared_ptr<storage::Storage> store_;
  std::string root_;  // ends with '/'
  ObjectStoreHistoryOptions options_;
  std::mutex mu_;  // guards cache_, use_counter_, marked_
  bool marked_;
  std::unordered_map<std::string, std::shared_ptr<Execution>> cache_;
  uint64_t use_counter_ = 0;
};

}  // namespace

Result<std::unique_ptr<HistoryStore>> OpenObjectStoreHistory(
    const std::string& uri, const ObjectStoreHistoryOptions& options) {
  if (uri.find("://") == std::string::npos) {
    return InvalidArgumentError(
        "an object-store history needs a URI with a scheme (s3://, "
        "mem://, file://), not " +
        uri);
  }
  LOTE_ASSIGN_OR_RETURN(std::shared_ptr<storage::Storage> store,
                        storage::OpenStorageOr(options.storage, uri));
  std::string root = uri;
  if (!root.ends_with('/')) root += '/';
  // The marker, when there is one, must be ours; none: an empty history (written at the first
  // Create, so reading a mistyped prefix creates nothing).
  bool marked = false;
  Status checked = ObjectStoreHistory::CheckMarker(*store, root + "history.json");
  if (checked.ok()) {
    marked = true;
  } else if (checked.code() != StatusCode::kNotFound) {
    return checked;
  }
  return std::unique_ptr<HistoryStore>(
      std::make_unique<ObjectStoreHistory>(std::move(store), root, options, marked));
}

}  // namespace lote::flow
