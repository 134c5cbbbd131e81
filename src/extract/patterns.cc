#include "lote/extract/patterns.h"

#include <array>
#include <charconv>
#include <cstdio>
#include <string>
#include <utility>

#include "extract/patterns_internal.h"

namespace lote::extract {
namespace internal {
namespace {

// Folds one non-ASCII code point to the byte the scanners see.
char FoldCodePoint(char32_t cp) {
  if (cp >= 0xC0 && cp <= 0xFF) {
    static constexpr char kLatin1[] =
        "aaaaaaaceeeeiiii"      // C0-CF
        "dnooooo\x1aouuuuyts"   // D0-DF (D7 = multiplication sign)
        "aaaaaaaceeeeiiii"      // E0-EF
        "dnooooo\x1aouuuuyty";  // F0-FF (F7 = division sign)
    return kLatin1[cp - 0xC0];
  }
  switch (cp) {
    case 0xA0:
    case 0x2000:
    case 0x2001:
    case 0x2002:
    case 0x2003:
    case 0x2004:
    case 0x2005:
    case 0x2006:
    case 0x2007:
    case 0x2008:
    case 0x2009:
    case 0x200A:
    case 0x202F:
    case 0x205F:
    case 0x3000:
      return ' ';
    case 0x2010:
    case 0x2011:
    case 0x2012:
    case 0x2013:
    case 0x2014:
    case 0x2212:
      return '-';
    case 0xBA:
    case 0xB0:  // "1º", "1°"
      return 'o';
    case 0xAA:  // "1ª"
      return 'a';
    case 0x2018:
    case 0x2019:
      return '\'';
    case 0x201C:
    case 0x201D:
      return '"';
    default:
      return kOther;
  }
}

// Strict UTF-8 decode of the sequence at s[i]; returns its length or 0 if invalid.
int DecodeStrict(std::string_view s, size_t i, char32_t* cp) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data()) + i;
  size_t left = s.size() - i;
  unsigned char b0 = p[0];
  if (b0 < 0x80) {
    *cp = b0;
    return 1;
  }
  auto cont = [&](size_t k) { return k < left && (p[k] & 0xC0) == 0x80; };
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    if (!cont(1)) return 0;
    *cp = ((b0 & 0x1F) << 6) | (p[1] & 0x3F);
    return 2;
  }
  if (b0 >= 0xE0 && b0 <= 0xEF) {
    if (!cont(1) || !cont(2)) return 0;
    char32_t c = ((b0 & 0x0F) << 12) | ((p[1] & 0x3F) << 6) | (p[2] & 0x3F);
    if (c < 0x800 || (c >= 0xD800 && c <= 0xDFFF)) return 0;
    *cp = c;
    return 3;
  }
  if (b0 >= 0xF0 && b0 <= 0xF4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    char32_t c = ((b0 & 0x07) << 18) | ((p[1] & 0x3F) << 12) | ((p[2] & 0x3F) << 6) | (p[3] & 0x3F);
    if (c < 0x10000 || c > 0x10FFFF) return 0;
    *cp = c;
    return 4;
  }
  return 0;
}

Status BuildScanText(std::string_view text, ScanText* t) {
  if (text.size() > (size_t{1} << 31)) return InvalidArgumentError("text longer than 2^31 bytes");
  t->original = text;
  t->f.resize(text.size());
  size_t n = 0;
  size_t i = 0;
  // ASCII fast path: identity offsets, no byte_at table.
  while (i < text.size() && static_cast<unsigned char>(text[i]) < 0x80) {
    char c = text[i];
    t->f[n++] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : (c == '\0' ? kOther : c);
    ++i;
  }
  if (i < text.size()) {
    t->byte_at.resize(text.size() + 1);
    for (size_t k = 0; k < n; ++k) t->byte_at[k] = static_cast<uint32_t>(k);
    while (i < text.size()) {
      char32_t cp;
      int len = DecodeStrict(text, i, &cp);
      if (len == 0) {
        return InvalidArgumentError("invalid UTF-8 at byte " + std::to_string(i));
      }
      char c;
      if (cp < 0x80) {
        c = (cp >= 'A' && cp <= 'Z') ? static_cast<char>(cp + 32)
                                     : (cp == 0 ? kOther : static_cast<char>(cp));
      } else {
        c = FoldCodePoint(cp);
      }
      t->byte_at[n] = static_cast<uint32_t>(i);
      t->f[n++] = c;
      i += static_cast<size_t>(len);
    }
    t->byte_at[n] = static_cast<uint32_t>(text.size());
    t->byte_at.resize(n + 1);
  }
  t->f.resize(n);
  t->n = static_cast<int64_t>(n);
  return Status::Ok();
}

