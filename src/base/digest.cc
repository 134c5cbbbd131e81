#include "lote/base/digest.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

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

std::string RandomHex(size_t n) {
  std::string bytes(n, '\0');
  LOTE_CHECK(RAND_bytes(reinterpret_cast<unsigned char*>(bytes.data()), static_cast<int>(n)) == 1);
  return HexEncode(reinterpret_cast<const uint8_t*>(bytes.data()), n);
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

struct KeyedHash::Impl {
  EVP_MD_CTX* inner = nullptr;  // SHA-256 state after (key ^ ipad)
  EVP_MD_CTX* outer = nullptr;  // SHA-256 state after (key ^ opad)
};

KeyedHash::KeyedHash(const Secret& key, std::string_view purpose)
    : impl_(std::make_unique<Impl>()) {
  // RFC 2104 with the purpose's derived key (32 bytes, shorter than the 64-byte block, so it is
  // zero-padded as is).
  std::array<uint8_t, 64> block{};
  {
    unsigned int len = 0;
    const std::string label = "lote/" + std::string(purpose);
    const std::string_view k = key.Reveal();
    LOTE_CHECK(HMAC(EVP_sha256(), k.data(), static_cast<int>(k.size()),
                    reinterpret_cast<const unsigned char*>(label.data()), label.size(),
                    block.data(), &len) != nullptr &&
               len == 32);
  }
  std::array<uint8_t, 64> pad;
  impl_->inner = EVP_MD_CTX_new();
  impl_->outer = EVP_MD_CTX_new();
  LOTE_CHECK(impl_->inner != nullptr && impl_->outer != nullptr);
  for (size_t i = 0; i < pad.size(); ++i) pad[i] = block[i] ^ 0x36;
  LOTE_CHECK(EVP_DigestInit_ex(impl_->inner, EVP_sha256(), nullptr) == 1);
  LOTE_CHECK(EVP_DigestUpdate(impl_->inner, pad.data(), pad.size()) == 1);
  for (size_t i = 0; i < pad.size(); ++i) pad[i] = block[i] ^ 0x5c;
  LOTE_CHECK(EVP_DigestInit_ex(impl_->outer, EVP_sha256(), nullptr) == 1);
  LOTE_CHECK(EVP_DigestUpdate(impl_->outer, pad.data(), pad.size()) == 1);
  OPENSSL_cleanse(block.data(), block.size());
  OPENSSL_cleanse(pad.data(), pad.size());
}

KeyedHash::~KeyedHash() {
  EVP_MD_CTX_free(impl_->inner);
  EVP_MD_CTX_free(impl_->outer);
}

std::array<uint8_t, 32> KeyedHash::Digest(std::string_view message) const {
  // One scratch context per thread: copying a prepared state is cheaper than hashing the pad.
  thread_local struct Scratch {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    ~Scratch() { EVP_MD_CTX_free(ctx); }
  } scratch;
  std::array<uint8_t, 32> inner{}, out{};
  unsigned int len = 0;
  LOTE_CHECK(EVP_MD_CTX_copy_ex(scratch.ctx, impl_->inner) == 1);
  LOTE_CHECK(EVP_DigestUpdate(scratch.ctx, message.data(), message.size()) == 1);
  LOTE_CHECK(EVP_DigestFinal_ex(scratch.ctx, inner.data(), &len) == 1 && len == 32);
  LOTE_CHECK(EVP_MD_CTX_copy_ex(scratch.ctx, impl_->outer) == 1);
  LOTE_CHECK(EVP_DigestUpdate(scratch.ctx, inner.data(), inner.size()) == 1);
  LOTE_CHECK(EVP_DigestFinal_ex(scratch.ctx, out.data(), &len) == 1 && len == 32);
  return out;
}

std::string KeyedHash::HexDigest(std::string_view message) const {
  const auto d = Digest(message);
  return HexEncode(d.data(), d.size());
}

namespace {

int Nibble(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

bool HexDecode(std::string_view hex, uint8_t* out, size_t n) {
  if (hex.size() != 2 * n) return false;
  for (size_t i = 0; i < n; ++i) {
    const int hi = Nibble(hex[2 * i]), lo = Nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return true;
}

std::string UrlDecode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      const int hi = Nibble(s[i + 1]), lo = Nibble(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(plus_is_space && s[i] == '+' ? ' ' : s[i]);
  }
  return out;
}

std::string Base64Encode(std::string_view data) {
  std::string out(4 * ((data.size() + 2) / 3), '\0');
  const int len = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(data.data()),
                                  static_cast<int>(data.size()));
  out.resize(static_cast<size_t>(len));
  return out;
}

std::string Base64UrlEncode(std::string_view data) {
  std::string out = Base64Encode(data);
  for (char& c : out) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  return out;
}

}  // namespace lote
