// The infer stage as Batch Transform requests (lote/pipeline/transform.h, docs/adr/0015).
#include "lote/pipeline/transform.h"

#include <zstd.h>

#include <algorithm>
#include <atomic>
#include <limits>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>

#include "lote/base/digest.h"
#include "lote/base/ordered_executor.h"
#include "lote/base/parallel_for.h"
#include "lote/io/byte_source.h"
#include "lote/monitoring/terms.h"
#include "pipeline/part_writer.h"
#include "pipeline/stage_files.h"

namespace lote::pipeline {
namespace {

using nlohmann::json;

// The trailer line's key: stage records always have "id", never this.
constexpr std::string_view kTrailerKey = "lote_transform";
constexpr int kTrailerVersion = 1;
constexpr std::string_view kOutSuffix = ".out";

// Lines compressed into a string, one zstd frame.
class ZstdStringWriter {
 public:
  explicit ZstdStringWriter(int level)
      : zstd_(level, [this](std::string_view chunk) {
          out_.append(chunk);
          return Status::Ok();
        }) {}
  Status AddLine(std::string_view line) { return zstd_.AddLine(line); }
  Result<std::string> Finish() {
    LOTE_RETURN_IF_ERROR(zstd_.EndFrame());
    return std::move(out_);
  }

 private:
  std::string out_;
  ZstdLineCompressor zstd_;
};

// The lines of a zstd stream held in memory, with the decompressed bytes bounded.
class ZstdLines {
 public:
  ZstdLines(std::string_view bytes, std::string name, uint64_t max_bytes)
      : source_(io::MakeZstdSource(io::MakeStringSource(bytes, std::move(name)))),
        lines_(source_.get()),
        max_bytes_(max_bytes) {}
  Result<bool> Next(std::string* line) {
    LOTE_ASSIGN_OR_RETURN(bool more, lines_.Next(line));
    if (!more) return false;
    bytes_ += line->size() + 1;
    if (bytes_ > max_bytes_) {
      return ResourceExhaustedError(source_->name() + ": more than " + std::to_string(max_bytes_) +
                                    " bytes of rows");
    }
    return true;
  }
  uint64_t line_number() const { return lines_.line_number(); }
  const std::string& name() const { return source_->name(); }

