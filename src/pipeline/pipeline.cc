#include "lote/pipeline/pipeline.h"

#include <pthread.h>
#include <unistd.h>
#include <xxhash.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <deque>
#include <filesystem>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "lote/base/digest.h"
#include "lote/base/json_writer.h"
#include "lote/base/version.h"
#include "lote/io/records.h"
#include "lote/pipeline/stages.h"
#include "lote/text/utf8.h"
#include "pipeline/ledger.h"
#include "pipeline/part_writer.h"
#include "pipeline/stage_files.h"

namespace lote::pipeline {
namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

int64_t SystemMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string IsoTime(int64_t micros) {
  time_t secs = static_cast<time_t>(micros / 1000000);
  struct tm tm;
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>((micros / 1000) % 1000));
  return buf;
}

std::string DateOf(int64_t micros) { return IsoTime(micros).substr(0, 10); }

bool IsPathSegment(std::string_view s) {
  if (s.empty() || s == "." || s == "..") return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
}

// Hashes the raw bytes flowing through it, so the pipeline can tell whether what it processed is
// the object version it registered in the ledger.
class HashingSource : public io::ByteSource {
 public:
  explicit HashingSource(std::unique_ptr<io::ByteSource> inner)
      : inner_(std::move(inner)), state_(XXH3_createState()) {
    XXH3_128bits_reset(state_);
  }
  ~HashingSource() override { XXH3_freeState(state_); }
  Result<size_t> Read(char* buf, size_t n) override {
    LOTE_ASSIGN_OR_RETURN(size_t got, inner_->Read(buf, n));
    XXH3_128bits_update(state_, buf, got);
    bytes_ += got;
    return got;
  }
  const std::string& name() const override { return inner_->name(); }
  // Reads what the consumer left unread, then returns "xxh3:<32 hex>".
  Result<std::string> Finish() {
    char buf[1 << 16];
    while (true) {
      LOTE_ASSIGN_OR_RETURN(size_t got, Read(buf, sizeof(buf)));
      if (got == 0) break;
    }
    XXH128_canonical_t canon;
    XXH128_canonicalFromHash(&canon, XXH3_128bits_digest(state_));
    return "xxh3:" + HexEncode(canon.digest, sizeof(canon.digest));
  }
  uint64_t bytes() const { return bytes_; }

 private:
  std::unique_ptr<io::ByteSource> inner_;
  XXH3_state_t* state_;
  uint64_t bytes_ = 0;
};

Result<std::string> ContentId(const storage::Storage& storage, const std::string& uri,
                              uint64_t* size) {
  LOTE_ASSIGN_OR_RETURN(auto source, storage.OpenRead(uri));
  HashingSource hashing(std::move(source));
  LOTE_ASSIGN_OR_RETURN(std::string id, hashing.Finish());
  *size = hashing.bytes();
  return id;
}

// One record on its way through the stages.
struct Item {
  std::string record_id;
  uint64_t line = 0;
  std::string raw;
  std::string stage;   // set when quarantined: "ingest", "prep", "infer"
  std::string reason;  // quarantine reason (redacted before writing)
  PrepResult prep;
  std::string text_sha256;   // of the raw text
  std::string clean_sha256;  // of the clean text, only with dedup_content
  InferenceOutput out;
  bool complete = false;  // handed over by the infer stage: nothing left to compute
};

struct Batch {
  uint64_t index = 0;
  std::vector<Item> items;
};

// "URI:LINE: reason" (the readers' record errors) -> line and reason.
void SplitReaderError(const std::string& uri, const std::string& message, uint64_t* line,
                      std::string* reason) {
  *line = 0;
  *reason = message;
  if (!message.starts_with(uri + ":")) return;
  size_t pos = uri.size() + 1;
  size_t end = pos;
  while (end < message.size() && message[end] >= '0' && message[end] <= '9') ++end;
  if (end == pos || message.compare(end, 2, ": ") != 0) return;
  *line = std::strtoull(message.substr(pos, end - pos).c_str(), nullptr, 10);
  *reason = message.substr(end + 2);
}

struct ObjectOutcome {
  AttemptCounts counts;
  LabelCounts labels;
  std::vector<StagedPart> parts;
  std::string consumed_id;  // content id of the bytes actually read
};

class Run {
 public:
  // `from_stages`: publish what the infer stage handed over (PublishStaged) instead of reading
  // the input.
  Run(const PipelineOptions& options, std::shared_ptr<const InferenceEngine> engine,
      bool from_stages = false)
      : o_(options), engine_(std::move(engine)), prep_(options.prep), from_stages_(from_stages) {}

  Result<RunReport> Execute();
  void SetStaged(std::vector<StagedObject> staged) { staged_ = std::move(staged); }

