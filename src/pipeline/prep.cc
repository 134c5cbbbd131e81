#include "lote/pipeline/prep.h"

#include <cld2/public/compact_lang_det.h>
#include <unicode/normalizer2.h>
#include <unicode/stringpiece.h>
#include <utf8proc.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "lote/base/ascii.h"
#include "lote/base/digest.h"
#include "lote/base/version.h"

namespace lote::pipeline {
namespace {

bool IsAsciiLetter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

struct NamedEntity {
  const char* name;
  char32_t cp;
};

// The named entities found in Spanish and English texts; anything else stays as written.
constexpr NamedEntity kEntities[] = {
    {"amp", '&'},       {"lt", '<'},       {"gt", '>'},       {"quot", '"'},     {"apos", '\''},
    {"nbsp", 0xA0},     {"aacute", 0xE1},  {"eacute", 0xE9},  {"iacute", 0xED},  {"oacute", 0xF3},
    {"uacute", 0xFA},   {"Aacute", 0xC1},  {"Eacute", 0xC9},  {"Iacute", 0xCD},  {"Oacute", 0xD3},
    {"Uacute", 0xDA},   {"ntilde", 0xF1},  {"Ntilde", 0xD1},  {"uuml", 0xFC},    {"Uuml", 0xDC},
    {"iquest", 0xBF},   {"iexcl", 0xA1},   {"euro", 0x20AC},  {"copy", 0xA9},    {"reg", 0xAE},
    {"deg", 0xB0},      {"ordf", 0xAA},    {"ordm", 0xBA},    {"laquo", 0xAB},   {"raquo", 0xBB},
    {"hellip", 0x2026}, {"ndash", 0x2013}, {"mdash", 0x2014}, {"lsquo", 0x2018}, {"rsquo", 0x2019},
    {"ldquo", 0x201C},  {"rdquo", 0x201D}, {"bull", 0x2022},  {"middot", 0xB7},
};

// Decodes the entity starting at text[pos] == '&'. Returns its length (0 if not an entity).
size_t DecodeEntity(std::string_view text, size_t pos, std::string* out) {
  size_t semi = text.find(';', pos + 1);
  if (semi == std::string_view::npos || semi - pos > 10) return 0;
  std::string_view body = text.substr(pos + 1, semi - pos - 1);
  if (body.size() >= 2 && body[0] == '#') {
    bool hex = body[1] == 'x' || body[1] == 'X';
    std::string digits(body.substr(hex ? 2 : 1));
    if (digits.empty()) return 0;
    for (char c : digits) {
      bool ok = hex ? std::isxdigit(static_cast<unsigned char>(c)) != 0 : (c >= '0' && c <= '9');
      if (!ok) return 0;
    }
    unsigned long cp = std::strtoul(digits.c_str(), nullptr, hex ? 16 : 10);
    // Surrogates, NUL and out-of-range values are not characters: keep the text as written.
    if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    text::AppendUtf8(static_cast<char32_t>(cp), out);
    return semi - pos + 1;
  }
  for (const auto& e : kEntities) {
    if (body == e.name) {
      text::AppendUtf8(e.cp, out);
      return semi - pos + 1;
    }
  }
  return 0;
}

// Whether text[pos] == '<' starts something that looks like a tag, comment or doctype.
bool LooksLikeTag(std::string_view text, size_t pos) {
  if (pos + 1 >= text.size()) return false;
  char c = text[pos + 1];
  return IsAsciiLetter(c) || c == '/' || c == '!';
}

// The tag name of "<name ...>" / "</name>" lowercased.
std::string TagName(std::string_view tag) {
  size_t i = 1;
  if (i < tag.size() && tag[i] == '/') ++i;
  std::string name;
  while (i < tag.size() && (IsAsciiLetter(tag[i]) || (tag[i] >= '0' && tag[i] <= '9'))) {
    name.push_back(AsciiLower(tag[i++]));
  }
  return name;
}

bool IsControlOrFormat(char32_t cp) {
  if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F)) return true;
  if (cp >= 0x200B && cp <= 0x200F) return true;  // zero-width space/joiners, LRM, RLM
  if (cp >= 0x202A && cp <= 0x202E) return true;  // bidi embeddings and overrides
  if (cp >= 0x2060 && cp <= 0x2064) return true;  // word joiner, invisible operators
  if (cp >= 0x2066 && cp <= 0x2069) return true;  // bidi isolates
  return cp == 0xFEFF || cp == 0x00AD;            // BOM / zero-width no-break space, soft hyphen
}

