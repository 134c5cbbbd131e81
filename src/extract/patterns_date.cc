// DATE scanners: numeric ("15/03/2024", "2024-03-15"), textual in Spanish and English
// ("15 de marzo de 2024", "March 3rd, 2024") and relative ("ayer", "el lunes pasado",
// "hace 3 días", "last Monday"), the last ones resolved against ExtractOptions::reference_date.
#include <algorithm>
#include <optional>
#include <string>
#include <string_view>

#include "extract/patterns_internal.h"

namespace lote::extract::internal {
namespace {

int RunValue(const ScanText& t, int64_t pos, int64_t len) {
  int v = 0;
  for (int64_t k = 0; k < len; ++k) v = v * 10 + (t.at(pos + k) - '0');
  return v;
}

// Letters from pos on: the length a one-word table entry must have to match there.
int64_t AlphaRunLength(const ScanText& t, int64_t pos) {
  int64_t i = pos;
  while (IsAlpha(t.at(i))) ++i;
  return i - pos;
}

struct MonthName {
  std::string_view word;
  int month;
};

// Longer names first so "sept" is tried before "sep".
constexpr MonthName kMonths[] = {
    {"enero", 1},    {"febrero", 2},    {"marzo", 3},      {"abril", 4},      {"mayo", 5},
    {"junio", 6},    {"julio", 7},      {"agosto", 8},     {"septiembre", 9}, {"setiembre", 9},
    {"octubre", 10}, {"noviembre", 11}, {"diciembre", 12}, {"january", 1},    {"february", 2},
    {"march", 3},    {"april", 4},      {"may", 5},        {"june", 6},       {"july", 7},
    {"august", 8},   {"september", 9},  {"october", 10},   {"november", 11},  {"december", 12},
    {"ene", 1},      {"jan", 1},        {"feb", 2},        {"mar", 3},        {"abr", 4},
    {"apr", 4},      {"jun", 6},        {"jul", 7},        {"ago", 8},        {"aug", 8},
    {"sept", 9},     {"sep", 9},        {"oct", 10},       {"nov", 11},       {"dic", 12},
    {"dec", 12},
};

// Month name at i (word boundary; an abbreviation may take a trailing '.'). Returns 1..12 and
// sets *end, or 0.
int MatchMonth(const ScanText& t, int64_t i, int64_t* end) {
  if (!IsAlpha(t.at(i)) || IsAlnum(t.at(i - 1))) return 0;
  const size_t len = static_cast<size_t>(AlphaRunLength(t, i));
  for (const MonthName& m : kMonths) {
    if (m.word.size() == len && WordAt(t, i, m.word)) {
      *end = i + static_cast<int64_t>(m.word.size());
      if (m.word.size() <= 4 && t.at(*end) == '.') ++*end;
      return m.month;
    }
  }
  return 0;
}

// Ordinal suffix after a day number: "1ro", "1º" (folded to 'o'), "3rd", "1st", "2nd", "4th",
// "1er". Returns its length (0 if none).
int64_t OrdinalLength(const ScanText& t, int64_t i) {
  for (std::string_view suf : {"ro", "er", "st", "nd", "rd", "th", "o", "a"}) {
    if (WordAt(t, i, suf)) return static_cast<int64_t>(suf.size());
  }
  return 0;
}

// Optional year after a month: "de 2024", "del 2024", ", 2024", " 2024", "-2024", "/2024".
// Returns the year (0 if none) and sets *end past it.
int MatchYear(const ScanText& t, int64_t i, int64_t* end) {
  int64_t k = i;
  if (t.at(k) == ',') ++k;
  bool space = false;
  if (t.at(k) == ' ') {
    ++k;
    space = true;
  }
  if (WordAt(t, k, "de")) {
    k += 2;
    if (t.at(k) == ' ') ++k;
  } else if (WordAt(t, k, "del")) {
    k += 3;
    if (t.at(k) == ' ') ++k;
  } else if (!space && k == i && (t.at(k) == '-' || t.at(k) == '/')) {
    ++k;
  }
  if (RunLength(t, k) != 4 || !EndsCleanly(t, k + 4)) return 0;
  int y = RunValue(t, k, 4);
  if (y < 1900 || y > 2100) return 0;
  *end = k + 4;
  return y;
}

void EmitDate(const ScanState& s, int64_t start, int64_t end, int y, int m, int d) {
  if (!IsValidCivilDate(y, m, d)) return;
  std::string value = Quoted(CivilDate{y, m, d}.ToIso());
  Emit(s.text, "DATE", start, end, std::move(value), s.out);
}

void EmitRelative(const ScanState& s, int64_t start, int64_t end, int64_t offset_days) {
  if (!s.options.reference_date) return;
  const CivilDate& r = *s.options.reference_date;
  CivilDate d = CivilFromDays(DaysFromCivil(r.year, r.month, r.day) + offset_days);
  Emit(s.text, "DATE", start, end, Quoted(d.ToIso()), s.out);
}

// Emits a date whose year may be missing (then the reference year, if any).
void EmitMaybeYearless(const ScanState& s, int64_t start, int64_t end, int y, int m, int d) {
  if (y == 0) {
    if (!s.options.reference_date) return;
    y = s.options.reference_date->year;
  }
  EmitDate(s, start, end, y, m, d);
}

// Calendar periods, written as ISO 8601 allows them: a month "2024-02", a year "2024", an ISO
// week "2024-W10", a weekend as the interval "2024-03-09/2024-03-10".
enum class Period { kWeek, kMonth, kYear, kWeekend };

std::string TwoDigits(int v) {
  std::string out(2, '0');
  out[0] = static_cast<char>('0' + v / 10);
  out[1] = static_cast<char>('0' + v % 10);
  return out;
}

std::string IsoWeek(int64_t days) {
  const int64_t thursday = days - WeekdayOf(days) + 3;  // the ISO week's year is its Thursday's
  const CivilDate th = CivilFromDays(thursday);
  const int64_t week = (thursday - DaysFromCivil(th.year, 1, 1)) / 7 + 1;
  return std::to_string(th.year) + "-W" + TwoDigits(static_cast<int>(week));
}

// `offset` periods after the one holding the reference date (-1: the previous week, month...).
// A weekend is the Saturday and Sunday of an ISO week; kWeekend with `bare` ("el fin de semana",
// "the weekend") is the current one on a Saturday or Sunday and the last one before otherwise.
void EmitPeriod(const ScanState& s, int64_t start, int64_t end, Period period, int offset,
                bool bare = false) {
  if (!s.options.reference_date) return;
  const CivilDate& r = *s.options.reference_date;
  const int64_t ref = DaysFromCivil(r.year, r.month, r.day);
  std::string value;
  switch (period) {
    case Period::kWeek:
      value = IsoWeek(ref + 7 * offset);
      break;
    case Period::kMonth: {
      const int index = r.year * 12 + (r.month - 1) + offset;
      value = std::to_string(index / 12) + "-" + TwoDigits(index % 12 + 1);
      break;
    }
    case Period::kYear:
      value = std::to_string(r.year + offset);
      break;
    case Period::kWeekend: {
      if (bare) offset = WeekdayOf(ref) >= 5 ? 0 : -1;
      const int64_t saturday = ref - WeekdayOf(ref) + 5 + 7 * offset;
      value = CivilFromDays(saturday).ToIso() + "/" + CivilFromDays(saturday + 1).ToIso();
      break;
    }
  }
  Emit(s.text, "DATE", start, end, Quoted(value), s.out);
}

struct PeriodPhrase {
  std::string_view words;  // folded: lower case, no accents
  Period period;
  int offset;
  bool bare = false;
};

// Longest first where one phrase starts another ("el fin de semana pasado", "el fin de semana").
constexpr PeriodPhrase kPeriodPhrases[] = {
    {"la semana pasada", Period::kWeek, -1},
    {"la semana anterior", Period::kWeek, -1},
    {"semana pasada", Period::kWeek, -1},
    {"esta semana", Period::kWeek, 0},
    {"la proxima semana", Period::kWeek, 1},
    {"proxima semana", Period::kWeek, 1},
    {"la semana que viene", Period::kWeek, 1},
    {"el mes pasado", Period::kMonth, -1},
    {"el mes anterior", Period::kMonth, -1},
    {"mes pasado", Period::kMonth, -1},
    {"este mes", Period::kMonth, 0},
    {"el proximo mes", Period::kMonth, 1},
    {"proximo mes", Period::kMonth, 1},
    {"el mes que viene", Period::kMonth, 1},
    {"el ano pasado", Period::kYear, -1},
    {"el ano anterior", Period::kYear, -1},
    {"ano pasado", Period::kYear, -1},
    {"este ano", Period::kYear, 0},
    {"el proximo ano", Period::kYear, 1},
    {"el ano que viene", Period::kYear, 1},
    {"el fin de semana pasado", Period::kWeekend, -1},
    {"el fin de semana", Period::kWeekend, 0, true},
    {"fin de semana pasado", Period::kWeekend, -1},
    {"este fin de semana", Period::kWeekend, 0},
    {"el proximo fin de semana", Period::kWeekend, 1},
    {"last week", Period::kWeek, -1},
    {"this week", Period::kWeek, 0},
    {"next week", Period::kWeek, 1},
    {"last month", Period::kMonth, -1},
    {"this month", Period::kMonth, 0},
    {"next month", Period::kMonth, 1},
    {"last year", Period::kYear, -1},
    {"this year", Period::kYear, 0},
    {"next year", Period::kYear, 1},
    {"last weekend", Period::kWeekend, -1},
    {"this weekend", Period::kWeekend, 0},
    {"next weekend", Period::kWeekend, 1},
    {"the weekend", Period::kWeekend, 0, true},
};

// "la semana pasada", "el mes pasado", "este año", "el fin de semana", "last week", "next month".
bool TryPeriod(const ScanState& s, int64_t pos) {
  // Only phrases whose first word is as long as the word at pos.
  const size_t len = static_cast<size_t>(AlphaRunLength(s.text, pos));
  for (const PeriodPhrase& p : kPeriodPhrases) {
    if (p.words.size() > len && p.words[len] == ' ' && StartsWithAt(s.text, pos, p.words) &&
        !IsAlnum(s.text.at(pos + static_cast<int64_t>(p.words.size())))) {
      EmitPeriod(s, pos, pos + static_cast<int64_t>(p.words.size()), p.period, p.offset, p.bare);
      return true;
    }
  }
  return false;
}

struct SmallNumber {
  std::string_view word;
  int value;
};
constexpr SmallNumber kSmallNumbers[] = {
    {"un", 1},      {"uno", 1},  {"una", 1},   {"dos", 2},   {"tres", 3},  {"cuatro", 4},
    {"cinco", 5},   {"seis", 6}, {"siete", 7}, {"ocho", 8},  {"nueve", 9}, {"diez", 10},
    {"quince", 15}, {"a", 1},    {"one", 1},   {"two", 2},   {"three", 3}, {"four", 4},
    {"five", 5},    {"six", 6},  {"seven", 7}, {"eight", 8}, {"nine", 9},  {"ten", 10},
};

// A count at i: digits (1-3) or a small number word. Sets *end; returns -1 if none.
int MatchCount(const ScanText& t, int64_t i, int64_t* end) {
  int64_t len = RunLength(t, i);
  if (len > 0) {
    if (len > 3 || !EndsCleanly(t, i + len)) return -1;
    *end = i + len;
    return RunValue(t, i, len);
  }
  const size_t word_len = static_cast<size_t>(AlphaRunLength(t, i));
  for (const SmallNumber& n : kSmallNumbers) {
    if (n.word.size() == word_len && WordAt(t, i, n.word)) {
      *end = i + static_cast<int64_t>(n.word.size());
      return n.value;
    }
  }
  return -1;
}

// "3 days ago" / "two days ago" with the count starting at i.
void TryDaysAgo(const ScanState& s, int64_t i) {
  int64_t k;
  int n = MatchCount(s.text, i, &k);
  if (n < 0 || s.text.at(k) != ' ') return;
  ++k;
  if (WordAt(s.text, k, "days")) {
    k += 4;
  } else if (WordAt(s.text, k, "day") && n == 1) {
    k += 3;
  } else {
    return;
  }
  if (s.text.at(k) != ' ' || !WordAt(s.text, k + 1, "ago")) return;
  EmitRelative(s, i, k + 4, -n);
}

// A year on its own after a preposition: "en 2024", "del 2023", "desde 2020", "for 2024",
// "el año 2024". Not the last digits of a card or account ("terminada en 2024", "ending in 2024");
// an amount ("en 2000 pesos") is a longer MONEY span and wins the overlap.
void TryBareYear(const ScanState& s, int64_t pos) {
  const ScanText& t = s.text;
  if (!EndsCleanly(t, pos + 4)) return;
  const int year = RunValue(t, pos, 4);
  if (year < 1900 || year > 2100) return;
  int64_t prev_start;
  const std::string_view prev = PrevWord(t, pos, &prev_start);
  bool preposition = false;
  for (std::string_view w : {"en", "del", "durante", "desde", "hasta", "ano", "for", "in", "during",
                             "since", "until", "year"}) {
    preposition = preposition || prev == w;
  }
  if (!preposition) return;
  int64_t unused;
  const std::string_view before = PrevWord(t, prev_start, &unused);
  for (std::string_view stem : {"termin", "finaliz", "acab", "end"}) {
    if (before.substr(0, stem.size()) == stem) return;
  }
  Emit(t, "DATE", pos, pos + 4, Quoted(std::to_string(year)), s.out);
}

constexpr std::string_view kWeekdays[] = {
    "lunes",  "martes",  "miercoles", "jueves",   "viernes", "sabado",   "domingo",
    "monday", "tuesday", "wednesday", "thursday", "friday",  "saturday", "sunday"};

// "el lunes", "lunes pasado", "el próximo lunes", "el lunes que viene", "este lunes", "last
// Monday", "next Friday", "this Friday", "on Monday". Bare weekdays ("de lunes a viernes", "los
// lunes") are not dates.
void TryWeekday(const ScanState& s, int64_t pos) {
  const ScanText& t = s.text;
  int weekday = -1;
  int64_t end = 0;
  const size_t len = static_cast<size_t>(AlphaRunLength(t, pos));
  for (int w = 0; w < 14; ++w) {
    if (kWeekdays[w].size() == len && WordAt(t, pos, kWeekdays[w])) {
      weekday = w % 7;
      end = pos + static_cast<int64_t>(kWeekdays[w].size());
      break;
    }
  }
  if (weekday < 0) return;
  // "el lunes 15 de marzo": the explicit date is the entity.
  if (t.at(end) == ' ' && IsDigit(t.at(end + 1))) return;
  if (t.at(end) == ',' && t.at(end + 1) == ' ' && IsDigit(t.at(end + 2))) return;
  int64_t start = pos;
  int direction = 0;  // -1 past, +1 next, 0 this week
  int64_t prev_start = 0;
  std::string_view prev = PrevWord(t, pos, &prev_start);
  if (t.at(end) == ' ' && WordAt(t, end + 1, "pasado")) {
    direction = -1;
    end += 7;
  } else if (t.at(end) == ' ' && StartsWithAt(t, end + 1, "que viene") &&
             !IsAlnum(t.at(end + 10))) {
    direction = 1;
    end += 10;
  } else if (prev == "proximo" || prev == "next") {
    direction = 1;
    start = prev_start;
  } else if (prev == "last") {
    direction = -1;
    start = prev_start;
  } else if (prev == "el" || prev == "on") {
    direction = -1;
  } else if (prev == "este" || prev == "this") {
    direction = 0;  // that day of the reference date's ISO week, before or after it
    start = prev_start;
  } else {
    return;
  }
  // The article belongs to the expression: "el lunes", "el lunes pasado", "el próximo lunes"
  // ("on" in "on Monday" is a preposition and stays out).
  if (int64_t el_start; PrevWord(t, start, &el_start) == "el") start = el_start;
  if (!s.options.reference_date) return;
  const CivilDate& r = *s.options.reference_date;
  int64_t ref = DaysFromCivil(r.year, r.month, r.day);
  int ref_wd = WeekdayOf(ref);
  int64_t offset;
  if (direction == 0) {
    offset = weekday - ref_wd;
  } else if (direction < 0) {
    offset = -((ref_wd - weekday + 7) % 7);
    if (offset == 0) offset = -7;
  } else {
    offset = (weekday - ref_wd + 7) % 7;
    if (offset == 0) offset = 7;
  }
  EmitRelative(s, start, end, offset);
}

// First words of the relative expressions ScanDateWordAt's switch looks for at `pos`.
constexpr std::string_view kRelativeStarts[] = {
    "hoy",    "hace",  "ayer",     "anoche", "anteayer", "antier", "antiayer",  "antes", "manana",
    "pasado", "today", "tomorrow", "this",   "tonight",  "last",   "yesterday", "day"};

// (first letter, length) of every word a date expression can start with, from the tables the
// scanners use: any other word (most of a text) is passed over after one lookup.
class DateStarts {
 public:
  DateStarts() {
    for (const MonthName& m : kMonths) Add(m.word);
    for (std::string_view w : kWeekdays) Add(w);
    for (const SmallNumber& n : kSmallNumbers) Add(n.word);
    for (const PeriodPhrase& p : kPeriodPhrases) Add(p.words);
    for (std::string_view w : kRelativeStarts) Add(w);
  }
  bool Maybe(const ScanText& t, int64_t pos) const {
    const char c = t.at(pos);
    if (!IsAlpha(c)) return false;
    const int64_t len = AlphaRunLength(t, pos);
    return len < 32 && ((bits_[c - 'a'] >> len) & 1u) != 0;
  }

