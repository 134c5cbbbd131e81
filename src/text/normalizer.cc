#include "lote/text/normalizer.h"

#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <utf8proc.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "text/unicode.h"

namespace lote::text {

using internal::DecodeOrReplace;
using internal::EncodeUtf8;
using internal::IsWhiteSpace;

namespace {

// One code point of a segment being normalized, with the original code points it came from.
struct Item {
  char32_t cp;
  int ccc;  // canonical combining class
  uint32_t start;
  uint32_t end;
};

// Code points that are Default_Ignorable (removed by NFKC_Casefold) but needed by emoji
// sequences: ZWJ, variation selectors, tag characters.
bool IsKeptIgnorable(char32_t c) {
  return c == internal::kZwj || internal::IsVariationSelector(c) || internal::IsTag(c);
}

// True if `c` may be the second character of a canonical composition (NFC_Quick_Check=Maybe,
// the property UAX #15 derives exactly for that). Filters the pairs worth asking utf8proc about.
bool MayComposeWithPrevious(char32_t c) {
  if (c < 0x300) return false;
  return u_getIntPropertyValue(static_cast<UChar32>(c), UCHAR_NFC_QUICK_CHECK) == UNORM_MAYBE;
}

// Primary composite of a + b, or 0. utf8proc has no public pairwise API, so this composes a
// two-element buffer; STABLE keeps composition exclusions out, as utf8proc_NFKC_Casefold does.
char32_t ComposePair(char32_t a, char32_t b) {
  utf8proc_int32_t buf[2] = {static_cast<utf8proc_int32_t>(a), static_cast<utf8proc_int32_t>(b)};
  const utf8proc_ssize_t n = utf8proc_normalize_utf32(
      buf, 2, static_cast<utf8proc_option_t>(UTF8PROC_COMPOSE | UTF8PROC_STABLE));
  return n == 1 ? static_cast<char32_t>(buf[0]) : 0;
}

constexpr std::array<uint8_t, 128> MakeAsciiLower() {
  std::array<uint8_t, 128> t{};
  for (int c = 0; c < 128; ++c) t[c] = (c >= 'A' && c <= 'Z') ? c + 32 : c;
  return t;
}
constexpr std::array<uint8_t, 128> kAsciiLower = MakeAsciiLower();

constexpr std::array<bool, 128> MakeAsciiSpace() {
  std::array<bool, 128> t{};
  for (char c : {' ', '\t', '\n', '\v', '\f', '\r'}) t[static_cast<uint8_t>(c)] = true;
  return t;
}
constexpr std::array<bool, 128> kAsciiSpace = MakeAsciiSpace();

}  // namespace

// Normalized form of each 2-byte code point (U+0080..U+07FF) taken in isolation, valid when the
// character cannot interact with its neighbours: its decomposition starts with a starter that
// never composes with a previous character, and the next character is ASCII, another such
// character or the end (checked at run time).
struct Normalizer::Tables {
  enum Kind : uint8_t {
    kComplex = 0,       // goes through the full decompose/reorder/compose path
    kBytes = 1,         // copy `bytes`
    kPerCodePoint = 2,  // output contains white space: emit code point by code point
  };
  struct Entry {
    Kind kind = kComplex;
    uint8_t size = 0;
    char bytes[6] = {};
  };
  std::array<Entry, 0x800 - 0x80> two_byte;
  utf8proc_option_t decompose_options;
  bool strip_ignorables;
};

namespace {

// Does the work of one Normalize call: writes bytes and their origins into the caller's buffers,
// which are grown geometrically and truncated at the end (never shrunk, so warmed buffers are
// reused without allocation).
class Run {
 public:
  Run(const NormalizerOptions& options, const Normalizer::Tables& tables, NormalizedText* out)
      : options_(options), tables_(tables), out_(out) {}

  void Normalize(std::string_view input);

  // Decomposes, reorders and composes the code points in `items` (a segment that does not
  // interact with its neighbours) in place.
  void DecomposeInto(char32_t cp, uint32_t index, char32_t* last_starter,
                     std::vector<Item>* items) const;
  static void ReorderAndCompose(std::vector<Item>* items);

