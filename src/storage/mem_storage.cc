// MemStorage: an in-process object store for tests. Objects live in a sorted map keyed by URI;
// "folders" are just prefixes, as in S3.
#include <fnmatch.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <set>

#include "lote/storage/storage.h"

namespace lote::storage {
namespace {

struct MemObject {
  std::shared_ptr<const std::string> data;
  uint64_t generation = 0;
  int64_t mtime_ns = 0;
};

struct MemState {
  std::mutex mu;
  std::map<std::string, MemObject, std::less<>> objects;
  std::set<std::string, std::less<>> locks;
  uint64_t generation = 0;
};

class MemWriter : public ObjectWriter {
 public:
  MemWriter(std::shared_ptr<MemState> state, std::string uri)
      : state_(std::move(state)), uri_(std::move(uri)) {}
  Status Append(std::string_view data) override {
    if (closed_) return FailedPreconditionError("writer already closed: " + uri_);
    buf_.append(data);
    return Status::Ok();
  }
  Status Close() override {
    if (closed_) return FailedPreconditionError("writer already closed: " + uri_);
    closed_ = true;
    std::lock_guard<std::mutex> lock(state_->mu);
    MemObject& obj = state_->objects[uri_];
    obj.data = std::make_shared<const std::string>(std::move(buf_));
    obj.generation = ++state_->generation;
    obj.mtime_ns = static_cast<int64_t>(obj.generation);
    return Status::Ok();
  }
  const std::string& uri() const override { return uri_; }

 private:
  std::shared_ptr<MemState> state_;
  std::string uri_;
  std::string buf_;
  bool closed_ = false;
};

class MemSource : public io::ByteSource {
 public:
  MemSource(std::shared_ptr<const std::string> data, std::string name)
      : data_(std::move(data)), name_(std::move(name)) {}
  Result<size_t> Read(char* buf, size_t n) override {
    size_t k = std::min(n, data_->size() - pos_);
    std::copy_n(data_->data() + pos_, k, buf);
    pos_ += k;
    return k;
  }
  const std::string& name() const override { return name_; }

 private:
  std::shared_ptr<const std::string> data_;
  std::string name_;
  size_t pos_ = 0;
};

class MemLock : public StorageLock {
 public:
  MemLock(std::shared_ptr<MemState> state, std::string uri)
      : state_(std::move(state)), uri_(std::move(uri)) {}
  ~MemLock() override {
    std::lock_guard<std::mutex> lock(state_->mu);
    state_->locks.erase(uri_);
  }

 private:
  std::shared_ptr<MemState> state_;
  std::string uri_;
};

class MemStorage : public Storage {
 public:
  MemStorage() : state_(std::make_shared<MemState>()) {}
  std::string_view scheme() const override { return "mem"; }
  bool etags_identify_content() const override { return true; }  // a generation number

  Result<std::vector<ObjectInfo>> List(std::string_view pattern) const override {
    LOTE_RETURN_IF_ERROR(CheckUri(pattern));
    std::lock_guard<std::mutex> lock(state_->mu);
    std::vector<ObjectInfo> out;
    bool glob = HasGlob(pattern);
    std::string pat(pattern);
    std::string dir = pat;
    if (!dir.empty() && dir.back() != '/') dir.push_back('/');
    for (const auto& [uri, obj] : state_->objects) {
      bool match = glob ? ::fnmatch(pat.c_str(), uri.c_str(), FNM_PATHNAME) == 0
                        : (uri == pat || uri.starts_with(dir));
      if (match && !HiddenFromListing(uri)) out.push_back(Info(uri, obj));
    }
    if (out.empty() && !glob) return NotFoundError("nothing at " + pat);
    return out;
  }

  Result<ObjectInfo> Stat(std::string_view uri) const override {
    LOTE_RETURN_IF_ERROR(CheckUri(uri));
    std::lock_guard<std::mutex> lock(state_->mu);
    auto it = state_->objects.find(uri);
    if (it == state_->objects.end()) return NotFoundError("not found: " + std::string(uri));
    return Info(it->first, it->second);
  }

  Result<std::string> Read(std::string_view uri) const override {
    LOTE_ASSIGN_OR_RETURN(auto data, Get(uri));
    return *data;
  }

  Result<std::string> ReadRange(std::string_view uri, uint64_t offset,
                                uint64_t length) const override {
    LOTE_ASSIGN_OR_RETURN(auto data, Get(uri));
    if (offset >= data->size()) return std::string();
    return data->substr(static_cast<size_t>(offset),
                        static_cast<size_t>(std::min<uint64_t>(length, data->size() - offset)));
  }

