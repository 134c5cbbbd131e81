#include "pipeline/run.h"

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "lote/base/digest.h"
#include "lote/base/ordered_executor.h"
#include "lote/base/version.h"
#include "lote/io/byte_source.h"
#include "lote/monitoring/drift.h"
#include "pipeline/publisher.h"
#include "pipeline/run_log.h"
#include "pipeline/stage_files.h"

namespace lote::pipeline {
namespace {

bool IsPathSegment(std::string_view s) {
  if (s.empty() || s == "." || s == "..") return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
}

// Seconds a worker spent in prep and inference, summed after the workers are done.
struct WorkerTimes {
  int64_t prep_ns = 0, infer_ns = 0;
};

class Run {
 public:
  Run(const PipelineOptions& options, RunSpec spec)
      : o_(options),
        spec_(std::move(spec)),
        clock_(ClockOr(options.clock)),
        prep_(options.prep),
        log_(options.log, spec_.redact) {}

  Result<RunReport> Execute();

 private:
  void Hook(std::string_view point) const {
    if (o_.fault_hook) o_.fault_hook(point);
  }
  void ReportProgress(bool force);
  void Count(std::string_view name, std::string_view label, std::string_view value, double n) {
    if (!o_.metrics || n == 0) return;
    const MetricLabel labels[] = {{label, value}};
    o_.metrics->Count(name, labels, n);
  }

  Status OpenLedger();
  Status RecoverPending();
  Status RollForward(const PendingCommit& commit);
  Status StartOrResumeRun(RunReport* report);
  // Compares the run's profile with the reference; writes monitoring.json and the catalog's
  // monitoring tables. A resumed run adds the profiles its earlier invocations saved.
  Status WriteMonitoring(RunReport* report);
  // Where an attempt's profile is saved before its commit (_runs/RUN_ID/profiles/ATTEMPT.json):
  // a resumed run's report then covers the objects its earlier invocations committed. Deleted
  // when the run finishes.
  std::string SavedProfilesPrefix() const;
  Status SaveProfile(int64_t attempt_id, const monitoring::Profile& profile,
                     const monitoring::TermCounts& terms);
  // Merges the saved profiles of the run's committed attempts not committed by this invocation
  // into *profile; returns how many of those attempts had none (killed before profiles were
  // saved, or by an older lote).
  Result<uint64_t> MergeSavedProfiles(monitoring::Profile* profile);
  Status ProcessObject(ObjectTask* task, uint64_t* skipped);
  // Streams `source` through prep + inference into `publisher`; adds its seconds to *seconds.
  // Counts the records' terms into *terms when monitoring counts them (count_terms_).
  Status Stream(const std::string& uri, RecordSource* source, ObjectPublisher* publisher,
                AttemptCounts* seconds, monitoring::TermCounts* terms);
  // Prep, inference and the results row's head for every record of `batch` that needs them;
  // the inferred records' terms into *terms (null: not counted).
  void ProcessBatch(Batch* batch, InferenceState* state, InferenceState* shadow_state,
                    const std::string& source_json, WorkerTimes* times,
                    monitoring::TermCounts* terms) const;
  // Counts the run's shadow rows and those that agree with the champion (from its shadow parts,
  // so that a resumed run counts its earlier invocations' too).
  Status CountShadowRows(const std::vector<StagedPart>& parts, RunReport* report) const;
  void EmitObjectMetrics(const AttemptCounts& c, double seconds);
  Status WriteManifest(RunReport* report, const AttemptCounts& totals, bool reconciled,
                       const std::vector<std::string>& skipped_uris);