bool IsWhite(char32_t cp) {
  switch (cp) {
    case ' ':
    case '\t':
    case '\n':
    case '\r':
    case '\v':
    case '\f':
    case 0x85:
    case 0xA0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000:
      return true;
    default:
      return cp >= 0x2000 && cp <= 0x200A;
  }
}

// Text whose code points are all below U+0300 is already in NFC (no character there decomposes
// or combines): all of Spanish and English. Its UTF-8 has no byte >= 0xCC.
void NfcInPlace(std::string* text) {
  const bool below_combining = std::none_of(
      text->begin(), text->end(), [](char c) { return static_cast<unsigned char>(c) >= 0xCC; });
  if (below_combining) return;
  // Most other texts are NFC already too (an emoji, a euro sign, a dash): ICU's quick check on
  // the UTF-8 costs far less than utf8proc's full decompose and recompose, which stays the one
  // normaliser so that what changes is exactly what it changes.
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* nfc = icu::Normalizer2::getNFCInstance(status);
  if (U_SUCCESS(status) &&
      nfc->isNormalizedUTF8(icu::StringPiece(text->data(), static_cast<int32_t>(text->size())),
                            status) &&
      U_SUCCESS(status)) {
    return;
  }
  utf8proc_uint8_t* mapped = nullptr;
  utf8proc_ssize_t n =
      utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(text->data()),
                   static_cast<utf8proc_ssize_t>(text->size()), &mapped,
                   static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
  if (n < 0) return;  // cannot happen on valid UTF-8; keep the text then
  text->assign(reinterpret_cast<char*>(mapped), static_cast<size_t>(n));
  std::free(mapped);
}

// Function words only: frequent, short, and rarely shared between the two languages.
const std::unordered_set<std::string>& SpanishWords() {
  static const auto* words = new std::unordered_set<std::string>{
      "el",      "la",     "los",    "las",   "un",       "una",   "unos",   "de",      "del",
      "que",     "y",      "en",     "por",   "para",     "con",   "sin",    "es",      "son",
      "esta",    "está",   "estoy",  "mi",    "mis",      "tu",    "su",     "sus",     "me",
      "te",      "se",     "lo",     "le",    "les",      "al",    "como",   "pero",    "muy",
      "ya",      "hay",    "quiero", "puedo", "necesito", "tengo", "cuenta", "tarjeta", "hola",
      "gracias", "buenos", "buenas", "días",  "dias",     "qué",   "cómo",   "cuál",    "dónde",
      "cuándo",  "porque", "favor",  "no",    "sí",       "si",    "pago",   "mañana",  "hoy",
      "ayer",    "cuánto", "señor",  "señora"};
  return *words;
}

const std::unordered_set<std::string>& EnglishWords() {
  static const auto* words = new std::unordered_set<std::string>{
      "the",      "a",         "an",    "of",      "and",    "to",      "in",    "is",      "are",
      "was",      "for",       "with",  "without", "my",     "your",    "his",   "her",     "our",
      "their",    "i",         "you",   "it",      "this",   "that",    "on",    "at",      "by",
      "from",     "can",       "could", "would",   "will",   "want",    "need",  "have",    "has",
      "do",       "does",      "did",   "not",     "please", "thanks",  "thank", "hello",   "hi",
      "what",     "how",       "where", "when",    "why",    "account", "card",  "payment", "today",
      "tomorrow", "yesterday", "be",    "been",    "me",     "we",      "they",  "is",      "it's",
      "i'm",      "don't",     "can't"};
  return *words;
}

