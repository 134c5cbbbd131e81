#include "tagger_gazetteer.h"

#include <utf8proc.h>

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>

#include "lote/base/digest.h"
#include "tagger_features.h"

namespace lote::extract::internal {

void WordGazetteer::Add(std::string_view word, uint8_t bits) {
  LowerUtf8(word, &scratch_);
  keys_.push_back(HashWord(scratch_));
  bits_.push_back(bits);
}

void WordGazetteer::Finish() {
  std::vector<size_t> order(keys_.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return keys_[a] < keys_[b]; });
  std::vector<uint64_t> keys;
  std::vector<uint8_t> bits;
  for (size_t i : order) {
    if (!keys.empty() && keys.back() == keys_[i]) {
      bits.back() |= bits_[i];
    } else {
      keys.push_back(keys_[i]);
      bits.push_back(bits_[i]);
    }
  }
  table_.Assign(std::move(keys), std::move(bits));
  keys_.clear();
  bits_.clear();
}

uint32_t WordGazetteer::Lookup(uint64_t lower_hash) const {
  const uint8_t* b = table_.Find(lower_hash);
  return b ? *b : 0u;
}

uint32_t WordGazetteer::LookupWord(std::string_view word) {
  LowerUtf8(word, &scratch_);
  return Lookup(HashWord(scratch_));
}

Result<std::map<std::string, std::string>> ParseMoCatalog(std::string_view bytes,
                                                          const std::string& name) {
  auto bad = [&](const std::string& why) {
    return DataLossError(name + ": not a gettext .mo catalog (" + why + ")");
  };
  if (bytes.size() < 28) return bad("shorter than its header");
  auto u32 = [&](size_t at, bool swap) {
    uint32_t v;
    std::memcpy(&v, bytes.data() + at, 4);
    return swap ? __builtin_bswap32(v) : v;
  };
  bool swap = false;
  if (u32(0, false) != 0x950412deu) {
    if (u32(0, true) != 0x950412deu) return bad("bad magic number");
    swap = true;
  }
  const uint32_t n = u32(8, swap), orig = u32(12, swap), trans = u32(16, swap);
  auto table_ok = [&](uint32_t off) {
    return off <= bytes.size() && (bytes.size() - off) / 8 >= n;
  };
  if (!table_ok(orig) || !table_ok(trans)) return bad("string table outside the file");
  auto string_at = [&](uint32_t table, uint32_t i, std::string_view* out) {
    const uint32_t len = u32(table + 8 * i, swap), off = u32(table + 8 * i + 4, swap);
    if (off > bytes.size() || bytes.size() - off < len) return false;
    *out = bytes.substr(off, len);
    return true;
  };
  std::map<std::string, std::string> out;
  for (uint32_t i = 0; i < n; ++i) {
    std::string_view id, str;
    if (!string_at(orig, i, &id) || !string_at(trans, i, &str)) return bad("string outside");
    out.emplace(std::string(id), std::string(str));
  }
  return out;
}

namespace {

bool IsLetter(int32_t cp) {
  switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
      return true;
    default:
      return false;
  }
}

// Words of a name: maximal runs of letters, of at least 3 code points, starting with a capital.
// `name` is valid UTF-8 or the word is skipped.
template <typename F>
void ForEachNameWord(std::string_view name, F&& f) {
  size_t pos = 0, start = 0, letters = 0;
  bool capital = false;
  auto flush = [&](size_t end) {
    if (letters >= 3 && capital) f(name.substr(start, end - start));
    letters = 0;
  };
  while (pos < name.size()) {
    utf8proc_int32_t cp;
    const utf8proc_ssize_t len =
        utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t*>(name.data() + pos),
                         static_cast<utf8proc_ssize_t>(name.size() - pos), &cp);
    if (len <= 0) return;
    if (IsLetter(cp)) {
      if (letters == 0) {
        start = pos;
        capital = utf8proc_category(cp) == UTF8PROC_CATEGORY_LU;
      }
      ++letters;
    } else {
      flush(pos);
    }
    pos += static_cast<size_t>(len);
  }
  flush(pos);
}

// String literals of the Python tuples, lists or OrderedDicts assigned to names containing
// "first_name" or "last_name" in a Faker person provider (`last_names = ('Abad', ...)`,
// `last_names = OrderedDict((('Smith', 0.0217), ...))`).
template <typename F>
size_t ForEachFakerName(std::string_view src, F&& f) {
  size_t n = 0;
  for (size_t at = 0; at < src.size();) {
    const size_t eq = src.find('=', at);
    if (eq == std::string_view::npos) break;
    at = eq + 1;
    const size_t bol = src.rfind('\n', eq);
    const size_t from = bol == std::string_view::npos ? 0 : bol + 1;
    const std::string_view lhs = src.substr(from, eq - from);
    if (lhs.find("first_name") == std::string_view::npos &&
        lhs.find("last_name") == std::string_view::npos) {
      continue;
    }
    size_t pos = src.find_first_not_of(" \t", eq + 1);
    if (pos != std::string_view::npos && src.compare(pos, 12, "OrderedDict(") == 0) pos += 12;
    if (pos == std::string_view::npos || (src[pos] != '(' && src[pos] != '[')) continue;
    int depth = 0;
    for (; pos < src.size(); ++pos) {
      const char c = src[pos];
      if (c == '(' || c == '[') {
        ++depth;
      } else if (c == ')' || c == ']') {
        if (--depth == 0) break;
      } else if (c == '#') {
        pos = src.find('\n', pos);
        if (pos == std::string_view::npos) return n;
      } else if (c == '\'' || c == '"') {
        const size_t end = src.find(c, pos + 1);
        if (end == std::string_view::npos) return n;
        f(src.substr(pos + 1, end - pos - 1));
        ++n;
        pos = end;
      }
    }
    at = pos;
  }
  return n;
}

}  // namespace

