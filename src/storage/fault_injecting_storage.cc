#include "lote/storage/fault_injecting_storage.h"

namespace lote::storage {
namespace {

class FaultWriter : public ObjectWriter {
 public:
  FaultWriter(FaultInjectingStorage* owner, std::unique_ptr<ObjectWriter> base)
      : owner_(owner), base_(std::move(base)) {}
  Status Append(std::string_view data) override {
    LOTE_RETURN_IF_ERROR(owner_->BeforeWrite(data.size()));
    return base_->Append(data);
  }
  Status Close() override {
    LOTE_RETURN_IF_ERROR(owner_->BeforeWrite(0));
    return base_->Close();
  }
  const std::string& uri() const override { return base_->uri(); }

 private:
  FaultInjectingStorage* owner_;
  std::unique_ptr<ObjectWriter> base_;
};

}  // namespace

FaultInjectingStorage::FaultInjectingStorage(std::shared_ptr<Storage> base)
    : base_(std::move(base)) {}

void FaultInjectingStorage::FailNthWrite(uint64_t n, Status status, bool sticky) {
  std::lock_guard<std::mutex> lock(mu_);
  fail_at_ = n == 0 ? 0 : write_count_.load() + n;
  fail_status_ = std::move(status);
  sticky_ = sticky;
}

void FaultInjectingStorage::SetSpaceLeft(int64_t bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  space_left_ = bytes;
}

Status FaultInjectingStorage::BeforeWrite(uint64_t bytes) {
  uint64_t count = write_count_.fetch_add(1) + 1;
  std::lock_guard<std::mutex> lock(mu_);
  if (fail_at_ != 0 && (count == fail_at_ || (sticky_ && count > fail_at_))) {
    return fail_status_;
  }
  if (space_left_ >= 0) {
    if (static_cast<uint64_t>(space_left_) < bytes) {
      space_left_ = 0;
      return ResourceExhaustedError("No space left on device (injected)");
    }
    space_left_ -= static_cast<int64_t>(bytes);
  }
  return Status::Ok();
}

Result<std::vector<ObjectInfo>> FaultInjectingStorage::List(std::string_view pattern) const {
  return base_->List(pattern);
}
Result<ObjectInfo> FaultInjectingStorage::Stat(std::string_view uri) const {
  return base_->Stat(uri);
}
Result<std::string> FaultInjectingStorage::Read(std::string_view uri) const {
  return base_->Read(uri);
}
Result<std::string> FaultInjectingStorage::ReadRange(std::string_view uri, uint64_t offset,
                                                     uint64_t length) const {
  return base_->ReadRange(uri, offset, length);
}
Result<std::unique_ptr<io::ByteSource>> FaultInjectingStorage::OpenRead(
    std::string_view uri) const {
  return base_->OpenRead(uri);
}
Status FaultInjectingStorage::Write(std::string_view uri, std::string_view data) {
  LOTE_RETURN_IF_ERROR(BeforeWrite(data.size()));
  return base_->Write(uri, data);
}
Result<std::unique_ptr<ObjectWriter>> FaultInjectingStorage::NewWriter(std::string_view uri) {
  LOTE_ASSIGN_OR_RETURN(auto base, base_->NewWriter(uri));
  return std::unique_ptr<ObjectWriter>(new FaultWriter(this, std::move(base)));
}
Status FaultInjectingStorage::CreateIfAbsent(std::string_view uri, std::string_view data) {
  LOTE_RETURN_IF_ERROR(BeforeWrite(data.size()));
  return base_->CreateIfAbsent(uri, data);
}
Status FaultInjectingStorage::Delete(std::string_view uri) {
  LOTE_RETURN_IF_ERROR(BeforeWrite(0));
  return base_->Delete(uri);
}
Status FaultInjectingStorage::DeletePrefix(std::string_view prefix) {
  LOTE_RETURN_IF_ERROR(BeforeWrite(0));
  return base_->DeletePrefix(prefix);
}
Status FaultInjectingStorage::Rename(std::string_view from, std::string_view to) {
  LOTE_RETURN_IF_ERROR(BeforeWrite(0));
  return base_->Rename(from, to);
}
namespace {

// The base storage's lock, reported lost once `lost` is set.
class LosableLock : public StorageLock {
 public:
  LosableLock(std::unique_ptr<StorageLock> base, std::shared_ptr<std::atomic<bool>> lost)
      : base_(std::move(base)), lost_(std::move(lost)) {}
  Status Check() const override {
    if (lost_->load()) return AbortedError("injected: the lock was lost");
    return base_->Check();
  }

 private:
  std::unique_ptr<StorageLock> base_;
  std::shared_ptr<std::atomic<bool>> lost_;
};

}  // namespace

Result<std::unique_ptr<StorageLock>> FaultInjectingStorage::TryLock(std::string_view uri,
                                                                    std::string_view owner) {
  LOTE_ASSIGN_OR_RETURN(auto lock, base_->TryLock(uri, owner));
  return std::unique_ptr<StorageLock>(std::make_unique<LosableLock>(std::move(lock), locks_lost_));
}

}  // namespace lote::storage
