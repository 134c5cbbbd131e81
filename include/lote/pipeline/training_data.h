// Training examples from late labels: every record labelled by `lote feedback` is joined back to
// the text it was scored on, so that a retraining can learn from it. The results hold no text (a
// keyed fingerprint at most), so the text is read again from the raw object the results row names
// (`source`, `line`), and only where it provably is the text that was scored:
//   - the object's bytes hash to the content id the ledger recorded for the attempt that scored
//     the record (the object was not replaced since); otherwise none of its records is used;
//   - the record at that line has the record's id (from the id field, or SOURCE:LINE);
//   - when the results carry a text fingerprint (a PII key was configured), the keyed hash of the
//     text read equals it; the key must then be given (FailedPrecondition otherwise).
// The text goes through the same prep as in the run (PipelineOptions::prep), so the example is
// the text the model saw. Each object is read once, sequentially; examples come out ordered by
// object and line.
//
// Nothing of a record (id, text, label) goes into a log line, an error or the report: counts
// only. The examples themselves hold customers' text: whoever receives them writes them where the
// raw data may go, never to a log.
// Thread-safety: GatherFeedbackExamples may be called from any thread; it only reads the output.
#ifndef LOTE_PIPELINE_TRAINING_DATA_H_
#define LOTE_PIPELINE_TRAINING_DATA_H_

#include <cstdint>
#include <functional>
#include <string>

#include "lote/base/status.h"
#include "lote/pipeline/pipeline.h"

namespace lote::pipeline {

struct FeedbackExample {
  std::string text;   // clean text, as inference saw it
  std::string label;  // the late label
  std::string received_at;
};

struct FeedbackExamplesReport {
  uint64_t labelled = 0;        // feedback records received after `since`
  uint64_t examples = 0;        // emitted
  uint64_t unmatched = 0;       // no published results row (never published, or replaced)
  uint64_t object_missing = 0;  // the raw object is gone or unreadable
  uint64_t object_changed = 0;  // the raw object is no longer the version that was scored
  uint64_t record_missing = 0;  // no record with the id at the line (or prep rejects it now)
  uint64_t text_changed = 0;    // the text's keyed fingerprint differs from the results'
  uint64_t objects = 0;         // raw objects read
  std::string through;          // the latest received_at among the labelled records ("" none)
};

struct FeedbackExamplesOptions {
  // output_uri: the pipeline output holding the results and the feedback (its catalog, brought
  // up to date first for an object-store output); catalog_path, text_field, id_field,
  // max_record_bytes, prep and fingerprint_key as the runs used them; input_storage: an override
  // for reading the raw objects (tests), else the storage for each source URI's scheme.
  PipelineOptions pipeline;
  // Only labels received strictly after this timestamp (received_at, "2026-12-07T10:15:00.123Z"
  // form); empty: all.
  std::string since;
};

// Calls `emit` for every usable labelled record; an error from `emit` stops and is returned.
// Errors: NotFound (the output has no catalog), FailedPrecondition (fingerprints without a key),
// Unavailable (storage), DataLoss (a damaged catalog). A missing or changed raw object is counted,
// not an error.
Status GatherFeedbackExamples(const FeedbackExamplesOptions& options,
                              const std::function<Status(FeedbackExample&&)>& emit,
                              FeedbackExamplesReport* report);

}  // namespace lote::pipeline

#endif  // LOTE_PIPELINE_TRAINING_DATA_H_
