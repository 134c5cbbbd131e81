// Shared pieces of the fuzz targets (tests/fuzz/*_fuzz.cc): a byte source that hands out the
// input in small pieces, so line and record boundaries fall across reads, and a check that
// aborts, so a broken invariant is a crash libFuzzer reports and keeps.
#ifndef LOTE_TESTS_FUZZ_FUZZ_UTIL_H_
#define LOTE_TESTS_FUZZ_FUZZ_UTIL_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "io/text_checks.h"
#include "lote/io/byte_source.h"
#include "lote/io/records.h"

namespace lote::fuzz {

// Aborts with `what` when `ok` is false.
inline void Check(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "fuzz invariant broken: %s\n", what);
  std::abort();
}

// Reads at most `chunk` bytes per call (chunk 0: everything asked for).
class ChunkedSource : public io::ByteSource {
 public:
  ChunkedSource(std::string_view data, size_t chunk) : data_(data), chunk_(chunk) {}
  Result<size_t> Read(char* buf, size_t n) override {
    size_t k = std::min(n, data_.size() - pos_);
    if (chunk_ > 0) k = std::min(k, chunk_);
    if (k > 0) std::memcpy(buf, data_.data() + pos_, k);
    pos_ += k;
    return k;
  }
  const std::string& name() const override { return name_; }

 private:
  std::string_view data_;
  size_t chunk_;
  size_t pos_ = 0;
  std::string name_ = "fuzz";
};

// Takes the first byte of the input as a set of option bits (0 for an empty input).
inline uint8_t TakeByte(std::string_view* data) {
  if (data->empty()) return 0;
  const auto b = static_cast<uint8_t>((*data)[0]);
  data->remove_prefix(1);
  return b;
}

// The csv and jsonl targets: the first byte picks the options, the second the read size, the
// rest is the file. Reads every record and checks what records.h promises: a record's text is
// valid UTF-8 without NUL, rows count up by one per record (bad ones included), a fatal error
// repeats, and every call makes progress (no more calls than lines).
inline void FuzzTextRecords(io::Format format, std::string_view data) {
  const uint8_t opts = TakeByte(&data);
  const size_t chunk = TakeByte(&data);
  constexpr size_t kMaxRecordBytes[] = {64 << 20, 8, 40, 300};
  const io::TextReaderOptions options{
      .text_field = (opts & 8) ? "label" : "text",  // bit 3: one column in two roles
      .label_field = (opts & 1) ? "label" : "",
      .id_field = (opts & 4) ? "id" : "",
      .require_label = (opts & 3) == 3,
      .max_record_bytes = kMaxRecordBytes[(opts >> 4) & 3],
  };
  auto reader =
      io::MakeTextRecordReader(format, std::make_unique<ChunkedSource>(data, chunk), options);
  Check(reader.ok(), "csv and jsonl readers take these options");
  const size_t max_calls = static_cast<size_t>(std::count(data.begin(), data.end(), '\n')) + 3;
  uint64_t last_row = 0;
  for (size_t calls = 0;; ++calls) {
    Check(calls < max_calls, "reader makes no progress");
    io::TextRecord record;
    auto more = (*reader)->Next(&record);
    if (more.ok() && !*more) break;
    if ((*reader)->failed()) {
      Check(!more.ok(), "failed() only after an error");
      auto again = (*reader)->Next(&record);
      Check(!again.ok() && again.status().code() == more.status().code(), "fatal errors repeat");
      break;
    }
    const uint64_t row = (*reader)->last_row();
    Check(row == last_row + 1, "rows count every record once");
    last_row = row;
    if (!more.ok()) {
      const StatusCode code = more.status().code();
      Check(code == StatusCode::kInvalidArgument || code == StatusCode::kResourceExhausted,
            "a bad record is InvalidArgument or ResourceExhausted");
      continue;
    }
    Check(io::internal::TextProblem(record.text).empty(), "record text is UTF-8 without NUL");
    Check(io::internal::TextProblem(record.label).empty(), "label is UTF-8 without NUL");
    Check(io::internal::TextProblem(record.id).empty(), "id is UTF-8 without NUL");
    Check(record.row == row && record.line >= 1, "record carries its row and line");
    Check(!options.require_label || record.has_label, "required labels are present");
    Check(record.text.size() <= options.max_record_bytes, "records respect the size cap");
  }
}

}  // namespace lote::fuzz

#endif  // LOTE_TESTS_FUZZ_FUZZ_UTIL_H_