  void EmitCodePoint(char32_t cp, uint32_t start, uint32_t end);
  void Finish() {
    out_->text.resize(size_);
    out_->orig_start.resize(size_);
    out_->orig_end.resize(size_);
  }

 private:
  bool IsTableCharAt(const unsigned char* p, size_t n, size_t pos) const {
    if (pos + 1 >= n) return false;
    const unsigned char b = p[pos];
    if (b < 0xC2 || b > 0xDF || (p[pos + 1] & 0xC0) != 0x80) return false;
    const char32_t cp = ((b & 0x1F) << 6) | (p[pos + 1] & 0x3F);
    return tables_.two_byte[cp - 0x80].kind != Normalizer::Tables::kComplex;
  }
  // True if the character at `pos` starts a new independent segment (or the input ends there).
  bool IsBoundary(const unsigned char* p, size_t n, size_t pos) const {
    return pos >= n || p[pos] < 0x80 || IsTableCharAt(p, n, pos);
  }

  void Reserve(size_t extra) {
    const size_t need = size_ + extra;
    if (need <= out_->text.size()) return;
    const size_t grown = std::max<size_t>({need, out_->text.size() * 2, 64});
    out_->text.resize(grown);
    out_->orig_start.resize(grown);
    out_->orig_end.resize(grown);
  }
  void Put(char byte, uint32_t start, uint32_t end) {
    out_->text[size_] = byte;
    out_->orig_start[size_] = start;
    out_->orig_end[size_] = end;
    ++size_;
  }
  void FlushSpace() {
    if (!pending_space_) return;
    pending_space_ = false;
    if (size_ == 0) return;  // leading white space is trimmed
    Reserve(1);
    Put(' ', space_start_, space_end_);
  }
  void AddSpace(uint32_t start, uint32_t end) {
    if (!pending_space_) {
      pending_space_ = true;
      space_start_ = start;
      space_end_ = end;
    } else {
      space_end_ = std::max(space_end_, end);
    }
  }
  void EmitAscii(const unsigned char* p, size_t from, size_t to, size_t delta);
  size_t NormalizeSegment(const unsigned char* p, size_t n, size_t pos, size_t* delta);

