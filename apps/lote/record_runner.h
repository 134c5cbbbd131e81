// Runs a per-record function over a text record stream on several threads and writes the
// results in input order, with bounded memory (a few batches in flight). Used by predict,
// extract and redact.
#ifndef LOTE_APPS_LOTE_RECORD_RUNNER_H_
#define LOTE_APPS_LOTE_RECORD_RUNNER_H_

#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common.h"
#include "lote/io/records.h"

namespace lote::cli {

struct InputRecord {
  io::TextRecord record;
  Status error;  // a bad record: the worker writes an error row for it
};

struct RunStats {
  size_t records = 0;
  size_t errors = 0;
};

// `make_worker()` is called once per thread and returns that thread's function, which appends
// the output for one record to `out`. Reads `reader` to its end. Fatal reader errors stop the
// run and are returned; records already written stay written.
using RecordFn = std::function<void(const InputRecord& in, std::string* out)>;
Result<RunStats> RunOrdered(io::TextRecordReader* reader, int threads,
                            const std::function<RecordFn()>& make_worker, Output* output);

// What predict, extract and redact read and write.
struct RecordFileIo {
  std::string input;   // path or "-"
  io::Format format;   // from ResolveFormat
  std::string output;  // path, or "" / "-" for stdout
  std::string text_field = "text";
  std::string id_field;
  int threads = 0;  // 0: all cores
};

// Opens the input and the output, runs the workers over every record in input order (bad
// records included, as error rows), and commits the output. Rows written before a fatal input
// error are kept. Warns once with the count of unreadable records.
Status RunRecordFile(const RecordFileIo& io, const std::function<RecordFn()>& make_worker);

}  // namespace lote::cli

#endif  // LOTE_APPS_LOTE_RECORD_RUNNER_H_