struct Keyword {
  std::string_view word;
  Context context;
};

// Folded keywords (accents removed, dots removed: "c.c." is looked up as "cc").
constexpr Keyword kKeywords[] = {
    {"cc", Context::kCedula},
    {"cedula", Context::kCedula},
    {"ciudadania", Context::kCedula},
    {"documento", Context::kCedula},
    {"identificacion", Context::kCedula},
    {"identidad", Context::kCedula},
    {"id", Context::kCedula},
    {"nuip", Context::kCedula},
    {"identification", Context::kCedula},
    {"nit", Context::kNit},
    {"cuenta", Context::kAccount},
    {"cta", Context::kAccount},
    {"account", Context::kAccount},
    {"acct", Context::kAccount},
    {"ahorros", Context::kAccount},
    {"corriente", Context::kAccount},
    {"savings", Context::kAccount},
    {"checking", Context::kAccount},
    {"cel", Context::kPhone},
    {"celular", Context::kPhone},
    {"cell", Context::kPhone},
    {"movil", Context::kPhone},
    {"telefono", Context::kPhone},
    {"tel", Context::kPhone},
    {"telf", Context::kPhone},
    {"whatsapp", Context::kPhone},
    {"wpp", Context::kPhone},
    {"wsp", Context::kPhone},
    {"phone", Context::kPhone},
    {"mobile", Context::kPhone},
    {"llamar", Context::kPhone},
    {"llamame", Context::kPhone},
    {"llamen", Context::kPhone},
    {"contacto", Context::kPhone},
    {"fijo", Context::kPhone},
    {"call", Context::kPhone},
    {"tarjeta", Context::kCard},
    {"card", Context::kCard},
    {"visa", Context::kCard},
    {"mastercard", Context::kCard},
    {"amex", Context::kCard},
    {"tc", Context::kCard},
    {"td", Context::kCard},
    {"credito", Context::kCard},
    {"debito", Context::kCard},
    {"credit", Context::kCard},
    {"debit", Context::kCard},
    {"plastico", Context::kCard},
    {"cobraron", Context::kMoney},
    {"cobro", Context::kMoney},
    {"cobran", Context::kMoney},
    {"pague", Context::kMoney},
    {"pagar", Context::kMoney},
    {"transferi", Context::kMoney},
    {"consigne", Context::kMoney},
    {"consignacion", Context::kMoney},
    {"saldo", Context::kMoney},
    {"valor", Context::kMoney},
    {"monto", Context::kMoney},
    {"retire", Context::kMoney},
    {"retiro", Context::kMoney},
    {"descontaron", Context::kMoney},
    {"debitaron", Context::kMoney},
    {"abono", Context::kMoney},
    {"cuota", Context::kMoney},
    {"deuda", Context::kMoney},
    {"total", Context::kMoney},
    {"cargo", Context::kMoney},
    {"charged", Context::kMoney},
    {"balance", Context::kMoney},
    {"amount", Context::kMoney},
    {"paid", Context::kMoney},
    {"transfirieron", Context::kMoney},
    {"transferencia", Context::kMoney},
    {"consignaron", Context::kMoney},
    {"pagaron", Context::kMoney},

    {"abonaron", Context::kMoney},
    {"reembolso", Context::kMoney},
    {"devolucion", Context::kMoney},
    {"costo", Context::kMoney},
    {"precio", Context::kMoney},
    {"cuesta", Context::kMoney},
    {"pedido", Context::kNegative},
    {"orden", Context::kNegative},
    {"order", Context::kNegative},
    {"radicado", Context::kNegative},
    {"ticket", Context::kNegative},
    {"factura", Context::kNegative},
    {"referencia", Context::kNegative},
    {"ref", Context::kNegative},
    {"guia", Context::kNegative},
    {"caso", Context::kNegative},
    {"solicitud", Context::kNegative},
    {"comprobante", Context::kNegative},
    {"transaccion", Context::kNegative},
    {"transaction", Context::kNegative},
    {"aprobacion", Context::kNegative},
    {"codigo", Context::kNegative},
    {"code", Context::kNegative},
    {"otp", Context::kNegative},
    {"clave", Context::kNegative},
    {"pin", Context::kNegative},
    {"contrasena", Context::kNegative},
    {"serial", Context::kNegative},
    {"convenio", Context::kNegative},
    {"invoice", Context::kNegative},
    {"tracking", Context::kNegative},
    {"pqr", Context::kNegative},
    {"pqrs", Context::kNegative},
    {"recibo", Context::kNegative},
    {"reserva", Context::kNegative},
    {"booking", Context::kNegative},
    {"poliza", Context::kNegative},
    {"confirmation", Context::kNegative},
    {"reference", Context::kNegative},
    {"case", Context::kNegative},
};