// Evidence that decides a long text's language without cld2.
constexpr int kDecisiveVote = 3;

// Longer words are in neither list: no need to look them up.
constexpr size_t kMaxListWordBytes = 16;

// The lists' words and weights (+1 Spanish, -1 English, 0 in both, as "me" and "no") in a small
// open-addressing table keyed by the word's bytes packed into two words: a lookup is a multiply,
// a load and two compares, where a std::unordered_map of strings cost most of the vote.
class WordWeightTable {
 public:
  WordWeightTable() {
    for (const std::string& w : SpanishWords()) Add(w, +1);
    for (const std::string& w : EnglishWords()) Add(w, -1);
  }
  // The weight of `word` (at most kMaxListWordBytes bytes); 0 when not listed.
  int Weight(const char* word, size_t len) const {
    const Key k = Pack(word, len);
    for (size_t i = Slot(k);; i = (i + 1) & (kSlots - 1)) {
      const Entry& e = slots_[i];
      if (e.len == 0) return 0;
      if (e.key.a == k.a && e.key.b == k.b && e.len == len) return e.weight;
    }
  }

 private:
  static constexpr size_t kSlots = 512;  // a power of two, > 3x the ~150 words
  struct Key {
    uint64_t a = 0, b = 0;
  };
  struct Entry {
    Key key;
    uint8_t len = 0;
    int8_t weight = 0;
  };
  static Key Pack(const char* word, size_t len) {
    char buf[kMaxListWordBytes] = {};
    std::memcpy(buf, word, len);
    Key k;
    std::memcpy(&k.a, buf, 8);
    std::memcpy(&k.b, buf + 8, 8);
    return k;
  }
  static size_t Slot(const Key& k) {
    const uint64_t h = (k.a * 0x9E3779B97F4A7C15ull) ^ (k.b * 0xC2B2AE3D27D4EB4Full);
    return static_cast<size_t>(h >> 55) & (kSlots - 1);
  }
  void Add(const std::string& w, int weight) {
    const Key k = Pack(w.data(), w.size());
    for (size_t i = Slot(k);; i = (i + 1) & (kSlots - 1)) {
      Entry& e = slots_[i];
      if (e.len == 0) {
        e.key = k;
        e.len = static_cast<uint8_t>(w.size());
        e.weight = static_cast<int8_t>(weight);
        return;
      }
      if (e.key.a == k.a && e.key.b == k.b && e.len == w.size()) {
        e.weight = static_cast<int8_t>(e.weight + weight);
        return;
      }
    }
  }
  Entry slots_[kSlots];
};

const WordWeightTable& WordWeights() {
  static const auto* table = new WordWeightTable();
  return *table;
}

}  // namespace

int StopWordVote(std::string_view text) {
  const WordWeightTable& weights = WordWeights();
  int score = 0;
  char word[kMaxListWordBytes];
  size_t len = 0;
  bool too_long = false;
  auto flush = [&] {
    if (len > 0 && !too_long) score += weights.Weight(word, len);
    len = 0;
    too_long = false;
  };
  auto append = [&](std::string_view bytes) {
    if (len + bytes.size() > sizeof(word)) {
      too_long = true;
      return;
    }
    std::memcpy(word + len, bytes.data(), bytes.size());
    len += bytes.size();
  };
  size_t pos = 0;
  while (pos < text.size()) {
    const unsigned char b = static_cast<unsigned char>(text[pos]);
    if (b < 0x80) {  // ASCII: most of every text, no decoding needed
      ++pos;
      if (IsAsciiLetter(static_cast<char>(b)) || b == '\'') {
        const char lower = AsciiLower(static_cast<char>(b));
        append(std::string_view(&lower, 1));
      } else {
        flush();
      }
      continue;
    }
    char32_t cp = text::DecodeUtf8(text, &pos);
    // Letters only Spanish uses count as a word of evidence each.
    if (cp == 0xF1 || cp == 0xD1 || cp == 0xBF || cp == 0xA1) ++score;
    if (cp >= 0xC0 && cp <= 0x24F) {
      // Latin letters with accents: lowercase the common Spanish ones, keep the rest.
      const char32_t lower = (cp >= 0xC0 && cp <= 0xDE && cp != 0xD7) ? cp + 0x20 : cp;
      // Two bytes in UTF-8 for U+0080..U+07FF.
      const char utf8[2] = {static_cast<char>(0xC0 | (lower >> 6)),
                            static_cast<char>(0x80 | (lower & 0x3F))};
      append(std::string_view(utf8, 2));
    } else {
      flush();
    }
  }
  flush();
  return score;
}

