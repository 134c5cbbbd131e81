// Late labels: read and check a labels file into a private temporary database, then, holding the
// output lock, match, write and record it (see lote/pipeline/feedback.h).
#include "lote/pipeline/feedback.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <limits>
#include <nlohmann/json.hpp>

#include "io/text_checks.h"
#include "lote/base/digest.h"
#include "lote/io/records.h"
#include "lote/text/utf8.h"
#include "pipeline/part_writer.h"
#include "pipeline/sqlite_db.h"
#include "pipeline/stage_files.h"

namespace lote::pipeline {
namespace {

using Json = nlohmann::ordered_json;

constexpr std::string_view kIdColumn = "record_id";
constexpr std::string_view kLabelColumn = "label";
constexpr std::string_view kFirstLedgerEntry = "_ledger/log/00000000000000000000.json";

bool EndsWith(std::string_view s, std::string_view suffix) {
  if (s.size() < suffix.size()) return false;
  for (size_t i = 0; i < suffix.size(); ++i) {
    const char c = s[s.size() - suffix.size() + i];
    if ((c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c) != suffix[i]) return false;
  }
  return true;
}

// A source that gives back the bytes it was peeked for, then the rest of `inner`.
class PeekedSource : public io::ByteSource {
 public:
  PeekedSource(std::unique_ptr<io::ByteSource> inner, std::string head)
      : inner_(std::move(inner)), head_(std::move(head)) {}
  Result<size_t> Read(char* buf, size_t n) override {
    if (pos_ < head_.size()) {
      const size_t k = std::min(n, head_.size() - pos_);
      std::memcpy(buf, head_.data() + pos_, k);
      pos_ += k;
      return k;
    }
    return inner_->Read(buf, n);
  }
  const std::string& name() const override { return inner_->name(); }

 private:
  std::unique_ptr<io::ByteSource> inner_;
  std::string head_;
  size_t pos_ = 0;
};

// kAuto: the first non-blank byte (after a UTF-8 byte order mark) of the first 4 KiB decides.
Result<LabelsFormat> SniffFormat(std::unique_ptr<io::ByteSource>* source) {
  std::string head(4096, '\0');
  size_t got = 0;
  while (got < head.size()) {
    LOTE_ASSIGN_OR_RETURN(size_t n, (*source)->Read(head.data() + got, head.size() - got));
    if (n == 0) break;
    got += n;
  }
  head.resize(got);
  size_t i = head.compare(0, 3, "\xEF\xBB\xBF") == 0 ? 3 : 0;
  while (i < head.size() &&
         (head[i] == ' ' || head[i] == '\t' || head[i] == '\r' || head[i] == '\n')) {
    ++i;
  }
  const LabelsFormat format =
      i < head.size() && head[i] == '{' ? LabelsFormat::kJsonl : LabelsFormat::kCsv;
  *source = std::make_unique<PeekedSource>(std::move(*source), std::move(head));
  return format;
}

Status RowError(const std::string& file, uint64_t line, std::string_view what) {
  return InvalidArgumentError(file + ":" + std::to_string(line) + ": " + std::string(what));
}

// The checks both formats share, on one row's values.
Status CheckRow(const std::string& file, uint64_t line, std::string_view id,
                std::string_view label) {
  for (const auto& [value, name, max] : {std::tuple{id, kIdColumn, kMaxFeedbackIdBytes},
                                         std::tuple{label, kLabelColumn, kMaxFeedbackLabelBytes}}) {
    if (value.empty()) return RowError(file, line, "empty " + std::string(name));
    if (value.size() > max) {
      return RowError(file, line,
                      std::string(name) + " longer than " + std::to_string(max) + " bytes");
    }
    // Only the kind of problem and its offset: never the value.
    const std::string problem = io::internal::TextProblem(value);
    if (!problem.empty()) return RowError(file, line, problem + " in " + std::string(name));
  }
  return Status::Ok();
}

// The rows of a labels file, checked, in a temporary database (deleted when closed): the last
// label of each record id.
struct StagedLabels {
  std::unique_ptr<SqliteDb> db;
  uint64_t rows = 0;
};

class LabelsStager {
 public:
  LabelsStager(StagedLabels* out, uint64_t max_rows) : out_(out), max_rows_(max_rows) {}