// True if `a` becomes `b` with one substitution, insertion, deletion or swap of two adjacent
// letters.
bool OneEditApart(std::string_view a, std::string_view b) {
  if (a.size() > b.size()) std::swap(a, b);
  if (b.size() - a.size() > 1) return false;
  size_t i = 0;
  while (i < a.size() && a[i] == b[i]) ++i;
  if (i == b.size()) return false;  // equal
  if (a.size() < b.size()) return a.substr(i) == b.substr(i + 1);
  if (a.substr(i + 1) == b.substr(i + 1)) return true;  // substitution
  return i + 1 < a.size() && a[i] == b[i + 1] && a[i + 1] == b[i] &&
         a.substr(i + 2) == b.substr(i + 2);  // swap
}

// A keyword as written, or misspelt by one edit when both are long enough that a one-letter
// slip cannot turn another word into it ("documeto", "doxumento", "telefnoo").
Context LookupKeyword(std::string_view word) {
  for (const Keyword& k : kKeywords) {
    if (k.word == word) return k.context;
  }
  constexpr size_t kMinFuzzy = 8;
  if (word.size() + 1 < kMinFuzzy) return Context::kNone;
  for (const Keyword& k : kKeywords) {
    if (k.word.size() >= kMinFuzzy && OneEditApart(word, k.word)) return k.context;
  }
  return Context::kNone;
}

}  // namespace

Context NearestContext(const ScanText& t, int64_t pos, int window) {
  int64_t limit = pos - window;
  int64_t i = pos - 1;
  char word[24];
  while (i >= 0 && i >= limit) {
    char c = t.f[static_cast<size_t>(i)];
    if (IsDigit(c) || c == '\n') return Context::kNone;
    if (!IsAlpha(c)) {
      --i;
      continue;
    }
    // A word (letters, inner dots as in "c.c") ending at i; read it backwards.
    int64_t end = i + 1;
    while (i >= 0 && (IsAlpha(t.f[static_cast<size_t>(i)]) ||
                      (t.f[static_cast<size_t>(i)] == '.' && IsAlpha(t.at(i - 1))))) {
      --i;
    }
    size_t len = 0;
    bool too_long = false;
    for (int64_t k = i + 1; k < end; ++k) {
      char w = t.f[static_cast<size_t>(k)];
      if (w == '.') continue;
      if (len == sizeof(word)) {
        too_long = true;
        break;
      }
      word[len++] = w;
    }
    if (!too_long && IsDigit(t.at(i)) == false) {
      Context ctx = LookupKeyword(std::string_view(word, len));
      if (ctx != Context::kNone) return ctx;
    }
  }
  return Context::kNone;
}

// Howard Hinnant's civil calendar algorithms (public domain).
int64_t DaysFromCivil(int y, int m, int d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

CivilDate CivilFromDays(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return CivilDate{static_cast<int>(y + (m <= 2)), static_cast<int>(m), static_cast<int>(d)};
}

int WeekdayOf(int64_t days) {
  // 1970-01-01 was a Thursday (3 when Monday is 0).
  int64_t w = (days + 3) % 7;
  return static_cast<int>(w < 0 ? w + 7 : w);
}

void AppendJsonString(std::string_view s, std::string* out) {
  out->push_back('"');
  for (char c : s) {
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\t':
        out->append("\\t");
        break;
      case '\r':
        out->append("\\r");
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          out->append(buf);
        } else {
          out->push_back(c);
        }
    }
  }
  out->push_back('"');
}

void Emit(const ScanText& t, const char* type, int64_t start, int64_t end, std::string value_json,
          std::vector<Entity>* out) {
  Entity e;
  e.type = type;
  e.start = static_cast<uint32_t>(start);
  e.end = static_cast<uint32_t>(end);
  e.text = std::string(t.Original(e.start, e.end));
  e.value_json = std::move(value_json);
  e.score = 1.0f;
  e.source = Entity::Source::kPattern;
  out->push_back(std::move(e));
}

}  // namespace internal

using internal::IsAlnum;
using internal::IsAlpha;
using internal::IsDigit;

