// Where the records of one object come from, for the pipeline's publish machinery (run.h): the
// input object itself (parsed by its format's reader and hashed while read), or what the infer
// stage handed over for it (stage_files.h). The run does not know which: both fill the same
// batches of Items.
// Thread-safety: a source is used by one thread (the reader).
#ifndef LOTE_SRC_PIPELINE_RECORD_SOURCE_H_
#define LOTE_SRC_PIPELINE_RECORD_SOURCE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "lote/base/status.h"
#include "lote/io/records.h"
#include "lote/pipeline/inference.h"
#include "lote/pipeline/prep.h"
#include "lote/storage/storage.h"
#include "pipeline/stage_files.h"

namespace lote::pipeline {

// One record on its way through the stages.
struct Item {
  std::string record_id;
  uint64_t line = 0;
  std::string raw;          // the text as read; freed once prep is done
  std::string stage;        // set when quarantined: "ingest", "prep", "infer"
  std::string reason;       // quarantine reason (redacted before it is written)
  PrepResult prep;          // clean text and language
  std::string text_hmac;    // keyed fingerprint of `raw` (hex), "" without a key
  std::string content_key;  // keyed fingerprint of the clean text, only with dedup by content
  InferenceOutput out;
  InferenceOutput shadow;   // the shadow model's prediction (shadow scoring)
  bool shadow_ok = false;   // `shadow` holds one (a shadow failure leaves the record as it is)
  bool complete = false;    // handed over by the infer stage: nothing left to compute
  bool duplicate = false;   // found a duplicate by the publisher
  std::string top_k_json;   // encoded by the workers (see publisher.h)
  std::string result_json;  // the results row's head, encoded by the workers

  // Empties every field, keeping the strings' capacity (batches are reused).
  void Reset();
};

// A unit of work: items[0, size) are the batch's records; items past `size` are spare capacity
// from an earlier use.
struct Batch {
  std::vector<Item> items;
  size_t size = 0;
  size_t text_bytes = 0;  // bytes of raw text in the batch

  // The next item slot, reset.
  Item* Add();
};

// What reading an object consumed.
struct Consumed {
  std::string content_id;  // "xxh3:..." of the bytes actually read (input), or the marker's
  uint64_t bytes = 0;
  // For handed-over records: the earlier stages' seconds, from the marker.
  double ingest_s = 0, prep_s = 0, infer_s = 0;
  bool handed_over = false;
  std::string terms_json;  // handed-over records: the infer stage's term counts, if any
};

class RecordSource {
 public:
  virtual ~RecordSource() = default;
  // Appends records to *batch until it holds `max_records` or about `max_bytes` of text. False
  // (and nothing added) once the source is exhausted. Errors: transient I/O (Unavailable) and
  // damaged handed-over files (DataLoss); a broken input object is not an error but one
  // quarantined item ("unreadable object: ...") after the records read before the break.
  virtual Result<bool> Fill(Batch* batch, size_t max_records, size_t max_bytes) = 0;
  // After the last Fill: the identity of what was read. Input: reads what the reader left
  // unread and returns the hash of all the bytes; handed over: checks the record count.
  virtual Result<Consumed> Finish() = 0;
  // Bytes of the object read so far (progress).
  virtual uint64_t bytes_read() const = 0;
};

struct InputReadOptions {
  std::string text_field, id_field;
  size_t max_record_bytes = size_t{1} << 20;
};

// The records of input object `uri` (format from its extension).
Result<std::unique_ptr<RecordSource>> OpenInputRecords(const storage::Storage& storage,
                                                       const std::string& uri,
                                                       const InputReadOptions& options);

// The records the infer stage handed over for `object` (from the output storage).
Result<std::unique_ptr<RecordSource>> OpenHandedOverRecords(const storage::Storage& storage,
                                                            const StagedObject& object);

// "xxh3:<32 hex>" of the whole object and its size: the object version's identity.
Result<std::string> ContentId(const storage::Storage& storage, const std::string& uri,
                              uint64_t* size);

}  // namespace lote::pipeline

#endif  // LOTE_SRC_PIPELINE_RECORD_SOURCE_H_
