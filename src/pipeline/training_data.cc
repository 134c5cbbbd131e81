// Late labels joined back to the texts they label (training_data.h).
#include "lote/pipeline/training_data.h"

#include <filesystem>
#include <map>
#include <memory>
#include <vector>

#include "lote/base/digest.h"
#include "lote/pipeline/catalog.h"
#include "lote/pipeline/prep.h"
#include "lote/storage/storage.h"
#include "pipeline/record_source.h"
#include "pipeline/sqlite_db.h"

namespace lote::pipeline {
namespace {

// One labelled record as the catalog has it.
struct Labelled {
  std::string record_id, label, received_at, hmac;
  uint64_t line = 0;
};

// The records of one version of one raw object: reads it once and emits those labelled, if the
// object still is that version.
class ObjectReader {
 public:
  ObjectReader(const FeedbackExamplesOptions& o, const KeyedHash* text_hash,
               FeedbackExamplesReport* report)
      : o_(o), text_hash_(text_hash), report_(report), prep_(o.pipeline.prep) {
    read_.text_field = o.pipeline.text_field;
    read_.id_field = o.pipeline.id_field;
    read_.max_record_bytes = o.pipeline.max_record_bytes;
  }

  Status Read(const std::string& uri, const std::string& content_id, std::vector<Labelled>& rows,
              const std::function<Status(FeedbackExample&&)>& emit) {
    ++report_->objects;
    std::shared_ptr<storage::Storage> store = o_.pipeline.input_storage;
    if (!store) {
      auto opened = storage::OpenStorage(uri);
      if (!opened.ok()) return Missing(rows.size(), opened.status());
      store = *opened;
    }
    // Rows by line; a line may hold several labelled records only if ids repeat, which the
    // ledger prevents, but stay correct if it does not.
    std::multimap<uint64_t, size_t> wanted;
    for (size_t i = 0; i < rows.size(); ++i) wanted.emplace(rows[i].line, i);
    auto source = OpenInputRecords(*store, uri, read_);
    if (!source.ok()) return Missing(rows.size(), source.status());
    std::vector<FeedbackExample> found;
    std::vector<bool> done(rows.size(), false);
    Batch batch;
    PrepResult clean;
    while (true) {
      batch.size = 0;
      batch.text_bytes = 0;
      auto more = (*source)->Fill(&batch, 1024, size_t{4} << 20);
      if (!more.ok()) return Missing(rows.size(), more.status());
      if (!*more) break;
      for (size_t k = 0; k < batch.size; ++k) {
        const Item& item = batch.items[k];
        auto [first, last] = wanted.equal_range(item.line);
        for (auto it = first; it != last; ++it) {
          const Labelled& row = rows[it->second];
          if (!item.stage.empty() || item.record_id != row.record_id) continue;
          done[it->second] = true;
          if (!row.hmac.empty() && text_hash_->HexDigest(item.raw) != row.hmac) {
            ++report_->text_changed;
            continue;
          }
          if (!prep_.Process(item.raw, &clean).ok()) {
            ++report_->record_missing;
            continue;
          }
          found.push_back({clean.text, row.label, row.received_at});
        }
      }
    }
    auto consumed = (*source)->Finish();
    if (!consumed.ok()) return Missing(rows.size(), consumed.status());
    if (consumed->content_id != content_id) {
      // Replaced since it was scored: its lines may hold other texts now.
      report_->object_changed += rows.size();
      return Status::Ok();
    }
    for (bool d : done) report_->record_missing += d ? 0 : 1;
    for (FeedbackExample& e : found) {
      ++report_->examples;
      LOTE_RETURN_IF_ERROR(emit(std::move(e)));
    }
    return Status::Ok();
  }

 private:
  // An object that cannot be read: its records are counted, the others go on; transient storage
  // trouble is an error (the caller tries again later).
  Status Missing(size_t rows, const Status& s) {
    if (s.code() == StatusCode::kUnavailable) return s;
    report_->object_missing += rows;
    return Status::Ok();
  }

