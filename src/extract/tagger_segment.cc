// Raw text -> tagger tokens and sentences; BRAT spans -> IOB2 sentences.
#include <algorithm>
#include <map>

#include "lote/extract/tagger.h"
#include "lote/text/utf8.h"
#include "tagger_features.h"

namespace lote::extract {

namespace {

enum class Cls : uint8_t { kLetter, kDigit, kOther };

Cls ClassOf(char32_t cp) {
  if (cp < 0x80) {
    if ((cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z')) return Cls::kLetter;
    if (cp >= '0' && cp <= '9') return Cls::kDigit;
    return Cls::kOther;
  }
  // Non-ASCII: letters (accented, ñ, º, ª) are by far the common case in es/en text; digits
  // outside ASCII are rare enough to read as letters here (this only steers sub-splitting).
  if (cp >= 0x2000 && cp < 0x2070) return Cls::kOther;  // general punctuation
  return Cls::kLetter;
}

bool IsSentenceEnd(std::string_view tok) { return tok == "." || tok == "!" || tok == "?"; }

// "Dr", "Sra", "H": a short capitalised word right before a period is read as an abbreviation.
bool LooksLikeAbbreviation(std::string_view tok) {
  if (tok.empty() || tok.size() > 4) return false;
  if (!(tok[0] >= 'A' && tok[0] <= 'Z')) return false;
  for (char c : tok) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) return false;
  }
  return true;
}

}  // namespace

void SegmentText(std::string_view text, const text::Tokenizer& tokenizer,
                 std::span<const uint32_t> split_points,
                 std::span<const std::pair<uint32_t, uint32_t>> protected_ranges,
                 SegmentedText* out) {
  out->tokens.clear();
  out->sentence_starts.clear();
  out->forced_splits = 0;
  tokenizer.Tokenize(text, &out->scratch);

  size_t byte_pos = 0;
  uint32_t cp_pos = 0;
  auto advance_to = [&](size_t b) {
    for (; byte_pos < b; ++byte_pos) {
      if ((static_cast<unsigned char>(text[byte_pos]) & 0xC0) != 0x80) ++cp_pos;
    }
  };
  size_t split_idx = 0;
  for (const text::Token& tok : out->scratch) {
    advance_to(tok.begin);
    const uint32_t cp_begin = cp_pos;
    const bool subsplit = tok.kind == text::TokenKind::kWord;
    while (split_idx < split_points.size() && split_points[split_idx] <= cp_begin) ++split_idx;
    // Walk the token's code points, cutting where classes change (words only) or where a
    // split point falls.
    size_t piece_begin = tok.begin;
    uint32_t piece_cp_begin = cp_begin;
    size_t pos = tok.begin;
    uint32_t cp = cp_begin;
    Cls prev = Cls::kOther;
    bool first = true;
    while (pos < tok.end) {
      const size_t at = pos;
      const char32_t c = text::DecodeUtf8(text, &pos);
      const Cls cls = ClassOf(c);
      bool cut = false;
      if (!first) {
        if (subsplit && cls != prev) cut = true;
        if (split_idx < split_points.size() && split_points[split_idx] == cp) {
          if (!cut) ++out->forced_splits;
          cut = true;
        }
      }
      while (split_idx < split_points.size() && split_points[split_idx] <= cp) ++split_idx;
      if (cut) {
        out->tokens.push_back(
            {static_cast<uint32_t>(piece_begin), static_cast<uint32_t>(at), piece_cp_begin, cp});
        piece_begin = at;
        piece_cp_begin = cp;
      }
      prev = cls;
      first = false;
      ++cp;
    }
    out->tokens.push_back({static_cast<uint32_t>(piece_begin), tok.end, piece_cp_begin, cp});
    byte_pos = tok.end;
    cp_pos = cp;
  }

  // Sentence boundaries.
  const auto& toks = out->tokens;
  if (toks.empty()) return;
  out->sentence_starts.push_back(0);
  size_t range_idx = 0;
  for (size_t j = 1; j < toks.size(); ++j) {
    const TextToken& a = toks[j - 1];
    const TextToken& b = toks[j];
    const std::string_view gap = text.substr(a.end, b.begin - a.end);
    bool boundary = gap.find_first_of("\n\r") != std::string_view::npos;
    if (!boundary && !gap.empty() && IsSentenceEnd(text.substr(a.begin, a.end - a.begin))) {
      boundary = true;
      if (j >= 2 && toks[j - 2].end == a.begin &&
          LooksLikeAbbreviation(
              text.substr(toks[j - 2].begin, toks[j - 2].end - toks[j - 2].begin))) {
        boundary = false;
      }
    }
    if (boundary) {
      while (range_idx < protected_ranges.size() &&
             protected_ranges[range_idx].second <= b.cp_begin) {
        ++range_idx;
      }
      for (size_t r = range_idx; r < protected_ranges.size(); ++r) {
        if (protected_ranges[r].first >= b.cp_begin) break;
        if (protected_ranges[r].first < b.cp_begin && b.cp_begin < protected_ranges[r].second) {
          boundary = false;
          break;
        }
      }
    }
    if (boundary) out->sentence_starts.push_back(static_cast<uint32_t>(j));
  }
}

TaggedSequence FromConll(const io::TaggedSentence& sentence) {
  TaggedSequence s;
  s.tokens = sentence.tokens;
  s.tags = ToIob2(sentence.tags);
  return s;
}

namespace {

// Valid annotations of a document, overlaps resolved (longest kept; ties: earliest), sorted by
// start. Returns the count of dropped overlaps and empty/out-of-range annotations.
std::vector<const io::BratAnnotation*> KeptAnnotations(const io::BratDocument& doc,
                                                       uint32_t text_cps, size_t* overlaps,
                                                       size_t* invalid) {
  std::vector<const io::BratAnnotation*> cands;
  for (const auto& a : doc.annotations) {
    if (a.start >= a.end || a.end > text_cps) {
      ++*invalid;
      continue;
    }
    cands.push_back(&a);
  }
  std::stable_sort(cands.begin(), cands.end(), [](const auto* x, const auto* y) {
    const uint32_t lx = x->end - x->start, ly = y->end - y->start;
    if (lx != ly) return lx > ly;
    return x->start < y->start;
  });
  std::map<uint32_t, uint32_t> taken;  // start -> end of accepted spans
  std::vector<const io::BratAnnotation*> kept;
  for (const auto* a : cands) {
    auto it = taken.lower_bound(a->end);  // first accepted span starting at/after our end
    bool overlap = false;
    if (it != taken.begin()) {
      --it;  // the accepted span starting before our end: overlaps when it ends after our start
      if (it->second > a->start) overlap = true;
    }
    if (overlap) {
      ++*overlaps;
      continue;
    }
    taken[a->start] = a->end;
    kept.push_back(a);
  }
  std::sort(kept.begin(), kept.end(), [](const auto* x, const auto* y) {
    return x->start != y->start ? x->start < y->start : x->end < y->end;
  });
  return kept;
}

}  // namespace

void ProjectBratDocument(const io::BratDocument& doc, const text::Tokenizer& tokenizer,
                         std::vector<TaggedSequence>* out, BratProjectionStats* stats,
                         std::vector<std::string>* warnings) {
  const uint32_t text_cps = static_cast<uint32_t>(text::CodePointCount(doc.text));
  size_t overlaps = 0, invalid = 0;
  const auto kept = KeptAnnotations(doc, text_cps, &overlaps, &invalid);
  if (overlaps && warnings) {
    warnings->push_back(doc.name + ": " + std::to_string(overlaps) +
                        " overlapping annotation(s) dropped (the longest was kept)");
  }
  std::vector<uint32_t> splits;
  std::vector<std::pair<uint32_t, uint32_t>> ranges;
  for (const auto* a : kept) {
    splits.push_back(a->start);
    splits.push_back(a->end);
    ranges.emplace_back(a->start, a->end);
  }
  std::sort(splits.begin(), splits.end());
  splits.erase(std::unique(splits.begin(), splits.end()), splits.end());

  SegmentedText seg;
  SegmentText(doc.text, tokenizer, splits, ranges, &seg);

  // Tag every token: tokens never straddle an annotation boundary after the forced splits.
  std::vector<int> owner(seg.tokens.size(), -1);
  size_t entities = 0;
  {
    size_t t = 0;
    for (size_t k = 0; k < kept.size(); ++k) {
      while (t < seg.tokens.size() && seg.tokens[t].cp_end <= kept[k]->start) ++t;
      size_t covered = 0;
      for (size_t u = t; u < seg.tokens.size() && seg.tokens[u].cp_begin < kept[k]->end; ++u) {
        if (seg.tokens[u].cp_begin >= kept[k]->start && seg.tokens[u].cp_end <= kept[k]->end) {
          owner[u] = static_cast<int>(k);
          ++covered;
        }
      }
      if (covered) {
        ++entities;
      } else {
        ++invalid;
      }
    }
  }
  if (invalid && warnings) {
    warnings->push_back(doc.name + ": " + std::to_string(invalid) +
                        " annotation(s) cover no token and were dropped");
  }

  const size_t n_sent = seg.sentence_starts.size();
  for (size_t s = 0; s < n_sent; ++s) {
    const size_t b = seg.sentence_starts[s];
    const size_t e = s + 1 < n_sent ? seg.sentence_starts[s + 1] : seg.tokens.size();
    TaggedSequence seq;
    for (size_t u = b; u < e; ++u) {
      const TextToken& tok = seg.tokens[u];
      seq.tokens.emplace_back(doc.text.substr(tok.begin, tok.end - tok.begin));
      seq.starts.push_back(tok.cp_begin);
      seq.ends.push_back(tok.cp_end);
      if (owner[u] < 0) {
        seq.tags.emplace_back("O");
      } else {
        const bool inside = u > b && owner[u - 1] == owner[u];
        seq.tags.push_back((inside ? "I-" : "B-") + kept[owner[u]]->type);
      }
    }
    if (stats) stats->tokens += seq.tokens.size();
    out->push_back(std::move(seq));
  }
  if (stats) {
    ++stats->documents;
    stats->sentences += n_sent;
    stats->entities += entities;
    stats->overlaps_dropped += overlaps;
    stats->empty_dropped += invalid;
    stats->boundary_splits += seg.forced_splits;
  }
}

std::vector<LabeledSpan> BratGoldSpans(const io::BratDocument& doc) {
  std::vector<LabeledSpan> out;
  out.reserve(doc.annotations.size());
  for (const auto& a : doc.annotations) out.push_back({a.type, a.start, a.end});
  return out;
}

}  // namespace lote::extract
