// The lote model file: one container for every model family (classifier, tagger, bundles).
//
// Layout (all integers little-endian):
//   magic        8 bytes  "LOTEMDL\0"
//   version      u32      kModelFormatVersion; a reader refuses versions it does not know
//   payload_len  u64
//   payload      payload_len bytes: u32 section count, then per section
//                (u64 name length, name, u64 data length, data), sections sorted by name
//   checksum     32 bytes SHA-256 of the payload
// The metadata (JSON text: name, kind, version id, normalization and feature configuration,
// training metadata) is the section "meta". The version id is "<name>-<first 12 hex digits of
// the SHA-256 of every section but meta>", so it names the content, not the file.
// Thread-safety: ModelFile is a plain value.
#ifndef LOTE_MODEL_MODEL_FILE_H_
#define LOTE_MODEL_MODEL_FILE_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "lote/base/status.h"

namespace lote::model {

inline constexpr char kModelMagic[8] = {'L', 'O', 'T', 'E', 'M', 'D', 'L', '\0'};
// Bump when the container layout changes; section formats carry their own versions.
inline constexpr uint32_t kModelFormatVersion = 1;

struct ModelFile {
  std::map<std::string, std::string> sections;  // name -> bytes; "meta" holds JSON

  // SHA-256 (hex) over every section except "meta", in name order, each framed by its name
  // and length. Stable across runs: the basis of the version id.
  std::string ContentChecksum() const;
};

// "<name>-<first 12 hex of ContentChecksum()>".
std::string VersionId(std::string_view name, const ModelFile& file);

// Serializes to the layout above.
std::string SerializeModelFile(const ModelFile& file);

// Parses and verifies magic, version and checksum. `source` names the file in messages.
// Errors: InvalidArgument (not a lote model: bad magic), FailedPrecondition (unknown format
// version), DataLoss (truncated, checksum mismatch, or a section name repeated or out of the
// byte order the writer uses).
Result<ModelFile> ParseModelFile(std::string_view bytes, std::string_view source);

}  // namespace lote::model

#endif  // LOTE_MODEL_MODEL_FILE_H_
