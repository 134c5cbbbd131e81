#include <algorithm>
#include <charconv>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "io/text_checks.h"
#include "lote/io/records.h"
#include "lote/text/utf8.h"

namespace lote::io {

namespace {

bool ParseOffset(std::string_view s, uint32_t* out) {
  if (s.empty()) return false;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

// BRAT writes a newline inside an annotated span as a space in the .ann.
std::string AsWrittenInAnn(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  return out;
}

struct Fragment {
  uint32_t start;
  uint32_t end;
};

}  // namespace

Result<BratDocument> ParseBratDocument(std::string name, std::string text, std::string_view ann,
                                       std::string_view ann_name,
                                       std::vector<std::string>* warnings) {
  std::string problem = internal::TextProblem(text);
  if (!problem.empty()) return InvalidArgumentError(name + ": text: " + problem);
  if (text.size() >= std::numeric_limits<uint32_t>::max()) {
    return InvalidArgumentError(name + ": text longer than 4 GiB");
  }
  // Byte offset of every code point, plus the end: BRAT offsets count code points.
  const std::vector<uint32_t> cp_bytes = lote::text::CodePointOffsets(text);
  const auto cp_count = static_cast<uint32_t>(cp_bytes.size() - 1);
  auto slice = [&](uint32_t start, uint32_t end) {
    return std::string_view(text).substr(cp_bytes[start], cp_bytes[end] - cp_bytes[start]);
  };

  BratDocument doc;
  uint64_t lineno = 0;
  size_t pos = 0;
  std::vector<Fragment> fragments;
  while (pos < ann.size()) {
    size_t nl = ann.find('\n', pos);
    if (nl == std::string_view::npos) nl = ann.size();
    std::string_view line = ann.substr(pos, nl - pos);
    pos = nl + 1;
    ++lineno;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line[0] != 'T') continue;  // relations, events, notes: not used
    auto error = [&](std::string_view reason) {
      return internal::RecordError(ann_name, lineno, reason);
    };
    problem = internal::TextProblem(line);
    if (!problem.empty()) return error(problem);
    size_t tab1 = line.find('\t');
    size_t tab2 = tab1 == std::string_view::npos ? tab1 : line.find('\t', tab1 + 1);
    if (tab2 == std::string_view::npos) {
      return error("malformed text-bound annotation (expected ID<TAB>TYPE START END<TAB>TEXT)");
    }
    std::string_view id = line.substr(0, tab1);
    std::string_view middle = line.substr(tab1 + 1, tab2 - tab1 - 1);
    std::string_view ann_text = line.substr(tab2 + 1);
    size_t space = middle.find(' ');
    if (space == 0 || space == std::string_view::npos) {
      return error("annotation " + lote::text::Excerpt(id, 20) + " has no type or no span");
    }
    std::string_view type = middle.substr(0, space);
    std::string_view spans = middle.substr(space + 1);
    fragments.clear();
    size_t s = 0;
    while (s <= spans.size()) {
      size_t semi = spans.find(';', s);
      if (semi == std::string_view::npos) semi = spans.size();
      std::string_view frag = spans.substr(s, semi - s);
      s = semi + 1;
      size_t sp = frag.find(' ');
      Fragment f{};
      if (sp == std::string_view::npos || !ParseOffset(frag.substr(0, sp), &f.start) ||
          !ParseOffset(frag.substr(sp + 1), &f.end)) {
        return error("bad span '" + lote::text::Excerpt(frag, 30) + "' (expected START END)");
      }
      if (f.start >= f.end) {
        return error("empty or reversed span " + std::to_string(f.start) + "-" +
                     std::to_string(f.end));
      }
      if (f.end > cp_count) {
        return error("span " + std::to_string(f.start) + "-" + std::to_string(f.end) +
                     " out of range: " + name + " has " + std::to_string(cp_count) + " characters");
      }
      fragments.push_back(f);
    }
    std::string expected;
    for (size_t k = 0; k < fragments.size(); ++k) {
      if (k > 0) expected.push_back(' ');
      expected += AsWrittenInAnn(slice(fragments[k].start, fragments[k].end));
    }
    if (expected != ann_text) {
      return error("annotation " + lote::text::Excerpt(id, 20) + " text '" +
                   lote::text::Excerpt(ann_text) + "' differs from the document's '" +
                   lote::text::Excerpt(expected) + "' at " + std::to_string(fragments[0].start) +
                   "-" + std::to_string(fragments.back().end));
    }
    BratAnnotation a;
    a.id = std::string(id);
    a.type = std::string(type);
    a.start = fragments[0].start;
    a.end = fragments[0].end;
    for (const Fragment& f : fragments) {
      a.start = std::min(a.start, f.start);
      a.end = std::max(a.end, f.end);
    }
    if (fragments.size() > 1 && warnings != nullptr) {
      warnings->push_back(std::string(ann_name) + ":" + std::to_string(lineno) +
                          ": discontinuous annotation " + a.id + " read as its hull " +
                          std::to_string(a.start) + "-" + std::to_string(a.end));
    }
    a.text = std::string(ann_text);
    doc.annotations.push_back(std::move(a));
  }
  std::stable_sort(doc.annotations.begin(), doc.annotations.end(),
                   [](const BratAnnotation& x, const BratAnnotation& y) {
                     return x.start != y.start ? x.start < y.start : x.end < y.end;
                   });
  doc.name = std::move(name);
  doc.text = std::move(text);
  return doc;
}

}  // namespace lote::io