 private:
  int64_t Now() const { return o_.now_micros ? o_.now_micros() : SystemMicros(); }
  void Hook(std::string_view point) const {
    if (o_.fault_hook) o_.fault_hook(point);
  }
  void Log(LogLevel level, const std::string& line) const {
    if (o_.log) o_.log(level, engine_->RedactText(line));
  }
  // A line about one object: `before` + its URI + `after`. The URI names a file of the lake (the
  // results' `source` column holds it in clear too) and is not put through the PII policy, so a
  // date in a file name ("2024-03-15-app.jsonl") stays readable; the rest of the line is.
  void LogObject(LogLevel level, const std::string& before, const std::string& uri,
                 const std::string& after) const {
    if (o_.log) {
      o_.log(level, engine_->RedactText(before) + text::ReplaceInvalidUtf8(uri) +
                        engine_->RedactText(after));
    }
  }
  void ReportProgress(bool force);

  Status AcquireLock();
  Status RecoverPending();
  Status RollForward(const PendingCommit& commit);
  Status ProcessObject(const storage::ObjectInfo& info, const StagedObject* staged,
                       uint64_t* skipped);
  Result<ObjectOutcome> StreamObject(const std::string& uri, int64_t source_id, int64_t attempt_id,
                                     const std::string& dt, const StagedObject* staged);
  Status DeleteStageFiles(const StagedObject& staged);
  void PrepAndInfer(Item* item, InferenceState* state, int64_t* prep_ns, int64_t* infer_ns) const;
  Status WriteManifest(RunReport* report, const AttemptCounts& totals, bool reconciled,
                       const std::vector<std::string>& skipped_uris);

  const PipelineOptions& o_;
  std::shared_ptr<const InferenceEngine> engine_;
  Preprocessor prep_;
  bool from_stages_ = false;
  std::vector<StagedObject> staged_;  // from_stages_: the infer stage's markers
  std::shared_ptr<storage::Storage> in_, out_;
  std::unique_ptr<storage::StorageLock> lock_;
  std::unique_ptr<IngestLedger> ledger_;
  std::string model_version_, prep_version_, run_id_, catalog_path_;
  int threads_ = 1;
  Clock::time_point started_ = Clock::now();
  Clock::time_point last_progress_ = Clock::now();
  Progress progress_;
  std::atomic<uint64_t> live_in_{0}, live_out_{0}, live_q_{0}, live_dup_{0}, live_bytes_{0};
};

Status Run::AcquireLock() {
  LOTE_ASSIGN_OR_RETURN(
      lock_, AcquireOutputLock(out_.get(), o_.output_uri, o_.lock_wait_seconds, IsoTime(Now())));
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
  return ledger_->MarkDone(commit.attempt_id, Now());
}

Status Run::RecoverPending() {
  LOTE_ASSIGN_OR_RETURN(auto pending, ledger_->PendingCommits());
  for (const PendingCommit& commit : pending) {
    Log(LogLevel::kInfo,
        "completing the interrupted commit of attempt " + std::to_string(commit.attempt_id));
    LOTE_RETURN_IF_ERROR(RollForward(commit));
  }
  // Whatever else is staged belongs to attempts that never committed: their transactions were
  // rolled back, so their files are garbage.
  return out_->DeletePrefix(storage::JoinUri(o_.output_uri, "_staging"));
}

void Run::ReportProgress(bool force) {
  if (!o_.on_progress) return;
  if (!force && SecondsSince(last_progress_) < o_.progress_interval_s) return;
  last_progress_ = Clock::now();
  Progress p = progress_;
  p.records_in = live_in_.load();
  p.records_out = live_out_.load();
  p.records_quarantined = live_q_.load();
  p.records_duplicate = live_dup_.load();
  p.bytes_done += live_bytes_.load();
  p.elapsed_s = SecondsSince(started_);
  o_.on_progress(p);
}

void Run::PrepAndInfer(Item* item, InferenceState* state, int64_t* prep_ns,
                       int64_t* infer_ns) const {
  if (!item->stage.empty() || item->complete) return;  // ingest error, or handed over
  auto t0 = Clock::now();
  Status s = prep_.Process(item->raw, &item->prep);
  item->text_sha256 = Sha256Hex(item->raw);
  if (s.ok() && o_.prep.dedup_content) item->clean_sha256 = Sha256Hex(item->prep.text);
  auto t1 = Clock::now();
  *prep_ns += std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count();
  if (!s.ok()) {
    item->stage = "prep";
    item->reason = s.message();
    return;
  }
  item->out.Clear();
  s = engine_->Infer(item->prep.text, state, &item->out);
  *infer_ns += std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t1).count();
  if (!s.ok()) {
    item->stage = "infer";
    item->reason = s.ToString();
  }
  // The raw text is no longer needed: free it before the batch waits for the writer.
  std::string().swap(item->raw);
}