std::string PrepOptions::Fingerprint() const {
  std::string f;
  f += "utf8=" +
       std::string(invalid_utf8 == text::InvalidUtf8Policy::kReject ? "reject" : "replace");
  f += ",html=" + std::to_string(strip_html);
  f += ",control=" + std::to_string(strip_control);
  f += ",nfc=" + std::to_string(unicode_nfc);
  f += ",ws=" + std::to_string(collapse_whitespace);
  f += ",max_chars=" + std::to_string(max_chars);
  f += ",over_long=" + std::string(over_long == OverLongPolicy::kTruncate ? "truncate" : "reject");
  f += ",lang=" + std::to_string(detect_language);
  f += ",short=" + std::to_string(short_text_chars);
  // The detector's own rules (2: a decisive stop-word vote before cld2).
  f += ",langdet=2";
  f += ",dedup_id=" + std::to_string(dedup_record_id);
  f += ",dedup_content=" + std::to_string(dedup_content);
  return f;
}

Result<text::InvalidUtf8Policy> ParseInvalidUtf8Policy(std::string_view name) {
  if (name == "reject") return text::InvalidUtf8Policy::kReject;
  if (name == "replace") return text::InvalidUtf8Policy::kReplace;
  return InvalidArgumentError("invalid_utf8 must be reject or replace, not '" + std::string(name) +
                              "'");
}

Result<OverLongPolicy> ParseOverLongPolicy(std::string_view name) {
  if (name == "truncate") return OverLongPolicy::kTruncate;
  if (name == "reject") return OverLongPolicy::kReject;
  return InvalidArgumentError("over_long must be truncate or reject, not '" + std::string(name) +
                              "'");
}

std::string PreprocessVersion(const PrepOptions& options) {
  return Sha256Hex(options.Fingerprint() + ";lote=" + std::string(Version())).substr(0, 12);
}

std::string StripHtml(std::string_view text) {
  if (text.find_first_of("<&") == std::string_view::npos) return std::string(text);
  std::string out;
  out.reserve(text.size());
  size_t pos = 0;
  while (pos < text.size()) {
    char c = text[pos];
    if (c == '<' && LooksLikeTag(text, pos)) {
      size_t close;
      if (text.compare(pos, 4, "<!--") == 0) {
        close = text.find("-->", pos + 4);
        close = close == std::string_view::npos ? close : close + 2;
      } else {
        close = text.find('>', pos + 1);
      }
      if (close == std::string_view::npos) {  // a lone '<': text, not a tag
        out.push_back(c);
        ++pos;
        continue;
      }
      std::string name = TagName(text.substr(pos, close + 1 - pos));
      pos = close + 1;
      if ((name == "script" || name == "style") && text[pos - 2] != '/') {
        // Drop the element's content up to its closing tag (case-insensitively).
        std::string lower(text.substr(pos));
        std::transform(lower.begin(), lower.end(), lower.begin(), AsciiLower);
        size_t end = lower.find("</" + name);
        if (end == std::string::npos) break;
        size_t gt = text.find('>', pos + end);
        pos = gt == std::string_view::npos ? text.size() : gt + 1;
      }
      out.push_back(' ');  // tags separate words ("a<br>b" is two words)
      continue;
    }
    if (c == '&') {
      size_t n = DecodeEntity(text, pos, &out);
      if (n > 0) {
        pos += n;
        continue;
      }
    }
    out.push_back(c);
    ++pos;
  }
  return out;
}

