// Fuzzes the streaming gzip and zstd decorators (src/io/byte_source.cc) under a LineReader.
// Input: one byte of options (bit 0: zstd, else gzip; bits 1-3: output read size), one byte of
// compressed read size, then the compressed bytes. Reads at most 4 MiB of output.
#include <string>
#include <string_view>

#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  using namespace lote;
  using fuzz::Check;
  std::string_view data(reinterpret_cast<const char*>(bytes), size);
  const uint8_t opts = fuzz::TakeByte(&data);
  const size_t chunk = fuzz::TakeByte(&data);
  auto inner = std::make_unique<fuzz::ChunkedSource>(data, chunk);
  std::unique_ptr<io::ByteSource> source =
      (opts & 1) ? io::MakeZstdSource(std::move(inner)) : io::MakeGzipSource(std::move(inner));
  if (opts & 2) {
    // Through the line splitter, with a small line limit so over-long lines happen.
    io::LineReader lines(source.get(), 1000);
    std::string line;
    for (size_t total = 0; total < (4u << 20);) {
      auto more = lines.Next(&line);
      if (more.ok() && !*more) break;
      if (!more.ok()) {
        if (more.status().code() == StatusCode::kResourceExhausted) {
          total += 1000;
          continue;
        }
        Check(more.status().code() == StatusCode::kDataLoss, "corrupt streams are DataLoss");
        auto again = lines.Next(&line);
        Check(!again.ok() && again.status().code() == StatusCode::kDataLoss, "errors repeat");
        break;
      }
      Check(line.size() <= 1000, "lines respect the limit");
      total += line.size() + 1;
    }
    return 0;
  }
  const size_t read_size = 1 + ((opts >> 2) & 7) * 97;
  std::string buf(read_size, '\0');
  for (size_t total = 0; total < (4u << 20);) {
    auto got = source->Read(buf.data(), buf.size());
    if (!got.ok()) {
      Check(got.status().code() == StatusCode::kDataLoss, "corrupt streams are DataLoss");
      auto again = source->Read(buf.data(), buf.size());
      Check(!again.ok(), "errors repeat");
      break;
    }
    if (*got == 0) {
      auto again = source->Read(buf.data(), buf.size());
      Check(again.ok() && *again == 0, "the end stays the end");
      break;
    }
    Check(*got <= buf.size(), "reads fit the buffer");
    total += *got;
  }
  return 0;
}
