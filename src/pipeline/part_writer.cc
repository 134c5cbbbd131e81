#include "pipeline/part_writer.h"

#include <cstdio>

namespace lote::pipeline {
namespace {
constexpr size_t kPendingBytes = 64 << 10;
}  // namespace

PartWriter::PartWriter(storage::Storage* storage, std::string staged_prefix, std::string kind,
                       std::string partition, uint64_t max_part_bytes, int zstd_level)
    : storage_(storage),
      staged_prefix_(std::move(staged_prefix)),
      kind_(std::move(kind)),
      partition_(std::move(partition)),
      max_part_bytes_(max_part_bytes == 0 ? 1 : max_part_bytes),
      zstd_level_(zstd_level) {
  out_buf_.resize(ZSTD_CStreamOutSize());
}

PartWriter::~PartWriter() { ZSTD_freeCCtx(cctx_); }

Status PartWriter::Open() {
  char suffix[32];
  std::snprintf(suffix, sizeof(suffix), "-%05zu.jsonl.zst", parts_.size());
  LOTE_ASSIGN_OR_RETURN(writer_, storage_->NewWriter(staged_prefix_ + suffix));
  if (cctx_ == nullptr) {
    cctx_ = ZSTD_createCCtx();
    if (cctx_ == nullptr) return InternalError("zstd: cannot create a compression context");
  }
  ZSTD_CCtx_reset(cctx_, ZSTD_reset_session_and_parameters);
  ZSTD_CCtx_setParameter(cctx_, ZSTD_c_compressionLevel, zstd_level_);
  ZSTD_CCtx_setParameter(cctx_, ZSTD_c_checksumFlag, 1);
  sha_ = std::make_unique<Sha256>();
  part_raw_ = part_rows_ = part_bytes_ = 0;
  return Status::Ok();
}

Status PartWriter::Drain(ZSTD_EndDirective mode, std::string_view input) {
  ZSTD_inBuffer in{input.data(), input.size(), 0};
  while (true) {
    ZSTD_outBuffer out{out_buf_.data(), out_buf_.size(), 0};
    size_t remaining = ZSTD_compressStream2(cctx_, &out, &in, mode);
    if (ZSTD_isError(remaining)) {
      return InternalError(std::string("zstd: ") + ZSTD_getErrorName(remaining));
    }
    if (out.pos > 0) {
      std::string_view chunk(out_buf_.data(), out.pos);
      sha_->Update(chunk);
      part_bytes_ += out.pos;
      LOTE_RETURN_IF_ERROR(writer_->Append(chunk));
    }
    bool done = mode == ZSTD_e_continue ? in.pos == in.size : remaining == 0;
    if (done) return Status::Ok();
  }
}

Status PartWriter::AddRow(std::string_view line) {
  if (!writer_) LOTE_RETURN_IF_ERROR(Open());
  pending_.append(line);
  pending_.push_back('\n');
  part_raw_ += line.size() + 1;
  ++part_rows_;
  ++total_rows_;
  if (pending_.size() >= kPendingBytes) {
    LOTE_RETURN_IF_ERROR(Drain(ZSTD_e_continue, pending_));
    pending_.clear();
  }
  if (part_raw_ >= max_part_bytes_) return Close();
  return Status::Ok();
}

Status PartWriter::Close() {
  LOTE_RETURN_IF_ERROR(Drain(ZSTD_e_end, pending_));
  pending_.clear();
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