// Both steps work in place (the output is never longer than the input) and first check, byte by
// byte, whether there is anything to do: most texts have neither control characters nor runs of
// white space, and copying them is what prep would spend its time on.
void StripControlInPlace(std::string* text) {
  // Every character the loop below changes is ASCII < 0x20 or 0x7F, or starts with byte 0xC2
  // (U+0080-U+00BF), 0xE2 (U+2000-U+2FFF) or 0xEF (U+F000-U+FFFF).
  const bool clean = std::none_of(text->begin(), text->end(), [](char ch) {
    const unsigned char c = static_cast<unsigned char>(ch);
    return c < 0x20 || c == 0x7F || c == 0xC2 || c == 0xE2 || c == 0xEF;
  });
  if (clean) return;
  std::string_view in(*text);
  size_t out = 0, pos = 0;
  while (pos < in.size()) {
    size_t start = pos;
    char32_t cp = text::DecodeUtf8(in, &pos);
    if (cp == '\t' || cp == '\n' || cp == '\r' || cp == '\v' || cp == '\f') {
      (*text)[out++] = ' ';
    } else if (!IsControlOrFormat(cp)) {
      for (size_t i = start; i < pos; ++i) (*text)[out++] = in[i];
    }
  }
  text->resize(out);
}

void CollapseWhitespaceInPlace(std::string* text) {
  // White space other than ' ' is ASCII < 0x20 or starts with byte 0xC2 (U+0085, U+00A0),
  // 0xE1 (U+1680), 0xE2 (U+2000-U+205F) or 0xE3 (U+3000).
  const std::string& t = *text;
  bool clean = t.empty() || (t.front() != ' ' && t.back() != ' ');
  for (size_t i = 0; clean && i < t.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(t[i]);
    clean = !(c < 0x20 || c == 0xC2 || c == 0xE1 || c == 0xE2 || c == 0xE3 ||
              (c == ' ' && t[i + 1] == ' '));
  }
  if (clean) return;
  std::string_view in(*text);
  size_t out = 0, pos = 0;
  bool pending_space = false;
  while (pos < in.size()) {
    size_t start = pos;
    char32_t cp = text::DecodeUtf8(in, &pos);
    if (IsWhite(cp)) {
      pending_space = out > 0;
      continue;
    }
    if (pending_space) (*text)[out++] = ' ';
    pending_space = false;
    for (size_t i = start; i < pos; ++i) (*text)[out++] = in[i];
  }
  text->resize(out);
}

std::string StripControl(std::string_view text) {
  std::string out(text);
  StripControlInPlace(&out);
  return out;
}

std::string CollapseWhitespace(std::string_view text) {
  std::string out(text);
  CollapseWhitespaceInPlace(&out);
  return out;
}

std::string DetectLanguage(std::string_view text, size_t short_text_chars) {
  const size_t chars = text::CodePointCount(text);
  // Three or more words of evidence one way decide without cld2, whose every call costs 10-30
  // thousand instructions, more than the rest of prep: on 21,778 labelled texts (multifin,
  // banking77, mtod_es, the sample) this changed 160 of 14,109 long texts' languages, most of
  // them Spanish texts cld2 had called English or "other" (docs/pipeline.md, Language).
  int vote = 0;
  bool voted = false;
  if (chars >= short_text_chars) {
    vote = StopWordVote(text);
    voted = true;
    if (vote >= kDecisiveVote) return "es";
    if (vote <= -kDecisiveVote) return "en";
    bool reliable = false;
    CLD2::Language lang = CLD2::DetectLanguage(text.data(), static_cast<int>(text.size()),
                                               /*is_plain_text=*/true, &reliable);
    if (reliable) {
      if (lang == CLD2::SPANISH) return "es";
      if (lang == CLD2::ENGLISH) return "en";
      if (lang != CLD2::UNKNOWN_LANGUAGE) return "other";
    }
  }
  if (!voted) vote = StopWordVote(text);
  if (vote > 0) return "es";
  if (vote < 0) return "en";
  return "und";
}

