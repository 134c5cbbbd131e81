// Sequential byte sources: what readers consume. Implementations: in-memory strings, files
// (through the storage layer), and decompressing decorators for .gz and .zst.
// Thread-safety: a source is used by one thread at a time.
#ifndef LOTE_IO_BYTE_SOURCE_H_
#define LOTE_IO_BYTE_SOURCE_H_

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "lote/base/status.h"

namespace lote::io {

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Reads up to `n` bytes into `buf`; returns the count, 0 only at end of data.
  // Errors: Unavailable / DataLoss (I/O error, corrupt compressed stream).
  virtual Result<size_t> Read(char* buf, size_t n) = 0;
  // Name used in error messages (a path or URI).
  virtual const std::string& name() const = 0;
};

// A source over bytes the caller keeps alive.
std::unique_ptr<ByteSource> MakeStringSource(std::string_view data, std::string name);
// A source that owns its bytes.
std::unique_ptr<ByteSource> MakeOwnedStringSource(std::string data, std::string name);
// Decompressing decorators.
std::unique_ptr<ByteSource> MakeGzipSource(std::unique_ptr<ByteSource> inner);
std::unique_ptr<ByteSource> MakeZstdSource(std::unique_ptr<ByteSource> inner);
// Wraps `inner` in the decompressor its name's extension calls for (.gz, .zst), else returns it.
std::unique_ptr<ByteSource> MaybeDecompress(std::unique_ptr<ByteSource> inner);

// Splits a source into lines ('\n', a preceding '\r' removed), buffering only one line.
class LineReader {
 public:
  // `max_line_bytes`: a longer line is an error (ResourceExhausted naming the line) and is
  // skipped, so the caller may continue with the next line.
  explicit LineReader(ByteSource* source, size_t max_line_bytes = 64 << 20);
  // Sets *line to the next line (without terminator) and returns true; false at end.
  Result<bool> Next(std::string* line);
  // 1-based number of the line last returned.
  uint64_t line_number() const { return line_number_; }

 private:
  Status Fill();
  ByteSource* source_;
  size_t max_line_bytes_;
  std::string buf_;
  size_t pos_ = 0;
  bool eof_ = false;
  uint64_t line_number_ = 0;
};

}  // namespace lote::io

#endif  // LOTE_IO_BYTE_SOURCE_H_
