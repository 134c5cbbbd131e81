#include "record_runner.h"

#include <vector>

#include "flags.h"
#include "lote/base/ordered_executor.h"

namespace lote::cli {
namespace {

// A batch closes at this many records or this many bytes of text, whichever comes first.
constexpr size_t kBatchRecords = 1024;
constexpr size_t kBatchBytes = size_t{1} << 20;

struct Batch {
  std::vector<InputRecord> records;
  size_t size = 0;
  std::string out;
};

}  // namespace

Status RunRecordFile(const RecordFileIo& io, const std::function<RecordFn()>& make_worker) {
  LOTE_ASSIGN_OR_RETURN(auto source, OpenInput(io.input));
  io::TextReaderOptions ro;
  ro.text_field = io.text_field;
  ro.id_field = io.id_field;
  ro.max_record_bytes = io.max_record_bytes;
  LOTE_ASSIGN_OR_RETURN(auto reader, io::MakeTextRecordReader(io.format, std::move(source), ro));
  LOTE_ASSIGN_OR_RETURN(auto output, Output::Open(io.output));
  size_t records = 0, errors = 0;
  bool eof = false;
  OrderedExecutorOptions eo;
  eo.threads = ResolveThreads(io.threads);
  Status s = RunOrdered<Batch>(
      eo,
      [&](Batch* b) -> Result<bool> {
        b->size = 0;
        b->out.clear();
        size_t bytes = 0;
        while (!eof && b->size < kBatchRecords && bytes < kBatchBytes) {
          if (b->size == b->records.size()) b->records.emplace_back();
          InputRecord& in = b->records[b->size];
          in.error = Status::Ok();
          auto next = reader->Next(&in.record);
          if (!next.ok()) {
            // Fatal: stop here; what was read before is still processed and written.
            if (reader->failed()) {
              if (b->size > 0) return true;
              return next.status();
            }
            in.error = next.status();
            in.problem = reader->last_error();
            in.record.id.clear();
            in.record.text.clear();
            in.record.line = reader->last_line();
            in.record.row = reader->last_row();
            ++errors;
          } else if (!*next) {
            eof = true;
            break;
          }
          bytes += in.record.text.size();
          ++b->size;
        }
        records += b->size;
        return b->size > 0;
      },
      [&]() -> std::function<Status(Batch*)> {
        RecordFn fn = make_worker();
        return [fn](Batch* b) -> Status {
          b->out.reserve(b->size * 128);
          for (size_t i = 0; i < b->size; ++i) fn(b->records[i], &b->out);
          return Status::Ok();
        };
      },
      [&](Batch* b) -> Status {
        output->Write(b->out);
        return Status::Ok();
      });
  if (!s.ok()) {
    // Rows already produced are kept (committed) so nothing processed is lost. Fatal errors are
    // about the source or its columns, never record values.
    if (records > 0) (void)output->Commit();
    return s;
  }
  LOTE_RETURN_IF_ERROR(output->Commit());
  if (errors > 0) {
    Warn(std::to_string(errors) + " of " + std::to_string(records) +
         " records could not be read; their rows carry an \"error\" field");
  }
  return Status::Ok();
}

Status WritePredictionRows(const bundle::PredictionRowWriter& rows, const RecordFileIo& io) {
  const bundle::PredictionRowWriter* w = &rows;
  return RunRecordFile(io, [w]() -> RecordFn {
    std::shared_ptr<bundle::PredictionRowWriter::State> state = w->NewState();
    return [w, state](const InputRecord& in, std::string* out) {
      w->Append(in.record, in.error, state.get(), out);
    };
  });
}

}  // namespace lote::cli
