#include "lote/storage/storage.h"

#include <fnmatch.h>

#include <map>
#include <mutex>
#include <vector>

#include "lote/storage/s3_storage.h"

namespace lote::storage {

std::string_view UriScheme(std::string_view uri) {
  size_t pos = uri.find("://");
  if (pos == std::string_view::npos) return "file";
  // A scheme is letters, digits, '+', '-', '.'; anything else before "://" means a plain path
  // that happens to contain "://".
  std::string_view scheme = uri.substr(0, pos);
  if (scheme.empty()) return "file";
  for (char c : scheme) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '-' || c == '.';
    if (!ok) return "file";
  }
  return scheme;
}

std::string JoinUri(std::string_view base, std::string_view relative) {
  std::string out(base);
  while (!relative.empty() && relative.front() == '/') relative.remove_prefix(1);
  if (relative.empty()) return out;
  if (!out.empty() && out.back() != '/') out.push_back('/');
  out.append(relative);
  return out;
}

std::string NormalizeUri(std::string_view uri) {
  std::string prefix;
  size_t pos = uri.find("://");
  if (pos != std::string_view::npos && UriScheme(uri) != "file") {
    prefix = std::string(uri.substr(0, pos + 3));
    uri.remove_prefix(pos + 3);
  } else if (uri.starts_with("file://")) {
    prefix = "file://";
    uri.remove_prefix(7);
  }
  const bool absolute = !uri.empty() && uri.front() == '/';
  std::vector<std::string_view> parts;
  while (!uri.empty()) {
    size_t slash = uri.find('/');
    std::string_view seg = uri.substr(0, slash);
    uri.remove_prefix(slash == std::string_view::npos ? uri.size() : slash + 1);
    if (seg.empty() || seg == ".") continue;
    if (seg == "..") {
      if (!parts.empty() && parts.back() != "..") {
        parts.pop_back();
      } else if (!absolute) {
        parts.push_back(seg);
      }
      continue;
    }
    parts.push_back(seg);
  }
  std::string out = prefix;
  if (absolute) out.push_back('/');
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out.push_back('/');
    out.append(parts[i]);
  }
  if (out.empty()) out.push_back('.');
  return out;
}

bool HiddenFromListing(std::string_view uri) {
  const size_t slash = uri.rfind('/');
  const std::string_view name = slash == std::string_view::npos ? uri : uri.substr(slash + 1);
  return name.empty() || name.front() == '.' || name.find(".lote-tmp-") != std::string_view::npos;
}

bool HasGlob(std::string_view pattern) {
  return pattern.find_first_of("*?[") != std::string_view::npos;
}

bool MatchesPattern(std::string_view pattern, std::string_view uri) {
  if (HiddenFromListing(uri)) return false;
  if (HasGlob(pattern)) {
    return ::fnmatch(std::string(pattern).c_str(), std::string(uri).c_str(), FNM_PATHNAME) == 0;
  }
  if (!pattern.empty() && pattern.back() == '/') return uri.starts_with(pattern);
  return uri == pattern ||
         (uri.size() > pattern.size() && uri.starts_with(pattern) && uri[pattern.size()] == '/');
}

std::string ListRoot(std::string_view pattern) {
  size_t glob = pattern.find_first_of("*?[");
  if (glob == std::string_view::npos) return std::string(pattern);
  size_t slash = pattern.rfind('/', glob);
  if (slash == std::string_view::npos) return ".";
  return std::string(pattern.substr(0, slash == 0 ? 1 : slash));
}

bool UriWithin(std::string_view inner, std::string_view outer) {
  if (inner == outer) return true;
  if (outer == "/") return inner.starts_with("/");
  return inner.size() > outer.size() && inner.starts_with(outer) && inner[outer.size()] == '/';
}

Result<std::string> Storage::CanonicalUri(std::string_view uri) const { return NormalizeUri(uri); }

Result<std::vector<ObjectInfo>> Storage::ListAfter(std::string_view pattern,
                                                   std::string_view after) const {
  auto listed = List(pattern);
  if (after.empty()) return listed;
  if (!listed.ok()) {
    if (listed.status().code() == StatusCode::kNotFound) return std::vector<ObjectInfo>();
    return listed.status();
  }
  std::vector<ObjectInfo> out;
  for (ObjectInfo& o : *listed) {
    if (o.uri > after) out.push_back(std::move(o));
  }
  return out;
}

namespace {

struct Registry {
  std::mutex mu;
  std::map<std::string, StorageFactory, std::less<>> factories;
};

Registry& GetRegistry() {
  static Registry* registry = [] {
    auto* r = new Registry;
    r->factories["file"] = []() -> Result<std::shared_ptr<Storage>> {
      static std::shared_ptr<Storage> local = NewLocalStorage();
      return local;
    };
    r->factories["mem"] = []() -> Result<std::shared_ptr<Storage>> {
      // One process-wide store: a test writes through one handle and reads through another.
      static std::shared_ptr<Storage> mem = NewMemStorage();
      return mem;
    };
    r->factories["s3"] = []() -> Result<std::shared_ptr<Storage>> {
      // One S3 storage for the process (its connection pool and credentials cache are shared),
      // configured from the environment as the AWS CLI is. A failure is not cached.
      static std::mutex mu;
      static std::shared_ptr<Storage> s3;
      std::lock_guard<std::mutex> lock(mu);
      if (!s3) {
        LOTE_ASSIGN_OR_RETURN(s3, NewS3Storage({}));
      }
      return s3;
    };
    return r;
  }();
  return *registry;
}

}  // namespace

void RegisterStorage(std::string scheme, StorageFactory factory) {
  Registry& r = GetRegistry();
  std::lock_guard<std::mutex> lock(r.mu);
  r.factories[std::move(scheme)] = std::move(factory);
}

Result<std::shared_ptr<Storage>> OpenStorageOr(std::shared_ptr<Storage> given,
                                               std::string_view uri) {
  if (given) return given;
  return OpenStorage(uri);
}

Result<std::shared_ptr<Storage>> OpenStorage(std::string_view uri) {
  std::string_view scheme = UriScheme(uri);
  StorageFactory factory;
  {
    Registry& r = GetRegistry();
    std::lock_guard<std::mutex> lock(r.mu);
    auto it = r.factories.find(scheme);
    if (it == r.factories.end()) {
      return NotFoundError("no storage for scheme '" + std::string(scheme) + "' (URI " +
                           std::string(uri) + "); known: file://, plain paths, mem://, s3://");
    }
    factory = it->second;
  }
  return factory();
}

}  // namespace lote::storage