Result<ObjectOutcome> Run::StreamObject(const std::string& uri, int64_t source_id,
                                        int64_t attempt_id, const std::string& dt,
                                        const StagedObject* staged) {
  ObjectOutcome outcome;
  // Either the input object itself (hashed while read) or the infer stage's records of it.
  HashingSource* hashing = nullptr;
  std::unique_ptr<io::TextRecordReader> reader;
  std::unique_ptr<StageRecordReader> staged_reader;
  if (staged != nullptr) {
    if (!staged->data_uri.empty()) {
      LOTE_ASSIGN_OR_RETURN(staged_reader, StageRecordReader::Open(*out_, staged->data_uri));
    }
  } else {
    LOTE_ASSIGN_OR_RETURN(io::Format format, io::FormatFromPath(uri, false));
    LOTE_ASSIGN_OR_RETURN(auto raw, in_->OpenRead(uri));
    auto hashing_owned = std::make_unique<HashingSource>(std::move(raw));
    hashing = hashing_owned.get();
    io::TextReaderOptions reader_options;
    reader_options.text_field = o_.text_field;
    if (format != io::Format::kTxt) reader_options.id_field = o_.id_field;
    LOTE_ASSIGN_OR_RETURN(
        reader, io::MakeTextRecordReader(format, io::MaybeDecompress(std::move(hashing_owned)),
                                         reader_options));
  }

  std::string staging = storage::JoinUri(o_.output_uri, "_staging/a" + std::to_string(attempt_id));
  std::string results_partition = "results/dt=" + dt + "/model=" + model_version_;
  std::string quarantine_partition = "quarantine/dt=" + dt + "/model=" + model_version_;
  PartWriter results(out_.get(), staging + "/results", "results", results_partition,
                     o_.max_part_bytes, o_.zstd_level);
  PartWriter quarantine(out_.get(), staging + "/quarantine", "quarantine", quarantine_partition,
                        o_.max_part_bytes, o_.zstd_level);

  // Reader (this thread) -> workers -> writer thread, in batches. `inflight` bounds the batches
  // between reader and writer, so memory does not grow with the input.
  const size_t max_inflight =
      o_.max_inflight_batches > 0 ? o_.max_inflight_batches : static_cast<size_t>(4 * threads_);
  std::mutex mu;
  std::condition_variable cv_work, cv_done, cv_space;
  std::deque<std::unique_ptr<Batch>> work;
  std::map<uint64_t, std::unique_ptr<Batch>> done;
  uint64_t produced = 0, written = 0;
  bool input_done = false;
  bool cancelled = false;
  Status fatal;
  std::atomic<int64_t> prep_ns{0}, infer_ns{0};
  double publish_s = 0;

  auto cancel = [&](Status s) {
    std::lock_guard<std::mutex> lock(mu);
    if (fatal.ok()) fatal = std::move(s);
    cancelled = true;
    cv_work.notify_all();
    cv_done.notify_all();
    cv_space.notify_all();
  };

  std::vector<std::thread> workers;
  for (int t = 0; t < threads_; ++t) {
    workers.emplace_back([&] {
      pthread_setname_np(pthread_self(), "lote-work");  // as `top -H` and perf show it
      std::unique_ptr<InferenceState> state = engine_->NewState();
      int64_t my_prep = 0, my_infer = 0;
      while (true) {
        std::unique_ptr<Batch> batch;
        {
          std::unique_lock<std::mutex> lock(mu);
          cv_work.wait(lock, [&] { return cancelled || !work.empty() || input_done; });
          if (cancelled || work.empty()) break;
          batch = std::move(work.front());
          work.pop_front();
        }
        for (Item& item : batch->items) PrepAndInfer(&item, state.get(), &my_prep, &my_infer);
        std::lock_guard<std::mutex> lock(mu);
        done[batch->index] = std::move(batch);
        cv_done.notify_all();
      }
      prep_ns += my_prep;
      infer_ns += my_infer;
    });
  }

  AttemptCounts& c = outcome.counts;
  std::string line;
  std::thread writer([&] {
    pthread_setname_np(pthread_self(), "lote-write");
    ResultRow row;
    QuarantineRow qrow;
    while (true) {
      std::unique_ptr<Batch> batch;
      {
        std::unique_lock<std::mutex> lock(mu);
        cv_done.wait(lock, [&] {
          return cancelled || done.count(written) > 0 || (input_done && written == produced);
        });
        if (cancelled) return;
        if (done.count(written) == 0) return;  // all written
        batch = std::move(done[written]);
        done.erase(written);
      }
      auto t0 = Clock::now();
      std::string processed_at = IsoTime(Now());
      Status s;
      for (Item& item : batch->items) {
        ++c.records_in;
        ++live_in_;
        // Dedup applies to records that passed prep, whatever inference then says.
        if (item.stage.empty() || item.stage == "infer") {
          // Always tracked: the record's latest version is found through it.
          auto seen =
              ledger_->SeenRecord(item.record_id, source_id, attempt_id, o_.prep.dedup_record_id);
          if (!seen.ok()) {
            s = seen.status();
            break;
          }
          bool dup = *seen;
          if (!dup && o_.prep.dedup_content) {
            auto seen = ledger_->SeenContent(item.clean_sha256, item.record_id, attempt_id);
            if (!seen.ok()) {
              s = seen.status();
              break;
            }
            dup = *seen;
          }
          if (dup) {
            ++c.records_duplicate;
            ++live_dup_;
            continue;
          }
        }
        if (!item.stage.empty()) {
          qrow.record_id = item.record_id;
          qrow.line = item.line;
          qrow.stage = item.stage;
          qrow.reason = engine_->RedactText(item.reason);
          qrow.processed_at = processed_at;
          line.clear();
          line += "{\"record_id\":";
          ::lote::AppendJsonString(&line, qrow.record_id);
          line += ",\"source\":";
          ::lote::AppendJsonString(&line, uri);
          line += ",\"line\":" + std::to_string(item.line) + ",\"stage\":";
          ::lote::AppendJsonString(&line, qrow.stage);
          line += ",\"reason\":";
          ::lote::AppendJsonString(&line, qrow.reason);
          line += "}";
          s = quarantine.AddRow(line);
          if (s.ok()) s = ledger_->AddQuarantine(attempt_id, qrow);
          if (!s.ok()) break;
          ++c.records_quarantined;
          ++live_q_;
          continue;
        }
        row.record_id = item.record_id;
        row.line = item.line;
        row.text_sha256 = item.text_sha256;
        row.lang = item.prep.lang;
        row.label = item.out.label;
        row.score = item.out.score;
        row.processed_at = processed_at;
        row.top_k_json.clear();
        if (!row.label.empty()) {
          row.top_k_json.push_back('[');
          for (size_t k = 0; k < item.out.top_k.size(); ++k) {
            if (k > 0) row.top_k_json.push_back(',');
            row.top_k_json += "{\"label\":";
            ::lote::AppendJsonString(&row.top_k_json, item.out.top_k[k].first);
            row.top_k_json += ",\"score\":";
            ::lote::AppendJsonNumber(&row.top_k_json, item.out.top_k[k].second);
            row.top_k_json.push_back('}');
          }
          row.top_k_json.push_back(']');
        }
        const std::string& entities =
            item.out.entities_json.empty() ? std::string("[]") : item.out.entities_json;
        line.clear();
        line += "{\"record_id\":";
        ::lote::AppendJsonString(&line, row.record_id);
        line += ",\"source\":";
        ::lote::AppendJsonString(&line, uri);
        line += ",\"line\":" + std::to_string(row.line) + ",\"text_sha256\":\"" + row.text_sha256 +
                "\",\"lang\":";
        ::lote::AppendJsonString(&line, row.lang);
        if (row.label.empty()) {
          line += ",\"label\":null,\"score\":null,\"top_k\":null";
        } else {
          line += ",\"label\":";
          ::lote::AppendJsonString(&line, row.label);
          line += ",\"score\":";
          ::lote::AppendJsonNumber(&line, row.score);
          line += ",\"top_k\":" + row.top_k_json;
        }
        line += ",\"entities\":" + entities + ",\"model_version\":";
        ::lote::AppendJsonString(&line, model_version_);
        line += ",\"preprocess_version\":\"" + prep_version_ + "\",\"run_id\":\"" + run_id_ +
                "\",\"processed_at\":\"" + processed_at + "\"}";
        s = results.AddRow(line);
        if (s.ok()) s = ledger_->AddResult(attempt_id, row, entities);
        if (!s.ok()) break;
        ++outcome.labels[row.label.empty() ? std::string("(none)") : row.label];
        ++c.records_out;
        ++live_out_;
      }
      publish_s += SecondsSince(t0);
      if (!s.ok()) {
        cancel(s);
        return;
      }
      {
        std::lock_guard<std::mutex> lock(mu);
        ++written;
        cv_space.notify_all();
      }
      if (batch->index == 0) Hook("first_batch_written");
    }
  });

  // The reader.
  auto t_read = Clock::now();
  double ingest_s = 0;
  Status read_error;
  io::TextRecord rec;
  auto batch = std::make_unique<Batch>();
  auto push = [&](bool final_batch) -> bool {
    ingest_s += SecondsSince(t_read);
    std::unique_lock<std::mutex> lock(mu);
    if (!batch->items.empty()) {
      cv_space.wait(lock, [&] { return cancelled || produced - written < max_inflight; });
      if (cancelled) return false;
      batch->index = produced++;
      work.push_back(std::move(batch));
      batch = std::make_unique<Batch>();
      batch->items.reserve(o_.batch_records);
      cv_work.notify_one();
    }
    if (final_batch) {
      input_done = true;
      cv_work.notify_all();
      cv_done.notify_all();
    }
    lock.unlock();
    if (hashing != nullptr) live_bytes_ = hashing->bytes();
    ReportProgress(false);
    t_read = Clock::now();
    return true;
  };
  uint64_t staged_records = 0;
  while (staged_reader != nullptr) {
    StageRecord r;
    auto next = staged_reader->Next(&r);
    if (!next.ok()) {
      read_error = next.status();
      break;
    }
    if (!*next) break;
    ++staged_records;
    Item item;
    item.complete = true;
    item.record_id = std::move(r.record_id);
    item.line = r.line;
    item.stage = std::move(r.stage);
    item.reason = std::move(r.reason);
    item.prep.lang = std::move(r.lang);
    item.text_sha256 = std::move(r.text_sha256);
    item.clean_sha256 = std::move(r.clean_sha256);
    if (r.has_label) {
      item.out.label = std::move(r.label);
      item.out.score = static_cast<float>(r.score);
      item.out.top_k = std::move(r.top_k);
    }
    item.out.entities_json = std::move(r.entities_json);
    batch->items.push_back(std::move(item));
    if (batch->items.size() >= o_.batch_records && !push(false)) break;
  }
  while (reader != nullptr) {
    auto next = reader->Next(&rec);
    if (!next.ok()) {
      if (reader->failed()) {
        // I/O trouble is transient: fail the run (it resumes). A broken object (corrupt
        // compressed data, missing text column) is quarantined as one entry, after the records
        // read before the break.
        if (next.status().code() == StatusCode::kUnavailable) {
          read_error = next.status();
          break;
        }
        Item item;
        item.record_id = uri;
        SplitReaderError(uri, next.status().message(), &item.line, &item.reason);
        item.stage = "ingest";
        item.reason = "unreadable object: " + item.reason;
        batch->items.push_back(std::move(item));
        break;
      }
      Item item;
      SplitReaderError(uri, next.status().message(), &item.line, &item.reason);
      item.record_id = uri + ":" + std::to_string(item.line);
      item.stage = "ingest";
      batch->items.push_back(std::move(item));
    } else if (!*next) {
      break;
    } else {
      Item item;
      item.line = rec.line;
      item.record_id = rec.id.empty() ? uri + ":" + std::to_string(rec.line) : rec.id;
      item.raw = std::move(rec.text);
      batch->items.push_back(std::move(item));
    }
    if (batch->items.size() >= o_.batch_records && !push(false)) break;
  }
  push(true);
  for (auto& w : workers) w.join();
  writer.join();
  if (!read_error.ok()) return read_error;
  if (!fatal.ok()) return fatal;
  if (staged != nullptr) {
    if (staged_records != staged->records) {
      return DataLossError(staged->data_uri + " holds " + std::to_string(staged_records) +
                           " records, its marker says " + std::to_string(staged->records));
    }
    outcome.consumed_id = staged->content_id;
    c.bytes_in = staged->size;
  } else {
    // `hashing` lives inside the reader's source chain: finish it before the reader goes.
    LOTE_ASSIGN_OR_RETURN(outcome.consumed_id, hashing->Finish());
    c.bytes_in = hashing->bytes();
    reader.reset();
  }
  auto t_close = Clock::now();
  LOTE_RETURN_IF_ERROR(results.Finish());
  LOTE_RETURN_IF_ERROR(quarantine.Finish());
  publish_s += SecondsSince(t_close);
  outcome.parts = results.parts();
  outcome.parts.insert(outcome.parts.end(), quarantine.parts().begin(), quarantine.parts().end());
  c.ingest_s = ingest_s;
  c.prep_s = static_cast<double>(prep_ns.load()) / 1e9;
  c.infer_s = static_cast<double>(infer_ns.load()) / 1e9;
  c.publish_s = publish_s;
  if (staged != nullptr) {
    // Reading the handed-over records is publish work; the earlier stages timed themselves.
    c.publish_s += ingest_s;
    c.ingest_s = staged->ingest_s;
    c.prep_s = staged->prep_s;
    c.infer_s = staged->infer_s;
  }
  return outcome;
}

