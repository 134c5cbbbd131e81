#include "lote/base/digest.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "lote/base/check.h"

namespace lote {

struct Sha256::Impl {
  EVP_MD_CTX* ctx = nullptr;
};

Sha256::Sha256() : impl_(std::make_unique<Impl>()) {
  impl_->ctx = EVP_MD_CTX_new();
  LOTE_CHECK(impl_->ctx != nullptr);
  LOTE_CHECK(EVP_DigestInit_ex(impl_->ctx, EVP_sha256(), nullptr) == 1);
}

Sha256::~Sha256() { EVP_MD_CTX_free(impl_->ctx); }

void Sha256::Update(const void* data, size_t n) {
  LOTE_CHECK(EVP_DigestUpdate(impl_->ctx, data, n) == 1);
}

void Sha256::Update(std::string_view data) { Update(data.data(), data.size()); }

std::array<uint8_t, 32> Sha256::Final() {
  std::array<uint8_t, 32> md{};
  unsigned int len = 0;
  LOTE_CHECK(EVP_DigestFinal_ex(impl_->ctx, md.data(), &len) == 1 && len == 32);
  return md;
}

std::string Sha256::FinalHex() {
  auto md = Final();
  return HexEncode(md.data(), md.size());
}

std::string HexEncode(const uint8_t* d, size_t n) {
  static const char* kHex = "0123456789abcdef";
  std::string s(n * 2, '0');
  for (size_t i = 0; i < n; ++i) {
    s[2 * i] = kHex[d[i] >> 4];
    s[2 * i + 1] = kHex[d[i] & 15];
  }
  return s;
}

std::string Sha256Hex(std::string_view data) {
  Sha256 h;
  h.Update(data);
  return h.FinalHex();
}

std::string HmacSha256Hex(std::string_view key, std::string_view message) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  LOTE_CHECK(HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
                  reinterpret_cast<const unsigned char*>(message.data()), message.size(), md,
                  &len) != nullptr);
  return HexEncode(md, len);
}

bool HexDecode(std::string_view hex, uint8_t* out, size_t n) {
  if (hex.size() != 2 * n) return false;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < n; ++i) {
    const int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return true;
}

}  // namespace lote