  Result<std::unique_ptr<io::ByteSource>> OpenRead(std::string_view uri) const override {
    LOTE_ASSIGN_OR_RETURN(auto data, Get(uri));
    return std::unique_ptr<io::ByteSource>(new MemSource(std::move(data), std::string(uri)));
  }

  Status Write(std::string_view uri, std::string_view data) override {
    LOTE_ASSIGN_OR_RETURN(auto writer, NewWriter(uri));
    LOTE_RETURN_IF_ERROR(writer->Append(data));
    return writer->Close();
  }

  Result<std::unique_ptr<ObjectWriter>> NewWriter(std::string_view uri) override {
    LOTE_RETURN_IF_ERROR(CheckUri(uri));
    return std::unique_ptr<ObjectWriter>(new MemWriter(state_, std::string(uri)));
  }

  Status CreateIfAbsent(std::string_view uri, std::string_view data) override {
    LOTE_RETURN_IF_ERROR(CheckUri(uri));
    std::lock_guard<std::mutex> lock(state_->mu);
    if (state_->objects.count(uri) > 0) {
      return AlreadyExistsError("already exists: " + std::string(uri));
    }
    MemObject& obj = state_->objects[std::string(uri)];
    obj.data = std::make_shared<const std::string>(data);
    obj.generation = ++state_->generation;
    obj.mtime_ns = static_cast<int64_t>(obj.generation);
    return Status::Ok();
  }

  Status Delete(std::string_view uri) override {
    LOTE_RETURN_IF_ERROR(CheckUri(uri));
    std::lock_guard<std::mutex> lock(state_->mu);
    auto it = state_->objects.find(uri);
    if (it == state_->objects.end()) return NotFoundError("not found: " + std::string(uri));
    state_->objects.erase(it);
    return Status::Ok();
  }

  Status DeletePrefix(std::string_view prefix) override {
    LOTE_RETURN_IF_ERROR(CheckUri(prefix));
    std::string dir(prefix);
    if (dir.back() != '/') dir.push_back('/');
    std::lock_guard<std::mutex> lock(state_->mu);
    for (auto it = state_->objects.lower_bound(dir);
         it != state_->objects.end() && it->first.starts_with(dir);) {
      it = state_->objects.erase(it);
    }
    return Status::Ok();
  }

  Status Rename(std::string_view from, std::string_view to) override {
    LOTE_RETURN_IF_ERROR(CheckUri(from));
    LOTE_RETURN_IF_ERROR(CheckUri(to));
    std::lock_guard<std::mutex> lock(state_->mu);
    auto it = state_->objects.find(from);
    if (it == state_->objects.end()) return NotFoundError("not found: " + std::string(from));
    MemObject obj = it->second;
    state_->objects.erase(it);
    state_->objects[std::string(to)] = obj;
    return Status::Ok();
  }

  Result<std::unique_ptr<StorageLock>> TryLock(std::string_view uri,
                                               std::string_view owner) override {
    LOTE_RETURN_IF_ERROR(CheckUri(uri));
    std::lock_guard<std::mutex> lock(state_->mu);
    if (!state_->locks.insert(std::string(uri)).second) {
      auto it = state_->objects.find(uri);
      std::string holder = it == state_->objects.end() ? "unknown" : *it->second.data;
      return UnavailableError("locked by another holder (" + holder + "): " + std::string(uri));
    }
    MemObject& obj = state_->objects[std::string(uri)];
    obj.data = std::make_shared<const std::string>(owner);
    obj.generation = ++state_->generation;
    return std::unique_ptr<StorageLock>(new MemLock(state_, std::string(uri)));
  }

 private:
  static Status CheckUri(std::string_view uri) {
    if (!uri.starts_with("mem://")) {
      return InvalidArgumentError("not a mem:// URI: " + std::string(uri));
    }
    return Status::Ok();
  }
  static ObjectInfo Info(const std::string& uri, const MemObject& obj) {
    ObjectInfo info;
    info.uri = uri;
    info.size = obj.data->size();
    info.mtime_ns = obj.mtime_ns;
    // Built with append: GCC 12 warns falsely (-Wrestrict) on "literal" + std::to_string.
    info.etag = std::to_string(obj.generation);
    info.etag.insert(0, 1, 'g');
    return info;
  }
  Result<std::shared_ptr<const std::string>> Get(std::string_view uri) const {
    LOTE_RETURN_IF_ERROR(CheckUri(uri));
    std::lock_guard<std::mutex> lock(state_->mu);
    auto it = state_->objects.find(uri);
    if (it == state_->objects.end()) return NotFoundError("not found: " + std::string(uri));
    return it->second.data;
  }

  std::shared_ptr<MemState> state_;
};

}  // namespace

std::shared_ptr<Storage> NewMemStorage() { return std::make_shared<MemStorage>(); }

}  // namespace lote::storage
