// Secret: key material (the PII key) as a type of its own, so that it cannot be printed, logged or
// put in an error message by accident: no operator<<, no implicit conversion to a string, and a
// DebugString that never shows the bytes. Code that needs the bytes calls Reveal() at the one
// place they are used (an HMAC key). The bytes are wiped from memory on destruction.
//
// ParseKey is the one way every command reads a PII key (from a key file's bytes or an
// environment variable's value), so that `lote redact`, `lote run`, `lote predict` and the stages
// derive the same key from the same file and their pseudonyms join.
// Thread-safety: a Secret is an immutable value once built; copies are independent.
#ifndef LOTE_BASE_SECRET_H_
#define LOTE_BASE_SECRET_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "lote/base/status.h"

namespace lote {

class Secret {
 public:
  Secret() = default;
  explicit Secret(std::string bytes) : bytes_(std::move(bytes)) {}
  Secret(const Secret& other) : bytes_(other.bytes_) {}
  Secret(Secret&& other) noexcept;
  Secret& operator=(const Secret& other);
  Secret& operator=(Secret&& other) noexcept;
  ~Secret();

  bool empty() const { return bytes_.empty(); }
  // The key bytes. Call only where the key is used; never log or format the result.
  std::string_view Reveal() const { return bytes_; }
  // "<secret: N bytes>" or "<no secret>": safe to log.
  std::string DebugString() const;

 private:
  void Wipe();
  std::string bytes_;
};

// Keys shorter than this are refused: a short key makes keyed pseudonyms guessable.
inline constexpr size_t kMinKeyBytes = 16;

// A key from the bytes of a key file or an environment variable (`source` names it in errors,
// e.g. "--pii-key-file /etc/lote/key" or "LOTE_PII_KEY"). Trailing CR and LF bytes are removed
// (a key file written by echo or an editor on any platform ends with "\n" or "\r\n"), nothing
// else. InvalidArgument when what remains is shorter than kMinKeyBytes; the message gives the
// length, never the bytes.
Result<Secret> ParseKey(std::string_view bytes, std::string_view source);

}  // namespace lote

#endif  // LOTE_BASE_SECRET_H_
