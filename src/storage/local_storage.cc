// LocalStorage: POSIX files. Atomic writes are temp file + fsync + rename(2) + fsync of the
// folder, so a crash leaves either the old or the new object, plus at worst a temp file that List
// skips (".lote-tmp-" in its name).
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <filesystem>
#include <string>

#include "lote/storage/storage.h"

namespace lote::storage {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kTempMarker = ".lote-tmp-";

std::string ErrnoMessage(int err) { return std::strerror(err); }

// ENOSPC/EDQUOT are "disk full": a distinct code so the CLI says so and the run stays resumable.
Status IoError(std::string_view what, const std::string& path, int err) {
  std::string msg = std::string(what) + " " + path + ": " + ErrnoMessage(err);
  if (err == ENOSPC || err == EDQUOT) return ResourceExhaustedError(msg);
  if (err == ENOENT) return NotFoundError(msg);
  if (err == EACCES || err == EPERM) return Status(StatusCode::kPermissionDenied, msg);
  return UnavailableError(msg);
}

std::string TempSuffix() {
  static std::atomic<uint64_t> counter{0};
  return std::string(kTempMarker) + std::to_string(::getpid()) + "-" +
         std::to_string(counter.fetch_add(1));
}

Status MakeParents(const std::string& path) {
  fs::path parent = fs::path(path).parent_path();
  if (parent.empty()) return Status::Ok();
  std::error_code ec;
  fs::create_directories(parent, ec);
  if (ec) return IoError("cannot create folder", parent.string(), ec.value());
  return Status::Ok();
}

void SyncDir(const std::string& path) {
  fs::path parent = fs::path(path).parent_path();
  if (parent.empty()) parent = ".";
  int fd = ::open(parent.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

Status WriteAll(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return IoError("cannot write", path, errno);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

class FileByteSource : public io::ByteSource {
 public:
  FileByteSource(int fd, std::string name) : fd_(fd), name_(std::move(name)) {}
  ~FileByteSource() override { ::close(fd_); }
  Result<size_t> Read(char* buf, size_t n) override {
    while (true) {
      ssize_t got = ::read(fd_, buf, n);
      if (got >= 0) return static_cast<size_t>(got);
      if (errno != EINTR) return IoError("cannot read", name_, errno);
    }
  }
  const std::string& name() const override { return name_; }

 private:
  int fd_;
  std::string name_;
};

class LocalWriter : public ObjectWriter {
 public:
  LocalWriter(std::string uri, std::string path, std::string temp, int fd)
      : uri_(std::move(uri)), path_(std::move(path)), temp_(std::move(temp)), fd_(fd) {}
  ~LocalWriter() override {
    if (fd_ >= 0) {
      ::close(fd_);
      ::unlink(temp_.c_str());
    }
  }
  Status Append(std::string_view data) override {
    if (fd_ < 0) return FailedPreconditionError("writer already closed: " + uri_);
    return WriteAll(fd_, data, path_);
  }
  Status Close() override {
    if (fd_ < 0) return FailedPreconditionError("writer already closed: " + uri_);
    Status s;
    if (::fsync(fd_) != 0) s = IoError("cannot sync", path_, errno);
    ::close(fd_);
    fd_ = -1;
    if (s.ok() && ::rename(temp_.c_str(), path_.c_str()) != 0) {
      s = IoError("cannot rename to", path_, errno);
    }
    if (!s.ok()) {
      ::unlink(temp_.c_str());
      return s;
    }
    SyncDir(path_);
    return Status::Ok();
  }
  const std::string& uri() const override { return uri_; }

 private:
  std::string uri_;
  std::string path_;
  std::string temp_;
  int fd_;
};

class LocalLock : public StorageLock {
 public:
  explicit LocalLock(int fd) : fd_(fd) {}
  ~LocalLock() override {
    ::flock(fd_, LOCK_UN);
    ::close(fd_);
  }

 private:
  int fd_;
};

class LocalStorage : public Storage {
 public:
  LocalStorage() = default;
  explicit LocalStorage(LocalStorageOptions options) : options_(std::move(options)) {}

  std::string_view scheme() const override { return "file"; }
  bool is_local() const override { return true; }

  Result<std::string> LocalPath(std::string_view uri) const override {
    if (UriScheme(uri) != "file") {
      return InvalidArgumentError("not a local path or file:// URI: " + std::string(uri));
    }
    if (uri.starts_with("file://")) uri.remove_prefix(7);
    if (uri.empty()) return InvalidArgumentError("empty path");
    return std::string(uri);
  }

  Result<std::string> CanonicalUri(std::string_view uri) const override {
    LOTE_ASSIGN_OR_RETURN(std::string path, LocalPath(uri));
    std::error_code ec;
    fs::path abs = fs::absolute(path, ec);
    if (ec) return IoError("cannot resolve", path, ec.value());
    // Resolves the symlinks of the part that exists; the rest is normalised lexically.
    fs::path canonical = fs::weakly_canonical(abs, ec);
    if (ec) return IoError("cannot resolve", path, ec.value());
    return NormalizeUri(canonical.string());
  }

  Result<std::vector<ObjectInfo>> List(std::string_view pattern) const override {
    LOTE_ASSIGN_OR_RETURN(std::string path, LocalPath(pattern));
    std::string prefix = pattern.starts_with("file://") ? "file://" : "";
    std::vector<ObjectInfo> out;
    if (!HasGlob(path)) {
      struct stat st;
      if (::stat(path.c_str(), &st) != 0) return IoError("cannot list", path, errno);
      if (S_ISREG(st.st_mode)) {
        if (!Confined(path)) {
          // Named on its own, it is refused rather than skipped: the caller asked for it.
          return Status(StatusCode::kPermissionDenied,
                        path + " resolves outside the input folder " + options_.confine_to +
                            " (a symlink): not read unless symlinks may be followed");
        }
        out.push_back(Info(prefix + path, st));
        return out;
      }
      LOTE_RETURN_IF_ERROR(Walk(path, prefix, "", &out));
    } else {
      // Walk from the deepest folder without glob characters, then match whole paths.
      size_t glob_at = path.find_first_of("*?[");
      size_t slash = path.rfind('/', glob_at);
      std::string root = slash == std::string::npos ? "." : path.substr(0, slash == 0 ? 1 : slash);
      struct stat st;
      if (::stat(root.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return out;
      LOTE_RETURN_IF_ERROR(Walk(slash == std::string::npos ? "." : root, prefix, path, &out));
    }
    std::sort(out.begin(), out.end(),
              [](const ObjectInfo& a, const ObjectInfo& b) { return a.uri < b.uri; });
    return out;
  }

  Result<ObjectInfo> Stat(std::string_view uri) const override {
    LOTE_ASSIGN_OR_RETURN(std::string path, LocalPath(uri));
    struct stat st;
    if (!options_.confine_to.empty()) {
      int fd = ::open(path.c_str(), O_PATH | O_CLOEXEC);
      if (fd < 0) return IoError("cannot stat", path, errno);
      Status confined = CheckConfined(fd, path);
      const int rc = confined.ok() ? ::fstat(fd, &st) : 0;
      const int err = errno;
      ::close(fd);
      LOTE_RETURN_IF_ERROR(confined);
      if (rc != 0) return IoError("cannot stat", path, err);
    } else if (::stat(path.c_str(), &st) != 0) {
      return IoError("cannot stat", path, errno);
    }
    if (!S_ISREG(st.st_mode)) return NotFoundError("not a file: " + path);
    return Info(std::string(uri), st);
  }

  Result<std::string> Read(std::string_view uri) const override {
    return ReadRange(uri, 0, UINT64_MAX);
  }

  Result<std::string> ReadRange(std::string_view uri, uint64_t offset,
                                uint64_t length) const override {
    LOTE_ASSIGN_OR_RETURN(std::string path, LocalPath(uri));
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return IoError("cannot open", path, errno);
    if (Status s = CheckConfined(fd, path); !s.ok()) {
      ::close(fd);
      return s;
    }
    std::string out;
    char buf[1 << 16];
    uint64_t pos = offset;
    while (length > 0) {
      size_t want = static_cast<size_t>(std::min<uint64_t>(sizeof(buf), length));
      ssize_t n = ::pread(fd, buf, want, static_cast<off_t>(pos));
      if (n < 0) {
        if (errno == EINTR) continue;
        Status s = IoError("cannot read", path, errno);
        ::close(fd);
        return s;
      }
      if (n == 0) break;
      out.append(buf, static_cast<size_t>(n));
      pos += static_cast<uint64_t>(n);
      length -= static_cast<uint64_t>(n);
    }
    ::close(fd);
    return out;
  }

  Result<std::unique_ptr<io::ByteSource>> OpenRead(std::string_view uri) const override {
    LOTE_ASSIGN_OR_RETURN(std::string path, LocalPath(uri));
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return IoError("cannot open", path, errno);
    if (Status s = CheckConfined(fd, path); !s.ok()) {
      ::close(fd);
      return s;
    }
    return std::unique_ptr<io::ByteSource>(new FileByteSource(fd, std::string(uri)));
  }

  Status Write(std::string_view uri, std::string_view data) override {
    LOTE_ASSIGN_OR_RETURN(auto writer, NewWriter(uri));
    LOTE_RETURN_IF_ERROR(writer->Append(data));
    return writer->Close();
  }

  Result<std::unique_ptr<ObjectWriter>> NewWriter(std::string_view uri) override {
    LOTE_ASSIGN_OR_RETURN(std::string path, LocalPath(uri));
    LOTE_RETURN_IF_ERROR(MakeParents(path));
    std::string temp = path + TempSuffix();
    int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return IoError("cannot create", temp, errno);
    return std::unique_ptr<ObjectWriter>(new LocalWriter(std::string(uri), path, temp, fd));
  }

  Status CreateIfAbsent(std::string_view uri, std::string_view data) override {
    LOTE_ASSIGN_OR_RETURN(std::string path, LocalPath(uri));
    LOTE_RETURN_IF_ERROR(MakeParents(path));
    // Write the content to a temp file, then link(2) it into place: link fails with EEXIST if the
    // name exists, so the create is both exclusive and never exposes a half-written file.
    std::string temp = path + TempSuffix();
    int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) return IoError("cannot create", temp, errno);
    Status s = WriteAll(fd, data, temp);
    if (s.ok() && ::fsync(fd) != 0) s = IoError("cannot sync", temp, errno);
    ::close(fd);
    if (s.ok() && ::link(temp.c_str(), path.c_str()) != 0) {
      s = errno == EEXIST ? AlreadyExistsError("already exists: " + path)
                          : IoError("cannot create", path, errno);
    }
    ::unlink(temp.c_str());
    if (s.ok()) SyncDir(path);
    return s;
  }

  Status Delete(std::string_view uri) override {
    LOTE_ASSIGN_OR_RETURN(std::string path, LocalPath(uri));
    if (::unlink(path.c_str()) != 0) return IoError("cannot delete", path, errno);
    return Status::Ok();
  }

  Status DeletePrefix(std::string_view prefix) override {
    LOTE_ASSIGN_OR_RETURN(std::string path, LocalPath(prefix));
    std::error_code ec;
    fs::remove_all(path, ec);
    if (ec) return IoError("cannot delete", path, ec.value());
    return Status::Ok();
  }

  Status Rename(std::string_view from, std::string_view to) override {
    LOTE_ASSIGN_OR_RETURN(std::string src, LocalPath(from));
    LOTE_ASSIGN_OR_RETURN(std::string dst, LocalPath(to));
    LOTE_RETURN_IF_ERROR(MakeParents(dst));
    if (::rename(src.c_str(), dst.c_str()) != 0) return IoError("cannot rename", src, errno);
    SyncDir(dst);
    return Status::Ok();
  }

  Result<std::unique_ptr<StorageLock>> TryLock(std::string_view uri,
                                               std::string_view owner) override {
    LOTE_ASSIGN_OR_RETURN(std::string path, LocalPath(uri));
    LOTE_RETURN_IF_ERROR(MakeParents(path));
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return IoError("cannot open lock", path, errno);
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      int err = errno;
      char buf[512];
      ssize_t n = ::pread(fd, buf, sizeof(buf) - 1, 0);
      ::close(fd);
      if (err != EWOULDBLOCK) return IoError("cannot lock", path, err);
      std::string holder = n > 0 ? std::string(buf, static_cast<size_t>(n)) : "unknown";
      while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' ')) {
        holder.pop_back();
      }
      return UnavailableError("locked by another process (" + holder + "): " + path);
    }
    // The lock file's content is informational (who holds it); flock is the lock itself, and the
    // kernel releases it when the holder dies, so there is no stale-lock case to detect.
    if (::ftruncate(fd, 0) == 0) (void)WriteAll(fd, owner, path);
    return std::unique_ptr<StorageLock>(new LocalLock(fd));
  }

 private:
  // Whether `path` resolves inside options_.confine_to (always, without confinement).
  bool Confined(const std::string& path) const {
    if (options_.confine_to.empty()) return true;
    std::error_code ec;
    fs::path real = fs::canonical(path, ec);
    return !ec && UriWithin(real.string(), options_.confine_to);
  }

  // The opened file itself must lie inside options_.confine_to: its path as the kernel knows it
  // (/proc/self/fd), so a symlink swapped in after listing is caught too.
  Status CheckConfined(int fd, const std::string& path) const {
    if (options_.confine_to.empty()) return Status::Ok();
    char buf[4096];
    const std::string proc = "/proc/self/fd/" + std::to_string(fd);
    ssize_t n = ::readlink(proc.c_str(), buf, sizeof(buf) - 1);
    if (n < 0) return IoError("cannot resolve", path, errno);
    if (!UriWithin(std::string_view(buf, static_cast<size_t>(n)), options_.confine_to)) {
      return Status(StatusCode::kPermissionDenied,
                    path + " resolves outside the input folder " + options_.confine_to +
                        " (a symlink): not read unless symlinks may be followed");
    }
    return Status::Ok();
  }

  static ObjectInfo Info(std::string uri, const struct stat& st) {
    ObjectInfo info;
    info.uri = std::move(uri);
    info.size = static_cast<uint64_t>(st.st_size);
    info.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
    info.etag = std::to_string(st.st_ino) + "-" + std::to_string(info.mtime_ns) + "-" +
                std::to_string(info.size);
    return info;
  }

  // Appends the regular files below `dir` (recursively) to *out; with a non-empty `glob`, only
  // those whose path matches it.
  Status Walk(const std::string& dir, const std::string& prefix, const std::string& glob,
              std::vector<ObjectInfo>* out) const {
    std::error_code ec;
    fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec);
    if (ec) return IoError("cannot list", dir, ec.value());
    for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (ec) return IoError("cannot list", dir, ec.value());
      const fs::path& p = it->path();
      std::string name = p.filename().string();
      if (HiddenFromListing(name)) {
        if (it->is_directory(ec)) it.disable_recursion_pending();
        continue;
      }
      if (!it->is_regular_file(ec)) continue;
      std::string path = p.string();
      if (dir == "." && path.starts_with("./")) path = path.substr(2);
      if (!glob.empty() && ::fnmatch(glob.c_str(), path.c_str(), FNM_PATHNAME) != 0) continue;
      if (it->is_symlink(ec) && !Confined(path)) {
        if (options_.on_escape) options_.on_escape(prefix + path);
        continue;
      }
      struct stat st;
      if (::stat(path.c_str(), &st) != 0) continue;  // vanished while listing
      out->push_back(Info(prefix + path, st));
    }
    return Status::Ok();
  }

  LocalStorageOptions options_;
};

}  // namespace

std::shared_ptr<Storage> NewLocalStorage() { return std::make_shared<LocalStorage>(); }

std::shared_ptr<Storage> NewLocalStorage(LocalStorageOptions options) {
  return std::make_shared<LocalStorage>(std::move(options));
}

}  // namespace lote::storage