Status Run::DeleteStageFiles(const StagedObject& staged) {
  // Earlier stages first and each marker after its data, so that whatever a kill leaves behind
  // still has its infer marker, which the next publish skips (done) and deletes.
  for (const char* stage : {"ingest", "prep", "infer"}) {
    std::string folder = StageFolder(o_.output_uri, stage);
    auto marker = ReadMarker(*out_, folder, staged.key);
    if (!marker.ok()) {
      if (marker.status().code() == StatusCode::kNotFound) continue;
      return marker.status();
    }
    if (!marker->data_uri.empty()) {
      Status s = out_->Delete(marker->data_uri);
      if (!s.ok() && s.code() != StatusCode::kNotFound) return s;
    }
    Status s = out_->Delete(marker->marker_uri);
    if (!s.ok() && s.code() != StatusCode::kNotFound) return s;
  }
  return Status::Ok();
}

Status Run::ProcessObject(const storage::ObjectInfo& info, const StagedObject* staged,
                          uint64_t* skipped) {
  progress_.current_object = info.uri;
  for (int attempt_no = 0;; ++attempt_no) {
    uint64_t size = 0;
    std::string content_id;
    if (staged != nullptr) {
      size = staged->size;
      content_id = staged->content_id;
    } else {
      LOTE_ASSIGN_OR_RETURN(content_id, ContentId(*in_, info.uri, &size));
    }
    LOTE_ASSIGN_OR_RETURN(int64_t object_id, ledger_->ObjectVersion(info.uri, size, content_id));
    LOTE_ASSIGN_OR_RETURN(auto done, ledger_->DoneAttempt(object_id));
    if (done.has_value()) {
      // Done by an earlier run: skip (unless --force). Done by this run (an earlier invocation
      // of a resumed run, --force included): nothing left to do.
      LOTE_ASSIGN_OR_RETURN(
          auto run_of, ledger_->db()->Prepare("SELECT run_id FROM attempts WHERE attempt_id = ?"));
      run_of.Bind(1, *done);
      LOTE_ASSIGN_OR_RETURN(bool row, run_of.Step());
      bool this_run = row && run_of.Text(0) == run_id_;
      run_of.Reset();
      if (this_run || !o_.force) {
        if (!this_run) ++*skipped;
        return staged != nullptr ? DeleteStageFiles(*staged) : Status::Ok();
      }
    }
    LOTE_ASSIGN_OR_RETURN(int64_t source_id, ledger_->SourceId(info.uri));
    AttemptInfo attempt;
    attempt.run_id = run_id_;
    attempt.now_us = Now();
    attempt.dt = DateOf(attempt.now_us);
    attempt.model_version = model_version_;
    attempt.preprocess_version = prep_version_;
    LOTE_ASSIGN_OR_RETURN(int64_t attempt_id, ledger_->BeginAttempt(object_id, attempt));
    Hook("attempt_begun");
    live_bytes_ = 0;
    auto outcome = StreamObject(info.uri, source_id, attempt_id, attempt.dt, staged);
    std::string staging =
        storage::JoinUri(o_.output_uri, "_staging/a" + std::to_string(attempt_id));
    if (!outcome.ok() || outcome->consumed_id != content_id) {
      (void)ledger_->AbortAttempt();
      (void)out_->DeletePrefix(staging);
      if (!outcome.ok()) return outcome.status().WithContext(info.uri);
      if (attempt_no >= o_.max_changed_retries) {
        return AbortedError(info.uri + " kept changing while being read (" +
                            std::to_string(attempt_no + 1) + " attempts)");
      }
      LogObject(LogLevel::kWarning, "", info.uri, " changed while being read; processing it again");
      continue;
    }
    Hook("parts_closed");
    LOTE_RETURN_IF_ERROR(ledger_->CommitAttempt(attempt_id, object_id, o_.output_uri,
                                                outcome->counts, outcome->labels, &outcome->parts));
    Hook("committed");
    // The commit is durable: from here on a failure is completed by the next run.
    LOTE_ASSIGN_OR_RETURN(auto pending, ledger_->PendingCommits());
    for (const PendingCommit& commit : pending) {
      if (commit.attempt_id == attempt_id) LOTE_RETURN_IF_ERROR(RollForward(commit));
    }
    (void)out_->DeletePrefix(staging);
    Hook("object_done");
    if (staged != nullptr) LOTE_RETURN_IF_ERROR(DeleteStageFiles(*staged));
    const AttemptCounts& c = outcome->counts;
    LogObject(LogLevel::kInfo, "", info.uri,
              ": " + std::to_string(c.records_in) + " in, " + std::to_string(c.records_out) +
                  " out, " + std::to_string(c.records_quarantined) + " quarantined, " +
                  std::to_string(c.records_duplicate) + " duplicate");
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
  m["model_version"] = model_version_;
  m["preprocess_version"] = prep_version_;
  m["prep_config"] = o_.prep.Fingerprint();
  m["finished_at"] = IsoTime(Now());
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
                         {"publish", totals.publish_s}};
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
  return out_->Write(report->manifest_uri, m.dump(2) + "\n");
}

