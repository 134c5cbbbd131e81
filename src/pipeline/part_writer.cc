#include "pipeline/part_writer.h"

#include <cstdio>

namespace lote::pipeline {
namespace {
constexpr size_t kPendingBytes = 64 << 10;
}  // namespace

std::string PartSuffix(size_t index) {
  char suffix[32];
  std::snprintf(suffix, sizeof(suffix), "-%05zu.jsonl.zst", index);
  return suffix;
}

ZstdLineCompressor::ZstdLineCompressor(int level, std::function<Status(std::string_view)> sink)
    : cctx_(ZSTD_createCCtx()), sink_(std::move(sink)) {
  if (cctx_ != nullptr) {
    ZSTD_CCtx_setParameter(cctx_, ZSTD_c_compressionLevel, level);
    ZSTD_CCtx_setParameter(cctx_, ZSTD_c_checksumFlag, 1);
  }
  out_buf_.resize(ZSTD_CStreamOutSize());
}

ZstdLineCompressor::~ZstdLineCompressor() { ZSTD_freeCCtx(cctx_); }

Status ZstdLineCompressor::AddLine(std::string_view line) {
  pending_.append(line);
  pending_.push_back('\n');
  return pending_.size() >= kPendingBytes ? Drain(ZSTD_e_continue) : Status::Ok();
}

Status ZstdLineCompressor::EndFrame() { return Drain(ZSTD_e_end); }

Status ZstdLineCompressor::Drain(ZSTD_EndDirective mode) {
  if (cctx_ == nullptr) return InternalError("zstd: cannot create a compression context");
  ZSTD_inBuffer in{pending_.data(), pending_.size(), 0};
  while (true) {
    ZSTD_outBuffer out{out_buf_.data(), out_buf_.size(), 0};
    size_t remaining = ZSTD_compressStream2(cctx_, &out, &in, mode);
    if (ZSTD_isError(remaining)) {
      return InternalError(std::string("zstd: ") + ZSTD_getErrorName(remaining));
    }
    if (out.pos > 0) LOTE_RETURN_IF_ERROR(sink_(std::string_view(out_buf_.data(), out.pos)));
    bool done = mode == ZSTD_e_continue ? in.pos == in.size : remaining == 0;
    if (done) break;
  }
  pending_.clear();
  return Status::Ok();
}

PartWriter::PartWriter(storage::Storage* storage, std::string staged_prefix, std::string kind,
                       std::string partition, uint64_t max_part_bytes, int zstd_level)
    : storage_(storage),
      staged_prefix_(std::move(staged_prefix)),
      kind_(std::move(kind)),
      partition_(std::move(partition)),
      max_part_bytes_(max_part_bytes == 0 ? 1 : max_part_bytes),
      zstd_(zstd_level, [this](std::string_view chunk) {
        sha_->Update(chunk);
        part_bytes_ += chunk.size();
        return writer_->Append(chunk);
      }) {}

PartWriter::~PartWriter() = default;

Status PartWriter::Open() {
  LOTE_ASSIGN_OR_RETURN(writer_, storage_->NewWriter(staged_prefix_ + PartSuffix(parts_.size())));
  sha_ = std::make_unique<Sha256>();
  part_raw_ = part_rows_ = part_bytes_ = 0;
  return Status::Ok();
}

Status PartWriter::AddRow(std::string_view line) {
  if (!writer_) LOTE_RETURN_IF_ERROR(Open());
  LOTE_RETURN_IF_ERROR(zstd_.AddLine(line));
  part_raw_ += line.size() + 1;
  ++part_rows_;
  ++total_rows_;
  if (part_raw_ >= max_part_bytes_) return Close();
  return Status::Ok();
}

Status PartWriter::Close() {
  LOTE_RETURN_IF_ERROR(zstd_.EndFrame());
  LOTE_RETURN_IF_ERROR(writer_->Close());
  StagedPart part;
  part.kind = kind_;
  part.partition = partition_;
  part.staged_uri = writer_->uri();
  part.rows = part_rows_;
  part.bytes = part_bytes_;
  part.sha256 = sha_->FinalHex();
  parts_.push_back(std::move(part));
  writer_.reset();
  return Status::Ok();
}

Status PartWriter::Finish() {
  if (!writer_) return Status::Ok();
  return Close();
}

}  // namespace lote::pipeline
