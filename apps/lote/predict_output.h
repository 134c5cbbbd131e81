// Per-record prediction and its JSON row, shared by predict and extract.
#ifndef LOTE_APPS_LOTE_PREDICT_OUTPUT_H_
#define LOTE_APPS_LOTE_PREDICT_OUTPUT_H_

#include <memory>
#include <string>

#include "lote/bundle/model.h"
#include "record_runner.h"

namespace lote::cli {

struct RecordPredictorOptions {
  int top_k = 3;
  bool classify = true;       // emit label/score/top_k when the model has a classifier
  bool entities = true;       // emit entities when the model has a tagger or patterns are on
  bool patterns = true;
  std::string reference_date;  // YYYY-MM-DD; empty = today (UTC)
  bool record_id_is_row = false;  // csv: the 1-based row; else the 1-based line
};

class RecordPredictor {
 public:
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

}  // namespace lote::cli

#endif  // LOTE_APPS_LOTE_PREDICT_OUTPUT_H_