  Status Open() {
    // "": a private temporary database on disk (SQLite's), gone when closed.
    LOTE_ASSIGN_OR_RETURN(out_->db, SqliteDb::Open("", /*read_only=*/false));
    LOTE_RETURN_IF_ERROR(out_->db->Exec(
        "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; CREATE TABLE labels(record_id TEXT "
        "PRIMARY KEY, label TEXT NOT NULL) WITHOUT ROWID; BEGIN"));
    LOTE_ASSIGN_OR_RETURN(put_, out_->db->Prepare("INSERT OR REPLACE INTO labels VALUES (?, ?)"));
    return Status::Ok();
  }
  Status Add(const std::string& file, uint64_t line, std::string_view id, std::string_view label) {
    if (out_->rows >= max_rows_) {
      return InvalidArgumentError(
          file + ": more than " + std::to_string(max_rows_) +
          " labelled rows, the limit of one feedback batch: split the file");
    }
    LOTE_RETURN_IF_ERROR(CheckRow(file, line, id, label));
    put_.Bind(1, id).Bind(2, label);
    LOTE_RETURN_IF_ERROR(put_.Run());
    ++out_->rows;
    return Status::Ok();
  }
  Status Finish() { return out_->db->Exec("COMMIT"); }

 private:
  StagedLabels* out_;
  uint64_t max_rows_;
  SqliteStmt put_;
};

// CSV through lote's RFC 4180 reader: record_id as its "text" column, label as a required label.
Status StageCsv(std::unique_ptr<io::ByteSource> source, LabelsStager* stager) {
  const std::string file = source->name();
  io::TextReaderOptions ro;
  ro.text_field = std::string(kIdColumn);
  ro.label_field = std::string(kLabelColumn);
  ro.require_label = true;
  ro.max_record_bytes = kMaxFeedbackLineBytes;
  LOTE_ASSIGN_OR_RETURN(auto reader,
                        io::MakeTextRecordReader(io::Format::kCsv, std::move(source), ro));
  io::TextRecord record;
  while (true) {
    auto more = reader->Next(&record);
    if (!more.ok()) {
      // A missing column names the header's columns (not data); a source error is the source's.
      if (reader->failed()) return more.status();
      const io::RecordError& e = reader->last_error();
      if (e.problem == io::RecordProblem::kMissingLabel) {
        return RowError(file, e.line, "empty " + std::string(kLabelColumn));
      }
      if (e.problem == io::RecordProblem::kTooLong) {
        return RowError(file, e.line,
                        "record longer than " + std::to_string(kMaxFeedbackLineBytes) + " bytes");
      }
      return RowError(file, e.line, io::RecordProblemName(e.problem));
    }
    if (!*more) return Status::Ok();
    LOTE_RETURN_IF_ERROR(stager->Add(file, record.line, record.text, record.label));
  }
}

// A JSON value as lote's readers take an id or a label: a string as it is, a number or boolean
// as its JSON text; nullopt for anything else.
std::optional<std::string> ScalarText(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number() || v.is_boolean()) return v.dump();
  return std::nullopt;
}

Status StageJsonl(std::unique_ptr<io::ByteSource> source, LabelsStager* stager) {
  const std::string file = source->name();
  io::LineReader lines(source.get(), kMaxFeedbackLineBytes);
  std::string line;
  while (true) {
    auto more = lines.Next(&line);
    if (!more.ok()) {
      if (more.status().code() == StatusCode::kResourceExhausted) {
        return RowError(file, lines.line_number(),
                        "line longer than " + std::to_string(kMaxFeedbackLineBytes) + " bytes");
      }
      return more.status().WithContext(file);
    }
    if (!*more) return Status::Ok();
    const uint64_t n = lines.line_number();
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    // Named before parsing: the JSON parser's own message would quote the line.
    if (const size_t bad = text::FindInvalidUtf8(line); bad != std::string::npos) {
      return RowError(file, n, "invalid UTF-8 at byte " + std::to_string(bad));
    }
    const nlohmann::json row = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (row.is_discarded()) return RowError(file, n, "malformed JSON");
    if (!row.is_object()) return RowError(file, n, "not a JSON object");
    std::string values[2];
    int k = 0;
    for (std::string_view key : {kIdColumn, kLabelColumn}) {
      auto it = row.find(std::string(key));
      if (it == row.end()) return RowError(file, n, "no \"" + std::string(key) + "\" key");
      auto text = ScalarText(*it);
      if (!text) {
        return RowError(file, n, "\"" + std::string(key) + "\" is not a string, number or boolean");
      }
      values[k++] = std::move(*text);
    }
    LOTE_RETURN_IF_ERROR(stager->Add(file, n, values[0], values[1]));
  }
}

Result<StagedLabels> StageLabels(std::unique_ptr<io::ByteSource> source, LabelsFormat format,
                                 uint64_t max_rows) {
  if (format == LabelsFormat::kAuto) {
    LOTE_ASSIGN_OR_RETURN(format, SniffFormat(&source));
  }
  const std::string file = source->name();
  StagedLabels staged;
  LabelsStager stager(&staged, max_rows);
  LOTE_RETURN_IF_ERROR(stager.Open());
  LOTE_RETURN_IF_ERROR(format == LabelsFormat::kCsv ? StageCsv(std::move(source), &stager)
                                                    : StageJsonl(std::move(source), &stager));
  LOTE_RETURN_IF_ERROR(stager.Finish());
  if (staged.rows == 0) {
    return InvalidArgumentError(
        file + ": no labelled records (expected " +
        (format == LabelsFormat::kCsv
             ? std::string("a CSV header record_id,label and rows")
             : std::string("JSON lines {\"record_id\": ..., \"label\": ...}")) +
        ")");
  }
  return staged;
}

// A row of a batch's file: what was matched, so that a replay records the same.
std::string FeedbackRowJson(const FeedbackRow& r) {
  Json j;
  j["record_id"] = r.record_id;
  j["label"] = r.label;
  if (r.run_id.empty()) {
    j["run_id"] = nullptr;
    j["model_version"] = nullptr;
  } else {
    j["run_id"] = r.run_id;
    j["model_version"] = r.model_version;
  }
  if (r.has_prediction) {
    j["predicted_label"] = r.predicted_label;
    j["score"] = r.score;
    j["correct"] = r.predicted_label == r.label;
  } else {
    j["predicted_label"] = nullptr;
    j["score"] = nullptr;
    j["correct"] = nullptr;
  }
  j["label_known"] = r.label_known;
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

Json Optional(const std::optional<double>& v) { return v ? Json(*v) : Json(nullptr); }

Json RunEstimate(const FeedbackAccuracy& a) {
  if (!a.run_estimate) return nullptr;
  return Json{{"value", *a.run_estimate},
              {"low", Optional(a.run_estimate_low)},
              {"high", Optional(a.run_estimate_high)}};
}

// Whether the output was ever published to: a local output has its catalog, an object store its
// ledger log. NotFound otherwise (a typo in --output must not create a catalog).
Status CheckPublished(const FeedbackOptions& o, storage::Storage* out) {
  if (out->is_local()) {
    PipelineOptions po;
    po.output_uri = o.output_uri;
    po.output_storage = o.output_storage;
    po.catalog_path = o.catalog_path;
    LOTE_ASSIGN_OR_RETURN(std::string catalog, ResolveCatalogPath(po));
    std::error_code ec;
    if (std::filesystem::exists(catalog, ec)) return Status::Ok();
    return NotFoundError("no catalog at " + catalog + ": nothing was published to " + o.output_uri);
  }
  auto first = out->Stat(storage::JoinUri(o.output_uri, kFirstLedgerEntry));
  if (first.ok()) return Status::Ok();
  if (first.status().code() != StatusCode::kNotFound) return first.status();
  return NotFoundError("no ledger under " + o.output_uri + ": nothing was published there");
}

}  // namespace

Result<LabelsFormat> ParseLabelsFormat(std::string_view name) {
  if (name == "csv") return LabelsFormat::kCsv;
  if (name == "jsonl" || name == "ndjson" || name == "json") return LabelsFormat::kJsonl;
  if (name == "auto") return LabelsFormat::kAuto;
  return InvalidArgumentError("labels format must be csv, jsonl or auto, not '" +
                              text::Excerpt(name, 20) + "'");
}

LabelsFormat LabelsFormatFromPath(std::string_view path) {
  for (std::string_view z : {".gz", ".zst"}) {
    if (EndsWith(path, z)) path.remove_suffix(z.size());
  }
  if (EndsWith(path, ".csv")) return LabelsFormat::kCsv;
  for (std::string_view j : {".jsonl", ".ndjson", ".json"}) {
    if (EndsWith(path, j)) return LabelsFormat::kJsonl;
  }
  return LabelsFormat::kAuto;
}

std::string FeedbackAccuracyJson(const std::vector<FeedbackAccuracy>& rows) {
  const FeedbackAccuracy& all = rows.front();
  Json j;
  j["run_id"] = all.run_id;
  j["model_version"] = all.model_version;
  j["updated_at"] = all.updated_at;
  j["measured_accuracy"] = {{"value", all.accuracy},  {"low", all.low},
                            {"high", all.high},       {"records", all.labelled},
                            {"correct", all.correct}, {"interval", "wilson_95"}};
  j["estimated_accuracy"] = {{"value", Optional(all.estimated_accuracy)},
                             {"mean_score", all.mean_score}};
  j["run_estimated_accuracy"] = RunEstimate(all);
  j["unknown_labels"] = all.unknown_labels;
  Json by_label = Json::array();
  for (size_t i = 1; i < rows.size(); ++i) {
    const FeedbackAccuracy& a = rows[i];
    by_label.push_back({{"label", a.predicted_label},
                        {"records", a.labelled},
                        {"correct", a.correct},
                        {"value", a.accuracy},
                        {"low", a.low},
                        {"high", a.high},
                        {"mean_score", a.mean_score},
                        {"estimated_accuracy", Optional(a.estimated_accuracy)},
                        {"run_estimated_accuracy", RunEstimate(a)},
                        {"unknown_labels", a.unknown_labels}});
  }
  j["by_label"] = std::move(by_label);
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

Result<FeedbackSummary> RecordFeedbackFile(const FeedbackOptions& o,
                                           std::unique_ptr<io::ByteSource> labels,
                                           LabelsFormat format) {
  if (o.output_uri.empty()) return InvalidArgumentError("no output URI");
  if (!labels) return InvalidArgumentError("no labels file");
  const auto clock = ClockOr(o.clock);
  auto log = [&](LogLevel level, const std::string& line) {
    if (o.log) o.log(level, line);
  };
  auto hook = [&](std::string_view point) {
    if (o.fault_hook) o.fault_hook(point);
  };
  // 1. The whole file, checked, before the output is touched.
  const std::string labels_name = labels->name();
  LOTE_ASSIGN_OR_RETURN(StagedLabels staged, StageLabels(std::move(labels), format, o.max_rows));

  // 2. Under the output lock: no run commits while the labels are matched and recorded.
  LOTE_ASSIGN_OR_RETURN(auto out, storage::OpenStorageOr(o.output_storage, o.output_uri));
  if (!o.ledger) LOTE_RETURN_IF_ERROR(CheckPublished(o, out.get()));
  LOTE_ASSIGN_OR_RETURN(auto lock,
                        AcquireOutputLock(out.get(), o.output_uri, o.lock_wait_seconds, *clock));
  hook("locked");
  PipelineOptions po;
  po.output_uri = o.output_uri;
  po.output_storage = out;
  po.catalog_path = o.catalog_path;
  po.ledger = o.ledger;
  std::string catalog;
  LOTE_ASSIGN_OR_RETURN(
      auto ledger, OpenOutputLedger(
                       po, /*writer=*/true,
                       [&](const std::string& line) { log(LogLevel::kInfo, line); }, &catalog));

  FeedbackSummary summary;
  summary.rows = staged.rows;
  const int64_t now = clock->NowMicros();
  summary.feedback_id = FormatCompactTimestamp(now) + "-" + RandomHex(3);
  summary.received_at = FormatTimestampMillis(now);
  const std::string prefix = storage::JoinUri(o.output_uri, "_feedback/" + summary.feedback_id);
  PartWriter writer(out.get(), prefix, "feedback", "_feedback",
                    std::numeric_limits<uint64_t>::max(), /*zstd_level=*/3);
  Status s = [&]() -> Status {
    LOTE_ASSIGN_OR_RETURN(auto rows,
                          staged.db->Prepare("SELECT record_id, label FROM labels ORDER BY 1"));
    while (true) {
      LOTE_ASSIGN_OR_RETURN(bool more, rows.Step());
      if (!more) break;
      LOTE_RETURN_IF_ERROR(ledger->StageFeedback(rows.Text(0), rows.Text(1)));
    }
    LOTE_RETURN_IF_ERROR(ledger->MatchStagedFeedback([&](const FeedbackRow& r) -> Status {
      ++summary.records;
      if (r.run_id.empty()) {
        ++summary.unmatched;
      } else {
        ++summary.matched;
        if (!r.has_prediction) {
          ++summary.without_prediction;
        } else if (!r.label_known) {
          ++summary.unknown_labels;
        }
      }
      return writer.AddRow(FeedbackRowJson(r));
    }));
    return writer.Finish();
  }();
  auto give_up = [&](Status why) {
    (void)ledger->DiscardStagedFeedback();
    for (const StagedPart& p : writer.parts()) (void)out->Delete(p.staged_uri);
    return why;
  };
  if (!s.ok()) return give_up(s);
  if (writer.parts().size() != 1) return give_up(InternalError("feedback file not written"));
  summary.duplicates = summary.rows - summary.records;
  const StagedPart& part = writer.parts()[0];
  summary.file_uri = part.staged_uri;
  hook("matched");
  // A lock lost meanwhile (an S3 lock that expired while this process stalled) may be held by a
  // run now: record nothing.
  if (Status held = lock->Check(); !held.ok()) return give_up(held);

  FeedbackBatch batch;
  batch.feedback_id = summary.feedback_id;
  batch.received_at = summary.received_at;
  batch.file_uri = part.staged_uri;
  batch.rows = part.rows;
  batch.sha256 = part.sha256;
  auto runs = ledger->RecordFeedback(batch);
  if (!runs.ok()) {
    // On an object store the log entry may exist even though the call failed (a lost reply):
    // the file stays, as the entry may name it.
    (void)ledger->DiscardStagedFeedback();
    return runs.status();
  }
  summary.runs = std::move(*runs);
  hook("recorded");

  // 3. Each changed run's feedback.json, from the catalog.
  for (const std::string& run_id : summary.runs) {
    LOTE_ASSIGN_OR_RETURN(auto rows, ledger->RunFeedbackAccuracy(run_id));
    const std::string uri = storage::JoinUri(o.output_uri, "_runs/" + run_id + "/feedback.json");
    if (rows.empty()) {
      Status d = out->Delete(uri);
      if (!d.ok() && d.code() != StatusCode::kNotFound) return d;
      summary.feedback_uris.emplace_back();
    } else {
      LOTE_RETURN_IF_ERROR(out->Write(uri, FeedbackAccuracyJson(rows) + "\n"));
      summary.feedback_uris.push_back(uri);
    }
    summary.accuracy.push_back(std::move(rows));
  }
  log(LogLevel::kInfo,
      "feedback " + summary.feedback_id + ": " + std::to_string(summary.rows) + " rows read from " +
          text::ReplaceInvalidUtf8(labels_name) + " (" + std::to_string(summary.duplicates) +
          " repeated record ids: last label kept), " + std::to_string(summary.matched) +
          " matched to published records of " + std::to_string(summary.runs.size()) + " run(s), " +
          std::to_string(summary.unmatched) + " unmatched, " +
          std::to_string(summary.unknown_labels) + " with a label the model never predicted");
  return summary;
}

}  // namespace lote::pipeline
