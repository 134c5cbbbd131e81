// Scanners for numbers: PHONE, CARD, NIT, CEDULA, ACCOUNT (identifiers, sharing the context
// keyword lookup) and MONEY.
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "extract/patterns_internal.h"

namespace lote::extract::internal {
namespace {

// ---------------------------------------------------------------------------------------------
// PHONE

bool ValidColombianNational(const char* d) {
  if (d[0] == '3') {
    int p = (d[1] - '0') * 10 + (d[2] - '0');
    // Mobile ranges assigned by the CRC: 300-324, 333, 350-351.
    return p <= 24 || p == 33 || p == 50 || p == 51;
  }
  if (d[0] == '6' && d[1] == '0') {
    // Landlines since 2021: 60 + area (1 Bogotá, 2 Cali, 4 Antioquia, 5 Caribe, 6 Eje Cafetero,
    // 7 Santanderes, 8 others) + 7-digit subscriber number not starting with 0, 1 or 9.
    bool area = d[2] == '1' || d[2] == '2' || (d[2] >= '4' && d[2] <= '8');
    return area && d[3] >= '2' && d[3] <= '8';
  }
  return false;
}

// True if f[end - word.size(), end) == word and a word boundary precedes it.
bool WordEndsAt(const ScanText& t, int64_t end, std::string_view word) {
  int64_t b = end - static_cast<int64_t>(word.size());
  return b >= 0 && StartsWithAt(t, b, word) && !IsAlnum(t.at(b - 1));
}

void TryPhone(const ScanState& s, int64_t pos, Context ctx) {
  const ScanText& t = s.text;
  // Another identifier's keyword before a bare number makes it that identifier (or not personal
  // data at all); only an explicit +57 overrides it. A negative keyword further back does not
  // hold against "al" / "del" / "at" / "to" / "from" right before the number: "ya intenté con el
  // código y no me llega al 3172198050", "me llamaron del 3001234567", "the code never arrives at
  // 3145171567".
  const bool to_or_from =
      t.at(pos - 1) == ' ' && (WordEndsAt(t, pos - 1, "al") || WordEndsAt(t, pos - 1, "del") ||
                               WordEndsAt(t, pos - 1, "at") || WordEndsAt(t, pos - 1, "to") ||
                               WordEndsAt(t, pos - 1, "from"));
  const bool other_context = ctx == Context::kCedula || ctx == Context::kNit ||
                             ctx == Context::kAccount || ctx == Context::kCard ||
                             (ctx == Context::kNegative && !to_or_from);
  int64_t start = pos;
  bool plus = false;
  bool open = false;
  bool paren_used = false;
  if (t.at(pos - 1) == '+') {
    plus = true;
    start = pos - 1;
    if (t.at(start - 1) == '(') {
      open = paren_used = true;
      --start;
    }
  } else if (t.at(pos - 1) == '(') {
    open = paren_used = true;
    start = pos - 1;
  }
  if (!StartsCleanly(t, start)) return;
  // "+1 305 555 1234": digits after a foreign country code are not a Colombian number (after
  // "+57 " the longer candidate that includes the code wins the overlap anyway).
  if (t.at(start - 1) == ' ' || t.at(start - 1) == '-') {
    int64_t k = start - 1;
    while (IsDigit(t.at(k - 1))) --k;
    if (k < start - 1 && t.at(k - 1) == '+') return;
  }

  struct Cut {
    int nd;
    int64_t end;
    bool balanced;
  };
  char digits[16];
  Cut cuts[12];
  int ncuts = 0;
  int nd = 0;
  int64_t next_run = 0;  // length of a digit run that follows the last cut, if any
  int64_t i = pos;
  while (true) {
    int64_t len = RunLength(t, i);
    if (nd + len > 15) {
      next_run = len;
      break;
    }
    for (int64_t k = 0; k < len; ++k) digits[nd++] = t.at(i + k);
    i += len;
    cuts[ncuts++] = {nd, i, !open};
    if (nd >= 12 || ncuts == 12) {
      int64_t q = i;
      if (t.at(q) == ' ' || t.at(q) == '-' || t.at(q) == '.') ++q;
      next_run = RunLength(t, q);
      break;
    }
    int64_t q = i;
    if (t.at(q) == ')' && open) {
      ++q;
      open = false;
    }
    if (t.at(q) == ' ' && t.at(q + 1) == '-' && t.at(q + 2) == ' ') {
      q += 3;
    } else if (t.at(q) == ' ' || t.at(q) == '-' || t.at(q) == '.') {
      ++q;
    }
    if (t.at(q) == '(' && !open && !paren_used) {
      ++q;
      open = paren_used = true;
    }
    if (!IsDigit(t.at(q))) break;
    i = q;
  }
  // Prefer "+57" / "57" + 10 digits, else 10 national digits.
  for (int k = ncuts - 1; k >= 0; --k) {
    const Cut& c = cuts[k];
    const char* national = nullptr;
    if (c.nd == 12 && digits[0] == '5' && digits[1] == '7') {
      if (other_context && !plus) return;
      national = digits + 2;
    } else if (c.nd == 10 && !plus) {
      if (other_context) return;
      national = digits;
    } else {
      continue;
    }
    if (!ValidColombianNational(national)) return;
    // More digits right after (a short group) mean a longer number, not a phone.
    if (k + 1 < ncuts) {
      int64_t following = cuts[k + 1].nd - c.nd;
      if (following <= 4) return;
    } else if (next_run > 0 && next_run <= 4) {
      return;
    }
    int64_t span_start = start;
    int64_t span_end = c.end;
    if (!c.balanced) {
      // An opening paren that is not closed inside the number ("(3001234567)") is not part of it.
      if (t.at(start) != '(') return;
      span_start = start + 1;
    }
    if (!EndsCleanly(t, span_end)) return;
    std::string value = "\"+57";
    value.append(national, 10);
    value.push_back('"');
    Emit(t, "PHONE", span_start, span_end, std::move(value), s.out);
    return;
  }
}

// ---------------------------------------------------------------------------------------------
// CARD

bool LuhnValid(const char* d, int n) {
  int sum = 0;
  bool twice = false;
  for (int i = n - 1; i >= 0; --i) {
    int v = d[i] - '0';
    if (twice) {
      v *= 2;
      if (v > 9) v -= 9;
    }
    sum += v;
    twice = !twice;
  }
  return sum % 10 == 0;
}

int Prefix(const char* d, int len) {
  int v = 0;
  for (int i = 0; i < len; ++i) v = v * 10 + (d[i] - '0');
  return v;
}

// Known issuer prefix with a length that issuer uses.
bool KnownIssuer(const char* d, int n) {
  int p2 = Prefix(d, 2), p3 = Prefix(d, 3), p4 = Prefix(d, 4);
  if (d[0] == '4') return n == 13 || n == 16 || n == 19;                     // Visa
  if ((p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720)) return n == 16;  // Mastercard
  if (p2 == 34 || p2 == 37) return n == 15;                                  // Amex
  if (p2 == 36 || p2 == 38 || p2 == 39 || (p3 >= 300 && p3 <= 305)) {        // Diners
    return n >= 14 && n <= 16;
  }
  if (p4 == 6011 || p2 == 65 || (p3 >= 644 && p3 <= 649)) return n >= 16 && n <= 19;  // Discover
  if (p4 >= 3528 && p4 <= 3589) return n >= 16 && n <= 19;                            // JCB
  return false;
}

void TryCard(const ScanState& s, int64_t pos, Context ctx) {
  if (ctx == Context::kPhone || ctx == Context::kCedula || ctx == Context::kAccount ||
      ctx == Context::kNit) {
    return;
  }
  const ScanText& t = s.text;
  if (!StartsCleanly(t, pos)) return;
  char digits[20];
  int lens[8];
  int64_t ends[8];
  int ng = 0, nd = 0;
  char sep = 0;
  int64_t i = pos;
  while (ng < 8) {
    int64_t len = RunLength(t, i);
    if (nd + len > 19) break;
    for (int64_t k = 0; k < len; ++k) digits[nd++] = t.at(i + k);
    i += len;
    ends[ng] = i;
    lens[ng++] = static_cast<int>(len);
    char c = t.at(i);
    if ((c == ' ' || c == '-') && (sep == 0 || sep == c) && IsDigit(t.at(i + 1))) {
      sep = c;
      ++i;
      continue;
    }
    break;
  }
  // A layout with a known issuer that ends cleanly but fails Luhn is a failed candidate, unless
  // a shorter layout from the same start passes.
  bool failed_candidate = false;
  for (int k = ng; k >= 1; --k) {
    int total = 0;
    for (int g = 0; g < k; ++g) total += lens[g];
    if (total < 13) break;
    bool layout = k == 1;
    if (!layout) {
      layout = lens[k - 1] >= 1 && lens[k - 1] <= 4;
      for (int g = 0; g + 1 < k; ++g) layout = layout && lens[g] == 4;
      // Amex 4-6-5 and Diners 4-6-4.
      if (k == 3 && lens[0] == 4 && lens[1] == 6 && (lens[2] == 5 || lens[2] == 4)) layout = true;
    }
    if (!layout || !KnownIssuer(digits, total)) continue;
    if (!LuhnValid(digits, total)) {
      failed_candidate = failed_candidate || EndsCleanly(t, ends[k - 1]);
      continue;
    }
    if (!EndsCleanly(t, ends[k - 1])) break;
    if (s.checks) s.checks->Count(CheckedType::kCard, true);
    std::string value = "\"";
    value.append(digits, static_cast<size_t>(total));
    value.push_back('"');
    Emit(t, "CARD", pos, ends[k - 1], std::move(value), s.out);
    return;
  }
  if (failed_candidate && s.checks) s.checks->Count(CheckedType::kCard, false);
}

// ---------------------------------------------------------------------------------------------
// NIT

// DIAN verification digit of a NIT base (up to 15 digits).
int NitCheckDigit(const char* d, int n) {
  static constexpr int kWeights[] = {3, 7, 13, 17, 19, 23, 29, 37, 41, 43, 47, 53, 59, 67, 71};
  int sum = 0;
  for (int i = 0; i < n; ++i) sum += (d[n - 1 - i] - '0') * kWeights[i];
  int r = sum % 11;
  return r < 2 ? r : 11 - r;
}

void TryNit(const ScanState& s, int64_t pos, Context ctx) {
  if (ctx != Context::kNone && ctx != Context::kNit) return;
  const ScanText& t = s.text;
  if (!StartsCleanly(t, pos)) return;
  char base[9];
  int nb = 0;
  int64_t i = pos;
  int64_t len = RunLength(t, pos);
  if (len == 3 && t.at(pos + 3) == '.') {
    // 900.123.456
    for (int g = 0; g < 3; ++g) {
      if (RunLength(t, i) != 3) return;
      for (int k = 0; k < 3; ++k) base[nb++] = t.at(i + k);
      i += 3;
      if (g < 2) {
        if (t.at(i) != '.') return;
        ++i;
      }
    }
  } else if (len == 9) {
    for (int k = 0; k < 9; ++k) base[nb++] = t.at(pos + k);
    i = pos + 9;
  } else if (len == 10 && ctx == Context::kNit) {
    for (int k = 0; k < 9; ++k) base[nb++] = t.at(pos + k);
    char dv = t.at(pos + 9);
    if (!EndsCleanly(t, pos + 10)) return;
    const bool passed = NitCheckDigit(base, 9) == dv - '0';
    if (s.checks) s.checks->Count(CheckedType::kNit, passed);
    if (!passed) return;
    std::string nit(base, 9);
    nit.push_back('-');
    nit.push_back(dv);
    std::string value = Quoted(nit);
    Emit(t, "NIT", pos, pos + 10, std::move(value), s.out);
    return;
  } else {
    return;
  }
  // "-7", " - 7", "-  7"
  int64_t q = i;
  if (t.at(q) == ' ') ++q;
  if (t.at(q) != '-') return;
  ++q;
  if (t.at(q) == ' ') ++q;
  if (!IsDigit(t.at(q)) || IsDigit(t.at(q + 1))) return;
  char dv = t.at(q);
  if (ctx == Context::kNone && base[0] != '8' && base[0] != '9') return;
  if (!EndsCleanly(t, q + 1)) return;
  const bool passed = NitCheckDigit(base, 9) == dv - '0';
  if (s.checks) s.checks->Count(CheckedType::kNit, passed);
  if (!passed) return;
  std::string nit(base, 9);
  nit.push_back('-');
  nit.push_back(dv);
  std::string value = Quoted(nit);
  Emit(t, "NIT", pos, q + 1, std::move(value), s.out);
}

// ---------------------------------------------------------------------------------------------
// CEDULA

void TryCedula(const ScanState& s, int64_t pos, Context ctx) {
  if (ctx != Context::kCedula) return;
  const ScanText& t = s.text;
  if (!StartsCleanly(t, pos)) return;
  // Digits beyond 10 are counted, not kept: such a number is a failed candidate.
  char digits[10];
  int nd = 0;
  int64_t len = RunLength(t, pos);
  int64_t end = pos + len;
  char sep = t.at(end);
  auto add = [&](char c) {
    if (nd < 10) digits[nd] = c;
    ++nd;
  };
  if (len <= 3 && (sep == '.' || sep == ',' || sep == ' ') && IsDigit(t.at(end + 1))) {
    // 1.020.345.678 / 52.123.456 / 1 020 345 678
    for (int64_t k = 0; k < len; ++k) add(t.at(pos + k));
    while (t.at(end) == sep && IsDigit(t.at(end + 1))) {
      if (RunLength(t, end + 1) != 3) return;
      for (int k = 1; k <= 3; ++k) add(t.at(end + k));
      end += 4;
    }
  } else {
    for (int64_t k = 0; k < len; ++k) add(t.at(pos + k));
  }
  if (!EndsCleanly(t, end)) return;
  // Ten-digit cédulas were issued from 1.000.000.000 upwards.
  const bool passed = nd >= 6 && nd <= 10 && digits[0] != '0' && (nd < 10 || digits[0] == '1');
  if (s.checks) s.checks->Count(CheckedType::kCedula, passed);
  if (!passed) return;
  std::string value = Quoted(std::string_view(digits, static_cast<size_t>(nd)));
  Emit(t, "CEDULA", pos, end, std::move(value), s.out);
}

// ---------------------------------------------------------------------------------------------
// ACCOUNT

bool IsMoneyWordAt(const ScanText& t, int64_t i) {
  if (t.at(i) == ' ') ++i;
  for (std::string_view w : {"pesos", "peso", "cop", "usd", "dolares", "dollars", "mil", "millones",
                             "millon", "lucas"}) {
    if (WordAt(t, i, w)) return true;
  }
  return false;
}

void TryAccount(const ScanState& s, int64_t pos, Context ctx) {
  if (ctx != Context::kAccount) return;
  const ScanText& t = s.text;
  if (!StartsCleanly(t, pos) || t.at(pos - 1) == '$' || t.at(pos - 2) == '$') return;
  std::string digits;
  int lens[8];
  int ng = 0;
  int64_t i = pos;
  char group_sep = 0;  // '-' or ' ', one kind per number
  while (ng < 8) {
    int64_t len = RunLength(t, i);
    digits.append(t.f, static_cast<size_t>(i), static_cast<size_t>(len));
    lens[ng++] = static_cast<int>(len);
    i += len;
    const char c = t.at(i);
    // "123-456789-01"; "2341 6058 3465" only in groups of 3 or more ("cuenta 12345678 2 veces").
    if ((c == '-' || (c == ' ' && RunLength(t, i + 1) >= 3)) && IsDigit(t.at(i + 1)) &&
        (group_sep == 0 || group_sep == c)) {
      group_sep = c;
      ++i;
      continue;
    }
    break;
  }
  if (digits.size() < 8 || digits.size() > 20) return;
  // 2024-03-15 and 15-03-2024 are dates.
  if (ng == 3 && ((lens[0] == 4 && lens[1] == 2 && lens[2] == 2) ||
                  (lens[0] == 2 && lens[1] == 2 && lens[2] == 4))) {
    return;
  }
  if (!EndsCleanly(t, i) || IsMoneyWordAt(t, i)) return;
  Emit(t, "ACCOUNT", pos, i, Quoted(digits), s.out);
}

// ---------------------------------------------------------------------------------------------
// MONEY

enum class Currency : uint8_t { kUnknown, kCop, kUsd };

struct Amount {
  int64_t cents = 0;
  int64_t end = 0;
  bool dot_two_decimals = false;  // "20.50"
  bool thousands_dots = false;    // "150.000", "1.200.000"
};

// Parses "50.000", "1.200.000,50", "1,5", "20.50", "50000" at pos.
bool ParseAmount(const ScanText& t, int64_t pos, Amount* a) {
  int lens[8];
  char seps[8];
  int64_t starts[8];
  int k = 0;
  int64_t i = pos;
  while (k < 8) {
    starts[k] = i;
    int64_t len = RunLength(t, i);
    lens[k] = static_cast<int>(len);
    i += len;
    char c = t.at(i);
    // "1'500.000": Colombian handwriting marks millions with an apostrophe.
    bool apostrophe = c == '\'' && k == 0 && lens[0] <= 3 && RunLength(t, i + 1) == 3;
    if (((c == '.' || c == ',') || apostrophe) && IsDigit(t.at(i + 1)) && k < 7) {
      seps[k++] = c;
      ++i;
      continue;
    }
    ++k;
    break;
  }
  a->end = i;
  int int_runs = k;
  int dec_len = 0;
  char dec_sep = 0;
  if (k >= 2 && lens[k - 1] != 3) {
    if (lens[k - 1] > 2) return false;
    dec_len = lens[k - 1];
    dec_sep = seps[k - 2];
    int_runs = k - 1;
  }
  if (int_runs >= 2) {
    char thousands = seps[0] == '\'' && int_runs > 2 ? seps[1] : seps[0];
    if (thousands == '\'') thousands = '.';
    if (lens[0] > 3) return false;
    for (int r = 1; r < int_runs; ++r) {
      bool ok_sep = seps[r - 1] == thousands || (r == 1 && seps[0] == '\'');
      if (lens[r] != 3 || !ok_sep) return false;
    }
    if (dec_sep != 0 && dec_sep == thousands) return false;
    a->thousands_dots = thousands == '.';
  }
  int64_t whole = 0;
  int int_digits = 0;
  for (int r = 0; r < int_runs; ++r) {
    for (int d = 0; d < lens[r]; ++d) {
      if (++int_digits > 13) return false;
      whole = whole * 10 + (t.at(starts[r] + d) - '0');
    }
  }
  int64_t frac = 0;
  if (dec_len > 0) {
    frac = t.at(starts[k - 1]) - '0';
    frac = dec_len == 2 ? frac * 10 + (t.at(starts[k - 1] + 1) - '0') : frac * 10;
  }
  a->cents = whole * 100 + frac;
  a->dot_two_decimals = dec_len == 2 && dec_sep == '.';
  return true;
}

struct WordValue {
  std::string_view word;
  int64_t multiplier;
  Currency currency;
};

constexpr WordValue kMultipliers[] = {
    {"millones", 1000000, Currency::kUnknown},
    {"millon", 1000000, Currency::kUnknown},
    {"millions", 1000000, Currency::kUnknown},
    {"million", 1000000, Currency::kUnknown},
    {"mil", 1000, Currency::kUnknown},
    {"thousand", 1000, Currency::kUnknown},
    {"palos", 1000000, Currency::kUnknown},  // Colombian slang: "5 palos" = 5 millones
    {"palo", 1000000, Currency::kUnknown},
    {"lucas", 1000, Currency::kCop},
    {"luca", 1000, Currency::kCop},
    {"lukas", 1000, Currency::kCop},
    {"luka", 1000, Currency::kCop},
};

constexpr WordValue kCurrencyWords[] = {
    {"pesos", 1, Currency::kCop},   {"peso", 1, Currency::kCop},    {"cop", 1, Currency::kCop},
    {"usd", 1, Currency::kUsd},     {"dolares", 1, Currency::kUsd}, {"dolar", 1, Currency::kUsd},
    {"dollars", 1, Currency::kUsd}, {"dollar", 1, Currency::kUsd},  {"bucks", 1, Currency::kUsd},
};

// Matches one of `table` at i (after at most one space); returns the index or -1 and the end.
template <size_t N>
int MatchWord(const ScanText& t, int64_t i, const WordValue (&table)[N], int64_t* end) {
  int64_t j = t.at(i) == ' ' ? i + 1 : i;
  for (size_t w = 0; w < N; ++w) {
    if (WordAt(t, j, table[w].word)) {
      *end = j + static_cast<int64_t>(table[w].word.size());
      return static_cast<int>(w);
    }
  }
  return -1;
}

// Words that may follow a bare "50 mil" / "2 millones" that is an amount ("50 mil que me
// cobraron", "2 millones y"), as opposed to a count ("50 mil clientes").
bool AmountFollowerAt(const ScanText& t, int64_t i) {
  while (t.at(i) == ' ') ++i;
  if (!IsAlpha(t.at(i))) return true;
  static constexpr std::string_view kFollowers[] = {
      "que",       "y",           "e",       "en",   "a",      "al",    "por",      "para",
      "me",        "te",          "le",      "les",  "nos",    "se",    "no",       "del",
      "el",        "la",          "los",     "las",  "con",    "mas",   "menos",    "pero",
      "o",         "mensuales",   "diarios", "cada", "hace",   "desde", "sin",      "ya",
      "cuando",    "porque",      "pues",    "como", "ni",     "son",   "es",       "fue",
      "fueron",    "eran",        "estan",   "esta", "hay",    "of",    "and",      "to",
      "for",       "from",        "in",      "on",   "but",    "was",   "were",     "is",
      "extra",     "adicionales", "mensual", "ayer", "anoche", "hoy",   "anteayer", "antier",
      "yesterday", "today",       "last",    "this"};
  for (std::string_view w : kFollowers) {
    if (WordAt(t, i, w)) return true;
  }
  return false;
}

// "pago de", "compra de", "payment of" (with at most one word between: "pago PSE de") right
// before `start`: what follows is the payment's amount.
bool PaymentNounBefore(const ScanText& t, int64_t start) {
  int64_t at;
  const std::string_view prep = PrevWord(t, start, &at);
  if (prep != "de" && prep != "of" && prep != "por" && prep != "for") return false;
  static constexpr std::string_view kNouns[] = {
      "pago",          "compra", "recarga",    "giro",    "abono",   "retiro",
      "transferencia", "cobro",  "cargo",      "debito",  "payment", "purchase",
      "transfer",      "charge", "withdrawal", "deposit", "topup"};
  for (int words = 0; words < 2; ++words) {
    const std::string_view word = PrevWord(t, at, &at);
    if (word.empty()) return false;
    for (std::string_view n : kNouns) {
      if (word == n) return true;
    }
  }
  return false;
}

// A non-money unit after a number: "3.000 puntos", "1.500 millas", "2.000 clientes".
bool OtherUnitAt(const ScanText& t, int64_t i) {
  while (t.at(i) == ' ') ++i;
  static constexpr std::string_view kUnits[] = {
      "puntos",    "points",     "millas", "miles",    "unidades",
      "units",     "gb",         "mb",     "kb",       "km",
      "kg",        "metros",     "pasos",  "clientes", "usuarios",
      "personas",  "seguidores", "horas",  "minutos",  "dias",
      "anos",      "veces",      "cuotas", "mensajes", "transacciones",
      "registros", "ml",         "mg",     "g",        "gr",
      "kcal",      "cm",         "mm",     "m",        "lt",
      "litros",    "gramos",     "kilos",  "semanas",  "meses"};
  for (std::string_view u : kUnits) {
    if (WordAt(t, i, u)) return true;
  }
  return false;
}

void AppendAmountJson(int64_t cents, Currency c, std::string* out) {
  out->append("{\"amount\":");
  out->append(std::to_string(cents / 100));
  int64_t frac = cents % 100;
  if (frac != 0) {
    out->push_back('.');
    out->push_back(static_cast<char>('0' + frac / 10));
    if (frac % 10 != 0) out->push_back(static_cast<char>('0' + frac % 10));
  }
  out->append(",\"currency\":\"");
  out->append(c == Currency::kUsd ? "USD" : "COP");
  out->append("\"}");
}

}  // namespace

void ScanNumberAt(const ScanState& s, int64_t pos) {
  const PatternExtractorOptions& cfg = s.config;
  if (!(cfg.phone || cfg.card || cfg.nit || cfg.cedula || cfg.account)) return;
  const ScanText& t = s.text;
  char prev = t.at(pos - 1);
  if (IsAlpha(prev) || prev == '_' || prev == '@') return;
  Context ctx = NearestContext(t, pos, cfg.context_window);
  if (cfg.phone) TryPhone(s, pos, ctx);
  if (cfg.card) TryCard(s, pos, ctx);
  if (cfg.nit) TryNit(s, pos, ctx);
  if (cfg.cedula) TryCedula(s, pos, ctx);
  if (cfg.account) TryAccount(s, pos, ctx);
}

void ScanMoneyAt(const ScanState& s, int64_t pos) {
  const ScanText& t = s.text;
  char prev = t.at(pos - 1);
  if ((prev == '.' || prev == ',' || prev == '-' || prev == '/' || prev == ':' || prev == '\'') &&
      IsDigit(t.at(pos - 2))) {
    return;
  }
  int64_t start = pos;
  bool dollar = false;
  Currency prefix = Currency::kUnknown;
  int64_t q = prev == ' ' ? pos - 1 : pos;
  if (t.at(q - 1) == '$') {
    dollar = true;
    start = q - 1;
    if (WordEndsAt(t, start, "usd") || WordEndsAt(t, start, "us")) {
      prefix = Currency::kUsd;
      start -= WordEndsAt(t, start, "usd") ? 3 : 2;
    } else if (WordEndsAt(t, start, "cop") || WordEndsAt(t, start, "col")) {
      prefix = Currency::kCop;
      start -= 3;
    } else if (IsAlnum(t.at(start - 1))) {
      return;
    }
  } else if (WordEndsAt(t, q, "usd")) {
    prefix = Currency::kUsd;
    start = q - 3;
  } else if (WordEndsAt(t, q, "cop")) {
    prefix = Currency::kCop;
    start = q - 3;
  } else if (IsAlnum(prev)) {
    return;
  }
  Amount a;
  if (!ParseAmount(t, pos, &a)) return;
  int64_t end = a.end;
  int64_t multiplier = 1;
  Currency suffix = Currency::kUnknown;
  bool has_multiplier = false;
  int64_t k_end;
  if (t.at(end) == 'k' && !IsAlnum(t.at(end + 1)) &&
      (dollar || MatchWord(t, end + 1, kCurrencyWords, &k_end) >= 0)) {
    multiplier = 1000;  // "$50k", "610k pesos"
    has_multiplier = true;
    ++end;
  } else {
    int64_t w_end;
    int m = MatchWord(t, end, kMultipliers, &w_end);
    if (m >= 0) {
      multiplier = kMultipliers[m].multiplier;
      suffix = kMultipliers[m].currency;
      has_multiplier = true;
      end = w_end;
      if (multiplier == 1000 && WordAt(t, end + 1, "millones") && t.at(end) == ' ') {
        multiplier = 1000000000;  // "50 mil millones"
        end += 9;
      }
    }
  }
  // A letter glued to the number that is not a unit ("50abc", "3x4"): not an amount.
  if (IsAlpha(t.at(end)) || t.at(end) == '%') return;
  if (suffix == Currency::kUnknown) {
    int64_t w_end;
    int c = MatchWord(t, end, kCurrencyWords, &w_end);
    if (c < 0) {
      // "2 millones de pesos", "1.200.000 de pesos"
      int64_t j = t.at(end) == ' ' ? end + 1 : end;
      if (WordAt(t, j, "de")) c = MatchWord(t, j + 2, kCurrencyWords, &w_end);
    }
    if (c >= 0) {
      suffix = kCurrencyWords[c].currency;
      end = w_end;
    }
  }
  bool explicit_unit = dollar || prefix != Currency::kUnknown || suffix != Currency::kUnknown;
  if (!explicit_unit) {
    if (has_multiplier) {
      // "50 mil clientes" is a count; "transfirieron 225 mil de mi cuenta" and "el pago PSE de
      // 195 mil quedó pendiente" are amounts: after a money word, or a payment noun + "de", any
      // follower but another unit ("2 millones de usuarios") will do.
      if (!AmountFollowerAt(t, end)) {
        int64_t j = end;
        while (t.at(j) == ' ') ++j;
        if (WordAt(t, j, "de") || WordAt(t, j, "of")) j += 2;
        if (OtherUnitAt(t, j) ||
            (!PaymentNounBefore(t, start) &&
             NearestContext(t, start, s.config.context_window) != Context::kMoney)) {
          return;
        }
      }
    } else {
      // A bare "150.000" only after a money word ("me cobraron 150.000", "saldo: 1.200.000")
      // and not followed by another unit ("3.000 puntos"). So is a plain "362700" of 4 to 9
      // digits ("me descontaron 362700", "una compra de 393100"), but not a year ("me cobraron
      // en 2024": DATE) nor anything as long as a phone or an account.
      if (!EndsCleanly(t, end) || OtherUnitAt(t, end)) return;
      if (!a.thousands_dots) {
        const int64_t digits = RunLength(t, pos);
        if (digits != end - pos || digits < 4 || digits > 9) return;
        if (digits == 4 && a.cents / 100 >= 1900 && a.cents / 100 <= 2100) return;
        if (!PaymentNounBefore(t, start) &&
            NearestContext(t, start, s.config.context_window) != Context::kMoney) {
          return;
        }
      } else if (NearestContext(t, start, s.config.context_window) != Context::kMoney) {
        return;
      }
    }
  }
  Currency currency = suffix != Currency::kUnknown ? suffix : prefix;
  if (currency == Currency::kUnknown) {
    if (dollar && !has_multiplier && a.dot_two_decimals && a.cents < 1000000) {
      currency = Currency::kUsd;  // "$20.50": cents are a dollar habit, pesos have none
    } else if (dollar) {
      currency = s.options.default_dollar_currency == "USD" ? Currency::kUsd : Currency::kCop;
    } else {
      currency = Currency::kCop;  // "50 mil"
    }
  }
  if (a.cents > std::numeric_limits<int64_t>::max() / multiplier) return;
  std::string value;
  AppendAmountJson(a.cents * multiplier, currency, &value);
  Emit(t, "MONEY", start, end, std::move(value), s.out);
}

void ScanMoneyWordAt(const ScanState& s, int64_t pos) {
  const ScanText& t = s.text;
  // Amounts written in words: "un millón", "medio millón", "mil pesos".
  int64_t cents;
  int64_t end;
  bool needs_currency = false;
  if (StartsWithAt(t, pos, "un millon") && !IsAlnum(t.at(pos + 9))) {
    cents = 100000000;
    end = pos + 9;
  } else if (StartsWithAt(t, pos, "medio millon") && !IsAlnum(t.at(pos + 12))) {
    cents = 50000000;
    end = pos + 12;
  } else if (WordAt(t, pos, "mil") && !IsDigit(t.at(pos - 2))) {
    cents = 100000;
    end = pos + 3;
    needs_currency = true;  // "mil veces" is not money, "mil pesos" is
  } else {
    return;
  }
  if (t.at(end) == ' ' && StartsWithAt(t, end + 1, "y medio") && !IsAlnum(t.at(end + 8))) {
    cents += cents / 2;  // "un millón y medio"
    end += 8;
  }
  int64_t w_end;
  int c = MatchWord(t, end, kCurrencyWords, &w_end);
  if (c < 0) {
    int64_t j = t.at(end) == ' ' ? end + 1 : end;
    if (WordAt(t, j, "de")) c = MatchWord(t, j + 2, kCurrencyWords, &w_end);
  }
  Currency currency = Currency::kCop;
  if (c >= 0) {
    currency = kCurrencyWords[c].currency;
    end = w_end;
  } else if (needs_currency || !AmountFollowerAt(t, end)) {
    return;
  }
  std::string value;
  AppendAmountJson(cents, currency, &value);
  Emit(t, "MONEY", pos, end, std::move(value), s.out);
}

}  // namespace lote::extract::internal