 private:
  std::unique_ptr<io::ByteSource> source_;
  io::LineReader lines_;
  uint64_t max_bytes_;
  uint64_t bytes_ = 0;
};

std::string Basename(std::string_view uri) {
  const size_t slash = uri.rfind('/');
  return std::string(slash == std::string_view::npos ? uri : uri.substr(slash + 1));
}

// A folder URI with exactly one trailing '/'.
std::string WithSlash(std::string_view uri) {
  std::string s(uri);
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s + "/";
}

// What an .out's trailer says.
struct Trailer {
  std::string model_version, shadow_model_version;
  std::string part_sha256;  // of the prep part answered
  uint64_t records = 0, quarantined = 0;
  std::string terms_json, reference_json;
};

Status ParseTrailer(std::string_view line, const std::string& where, Trailer* t) {
  try {
    json j = json::parse(line);
    const json& v = j.at(std::string(kTrailerKey));
    if (v.at("version").get<int>() != kTrailerVersion) {
      return DataLossError(where + ": transform trailer version " + v.at("version").dump() +
                           " (this lote reads " + std::to_string(kTrailerVersion) + ")");
    }
    t->model_version = v.at("model_version").get<std::string>();
    t->shadow_model_version = v.value("shadow_model_version", "");
    t->part_sha256 = v.at("part_sha256").get<std::string>();
    t->records = v.at("records").get<uint64_t>();
    t->quarantined = v.at("quarantined").get<uint64_t>();
    t->terms_json = v.value("terms", "");
    t->reference_json = v.value("reference", "");
  } catch (const json::exception& e) {
    return DataLossError(
        where + ": not a lote transform output (its last line is no trailer: " + e.what() + ")");
  }
  return Status::Ok();
}

// An answer is two zstd frames: the rows (the infer data file as it is) and the trailer line.
// Splits them; DataLoss when there is no second frame.
Status SplitAnswer(std::string_view answer, const std::string& where, std::string_view* rows,
                   std::string* trailer) {
  const size_t first = ZSTD_findFrameCompressedSize(answer.data(), answer.size());
  if (ZSTD_isError(first) || first >= answer.size()) {
    return DataLossError(where + ": no transform trailer (a truncated answer, or not one)");
  }
  *rows = answer.substr(0, first);
  auto source =
      io::MakeZstdSource(io::MakeStringSource(answer.substr(first), where + " (trailer)"));
  io::LineReader lines(source.get(), 64 << 20);
  LOTE_ASSIGN_OR_RETURN(bool got, lines.Next(trailer));
  std::string extra;
  LOTE_ASSIGN_OR_RETURN(bool more, lines.Next(&extra));
  if (!got || more) return DataLossError(where + ": the trailer frame is not one line");
  return Status::Ok();
}

// The lines of a zstd stream, counted (its checksum checked on the way).
Result<uint64_t> CountLines(std::string_view zst, const std::string& where) {
  ZstdLines lines(zst, where, std::numeric_limits<uint64_t>::max());
  std::string line;
  uint64_t n = 0;
  while (true) {
    LOTE_ASSIGN_OR_RETURN(bool more, lines.Next(&line));
    if (!more) return n;
    ++n;
  }
}

Result<std::shared_ptr<storage::Storage>> OutputStorage(const PipelineOptions& o) {
  if (o.output_uri.empty()) return InvalidArgumentError("no output URI");
  return storage::OpenStorageOr(o.output_storage, o.output_uri);
}

}  // namespace

Result<std::string> TransformPart(std::string_view part, std::string_view name,
                                  const TransformPartOptions& o, TransformPartCounts* counts) {
  if (o.engine == nullptr) return InvalidArgumentError("a transform needs an inference engine");
  const std::string model_version = o.engine->model_version();
  if (o.shadow != nullptr && o.shadow->model_version() == model_version) {
    return InvalidArgumentError("the shadow model is the model itself (" + model_version + ")");
  }
  const monitoring::Profile* reference = o.engine->reference_profile();
  const bool count_terms = o.count_terms && reference != nullptr && !reference->terms().empty();
  StageRecordInferer inferer(*o.engine, o.shadow);
  monitoring::TermSampler sampler;
  monitoring::TermCounts terms;
  ZstdStringWriter out(o.zstd_level);
  ZstdLines lines(part, std::string(name), o.max_rows_bytes);
  std::string line;
  StageRecord r;
  uint64_t records = 0, quarantined = 0;
  while (true) {
    LOTE_ASSIGN_OR_RETURN(bool more, lines.Next(&line));
    if (!more) break;
    const std::string where = lines.name() + ":" + std::to_string(lines.line_number());
    LOTE_RETURN_IF_ERROR(DecodeStageRecord(line, &r).WithContext(where));
    if (r.has_label || !r.entities_json.empty() || r.signals.observed) {
      return DataLossError(where + ": the record was inferred already (not a prep part)");
    }
    if (inferer.Infer(&r) && count_terms) inferer.CountTerms(r.record_id, &sampler, &terms);
    // Everything written from here on follows the PII policy.
    if (!r.stage.empty()) {
      r.reason = o.engine->RedactText(r.reason);
      ++quarantined;
    }
    LOTE_RETURN_IF_ERROR(out.AddLine(EncodeStageRecord(r)));
    ++records;
  }
  LOTE_ASSIGN_OR_RETURN(std::string answer, out.Finish());
  json trailer = {{"version", kTrailerVersion},
                  {"model_version", model_version},
                  {"part_sha256", Sha256Hex(part)},
                  {"records", records},
                  {"quarantined", quarantined}};
  if (o.shadow != nullptr) trailer["shadow_model_version"] = o.shadow->model_version();
  if (count_terms) trailer["terms"] = terms.ToJson();
  if (reference != nullptr) trailer["reference"] = reference->ToJson();
  // The trailer is a frame of its own: the rows' frame is then the infer data file byte for byte.
  ZstdStringWriter tail(o.zstd_level);
  LOTE_RETURN_IF_ERROR(tail.AddLine(json{{std::string(kTrailerKey), std::move(trailer)}}.dump(
      -1, ' ', false, json::error_handler_t::replace)));
  LOTE_ASSIGN_OR_RETURN(std::string tail_bytes, tail.Finish());
  answer += tail_bytes;
  if (counts != nullptr) *counts = {records, quarantined};
  return answer;
}

Result<TransformManifest> WriteTransformManifest(const PipelineOptions& o,
                                                 std::string_view manifest_uri) {
  LOTE_ASSIGN_OR_RETURN(auto out, OutputStorage(o));
  const Clock& clock = *ClockOr(o.clock);
  LOTE_ASSIGN_OR_RETURN(auto lock,
                        AcquireOutputLock(out.get(), o.output_uri, o.lock_wait_seconds, clock));
  const std::string prep = StageFolder(o.output_uri, "prep");
  const std::string infer = StageFolder(o.output_uri, "infer");
  TransformManifest m;
  if (manifest_uri.empty()) return InvalidArgumentError("no manifest URI");
  m.uri = std::string(manifest_uri);
  json entries = json::array({json{{"prefix", WithSlash(prep)}}});
  LOTE_ASSIGN_OR_RETURN(auto pending, ListMarkers(*out, prep));
  for (const StagedObject& p : pending) {
    auto done = ReadMarker(*out, infer, p.key);
    if (done.ok()) continue;
    if (done.status().code() != StatusCode::kNotFound) return done.status();
    // None only for an object without records that an older lote prepared.
    const std::vector<std::string>& parts = p.data_uris;
    if (parts.empty()) {
      return FailedPreconditionError(
          p.uri +
          " was prepared by an older lote (no data part for an object without records): "
          "run `lote infer` on this output once, or prep it again");
    }
    for (const std::string& part : parts) entries.push_back(Basename(part));
    m.parts += parts.size();
    ++m.objects;
  }
  LOTE_RETURN_IF_ERROR(out->Write(m.uri, entries.dump(1) + "\n"));
  return m;
}

Result<TransformJobReport> RunTransformManifest(const PipelineOptions& o,
                                                std::string_view manifest_uri,
                                                std::string_view output_prefix,
                                                const TransformPartOptions& part_options,
                                                int threads) {
  const Clock& clock = *ClockOr(o.clock);
  const int64_t t0 = clock.MonotonicNanos();
  const std::string manifest(manifest_uri);
  LOTE_ASSIGN_OR_RETURN(auto store, storage::OpenStorageOr(o.output_storage, manifest));
  LOTE_ASSIGN_OR_RETURN(std::string text, store->Read(manifest));
  std::string prefix;
  std::vector<std::string> entries;
  try {
    json j = json::parse(text);
    if (!j.is_array() || j.empty() || !j[0].is_object() || !j[0].contains("prefix")) {
      return InvalidArgumentError(manifest +
                                  ": a manifest is an array whose first element is "
                                  "{\"prefix\": ...}");
    }
    prefix = j[0]["prefix"].get<std::string>();
    for (size_t i = 1; i < j.size(); ++i) {
      if (!j[i].is_string()) {
        return InvalidArgumentError(manifest + ": entry " + std::to_string(i) + " is not a string");
      }
      std::string entry = j[i].get<std::string>();
      if (entry.empty() || entry.front() == '/' || entry.find("..") != std::string::npos) {
        return InvalidArgumentError(manifest + ": entry " + std::to_string(i) +
                                    " is not a relative key");
      }
      entries.push_back(std::move(entry));
    }
  } catch (const json::exception& e) {
    return InvalidArgumentError(manifest + ": not a manifest: " + e.what());
  }
  if (entries.empty()) {
    return InvalidArgumentError(manifest +
                                ": the manifest lists no object (a transform job "
                                "needs input)");
  }
  LOTE_ASSIGN_OR_RETURN(auto in, storage::OpenStorageOr(o.output_storage, prefix));
  LOTE_ASSIGN_OR_RETURN(auto dest,
                        storage::OpenStorageOr(o.output_storage, std::string(output_prefix)));
  const int workers = threads > 0 ? threads : UsableCpuCount();
  std::atomic<uint64_t> bytes_in{0}, bytes_out{0};
  std::mutex mu;
  Status first = Status::Ok();
  ParallelFor(entries.size(), workers, [&](int, size_t i) {
    {
      std::lock_guard<std::mutex> lock(mu);
      if (!first.ok()) return;  // the job fails as a whole: no more requests
    }
    const std::string uri = WithSlash(prefix) + entries[i];
    Status s = [&]() -> Status {
      LOTE_ASSIGN_OR_RETURN(std::string part, in->Read(uri));
      LOTE_ASSIGN_OR_RETURN(std::string answer, TransformPart(part, uri, part_options));
      bytes_in.fetch_add(part.size(), std::memory_order_relaxed);
      bytes_out.fetch_add(answer.size(), std::memory_order_relaxed);
      return dest->Write(storage::JoinUri(output_prefix, entries[i] + std::string(kOutSuffix)),
                         answer);
    }();
    if (!s.ok()) {
      std::lock_guard<std::mutex> lock(mu);
      if (first.ok()) first = s;
    }
  });
  LOTE_RETURN_IF_ERROR(first);
  TransformJobReport report;
  report.parts = entries.size();
  report.bytes_in = bytes_in.load();
  report.bytes_out = bytes_out.load();
  report.wall_s = clock.SecondsSince(t0);
  return report;
}

Result<StageReport> ImportTransformOutput(const PipelineOptions& o,
                                          std::string_view transform_output) {
  const Clock& clock = *ClockOr(o.clock);
  const int64_t t0 = clock.MonotonicNanos();
  LOTE_ASSIGN_OR_RETURN(auto out, OutputStorage(o));
  LOTE_ASSIGN_OR_RETURN(auto lock,
                        AcquireOutputLock(out.get(), o.output_uri, o.lock_wait_seconds, clock));
  LOTE_ASSIGN_OR_RETURN(auto results,
                        storage::OpenStorageOr(o.output_storage, std::string(transform_output)));
  const std::string from = WithSlash(transform_output);
  // The .out files by name.
  std::map<std::string, std::string> outs;
  {
    auto listed = results->List(from);
    if (!listed.ok() && listed.status().code() != StatusCode::kNotFound) return listed.status();
    if (listed.ok()) {
      for (const auto& info : *listed) {
        std::string name = info.uri.substr(std::min(info.uri.size(), from.size()));
        if (name.ends_with(kOutSuffix) && name.find('/') == std::string::npos) {
          outs[name.substr(0, name.size() - kOutSuffix.size())] = info.uri;
        }
      }
    }
  }
  const std::string prep = StageFolder(o.output_uri, "prep");
  const std::string infer = StageFolder(o.output_uri, "infer");
  StageReport report;
  report.stage = Stage::kInfer;
  std::string model_version, shadow_version;
  std::vector<std::string> imported;
  LOTE_ASSIGN_OR_RETURN(auto pending, ListMarkers(*out, prep));
  for (StagedObject p : pending) {
    ++report.objects_pending;
    const std::vector<std::string> parts = p.data_uris;
    auto done = ReadMarker(*out, infer, p.key);
    if (done.ok()) {
      ++report.objects_skipped;
      // Imported before a kill took the .out files' deletion: finish it.
      for (const std::string& part : parts) {
        if (auto it = outs.find(Basename(part)); it != outs.end()) imported.push_back(it->second);
      }
      continue;
    }
    if (done.status().code() != StatusCode::kNotFound) return done.status();
    if (parts.empty()) continue;  // left for `lote infer` (see WriteTransformManifest)
    bool all = true;
    for (const std::string& part : parts) all = all && outs.count(Basename(part)) > 0;
    if (!all) continue;  // not transformed yet
    const int64_t t1 = clock.MonotonicNanos();
    monitoring::TermCounts terms;
    bool counted_terms = false;
    uint64_t records = 0, quarantined = 0;
    std::vector<std::string> data_uris;
    for (size_t i = 0; i < parts.size(); ++i) {
      const std::string& part = parts[i];
      const std::string& out_uri = outs[Basename(part)];
      LOTE_ASSIGN_OR_RETURN(std::string answer, results->Read(out_uri));
      std::string_view rows;
      std::string trailer_line;
      LOTE_RETURN_IF_ERROR(SplitAnswer(answer, out_uri, &rows, &trailer_line));
      Trailer t;
      LOTE_RETURN_IF_ERROR(ParseTrailer(trailer_line, out_uri, &t));
      // The answer names the bytes it answered: exactly this part, so its rows are this part's
      // records, in order.
      LOTE_ASSIGN_OR_RETURN(std::string prepped, out->Read(part));
      if (t.part_sha256 != Sha256Hex(prepped)) {
        return DataLossError(out_uri + " does not answer " + part +
                             " (it answers other bytes: another part, or an earlier prep of it)");
      }
      LOTE_ASSIGN_OR_RETURN(uint64_t n, CountLines(rows, out_uri));
      if (n != t.records || t.quarantined > n) {
        return DataLossError(out_uri + ": holds " + std::to_string(n) + " rows, its trailer says " +
                             std::to_string(t.records));
      }
      if (model_version.empty()) {
        model_version = t.model_version;
        shadow_version = t.shadow_model_version;
        if (!t.reference_json.empty()) {
          LOTE_ASSIGN_OR_RETURN(auto profile, monitoring::Profile::FromJson(t.reference_json));
          LOTE_RETURN_IF_ERROR(WriteStagedReference(out.get(), infer, model_version, profile));
        }
      } else if (t.model_version != model_version || t.shadow_model_version != shadow_version) {
        return FailedPreconditionError(out_uri + " was answered by model " + t.model_version +
                                       " (shadow '" + t.shadow_model_version + "'), others by " +
                                       model_version + " (shadow '" + shadow_version + "')");
      }
      if (!t.terms_json.empty()) {
        LOTE_ASSIGN_OR_RETURN(auto part_terms, monitoring::TermCounts::FromJson(t.terms_json));
        terms.Merge(part_terms);
        counted_terms = true;
      }
      if (n > 0) {
        data_uris.push_back(storage::JoinUri(infer, p.key + PartSuffix(i)));
        LOTE_RETURN_IF_ERROR(out->Write(data_uris.back(), rows));
      }
      records += n;
      quarantined += t.quarantined;
      imported.push_back(out_uri);
    }
    p.records = records;
    p.data_uris = std::move(data_uris);
    p.model_version = model_version;
    p.shadow_model_version = shadow_version;
    p.terms_json = counted_terms ? terms.ToJson() : "";
    p.infer_s = clock.SecondsSince(t1);
    LOTE_RETURN_IF_ERROR(WriteMarker(out.get(), infer, &p).WithContext(p.uri));
    ++report.objects_done;
    report.records += p.records;
    report.records_quarantined += quarantined;
  }
  // The answers are in the infer stage's files now.
  for (const std::string& uri : imported) {
    Status s = results->Delete(uri);
    if (!s.ok() && s.code() != StatusCode::kNotFound) return s;
  }
  // The job's manifest goes once every object it lists is imported.
  const std::string manifest_uri = from + std::string(kTransformManifestName);
  if (auto text = results->Read(manifest_uri); text.ok()) {
    json entries = json::parse(*text, nullptr, /*allow_exceptions=*/false);
    bool all_done = entries.is_array();
    for (size_t i = 1; all_done && i < entries.size(); ++i) {
      const std::string name = entries[i].is_string() ? entries[i].get<std::string>() : "";
      const size_t dash = name.rfind('-');
      all_done = dash != std::string::npos &&
                 ReadMarker(*out, infer, std::string_view(name).substr(0, dash)).ok();
    }
    if (all_done) {
      Status s = results->Delete(manifest_uri);
      if (!s.ok() && s.code() != StatusCode::kNotFound) return s;
      // Nothing of the job is left: the folder goes too (a local output keeps no empty folder
      // per execution).
      if (imported.size() == outs.size()) {
        s = results->DeletePrefix(from);
        if (!s.ok() && s.code() != StatusCode::kNotFound) return s;
      }
    }
  }
  report.wall_s = clock.SecondsSince(t0);
  return report;
}

}  // namespace lote::pipeline
