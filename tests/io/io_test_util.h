// Helpers shared by the io tests: sources that misbehave on purpose, compressors, draining.
#ifndef LOTE_TESTS_IO_IO_TEST_UTIL_H_
#define LOTE_TESTS_IO_IO_TEST_UTIL_H_

#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "lote/io/byte_source.h"
#include "lote/io/records.h"

namespace lote::io::testing {

// Returns at most `chunk` bytes per Read, to hit every buffer boundary.
class TrickleSource : public ByteSource {
 public:
  TrickleSource(std::string data, size_t chunk, std::string name = "trickle")
      : data_(std::move(data)), chunk_(chunk), name_(std::move(name)) {}
  Result<size_t> Read(char* buf, size_t n) override {
    size_t k = std::min({n, chunk_, data_.size() - pos_});
    std::memcpy(buf, data_.data() + pos_, k);
    pos_ += k;
    return k;
  }
  const std::string& name() const override { return name_; }

 private:
  std::string data_;
  size_t chunk_;
  std::string name_;
  size_t pos_ = 0;
};

// Serves `data`, then fails with Unavailable.
class FailingSource : public ByteSource {
 public:
  explicit FailingSource(std::string data) : data_(std::move(data)) {}
  Result<size_t> Read(char* buf, size_t n) override {
    if (pos_ == data_.size()) return UnavailableError("disk on fire");
    size_t k = std::min(n, data_.size() - pos_);
    std::memcpy(buf, data_.data() + pos_, k);
    pos_ += k;
    return k;
  }
  const std::string& name() const override { return name_; }

 private:
  std::string data_;
  std::string name_ = "failing";
  size_t pos_ = 0;
};

// One gzip member holding `data`.
inline std::string GzipCompress(const std::string& data) {
  z_stream zs;
  std::memset(&zs, 0, sizeof(zs));
  if (deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) std::abort();
  std::string out(deflateBound(&zs, data.size()) + 64, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  if (deflate(&zs, Z_FINISH) != Z_STREAM_END) std::abort();
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

// One zstd frame holding `data`.
inline std::string ZstdCompress(const std::string& data) {
  std::string out(ZSTD_compressBound(data.size()), '\0');
  size_t n = ZSTD_compress(out.data(), out.size(), data.data(), data.size(), 3);
  if (ZSTD_isError(n)) std::abort();
  out.resize(n);
  return out;
}

// Reads the whole source in reads of `chunk` bytes.
inline Result<std::string> Drain(ByteSource* source, size_t chunk = 4096) {
  std::string out;
  std::vector<char> buf(chunk);
  for (;;) {
    LOTE_ASSIGN_OR_RETURN(size_t n, source->Read(buf.data(), buf.size()));
    if (n == 0) return out;
    out.append(buf.data(), n);
  }
}

// Every outcome of a TextRecordReader until the end (or a fatal error).
struct Outcome {
  bool ok;
  TextRecord record;
  Status status;
};
inline std::vector<Outcome> ReadAll(TextRecordReader* reader, size_t limit = 1000000) {
  std::vector<Outcome> out;
  for (size_t i = 0; i < limit; ++i) {
    TextRecord r;
    auto more = reader->Next(&r);
    if (more.ok() && !*more) break;
    out.push_back({more.ok(), std::move(r), more.ok() ? Status() : more.status()});
    if (reader->failed()) break;
  }
  return out;
}

// Path of the shared datasets folder (LOTE_DATASETS overrides the default).
inline std::string DatasetsDir() {
  const char* env = std::getenv("LOTE_DATASETS");
  if (env != nullptr && *env != '\0') return env;
  return LOTE_SOURCE_DIR "/../shared/datasets";
}

}  // namespace lote::io::testing

#endif  // LOTE_TESTS_IO_IO_TEST_UTIL_H_
