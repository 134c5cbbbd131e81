// The local file system, the way leveldb's env_posix hides OS calls: byte sources over files,
// whole-file reads and directory listings, all through POSIX and all returning Status. The CLI
// and the storage layer use this; the parsers in records.h only ever see ByteSource.
// Thread-safety: the free functions are thread-safe; a returned source is used by one thread.
#ifndef LOTE_IO_FILE_SOURCE_H_
#define LOTE_IO_FILE_SOURCE_H_

#include <memory>
#include <string>
#include <vector>

#include "lote/base/status.h"
#include "lote/io/byte_source.h"
#include "lote/io/records.h"

namespace lote::io {

// Opens `path` for sequential reading (POSIX read through a 1 MiB buffer). The source's name is
// `path`. It does not decompress: wrap it with MaybeDecompress().
// Errors (message names the path): NotFound (no such file), PermissionDenied,
// FailedPrecondition (a directory), Unavailable (any other OS error). Read errors later are
// Unavailable.
Result<std::unique_ptr<ByteSource>> OpenFileSource(const std::string& path);

// Reads the whole file (no decompression). Errors as OpenFileSource, plus read errors.
Result<std::string> ReadFileToString(const std::string& path);

// Names (not paths) of the entries of directory `path`, without "." and "..", sorted by byte
// order. Errors: NotFound, PermissionDenied, FailedPrecondition (not a directory), Unavailable.
Result<std::vector<std::string>> ListDirectory(const std::string& path);

// Whether `path` is a directory (following symlinks). NotFound when it does not exist;
// Unavailable / PermissionDenied for other OS errors.
Result<bool> IsDirectory(const std::string& path);

// Reads a BRAT folder: every NAME.txt with its NAME.ann, in name order (subfolders are not
// visited). A .txt without .ann is a document with no annotations and a warning; an .ann
// without .txt is skipped with a warning. The first document that does not parse fails the
// whole call (training data with broken offsets must not be used silently): see
// ParseBratDocument for the checks. `warnings` may be null. Holds every document in memory.
Result<std::vector<BratDocument>> ReadBratFolder(const std::string& dir,
                                                 std::vector<std::string>* warnings);

}  // namespace lote::io

#endif  // LOTE_IO_FILE_SOURCE_H_