Preprocessor::Preprocessor(PrepOptions options) : options_(std::move(options)) {}

// Whether every cleaning step would leave `raw` as it is, judged in one pass: printable ASCII
// but '<' and '&', single spaces between other characters, and the two-byte letters and
// punctuation of Latin-1 that are neither white space nor controls (U+00A1..U+00AC,
// U+00AE..U+00FF: ¡ ¿ á é ñ ü ...). Most messages are such text; anything else (HTML, tabs,
// NBSP, soft hyphens, zero-width or bidi marks, emoji, combining marks, invalid UTF-8) goes
// through the steps.
bool IsAlreadyClean(std::string_view raw) {
  if (raw.empty() || raw.front() == ' ' || raw.back() == ' ') return false;
  const auto* p = reinterpret_cast<const unsigned char*>(raw.data());
  const auto* end = p + raw.size();
  unsigned char prev = 0;
  while (p < end) {
    const unsigned char b = *p;
    if (b < 0x80) {
      if (b < 0x20 || b == 0x7F || b == '<' || b == '&' || (b == ' ' && prev == ' ')) return false;
      prev = b;
      ++p;
    } else {
      if (p + 1 >= end) return false;
      const unsigned char c = p[1];
      if (b == 0xC3) {
        if (c < 0x80 || c > 0xBF) return false;
      } else if (b == 0xC2) {
        if (c < 0xA1 || c > 0xBF || c == 0xAD) return false;
      } else {
        return false;
      }
      prev = c;
      p += 2;
    }
  }
  return true;
}

Status Preprocessor::Process(std::string_view raw, PrepResult* out) const {
  out->truncated = false;
  out->replaced_invalid_utf8 = false;
  out->lang.clear();
  // Bytes <= max_chars: no truncation either.
  if ((options_.max_chars == 0 || raw.size() <= options_.max_chars) && IsAlreadyClean(raw)) {
    out->text.assign(raw);
    if (options_.detect_language) {
      out->lang = DetectLanguage(out->text, options_.short_text_chars);
    }
    return Status::Ok();
  }
  std::string text;
  size_t bad = text::FindInvalidUtf8(raw);
  if (bad != std::string_view::npos) {
    if (options_.invalid_utf8 == text::InvalidUtf8Policy::kReject) {
      return InvalidArgumentError("invalid UTF-8 at byte " + std::to_string(bad));
    }
    text = text::ReplaceInvalidUtf8(raw);
    out->replaced_invalid_utf8 = true;
  } else {
    text.assign(raw);
  }
  if (options_.strip_html && text.find_first_of("<&") != std::string::npos) {
    text = StripHtml(text);
  }
  if (options_.strip_control) StripControlInPlace(&text);
  if (options_.unicode_nfc) NfcInPlace(&text);
  if (options_.collapse_whitespace) CollapseWhitespaceInPlace(&text);
  if (text.empty()) return InvalidArgumentError("empty after cleaning");
  size_t chars = text::CodePointCount(text);
  if (options_.max_chars > 0 && chars > options_.max_chars) {
    if (options_.over_long == OverLongPolicy::kReject) {
      return InvalidArgumentError("too long: " + std::to_string(chars) +
                                  " code points > max_chars " + std::to_string(options_.max_chars));
    }
    size_t pos = 0;
    for (size_t i = 0; i < options_.max_chars; ++i) text::DecodeUtf8(text, &pos);
    text.resize(pos);
    while (!text.empty() && text.back() == ' ') text.pop_back();
    out->truncated = true;
  }
  if (options_.detect_language) out->lang = DetectLanguage(text, options_.short_text_chars);
  out->text = std::move(text);
  return Status::Ok();
}

}  // namespace lote::pipeline
