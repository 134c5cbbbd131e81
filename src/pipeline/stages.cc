// ingest, prep and infer as separate, idempotent steps (see lote/pipeline/stages.h); publish is
// PublishStaged in pipeline.cc, which shares RunPipeline's commit protocol.
#include "lote/pipeline/stages.h"

#include <xxhash.h>

#include <filesystem>
#include <limits>

#include "lote/base/digest.h"
#include "lote/base/ordered_executor.h"
#include "lote/io/records.h"
#include "pipeline/part_writer.h"
#include "pipeline/run.h"
#include "pipeline/run_log.h"
#include "pipeline/stage_files.h"

namespace lote::pipeline {
namespace {

// The shared frame of the three stages: storages, lock, logging.
class StageRunner {
 public:
  StageRunner(Stage stage, const PipelineOptions& o, std::shared_ptr<const InferenceEngine> e)
      : stage_(stage),
        o_(o),
        engine_(std::move(e)),
        clock_(ClockOr(o.clock)),
        log_(o.log, engine_ ? RunLog::Redact([engine = engine_](std::string_view t) {
               return engine->RedactText(t);
             })
                            : RunLog::Redact()) {}

  Result<StageReport> Execute();

 private:
  void Hook(std::string_view point) const {
    if (o_.fault_hook) o_.fault_hook(point);
  }
  Status Ingest();
  Status Prep();
  Status Infer();
  Result<StagedObject> SnapshotObject(const std::string& uri, Ledger* ledger);
  // Writes what `fill` adds into folder/KEY-NNNNN.jsonl.zst, a new part past `part_bytes` of
  // rows; sets data_uris/records.
  Status WriteData(const std::string& folder, StagedObject* object, uint64_t part_bytes,
                   const std::function<Status(PartWriter*)>& fill);

