// Little-endian binary encoding used inside model files (ByteWriter / ByteReader).
// ByteReader never reads past its buffer: every getter reports truncation as DataLoss.
// Thread-safety: instances are not shared; the bytes a reader views must outlive it.
#ifndef LOTE_MODEL_BYTES_H_
#define LOTE_MODEL_BYTES_H_

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "lote/base/status.h"

namespace lote::model {

class ByteWriter {
 public:
  template <typename T>
  requires std::is_arithmetic_v<T>
  void Put(T v) {
    // Model files are little-endian; lote only builds on little-endian hosts (checked in .cc).
    char buf[sizeof(T)];
    std::memcpy(buf, &v, sizeof(T));
    out_.append(buf, sizeof(T));
  }
  void PutString(std::string_view s) {
    Put<uint64_t>(s.size());
    out_.append(s.data(), s.size());
  }
  template <typename T>
  requires std::is_arithmetic_v<T>
  void PutVector(const std::vector<T>& v) {
    Put<uint64_t>(v.size());
    if (!v.empty()) out_.append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
  }
  void PutStrings(const std::vector<std::string>& v) {
    Put<uint64_t>(v.size());
    for (const auto& s : v) PutString(s);
  }
  const std::string& bytes() const { return out_; }
  std::string Release() { return std::move(out_); }

 private:
  std::string out_;
};

class ByteReader {
 public:
  // `what` names the section in error messages, e.g. "classifier.weights".
  ByteReader(std::string_view bytes, std::string what) : data_(bytes), what_(std::move(what)) {}

  template <typename T>
  requires std::is_arithmetic_v<T> Status Get(T* v) {
    if (data_.size() - pos_ < sizeof(T)) return Truncated();
    std::memcpy(v, data_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return Status::Ok();
  }
  Status GetString(std::string* s) {
    uint64_t n = 0;
    LOTE_RETURN_IF_ERROR(Get(&n));
    if (data_.size() - pos_ < n) return Truncated();
    s->assign(data_.data() + pos_, n);
    pos_ += n;
    return Status::Ok();
  }
  template <typename T>
  requires std::is_arithmetic_v<T> Status GetVector(std::vector<T>* v) {
    uint64_t n = 0;
    LOTE_RETURN_IF_ERROR(Get(&n));
    if (n > (data_.size() - pos_) / sizeof(T)) return Truncated();
    v->resize(n);
    if (n) std::memcpy(v->data(), data_.data() + pos_, n * sizeof(T));
    pos_ += n * sizeof(T);
    return Status::Ok();
  }
  Status GetStrings(std::vector<std::string>* v) {
    uint64_t n = 0;
    LOTE_RETURN_IF_ERROR(Get(&n));
    // Each string needs at least 8 bytes of length: bounds n before any allocation.
    if (n > (data_.size() - pos_) / 8) return Truncated();
    v->resize(n);
    for (auto& s : *v) LOTE_RETURN_IF_ERROR(GetString(&s));
    return Status::Ok();
  }
  bool AtEnd() const { return pos_ == data_.size(); }
  // DataLoss unless every byte was consumed (catches format drift between writer and reader).
  Status ExpectEnd() const {
    if (AtEnd()) return Status::Ok();
    return DataLossError(what_ + ": " + std::to_string(data_.size() - pos_) +
                         " unexpected trailing bytes");
  }

 private:
  Status Truncated() const {
    return DataLossError(what_ + ": truncated at byte " + std::to_string(pos_));
  }
  std::string_view data_;
  size_t pos_ = 0;
  std::string what_;
};

}  // namespace lote::model

#endif  // LOTE_MODEL_BYTES_H_
