// Storage: the one door through which lote reads inputs and writes outputs, chosen by URI scheme
// (as duckdb routes paths to registered file systems). Implementations:
//   - file:// URIs and plain paths: LocalStorage (POSIX files; atomic writes by temp + rename).
//   - mem://: MemStorage, an in-process object store for tests.
//   - s3://: S3Storage (s3_storage.h), Amazon S3 or any S3-compatible endpoint.
// FaultInjectingStorage (fault_injecting_storage.h) wraps any Storage to make writes fail.
//
// URIs are passed whole ("file:///data/in/a.jsonl", "/data/in/a.jsonl", "mem://t/in/a.jsonl");
// every method accepts only URIs of its own scheme (InvalidArgument otherwise).
// Thread-safety: every Storage method is thread-safe. An ObjectWriter or ByteSource is used by one
// thread at a time.
#ifndef LOTE_STORAGE_STORAGE_H_
#define LOTE_STORAGE_STORAGE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "lote/base/status.h"
#include "lote/io/byte_source.h"

namespace lote::storage {

// What List and Stat report about one object.
struct ObjectInfo {
  std::string uri;       // full URI, as accepted by the other methods
  uint64_t size = 0;     // bytes
  int64_t mtime_ns = 0;  // last modification, nanoseconds since the Unix epoch (0 if unknown)
  // Cheap identifier that changes whenever the content changes as far as the backend can tell:
  // S3's ETag; local files: inode + mtime + size; mem://: a per-write generation. It is NOT a
  // content hash: the pipeline hashes content itself where exactly-once depends on it.
  std::string etag;
};

// A streaming writer. Bytes become visible at the target URI only when Close() succeeds, and then
// all at once (local: temp file + fsync + rename; S3: one PUT or a completed multipart upload).
// Destroying a writer that was not closed discards what was written.
class ObjectWriter {
 public:
  virtual ~ObjectWriter() = default;
  // Errors: ResourceExhausted (disk full / quota), Unavailable (I/O error).
  virtual Status Append(std::string_view data) = 0;
  // Publishes the object atomically (replacing any previous object at the URI). After Close,
  // Append fails with FailedPrecondition. Errors as Append.
  virtual Status Close() = 0;
  virtual const std::string& uri() const = 0;
};

// An exclusive lock on a name, held until the object is destroyed or the process dies.
class StorageLock {
 public:
  virtual ~StorageLock() = default;
  // Ok while the lock is held as far as this process can tell. A lock that expires unless
  // renewed (S3's) answers Aborted once it was taken over, or once renewals have failed for so
  // long that its expiry is less than one renewal interval away: the holder must stop writing
  // before another process may take the lock. Local locks (flock) are held until released.
  virtual Status Check() const { return Status::Ok(); }
};

class Storage {
 public:
  virtual ~Storage() = default;

  // The scheme served, e.g. "file", "mem".
  virtual std::string_view scheme() const = 0;

  // Lists the objects under `pattern`, sorted by URI:
  //   - a folder (local) or a prefix ending in "/" (object stores): every object below it,
  //     recursively;
  //   - a single object: that object;
  //   - a glob (fnmatch syntax: * ? [..]; "*" does not cross "/"): the matching objects.
  // Files whose name starts with "." or holds ".lote-tmp-" (temp files of unfinished writes) are
  // skipped. NotFound when a non-glob pattern names nothing; a glob may match nothing (empty).
  virtual Result<std::vector<ObjectInfo>> List(std::string_view pattern) const = 0;

  // As List, but only the objects whose URI sorts after `after` (empty: all, exactly as List).
  // An object store asks the service for just those (S3: ListObjectsV2 start-after), so a poller
  // that remembers how far it got does not page through everything each time; the default
  // filters a full listing. With `after` set, nothing after it is an empty list, not NotFound.
  virtual Result<std::vector<ObjectInfo>> ListAfter(std::string_view pattern,
                                                    std::string_view after) const;

  // Size, mtime and etag of one object. NotFound if absent.
  virtual Result<ObjectInfo> Stat(std::string_view uri) const = 0;

  // Whole object. NotFound if absent, Unavailable on I/O error.
  virtual Result<std::string> Read(std::string_view uri) const = 0;

  // Up to `length` bytes from `offset` (fewer at the end of the object; empty past it).
  virtual Result<std::string> ReadRange(std::string_view uri, uint64_t offset,
                                        uint64_t length) const = 0;

  // A streaming reader with constant memory. NotFound if absent.
  virtual Result<std::unique_ptr<io::ByteSource>> OpenRead(std::string_view uri) const = 0;

  // Writes a whole object atomically: readers see the old content or the new, never a mix.
  // Parent folders are created as needed. Errors: ResourceExhausted, Unavailable.
  virtual Status Write(std::string_view uri, std::string_view data) = 0;

  // Starts a streaming atomic write (see ObjectWriter).
  virtual Result<std::unique_ptr<ObjectWriter>> NewWriter(std::string_view uri) = 0;

  // Creates the object only if nothing exists at `uri` (S3: If-None-Match: *). AlreadyExists if
  // something does. Used for markers; exactly one of several concurrent callers succeeds.
  virtual Status CreateIfAbsent(std::string_view uri, std::string_view data) = 0;

  // Removes one object. NotFound if absent.
  virtual Status Delete(std::string_view uri) = 0;