Result<RunReport> Run::Execute() {
  if (o_.input_uri.empty()) return InvalidArgumentError("no input URI");
  if (o_.output_uri.empty()) return InvalidArgumentError("no output URI");
  if (o_.threads < 0) return InvalidArgumentError("threads must be >= 0");
  if (o_.batch_records == 0) return InvalidArgumentError("batch_records must be > 0");
  if (!engine_) return InvalidArgumentError("no inference engine");
  threads_ = o_.threads > 0 ? o_.threads
                            : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  model_version_ = engine_->model_version();
  if (!IsPathSegment(model_version_)) {
    return InvalidArgumentError("model version '" + model_version_ +
                                "' cannot be a path segment (letters, digits, . _ -)");
  }
  prep_version_ = PreprocessVersion(o_.prep);
  LOTE_ASSIGN_OR_RETURN(in_, storage::OpenStorageOr(o_.input_storage, o_.input_uri));
  LOTE_ASSIGN_OR_RETURN(out_, storage::OpenStorageOr(o_.output_storage, o_.output_uri));
  LOTE_ASSIGN_OR_RETURN(catalog_path_, ResolveCatalogPath(o_));
  LOTE_RETURN_IF_ERROR(AcquireLock());
  if (from_stages_) {
    // PublishStaged listed the markers before the lock; an infer stage may have slipped in.
    LOTE_ASSIGN_OR_RETURN(auto now_staged, ListMarkers(*out_, StageFolder(o_.output_uri, "infer")));
    std::vector<std::string> before, after;
    for (const auto& st : staged_) before.push_back(st.key + st.model_version);
    for (const auto& st : now_staged) after.push_back(st.key + st.model_version);
    if (before != after) {
      return FailedPreconditionError(
          "the infer stage changed its output while publish started; "
          "run publish again");
    }
  }
  {
    std::error_code ec;
    auto parent = std::filesystem::path(catalog_path_).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
    if (ec) return UnavailableError("cannot create " + parent.string() + ": " + ec.message());
  }
  LOTE_ASSIGN_OR_RETURN(ledger_, IngestLedger::Open(catalog_path_));
  LOTE_RETURN_IF_ERROR(RecoverPending());

  RunReport report;
  report.model_version = model_version_;
  report.preprocess_version = prep_version_;
  report.catalog_path = catalog_path_;
  std::string run_key = Sha256Hex(o_.input_uri + "\n" + o_.output_uri + "\n" + model_version_ +
                                  "\n" + prep_version_ + "\n" + o_.text_field + "\n" + o_.id_field)
                            .substr(0, 16);
  LOTE_ASSIGN_OR_RETURN(auto unfinished, ledger_->FindUnfinishedRun(run_key));
  if (unfinished.has_value()) {
    run_id_ = unfinished->run_id;
    report.resumed = true;
    Log(LogLevel::kInfo, "resuming unfinished run " + run_id_);
  } else {
    int64_t now = Now();
    std::string stamp = IsoTime(now);  // 2024-05-01T12:34:56.789Z
    std::string compact;
    for (char ch : stamp.substr(0, 19)) {
      if (ch != '-' && ch != ':') compact.push_back(ch);
    }
    run_id_ = compact + "Z-" + Sha256Hex(run_key + std::to_string(now)).substr(0, 6);
    LedgerRun run;
    run.run_id = run_id_;
    run.run_key = run_key;
    run.input = o_.input_uri;
    run.output = o_.output_uri;
    run.model_version = model_version_;
    run.preprocess_version = prep_version_;
    run.started_at = stamp;
    LOTE_RETURN_IF_ERROR(ledger_->CreateRun(run));
  }
  report.run_id = run_id_;

  std::vector<storage::ObjectInfo> listed;
  if (from_stages_) {
    for (const StagedObject& st : staged_) {
      storage::ObjectInfo info;
      info.uri = st.uri;
      info.size = st.size;
      listed.push_back(std::move(info));
    }
  } else {
    LOTE_ASSIGN_OR_RETURN(listed, in_->List(o_.input_uri));
  }
  std::vector<storage::ObjectInfo> objects;
  for (auto& info : listed) {
    if (from_stages_) {  // filtered by ingest; staged_[i] must stay objects[i]
      objects.push_back(std::move(info));
      continue;
    }
    if (!io::FormatFromPath(info.uri, false).ok()) {
      ++report.objects_ignored;
      LogObject(LogLevel::kWarning, "ignoring ", info.uri, ": not .jsonl, .ndjson, .csv or .txt");
      continue;
    }
    auto format = io::FormatFromPath(info.uri, false);
    if (*format != io::Format::kJsonl && *format != io::Format::kCsv &&
        *format != io::Format::kTxt) {
      ++report.objects_ignored;
      LogObject(LogLevel::kWarning, "ignoring ", info.uri, ": not a text record format");
      continue;
    }
    objects.push_back(std::move(info));
  }
  report.objects_listed = objects.size();
  progress_.objects_total = objects.size();
  for (const auto& info : objects) progress_.bytes_total += info.size;

  std::vector<std::string> skipped_uris;
  for (size_t i = 0; i < objects.size(); ++i) {
    const storage::ObjectInfo& info = objects[i];
    uint64_t skipped_before = report.objects_skipped;
    // Handed-over objects all have a text-format URI, so objects[i] is staged_[i].
    const StagedObject* staged = from_stages_ ? &staged_[i] : nullptr;
    LOTE_RETURN_IF_ERROR(ProcessObject(info, staged, &report.objects_skipped));
    if (report.objects_skipped > skipped_before) skipped_uris.push_back(info.uri);
    ++progress_.objects_done;
    progress_.bytes_done += info.size;
    live_bytes_ = 0;
    ReportProgress(true);
  }

  // Every attempt is committed and rolled forward: nothing staged is needed any more.
  LOTE_RETURN_IF_ERROR(out_->DeletePrefix(storage::JoinUri(o_.output_uri, "_staging")));
  LOTE_ASSIGN_OR_RETURN(AttemptCounts totals, ledger_->RunTotals(run_id_));
  LOTE_ASSIGN_OR_RETURN(auto parts, ledger_->RunParts(run_id_));
  uint64_t result_rows = 0, quarantine_rows = 0;
  for (const auto& p : parts) (p.kind == "results" ? result_rows : quarantine_rows) += p.rows;
  LOTE_ASSIGN_OR_RETURN(auto attempts, ledger_->RunAttempts(run_id_));
  report.objects_processed = attempts.size();
  report.counts = RunCounts{totals.records_in, totals.records_out, totals.records_quarantined,
                            totals.records_duplicate, totals.bytes_in};
  report.stages = StageTimes{totals.ingest_s, totals.prep_s, totals.infer_s, totals.publish_s};
  LOTE_ASSIGN_OR_RETURN(report.top_labels, ledger_->TopLabels(run_id_, 10));
  LOTE_ASSIGN_OR_RETURN(report.quarantine_reasons, ledger_->TopQuarantineReasons(run_id_, 10));
  // The published files must hold exactly the rows the counts say, and the counts must add up.
  bool reconciled = totals.records_in == totals.records_out + totals.records_quarantined +
                                             totals.records_duplicate &&
                    result_rows == totals.records_out &&
                    quarantine_rows == totals.records_quarantined;
  LOTE_RETURN_IF_ERROR(WriteManifest(&report, totals, reconciled, skipped_uris));
  Hook("manifest_written");
  report.wall_s = SecondsSince(started_);
  if (!reconciled) {
    (void)ledger_->FinishRun(run_id_, "failed", IsoTime(Now()), totals, report.manifest_uri);
    return InternalError(
        "reconciliation failed for run " + run_id_ + ": records_in " +
        std::to_string(totals.records_in) + " != out " + std::to_string(totals.records_out) +
        " + quarantined " + std::to_string(totals.records_quarantined) + " + duplicate " +
        std::to_string(totals.records_duplicate) + " (rows in files: results " +
        std::to_string(result_rows) + ", quarantine " + std::to_string(quarantine_rows) + ")");
  }
  LOTE_RETURN_IF_ERROR(
      ledger_->FinishRun(run_id_, "succeeded", IsoTime(Now()), totals, report.manifest_uri));
  return report;
}

}  // namespace

