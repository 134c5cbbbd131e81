// Sequential byte sources: what readers consume. Implementations: in-memory strings, files
// (through the storage layer), and decompressing decorators for .gz and .zst.
// Thread-safety: a source is used by one thread at a time.
#ifndef LOTE_IO_BYTE_SOURCE_H_
#define LOTE_IO_BYTE_SOURCE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "lote/base/status.h"

namespace lote::io {

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Reads up to `n` bytes (n > 0) into `buf`; returns the count, 0 only at end of data.
  // Errors: Unavailable / DataLoss (I/O error, corrupt compressed stream). After an error the
  // source is unusable: later calls return the same error.
  virtual Result<size_t> Read(char* buf, size_t n) = 0;
  // Name used in error messages (a path or URI).
  virtual const std::string& name() const = 0;
};

// A source over bytes the caller keeps alive.
std::unique_ptr<ByteSource> MakeStringSource(std::string_view data, std::string name);
// A source that owns its bytes.
std::unique_ptr<ByteSource> MakeOwnedStringSource(std::string data, std::string name);
// Streaming decompressing decorators; their name is the inner source's name. Gzip accepts
// several concatenated members (as `gzip -d` does), zstd several frames. A corrupt or truncated
// stream is DataLoss naming the source. An inner source with no bytes at all decompresses to no
// bytes (an empty file is not an error for the readers; the caller decides).
std::unique_ptr<ByteSource> MakeGzipSource(std::unique_ptr<ByteSource> inner);
std::unique_ptr<ByteSource> MakeZstdSource(std::unique_ptr<ByteSource> inner);
// Wraps `inner` in the decompressor its name's extension calls for (.gz, .zst; case-insensitive),
// else returns it.
std::unique_ptr<ByteSource> MaybeDecompress(std::unique_ptr<ByteSource> inner);

// Splits a source into lines ('\n', a preceding '\r' removed), buffering only one line: memory
// stays bounded by max_line_bytes plus one read chunk, whatever the size of the source. A final
// line without '\n' is returned; a UTF-8 byte order mark at the very start is dropped.
class LineReader {
 public:
  // `source` must outlive the reader. `max_line_bytes`: a longer line is an error
  // (ResourceExhausted "NAME:LINE: line longer than ...") and is skipped without being buffered,
  // so the caller may continue with the next line.
  explicit LineReader(ByteSource* source, size_t max_line_bytes = 64 << 20);
  // Sets *line to the next line (without terminator) and returns true; false at end.
  // Errors: ResourceExhausted for an over-long line (the reader stays usable); errors of the
  // source (Unavailable, DataLoss), which are fatal: every later call returns them again.
  Result<bool> Next(std::string* line);
  // 1-based number of the line last returned (or reported as too long).
  uint64_t line_number() const { return line_number_; }
  // Whether the line last returned ended with "\r\n" (CSV keeps it inside quoted fields).
  bool had_crlf() const { return had_crlf_; }
  // Name of the underlying source, for error messages.
  const std::string& source_name() const { return source_->name(); }

 private:
  Status Fill();
  ByteSource* source_;
  size_t max_line_bytes_;
  std::string buf_;
  std::unique_ptr<char[]> chunk_;  // what one Read() fills, allocated on first use
  size_t pos_ = 0;                 // start of the unconsumed bytes in buf_
  size_t scan_ = 0;                // bytes after pos_ already known to hold no '\n'
  bool eof_ = false;
  bool at_start_ = true;  // nothing returned yet: a BOM may still be dropped
  bool had_crlf_ = false;
  Status error_;  // sticky source error
  uint64_t line_number_ = 0;
};

}  // namespace lote::io

#endif  // LOTE_IO_BYTE_SOURCE_H_
