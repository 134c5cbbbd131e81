// Per-record analysis and its JSON row, shared by predict and extract; the flag helpers that
// predict, extract and redact have in common (reference date, safe error reasons).
#ifndef LOTE_APPS_LOTE_PREDICT_OUTPUT_H_
#define LOTE_APPS_LOTE_PREDICT_OUTPUT_H_

#include <memory>
#include <optional>
#include <string>

#include "lote/bundle/analyzer.h"
#include "lote/bundle/model.h"
#include "lote/extract/patterns.h"
#include "record_runner.h"

namespace lote::cli {

struct RecordPredictorOptions {
  int top_k = 3;
  bool classify = true;  // emit label/score/top_k when the model has a classifier
  bool entities = true;  // emit entities when the model has a tagger (see always_entities)
  bool patterns = true;  // run the pattern extractors wherever entities are emitted
  // false (predict): a model without a tagger gets no "entities" member, so a classifier-only
  // model writes exactly the rows it wrote before entities existed. true (extract): every row
  // has "entities", from the patterns alone when the model has no tagger.
  bool always_entities = false;
  std::string reference_date;     // YYYY-MM-DD; empty = today (UTC)
  bool record_id_is_row = false;  // csv: the 1-based row; else the 1-based line
};

// Writes {"record_id", "label"?, "score"?, "top_k"?, "entities"?, "model_version"} per record
// (or {"record_id", "error", "model_version"} for a record that could not be read), through
// bundle::TextAnalyzer. Thread-safe: one NewWorker() per thread.
class RecordPredictor {
 public:
  // `model` must outlive the predictor. InvalidArgument for a bad reference date.
  static Result<std::unique_ptr<RecordPredictor>> Create(const bundle::Model* model,
                                                         RecordPredictorOptions options);
  ~RecordPredictor();
  // A per-thread function appending one JSON line per record.
  RecordFn NewWorker() const;

 private:
  RecordPredictor() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Appends the "record_id" member value (a JSON string for an id, else the line/row number).
void AppendRecordId(std::string* out, const io::TextRecord& r, bool use_row);

// The --reference-date flag: YYYY-MM-DD, or today's UTC date when empty. InvalidArgument for
// anything else (message names the flag).
Result<extract::CivilDate> ResolveReferenceDate(const std::string& flag);

// A reader's record error reduced to "SOURCE:LINE: <kind of problem>", with no excerpt of the
// record's text (for outputs that must never contain a clear value, such as `lote redact`).
std::string SafeRecordErrorReason(const Status& error);

// For a bad flag value: prints "lote: <message>" to stderr and returns kExitUsage (2).
int FailUsage(const std::string& message);

}  // namespace lote::cli

#endif  // LOTE_APPS_LOTE_PREDICT_OUTPUT_H_