bool IsValidCivilDate(int year, int month, int day) {
  if (month < 1 || month > 12 || day < 1) return false;
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  int max = kDays[month - 1] + (month == 2 && leap ? 1 : 0);
  return day <= max;
}

std::string CivilDate::ToIso() const {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02d", year, month, day);
  return buf;
}

Result<CivilDate> CivilDate::FromIso(std::string_view iso) {
  auto bad = [&] {
    return InvalidArgumentError("not a YYYY-MM-DD date: '" + std::string(iso.substr(0, 20)) + "'");
  };
  if (iso.size() != 10 || iso[4] != '-' || iso[7] != '-') return bad();
  int y = 0, m = 0, d = 0;
  auto num = [&](size_t b, size_t e, int* v) {
    auto r = std::from_chars(iso.data() + b, iso.data() + e, *v);
    return r.ec == std::errc() && r.ptr == iso.data() + e;
  };
  if (!num(0, 4, &y) || !num(5, 7, &m) || !num(8, 10, &d)) return bad();
  if (!IsValidCivilDate(y, m, d)) return bad();
  return CivilDate{y, m, d};
}

const std::vector<std::string>& PatternTypes() {
  static const std::vector<std::string> kTypes = {"MONEY",  "DATE", "PHONE", "EMAIL",  "URL",
                                                  "CEDULA", "NIT",  "CARD",  "ACCOUNT"};
  return kTypes;
}

PatternExtractor::PatternExtractor(PatternExtractorOptions options) : options_(options) {}

Result<std::vector<Entity>> PatternExtractor::Extract(std::string_view text,
                                                      const ExtractOptions& options) const {
  std::vector<Entity> out;
  LOTE_RETURN_IF_ERROR(Extract(text, options, &out));
  return out;
}

uint32_t PatternTypeBits(const Entity* entities, size_t n) {
  const std::vector<std::string>& types = PatternTypes();
  uint32_t bits = 0;
  for (size_t i = 0; i < n; ++i) {
    for (size_t k = 0; k < types.size(); ++k) {
      if (entities[i].type == types[k]) {
        bits |= 1u << k;
        break;
      }
    }
  }
  return bits;
}

std::string_view CheckedTypeName(CheckedType t) {
  switch (t) {
    case CheckedType::kCedula:
      return "CEDULA";
    case CheckedType::kNit:
      return "NIT";
    case CheckedType::kCard:
      return "CARD";
  }
  return "";
}

Status PatternExtractor::Extract(std::string_view text, const ExtractOptions& options,
                                 std::vector<Entity>* out) const {
  return Extract(text, options, out, nullptr);
}

Status PatternExtractor::Extract(std::string_view text, const ExtractOptions& options,
                                 std::vector<Entity>* out, CheckCounts* checks) const {
  internal::ScanText t;
  LOTE_RETURN_IF_ERROR(internal::BuildScanText(text, &t));
  std::vector<Entity> candidates;
  internal::ScanState s{t, options, options_, &candidates, checks};
  const bool numbers = options_.money || options_.date || options_.phone || options_.cedula ||
                       options_.nit || options_.card || options_.account;
  const char* f = t.f.data();
  for (int64_t i = 0; i < t.n; ++i) {
    char c = f[i];
    char prev = i > 0 ? f[i - 1] : ' ';
    if (IsDigit(c)) {
      if (numbers && !IsDigit(prev)) {
        internal::ScanNumberAt(s, i);
        if (options_.money) internal::ScanMoneyAt(s, i);
        if (options_.date) internal::ScanNumericDateAt(s, i);
      }
    } else if (IsAlpha(c)) {
      if (!IsAlnum(prev)) {
        if (options_.date) internal::ScanDateWordAt(s, i);
        if (options_.money && (c == 'u' || c == 'm')) internal::ScanMoneyWordAt(s, i);
        if (options_.url && (c == 'h' || c == 'w')) internal::ScanUrlAt(s, i);
      }
    } else if (c == '@') {
      if (options_.email) internal::ScanEmailAt(s, i);
    } else if (c == '.') {
      // A dot between letters or digits: maybe a host without a scheme.
      if (options_.url && IsAlnum(prev) && IsAlpha(t.at(i + 1))) internal::ScanBareUrlAt(s, i);
    }
  }
  if (candidates.empty()) return Status::Ok();
  if (options_.date) internal::ExtendDatesWithWeekday(t, &candidates);
  std::vector<Entity> resolved = ResolveOverlaps(std::move(candidates));
  for (Entity& e : resolved) out->push_back(std::move(e));
  return Status::Ok();
}

}  // namespace lote::extract
