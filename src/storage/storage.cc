#include "lote/storage/storage.h"

#include <map>
#include <mutex>

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
      return UnimplementedError(
          "s3:// storage is not implemented yet; use a local path or file:// URI");
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
                           std::string(uri) + "); known: file://, plain paths, mem://");
    }
    factory = it->second;
  }
  return factory();
}

}  // namespace lote::storage
