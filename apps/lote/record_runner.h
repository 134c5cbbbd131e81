// Runs a per-record function over a text record stream (predict, extract, redact) on the
// library's ordered executor: records read in batches, processed on several threads, written in
// input order, with bounded memory (a few batches in flight, each bounded in records and bytes).
#ifndef LOTE_APPS_LOTE_RECORD_RUNNER_H_
#define LOTE_APPS_LOTE_RECORD_RUNNER_H_

#include <functional>
#include <string>

#include "common.h"
#include "lote/bundle/prediction_row.h"
#include "lote/io/records.h"

namespace lote::cli {

struct InputRecord {
  io::TextRecord record;
  Status error;             // a bad record: the worker writes an error row for it
  io::RecordError problem;  // the reader's facts about it (kind, line, row)
};

// `make_worker()` is called once per thread and returns that thread's function, which appends
// the output for one record to `out`.
using RecordFn = std::function<void(const InputRecord& in, std::string* out)>;

// What predict, extract and redact read and write.
struct RecordFileIo {
  std::string input;   // path or "-"
  io::Format format;   // from ResolveFormat
  std::string output;  // path, or "" / "-" for stdout
  std::string text_field = "text";
  std::string id_field;
  int threads = 0;  // 0: ResolveThreads' default
  size_t max_record_bytes = size_t{1} << 20;
};

// Opens the input and the output, runs the workers over every record in input order (bad
// records included, as error rows), and commits the output. A fatal input error stops reading;
// the rows of every record read before it are still written and committed, and the error is
// returned. Warns once with the count of unreadable records. ResourceExhausted when the worker
// threads cannot be started.
Status RunRecordFile(const RecordFileIo& io, const std::function<RecordFn()>& make_worker);

// RunRecordFile writing the library's prediction rows (lote/bundle/prediction_row.h): what
// `lote predict` and `lote extract` do.
Status WritePredictionRows(const bundle::PredictionRowWriter& rows, const RecordFileIo& io);

}  // namespace lote::cli

#endif  // LOTE_APPS_LOTE_RECORD_RUNNER_H_
