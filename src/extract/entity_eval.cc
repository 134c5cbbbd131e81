#include "lote/extract/entity_eval.h"

#include <algorithm>
#include <cstdio>

namespace lote::extract {

ParsedTag ParseTag(std::string_view tag) {
  if (tag.size() >= 2 && tag[1] == '-') {
    switch (tag[0]) {
      case 'B':
      case 'I':
      case 'E':
      case 'S':
        return {tag[0], tag.substr(2)};
      case 'L':  // BILOU spelling of E- and S-
        return {'E', tag.substr(2)};
      case 'U':
        return {'S', tag.substr(2)};
      default:
        break;
    }
  }
  return {'O', {}};
}

std::vector<LabeledSpan> ChunkTags(const std::vector<std::string>& tags) {
  std::vector<LabeledSpan> out;
  bool open = false;
  LabeledSpan cur;
  auto close = [&](uint32_t end) {
    if (!open) return;
    cur.end = end;
    out.push_back(cur);
    open = false;
  };
  for (uint32_t i = 0; i < tags.size(); ++i) {
    const ParsedTag p = ParseTag(tags[i]);
    if (p.prefix == 'O') {
      close(i);
      continue;
    }
    // conlleval: B- (and S-) always start; I-/E- continue only an open entity of the same type.
    const bool start = p.prefix == 'B' || p.prefix == 'S' || !open || cur.type != p.type;
    if (start) {
      close(i);
      open = true;
      cur.type.assign(p.type);
      cur.start = i;
    }
    if (p.prefix == 'E' || p.prefix == 'S') close(i + 1);
  }
  close(static_cast<uint32_t>(tags.size()));
  return out;
}

std::vector<std::string> ToIob2(const std::vector<std::string>& tags) {
  std::vector<std::string> out(tags.size(), "O");
  for (const LabeledSpan& s : ChunkTags(tags)) {
    out[s.start] = "B-" + s.type;
    for (uint32_t i = s.start + 1; i < s.end; ++i) out[i] = "I-" + s.type;
  }
  return out;
}

void EntityEvaluator::AddSpans(const std::vector<LabeledSpan>& gold,
                               const std::vector<LabeledSpan>& predicted) {
  // Multiset intersection on sorted copies: each gold span matches at most one prediction.
  std::vector<LabeledSpan> g = gold, p = predicted;
  std::sort(g.begin(), g.end());
  std::sort(p.begin(), p.end());
  for (const auto& s : g) ++counts_[s.type].gold;
  for (const auto& s : p) ++counts_[s.type].predicted;
  size_t i = 0, j = 0;
  while (i < g.size() && j < p.size()) {
    if (g[i] < p[j]) {
      ++i;
    } else if (p[j] < g[i]) {
      ++j;
    } else {
      ++counts_[g[i].type].correct;
      ++i;
      ++j;
    }
  }
}

void EntityEvaluator::AddTags(const std::vector<std::string>& gold,
                              const std::vector<std::string>& predicted) {
  if (predicted.size() >= gold.size()) {
    // Predictions past the gold length have no gold token to align with: ignore them.
    std::vector<std::string> p(predicted.begin(), predicted.begin() + gold.size());
    AddSpans(ChunkTags(gold), ChunkTags(p));
  } else {
    std::vector<std::string> p = predicted;
    p.resize(gold.size(), "O");
    AddSpans(ChunkTags(gold), ChunkTags(p));
  }
}

void EntityEvaluator::Merge(const EntityEvaluator& other) {
  for (const auto& [type, c] : other.counts_) {
    Counts& mine = counts_[type];
    mine.gold += c.gold;
    mine.predicted += c.predicted;
    mine.correct += c.correct;
  }
}

namespace {

EntityScores Score(size_t gold, size_t predicted, size_t correct) {
  EntityScores s;
  s.gold = gold;
  s.predicted = predicted;
  s.correct = correct;
  s.precision = predicted ? static_cast<double>(correct) / predicted : 0.0;
  s.recall = gold ? static_cast<double>(correct) / gold : 0.0;
  s.f1 = s.precision + s.recall > 0 ? 2 * s.precision * s.recall / (s.precision + s.recall) : 0;
  return s;
}

}  // namespace

EntityEvalReport EntityEvaluator::Report() const {
  EntityEvalReport r;
  size_t gold = 0, predicted = 0, correct = 0;
  for (const auto& [type, c] : counts_) {
    if (c.gold == 0) {
      r.ignored_predictions += c.predicted;
      continue;
    }
    r.per_type[type] = Score(c.gold, c.predicted, c.correct);
    gold += c.gold;
    predicted += c.predicted;
    correct += c.correct;
  }
  r.micro = Score(gold, predicted, correct);
  return r;
}

std::string EntityEvalReport::ToString() const {
  std::string out;
  char line[256];
  auto row = [&](const std::string& name, const EntityScores& s) {
    std::snprintf(line, sizeof(line), "%-36s P %6.2f  R %6.2f  F1 %6.2f  gold %6zu  pred %6zu\n",
                  name.c_str(), 100 * s.precision, 100 * s.recall, 100 * s.f1, s.gold, s.predicted);
    out += line;
  };
  row("ALL (micro)", micro);
  for (const auto& [type, s] : per_type) row(type, s);
  if (ignored_predictions) {
    out += "ignored predictions of types absent from gold: " + std::to_string(ignored_predictions) +
           "\n";
  }
  return out;
}

}  // namespace lote::extract