  const FeedbackExamplesOptions& o_;
  const KeyedHash* text_hash_;
  FeedbackExamplesReport* report_;
  Preprocessor prep_;
  InputReadOptions read_;
};

}  // namespace

Status GatherFeedbackExamples(const FeedbackExamplesOptions& options,
                              const std::function<Status(FeedbackExample&&)>& emit,
                              FeedbackExamplesReport* report) {
  *report = FeedbackExamplesReport();
  LOTE_ASSIGN_OR_RETURN(std::string catalog, ReadableCatalogPath(options.pipeline, nullptr));
  std::error_code ec;
  if (!std::filesystem::exists(catalog, ec)) {
    return NotFoundError(options.pipeline.output_uri +
                         " has no catalog (nothing was published there)");
  }
  LOTE_ASSIGN_OR_RETURN(auto db, SqliteDb::Open(catalog, /*read_only=*/true));
  {
    LOTE_ASSIGN_OR_RETURN(auto has, db->Prepare("SELECT 1 FROM sqlite_master WHERE type = "
                                                "'table' AND name = 'feedback'"));
    LOTE_ASSIGN_OR_RETURN(bool any, has.Step());
    if (!any) return Status::Ok();  // no labels ever arrived
  }
  {
    LOTE_ASSIGN_OR_RETURN(auto count, db->Prepare("SELECT count(*), max(received_at) FROM "
                                                  "feedback WHERE received_at > ?1"));
    count.Bind(1, options.since);
    LOTE_ASSIGN_OR_RETURN(bool row, count.Step());
    if (row) {
      report->labelled = static_cast<uint64_t>(count.Int(0));
      report->through = count.IsNull(1) ? "" : count.Text(1);
    }
  }
  if (report->labelled == 0) return Status::Ok();
  // Each labelled record with the results row it was matched to (the run that scored it) and the
  // object version that run read, ordered so that each object is read once.
  LOTE_ASSIGN_OR_RETURN(
      auto q,
      db->Prepare("SELECT f.record_id, f.label, f.received_at, o.uri, o.content_id, r.line, "
                  "CASE WHEN r.text_hmac IS NULL THEN '' ELSE lower(hex(r.text_hmac)) END "
                  "FROM feedback f "
                  "JOIN attempts a ON a.run_id = f.run_id AND a.state = 'done' "
                  "JOIN result_rows r ON r.attempt_id = a.attempt_id AND r.record_id = f.record_id "
                  "JOIN objects o ON o.object_id = a.object_id "
                  "WHERE f.received_at > ?1 AND f.run_id IS NOT NULL "
                  "AND NOT EXISTS (SELECT 1 FROM stale_rows s WHERE s.attempt_id = r.attempt_id "
                  "AND s.record_id = r.record_id) "
                  "ORDER BY o.uri, o.content_id, r.line"));
  q.Bind(1, options.since);
  std::unique_ptr<KeyedHash> text_hash;
  if (!options.pipeline.fingerprint_key.empty()) {
    text_hash = std::make_unique<KeyedHash>(options.pipeline.fingerprint_key, "text");
  }
  ObjectReader reader(options, text_hash.get(), report);
  std::string uri, content_id;
  std::vector<Labelled> rows;
  uint64_t matched = 0;
  auto flush = [&]() -> Status {
    if (rows.empty()) return Status::Ok();
    Status s = reader.Read(uri, content_id, rows, emit);
    rows.clear();
    return s;
  };
  while (true) {
    LOTE_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    ++matched;
    std::string row_uri = q.Text(3), row_content = q.Text(4);
    if (row_uri != uri || row_content != content_id) {
      LOTE_RETURN_IF_ERROR(flush());
      uri = std::move(row_uri);
      content_id = std::move(row_content);
    }
    Labelled l{q.Text(0), q.Text(1), q.Text(2), q.Text(6), static_cast<uint64_t>(q.Int(5))};
    if (!l.hmac.empty() && !text_hash) {
      return FailedPreconditionError(
          options.pipeline.output_uri +
          ": its results carry keyed text fingerprints; give the PII key the runs used (pii.key "
          "in the config, or --pii-key-file) so that the texts read again can be checked");
    }
    rows.push_back(std::move(l));
  }
  LOTE_RETURN_IF_ERROR(flush());
  report->unmatched = report->labelled - matched;
  return Status::Ok();
}

}  // namespace lote::pipeline
