#include "lote/base/secret.h"

#include <openssl/crypto.h>

namespace lote {

Secret::Secret(Secret&& other) noexcept : bytes_(std::move(other.bytes_)) { other.Wipe(); }

Secret& Secret::operator=(const Secret& other) {
  if (this != &other) {
    Wipe();
    bytes_ = other.bytes_;
  }
  return *this;
}

Secret& Secret::operator=(Secret&& other) noexcept {
  if (this != &other) {
    Wipe();
    bytes_ = std::move(other.bytes_);
    other.Wipe();
  }
  return *this;
}

Secret::~Secret() { Wipe(); }

void Secret::Wipe() {
  // OPENSSL_cleanse is not optimised away, unlike a memset before free.
  if (!bytes_.empty()) OPENSSL_cleanse(bytes_.data(), bytes_.size());
  bytes_.clear();
}

std::string Secret::DebugString() const {
  return bytes_.empty() ? "<no secret>" : "<secret: " + std::to_string(bytes_.size()) + " bytes>";
}

Result<Secret> ParseKey(std::string_view bytes, std::string_view source) {
  while (!bytes.empty() && (bytes.back() == '\n' || bytes.back() == '\r')) bytes.remove_suffix(1);
  if (bytes.size() < kMinKeyBytes) {
    return InvalidArgumentError(std::string(source) + ": the key has " +
                                std::to_string(bytes.size()) + " bytes, at least " +
                                std::to_string(kMinKeyBytes) +
                                " are needed (e.g. `openssl rand -hex 32 > key`)");
  }
  return Secret(std::string(bytes));
}

}  // namespace lote
