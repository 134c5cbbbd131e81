#include "lote/io/byte_source.h"

#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cstring>
#include <vector>

namespace lote::io {

namespace {

class StringSource : public ByteSource {
 public:
  StringSource(std::string_view data, std::string name) : data_(data), name_(std::move(name)) {}
  Result<size_t> Read(char* buf, size_t n) override {
    size_t k = std::min(n, data_.size() - pos_);
    std::memcpy(buf, data_.data() + pos_, k);
    pos_ += k;
    return k;
  }
  const std::string& name() const override { return name_; }

 private:
  std::string_view data_;
  std::string name_;
  size_t pos_ = 0;
};

class OwnedStringSource : public ByteSource {
 public:
  OwnedStringSource(std::string data, std::string name)
      : data_(std::move(data)), view_(data_, std::move(name)) {}
  Result<size_t> Read(char* buf, size_t n) override { return view_.Read(buf, n); }
  const std::string& name() const override { return view_.name(); }

 private:
  std::string data_;
  StringSource view_;  // views data_, declared after it
};

constexpr size_t kCompressedChunk = 64 << 10;

// Shared by both decompressors: the compressed input buffer and the sticky error.
class DecompressingSource : public ByteSource {
 public:
  explicit DecompressingSource(std::unique_ptr<ByteSource> inner)
      : inner_(std::move(inner)), in_(kCompressedChunk) {}
  const std::string& name() const override { return inner_->name(); }

 protected:
  // Refills in_ when it is used up. Returns false at the inner source's end.
  Result<bool> Refill() {
    if (in_pos_ < in_len_) return true;
    if (inner_eof_) return false;
    LOTE_ASSIGN_OR_RETURN(size_t got, inner_->Read(in_.data(), in_.size()));
    in_pos_ = 0;
    in_len_ = got;
    if (got == 0) {
      inner_eof_ = true;
      return false;
    }
    saw_input_ = true;
    return true;
  }
  Status Fail(std::string_view format, std::string_view reason) {
    error_ = DataLossError(inner_->name() + ": corrupt " + std::string(format) +
                           " stream: " + std::string(reason));
    return error_;
  }

  std::unique_ptr<ByteSource> inner_;
  std::vector<char> in_;
  size_t in_pos_ = 0;
  size_t in_len_ = 0;
  bool inner_eof_ = false;
  bool saw_input_ = false;
  bool done_ = false;
  Status error_;
};

class GzipSource : public DecompressingSource {
 public:
  explicit GzipSource(std::unique_ptr<ByteSource> inner) : DecompressingSource(std::move(inner)) {
    std::memset(&zs_, 0, sizeof(zs_));
    // 16 + MAX_WBITS: gzip header and trailer (CRC-32, length) are required and checked.
    init_ok_ = inflateInit2(&zs_, 16 + MAX_WBITS) == Z_OK;
  }
  ~GzipSource() override {
    if (init_ok_) inflateEnd(&zs_);
  }

  Result<size_t> Read(char* buf, size_t n) override {
    if (!error_.ok()) return error_;
    if (!init_ok_) return Fail("gzip", "cannot initialise zlib");
    if (done_ || n == 0) return size_t{0};
    zs_.next_out = reinterpret_cast<Bytef*>(buf);
    zs_.avail_out = static_cast<uInt>(std::min<size_t>(n, 1u << 30));
    const size_t want = zs_.avail_out;
    while (zs_.avail_out == want) {
      auto more = Refill();
      if (!more.ok()) return error_ = more.status();
      if (!*more) {
        if (!saw_input_ || member_ended_) {
          done_ = true;
          break;
        }
        return Fail("gzip", "truncated");
      }
      if (member_ended_) {
        // Another member follows (concatenated .gz files are one stream for gzip -d).
        if (inflateReset(&zs_) != Z_OK) return Fail("gzip", "cannot reset zlib");
        member_ended_ = false;
      }
      zs_.next_in = reinterpret_cast<Bytef*>(in_.data() + in_pos_);
      zs_.avail_in = static_cast<uInt>(in_len_ - in_pos_);
      int rc = inflate(&zs_, Z_NO_FLUSH);
      in_pos_ = in_len_ - zs_.avail_in;
      if (rc == Z_STREAM_END) {
        member_ended_ = true;
      } else if (rc == Z_BUF_ERROR) {
        // No progress possible with this input: loop refills (avail_in is 0 here).
        if (zs_.avail_in != 0) return Fail("gzip", "no progress");
      } else if (rc != Z_OK) {
        return Fail("gzip", zs_.msg != nullptr ? zs_.msg : "inflate error");
      }
    }
    return want - zs_.avail_out;
  }

 private:
  z_stream zs_;
  bool init_ok_ = false;
  bool member_ended_ = false;
};

class ZstdSource : public DecompressingSource {
 public:
  explicit ZstdSource(std::unique_ptr<ByteSource> inner)
      : DecompressingSource(std::move(inner)), dctx_(ZSTD_createDCtx()) {}
  ~ZstdSource() override { ZSTD_freeDCtx(dctx_); }

