// The ledger of an output on an object store: a log of immutable entries under OUTPUT/_ledger/log/
// appended with conditional creates, and a SQLite cache (the SQLite ledger + catalog) replayed
// from it. See OpenObjectStoreLedger in lote/pipeline/ledger.h for the protocol.
#include <cstdio>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "lote/base/clock.h"
#include "lote/base/digest.h"
#include "lote/io/byte_source.h"
#include "lote/pipeline/ledger.h"
#include "lote/storage/storage.h"
#include "pipeline/sqlite_ledger.h"

namespace lote::pipeline {
namespace {

using nlohmann::json;

constexpr int kLogFormat = 1;
constexpr std::string_view kLogFolder = "_ledger/log";
// Cache meta keys: the id of the ledger the cache replays, and the last entry it holds.
constexpr std::string_view kMetaLedgerId = "ledger_id";
constexpr std::string_view kMetaLedgerSeq = "ledger_seq";

std::string EntryUri(const std::string& output_uri, int64_t seq) {
  char name[40];
  std::snprintf(name, sizeof(name), "/%020lld.json", static_cast<long long>(seq));
  return storage::JoinUri(output_uri, std::string(kLogFolder) + name);
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

json CountsJson(const AttemptCounts& c) {
  return json{{"records_in", c.records_in},
              {"records_out", c.records_out},
              {"records_quarantined", c.records_quarantined},
              {"records_duplicate", c.records_duplicate},
              {"bytes_in", c.bytes_in},
              {"ingest_s", c.ingest_s},
              {"prep_s", c.prep_s},
              {"infer_s", c.infer_s},
              {"publish_s", c.publish_s},
              {"catalog_s", c.catalog_s}};
}

AttemptCounts CountsFrom(const json& j) {
  AttemptCounts c;
  c.records_in = j.at("records_in").get<uint64_t>();
  c.records_out = j.at("records_out").get<uint64_t>();
  c.records_quarantined = j.at("records_quarantined").get<uint64_t>();
  c.records_duplicate = j.at("records_duplicate").get<uint64_t>();
  c.bytes_in = j.at("bytes_in").get<uint64_t>();
  c.ingest_s = j.at("ingest_s").get<double>();
  c.prep_s = j.at("prep_s").get<double>();
  c.infer_s = j.at("infer_s").get<double>();
  c.publish_s = j.at("publish_s").get<double>();
  c.catalog_s = j.at("catalog_s").get<double>();
  return c;
}

json PartJson(const StagedPart& p) {
  return json{{"kind", p.kind},       {"partition", p.partition}, {"staged", p.staged_uri},
              {"final", p.final_uri}, {"rows", p.rows},           {"bytes", p.bytes},
              {"sha256", p.sha256}};
}

StagedPart PartFrom(const json& j) {
  StagedPart p;
  p.kind = j.at("kind").get<std::string>();
  p.partition = j.at("partition").get<std::string>();
  p.staged_uri = j.at("staged").get<std::string>();
  p.final_uri = j.at("final").get<std::string>();
  p.rows = j.at("rows").get<uint64_t>();
  p.bytes = j.at("bytes").get<uint64_t>();
  p.sha256 = j.at("sha256").get<std::string>();
  return p;
}

std::string StringOr(const json& j, const char* key) {
  auto it = j.find(key);
  return it == j.end() || !it->is_string() ? std::string() : it->get<std::string>();
}

json FeedbackBatchJson(const FeedbackBatch& b) {
  return json{{"feedback_id", b.feedback_id},
              {"received_at", b.received_at},
              {"file", b.file_uri},
              {"rows", b.rows},
              {"sha256", b.sha256}};
}

FeedbackBatch FeedbackBatchFrom(const json& j) {
  FeedbackBatch b;
  b.feedback_id = j.at("feedback_id").get<std::string>();
  b.received_at = j.at("received_at").get<std::string>();
  b.file_uri = j.at("file").get<std::string>();
  b.rows = j.at("rows").get<uint64_t>();
  b.sha256 = j.at("sha256").get<std::string>();
  return b;
}

// A row of a feedback batch's file (see FeedbackRowJson in feedback.cc).
FeedbackRow FeedbackRowFrom(const json& j) {
  FeedbackRow r;
  r.record_id = j.at("record_id").get<std::string>();
  r.label = j.at("label").get<std::string>();
  r.run_id = StringOr(j, "run_id");
  r.model_version = StringOr(j, "model_version");
  r.predicted_label = StringOr(j, "predicted_label");
  r.has_prediction = j.contains("predicted_label") && j["predicted_label"].is_string();
  if (auto it = j.find("score"); it != j.end() && it->is_number()) r.score = it->get<double>();
  r.label_known = j.value("label_known", false);
  return r;
}

// Reads the entries of one log and replays them into a cache.
class LogReplayer {
 public:
  LogReplayer(const ObjectStoreLedgerOptions& o, SqliteLedger* cache) : o_(o), cache_(cache) {}

  Result<json> ReadEntry(int64_t seq) const {
    const std::string uri = EntryUri(o_.output_uri, seq);
    LOTE_ASSIGN_OR_RETURN(std::string text, o_.store->Read(uri));
    json entry = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (!entry.is_object() || entry.value("lote_ledger", 0) != kLogFormat ||
        !entry.contains("type") || !entry["type"].is_string()) {
      return DataLossError("ledger entry " + uri + " is not a lote ledger entry of format " +
                           std::to_string(kLogFormat));
    }
    return entry;
  }

  // Replays entry `seq` (with its own cache transaction, which also records `seq`).
  // `deleted_later`: files that later entries delete (superseded attempts), which may be gone.
  Status Replay(int64_t seq, const json& e, const std::set<std::string>& deleted_later) {
    const std::string type = e["type"].get<std::string>();
    try {
      if (type == "writer") return InTransaction(seq, [] { return Status::Ok(); });
      if (type == "run") return ReplayRun(seq, e.at("run"));
      if (type == "run_finished") return ReplayRunFinished(seq, e);
      if (type == "commit") return ReplayCommit(seq, e, deleted_later);
      if (type == "monitoring") {
        return InTransaction(
            seq, [&] { return cache_->RecordMonitoring(e.at("report").get<std::string>()); });
      }
      if (type == "feedback") return ReplayFeedback(seq, e.at("feedback"));
    } catch (const json::exception& ex) {
      return DataLossError("ledger entry " + EntryUri(o_.output_uri, seq) + ": " + ex.what());
    }
    return DataLossError("ledger entry " + EntryUri(o_.output_uri, seq) + " has type '" + type +
                         "', which this lote does not know (written by a newer version?)");
  }

 private:
  Status InTransaction(int64_t seq, const std::function<Status()>& body) {
    LOTE_RETURN_IF_ERROR(cache_->Begin());
    Status s = body();
    if (s.ok()) s = cache_->SetMeta(kMetaLedgerSeq, std::to_string(seq));
    if (s.ok()) s = cache_->Commit();
    if (!s.ok()) cache_->Rollback();
    return s;
  }

  Status ReplayRun(int64_t seq, const json& r) {
    LedgerRun run;
    run.run_id = r.at("run_id").get<std::string>();
    run.run_key = r.at("run_key").get<std::string>();
    run.input = r.at("input").get<std::string>();
    run.output = r.at("output").get<std::string>();
    run.model_version = r.at("model_version").get<std::string>();
    run.preprocess_version = r.at("preprocess_version").get<std::string>();
    run.started_at = r.at("started_at").get<std::string>();
    if (auto f = r.find("flow_execution"); f != r.end() && f->is_string()) {
      run.flow_execution = f->get<std::string>();
    }
    return InTransaction(seq, [&] { return cache_->InsertRunIfAbsent(run); });
  }

  Status ReplayRunFinished(int64_t seq, const json& e) {
    const AttemptCounts totals = CountsFrom(e.at("totals"));
    return InTransaction(seq, [&] {
      return cache_->FinishRun(e.at("run_id").get<std::string>(), e.at("state").get<std::string>(),
                               e.at("finished_at").get<std::string>(), totals,
                               e.at("manifest").get<std::string>());
    });
  }

  Status ReplayCommit(int64_t seq, const json& e, const std::set<std::string>& deleted_later) {
    const json& obj = e.at("object");
    const std::string uri = obj.at("uri").get<std::string>();
    LOTE_ASSIGN_OR_RETURN(int64_t object_id,
                          cache_->ObjectVersion(uri, obj.at("size").get<uint64_t>(),
                                                obj.at("content_id").get<std::string>()));
    LOTE_ASSIGN_OR_RETURN(int64_t source_id, cache_->SourceId(uri));
    if (auto etag = obj.find("etag"); etag != obj.end() && etag->is_string()) {
      LOTE_RETURN_IF_ERROR(cache_->RememberEtag(object_id, etag->get<std::string>()));
    }
    const json& a = e.at("attempt");
    AttemptInfo info;
    info.run_id = e.at("run_id").get<std::string>();
    info.now_us = a.at("started_us").get<int64_t>();
    info.dt = a.at("dt").get<std::string>();
    info.model_version = a.at("model_version").get<std::string>();
    info.preprocess_version = a.at("preprocess_version").get<std::string>();
    const bool dedup = e.at("dedup_record_id").get<bool>();
    const int64_t committed_us = e.at("committed_us").get<int64_t>();
    std::vector<StagedPart> parts;
    for (const json& p : e.at("parts")) parts.push_back(PartFrom(p));
    LabelCounts labels;
    for (const auto& [label, n] : e.at("labels").items()) labels[label] = n.get<uint64_t>();
    const AttemptCounts counts = CountsFrom(e.at("counts"));

    LOTE_ASSIGN_OR_RETURN(int64_t attempt_id, cache_->BeginAttempt(object_id, info));
    bool all_final = true;
    Status s = [&]() -> Status {
      const std::string processed_at = FormatTimestampMillis(committed_us);
      for (const StagedPart& part : parts) {
        LOTE_ASSIGN_OR_RETURN(bool published, ReplayRows(part, source_id, attempt_id, dedup,
                                                         processed_at, deleted_later));
        all_final = all_final && published;
      }
      if (auto keys = e.find("content_keys"); keys != e.end()) {
        for (const json& k : *keys) {
          LOTE_ASSIGN_OR_RETURN(
              bool dup, cache_->SeenContent(k.at(0).get<std::string>(), k.at(1).get<std::string>(),
                                            attempt_id));
          (void)dup;
        }
      }
      return cache_->SetMeta(kMetaLedgerSeq, std::to_string(seq));
    }();
    if (!s.ok()) {
      (void)cache_->AbortAttempt();
      return s;
    }
    LOTE_RETURN_IF_ERROR(cache_->CommitReplayed(attempt_id, object_id, counts, labels, parts));
    // With every part at its final name the attempt is done; else a run finishes moving them.
    if (all_final) LOTE_RETURN_IF_ERROR(cache_->MarkDone(attempt_id, committed_us));
    return Status::Ok();
  }

  // A feedback batch: its rows with their matches, as the writer recorded them, from the batch's
  // file (matching again here could differ: the cache may hold commits whose files are not yet
  // renamed, which the writer's matching saw as committed too, but also later state).
  Status ReplayFeedback(int64_t seq, const json& f) {
    const FeedbackBatch batch = FeedbackBatchFrom(f);
    LOTE_ASSIGN_OR_RETURN(auto raw, o_.store->OpenRead(batch.file_uri));
    auto source = io::MakeZstdSource(std::move(raw));
    io::LineReader lines(source.get());
    std::string line;
    uint64_t rows = 0;
    LOTE_RETURN_IF_ERROR(cache_->DiscardStagedFeedback());
    while (true) {
      LOTE_ASSIGN_OR_RETURN(bool more, lines.Next(&line));
      if (!more) break;
      if (line.empty()) continue;
      const json row = json::parse(line, nullptr, /*allow_exceptions=*/false);
      if (!row.is_object() || !row.contains("record_id") || !row["record_id"].is_string() ||
          !row.contains("label") || !row["label"].is_string()) {
        return DataLossError(batch.file_uri + ":" + std::to_string(lines.line_number()) +
                             ": not a feedback row");
      }
      ++rows;
      LOTE_RETURN_IF_ERROR(cache_->StageMatchedFeedback(FeedbackRowFrom(row)));
    }
    if (rows != batch.rows) {
      return DataLossError(batch.file_uri + " holds " + std::to_string(rows) +
                           " rows; its ledger entry says " + std::to_string(batch.rows));
    }
    return InTransaction(seq, [&] { return cache_->RecordFeedback(batch).status(); });
  }

  // Adds the rows of one part to the open attempt (catalog rows and dedup state, as the writer
  // did). True if read from its final name, false if still staged (or deleted since by a later
  // entry, when it is skipped).
  Result<bool> ReplayRows(const StagedPart& part, int64_t source_id, int64_t attempt_id, bool dedup,
                          const std::string& processed_at,
                          const std::set<std::string>& deleted_later) {
    // Final first; a part not yet moved is staged. A writer may move it meanwhile: then the
    // final name is tried once more.
    bool published = true;
    std::unique_ptr<io::ByteSource> raw;
    for (int round = 0; round < 2 && !raw; ++round) {
      for (const std::string* where : {&part.final_uri, &part.staged_uri}) {
        auto opened = o_.store->OpenRead(*where);
        if (opened.ok()) {
          raw = std::move(*opened);
          published = where == &part.final_uri;
          break;
        }
        if (opened.status().code() != StatusCode::kNotFound) return opened.status();
      }
    }
    if (!raw) {
      if (deleted_later.count(part.final_uri) > 0) return false;
      return DataLossError("committed part " + part.final_uri +
                           " is neither published nor staged (" + part.staged_uri +
                           "): the ledger cannot be rebuilt from the files");
    }
    // Shadow scoring's rows are not in the catalog: only where the part is matters.
    if (part.kind == "shadow") return published;
    auto source = io::MakeZstdSource(std::move(raw));
    io::LineReader lines(source.get());
    std::string line;
    uint64_t rows = 0;
    while (true) {
      LOTE_ASSIGN_OR_RETURN(bool more, lines.Next(&line));
      if (!more) break;
      if (line.empty()) continue;
      json row = json::parse(line, nullptr, /*allow_exceptions=*/false);
      if (!row.is_object()) {
        return DataLossError(part.final_uri + ":" + std::to_string(lines.line_number()) +
                             ": not a JSON object");
      }
      ++rows;
      LOTE_RETURN_IF_ERROR(ReplayRow(part.kind, row, source_id, attempt_id, dedup, processed_at));
    }
    if (rows != part.rows) {
      return DataLossError(part.final_uri + " holds " + std::to_string(rows) +
                           " rows; its ledger entry says " + std::to_string(part.rows));
    }
    return published;
  }

  Status ReplayRow(const std::string& kind, const json& row, int64_t source_id, int64_t attempt_id,
                   bool dedup, const std::string& processed_at) {
    const std::string record_id = StringOr(row, "record_id");
    const uint64_t line = row.value("line", uint64_t{0});
    if (kind == "quarantine") {
      QuarantineRow q;
      q.record_id = record_id;
      q.line = line;
      q.stage = StringOr(row, "stage");
      q.reason = StringOr(row, "reason");
      q.processed_at = processed_at;
      // Records quarantined by inference passed prep: the writer deduplicated them.
      if (q.stage == "infer") {
        LOTE_ASSIGN_OR_RETURN(bool dup,
                              cache_->SeenRecord(record_id, source_id, attempt_id, dedup));
        (void)dup;
      }
      return cache_->AddQuarantine(attempt_id, q);
    }
    LOTE_ASSIGN_OR_RETURN(bool dup, cache_->SeenRecord(record_id, source_id, attempt_id, dedup));
    (void)dup;
    const std::string hmac = StringOr(row, "text_hmac");
    const std::string lang = StringOr(row, "lang");
    const std::string label = StringOr(row, "label");
    const std::string at = StringOr(row, "processed_at");
    std::string top_k, entities = "[]";
    if (auto it = row.find("top_k"); it != row.end() && !it->is_null()) top_k = it->dump();
    if (auto it = row.find("entities"); it != row.end() && it->is_array()) entities = it->dump();
    ResultRow r;
    r.record_id = record_id;
    r.line = line;
    r.text_hmac = hmac;
    r.lang = lang;
    r.label = label;
    if (auto it = row.find("score"); it != row.end() && it->is_number())
      r.score = it->get<double>();
    r.top_k_json = top_k;
    r.processed_at = at.empty() ? processed_at : at;
    return cache_->AddResult(attempt_id, r, entities);
  }

  const ObjectStoreLedgerOptions& o_;
  SqliteLedger* cache_;
};

class ObjectStoreLedger : public Ledger {
 public:
  ObjectStoreLedger(ObjectStoreLedgerOptions o, std::unique_ptr<SqliteLedger> cache,
                    int64_t next_seq)
      : o_(std::move(o)), cache_(std::move(cache)), next_seq_(next_seq) {
    cache_->set_commit_hook([this](int64_t attempt_id, const AttemptCounts& counts,
                                   const LabelCounts& labels, const std::vector<StagedPart>& parts,
                                   const std::vector<std::string>& deletes) {
      return AppendCommit(attempt_id, counts, labels, parts, deletes);
    });
  }

  // A writer's first entry, appended right after it took the output lock and caught up: from
  // here on a process that held the lock before (and lost it while stalled) can append nothing,
  // since its next entry number is taken; so this writer may clean up what such a process
  // staged (Run::RecoverPending deletes OUTPUT/_staging).
  Status Claim() {
    json entry = Entry("writer");
    entry["at"] = FormatTimestampMillis(NowMicros());
    return AppendThen(entry, [] { return Status::Ok(); });
  }

  Result<std::optional<LedgerRun>> FindUnfinishedRun(const std::string& run_key) override {
    return cache_->FindUnfinishedRun(run_key);
  }

  Status CreateRun(const LedgerRun& run) override {
    json entry = Entry("run");
    entry["run"] = json{{"run_id", run.run_id},
                        {"run_key", run.run_key},
                        {"input", run.input},
                        {"output", run.output},
                        {"model_version", run.model_version},
                        {"preprocess_version", run.preprocess_version},
                        {"started_at", run.started_at}};
    if (!run.flow_execution.empty()) entry["run"]["flow_execution"] = run.flow_execution;
    return AppendThen(entry, [&] { return cache_->InsertRunIfAbsent(run); });
  }

  Status FinishRun(const std::string& run_id, const std::string& state,
                   const std::string& finished_at, const AttemptCounts& totals,
                   const std::string& manifest_uri) override {
    json entry = Entry("run_finished");
    entry["run_id"] = run_id;
    entry["state"] = state;
    entry["finished_at"] = finished_at;
    entry["totals"] = CountsJson(totals);
    entry["manifest"] = manifest_uri;
    return AppendThen(
        entry, [&] { return cache_->FinishRun(run_id, state, finished_at, totals, manifest_uri); });
  }

  Result<int64_t> ObjectVersion(const std::string& uri, uint64_t size,
                                const std::string& content_id) override {
    LOTE_ASSIGN_OR_RETURN(int64_t id, cache_->ObjectVersion(uri, size, content_id));
    objects_.try_emplace(id, ObjectKey{uri, size, content_id, ""});
    return id;
  }
  Result<std::optional<std::pair<int64_t, std::string>>> DoneAttempt(int64_t object_id) override {
    return cache_->DoneAttempt(object_id);
  }
  Result<int64_t> SourceId(const std::string& uri) override { return cache_->SourceId(uri); }
  Result<std::optional<int64_t>> VersionByEtag(const std::string& uri, uint64_t size,
                                               const std::string& etag) override {
    return cache_->VersionByEtag(uri, size, etag);
  }
  // Kept in the cache, and in the commit entry of the version's next attempt (so that another
  // machine's cache knows it too).
  Status RememberEtag(int64_t object_id, const std::string& etag) override {
    if (auto o = objects_.find(object_id); o != objects_.end()) o->second.etag = etag;
    return cache_->RememberEtag(object_id, etag);
  }

  Result<int64_t> BeginAttempt(int64_t object_id, const AttemptInfo& info) override {
    if (!o_.writer) return FailedPreconditionError("this ledger was opened for reading");
    auto object = objects_.find(object_id);
    if (object == objects_.end()) return InternalError("attempt on an object version never seen");
    LOTE_ASSIGN_OR_RETURN(int64_t attempt_id, cache_->BeginAttempt(object_id, info));
    open_ = OpenAttempt{attempt_id, object->second, info, true, {}};
    return attempt_id;
  }
  Status AbortAttempt() override {
    open_.reset();
    return cache_->AbortAttempt();
  }
  Result<bool> SeenRecord(const std::string& record_id, int64_t source_id, int64_t attempt_id,
                          bool dedup) override {
    if (open_) open_->dedup_record_id = dedup;
    return cache_->SeenRecord(record_id, source_id, attempt_id, dedup);
  }
  Result<bool> SeenContent(const std::string& content_key, const std::string& record_id,
                           int64_t attempt_id) override {
    LOTE_ASSIGN_OR_RETURN(bool dup, cache_->SeenContent(content_key, record_id, attempt_id));
    if (!dup && open_) open_->content_keys.emplace_back(content_key, record_id);
    return dup;
  }
  Status AddResult(int64_t attempt_id, const ResultRow& row,
                   const std::string& entities_json) override {
    return cache_->AddResult(attempt_id, row, entities_json);
  }
  Status AddQuarantine(int64_t attempt_id, const QuarantineRow& row) override {
    return cache_->AddQuarantine(attempt_id, row);
  }
  Status CommitAttempt(int64_t attempt_id, int64_t object_id, const std::string& output_uri,
                       const AttemptCounts& counts, const LabelCounts& labels,
                       std::vector<StagedPart>* parts) override {
    // The hook (AppendCommit) runs inside, before the cache commits.
    Status s = cache_->CommitAttempt(attempt_id, object_id, output_uri, counts, labels, parts);
    open_.reset();
    return s;
  }
  Result<std::vector<PendingCommit>> PendingCommits() override { return cache_->PendingCommits(); }
  Status MarkDone(int64_t attempt_id, int64_t now_us) override {
    return cache_->MarkDone(attempt_id, now_us);
  }
  Result<AttemptCounts> RunTotals(const std::string& run_id) override {
    return cache_->RunTotals(run_id);
  }
  Result<std::vector<AttemptSummary>> RunAttempts(const std::string& run_id) override {
    return cache_->RunAttempts(run_id);
  }
  Result<std::vector<StagedPart>> RunParts(const std::string& run_id) override {
    return cache_->RunParts(run_id);
  }
  Result<std::vector<std::pair<std::string, uint64_t>>> TopLabels(const std::string& run_id,
                                                                  int n) override {
    return cache_->TopLabels(run_id, n);
  }
  Result<std::vector<std::pair<std::string, uint64_t>>> TopQuarantineReasons(
      const std::string& run_id, int n) override {
    return cache_->TopQuarantineReasons(run_id, n);
  }

  Status RecordMonitoring(const std::string& report_json) override {
    json entry = Entry("monitoring");
    if (!json::parse(report_json, nullptr, false).is_object()) {
      return InvalidArgumentError("monitoring report: not a JSON object");
    }
    // As text: the catalog keeps the report byte for byte as monitoring.json has it.
    entry["report"] = report_json;
    return AppendThen(entry, [&] { return cache_->RecordMonitoring(report_json); });
  }
  Result<std::vector<std::string>> RecentMonitoring(const std::string& run_id, int n) override {
    return cache_->RecentMonitoring(run_id, n);
  }

  Status StageFeedback(std::string_view record_id, std::string_view label) override {
    return cache_->StageFeedback(record_id, label);
  }
  Status MatchStagedFeedback(const std::function<Status(const FeedbackRow&)>& row) override {
    return cache_->MatchStagedFeedback(row);
  }
  // The entry names the batch's file, which holds its rows and their matches: a cache rebuilt
  // elsewhere replays them from it.
  Result<std::vector<std::string>> RecordFeedback(const FeedbackBatch& batch) override {
    json entry = Entry("feedback");
    entry["feedback"] = FeedbackBatchJson(batch);
    std::vector<std::string> runs;
    LOTE_RETURN_IF_ERROR(AppendThen(entry, [&]() -> Status {
      LOTE_ASSIGN_OR_RETURN(runs, cache_->RecordFeedback(batch));
      return Status::Ok();
    }));
    return runs;
  }
  Status DiscardStagedFeedback() override { return cache_->DiscardStagedFeedback(); }
  Result<std::vector<FeedbackAccuracy>> RunFeedbackAccuracy(const std::string& run_id) override {
    return cache_->RunFeedbackAccuracy(run_id);
  }

 private:
  struct ObjectKey {
    std::string uri;
    uint64_t size = 0;
    std::string content_id;
    std::string etag;  // when known to identify this version (RememberEtag)
  };
  struct OpenAttempt {
    int64_t attempt_id = 0;
    ObjectKey object;
    AttemptInfo info;
    bool dedup_record_id = true;
    std::vector<std::pair<std::string, std::string>> content_keys;
  };

  json Entry(const char* type) const {
    return json{{"lote_ledger", kLogFormat}, {"type", type}, {"seq", next_seq_}};
  }

  // Creates entry next_seq_: the commit point. Taken already means another process appended
  // while this one believed it held the output lock.
  Status Append(const json& entry) {
    if (!o_.writer) return FailedPreconditionError("this ledger was opened for reading");
    const std::string uri = EntryUri(o_.output_uri, next_seq_);
    Status s = o_.store->CreateIfAbsent(
        uri, entry.dump(-1, ' ', false, json::error_handler_t::replace) + "\n");
    if (s.code() == StatusCode::kAlreadyExists) {
      return AbortedError("ledger entry " + uri +
                          " was written by another process while this one held the output "
                          "lock: the lock was lost (expired?); this process commits nothing more, "
                          "run again");
    }
    LOTE_RETURN_IF_ERROR(s);
    ++next_seq_;
    return Status::Ok();
  }

  // Appends `entry`, then applies it to the cache (with the entry number, in one transaction). A
  // crash in between leaves the cache behind the log, which the next open replays.
  Status AppendThen(const json& entry, const std::function<Status()>& apply) {
    LOTE_RETURN_IF_ERROR(Append(entry));
    LOTE_RETURN_IF_ERROR(cache_->Begin());
    Status s = apply();
    if (s.ok()) s = cache_->SetMeta(kMetaLedgerSeq, std::to_string(next_seq_ - 1));
    if (s.ok()) s = cache_->Commit();
    if (!s.ok()) cache_->Rollback();
    return s;
  }

  Status AppendCommit(int64_t attempt_id, const AttemptCounts& counts, const LabelCounts& labels,
                      const std::vector<StagedPart>& parts,
                      const std::vector<std::string>& deletes) {
    if (!open_ || open_->attempt_id != attempt_id) {
      return InternalError("commit of an attempt the object-store ledger did not see begin");
    }
    json entry = Entry("commit");
    entry["run_id"] = open_->info.run_id;
    entry["object"] = json{{"uri", open_->object.uri},
                           {"size", open_->object.size},
                           {"content_id", open_->object.content_id}};
    if (!open_->object.etag.empty()) entry["object"]["etag"] = open_->object.etag;
    entry["attempt"] = json{{"started_us", open_->info.now_us},
                            {"dt", open_->info.dt},
                            {"model_version", open_->info.model_version},
                            {"preprocess_version", open_->info.preprocess_version}};
    entry["committed_us"] = NowMicros();
    entry["dedup_record_id"] = open_->dedup_record_id;
    entry["counts"] = CountsJson(counts);
    json label_counts = json::object();
    for (const auto& [label, n] : labels) label_counts[label] = n;
    entry["labels"] = std::move(label_counts);
    json part_list = json::array();
    for (const StagedPart& p : parts) part_list.push_back(PartJson(p));
    entry["parts"] = std::move(part_list);
    entry["deletes"] = deletes;
    if (!open_->content_keys.empty()) {
      json keys = json::array();
      for (const auto& [key, record_id] : open_->content_keys) keys.push_back({key, record_id});
      entry["content_keys"] = std::move(keys);
    }
    LOTE_RETURN_IF_ERROR(Append(entry));
    return cache_->SetMeta(kMetaLedgerSeq, std::to_string(next_seq_ - 1));
  }

  static int64_t NowMicros() { return SystemClock()->NowMicros(); }

  ObjectStoreLedgerOptions o_;
  std::unique_ptr<SqliteLedger> cache_;
  int64_t next_seq_;
  std::map<int64_t, ObjectKey> objects_;
  std::optional<OpenAttempt> open_;
};

Status RemoveCache(const std::string& path) {
  std::error_code ec;
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
    std::filesystem::remove(path + suffix, ec);
    if (ec) return UnavailableError("cannot remove " + path + suffix + ": " + ec.message());
  }
  return Status::Ok();
}

// Brings `cache` up to date with the log; returns the number of the next entry to write. Costs
// a read of entry 0, a HEAD of the last entry the cache holds and a listing of the entries
// after it (not of the whole log), plus the replay of what is new.
Result<int64_t> Sync(const ObjectStoreLedgerOptions& o, std::unique_ptr<SqliteLedger>* cache) {
  const std::string folder = storage::JoinUri(o.output_uri, std::string(kLogFolder));
  auto reopen = [&](const std::string& why) -> Status {
    if (o.log) o.log("rebuilding catalog cache " + o.cache_path + ": " + why);
    cache->reset();
    LOTE_RETURN_IF_ERROR(RemoveCache(o.cache_path));
    LOTE_ASSIGN_OR_RETURN(*cache, SqliteLedger::Open(o.cache_path, o.canonical_uri));
    return Status::Ok();
  };
  LOTE_ASSIGN_OR_RETURN(std::string cached_id, (*cache)->Meta(kMetaLedgerId));
  LOTE_ASSIGN_OR_RETURN(std::string cached_seq, (*cache)->Meta(kMetaLedgerSeq));
  if (cached_id.empty()) {
    LOTE_ASSIGN_OR_RETURN(bool has_runs, (*cache)->HasRuns());
    if (has_runs) {
      return FailedPreconditionError(
          "catalog " + o.cache_path + " holds runs of " + o.canonical_uri +
          " but no ledger log: it was written by a lote that kept an object-store output's "
          "ledger in the local catalog only; publish to a new output");
    }
  }
  LogReplayer replayer(o, cache->get());
  std::string ledger_id;
  auto first = replayer.ReadEntry(0);
  if (!first.ok() && first.status().code() != StatusCode::kNotFound) return first.status();
  if (!first.ok()) {
    if (!cached_id.empty()) LOTE_RETURN_IF_ERROR(reopen("the output has no ledger log any more"));
    if (!o.writer) return int64_t{0};
    ledger_id = RandomHex(16);
    json entry{{"lote_ledger", kLogFormat},
               {"type", "ledger"},
               {"seq", 0},
               {"ledger_id", ledger_id},
               {"output", o.canonical_uri}};
    Status s = o.store->CreateIfAbsent(EntryUri(o.output_uri, 0), entry.dump() + "\n");
    if (s.code() == StatusCode::kAlreadyExists) {
      return AbortedError("another process created the ledger of " + o.canonical_uri +
                          " at the same moment (the output lock is not held?); run again");
    }
    LOTE_RETURN_IF_ERROR(s);
    cached_id.clear();
  } else {
    if ((*first)["type"] != "ledger" || !first->contains("ledger_id") ||
        !(*first)["ledger_id"].is_string()) {
      return DataLossError("ledger entry " + EntryUri(o.output_uri, 0) + " does not name a ledger");
    }
    const std::string owner = StringOr(*first, "output");
    if (owner != o.canonical_uri) {
      return FailedPreconditionError("the ledger under " + folder + " belongs to output " + owner +
                                     ", not " + o.canonical_uri +
                                     " (copied from there?): its entries name that output's files");
    }
    ledger_id = (*first)["ledger_id"].get<std::string>();
    const int64_t applied = cached_seq.empty() ? 0 : std::stoll(cached_seq);
    if (!cached_id.empty() && cached_id != ledger_id) {
      LOTE_RETURN_IF_ERROR(reopen("it replays another ledger (the output was written anew)"));
      cached_id.clear();
    } else if (!cached_id.empty() && applied > 0) {
      auto held = o.store->Stat(EntryUri(o.output_uri, applied));
      if (!held.ok() && held.status().code() != StatusCode::kNotFound) return held.status();
      if (!held.ok()) {
        LOTE_RETURN_IF_ERROR(reopen("it is ahead of the ledger log"));
        cached_id.clear();
      }
    }
  }
  SqliteLedger* c = cache->get();
  if (cached_id.empty()) {
    LOTE_RETURN_IF_ERROR(c->Begin());
    Status s = c->SetMeta(kMetaLedgerId, ledger_id);
    if (s.ok()) s = c->SetMeta(kMetaLedgerSeq, "0");
    if (s.ok()) s = c->Commit();
    if (!s.ok()) {
      c->Rollback();
      return s;
    }
  }
  LOTE_ASSIGN_OR_RETURN(cached_seq, c->Meta(kMetaLedgerSeq));
  const int64_t applied = cached_seq.empty() ? 0 : std::stoll(cached_seq);
  // The entries after the last one the cache holds: numbered on from it, without gaps.
  LOTE_ASSIGN_OR_RETURN(auto listed, o.store->ListAfter(folder, EntryUri(o.output_uri, applied)));
  int64_t last = applied;
  for (const auto& info : listed) {
    auto seq = EntrySeq(info.uri);
    if (!seq) continue;  // not an entry: ignored
    if (*seq != last + 1) {
      return DataLossError("ledger log " + folder + " misses entry " + std::to_string(last + 1) +
                           " (next listed: " + info.uri + ")");
    }
    last = *seq;
  }
  LogReplayer replay(o, c);
  // First the files later entries delete (superseded attempts): those may be gone. The entries
  // are read again below rather than kept: a first replay of a long log would hold them all.
  std::set<std::string> deleted_later;
  for (int64_t seq = applied + 1; seq <= last; ++seq) {
    LOTE_ASSIGN_OR_RETURN(json e, replay.ReadEntry(seq));
    if (auto d = e.find("deletes"); d != e.end() && d->is_array()) {
      for (const json& uri : *d) {
        if (uri.is_string()) deleted_later.insert(uri.get<std::string>());
      }
    }
  }
  if (o.log && last > applied) {
    o.log("catalog cache " + o.cache_path + ": replaying ledger entries " +
          std::to_string(applied + 1) + ".." + std::to_string(last));
  }
  for (int64_t seq = applied + 1; seq <= last; ++seq) {
    LOTE_ASSIGN_OR_RETURN(json e, replay.ReadEntry(seq));
    LOTE_RETURN_IF_ERROR(replay.Replay(seq, e, deleted_later));
  }
  // Commits replayed while their parts were still staged: for a reader, done once a run (on any
  // machine) has finished them: every part in place and every superseded file gone. A writer
  // finishes them itself (Run::RecoverPending).
  if (!o.writer) {
    LOTE_ASSIGN_OR_RETURN(auto pending, c->PendingCommits());
    for (const PendingCommit& commit : pending) {
      bool finished = true;
      for (const StagedPart& part : commit.parts) {
        auto at = o.store->Stat(part.final_uri);
        if (!at.ok() && at.status().code() != StatusCode::kNotFound) return at.status();
        finished = finished && at.ok();
      }
      for (const std::string& uri : commit.deletes) {
        auto at = o.store->Stat(uri);
        if (!at.ok() && at.status().code() != StatusCode::kNotFound) return at.status();
        finished = finished && !at.ok();
      }
      if (finished) {
        LOTE_RETURN_IF_ERROR(c->MarkDone(commit.attempt_id, SystemClock()->NowMicros()));
      }
    }
  }
  return last + 1;
}

}  // namespace

Result<std::unique_ptr<Ledger>> OpenObjectStoreLedger(const ObjectStoreLedgerOptions& options) {
  if (!options.store) return InvalidArgumentError("an object-store ledger needs its store");
  if (options.cache_path.empty()) return InvalidArgumentError("no catalog cache path");
  LOTE_ASSIGN_OR_RETURN(auto cache, SqliteLedger::Open(options.cache_path, options.canonical_uri));
  LOTE_ASSIGN_OR_RETURN(int64_t next_seq, Sync(options, &cache));
  auto ledger = std::make_unique<ObjectStoreLedger>(options, std::move(cache), next_seq);
  if (options.writer) LOTE_RETURN_IF_ERROR(ledger->Claim());
  return std::unique_ptr<Ledger>(std::move(ledger));
}

}  // namespace lote::pipeline
