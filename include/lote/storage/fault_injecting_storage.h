// FaultInjectingStorage: wraps a Storage and makes chosen writes fail, as leveldb's fault
// injection Env does, so tests can prove that a failed write leaves a resumable state.
// Thread-safety: all methods are thread-safe.
#ifndef LOTE_STORAGE_FAULT_INJECTING_STORAGE_H_
#define LOTE_STORAGE_FAULT_INJECTING_STORAGE_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "lote/storage/storage.h"

namespace lote::storage {

class FaultInjectingStorage : public Storage {
 public:
  explicit FaultInjectingStorage(std::shared_ptr<Storage> base);

  // The `n`th write operation from now (1-based; each Write, ObjectWriter::Append,
  // ObjectWriter::Close, CreateIfAbsent, Rename, Delete and DeletePrefix counts one) and, if
  // `sticky`, every later one, fails with `status` instead of reaching the base storage. n == 0
  // disables.
  void FailNthWrite(uint64_t n, Status status, bool sticky = false);

  // Simulates a full disk: once `bytes` more bytes have been appended or written, writes fail
  // with ResourceExhausted ("No space left on device"). Negative: no limit.
  void SetSpaceLeft(int64_t bytes);

  // From now on, locks taken through this storage report themselves lost (StorageLock::Check
  // answers Aborted), as an S3 lock taken over after it expired unrenewed.
  void LoseLocks() { locks_lost_->store(true); }

  // Number of write operations seen so far (failed ones included).
  uint64_t write_count() const { return write_count_.load(); }

  std::string_view scheme() const override { return base_->scheme(); }
  bool etags_identify_content() const override { return base_->etags_identify_content(); }
  Result<std::vector<ObjectInfo>> List(std::string_view pattern) const override;
  Result<std::vector<ObjectInfo>> ListAfter(std::string_view pattern,
                                            std::string_view after) const override {
    return base_->ListAfter(pattern, after);
  }
  Result<ObjectInfo> Stat(std::string_view uri) const override;
  Result<std::string> Read(std::string_view uri) const override;
  Result<std::string> ReadRange(std::string_view uri, uint64_t offset,
                                uint64_t length) const override;
  Result<std::unique_ptr<io::ByteSource>> OpenRead(std::string_view uri) const override;
  Status Write(std::string_view uri, std::string_view data) override;
  Result<std::unique_ptr<ObjectWriter>> NewWriter(std::string_view uri) override;
  Status CreateIfAbsent(std::string_view uri, std::string_view data) override;
  Status Delete(std::string_view uri) override;
  Status DeletePrefix(std::string_view prefix) override;
  Status Rename(std::string_view from, std::string_view to) override;
  Result<std::unique_ptr<StorageLock>> TryLock(std::string_view uri,
                                               std::string_view owner) override;
  bool is_local() const override { return base_->is_local(); }
  Result<std::string> LocalPath(std::string_view uri) const override {
    return base_->LocalPath(uri);
  }

  // Called by every write path with the bytes it is about to write; returns the injected error
  // or OK. Public for the writer wrapper in the .cc; not meant for callers.
  Status BeforeWrite(uint64_t bytes);

 private:
  std::shared_ptr<Storage> base_;
  std::atomic<uint64_t> write_count_{0};
  std::mutex mu_;
  uint64_t fail_at_ = 0;  // absolute write count that fails; 0 = none
  bool sticky_ = false;
  Status fail_status_;
  int64_t space_left_ = -1;
  std::shared_ptr<std::atomic<bool>> locks_lost_ = std::make_shared<std::atomic<bool>>(false);
};

}  // namespace lote::storage

#endif  // LOTE_STORAGE_FAULT_INJECTING_STORAGE_H_
