#include "lote/model/model_file.h"

#include <bit>
#include <cstring>

#include "lote/base/digest.h"
#include "lote/model/bytes.h"
#include "lote/text/utf8.h"

namespace lote::model {

namespace {
constexpr size_t kDigestLen = 32;
}  // namespace

static_assert(std::endian::native == std::endian::little,
              "lote model files are little-endian; big-endian hosts are not supported");

std::string ModelFile::ContentChecksum() const {
  Sha256 h;
  for (const auto& [name, data] : sections) {
    if (name == "meta") continue;
    uint64_t lens[2] = {name.size(), data.size()};
    h.Update(lens, sizeof(lens));
    h.Update(name);
    h.Update(data);
  }
  return h.FinalHex();
}

std::string VersionId(std::string_view name, const ModelFile& file) {
  return std::string(name) + "-" + file.ContentChecksum().substr(0, 12);
}

std::string SerializeModelFile(const ModelFile& file) {
  ByteWriter payload;
  payload.Put<uint32_t>(static_cast<uint32_t>(file.sections.size()));
  for (const auto& [name, data] : file.sections) {
    payload.PutString(name);
    payload.PutString(data);
  }
  const std::string& p = payload.bytes();
  ByteWriter out;
  std::string result(kModelMagic, sizeof(kModelMagic));
  out.Put<uint32_t>(kModelFormatVersion);
  out.Put<uint64_t>(p.size());
  result += out.bytes();
  result += p;
  Sha256 h;
  h.Update(p);
  auto md = h.Final();
  result.append(reinterpret_cast<const char*>(md.data()), md.size());
  return result;
}

Result<ModelFile> ParseModelFile(std::string_view bytes, std::string_view source) {
  const std::string src(source);
  if (bytes.size() < sizeof(kModelMagic) ||
      std::memcmp(bytes.data(), kModelMagic, sizeof(kModelMagic)) != 0) {
    return InvalidArgumentError(src + ": not a lote model file (bad magic number)");
  }
  ByteReader header(bytes.substr(sizeof(kModelMagic)), src + ": header");
  uint32_t version = 0;
  uint64_t payload_len = 0;
  if (!header.Get(&version).ok() || !header.Get(&payload_len).ok()) {
    return DataLossError(src + ": model file truncated in its header");
  }
  if (version != kModelFormatVersion) {
    return FailedPreconditionError(src + ": model format version " + std::to_string(version) +
                                   " is not supported by this lote (reads version " +
                                   std::to_string(kModelFormatVersion) + ")");
  }
  const size_t header_len = sizeof(kModelMagic) + 4 + 8;
  if (bytes.size() - header_len < payload_len ||
      bytes.size() - header_len - payload_len != kDigestLen) {
    return DataLossError(src + ": model file truncated or has trailing bytes (expected " +
                         std::to_string(header_len + payload_len + kDigestLen) + " bytes, found " +
                         std::to_string(bytes.size()) + ")");
  }
  std::string_view payload = bytes.substr(header_len, payload_len);
  Sha256 h;
  h.Update(payload);
  auto md = h.Final();
  if (std::memcmp(md.data(), bytes.data() + header_len + payload_len, md.size()) != 0) {
    return DataLossError(src + ": model file is corrupted (checksum mismatch)");
  }
  ModelFile file;
  ByteReader r(payload, src);
  uint32_t count = 0;
  LOTE_RETURN_IF_ERROR(r.Get(&count));
  for (uint32_t i = 0; i < count; ++i) {
    std::string name, data;
    LOTE_RETURN_IF_ERROR(r.GetString(&name));
    LOTE_RETURN_IF_ERROR(r.GetString(&data));
    // The writer emits each name once, in byte order. A duplicate would otherwise be dropped
    // silently (and which copy wins would depend on this reader), so any other order is corrupt.
    if (!file.sections.empty() && name <= file.sections.rbegin()->first) {
      return DataLossError(
          src + ": section '" + text::Excerpt(name, 40) + "' " +
          (name == file.sections.rbegin()->first ? "appears twice" : "is out of order"));
    }
    file.sections.emplace_hint(file.sections.end(), std::move(name), std::move(data));
  }
  LOTE_RETURN_IF_ERROR(r.ExpectEnd());
  return file;
}

}  // namespace lote::model