  Stage stage_;
  const PipelineOptions& o_;
  std::shared_ptr<const InferenceEngine> engine_;
  std::shared_ptr<const Clock> clock_;
  RunLog log_;
  std::shared_ptr<storage::Storage> in_, out_;
  StageReport report_;
};

Status StageRunner::WriteData(const std::string& folder, StagedObject* object, uint64_t part_bytes,
                              const std::function<Status(PartWriter*)>& fill) {
  PartWriter writer(out_.get(), storage::JoinUri(folder, object->key), StageName(stage_).data(), "",
                    part_bytes, o_.zstd_level);
  LOTE_RETURN_IF_ERROR(fill(&writer));
  LOTE_RETURN_IF_ERROR(writer.Finish());
  object->records = writer.rows();
  object->data_uris.clear();
  for (const StagedPart& part : writer.parts()) object->data_uris.push_back(part.staged_uri);
  return Status::Ok();
}

// Copies the object to the ingest folder while hashing it. The snapshot is what later stages
// process, so its hash is the object version; a copy during which the object changed (its etag
// moved) may mix two versions and is made again.
Result<StagedObject> StageRunner::SnapshotObject(const std::string& uri, Ledger* ledger) {
  const std::string folder = StageFolder(o_.output_uri, "ingest");
  const std::string tmp_uri = storage::JoinUri(folder, "incoming.raw");
  for (int attempt = 0;; ++attempt) {
    const int64_t t0 = clock_->MonotonicNanos();
    LOTE_ASSIGN_OR_RETURN(storage::ObjectInfo before, in_->Stat(uri));
    XXH3_state_t* state = XXH3_createState();
    XXH3_128bits_reset(state);
    uint64_t size = 0;
    Status copied = [&]() -> Status {
      LOTE_ASSIGN_OR_RETURN(auto source, in_->OpenRead(uri));
      LOTE_ASSIGN_OR_RETURN(auto writer, out_->NewWriter(tmp_uri));
      std::string buf(1 << 16, '\0');
      while (true) {
        LOTE_ASSIGN_OR_RETURN(size_t got, source->Read(buf.data(), buf.size()));
        if (got == 0) break;
        XXH3_128bits_update(state, buf.data(), got);
        size += got;
        LOTE_RETURN_IF_ERROR(writer->Append(std::string_view(buf.data(), got)));
      }
      return writer->Close();
    }();
    XXH128_canonical_t canon;
    XXH128_canonicalFromHash(&canon, XXH3_128bits_digest(state));
    XXH3_freeState(state);
    if (!copied.ok()) {
      (void)out_->Delete(tmp_uri);
      return copied.WithContext(uri);
    }
    LOTE_ASSIGN_OR_RETURN(storage::ObjectInfo after, in_->Stat(uri));
    if (after.etag != before.etag || after.size != size) {
      if (attempt >= o_.max_changed_retries) {
        (void)out_->Delete(tmp_uri);
        return AbortedError(uri + " kept changing while being read (" +
                            std::to_string(attempt + 1) + " attempts)");
      }
      log_.Object(LogLevel::kWarning, "", uri, " changed while being read; reading it again");
      continue;
    }
    StagedObject o;
    o.uri = uri;
    o.size = size;
    o.content_id = "xxh3:" + HexEncode(canon.digest, sizeof(canon.digest));
    o.key = StageKey(o.uri, o.content_id);
    LOTE_ASSIGN_OR_RETURN(int64_t object_id, ledger->ObjectVersion(o.uri, o.size, o.content_id));
    LOTE_ASSIGN_OR_RETURN(auto done, ledger->DoneAttempt(object_id));
    if ((done.has_value() && !o_.force) || ReadMarker(*out_, folder, o.key).ok()) {
      (void)out_->Delete(tmp_uri);
      o.key.clear();  // skipped
      return o;
    }
    // Keep the object's extensions (".jsonl.gz"): readers pick decompression by name.
    std::string_view base = std::string_view(uri).substr(uri.rfind('/') + 1);
    size_t dot = base.find('.');
    o.data_uris = {storage::JoinUri(
        folder,
        o.key + ".snapshot" + std::string(dot == std::string_view::npos ? "" : base.substr(dot)))};
    LOTE_RETURN_IF_ERROR(out_->Rename(tmp_uri, o.data_uris[0]));
    Hook("snapshot_written");
    o.ingest_s = clock_->SecondsSince(t0);
    return o;
  }
}

Status StageRunner::Ingest() {
  if (o_.input_uri.empty()) return InvalidArgumentError("no input URI");
  uint64_t escaped = 0;
  LOTE_ASSIGN_OR_RETURN(in_, OpenInputStorage(o_, [&](std::string_view uri) {
                          ++escaped;
                          log_.Object(LogLevel::kWarning, "ignoring ", uri,
                                      ": a symlink to a file outside the input folder (set "
                                      "follow_symlinks to read it)");
                        }));
  LOTE_RETURN_IF_ERROR(CheckSeparateLocations(*in_, *out_, o_));
  // Read only here (which objects are done): the lock is not held, so an object-store ledger is
  // opened as a reader.
  PipelineOptions lo = o_;
  lo.output_storage = out_;
  std::string catalog;
  LOTE_ASSIGN_OR_RETURN(
      std::shared_ptr<Ledger> ledger,
      OpenOutputLedger(
          lo, /*writer=*/false,
          [this](const std::string& line) { log_.Line(LogLevel::kInfo, line); }, &catalog));
  LOTE_ASSIGN_OR_RETURN(auto listed, in_->List(o_.input_uri));
  const std::string folder = StageFolder(o_.output_uri, "ingest");
  for (const auto& info : listed) {
    auto format = io::FormatFromPath(info.uri, false);
    if (!format.ok() || (*format != io::Format::kJsonl && *format != io::Format::kCsv &&
                         *format != io::Format::kTxt)) {
      log_.Object(LogLevel::kWarning, "ignoring ", info.uri, ": not .jsonl, .ndjson, .csv or .txt");
      continue;
    }
    ++report_.objects_pending;
    LOTE_ASSIGN_OR_RETURN(StagedObject o, SnapshotObject(info.uri, ledger.get()));
    if (o.key.empty()) {
      ++report_.objects_skipped;
      continue;
    }
    o.records = 0;
    LOTE_RETURN_IF_ERROR(WriteMarker(out_.get(), folder, &o));
    ++report_.objects_done;
    report_.bytes += o.size;
    log_.Object(LogLevel::kInfo, "ingested ", o.uri, " (" + std::to_string(o.size) + " bytes)");
  }
  return Status::Ok();
}

Status StageRunner::Prep() {
  if (o_.prep.dedup_content && o_.fingerprint_key.empty()) {
    return InvalidArgumentError(
        "dedup by content needs the PII key: content fingerprints are keyed so that nobody can "
        "recover a text from them (give pii.key_file / --pii-key-file or LOTE_PII_KEY)");
  }
  const std::string from = StageFolder(o_.output_uri, "ingest");
  const std::string to = StageFolder(o_.output_uri, "prep");
  const std::string prep_version = PreprocessVersion(o_.prep);
  Preprocessor prep(o_.prep);
  std::unique_ptr<KeyedHash> text_hash, content_hash;
  if (!o_.fingerprint_key.empty()) {
    text_hash = std::make_unique<KeyedHash>(o_.fingerprint_key, "text");
    if (o_.prep.dedup_content) {
      content_hash = std::make_unique<KeyedHash>(o_.fingerprint_key, "content");
    }
  }
  LOTE_ASSIGN_OR_RETURN(auto pending, ListMarkers(*out_, from));
  for (StagedObject o : pending) {
    ++report_.objects_pending;
    auto existing = ReadMarker(*out_, to, o.key);
    if (existing.ok() && existing->preprocess_version == prep_version &&
        existing->text_field == o_.text_field && existing->id_field == o_.id_field) {
      ++report_.objects_skipped;
      continue;
    }
    const int64_t t0 = clock_->MonotonicNanos();
    LOTE_ASSIGN_OR_RETURN(io::Format format, io::FormatFromPath(o.uri, false));
    if (o.data_uris.size() != 1) {
      return DataLossError(o.marker_uri + ": an ingest marker names one snapshot");
    }
    LOTE_ASSIGN_OR_RETURN(auto raw, out_->OpenRead(o.data_uris[0]));
    io::TextReaderOptions ro;
    ro.text_field = o_.text_field;
    if (format != io::Format::kTxt) ro.id_field = o_.id_field;
    ro.max_record_bytes = o_.max_record_bytes;
    LOTE_ASSIGN_OR_RETURN(
        auto reader, io::MakeTextRecordReader(format, io::MaybeDecompress(std::move(raw)), ro));
    o.text_field = o_.text_field;
    o.id_field = o_.id_field;
    o.preprocess_version = prep_version;
    uint64_t quarantined = 0;
    LOTE_RETURN_IF_ERROR(
        WriteData(to, &o, o_.prep_part_bytes, [&](PartWriter* w) -> Status {
          io::TextRecord rec;
          StageRecord r;
          PrepResult pr;
          while (true) {
            auto next = reader->Next(&rec);
            r = StageRecord();
            if (!next.ok()) {
              // As RunPipeline: transient I/O fails the stage; a broken object is one quarantine
              // entry after the records read before the break; a bad record is quarantined.
              if (reader->failed() && next.status().code() == StatusCode::kUnavailable) {
                return next.status();
              }
              const io::RecordError& error = reader->last_error();
              r.line = error.line;
              r.reason = error.reason;
              r.stage = "ingest";
              if (reader->failed()) {
                r.record_id = o.uri;
                r.reason = "unreadable object: " + r.reason;
              } else {
                r.record_id = o.uri + ":" + std::to_string(r.line);
              }
            } else if (!*next) {
              break;
            } else {
              r.line = rec.line;
              r.record_id = rec.id.empty() ? o.uri + ":" + std::to_string(rec.line) : rec.id;
              if (text_hash) r.text_hmac = text_hash->HexDigest(rec.text);
              Status s = prep.Process(rec.text, &pr);
              if (!s.ok()) {
                r.stage = "prep";
                r.reason = s.message();
              } else {
                r.text = pr.text;
                r.lang = pr.lang;
                if (content_hash) r.content_key = content_hash->HexDigest(pr.text);
              }
            }
            if (!r.stage.empty()) ++quarantined;
            LOTE_RETURN_IF_ERROR(w->AddRow(EncodeStageRecord(r)));
            if (reader->failed()) break;
          }
          // An object without records still gets its (empty) part: the transform manifest lists
          // parts, and its answer names the model that had nothing to infer.
          return w->OpenIfNone();
        }).WithContext(o.uri));
    o.prep_s = clock_->SecondsSince(t0);
    LOTE_RETURN_IF_ERROR(WriteMarker(out_.get(), to, &o));
    ++report_.objects_done;
    report_.records += o.records;
    report_.records_quarantined += quarantined;
  }
  return Status::Ok();
}

// A batch of the infer stage.
struct StageBatch {
  std::vector<StageRecord> records;
  size_t size = 0;
};

Status StageRunner::Infer() {
  if (!engine_) return InvalidArgumentError("the infer stage needs an inference engine");
  const std::string from = StageFolder(o_.output_uri, "prep");
  const std::string to = StageFolder(o_.output_uri, "infer");
  const std::string model_version = engine_->model_version();
  // Shadow scoring: the challenger scores every record the champion scored, and its prediction
  // travels beside the champion's to publish, which writes the shadow rows.
  const std::shared_ptr<const InferenceEngine> shadow = o_.shadow;
  const std::string shadow_version = shadow ? shadow->model_version() : "";
  if (shadow && shadow_version == model_version) {
    return InvalidArgumentError("the shadow model is the model itself (" + model_version + ")");
  }
  const monitoring::Profile* reference = engine_->reference_profile();
  if (reference != nullptr) {
    LOTE_RETURN_IF_ERROR(WriteStagedReference(out_.get(), to, model_version, *reference));
  }
  // Terms are counted here, where the classifier's tokens are at hand, and handed to publish in
  // the marker (the stage files carry no text).
  const bool count_terms = o_.monitor && reference != nullptr && !reference->terms().empty();
  monitoring::TermSampler sampler;
  OrderedExecutorOptions eo;
  eo.threads = o_.threads > 0 ? o_.threads : UsableCpuCount();
  eo.max_inflight = o_.max_inflight_batches;
  LOTE_ASSIGN_OR_RETURN(auto pending, ListMarkers(*out_, from));
  for (StagedObject o : pending) {
    ++report_.objects_pending;
    auto existing = ReadMarker(*out_, to, o.key);
    if (existing.ok() && existing->model_version == model_version &&
        existing->shadow_model_version == shadow_version &&
        existing->preprocess_version == o.preprocess_version) {
      ++report_.objects_skipped;
      continue;
    }
    const int64_t t0 = clock_->MonotonicNanos();
    std::unique_ptr<StageRecordReader> reader;
    if (!o.data_uris.empty()) {
      LOTE_ASSIGN_OR_RETURN(reader, StageRecordReader::Open(*out_, o.data_uris));
    }
    uint64_t quarantined = 0;
    o.model_version = model_version;
    o.shadow_model_version = shadow_version;
    std::vector<std::shared_ptr<monitoring::TermCounts>> worker_terms;
    // One file: infer's rows carry no text.
    LOTE_RETURN_IF_ERROR(
        WriteData(to, &o, std::numeric_limits<uint64_t>::max(), [&](PartWriter* w) -> Status {
          if (reader == nullptr) return Status::Ok();
          return RunOrdered<StageBatch>(
              eo,
              [&](StageBatch* b) -> Result<bool> {
                b->size = 0;
                size_t bytes = 0;
                while (b->size < o_.batch_records && bytes < o_.batch_bytes) {
                  if (b->size == b->records.size()) b->records.emplace_back();
                  StageRecord& r = b->records[b->size];
                  LOTE_ASSIGN_OR_RETURN(bool more, reader->Next(&r));
                  if (!more) break;
                  bytes += r.text.size();
                  ++b->size;
                }
                return b->size > 0;
              },
              [&]() -> std::function<Status(StageBatch*)> {
                auto inferer = std::make_shared<StageRecordInferer>(*engine_, shadow.get());
                std::shared_ptr<monitoring::TermCounts> terms;
                if (count_terms) {
                  terms = std::make_shared<monitoring::TermCounts>();
                  worker_terms.push_back(terms);
                }
                return [inferer, terms, &sampler](StageBatch* b) -> Status {
                  for (size_t i = 0; i < b->size; ++i) {
                    StageRecord& r = b->records[i];
                    if (inferer->Infer(&r) && terms) {
                      inferer->CountTerms(r.record_id, &sampler, terms.get());
                    }
                  }
                  return Status::Ok();
                };
              },
              [&](StageBatch* b) -> Status {
                for (size_t i = 0; i < b->size; ++i) {
                  StageRecord& r = b->records[i];
                  if (!r.stage.empty()) {
                    // Everything written from here on follows the PII policy.
                    r.reason = engine_->RedactText(r.reason);
                    ++quarantined;
                  }
                  LOTE_RETURN_IF_ERROR(w->AddRow(EncodeStageRecord(r)));
                }
                Hook("infer_batch_written");
                return Status::Ok();
              });
        }).WithContext(o.uri));
    o.infer_s = clock_->SecondsSince(t0);
    if (count_terms) {
      monitoring::TermCounts terms;
      for (const auto& w : worker_terms) terms.Merge(*w);
      o.terms_json = terms.ToJson();
    }
    LOTE_RETURN_IF_ERROR(WriteMarker(out_.get(), to, &o));
    ++report_.objects_done;
    report_.records += o.records;
    report_.records_quarantined += quarantined;
  }
  return Status::Ok();
}

Result<StageReport> StageRunner::Execute() {
  const int64_t t0 = clock_->MonotonicNanos();
  if (o_.output_uri.empty()) return InvalidArgumentError("no output URI");
  if (o_.batch_records == 0 || o_.batch_bytes == 0) {
    return InvalidArgumentError("batch_records and batch_bytes must be > 0");
  }
  if (o_.threads < 0 || o_.threads > kMaxThreads) {
    return InvalidArgumentError("threads must be between 0 and " + std::to_string(kMaxThreads));
  }
  report_.stage = stage_;
  LOTE_ASSIGN_OR_RETURN(out_, storage::OpenStorageOr(o_.output_storage, o_.output_uri));
  LOTE_ASSIGN_OR_RETURN(
      auto lock, AcquireOutputLock(out_.get(), o_.output_uri, o_.lock_wait_seconds, *clock_));
  switch (stage_) {
    case Stage::kIngest:
      LOTE_RETURN_IF_ERROR(Ingest());
      break;
    case Stage::kPrep:
      LOTE_RETURN_IF_ERROR(Prep());
      break;
    case Stage::kInfer:
      LOTE_RETURN_IF_ERROR(Infer());
      break;
    case Stage::kPublish:
      return InvalidArgumentError("publish: use PublishStaged");
  }
  report_.wall_s = clock_->SecondsSince(t0);
  return report_;
}

}  // namespace

std::string_view StageName(Stage stage) {
  switch (stage) {
    case Stage::kIngest:
      return "ingest";
    case Stage::kPrep:
      return "prep";
    case Stage::kInfer:
      return "infer";
    case Stage::kPublish:
      return "publish";
  }
  return "?";
}

Result<StageReport> RunStage(Stage stage, const PipelineOptions& options,
                             std::shared_ptr<const InferenceEngine> engine) {
  if (options.shadow && stage != Stage::kInfer) {
    return InvalidArgumentError(
        "a shadow model scores records in the infer stage (or lote run), not in " +
        std::string(StageName(stage)));
  }
  StageRunner runner(stage, options, std::move(engine));
  return runner.Execute();
}

}  // namespace lote::pipeline