Result<std::string> ResolveCatalogPath(const PipelineOptions& options) {
  if (!options.catalog_path.empty()) return options.catalog_path;
  std::shared_ptr<storage::Storage> out = options.output_storage;
  if (!out) {
    LOTE_ASSIGN_OR_RETURN(out, storage::OpenStorage(options.output_uri));
  }
  if (!out->is_local()) {
    return FailedPreconditionError("output " + options.output_uri +
                                   " is not local: give a catalog path (--catalog)");
  }
  return out->LocalPath(storage::JoinUri(options.output_uri, "_catalog/lote.db"));
}

Result<RunReport> RunPipeline(const PipelineOptions& options,
                              std::shared_ptr<const InferenceEngine> engine) {
  Run run(options, std::move(engine));
  return run.Execute();
}

namespace {

// Publish's stand-in for the engine: the records were inferred (and PII-redacted) by the infer
// stage; only the model version is needed.
class HandedOverEngine : public InferenceEngine {
 public:
  explicit HandedOverEngine(std::string model_version) : model_version_(std::move(model_version)) {}
  std::string model_version() const override { return model_version_; }
  std::unique_ptr<InferenceState> NewState() const override {
    return std::make_unique<InferenceState>();
  }
  Status Infer(std::string_view, InferenceState*, InferenceOutput*) const override {
    return InternalError("publish does not run inference");
  }
  std::string RedactText(std::string_view text) const override { return std::string(text); }