  Result<size_t> Read(char* buf, size_t n) override {
    if (!error_.ok()) return error_;
    if (dctx_ == nullptr) return Fail("zstd", "cannot create context");
    if (done_ || n == 0) return size_t{0};
    ZSTD_outBuffer out{buf, n, 0};
    while (out.pos == 0) {
      // zstd may hold decoded bytes internally: flush those before asking for input.
      if (in_pos_ == in_len_ && !pending_) {
        auto more = Refill();
        if (!more.ok()) return error_ = more.status();
        if (!*more) {
          if (!saw_input_ || frame_ended_) {
            done_ = true;
            break;
          }
          return Fail("zstd", "truncated");
        }
      }
      ZSTD_inBuffer in{in_.data(), in_len_, in_pos_};
      const size_t out_before = out.pos;
      size_t rc = ZSTD_decompressStream(dctx_, &out, &in);
      if (ZSTD_isError(rc)) return Fail("zstd", ZSTD_getErrorName(rc));
      // A call that moved nothing (flush attempt after a frame's end) returns the next frame's
      // header hint: it must not turn a finished frame into an unfinished one.
      if (in.pos != in_pos_ || out.pos != out_before) frame_ended_ = rc == 0;
      in_pos_ = in.pos;
      // A full output buffer may leave decoded bytes inside zstd.
      pending_ = out.pos == out.size;
    }
    return out.pos;
  }

 private:
  ZSTD_DCtx* dctx_;
  bool frame_ended_ = false;
  bool pending_ = false;
};

bool EndsWithIgnoreCase(std::string_view s, std::string_view suffix) {
  if (s.size() < suffix.size()) return false;
  for (size_t i = 0; i < suffix.size(); ++i) {
    char c = s[s.size() - suffix.size() + i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != suffix[i]) return false;
  }
  return true;
}

constexpr size_t kLineChunk = 64 << 10;

}  // namespace

std::unique_ptr<ByteSource> MakeStringSource(std::string_view data, std::string name) {
  return std::make_unique<StringSource>(data, std::move(name));
}

std::unique_ptr<ByteSource> MakeOwnedStringSource(std::string data, std::string name) {
  return std::make_unique<OwnedStringSource>(std::move(data), std::move(name));
}

std::unique_ptr<ByteSource> MakeGzipSource(std::unique_ptr<ByteSource> inner) {
  return std::make_unique<GzipSource>(std::move(inner));
}

std::unique_ptr<ByteSource> MakeZstdSource(std::unique_ptr<ByteSource> inner) {
  return std::make_unique<ZstdSource>(std::move(inner));
}

std::unique_ptr<ByteSource> MaybeDecompress(std::unique_ptr<ByteSource> inner) {
  const std::string& name = inner->name();
  if (EndsWithIgnoreCase(name, ".gz")) return MakeGzipSource(std::move(inner));
  if (EndsWithIgnoreCase(name, ".zst")) return MakeZstdSource(std::move(inner));
  return inner;
}

LineReader::LineReader(ByteSource* source, size_t max_line_bytes)
    : source_(source), max_line_bytes_(max_line_bytes) {}

Status LineReader::Fill() {
  // Drop consumed bytes first so the buffer holds at most one line plus one chunk.
  if (pos_ > 0) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  // Read into a chunk that is never cleared, then append what arrived: growing buf_ by a whole
  // chunk for each read zero-filled 64 KiB per call, whatever the source returned (a source that
  // hands out a few bytes at a time made reading a file cost 64 KiB of writes per read).
  if (!chunk_) chunk_ = std::make_unique_for_overwrite<char[]>(kLineChunk);
  auto got = source_->Read(chunk_.get(), kLineChunk);
  if (!got.ok()) {
    error_ = got.status();
    return error_;
  }
  buf_.append(chunk_.get(), *got);
  if (*got == 0) eof_ = true;
  return Status::Ok();
}

Result<bool> LineReader::Next(std::string* line) {
  if (!error_.ok()) return error_;
  had_crlf_ = false;
  bool too_long = false;
  for (;;) {
    size_t nl = buf_.find('\n', pos_ + scan_);
    size_t end = nl != std::string::npos ? nl : buf_.size();
    if (at_start_ && end - pos_ >= 3 && buf_.compare(pos_, 3, "\xEF\xBB\xBF") == 0) {
      pos_ += 3;
      scan_ = scan_ >= 3 ? scan_ - 3 : 0;
      at_start_ = false;
      continue;
    }
    if (nl == std::string::npos && !eof_) {
      scan_ = buf_.size() - pos_;
      // max + 1: the line may still end with "\r\n" and be exactly max bytes long.
      if (scan_ > max_line_bytes_ + 1) {
        // Discard without buffering: memory stays bounded by the limit, not by the line.
        too_long = true;
        pos_ = buf_.size();
        scan_ = 0;
      }
      // Keep a possible BOM prefix until three bytes are there to decide.
      if (at_start_ && buf_.size() - pos_ >= 3) at_start_ = false;
      LOTE_RETURN_IF_ERROR(Fill());
      continue;
    }
    at_start_ = false;
    scan_ = 0;
    if (nl == std::string::npos && pos_ == buf_.size()) {
      if (!too_long) return false;
      // A too-long final line without newline.
      ++line_number_;
      return ResourceExhaustedError(source_->name() + ":" + std::to_string(line_number_) +
                                    ": line longer than " + std::to_string(max_line_bytes_) +
                                    " bytes");
    }
    size_t len = end - pos_;
    bool cr = len > 0 && buf_[end - 1] == '\r';
    if (cr) --len;
    ++line_number_;
    if (too_long || len > max_line_bytes_) {
      pos_ = nl != std::string::npos ? nl + 1 : buf_.size();
      return ResourceExhaustedError(source_->name() + ":" + std::to_string(line_number_) +
                                    ": line longer than " + std::to_string(max_line_bytes_) +
                                    " bytes");
    }
    line->assign(buf_, pos_, len);
    had_crlf_ = cr && nl != std::string::npos;
    pos_ = nl != std::string::npos ? nl + 1 : buf_.size();
    return true;
  }
}

}  // namespace lote::io
