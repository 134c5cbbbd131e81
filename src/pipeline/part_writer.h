// PartWriter: JSON lines compressed with zstd (streaming, libzstd) into staged objects, a new
// part whenever the current one holds max_part_bytes of uncompressed rows. Each part's SHA-256
// (of the compressed bytes, i.e. of the published file) and sizes are kept for the manifest.
// ZstdLineCompressor: the compression itself, into any sink (PartWriter's objects, a string).
// Thread-safety: one thread.
#ifndef LOTE_SRC_PIPELINE_PART_WRITER_H_
#define LOTE_SRC_PIPELINE_PART_WRITER_H_

#include <zstd.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "lote/base/digest.h"
#include "lote/base/status.h"
#include "lote/pipeline/ledger.h"
#include "lote/storage/storage.h"

namespace lote::pipeline {

// "-NNNNN.jsonl.zst": the suffix of part `index` of a stage or results file.
std::string PartSuffix(size_t index);

// Lines into zstd frames (the given level, content checksums), rows batched before compression;
// every compressed chunk goes to `sink` as it is made.
class ZstdLineCompressor {
 public:
  ZstdLineCompressor(int level, std::function<Status(std::string_view)> sink);
  ~ZstdLineCompressor();
  ZstdLineCompressor(const ZstdLineCompressor&) = delete;
  ZstdLineCompressor& operator=(const ZstdLineCompressor&) = delete;

  // Appends `line` and a newline. Errors: the sink's, Internal for a zstd failure.
  Status AddLine(std::string_view line);
  // Ends the current frame (an empty one when nothing was added); the next line starts another.
  Status EndFrame();

 private:
  Status Drain(ZSTD_EndDirective mode);

  ZSTD_CCtx* cctx_;
  std::function<Status(std::string_view)> sink_;
  std::string out_buf_;
  std::string pending_;  // rows batched before compression (fewer zstd calls)
};

class PartWriter {
 public:
  // Parts are staged at `staged_prefix` + "-NNNNN.jsonl.zst"; `kind` and `partition` are copied
  // into the StagedPart records.
  PartWriter(storage::Storage* storage, std::string staged_prefix, std::string kind,
             std::string partition, uint64_t max_part_bytes, int zstd_level);
  ~PartWriter();
  PartWriter(const PartWriter&) = delete;
  PartWriter& operator=(const PartWriter&) = delete;

  // Appends one row (`line` without its newline). Errors: those of the storage (e.g.
  // ResourceExhausted when the disk is full), Internal for a zstd failure.
  Status AddRow(std::string_view line);
  // Opens a part when none was opened yet, so that Finish leaves one even without rows (an empty
  // data file stands for an object without records).
  Status OpenIfNone() { return writer_ || !parts_.empty() ? Status::Ok() : Open(); }
  // Closes the current part (making it visible at its staged name). Idempotent.
  Status Finish();
  // Parts closed so far.
  const std::vector<StagedPart>& parts() const { return parts_; }
  uint64_t rows() const { return total_rows_; }

 private:
  Status Open();
  Status Close();

  storage::Storage* storage_;
  std::string staged_prefix_;
  std::string kind_;
  std::string partition_;
  uint64_t max_part_bytes_;
  ZstdLineCompressor zstd_;  // writes into writer_, hashing into sha_
  std::unique_ptr<storage::ObjectWriter> writer_;
  std::unique_ptr<Sha256> sha_;
  uint64_t part_raw_ = 0;
  uint64_t part_rows_ = 0;
  uint64_t part_bytes_ = 0;
  uint64_t total_rows_ = 0;
  std::vector<StagedPart> parts_;
};

}  // namespace lote::pipeline

#endif  // LOTE_SRC_PIPELINE_PART_WRITER_H_