  const PipelineOptions& o_;
  RunSpec spec_;
  std::shared_ptr<const Clock> clock_;
  Preprocessor prep_;
  RunLog log_;
  std::unique_ptr<KeyedHash> text_hash_, content_hash_;
  std::shared_ptr<storage::Storage> out_;
  std::unique_ptr<storage::StorageLock> lock_;
  std::shared_ptr<Ledger> ledger_;
  PublishContext publish_;
  std::string run_id_, catalog_path_;
  int threads_ = 1;
  int64_t started_ = 0, last_progress_ = 0;
  Progress progress_;
  LiveCounts live_;
  std::atomic<uint64_t> live_bytes_{0};
  std::mutex scores_mu_;
  double score_sum_ = 0;              // guarded by scores_mu_: committed results of this invocation
  uint64_t scored_ = 0;               // guarded by scores_mu_
  monitoring::Profile profile_;       // guarded by scores_mu_: the committed results' model view
  std::set<int64_t> committed_here_;  // guarded by scores_mu_: attempts this invocation committed
  // Monitoring compares terms: the reference has term counts (top_terms).
  bool count_terms_ = false;
  mutable monitoring::TermSampler term_sampler_;  // which records' terms are counted
};

Status Run::OpenLedger() {
  PipelineOptions o = o_;
  o.output_storage = out_;
  LOTE_ASSIGN_OR_RETURN(
      ledger_,
      OpenOutputLedger(
          o, /*writer=*/true, [this](const std::string& line) { log_.Line(LogLevel::kInfo, line); },
          &catalog_path_));
  return Status::Ok();
}

Status Run::RollForward(const PendingCommit& commit) {
  bool first = true;
  for (const StagedPart& part : commit.parts) {
    auto staged = out_->Stat(part.staged_uri);
    if (staged.ok()) {
      LOTE_RETURN_IF_ERROR(out_->Rename(part.staged_uri, part.final_uri));
      if (first) Hook("first_part_renamed");
      first = false;
    } else if (staged.status().code() == StatusCode::kNotFound) {
      // Renamed before an interruption; the final object must then exist.
      auto done = out_->Stat(part.final_uri);
      if (!done.ok()) {
        return DataLossError("committed part is neither staged nor published: " + part.final_uri +
                             " (staged as " + part.staged_uri + ")");
      }
    } else {
      return staged.status();
    }
  }
  for (const std::string& uri : commit.deletes) {
    Status s = out_->Delete(uri);
    if (!s.ok() && s.code() != StatusCode::kNotFound) return s;
  }
  return ledger_->MarkDone(commit.attempt_id, clock_->NowMicros());
}

Status Run::RecoverPending() {
  LOTE_ASSIGN_OR_RETURN(auto pending, ledger_->PendingCommits());
  for (const PendingCommit& commit : pending) {
    log_.Line(LogLevel::kInfo,
              "completing the interrupted commit of attempt " + std::to_string(commit.attempt_id));
    LOTE_RETURN_IF_ERROR(RollForward(commit));
  }
  // Whatever else is staged belongs to attempts that never committed: their transactions were
  // rolled back, so their files are garbage.
  return out_->DeletePrefix(storage::JoinUri(o_.output_uri, "_staging"));
}

void Run::ReportProgress(bool force) {
  if (!o_.on_progress) return;
  const int64_t now = clock_->MonotonicNanos();
  if (!force && static_cast<double>(now - last_progress_) / 1e9 < o_.progress_interval_s) return;
  last_progress_ = now;
  Progress p = progress_;
  p.records_in = live_.in.load();
  p.records_out = live_.out.load();
  p.records_quarantined = live_.quarantined.load();
  p.records_duplicate = live_.duplicate.load();
  p.bytes_done += live_bytes_.load();
  p.elapsed_s = clock_->SecondsSince(started_);
  o_.on_progress(p);
}

void Run::ProcessBatch(Batch* batch, InferenceState* state, InferenceState* shadow_state,
                       const std::string& source_json, WorkerTimes* times,
                       monitoring::TermCounts* terms) const {
  // Phase by phase over the whole batch rather than record by record: the classifier's and the
  // tagger's tables stay in the core's cache for the batch's inference instead of being evicted
  // by prep's between records (measured with perf: the classifier ran up to 25 % slower
  // interleaved).
  const int64_t t0 = clock_->MonotonicNanos();
  for (size_t i = 0; i < batch->size; ++i) {
    Item* item = &batch->items[i];
    if (!item->stage.empty() || item->complete) continue;  // ingest error, or handed over
    Status s = prep_.Process(item->raw, &item->prep);
    if (text_hash_) item->text_hmac = text_hash_->HexDigest(item->raw);
    if (s.ok() && content_hash_) item->content_key = content_hash_->HexDigest(item->prep.text);
    // The raw text is no longer needed: free it before the batch waits for the writer.
    item->raw.clear();
    if (!s.ok()) {
      item->stage = "prep";
      item->reason = s.message();
    }
  }
  const int64_t t1 = clock_->MonotonicNanos();
  for (size_t i = 0; i < batch->size; ++i) {
    Item* item = &batch->items[i];
    if (!item->stage.empty() || item->complete) continue;
    Status s = spec_.engine->Infer(item->prep.text, state, &item->out);
    if (!s.ok()) {
      item->stage = "infer";
      item->reason = s.ToString();
    } else {
      if (terms != nullptr) spec_.engine->CountTerms(state, item->record_id, &term_sampler_, terms);
      // The challenger's failure leaves the record as the champion scored it (no shadow row).
      if (spec_.shadow) {
        item->shadow_ok = spec_.shadow->Infer(item->prep.text, shadow_state, &item->shadow).ok();
      }
    }
  }
  const int64_t t2 = clock_->MonotonicNanos();
  // The results row's head is encoded here, on the workers, not by the writer.
  for (size_t i = 0; i < batch->size; ++i) {
    Item* item = &batch->items[i];
    if (item->stage.empty()) EncodeResultHead(source_json, item);
  }
  times->prep_ns += t1 - t0;
  times->infer_ns += t2 - t1;
}

Status Run::Stream(const std::string& uri, RecordSource* source, ObjectPublisher* publisher,
                   AttemptCounts* seconds, monitoring::TermCounts* terms) {
  auto source_json = std::make_shared<const std::string>(SourceJson(uri));
  // Reader (this thread) -> workers -> writer thread, in batches; RunOrdered bounds the batches
  // in flight, so memory does not grow with the input.
  OrderedExecutorOptions eo;
  eo.threads = threads_;
  eo.max_inflight = o_.max_inflight_batches;
  std::vector<std::shared_ptr<WorkerTimes>> times;
  std::vector<std::shared_ptr<monitoring::TermCounts>> worker_terms;
  double ingest_s = 0;
  bool first_written = false;
  Status s = RunOrdered<Batch>(
      eo,
      [&](Batch* batch) -> Result<bool> {
        const int64_t t0 = clock_->MonotonicNanos();
        batch->size = 0;
        batch->text_bytes = 0;
        auto more = source->Fill(batch, o_.batch_records, o_.batch_bytes);
        ingest_s += clock_->SecondsSince(t0);
        live_bytes_ = source->bytes_read();
        ReportProgress(false);
        return more;
      },
      [&]() -> std::function<Status(Batch*)> {
        auto t = std::make_shared<WorkerTimes>();
        times.push_back(t);
        std::shared_ptr<InferenceState> state, shadow_state;
        if (spec_.engine) state = spec_.engine->NewState();
        if (spec_.shadow) shadow_state = spec_.shadow->NewState();
        std::shared_ptr<monitoring::TermCounts> counted;
        if (count_terms_ && spec_.engine) {
          counted = std::make_shared<monitoring::TermCounts>();
          worker_terms.push_back(counted);
        }
        return [this, t, state, shadow_state, source_json, counted](Batch* batch) -> Status {
          ProcessBatch(batch, state.get(), shadow_state.get(), *source_json, t.get(),
                       counted.get());
          return Status::Ok();
        };
      },
      [&](Batch* batch) -> Status {
        LOTE_RETURN_IF_ERROR(publisher->Write(batch));
        if (!first_written) {
          first_written = true;
          Hook("first_batch_written");
        }
        return Status::Ok();
      });
  for (const auto& w : worker_terms) terms->Merge(*w);
  int64_t prep_ns = 0, infer_ns = 0;
  for (const auto& t : times) {
    prep_ns += t->prep_ns;
    infer_ns += t->infer_ns;
  }
  seconds->ingest_s += ingest_s;
  seconds->prep_s += static_cast<double>(prep_ns) / 1e9;
  seconds->infer_s += static_cast<double>(infer_ns) / 1e9;
  return s;
}

void Run::EmitObjectMetrics(const AttemptCounts& c, double seconds) {
  if (!o_.metrics) return;
  Count("lote_pipeline_records_total", "outcome", "out", static_cast<double>(c.records_out));
  Count("lote_pipeline_records_total", "outcome", "quarantined",
        static_cast<double>(c.records_quarantined));
  Count("lote_pipeline_records_total", "outcome", "duplicate",
        static_cast<double>(c.records_duplicate));
  Count("lote_pipeline_objects_total", "state", "processed", 1);
  if (c.bytes_in > 0) {
    o_.metrics->Count("lote_pipeline_input_bytes_total", {}, static_cast<double>(c.bytes_in));
  }
  Count("lote_pipeline_stage_seconds_total", "stage", "ingest", c.ingest_s);
  Count("lote_pipeline_stage_seconds_total", "stage", "prep", c.prep_s);
  Count("lote_pipeline_stage_seconds_total", "stage", "infer", c.infer_s);
  Count("lote_pipeline_stage_seconds_total", "stage", "publish", c.publish_s);
  Count("lote_pipeline_stage_seconds_total", "stage", "catalog", c.catalog_s);
  o_.metrics->Observe("lote_pipeline_object_seconds", {}, seconds);
}

Status Run::ProcessObject(ObjectTask* task, uint64_t* skipped) {
  progress_.current_object = task->uri();
  const std::string& uri = task->uri();
  // A version seen before under the same listing (URI, size, strong ETag) is known without
  // reading it: a rerun or a restarted watch over a large prefix does not read it all again.
  const std::string& etag = task->strong_etag();
  if (!etag.empty()) {
    LOTE_ASSIGN_OR_RETURN(auto known, ledger_->VersionByEtag(uri, task->listed_size(), etag));
    if (known.has_value()) {
      LOTE_ASSIGN_OR_RETURN(auto done, ledger_->DoneAttempt(*known));
      if (done.has_value() && (done->second == run_id_ || !o_.force)) {
        if (done->second != run_id_) {
          ++*skipped;
          Count("lote_pipeline_objects_total", "state", "skipped", 1);
        }
        return task->Release();
      }
    }
  }
  for (int attempt_no = 0;; ++attempt_no) {
    const int64_t t_object = clock_->MonotonicNanos();
    LOTE_ASSIGN_OR_RETURN(auto identity, task->Identify());
    const auto& [size, content_id] = identity;
    LOTE_ASSIGN_OR_RETURN(int64_t object_id, ledger_->ObjectVersion(uri, size, content_id));
    if (!etag.empty() && attempt_no == 0 && size == task->listed_size()) {
      // What Identify read is the listed version if the object still has the listed ETag.
      LOTE_ASSIGN_OR_RETURN(std::string now, task->EtagNow());
      if (now == etag) LOTE_RETURN_IF_ERROR(ledger_->RememberEtag(object_id, etag));
    }
    LOTE_ASSIGN_OR_RETURN(auto done, ledger_->DoneAttempt(object_id));
    if (done.has_value()) {
      // Done by an earlier run: skip (unless --force). Done by this run (an earlier invocation
      // of a resumed run, --force included): nothing left to do.
      const bool this_run = done->second == run_id_;
      if (this_run || !o_.force) {
        if (!this_run) {
          ++*skipped;
          Count("lote_pipeline_objects_total", "state", "skipped", 1);
        }
        return task->Release();
      }
    }
    LOTE_ASSIGN_OR_RETURN(int64_t source_id, ledger_->SourceId(uri));
    AttemptInfo attempt;
    attempt.run_id = run_id_;
    attempt.now_us = clock_->NowMicros();
    attempt.dt = FormatDate(attempt.now_us);
    attempt.model_version = spec_.model_version;
    attempt.preprocess_version = spec_.preprocess_version;
    LOTE_ASSIGN_OR_RETURN(int64_t attempt_id, ledger_->BeginAttempt(object_id, attempt));
    Hook("attempt_begun");
    live_bytes_ = 0;
    const std::string staging = StagingUri(publish_, attempt_id);
    ObjectPublisher publisher(publish_, uri, source_id, attempt_id, attempt.dt);
    AttemptCounts seconds;
    monitoring::TermCounts terms;
    Result<Consumed> consumed = [&]() -> Result<Consumed> {
      LOTE_ASSIGN_OR_RETURN(auto source, task->Open());
      LOTE_RETURN_IF_ERROR(Stream(uri, source.get(), &publisher, &seconds, &terms));
      LOTE_ASSIGN_OR_RETURN(Consumed c, source->Finish());
      LOTE_RETURN_IF_ERROR(publisher.Finish());
      return c;
    }();
    if (!consumed.ok() || consumed->content_id != content_id) {
      (void)ledger_->AbortAttempt();
      (void)out_->DeletePrefix(staging);
      if (!consumed.ok()) return consumed.status().WithContext(uri);
      if (attempt_no >= o_.max_changed_retries) {
        return AbortedError(uri + " kept changing while being read (" +
                            std::to_string(attempt_no + 1) + " attempts)");
      }
      log_.Object(LogLevel::kWarning, "", uri, " changed while being read; processing it again");
      continue;
    }
    AttemptCounts counts = publisher.counts();
    counts.bytes_in = consumed->bytes;
    counts.publish_s = publisher.publish_seconds();
    counts.catalog_s = publisher.catalog_seconds();
    if (consumed->handed_over) {
      // Reading the handed-over records is publish work; the earlier stages timed themselves.
      counts.publish_s += seconds.ingest_s;
      counts.ingest_s = consumed->ingest_s;
      counts.prep_s = consumed->prep_s;
      counts.infer_s = consumed->infer_s;
      // The infer stage counted the object's terms and left them in its marker.
      if (count_terms_ && !consumed->terms_json.empty()) {
        auto handed = monitoring::TermCounts::FromJson(consumed->terms_json);
        if (!handed.ok()) return handed.status().WithContext(uri + " (the infer stage's marker)");
        terms = std::move(*handed);
      }
    } else {
      counts.ingest_s = seconds.ingest_s;
      counts.prep_s = seconds.prep_s;
      counts.infer_s = seconds.infer_s;
    }
    std::vector<StagedPart> parts = publisher.parts();
    Hook("parts_closed");
    // A lock lost meanwhile (an S3 lock that expired while this process stalled) may be held by
    // another process now: commit nothing more.
    if (Status held = lock_->Check(); !held.ok()) {
      (void)ledger_->AbortAttempt();
      (void)out_->DeletePrefix(staging);
      return held;
    }
    // Saved before the commit, so that every committed attempt has one (one not committed is
    // never read).
    if (o_.monitor) LOTE_RETURN_IF_ERROR(SaveProfile(attempt_id, publisher.profile(), terms));
    LOTE_RETURN_IF_ERROR(ledger_->CommitAttempt(attempt_id, object_id, o_.output_uri, counts,
                                                publisher.labels(), &parts));
    Hook("committed");
    {
      std::lock_guard<std::mutex> lock(scores_mu_);
      score_sum_ += publisher.score_sum();
      scored_ += publisher.scored();
      profile_.Merge(publisher.profile());
      profile_.mutable_terms()->Merge(terms);
      committed_here_.insert(attempt_id);
    }
    // The commit is durable: from here on a failure is completed by the next run.
    LOTE_ASSIGN_OR_RETURN(auto pending, ledger_->PendingCommits());
    for (const PendingCommit& commit : pending) {
      if (commit.attempt_id == attempt_id) LOTE_RETURN_IF_ERROR(RollForward(commit));
    }
    (void)out_->DeletePrefix(staging);
    Hook("object_done");
    LOTE_RETURN_IF_ERROR(task->Release());
    EmitObjectMetrics(counts, clock_->SecondsSince(t_object));
    log_.Object(LogLevel::kInfo, "", uri,
                ": " + std::to_string(counts.records_in) + " in, " +
                    std::to_string(counts.records_out) + " out, " +
                    std::to_string(counts.records_quarantined) + " quarantined, " +
                    std::to_string(counts.records_duplicate) + " duplicate");
    return Status::Ok();
  }
}

Status Run::WriteManifest(RunReport* report, const AttemptCounts& totals, bool reconciled,
                          const std::vector<std::string>& skipped_uris) {
  using nlohmann::json;
  json m;
  m["run_id"] = run_id_;
  m["lote_version"] = std::string(Version());
  m["input"] = o_.input_uri;
  m["output"] = o_.output_uri;
  m["model_version"] = spec_.model_version;
  m["preprocess_version"] = spec_.preprocess_version;
  m["prep_config"] = o_.prep.Fingerprint();
  m["finished_at"] = FormatTimestampMillis(clock_->NowMicros());
  m["counts"] = {{"records_in", totals.records_in},
                 {"records_out", totals.records_out},
                 {"records_quarantined", totals.records_quarantined},
                 {"records_duplicate", totals.records_duplicate},
                 {"bytes_in", totals.bytes_in}};
  m["reconciliation"] = {
      {"check", "records_in == records_out + records_quarantined + records_duplicate"},
      {"ok", reconciled}};
  m["stages_seconds"] = {{"ingest", totals.ingest_s},
                         {"prep", totals.prep_s},
                         {"infer", totals.infer_s},
                         {"publish", totals.publish_s},
                         {"catalog", totals.catalog_s}};
  LOTE_ASSIGN_OR_RETURN(auto attempts, ledger_->RunAttempts(run_id_));
  json objects = json::array();
  for (const auto& a : attempts) {
    objects.push_back({{"uri", a.uri},
                       {"size", a.size},
                       {"content_id", a.content_id},
                       {"records_in", a.counts.records_in},
                       {"records_out", a.counts.records_out},
                       {"records_quarantined", a.counts.records_quarantined},
                       {"records_duplicate", a.counts.records_duplicate}});
  }
  m["objects"] = objects;
  m["objects_skipped"] = skipped_uris;
  m["objects_ignored"] = report->objects_ignored;
  LOTE_ASSIGN_OR_RETURN(auto parts, ledger_->RunParts(run_id_));
  json files = json::array();
  for (const auto& p : parts) {
    files.push_back({{"uri", p.final_uri},
                     {"kind", p.kind},
                     {"rows", p.rows},
                     {"bytes", p.bytes},
                     {"sha256", p.sha256}});
  }
  m["files"] = files;
  json labels = json::object();
  for (const auto& [label, n] : report->top_labels) labels[label] = n;
  m["top_labels"] = labels;
  json reasons = json::object();
  for (const auto& [reason, n] : report->quarantine_reasons) reasons[reason] = n;
  m["quarantine_reasons"] = reasons;
  report->manifest_uri = storage::JoinUri(o_.output_uri, "_runs/" + run_id_ + "/manifest.json");
  // Object names and reasons may hold invalid UTF-8; nlohmann would throw on it.
  return out_->Write(report->manifest_uri,
                     m.dump(2, ' ', false, json::error_handler_t::replace) + "\n");
}

std::string Run::SavedProfilesPrefix() const {
  return storage::JoinUri(o_.output_uri, "_runs/" + run_id_ + "/profiles");
}

Status Run::SaveProfile(int64_t attempt_id, const monitoring::Profile& profile,
                        const monitoring::TermCounts& terms) {
  // The terms keep their words and example ids (as the stages' markers do): the report names
  // them. The file lives only until the run finishes.
  const std::string json =
      "{\"format\":\"lote-attempt-profile\",\"version\":1,\"profile\":" + profile.ToJson() +
      ",\"terms\":" + terms.ToJson() + "}\n";
  return out_->Write(storage::JoinUri(SavedProfilesPrefix(), std::to_string(attempt_id) + ".json"),
                     json);
}

Result<uint64_t> Run::MergeSavedProfiles(monitoring::Profile* profile) {
  LOTE_ASSIGN_OR_RETURN(auto attempts, ledger_->RunAttempts(run_id_));
  uint64_t missing = 0;
  for (const AttemptSummary& a : attempts) {
    if (committed_here_.count(a.attempt_id)) continue;
    const std::string uri =
        storage::JoinUri(SavedProfilesPrefix(), std::to_string(a.attempt_id) + ".json");
    auto bytes = out_->Read(uri);
    if (!bytes.ok()) {
      if (bytes.status().code() != StatusCode::kNotFound) return bytes.status();
      ++missing;
      continue;
    }
    const auto j = nlohmann::json::parse(*bytes, nullptr, false);
    if (j.is_discarded() || !j.is_object() || j.value("format", "") != "lote-attempt-profile" ||
        !j.contains("profile") || !j.contains("terms")) {
      return DataLossError(uri + ": not a saved attempt profile");
    }
    auto saved = monitoring::Profile::FromJson(j["profile"].dump());
    if (!saved.ok()) return saved.status().WithContext(uri);
    auto terms = monitoring::TermCounts::FromJson(j["terms"].dump());
    if (!terms.ok()) return terms.status().WithContext(uri);
    profile->Merge(*saved);
    profile->mutable_terms()->Merge(*terms);
  }
  return missing;
}

Status Run::WriteMonitoring(RunReport* report) {
  uint64_t missing = 0;
  {
    std::lock_guard<std::mutex> lock(scores_mu_);
    monitoring::Profile run_profile = profile_;
    if (report->resumed) {
      LOTE_ASSIGN_OR_RETURN(missing, MergeSavedProfiles(&run_profile));
    }
    report->monitoring = monitoring::CompareProfiles(spec_.reference.get(), run_profile, o_.drift);
    // The mean score of the job metrics over the same records as the report: the whole run.
    report->score_sum = 0;
    report->scored_records = 0;
    for (const auto& [label, l] : run_profile.labels()) {
      report->score_sum += l.score_sum;
      report->scored_records += l.records;
    }
  }
  nlohmann::ordered_json m;
  m["run_id"] = run_id_;
  m["model_version"] = spec_.model_version;
  m["preprocess_version"] = spec_.preprocess_version;
  m["written_at"] = FormatTimestampMillis(clock_->NowMicros());
  // A resumed run's earlier invocations saved each committed object's profile; one killed by an
  // older lote may not have.
  m["scope"] = missing == 0 ? "records committed by this run"
                            : "records committed by this run, less the " + std::to_string(missing) +
                                  " object(s) an earlier invocation committed without saving "
                                  "their profile";
  const auto body =
      nlohmann::ordered_json::parse(monitoring::MonitoringReportJson(report->monitoring));
  for (const auto& [key, value] : body.items()) m[key] = value;
  if (!spec_.shadow_model_version.empty()) {
    // Over the whole run (its shadow parts), with a Wilson 95 % interval.
    const auto [low, high] =
        monitoring::WilsonInterval(report->shadow_agree, report->shadow_records, 1.959963984540054);
    m["shadow"] = {
        {"model_version", spec_.shadow_model_version},
        {"records", report->shadow_records},
        {"agree", report->shadow_agree},
        {"agreement", report->shadow_records > 0
                          ? nlohmann::ordered_json(static_cast<double>(report->shadow_agree) /
                                                   static_cast<double>(report->shadow_records))
                          : nlohmann::ordered_json(nullptr)},
        {"agreement_low", report->shadow_records > 0 ? nlohmann::ordered_json(low)
                                                     : nlohmann::ordered_json(nullptr)},
        {"agreement_high", report->shadow_records > 0 ? nlohmann::ordered_json(high)
                                                      : nlohmann::ordered_json(nullptr)},
        {"uri",
         storage::JoinUri(o_.output_uri, "shadow/dt=*/model=" + spec_.shadow_model_version)}};
  }
  // A run that committed nothing new (everything already done) says nothing about the data: no
  // alarm is evaluated on it, and it is left out of later runs' history.
  if (!o_.alarms.empty() && report->monitoring.records > 0) {
    int history = 0;
    for (const auto& rule : o_.alarms) history = std::max(history, rule.consecutive_runs - 1);
    std::vector<std::string> previous;
    if (history > 0) {
      LOTE_ASSIGN_OR_RETURN(previous, ledger_->RecentMonitoring(run_id_, history));
    }
    report->alarms = monitoring::EvaluateAlarms(
        o_.alarms, m.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), previous);
    nlohmann::ordered_json alarms = nlohmann::ordered_json::array();
    bool firing = false;
    for (const auto& a : report->alarms) {
      alarms.push_back({{"name", a.name},
                        {"signal", a.signal},
                        {"condition", a.condition},
                        {"consecutive_runs", a.consecutive_runs},
                        {"runs_met", a.runs_met},
                        {"firing", a.firing}});
      firing = firing || a.firing;
      if (a.firing) {
        log_.Line(LogLevel::kWarning, "monitoring: alarm " + a.name + " fired (" + a.condition +
                                          " in " + std::to_string(a.runs_met) +
                                          " consecutive run(s))");
      }
    }
    m["alarms"] = alarms;
    m["alarm"] = firing;
  }
  const std::string json = m.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  report->monitoring_json = json;
  report->monitoring_uri = storage::JoinUri(o_.output_uri, "_runs/" + run_id_ + "/monitoring.json");
  LOTE_RETURN_IF_ERROR(out_->Write(report->monitoring_uri, json + "\n"));
  LOTE_RETURN_IF_ERROR(ledger_->RecordMonitoring(json));
  log_.Line(report->monitoring.verdict == "drift" ? LogLevel::kWarning : LogLevel::kInfo,
            "monitoring: " + report->monitoring.verdict + " (" +
                std::to_string(report->monitoring.signals.size()) + " signals tested)");
  return Status::Ok();
}

Status Run::CountShadowRows(const std::vector<StagedPart>& parts, RunReport* report) const {
  report->shadow_model_version = spec_.shadow_model_version;
  for (const StagedPart& part : parts) {
    if (part.kind != "shadow") continue;
    LOTE_ASSIGN_OR_RETURN(auto raw, out_->OpenRead(part.final_uri));
    auto source = io::MakeZstdSource(std::move(raw));
    io::LineReader lines(source.get());
    std::string line;
    while (true) {
      LOTE_ASSIGN_OR_RETURN(bool more, lines.Next(&line));
      if (!more) break;
      if (line.empty()) continue;
      // The publisher wrote these rows: `,"agree":` occurs once, unescaped, before any value
      // that comes from a record (whose quotes are escaped), so no JSON parse is needed.
      const size_t at = line.find(",\"agree\":");
      if (line.front() != '{' || at == std::string::npos) {
        return DataLossError(part.final_uri + ":" + std::to_string(lines.line_number()) +
                             ": not a shadow row");
      }
      ++report->shadow_records;
      if (line.compare(at + 9, 4, "true") == 0) ++report->shadow_agree;
    }
  }
  return Status::Ok();
}

Status Run::StartOrResumeRun(RunReport* report) {
  // A run with a shadow model is another command than one without (or with another shadow).
  const std::string shadow = !spec_.shadow_model_version.empty()
                                 ? "\nshadow " + spec_.shadow_model_version
                                 : std::string();
  const std::string run_key =
      Sha256Hex(o_.input_uri + "\n" + o_.output_uri + "\n" + spec_.model_version + "\n" +
                spec_.preprocess_version + "\n" + o_.text_field + "\n" + o_.id_field + shadow)
          .substr(0, 16);
  LOTE_ASSIGN_OR_RETURN(auto unfinished, ledger_->FindUnfinishedRun(run_key));
  if (unfinished.has_value()) {
    run_id_ = unfinished->run_id;
    report->resumed = true;
    log_.Line(LogLevel::kInfo, "resuming unfinished run " + run_id_);
    return Status::Ok();
  }
  const int64_t now = clock_->NowMicros();
  run_id_ =
      FormatCompactTimestamp(now) + "-" + Sha256Hex(run_key + std::to_string(now)).substr(0, 6);
  LedgerRun run;
  run.run_id = run_id_;
  run.run_key = run_key;
  run.input = o_.input_uri;
  run.output = o_.output_uri;
  run.model_version = spec_.model_version;
  run.preprocess_version = spec_.preprocess_version;
  run.started_at = FormatTimestampMillis(now);
  run.flow_execution = o_.flow_execution;
  return ledger_->CreateRun(run);
}

Result<RunReport> Run::Execute() {
  started_ = last_progress_ = clock_->MonotonicNanos();
  if (o_.output_uri.empty()) return InvalidArgumentError("no output URI");
  if (o_.threads < 0 || o_.threads > kMaxThreads) {
    return InvalidArgumentError("threads must be between 0 and " + std::to_string(kMaxThreads));
  }
  if (o_.batch_records == 0 || o_.batch_bytes == 0) {
    return InvalidArgumentError("batch_records and batch_bytes must be > 0");
  }
  if (spec_.engine && o_.prep.dedup_content && o_.fingerprint_key.empty()) {
    return InvalidArgumentError(
        "dedup by content needs the PII key: content fingerprints are keyed so that nobody can "
        "recover a text from them (give pii.key_file / --pii-key-file or LOTE_PII_KEY)");
  }
  if (!IsPathSegment(spec_.model_version)) {
    return InvalidArgumentError("model version '" + spec_.model_version +
                                "' cannot be a path segment (letters, digits, . _ -)");
  }
  if (!spec_.shadow_model_version.empty()) {
    if (!IsPathSegment(spec_.shadow_model_version)) {
      return InvalidArgumentError("shadow model version '" + spec_.shadow_model_version +
                                  "' cannot be a path segment (letters, digits, . _ -)");
    }
    if (spec_.shadow_model_version == spec_.model_version) {
      return InvalidArgumentError("the shadow model is the model itself (" + spec_.model_version +
                                  ")");
    }
  }
  threads_ = o_.threads > 0 ? o_.threads : UsableCpuCount();
  if (!o_.fingerprint_key.empty()) {
    text_hash_ = std::make_unique<KeyedHash>(o_.fingerprint_key, "text");
    if (o_.prep.dedup_content) {
      content_hash_ = std::make_unique<KeyedHash>(o_.fingerprint_key, "content");
    }
  }
  LOTE_ASSIGN_OR_RETURN(out_, storage::OpenStorageOr(o_.output_storage, o_.output_uri));
  LOTE_ASSIGN_OR_RETURN(
      lock_, AcquireOutputLock(out_.get(), o_.output_uri, o_.lock_wait_seconds, *clock_));
  LOTE_RETURN_IF_ERROR(OpenLedger());
  LOTE_RETURN_IF_ERROR(RecoverPending());

  RunReport report;
  report.model_version = spec_.model_version;
  report.preprocess_version = spec_.preprocess_version;
  report.catalog_path = catalog_path_;
  LOTE_RETURN_IF_ERROR(StartOrResumeRun(&report));
  report.run_id = run_id_;

  publish_.ledger = ledger_.get();
  publish_.out = out_.get();
  publish_.output_uri = o_.output_uri;
  publish_.model_version = spec_.model_version;
  publish_.shadow_model_version = spec_.shadow_model_version;
  publish_.preprocess_version = spec_.preprocess_version;
  publish_.run_id = run_id_;
  publish_.staging_tag = RandomHex(6);
  publish_.dedup_record_id = o_.prep.dedup_record_id;
  publish_.dedup_content = o_.prep.dedup_content;
  publish_.monitor = o_.monitor;
  count_terms_ = o_.monitor && spec_.reference != nullptr && !spec_.reference->terms().empty();
  publish_.max_part_bytes = o_.max_part_bytes;
  publish_.zstd_level = o_.zstd_level;
  publish_.clock = clock_.get();
  publish_.redact = spec_.redact ? spec_.redact : [](std::string_view t) { return std::string(t); };
  publish_.live = &live_;

  LOTE_ASSIGN_OR_RETURN(TaskList list, spec_.list_tasks(out_.get()));
  report.objects_ignored = list.ignored;
  Count("lote_pipeline_objects_total", "state", "ignored", static_cast<double>(list.ignored));
  report.objects_listed = list.tasks.size();
  progress_.objects_total = list.tasks.size();
  for (const auto& task : list.tasks) progress_.bytes_total += task->listed_size();

  std::vector<std::string> skipped_uris;
  for (auto& task : list.tasks) {
    const uint64_t skipped_before = report.objects_skipped;
    LOTE_RETURN_IF_ERROR(ProcessObject(task.get(), &report.objects_skipped));
    if (report.objects_skipped > skipped_before) skipped_uris.push_back(task->uri());
    ++progress_.objects_done;
    progress_.bytes_done += task->listed_size();
    live_bytes_ = 0;
    ReportProgress(true);
  }

  // Every attempt is committed and rolled forward: nothing staged is needed any more.
  LOTE_RETURN_IF_ERROR(out_->DeletePrefix(storage::JoinUri(o_.output_uri, "_staging")));
  LOTE_ASSIGN_OR_RETURN(AttemptCounts totals, ledger_->RunTotals(run_id_));
  LOTE_ASSIGN_OR_RETURN(auto parts, ledger_->RunParts(run_id_));
  uint64_t result_rows = 0, quarantine_rows = 0, shadow_rows = 0;
  for (const auto& p : parts) {
    (p.kind == "results"      ? result_rows
     : p.kind == "quarantine" ? quarantine_rows
                              : shadow_rows) += p.rows;
  }
  if (!spec_.shadow_model_version.empty()) {
    LOTE_RETURN_IF_ERROR(CountShadowRows(parts, &report));
    // A shadow row exists only beside a results row.
    if (report.shadow_records != shadow_rows || shadow_rows > totals.records_out) {
      return DataLossError("run " + run_id_ + ": its shadow parts hold " +
                           std::to_string(report.shadow_records) + " rows, the ledger says " +
                           std::to_string(shadow_rows) +
                           " (results rows: " + std::to_string(totals.records_out) + ")");
    }
  }
  LOTE_ASSIGN_OR_RETURN(auto attempts, ledger_->RunAttempts(run_id_));
  report.objects_processed = attempts.size();
  report.counts = RunCounts{totals.records_in, totals.records_out, totals.records_quarantined,
                            totals.records_duplicate, totals.bytes_in};
  report.stages = StageTimes{totals.ingest_s, totals.prep_s, totals.infer_s, totals.publish_s,
                             totals.catalog_s};
  LOTE_ASSIGN_OR_RETURN(report.top_labels, ledger_->TopLabels(run_id_, 10));
  LOTE_ASSIGN_OR_RETURN(report.quarantine_reasons, ledger_->TopQuarantineReasons(run_id_, 10));
  // The published files must hold exactly the rows the counts say, and the counts must add up.
  const bool reconciled = totals.records_in == totals.records_out + totals.records_quarantined +
                                                   totals.records_duplicate &&
                          result_rows == totals.records_out &&
                          quarantine_rows == totals.records_quarantined;
  LOTE_RETURN_IF_ERROR(WriteManifest(&report, totals, reconciled, skipped_uris));
  Hook("manifest_written");
  if (o_.monitor) {
    LOTE_RETURN_IF_ERROR(WriteMonitoring(&report));
  } else {
    std::lock_guard<std::mutex> lock(scores_mu_);
    report.score_sum = score_sum_;
    report.scored_records = scored_;
  }
  report.wall_s = clock_->SecondsSince(started_);
  const std::string finished_at = FormatTimestampMillis(clock_->NowMicros());
  if (!reconciled) {
    (void)ledger_->FinishRun(run_id_, "failed", finished_at, totals, report.manifest_uri);
    Count("lote_pipeline_runs_total", "state", "failed", 1);
    if (o_.monitor) (void)out_->DeletePrefix(SavedProfilesPrefix());
    return InternalError(
        "reconciliation failed for run " + run_id_ + ": records_in " +
        std::to_string(totals.records_in) + " != out " + std::to_string(totals.records_out) +
        " + quarantined " + std::to_string(totals.records_quarantined) + " + duplicate " +
        std::to_string(totals.records_duplicate) + " (rows in files: results " +
        std::to_string(result_rows) + ", quarantine " + std::to_string(quarantine_rows) + ")");
  }
  LOTE_RETURN_IF_ERROR(
      ledger_->FinishRun(run_id_, "succeeded", finished_at, totals, report.manifest_uri));
  Count("lote_pipeline_runs_total", "state", "succeeded", 1);
  // The report is written and the run finished: the saved profiles served their purpose.
  if (o_.monitor) (void)out_->DeletePrefix(SavedProfilesPrefix());
  return report;
}

}  // namespace

Result<RunReport> ExecuteRun(const PipelineOptions& options, RunSpec spec) {
  Run run(options, std::move(spec));
  return run.Execute();
}

}  // namespace lote::pipeline
