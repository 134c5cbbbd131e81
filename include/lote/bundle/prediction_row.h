// The rows `lote predict` and `lote extract` write, and what the SageMaker inference server
// (issue 15) will return: one JSON object per input record, in input order,
//   {"record_id", "label", "score", "top_k", "entities", "model_version"}
// (classification members when the model classifies; "entities" when it extracts), or
//   {"record_id", "error", "model_version"} for a record that could not be read or analyzed.
// record_id is the id field's value (a JSON string) or, without one, the 1-based line (jsonl,
// txt) or data row (csv) number (a JSON number). The PII policy of the options applies to the
// entities and to error messages (which may quote a short excerpt of a bad record).
//
// Thread-safety: a PredictionRowWriter is immutable once created; Append is const and
// thread-safe given a distinct State per thread.
#ifndef LOTE_BUNDLE_PREDICTION_ROW_H_
#define LOTE_BUNDLE_PREDICTION_ROW_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "lote/base/secret.h"
#include "lote/base/status.h"
#include "lote/bundle/analyzer.h"
#include "lote/bundle/model.h"
#include "lote/extract/patterns.h"
#include "lote/io/records.h"

namespace lote::bundle {

struct PredictionRowOptions {
  int top_k = 3;
  bool classify = true;  // write label/score/top_k when the model has a classifier
  bool entities = true;  // write entities when the model has a tagger (see always_entities)
  bool patterns = true;  // run the pattern extractors wherever entities are written
  // false (predict): a model without a tagger gets no "entities" member, so a classifier-only
  // model writes exactly the rows it wrote before entities existed. true (extract): every row
  // has "entities", from the patterns alone when the model has no tagger.
  bool always_entities = false;
  // Relative dates ("ayer") resolve against it; unset: they are not extracted.
  std::optional<extract::CivilDate> reference_date;
  bool record_id_is_row = false;  // csv: the 1-based data row; else the 1-based line
  // The PII policy, as `lote run` applies it (default: mask).
  PiiPolicy pii = PiiPolicy::kMask;
  std::vector<std::string> pii_types;  // empty: the analyzer's PersonalTypes()
  Secret pii_key;                      // for kHash
  // The server's additions (issue 15): error rows also carry "line" (record.line, the record's
  // line within the request), and rows carry "preprocess_version" after "model_version" when it
  // is not empty.
  bool error_line = false;
  std::string preprocess_version;
};

class PredictionRowWriter {
 public:
  // `model` must outlive the writer. InvalidArgument for kHash without a key.
  static Result<std::unique_ptr<PredictionRowWriter>> Create(const Model* model,
                                                             PredictionRowOptions options);
  ~PredictionRowWriter();

  // Per-thread scratch.
  class State {
   public:
    ~State();
    // What the last successful Append found (for metrics: label, score, entity types).
    const Analysis& analysis() const { return analysis_; }

   private:
    friend class PredictionRowWriter;
    State() = default;
    std::unique_ptr<AnalyzerState> analyzer;
    Analysis analysis_;
  };
  std::unique_ptr<State> NewState() const;

  // Appends the row for `record` and a newline to *out. `error` not OK: the record could not be
  // read (record.line / record.row still say where it was); an error row is written. Returns
  // whether the row is a prediction (false: an error row).
  bool Append(const io::TextRecord& record, const Status& error, State* state,
              std::string* out) const;

  const TextAnalyzer& analyzer() const { return *analyzer_; }
  const Model& model() const { return *model_; }

 private:
  PredictionRowWriter() = default;
  const Model* model_ = nullptr;
  PredictionRowOptions options_;
  std::unique_ptr<TextAnalyzer> analyzer_;
  bool emit_label_ = false;
  bool emit_entities_ = false;
};

// Appends the "record_id" member's value: a JSON string for an id, else the line/row number.
void AppendRecordId(std::string* out, const io::TextRecord& record, bool use_row);

}  // namespace lote::bundle

#endif  // LOTE_BUNDLE_PREDICTION_ROW_H_
