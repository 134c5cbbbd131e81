// Pattern extraction: hand-written scanners over UTF-8 bytes for the structured entities of
// Colombian banking messages in Spanish and English, each with a normalized value.
//
//   MONEY    "$50.000", "50 mil pesos", "1,5 millones", "USD 20", "200 lucas"
//            -> {"amount":50000,"currency":"COP"}
//   DATE     "15 de marzo de 2024", "15/03/2024", "ayer", "el lunes pasado", "March 3rd, 2024"
//            -> "2024-03-15" (relative and year-less dates need ExtractOptions::reference_date);
//            periods as ISO 8601 writes them: "la semana pasada" -> "2024-W10", "el mes
//            pasado" -> "2024-02", "en 2023" -> "2023", "el fin de semana" ->
//            "2024-03-09/2024-03-10"
//   PHONE    Colombian mobiles (3xx) and landlines (60x) -> E.164 "+573001234567"
//   EMAIL    -> lower-cased address          URL  http(s):// or www. -> the URL text
//   CEDULA   6-10 digits after a context keyword ("cc", "cédula", ...) -> "1020345678"
//   NIT      9 digits + DIAN verification digit (verified) -> "900123456-7"
//   CARD     13-19 digits, known IIN prefix, Luhn verified -> "4111111111111111"
//   ACCOUNT  8-20 digits/dashes after "cuenta", "ahorros", "account", ... -> "12345678901"
//
// Precision comes first: a wrong check digit, an unknown prefix, an invalid calendar date or a
// missing context keyword means no entity. The exact rules are in docs/patterns.md.
// Offsets are code point offsets into the caller's text. Results never overlap (resolved with
// ResolveOverlaps from entity.h).
//
// Thread-safety: PatternExtractor is immutable after construction; Extract is const and may be
// called concurrently from any number of threads (scratch lives on the caller's stack).
#ifndef LOTE_EXTRACT_PATTERNS_H_
#define LOTE_EXTRACT_PATTERNS_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lote/base/status.h"
#include "lote/extract/entity.h"

namespace lote::extract {

// A proleptic Gregorian calendar date (no time zone: "today" is the caller's civil date).
struct CivilDate {
  int year = 1970;
  int month = 1;  // 1..12
  int day = 1;    // 1..31

  // "2024-03-15".
  std::string ToIso() const;
  // Parses "YYYY-MM-DD" and validates the calendar date; InvalidArgument otherwise.
  static Result<CivilDate> FromIso(std::string_view iso);
  friend bool operator==(const CivilDate&, const CivilDate&) = default;
};

// True if year/month/day name a real date (leap years included).
bool IsValidCivilDate(int year, int month, int day);

// Which scanners run. Defaults: all on.
struct PatternExtractorOptions {
  bool money = true;
  bool date = true;
  bool phone = true;
  bool email = true;
  bool url = true;
  bool cedula = true;
  bool nit = true;
  bool card = true;
  bool account = true;
  // How far before a number (in code points, no digits in between) a context keyword such as
  // "cédula", "nit", "cuenta", "celular" or "pedido" is looked for.
  int context_window = 48;
};

// Per-call settings.
struct ExtractOptions {
  // Resolves "hoy", "ayer", "el lunes pasado", "yesterday", "hace 3 días" and dates written
  // without a year (which take the reference year). Unset: those are not extracted.
  std::optional<CivilDate> reference_date;
  // Currency of a bare "$" amount that no rule makes USD (see docs/patterns.md). A pipeline that
  // knows the message is from a US-dollar context may pass "USD".
  std::string default_dollar_currency = "COP";
};

// The type names produced, in a stable order.
const std::vector<std::string>& PatternTypes();

// A bit per type of PatternTypes() (bit i: PatternTypes()[i]) that `entities` hold at least once;
// other types are ignored.
uint32_t PatternTypeBits(const Entity* entities, size_t n);

// The types whose numbers carry a check, and what the scanners saw of them in one text, for
// monitoring (a rise in failures means mistyped or altered numbers, or an upstream change in how
// they are written; docs/monitoring.md). A candidate is a number in the type's layout, context
// and issuer range that ends cleanly; it fails when
//   CARD    the Luhn check fails;
//   NIT     the DIAN verification digit does not match the base;
//   CEDULA  (a cédula has no check digit) the number breaks the issuing rules: fewer than 6 or
//           more than 10 digits, a leading 0, or ten digits not starting with 1.
// Only passing candidates become entities. No digit is kept: these are counts.
enum class CheckedType : uint8_t { kCedula, kNit, kCard };
inline constexpr int kCheckedTypes = 3;
std::string_view CheckedTypeName(CheckedType t);  // "CEDULA", "NIT", "CARD"

struct CheckCounts {
  std::array<uint32_t, kCheckedTypes> candidates{};
  std::array<uint32_t, kCheckedTypes> failures{};
  void Count(CheckedType t, bool passed) {
    ++candidates[static_cast<int>(t)];
    if (!passed) ++failures[static_cast<int>(t)];
  }
};

class PatternExtractor {
 public:
  explicit PatternExtractor(PatternExtractorOptions options = {});

  const PatternExtractorOptions& options() const { return options_; }

  // Finds the entities in `text` (valid UTF-8), sorted by start, non-overlapping, each with
  // source kPattern, score 1 and a value_json. Returns InvalidArgument if `text` is not valid
  // UTF-8 or is longer than 2^31 bytes. Thread-safe.
  Result<std::vector<Entity>> Extract(std::string_view text,
                                      const ExtractOptions& options = {}) const;

  // Same, appending to *out (not cleared) so callers can reuse its capacity.
  Status Extract(std::string_view text, const ExtractOptions& options,
                 std::vector<Entity>* out) const;
  // Same, also adding the text's check-digit candidates to *checks (not cleared; null: none).
  Status Extract(std::string_view text, const ExtractOptions& options, std::vector<Entity>* out,
                 CheckCounts* checks) const;

 private:
  PatternExtractorOptions options_;
};

}  // namespace lote::extract

#endif  // LOTE_EXTRACT_PATTERNS_H_