  const NormalizerOptions& options_;
  const Normalizer::Tables& tables_;
  NormalizedText* out_;
  size_t size_ = 0;
  bool pending_space_ = false;
  uint32_t space_start_ = 0;
  uint32_t space_end_ = 0;
};

void Run::DecomposeInto(char32_t cp, uint32_t index, char32_t* last_starter,
                        std::vector<Item>* items) const {
  // The longest full decomposition in Unicode 15 is 18 code points (U+FDFA).
  utf8proc_int32_t buf[32];
  utf8proc_option_t opts = tables_.decompose_options;
  if (tables_.strip_ignorables && !IsKeptIgnorable(cp)) {
    opts = static_cast<utf8proc_option_t>(opts | UTF8PROC_IGNORE);
  }
  int boundclass = 0;
  utf8proc_ssize_t n =
      utf8proc_decompose_char(static_cast<utf8proc_int32_t>(cp), buf, 32, opts, &boundclass);
  if (n < 0 || n > 32) {  // cannot happen for a valid scalar value; keep the character as is
    buf[0] = static_cast<utf8proc_int32_t>(cp);
    n = 1;
  }
  for (utf8proc_ssize_t i = 0; i < n; ++i) {
    const char32_t d = static_cast<char32_t>(buf[i]);
    const utf8proc_property_t* prop = utf8proc_get_property(buf[i]);
    if (options_.strip_accents && prop->category == UTF8PROC_CATEGORY_MN &&
        !internal::IsVariationSelector(d)) {
      // The tilde of ñ/Ñ is kept unless fold_enye: in Spanish "año" and "ano" differ.
      const bool enye = d == 0x303 && (*last_starter == 'n' || *last_starter == 'N');
      if (!enye || options_.fold_enye) continue;
    }
    items->push_back({d, prop->combining_class, index, index + 1});
    if (prop->combining_class == 0) *last_starter = d;
  }
}

void Run::ReorderAndCompose(std::vector<Item>* items) {
  std::vector<Item>& v = *items;
  // Canonical ordering: stable sort of each run of non-starters by combining class.
  for (size_t r = 1; r < v.size(); ++r) {
    if (v[r].ccc == 0) continue;
    const Item x = v[r];
    size_t j = r;
    while (j > 0 && v[j - 1].ccc > x.ccc) {
      v[j] = v[j - 1];
      --j;
    }
    v[j] = x;
  }
  // Canonical composition (UAX #15), same blocking rule as utf8proc_normalize_utf32. A composite
  // covers the original ranges of everything composed into it.
  ptrdiff_t starter = -1;
  int max_ccc = -1;
  size_t w = 0;
  for (size_t r = 0; r < v.size(); ++r) {
    const Item c = v[r];
    if (starter >= 0 && c.ccc > max_ccc && MayComposeWithPrevious(c.cp)) {
      const char32_t composite = ComposePair(v[starter].cp, c.cp);
      if (composite != 0) {
        Item& s = v[starter];
        s.cp = composite;
        s.start = std::min(s.start, c.start);
        s.end = std::max(s.end, c.end);
        continue;
      }
    }
    v[w++] = c;
    if (c.ccc == 0) {
      starter = static_cast<ptrdiff_t>(w) - 1;
      max_ccc = -1;
    } else {
      max_ccc = c.ccc;
    }
  }
  v.resize(w);
  // Reordering can leave ranges out of order (a + U+0301 + U+0323 -> ạ + U+0301). Widen them so
  // both ends are non-decreasing: every range still covers its true origin.
  for (size_t i = 1; i < v.size(); ++i) v[i].end = std::max(v[i].end, v[i - 1].end);
  for (size_t i = v.size(); i-- > 1;) v[i - 1].start = std::min(v[i - 1].start, v[i].start);
}

void Run::EmitCodePoint(char32_t cp, uint32_t start, uint32_t end) {
  if (options_.collapse_whitespace && IsWhiteSpace(cp)) {
    AddSpace(start, end);
    return;
  }
  FlushSpace();
  char bytes[4];
  const int len = EncodeUtf8(cp, bytes);
  Reserve(len);
  for (int i = 0; i < len; ++i) Put(bytes[i], start, end);
}

// ASCII bytes p[from, to); `delta` converts byte offsets to code point offsets.
void Run::EmitAscii(const unsigned char* p, size_t from, size_t to, size_t delta) {
  Reserve(to - from + 1);  // +1: a pending space; a run never writes more than it reads
  char* text = out_->text.data();
  uint32_t* starts = out_->orig_start.data();
  uint32_t* ends = out_->orig_end.data();
  size_t w = size_;
  const bool fold = options_.case_fold;
  const bool collapse = options_.collapse_whitespace;
  for (size_t i = from; i < to; ++i) {
    const unsigned char c = p[i];
    const uint32_t k = static_cast<uint32_t>(i - delta);
    if (collapse && kAsciiSpace[c]) {
      AddSpace(k, k + 1);
      continue;
    }
    if (pending_space_) {
      pending_space_ = false;
      if (w != 0) {
        text[w] = ' ';
        starts[w] = space_start_;
        ends[w] = space_end_;
        ++w;
      }
    }
    text[w] = static_cast<char>(fold ? kAsciiLower[c] : c);
    starts[w] = k;
    ends[w] = k + 1;
    ++w;
  }
  size_ = w;
}

// Normalizes the segment starting at p[pos]: its first character plus every following one that
// may interact with it (combining marks, Hangul jamo, characters without a table entry).
// Returns the end of the segment.
size_t Run::NormalizeSegment(const unsigned char* p, size_t n, size_t pos, size_t* delta) {
  thread_local std::vector<Item> items;
  items.clear();
  char32_t last_starter = 0;
  do {
    const size_t begin = pos;
    const char32_t cp = DecodeOrReplace(p, n, &pos);
    const auto index = static_cast<uint32_t>(begin - *delta);
    *delta += pos - begin - 1;
    DecomposeInto(cp, index, &last_starter, &items);
  } while (!IsBoundary(p, n, pos));
  ReorderAndCompose(&items);
  for (const Item& item : items) EmitCodePoint(item.cp, item.start, item.end);
  return pos;
}

void Run::Normalize(std::string_view input) {
  const auto* p = reinterpret_cast<const unsigned char*>(input.data());
  const size_t n = input.size();
  Reserve(n + 1);
  size_t delta = 0;  // bytes minus code points consumed so far
  size_t i = 0;
  while (i < n) {
    size_t j = i;
    while (j < n && p[j] < 0x80) ++j;
    // An ASCII letter followed by a combining mark must be composed with it ("e" + U+0301).
    if (j < n && j > i && !IsTableCharAt(p, n, j)) --j;
    if (j > i) {
      EmitAscii(p, i, j, delta);
      i = j;
      if (i >= n) break;
    }
    if (IsTableCharAt(p, n, i) && IsBoundary(p, n, i + 2)) {
      const char32_t cp = ((p[i] & 0x1F) << 6) | (p[i + 1] & 0x3F);
      const Normalizer::Tables::Entry& e = tables_.two_byte[cp - 0x80];
      if (e.kind == Normalizer::Tables::kBytes) {
        const auto k = static_cast<uint32_t>(i - delta);
        FlushSpace();
        Reserve(e.size);
        for (int b = 0; b < e.size; ++b) Put(e.bytes[b], k, k + 1);
        i += 2;
        delta += 1;
        continue;
      }
    }
    i = NormalizeSegment(p, n, i, &delta);
  }
  Finish();
}

}  // namespace

std::string NormalizerOptions::Fingerprint() const {
  std::string s;
  s += "nfkc=";
  s += nfkc ? '1' : '0';
  s += ",case_fold=";
  s += case_fold ? '1' : '0';
  s += ",strip_accents=";
  s += strip_accents ? '1' : '0';
  s += ",fold_enye=";
  s += fold_enye ? '1' : '0';
  s += ",ws=";
  s += collapse_whitespace ? '1' : '0';
  return s;
}

Normalizer::Normalizer(NormalizerOptions options) : options_(options) {
  auto tables = std::make_shared<Tables>();
  int opts = UTF8PROC_STABLE | UTF8PROC_COMPOSE;
  if (options_.nfkc) opts |= UTF8PROC_COMPAT;
  if (options_.case_fold) opts |= UTF8PROC_CASEFOLD;
  tables->decompose_options = static_cast<utf8proc_option_t>(opts);
  tables->strip_ignorables = options_.nfkc && options_.case_fold;

  // Build the 2-byte table by running the full path on each character alone; the kind stays
  // kComplex unless the character is independent of its neighbours (see Tables).
  NormalizedText scratch;
  std::vector<Item> items;
  for (char32_t cp = 0x80; cp < 0x800; ++cp) {
    Tables::Entry& entry = tables->two_byte[cp - 0x80];
    Run run(options_, *tables, &scratch);
    items.clear();
    char32_t last_starter = 0;
    run.DecomposeInto(cp, 0, &last_starter, &items);
    if (items.empty() || items[0].ccc != 0 || MayComposeWithPrevious(items[0].cp)) continue;
    Run::ReorderAndCompose(&items);
    std::string bytes;
    bool has_space = false;
    for (const Item& item : items) {
      char buf[4];
      bytes.append(buf, EncodeUtf8(item.cp, buf));
      has_space = has_space || IsWhiteSpace(item.cp);
    }
    if (bytes.size() > sizeof(entry.bytes)) continue;
    entry.kind = has_space ? Tables::kPerCodePoint : Tables::kBytes;
    entry.size = static_cast<uint8_t>(bytes.size());
    std::memcpy(entry.bytes, bytes.data(), bytes.size());
  }
  tables_ = std::move(tables);
}

void Normalizer::Normalize(std::string_view input, NormalizedText* out) const {
  Run run(options_, *tables_, out);
  run.Normalize(input);
}

std::string Normalizer::NormalizeToString(std::string_view input) const {
  thread_local NormalizedText scratch;
  Normalize(input, &scratch);
  return scratch.text;
}

}  // namespace lote::text
