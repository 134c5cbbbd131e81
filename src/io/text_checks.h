// Private helpers shared by the io readers: record text checks, Latin-1 decoding, error
// locations. UTF-8 validation and excerpts come from lote/text/utf8.h.
#ifndef LOTE_SRC_IO_TEXT_CHECKS_H_
#define LOTE_SRC_IO_TEXT_CHECKS_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "lote/base/status.h"
#include "lote/io/byte_source.h"
#include "lote/io/records.h"

namespace lote::io::internal {

// Why `s` cannot be a record's text ("invalid UTF-8 at byte N", "NUL byte at byte N", whichever
// comes first), or "" when it can.
std::string TextProblem(std::string_view s);
// The same, also telling which problem it is (kNone when there is none).
std::string TextProblem(std::string_view s, RecordProblem* problem);

// Each byte is the code point of the same value.
std::string Latin1ToUtf8(std::string_view s);

// "SOURCE:LINE: reason" as InvalidArgument.
Status RecordError(std::string_view source, uint64_t line, std::string_view reason);

// A bad record of a TextRecordReader: fills *error with the facts and returns the Status
// "SOURCE:LINE: reason" with `code`.
Status BadRecord(io::RecordError* error, std::string_view source, RecordProblem problem,
                 uint64_t line, uint64_t row, std::string reason,
                 StatusCode code = StatusCode::kInvalidArgument);
// A fatal error of a TextRecordReader: fills *error (kUnreadable unless `problem` says
// otherwise; reason = the message) and returns `status` unchanged.
Status FatalRecordError(io::RecordError* error, const Status& status, uint64_t line, uint64_t row,
                        RecordProblem problem = RecordProblem::kUnreadable);

// For the readers with one record per line (txt, jsonl): sets *line to the next line that
// `skip_blank` does not drop and counts it in *row. An over-long line is counted too and its
// ResourceExhausted returned (the reader stays usable); any other error is the source's and is
// also kept in *fatal, which the caller checks first on every call.
Result<bool> NextRecordLine(LineReader* lines, bool skip_blank, std::string* line, uint64_t* row,
                            Status* fatal);
// What a line reader's error means for a line-per-record reader: an over-long line is a bad
// record (kTooLong; the status as LineReader words it), anything else is fatal (kUnreadable).
Status LineFailure(io::RecordError* error, const Status& status, uint64_t line, uint64_t row,
                   size_t max_bytes);

}  // namespace lote::io::internal

#endif  // LOTE_SRC_IO_TEXT_CHECKS_H_