 private:
  std::string model_version_;
};

}  // namespace

Result<RunReport> PublishStaged(const PipelineOptions& options) {
  if (options.output_uri.empty()) return InvalidArgumentError("no output URI");
  PipelineOptions o = options;
  o.input_uri = StageFolder(options.output_uri, "infer");
  std::shared_ptr<storage::Storage> out = o.output_storage;
  if (!out) {
    LOTE_ASSIGN_OR_RETURN(out, storage::OpenStorage(o.output_uri));
  }
  o.input_storage = out;
  LOTE_ASSIGN_OR_RETURN(auto staged, ListMarkers(*out, o.input_uri));
  if (staged.empty()) return RunReport();
  const std::string prep_version = PreprocessVersion(o.prep);
  for (const StagedObject& st : staged) {
    if (st.model_version != staged[0].model_version) {
      return FailedPreconditionError("handed-over objects mix model versions (" +
                                     staged[0].model_version + ", " + st.model_version +
                                     "): run infer again with one model");
    }
    if (st.preprocess_version != prep_version) {
      return FailedPreconditionError(st.uri + " was prepared with preprocess version " +
                                     st.preprocess_version + ", this configuration is " +
                                     prep_version + ": give publish the prep stage's config");
    }
  }
  o.text_field = staged[0].text_field;
  o.id_field = staged[0].id_field;
  Run run(o, std::make_shared<HandedOverEngine>(staged[0].model_version), true);
  run.SetStaged(std::move(staged));
  return run.Execute();
}

}  // namespace lote::pipeline
