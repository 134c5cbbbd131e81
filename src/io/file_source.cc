#include "lote/io/file_source.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>
#include <vector>

namespace lote::io {

namespace {

constexpr size_t kFileBuffer = 1 << 20;

// Maps an errno from open/stat/opendir to a Status naming the path.
Status OsError(const std::string& path, std::string_view what, int err) {
  std::string m = path + ": " + std::string(what) + ": " + std::generic_category().message(err);
  switch (err) {
    case ENOENT:
    case ENOTDIR:
      return NotFoundError(std::move(m));
    case EACCES:
    case EPERM:
      return Status(StatusCode::kPermissionDenied, std::move(m));
    default:
      return UnavailableError(std::move(m));
  }
}

class FileSource : public ByteSource {
 public:
  FileSource(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~FileSource() override { ::close(fd_); }
  FileSource(const FileSource&) = delete;
  FileSource& operator=(const FileSource&) = delete;

  Result<size_t> Read(char* buf, size_t n) override {
    if (!error_.ok()) return error_;
    if (begin_ == end_) {
      if (eof_) return size_t{0};
      // Large reads bypass the buffer: no extra copy for callers that already read in bulk.
      if (n >= kFileBuffer) return RawRead(buf, n);
      if (buffer_.empty()) buffer_.resize(kFileBuffer);
      auto got = RawRead(buffer_.data(), buffer_.size());
      if (!got.ok()) return got.status();
      begin_ = 0;
      end_ = *got;
      if (end_ == 0) return size_t{0};
    }
    size_t k = std::min(n, end_ - begin_);
    std::memcpy(buf, buffer_.data() + begin_, k);
    begin_ += k;
    return k;
  }
  const std::string& name() const override { return path_; }

 private:
  Result<size_t> RawRead(char* buf, size_t n) {
    for (;;) {
      ssize_t r = ::read(fd_, buf, n);
      if (r >= 0) {
        if (r == 0) eof_ = true;
        return static_cast<size_t>(r);
      }
      if (errno == EINTR) continue;
      error_ = UnavailableError(path_ + ": read failed: " + std::generic_category().message(errno));
      return error_;
    }
  }

  int fd_;
  std::string path_;
  std::vector<char> buffer_;
  size_t begin_ = 0;
  size_t end_ = 0;
  bool eof_ = false;
  Status error_;
};

bool HasSuffix(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

Result<std::unique_ptr<ByteSource>> OpenFileSource(const std::string& path) {
  int fd;
  do {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return OsError(path, "cannot open", errno);
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return OsError(path, "cannot stat", err);
  }
  if (S_ISDIR(st.st_mode)) {
    ::close(fd);
    return FailedPreconditionError(path + ": is a directory, not a file");
  }
  return std::unique_ptr<ByteSource>(std::make_unique<FileSource>(fd, path));
}

Result<std::string> ReadFileToString(const std::string& path) {
  LOTE_ASSIGN_OR_RETURN(std::unique_ptr<ByteSource> source, OpenFileSource(path));
  std::string out;
  size_t chunk = kFileBuffer;
  for (;;) {
    size_t old = out.size();
    out.resize(old + chunk);
    auto got = source->Read(out.data() + old, chunk);
    if (!got.ok()) return got.status();
    out.resize(old + *got);
    if (*got == 0) break;
  }
  return out;
}

Result<std::vector<std::string>> ListDirectory(const std::string& path) {
  DIR* dir = ::opendir(path.c_str());
  if (dir == nullptr) {
    if (errno == ENOTDIR) return FailedPreconditionError(path + ": not a directory");
    return OsError(path, "cannot list", errno);
  }
  std::vector<std::string> names;
  for (;;) {
    errno = 0;
    struct dirent* e = ::readdir(dir);
    if (e == nullptr) {
      int err = errno;
      ::closedir(dir);
      if (err != 0) return OsError(path, "cannot list", err);
      break;
    }
    std::string_view name = e->d_name;
    if (name == "." || name == "..") continue;
    names.emplace_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

Result<bool> IsDirectory(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return OsError(path, "cannot stat", errno);
  return S_ISDIR(st.st_mode);
}

Result<std::vector<BratDocument>> ReadBratFolder(const std::string& dir,
                                                 std::vector<std::string>* warnings) {
  LOTE_ASSIGN_OR_RETURN(std::vector<std::string> names, ListDirectory(dir));
  std::string prefix = dir.empty() || dir.back() == '/' ? dir : dir + "/";
  std::vector<std::string> stems;
  for (const std::string& n : names) {
    if (HasSuffix(n, ".txt")) stems.push_back(n.substr(0, n.size() - 4));
  }
  // Stem order can differ from name order ("a-1.txt" < "a.txt" but "a" < "a-1").
  std::sort(stems.begin(), stems.end());
  if (warnings != nullptr) {
    for (const std::string& n : names) {
      if (!HasSuffix(n, ".ann")) continue;
      std::string stem = n.substr(0, n.size() - 4);
      if (!std::binary_search(stems.begin(), stems.end(), stem)) {
        warnings->push_back(prefix + n + ": no matching .txt; skipped");
      }
    }
  }
  std::vector<BratDocument> docs;
  docs.reserve(stems.size());
  for (const std::string& stem : stems) {
    std::string txt_path = prefix + stem + ".txt";
    std::string ann_path = prefix + stem + ".ann";
    LOTE_ASSIGN_OR_RETURN(std::string text, ReadFileToString(txt_path));
    std::string ann;
    if (std::binary_search(names.begin(), names.end(), stem + ".ann")) {
      LOTE_ASSIGN_OR_RETURN(ann, ReadFileToString(ann_path));
    } else if (warnings != nullptr) {
      warnings->push_back(txt_path + ": no .ann file; read with no annotations");
    }
    LOTE_ASSIGN_OR_RETURN(BratDocument doc,
                          ParseBratDocument(stem, std::move(text), ann, ann_path, warnings));
    docs.push_back(std::move(doc));
  }
  return docs;
}

}  // namespace lote::io