  // Removes every object under the folder/prefix `prefix` (recursively), including temp files of
  // unfinished writes that List does not show. OK when there is nothing.
  virtual Status DeletePrefix(std::string_view prefix) = 0;

  // Moves `from` to `to`, replacing `to`. Local: rename(2), atomic. Object stores: copy + delete,
  // not atomic, so callers make it idempotent (the pipeline rolls interrupted moves forward).
  // NotFound if `from` is absent.
  virtual Status Rename(std::string_view from, std::string_view to) = 0;

  // Takes an exclusive lock named `uri`, recording `owner` (free text: pid, host, time) in it.
  // Returns Unavailable naming the current owner if another holder has it. The lock ends when the
  // returned object is destroyed or the process dies (local: flock(2), so kill -9 frees it).
  virtual Result<std::unique_ptr<StorageLock>> TryLock(std::string_view uri,
                                                       std::string_view owner) = 0;

  // True if objects of this storage are files on the local machine (the ledger and catalog, which
  // are SQLite files, may then live under the output folder).
  virtual bool is_local() const { return false; }

  // True when an object's ETag changes whenever its bytes may have: S3 gives every write a new
  // ETag (the MD5 of a single-part upload is the same only for the same bytes), mem:// a
  // generation number. The pipeline then knows an object version it has seen by its listing
  // (URI, size, ETag) without reading it again. Local files: false (inode and mtime only).
  virtual bool etags_identify_content() const { return false; }

  // For local storage: the file system path of `uri`; InvalidArgument otherwise.
  virtual Result<std::string> LocalPath(std::string_view uri) const {
    return InvalidArgumentError("not a local storage URI: " + std::string(uri));
  }

  // A canonical form of `uri`, for telling whether two locations overlap: "." and ".." segments
  // and repeated or trailing '/' removed; local storage also makes the path absolute and
  // resolves the symlinks of its existing part. The object need not exist.
  virtual Result<std::string> CanonicalUri(std::string_view uri) const;
};

// True for what List leaves out, by the last path segment of `uri` (or a bare name): names
// starting with "." and temp files of unfinished writes (".lote-tmp-" in the name).
bool HiddenFromListing(std::string_view uri);

// True if a listing pattern holds glob characters (* ? [).
bool HasGlob(std::string_view pattern);

// True if List(pattern) would include `uri` were it there (and not hidden): a glob matches it
// (fnmatch, '*' not crossing '/'), a prefix ending in '/' holds it, or another pattern is it or
// a folder above it. Same scheme and spelling assumed (no canonicalization).
bool MatchesPattern(std::string_view pattern, std::string_view uri);

// `uri` with "." and ".." segments and repeated or trailing '/' removed (after the scheme's
// "://"); what Storage::CanonicalUri does for stores without symlinks.
std::string NormalizeUri(std::string_view uri);

// The folder or prefix a listing pattern starts from: the pattern itself without glob
// characters, else everything before the last '/' that precedes the first glob character
// ("mem://b/in/2024-*/x.jsonl" -> "mem://b/in").
std::string ListRoot(std::string_view pattern);

// True if canonical URI `inner` is `outer` or lies below it ("mem://b/a/x" is within
// "mem://b/a", "mem://b/ab" is not).
bool UriWithin(std::string_view inner, std::string_view outer);

// The scheme of a URI: "file" for "file://..." and for plain paths, else the text before "://".
std::string_view UriScheme(std::string_view uri);

// `base` + "/" + `relative`, without doubling the separator. JoinUri("mem://b/out", "x/y") ==
// "mem://b/out/x/y".
std::string JoinUri(std::string_view base, std::string_view relative);

// A Storage for `scheme`, built by the factory registered for it. The built-in schemes are
// "file", "mem" (one MemStorage shared by the whole process, so tests can write with one
// handle and read with another) and "s3" (one S3Storage configured from the environment).
// NotFound for an unknown scheme.
using StorageFactory = std::function<Result<std::shared_ptr<Storage>>()>;
Result<std::shared_ptr<Storage>> OpenStorage(std::string_view uri);
// `given` when set (a caller's own storage, e.g. a test's fault-injecting one), else
// OpenStorage(uri).
Result<std::shared_ptr<Storage>> OpenStorageOr(std::shared_ptr<Storage> given,
                                               std::string_view uri);

// Registers (or replaces) the factory for `scheme`, e.g. to install a FaultInjectingStorage for
// "mem" in a test. Thread-safe.
void RegisterStorage(std::string scheme, StorageFactory factory);

// A fresh local storage (no shared state besides the file system).
std::shared_ptr<Storage> NewLocalStorage();

struct LocalStorageOptions {
  // When set (an absolute, symlink-free folder, e.g. from CanonicalUri): reads are confined to
  // it. List leaves out files that resolve outside it (a symlink pointing out of the folder) and
  // reports each to `on_escape` (a single file named by the pattern is refused instead:
  // PermissionDenied); Stat, Read, ReadRange and OpenRead of such a file fail with
  // PermissionDenied, checked on the opened file itself, so swapping a file for a symlink
  // between listing and reading does not get around it.
  std::string confine_to;
  std::function<void(std::string_view uri)> on_escape;
};
std::shared_ptr<Storage> NewLocalStorage(LocalStorageOptions options);
// A fresh, empty in-memory storage (scheme "mem").
std::shared_ptr<Storage> NewMemStorage();

}  // namespace lote::storage

#endif  // LOTE_STORAGE_STORAGE_H_
