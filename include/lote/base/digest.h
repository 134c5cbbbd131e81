// SHA-256 and HMAC-SHA256 (OpenSSL EVP underneath), used for model checksums, record content
// hashes, data fingerprints and keyed PII pseudonymization. Thread-safety: a Sha256 instance is
// not shared; the free functions are thread-safe.
#ifndef LOTE_BASE_DIGEST_H_
#define LOTE_BASE_DIGEST_H_

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "lote/base/secret.h"

namespace lote {

// Incremental SHA-256.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(std::string_view data);
  void Update(const void* data, size_t n);
  // Finishes and returns the digest; the object must not be updated afterwards.
  std::array<uint8_t, 32> Final();
  std::string FinalHex();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

std::string HexEncode(const uint8_t* data, size_t n);
// Base64 (RFC 4648, padded): the standard alphabet, and the URL- and filename-safe one (section
// 5: '-' and '_' for '+' and '/').
std::string Base64Encode(std::string_view data);
std::string Base64UrlEncode(std::string_view data);
// Decodes exactly 2*n hex digits (either case) into out[0..n); false for anything else.
bool HexDecode(std::string_view hex, uint8_t* out, size_t n);
// Percent-decoding, lenient: "%XY" with two hex digits becomes that byte, any other '%' stays as
// it is; with `plus_is_space` (HTML forms, query strings, S3's url-encoded listings) '+' is a
// space. (SigV4's canonical query, which must refuse a bad escape, has its own strict decoder.)
std::string UrlDecode(std::string_view s, bool plus_is_space);
std::string Sha256Hex(std::string_view data);
// `n` random bytes from OpenSSL's CSPRNG, as 2n hex digits (unique ids: lock owners, ledger ids,
// staging names).
std::string RandomHex(size_t n);
// HMAC-SHA256(key, message) as lowercase hex (64 digits).
std::string HmacSha256Hex(std::string_view key, std::string_view message);

// HMAC-SHA256 under one key, prepared once (the padded key's hash states are computed in the
// constructor) and applied to many messages: the per-record text fingerprints. Without the key
// nobody can recompute a fingerprint, so a short text (a phone number, a cedula) cannot be found
// by hashing guesses, as it could from an unkeyed SHA-256.
// Thread-safety: Digest and HexDigest are const and thread-safe.
class KeyedHash {
 public:
  // The hash for one purpose ("text", "content"...): keyed with HMAC-SHA256(key, "lote/" +
  // purpose), so fingerprints made for different purposes with one key cannot be linked, and
  // none equals a pseudonym the redactor writes with the key itself.
  KeyedHash(const Secret& key, std::string_view purpose);
  ~KeyedHash();
  KeyedHash(const KeyedHash&) = delete;
  KeyedHash& operator=(const KeyedHash&) = delete;

  std::array<uint8_t, 32> Digest(std::string_view message) const;
  std::string HexDigest(std::string_view message) const;  // 64 lowercase hex digits

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace lote

#endif  // LOTE_BASE_DIGEST_H_