 private:
  void Add(std::string_view words) {
    const size_t len = std::min(words.find(' '), words.size());
    if (len > 0 && len < 32) bits_[words[0] - 'a'] |= 1u << len;
  }
  uint32_t bits_[26] = {};
};

// Words before "mañana" that make it "the morning" rather than "tomorrow".
bool MorningContext(std::string_view prev) {
  for (std::string_view w : {"la", "las", "esta", "una", "cada", "toda", "buena", "buenas", "media",
                             "en", "de", "por", "del", "misma"}) {
    if (prev == w) return true;
  }
  return false;
}

}  // namespace

void ExtendDatesWithWeekday(const ScanText& t, std::vector<Entity>* candidates) {
  for (Entity& e : *candidates) {
    if (e.type != "DATE") continue;
    const int64_t p = e.start;
    int64_t unused;
    if (!IsDigit(t.at(p)) && MatchMonth(t, p, &unused) == 0) continue;
    if (t.at(p - 1) != ' ') continue;
    const int64_t q = t.at(p - 2) == ',' ? p - 2 : p - 1;  // "martes, 12 de marzo"
    int64_t start = -1;
    for (std::string_view w : kWeekdays) {
      const int64_t b = q - static_cast<int64_t>(w.size());
      if (b >= 0 && StartsWithAt(t, b, w) && !IsAlnum(t.at(b - 1))) {
        start = b;
        break;
      }
    }
    if (start < 0) continue;
    if (int64_t el_start; PrevWord(t, start, &el_start) == "el") start = el_start;
    e.start = static_cast<uint32_t>(start);
    e.text = std::string(t.Original(e.start, e.end));
  }
}

void ScanNumericDateAt(const ScanState& s, int64_t pos) {
  const ScanText& t = s.text;
  if (!StartsCleanly(t, pos) || t.at(pos - 1) == '$') return;
  int64_t l1 = RunLength(t, pos);
  if (l1 == 4) TryBareYear(s, pos);
  char sep = t.at(pos + l1);
  // Numeric: d/m/y, d-m-y, d.m.yyyy, yyyy-m-d, yyyy/m/d.
  if ((sep == '/' || sep == '-' || sep == '.') && IsDigit(t.at(pos + l1 + 1))) {
    int64_t p2 = pos + l1 + 1;
    int64_t l2 = RunLength(t, p2);
    int64_t p3 = p2 + l2 + 1;
    if (l2 >= 1 && l2 <= 2 && t.at(p2 + l2) == sep && IsDigit(t.at(p3))) {
      int64_t l3 = RunLength(t, p3);
      int64_t end = p3 + l3;
      if (!EndsCleanly(t, end)) return;
      int a = RunValue(t, pos, l1), b = RunValue(t, p2, l2), c = RunValue(t, p3, l3);
      if (l1 == 4 && l3 <= 2) {
        if (a >= 1900 && a <= 2100) EmitDate(s, pos, end, a, b, c);
        return;
      }
      if (l1 > 2) return;
      int year;
      if (l3 == 4 && c >= 1900 && c <= 2100) {
        year = c;
      } else if (l3 == 2 && sep != '.') {
        year = 2000 + c;
      } else {
        return;
      }
      // Colombia writes day first; month first only when day-first is impossible (03/15/2024).
      if (IsValidCivilDate(year, b, a)) {
        EmitDate(s, pos, end, year, b, a);
      } else if (sep == '/' && IsValidCivilDate(year, a, b)) {
        EmitDate(s, pos, end, year, a, b);
      }
    }
    // "el 15/03": day/month without a year takes the reference year. Two digits each and a
    // slash only, so fractions ("1/2") and card expiries ("12/26": month 26) stay out.
    if (sep == '/' && l1 == 2 && l2 == 2 && t.at(p2 + l2) != '/' && EndsCleanly(t, p2 + l2)) {
      int d = RunValue(t, pos, 2), m = RunValue(t, p2, 2);
      if (s.options.reference_date && IsValidCivilDate(s.options.reference_date->year, m, d)) {
        EmitDate(s, pos, p2 + 2, s.options.reference_date->year, m, d);
      }
      return;
    }
    if (sep != '-' && sep != '/') return;
  }
  // Textual, day first: "15 de marzo de 2024", "3rd of March, 2024", "15-mar-2024".
  if (l1 > 2) {
    if (l1 <= 3) TryDaysAgo(s, pos);
    return;
  }
  int day = RunValue(t, pos, l1);
  int64_t k = pos + l1;
  k += OrdinalLength(t, k);
  int64_t month_end = 0;
  int month = 0;
  if (t.at(k) == ' ') {
    ++k;
    if (WordAt(t, k, "de") || WordAt(t, k, "of")) {
      k += 2;
      if (t.at(k) != ' ') return;
      ++k;
    }
    month = MatchMonth(t, k, &month_end);
  } else if (t.at(k) == '-' || t.at(k) == '/') {
    month = MatchMonth(t, k + 1, &month_end);
  }
  if (month == 0) {
    TryDaysAgo(s, pos);
    return;
  }
  if (day < 1 || day > 31) return;
  int64_t end = month_end;
  int year = MatchYear(t, month_end, &end);
  if (year == 0 && t.at(month_end - 1) == '.') end = month_end - 1;  // "15 mar." ends a sentence
  EmitMaybeYearless(s, pos, end, year, month, day);
}

void ScanDateWordAt(const ScanState& s, int64_t pos) {
  static const DateStarts kStarts;
  const ScanText& t = s.text;
  if (!kStarts.Maybe(t, pos)) return;
  if (TryPeriod(s, pos)) return;
  switch (t.at(pos)) {
    case 'h':
      if (WordAt(t, pos, "hoy")) {
        if (StartsWithAt(t, pos + 3, " en dia") || StartsWithAt(t, pos + 3, " por hoy")) return;
        int64_t ps;
        if (PrevWord(t, pos, &ps) == "por" && WordAt(t, ps - 4, "hoy")) return;
        EmitRelative(s, pos, pos + 3, 0);
        return;
      }
      if (WordAt(t, pos, "hace") && t.at(pos + 4) == ' ') {
        int64_t k;
        int n = MatchCount(t, pos + 5, &k);
        if (n < 0 || t.at(k) != ' ') return;
        ++k;
        if (WordAt(t, k, "dias")) {
          k += 4;
        } else if (WordAt(t, k, "dia") && n == 1) {
          k += 3;
        } else {
          return;
        }
        EmitRelative(s, pos, k, -n);
      }
      return;
    case 'a':
      if (WordAt(t, pos, "ayer")) {
        EmitRelative(s, pos, pos + 4, -1);
        return;
      } else if (WordAt(t, pos, "anoche")) {  // last night: the day before
        EmitRelative(s, pos, pos + 6, -1);
        return;
      } else if (WordAt(t, pos, "anteayer") || WordAt(t, pos, "antier") ||
                 WordAt(t, pos, "antiayer")) {
        int64_t len = t.at(pos + 4) == 'a' ? 8 : 6;
        EmitRelative(s, pos, pos + len, -2);
        return;
      } else if (StartsWithAt(t, pos, "antes de ayer") && !IsAlnum(t.at(pos + 13))) {
        EmitRelative(s, pos, pos + 13, -2);
        return;
      }
      break;
    case 'm':
      if (WordAt(t, pos, "manana")) {
        int64_t ps;
        const std::string_view prev = PrevWord(t, pos, &ps);
        if (prev == "esta") {
          EmitRelative(s, ps, pos + 6, 0);  // "esta mañana": this morning, today
          return;
        }
        if (MorningContext(prev)) return;
        EmitRelative(s, pos, pos + 6, 1);
        return;
      }
      break;
    case 'p':
      if (StartsWithAt(t, pos, "pasado manana") && !IsAlnum(t.at(pos + 13))) {
        EmitRelative(s, pos, pos + 13, 2);
        return;
      }
      break;
    case 't':
      if (WordAt(t, pos, "today")) {
        EmitRelative(s, pos, pos + 5, 0);
        return;
      }
      if (WordAt(t, pos, "tomorrow")) {
        EmitRelative(s, pos, pos + 8, 1);
        return;
      }
      if (StartsWithAt(t, pos, "this morning") && !IsAlnum(t.at(pos + 12))) {
        EmitRelative(s, pos, pos + 12, 0);
        return;
      }
      if (WordAt(t, pos, "tonight")) {
        EmitRelative(s, pos, pos + 7, 0);
        return;
      }
      break;
    case 'l':
      if (StartsWithAt(t, pos, "last night") && !IsAlnum(t.at(pos + 10))) {
        EmitRelative(s, pos, pos + 10, -1);
        return;
      }
      break;
    case 'y':
      if (WordAt(t, pos, "yesterday")) {
        EmitRelative(s, pos, pos + 9, -1);
        return;
      }
      break;
    case 'd':
      if (StartsWithAt(t, pos, "day before yesterday") && !IsAlnum(t.at(pos + 20))) {
        int64_t ps;
        EmitRelative(s, PrevWord(t, pos, &ps) == "the" ? ps : pos, pos + 20, -2);
        return;
      }
      break;
    default:
      break;
  }
  TryWeekday(s, pos);
  TryDaysAgo(s, pos);
  // Textual, month first: "March 3rd, 2024", "marzo 15 de 2024", "Mar. 3".
  int64_t month_end;
  int month = MatchMonth(t, pos, &month_end);
  if (month == 0) return;
  // A month and a year, no day: "marzo de 2024", "March 2024" -> "2024-03". Not after a day
  // number: "31 de abril de 2024" is no date at all.
  int64_t before = pos - 1;
  if (t.at(before) == ' ' || t.at(before) == '-' || t.at(before) == '/') --before;
  if (int64_t de_start; PrevWord(t, pos, &de_start) == "de") before = de_start - 2;
  if (int64_t year_end; int year = IsDigit(t.at(before)) ? 0 : MatchYear(t, month_end, &year_end)) {
    Emit(t, "DATE", pos, year_end, Quoted(std::to_string(year) + "-" + TwoDigits(month)), s.out);
    return;
  }
  if (t.at(month_end) != ' ') return;
  int64_t d = month_end + 1;
  int64_t l = RunLength(t, d);
  if (l < 1 || l > 2) return;
  int day = RunValue(t, d, l);
  if (day < 1 || day > 31) return;
  int64_t k = d + l;
  k += OrdinalLength(t, k);
  if (IsAlnum(t.at(k)) || t.at(k) == ':' || (t.at(k) == '/' && IsDigit(t.at(k + 1)))) return;
  int64_t end = k;
  int year = MatchYear(t, k, &end);
  // "may", "mar" and "ago" are also words ("you may 5...", "el mar", "2 days ago"): month first,
  // they need a capital ("May 5") or a year.
  if (year == 0 && month_end - pos == 3) {
    std::string_view w = std::string_view(t.f).substr(static_cast<size_t>(pos), 3);
    bool capital = t.Original(static_cast<uint32_t>(pos), static_cast<uint32_t>(pos + 1))[0] !=
                   t.f[static_cast<size_t>(pos)];
    if ((w == "may" || w == "mar" || w == "ago") && !capital) return;
  }
  EmitMaybeYearless(s, pos, end, year, month, day);
}

}  // namespace lote::extract::internal