namespace {

// Spanish spelling dictionary: "Abejorral/S" -> proper noun "Abejorral".
size_t AddSpellingDictionary(std::string_view bytes, WordGazetteer* g) {
  size_t words = 0, pos = bytes.find('\n');  // the first line is the entry count
  while (pos != std::string_view::npos && pos < bytes.size()) {
    const size_t end = std::min(bytes.find('\n', pos + 1), bytes.size());
    std::string_view line(bytes.data() + pos + 1, end - pos - 1);
    line = line.substr(0, line.find_first_of("/\t\r "));
    bool whole = !line.empty();
    ForEachNameWord(line, [&](std::string_view w) { whole = whole && w.size() == line.size(); });
    if (whole) {
      size_t n = 0;
      ForEachNameWord(line, [&](std::string_view w) {
        g->Add(w, kGazProperNoun);
        ++n;
      });
      words += n;
    }
    pos = end < bytes.size() ? end : std::string_view::npos;
  }
  return words;
}

// Country names (ISO 3166-1), translated with `catalog` where it has them.
Result<size_t> AddCountryNames(std::string_view bytes, const std::string& origin,
                               const std::map<std::string, std::string>& catalog,
                               WordGazetteer* g) {
  const auto j = nlohmann::json::parse(bytes, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("3166-1") || !j["3166-1"].is_array()) {
    return DataLossError(origin + ": no \"3166-1\" array");
  }
  size_t words = 0;
  for (const auto& c : j["3166-1"]) {
    for (const char* key : {"name", "common_name", "official_name"}) {
      if (!c.is_object() || !c.contains(key) || !c[key].is_string()) continue;
      const std::string english = c[key].get<std::string>();
      auto it = catalog.find(english);
      const std::string& spanish =
          it != catalog.end() && !it->second.empty() ? it->second : english;
      ForEachNameWord(spanish, [&](std::string_view w) {
        g->Add(w, kGazCountry);
        ++words;
      });
    }
  }
  return words;
}

// Country subdivisions (ISO 3166-2): departments, provinces, states, in their own languages.
Result<size_t> AddSubdivisionNames(std::string_view bytes, const std::string& origin,
                                   WordGazetteer* g) {
  const auto j = nlohmann::json::parse(bytes, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("3166-2") || !j["3166-2"].is_array()) {
    return DataLossError(origin + ": no \"3166-2\" array");
  }
  size_t words = 0;
  for (const auto& c : j["3166-2"]) {
    if (!c.is_object() || !c.contains("name") || !c["name"].is_string()) continue;
    ForEachNameWord(c["name"].get<std::string>(), [&](std::string_view w) {
      g->Add(w, kGazRegion);
      ++words;
    });
  }
  return words;
}

// Given names and surnames (a Faker person provider).
size_t AddPersonNames(std::string_view bytes, WordGazetteer* g) {
  size_t words = 0;
  ForEachFakerName(bytes, [&](std::string_view name) {
    ForEachNameWord(name, [&](std::string_view w) {
      g->Add(w, kGazPersonName);
      ++words;
    });
  });
  return words;
}

}  // namespace

Status AddWordLists(std::span<const WordList> lists, WordGazetteer* g,
                    std::vector<GazetteerSource>* used) {
  auto origin_of = [](const WordList& l) { return l.origin.empty() ? l.name : l.origin; };
  // Translations first, so that the result does not depend on the order of the lists.
  std::map<std::string, std::string> catalog;
  for (const WordList& l : lists) {
    if (l.kind != WordListKind::kCountryNameTranslations) continue;
    LOTE_ASSIGN_OR_RETURN(auto entries, ParseMoCatalog(l.bytes, origin_of(l)));
    catalog.merge(entries);  // the first catalog's translation wins
  }
  for (const WordList& l : lists) {
    size_t words = 0;
    switch (l.kind) {
      case WordListKind::kSpellingDictionary:
        words = AddSpellingDictionary(l.bytes, g);
        break;
      case WordListKind::kCountryNames: {
        LOTE_ASSIGN_OR_RETURN(words, AddCountryNames(l.bytes, origin_of(l), catalog, g));
        break;
      }
      case WordListKind::kCountryNameTranslations:
        break;  // parsed above; contributes no words of its own
      case WordListKind::kSubdivisionNames: {
        LOTE_ASSIGN_OR_RETURN(words, AddSubdivisionNames(l.bytes, origin_of(l), g));
        break;
      }
      case WordListKind::kPersonNames:
        words = AddPersonNames(l.bytes, g);
        break;
    }
    used->push_back({l.name, l.kind, Sha256Hex(l.bytes), words});
  }
  return Status::Ok();
}

}  // namespace lote::extract::internal

namespace lote::extract {

namespace {

constexpr std::pair<WordListKind, std::string_view> kKindNames[] = {
    {WordListKind::kSpellingDictionary, "spelling-dictionary"},
    {WordListKind::kCountryNames, "country-names"},
    {WordListKind::kCountryNameTranslations, "country-name-translations"},
    {WordListKind::kSubdivisionNames, "subdivision-names"},
    {WordListKind::kPersonNames, "person-names"},
};

}  // namespace

std::string_view WordListKindName(WordListKind kind) {
  for (const auto& [k, name] : kKindNames) {
    if (k == kind) return name;
  }
  return "unknown";
}

std::optional<WordListKind> ParseWordListKind(std::string_view name) {
  for (const auto& [k, n] : kKindNames) {
    if (n == name) return k;
  }
  return std::nullopt;
}

}  // namespace lote::extract
