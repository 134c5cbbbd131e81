// The tagger's training: one averaged structured perceptron (TrainOne, in the steps below) and
// the two-pass model built from several of them (EntityTagger::Train).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>

#include "lote/base/clock.h"
#include "lote/base/digest.h"
#include "lote/extract/tagger.h"
#include "lote/text/utf8.h"
#include "tagger_features.h"
#include "tagger_gazetteer.h"
#include "tagger_model.h"

namespace lote::extract {

namespace {

using internal::TaggerBuffers;
using internal::TaggerModel;

constexpr int kQuantMax = 32767;
constexpr size_t kLexiconFolds = 10;

uint64_t SplitMix64(uint64_t* state) {
  uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// A sentence with its features resolved to weight rows.
struct Prepared {
  std::vector<uint32_t> offsets;  // n + 1 offsets into rows
  std::vector<uint32_t> rows;
  std::vector<uint16_t> gold;  // empty for dev sentences
};

Status ValidateTags(const TaggedSequence& s, size_t index, const char* what) {
  if (s.tags.size() != s.tokens.size()) {
    return InvalidArgumentError(std::string(what) + " sentence " + std::to_string(index) + ": " +
                                std::to_string(s.tokens.size()) + " tokens but " +
                                std::to_string(s.tags.size()) + " tags");
  }
  std::string_view prev_type;
  bool prev_open = false;
  for (size_t i = 0; i < s.tags.size(); ++i) {
    const ParsedTag p = ParseTag(s.tags[i]);
    const bool is_o = s.tags[i] == "O";
    if (!is_o && p.prefix != 'B' && p.prefix != 'I') {
      return InvalidArgumentError(std::string(what) + " sentence " + std::to_string(index) +
                                  ": tag " + text::Excerpt(s.tags[i], 20) +
                                  " is not O, B-X or I-X (convert with ToIob2)");
    }
    if (p.prefix == 'I' && (!prev_open || prev_type != p.type)) {
      return InvalidArgumentError(std::string(what) + " sentence " + std::to_string(index) +
                                  ": I- tag at token " + std::to_string(i) +
                                  " does not continue an entity (IOB2 expected; see ToIob2)");
    }
    prev_open = !is_o;
    prev_type = p.type;
  }
  return Status::Ok();
}

// The gazetteer, built once per Train for every model it trains, and the lists it came from.
struct WordLists {
  internal::WordGazetteer gazetteer;
  std::vector<internal::GazetteerSource> used;
};

// First-pass tags of the second pass's training sentences (ids in the model's tag space).
struct DocInput {
  std::vector<std::vector<uint16_t>> tags1;
  uint32_t window = 0;
};

using TagIds = std::map<std::string, uint16_t, std::less<>>;

TagIds TagIdsOf(const TaggerModel& m) {
  TagIds tag_id;
  for (size_t t = 0; t < m.T(); ++t) tag_id[m.tags[t]] = static_cast<uint16_t>(t);
  return tag_id;
}

Status ValidateTrainingData(const std::vector<TaggedSequence>& train,
                            const std::vector<TaggedSequence>& dev,
                            const TaggerTrainOptions& options) {
  for (size_t i = 0; i < train.size(); ++i)
    LOTE_RETURN_IF_ERROR(ValidateTags(train[i], i, "train"));
  for (size_t i = 0; i < dev.size(); ++i) LOTE_RETURN_IF_ERROR(ValidateTags(dev[i], i, "dev"));
  if (options.epochs < 1 || options.max_epochs < 1) {
    return InvalidArgumentError("tagger: epochs must be at least 1");
  }
  return Status::Ok();
}

// Tags O, then B-X and I-X for every entity type of the training data, sorted by type.
Status SetTagsFromData(const std::vector<TaggedSequence>& train, TaggerModel* m) {
  std::vector<std::string> types;
  for (const auto& s : train) {
    for (const auto& t : s.tags) {
      if (t != "O") types.emplace_back(ParseTag(t).type);
    }
  }
  std::sort(types.begin(), types.end());
  types.erase(std::unique(types.begin(), types.end()), types.end());
  if (types.size() * 2 + 1 > 255) return InvalidArgumentError("tagger: more than 127 entity types");
  std::vector<std::string> names = {"O"};
  for (const auto& t : types) {
    names.push_back("B-" + t);
    names.push_back("I-" + t);
  }
  return m->SetTags(std::move(names));
}

// Counts the capitalisation lexicon (from the training text only) into m->lexicon and returns
// the data fingerprint (SHA-256 over tokens and tags).
std::string CountTrainingText(const std::vector<TaggedSequence>& train, TaggerModel* m,
                              size_t* tokens) {
  Sha256 sha;
  std::string scratch;
  *tokens = 0;
  for (const auto& s : train) {
    m->lexicon.Count(s.tokens, &scratch);
    *tokens += s.tokens.size();
    for (size_t i = 0; i < s.tokens.size(); ++i) {
      sha.Update(s.tokens[i]);
      sha.Update("\t", 1);
      sha.Update(s.tags[i]);
      sha.Update("\n", 1);
    }
    sha.Update("\n", 1);
  }
  m->lexicon.Finish();
  return sha.FinalHex();
}

// Analyses training sentences into b->infos with the model's word tables.
class SentenceAnalyzer {
 public:
  SentenceAnalyzer(const TaggerModel& m, TaggerBuffers* b) : fx_(&m.lexicon, &m.gazetteer), b_(b) {}
  // b->infos[0..n) for the n tokens of `s`, with the matches of `entities` (may be null).
  void Analyze(const TaggedSequence& s, const internal::EntityLexicon* entities) {
    b_->infos.resize(s.tokens.size());
    for (size_t i = 0; i < s.tokens.size(); ++i) {
      fx_.Analyze(s.tokens[i], &b_->infos[i], &scratch_);
    }
    fx_.AnalyzeSentence(b_->infos.data(), s.tokens.size(), entities);
  }
  // Feature keys of token i of the last analysed sentence of n tokens.
  int Features(size_t n, size_t i, uint64_t* keys) const {
    return fx_.Features(b_->infos.data(), n, i, keys);
  }

 private:
  internal::FeatureExtractor fx_;
  TaggerBuffers* b_;
  std::string scratch_;
};

// Entity lexicon: the model keeps one built from all training entities (m->entities); each
// training sentence sees one built without its own fold (jackknife, returned: sentence si uses
// fold si % kLexiconFolds), or the weights would learn to trust a lexicon that always contains
// the answer.
std::vector<internal::EntityLexicon> BuildEntityLexicons(const std::vector<TaggedSequence>& train,
                                                         SentenceAnalyzer* analyzer,
                                                         const TaggerBuffers& b, TaggerModel* m) {
  std::vector<internal::EntityLexicon> folds(kLexiconFolds);
  std::vector<uint64_t> forms;
  for (size_t si = 0; si < train.size(); ++si) {
    const auto& s = train[si];
    analyzer->Analyze(s, nullptr);
    for (const LabeledSpan& e : ChunkTags(s.tags)) {
      const auto type = static_cast<uint8_t>(
          std::lower_bound(m->types.begin(), m->types.end(), e.type) - m->types.begin());
      forms.clear();
      for (uint32_t i = e.start; i < e.end; ++i) forms.push_back(b.infos[i].form);
      m->entities.Add(forms.data(), forms.size(), type);
      for (size_t f = 0; f < folds.size(); ++f) {
        if (f != si % kLexiconFolds) folds[f].Add(forms.data(), forms.size(), type);
      }
    }
  }
  m->entities.Finish();
  for (auto& f : folds) f.Finish();
  return folds;
}

// Second pass: the document keys of every training sentence, from the jackknifed first-pass
// tags; keys of token i of sentence s are keys[s][off[s][i] .. off[s][i + 1]).
struct DocKeys {
  std::vector<std::vector<uint64_t>> keys;
  std::vector<std::vector<uint32_t>> off;
};

Result<DocKeys> SecondPassKeys(const std::vector<TaggedSequence>& train, const DocInput& doc,
                               const TaggerModel& m, SentenceAnalyzer* analyzer, TaggerBuffers* b) {
  if (doc.tags1.size() != train.size()) return InvalidArgumentError("tagger: doc tags size");
  std::vector<uint32_t> sent_off = {0}, flags;
  std::vector<internal::DocToken> dtoks;
  std::vector<uint16_t> tags1;
  for (size_t si = 0; si < train.size(); ++si) {
    const auto& s = train[si];
    if (doc.tags1[si].size() != s.tokens.size())
      return InvalidArgumentError("tagger: doc tags size");
    analyzer->Analyze(s, nullptr);
    for (size_t i = 0; i < s.tokens.size(); ++i) {
      const uint16_t y = doc.tags1[si][i];
      dtoks.push_back(
          internal::MakeDocToken(b->infos[i], static_cast<uint32_t>(i),
                                 y == 0 ? 0 : static_cast<uint16_t>(1 + m.tag_type[y])));
      flags.push_back(b->infos[i].flags);
      tags1.push_back(y);
    }
    sent_off.push_back(static_cast<uint32_t>(dtoks.size()));
  }
  DocKeys out;
  out.keys.resize(train.size());
  out.off.resize(train.size());
  internal::ForEachDocSentence(
      dtoks, flags, tags1.data(), sent_off, m.T(), m.types.size() + 1, doc.window, &b->window,
      &b->dkeys, &b->doff, [](size_t) {},
      [&](size_t s) {
        out.keys[s] = b->dkeys;
        out.off[s] = b->doff;
      });
  return out;
}

// The training sentences with their feature keys numbered as rows in order of first occurrence
// (deterministic), rows seen fewer than `min_count` times dropped and the rest renumbered.
struct TrainingRows {
  std::vector<Prepared> sentences;
  std::vector<uint64_t> keys;  // key of each row
};

// Drops the rows of `all` counted fewer than `min_count` times from `prepared`, renumbering the
// survivors; returns their keys.
std::vector<uint64_t> PruneRareFeatures(const internal::FeatureIndex& all,
                                        const std::vector<uint32_t>& counts, int min_count,
                                        std::vector<Prepared>* prepared) {
  std::vector<uint64_t> kept_keys;
  std::vector<uint32_t> remap(all.size(), internal::FeatureIndex::kMissing);
  for (size_t r = 0; r < all.size(); ++r) {
    if (counts[r] >= static_cast<uint32_t>(std::max(1, min_count))) {
      remap[r] = static_cast<uint32_t>(kept_keys.size());
      kept_keys.push_back(all.keys()[r]);
    }
  }
  for (auto& p : *prepared) {
    std::vector<uint32_t> rows, offsets = {0};
    for (size_t i = 0; i + 1 < p.offsets.size(); ++i) {
      for (uint32_t k = p.offsets[i]; k < p.offsets[i + 1]; ++k) {
        if (remap[p.rows[k]] != internal::FeatureIndex::kMissing) rows.push_back(remap[p.rows[k]]);
      }
      offsets.push_back(static_cast<uint32_t>(rows.size()));
    }
    p.rows = std::move(rows);
    p.offsets = std::move(offsets);
  }
  return kept_keys;
}

TrainingRows PrepareTrainingRows(const std::vector<TaggedSequence>& train,
                                 const std::vector<internal::EntityLexicon>& folds,
                                 const DocKeys* doc, const TagIds& tag_id, int min_count,
                                 SentenceAnalyzer* analyzer) {
  std::vector<uint64_t> keybuf(internal::kMaxFeatures + internal::kMaxDocFeatures);
  internal::FeatureIndex all;
  std::vector<uint32_t> counts;
  TrainingRows out;
  out.sentences.resize(train.size());
  for (size_t si = 0; si < train.size(); ++si) {
    const auto& s = train[si];
    analyzer->Analyze(s, &folds[si % kLexiconFolds]);
    Prepared& p = out.sentences[si];
    p.offsets.push_back(0);
    for (size_t i = 0; i < s.tokens.size(); ++i) {
      int k = analyzer->Features(s.tokens.size(), i, keybuf.data());
      if (doc) {
        for (uint32_t j = doc->off[si][i]; j < doc->off[si][i + 1]; ++j)
          keybuf[k++] = doc->keys[si][j];
      }
      for (int j = 0; j < k; ++j) {
        const uint32_t r = all.FindOrInsert(keybuf[j]);
        if (r >= counts.size()) counts.push_back(0);
        ++counts[r];
        p.rows.push_back(r);
      }
      p.offsets.push_back(static_cast<uint32_t>(p.rows.size()));
      p.gold.push_back(tag_id.find(s.tags[i])->second);
    }
  }
  out.keys = PruneRareFeatures(all, counts, min_count, &out.sentences);
  return out;
}

// Dev sentences with their keys resolved to the rows of m->index (unknown keys dropped).
std::vector<Prepared> PrepareDevRows(const std::vector<TaggedSequence>& dev, const TaggerModel& m,
                                     SentenceAnalyzer* analyzer) {
  std::vector<uint64_t> keybuf(internal::kMaxFeatures + internal::kMaxDocFeatures);
  std::vector<Prepared> out(dev.size());
  for (size_t si = 0; si < dev.size(); ++si) {
    analyzer->Analyze(dev[si], &m.entities);
    Prepared& p = out[si];
    p.offsets.push_back(0);
    for (size_t i = 0; i < dev[si].tokens.size(); ++i) {
      const int k = analyzer->Features(dev[si].tokens.size(), i, keybuf.data());
      for (int j = 0; j < k; ++j) {
        const uint32_t r = m.index.Find(keybuf[j]);
        if (r != internal::FeatureIndex::kMissing) p.rows.push_back(r);
      }
      p.offsets.push_back(static_cast<uint32_t>(p.rows.size()));
    }
  }
  return out;
}

// Averaged structured perceptron (Collins 2002) with the lazy-averaging trick (Daume):
// w accumulates updates, u accumulates c * update, the average is w - u / c.
class AveragedPerceptron {
 public:
  AveragedPerceptron(const TaggerModel& m, size_t rows, TaggerBuffers* b)
      : m_(m),
        nt_(m.T()),
        b_(b),
        w_(rows * nt_, 0.0f),
        u_(rows * nt_, 0.0f),
        tw_((nt_ + 1) * nt_, 0.0f),
        tu_((nt_ + 1) * nt_, 0.0f),
        tmask_((nt_ + 1) * nt_) {}

  // Decodes one training sentence with the current weights and updates them where the best
  // path differs from the gold tags.
  void Learn(const Prepared& p) {
    const size_t n = p.gold.size();
    if (n == 0) return;
    m_.MaskTransitions(tw_, &tmask_);
    Emissions(p, w_, n);
    m_.Decode(n, b_->emis.data(), tmask_.data(), b_, false);
    const float cf = static_cast<float>(c_);
    uint16_t prev_g = static_cast<uint16_t>(nt_), prev_p = static_cast<uint16_t>(nt_);
    for (size_t i = 0; i < n; ++i) {
      const uint16_t g = p.gold[i], y = b_->path[i];
      if (g != y) {
        for (uint32_t k = p.offsets[i]; k < p.offsets[i + 1]; ++k) {
          const size_t base = static_cast<size_t>(p.rows[k]) * nt_;
          w_[base + g] += 1;
          u_[base + g] += cf;
          w_[base + y] -= 1;
          u_[base + y] -= cf;
        }
      }
      if (g != y || prev_g != prev_p) {
        tw_[prev_g * nt_ + g] += 1;
        tu_[prev_g * nt_ + g] += cf;
        tw_[prev_p * nt_ + y] -= 1;
        tu_[prev_p * nt_ + y] -= cf;
      }
      prev_g = g;
      prev_p = y;
    }
    c_ += 1;
  }

  // The averaged weights and transitions so far into avg() / avg_trans().
  void Average() {
    avg_.resize(w_.size());
    avg_trans_.resize(tw_.size());
    const float inv = static_cast<float>(1.0 / c_);
    for (size_t i = 0; i < w_.size(); ++i) avg_[i] = w_[i] - u_[i] * inv;
    for (size_t i = 0; i < tw_.size(); ++i) avg_trans_[i] = tw_[i] - tu_[i] * inv;
  }

  // Entity F1 of the averaged weights (Average) on dev.
  double DevF1(const std::vector<TaggedSequence>& dev, const std::vector<Prepared>& dev_rows) {
    m_.MaskTransitions(avg_trans_, &tmask_);
    EntityEvaluator ev;
    std::vector<std::string> pred;
    for (size_t si = 0; si < dev.size(); ++si) {
      const size_t n = dev[si].tokens.size();
      Emissions(dev_rows[si], avg_, n);
      m_.Decode(n, b_->emis.data(), tmask_.data(), b_, false);
      pred.clear();
      for (size_t i = 0; i < n; ++i) pred.push_back(m_.tags[b_->path[i]]);
      ev.AddTags(dev[si].tags, pred);
    }
    return ev.Report().micro.f1;
  }

  std::vector<float>& avg() { return avg_; }
  std::vector<float>& avg_trans() { return avg_trans_; }
  // Frees the running sums (the averages stay).
  void ReleaseSums() {
    w_ = {};
    u_ = {};
  }

 private:
  void Emissions(const Prepared& p, const std::vector<float>& weights, size_t n) {
    b_->emis.assign(n * nt_, 0.0f);
    for (size_t i = 0; i < n; ++i) {
      float* e = b_->emis.data() + i * nt_;
      for (uint32_t k = p.offsets[i]; k < p.offsets[i + 1]; ++k) {
        const float* row = weights.data() + static_cast<size_t>(p.rows[k]) * nt_;
        for (size_t t = 0; t < nt_; ++t) e[t] += row[t];
      }
    }
  }

  const TaggerModel& m_;
  const size_t nt_;
  TaggerBuffers* b_;
  std::vector<float> w_, u_, tw_, tu_, tmask_;
  std::vector<float> avg_, avg_trans_;
  double c_ = 1;
};

// The averaged weights kept: of the last epoch without dev, of the best dev epoch with it.
struct PerceptronResult {
  std::vector<float> weights;  // rows x T
  std::vector<float> trans;
  int epochs = 0;
  double dev_f1 = -1;
  std::vector<double> dev_f1_per_epoch;
};

PerceptronResult RunEpochs(const std::vector<Prepared>& train_rows,
                           const std::vector<TaggedSequence>& dev,
                           const std::vector<Prepared>& dev_rows, const TaggerTrainOptions& options,
                           const TaggerModel& m, size_t rows, TaggerBuffers* b) {
  AveragedPerceptron perceptron(m, rows, b);
  std::vector<uint32_t> order(train_rows.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<uint32_t>(i);
  uint64_t rng = options.seed;
  const int max_epochs = dev.empty() ? options.epochs : options.max_epochs;
  PerceptronResult best;
  int since_best = 0;
  for (int epoch = 1; epoch <= max_epochs; ++epoch) {
    for (size_t i = order.size(); i > 1; --i) {
      const size_t j = static_cast<size_t>(SplitMix64(&rng) % i);
      std::swap(order[i - 1], order[j]);
    }
    for (uint32_t si : order) perceptron.Learn(train_rows[si]);
    if (dev.empty()) continue;
    perceptron.Average();
    const double f1 = perceptron.DevF1(dev, dev_rows);
    best.dev_f1_per_epoch.push_back(f1);
    if (f1 > best.dev_f1) {
      best.dev_f1 = f1;
      best.epochs = epoch;
      best.weights = perceptron.avg();
      best.trans = perceptron.avg_trans();
      since_best = 0;
    } else if (options.patience > 0 && ++since_best >= options.patience) {
      break;
    }
  }
  if (dev.empty()) {
    perceptron.Average();
    best.weights = std::move(perceptron.avg());
    best.trans = std::move(perceptron.avg_trans());
    best.epochs = options.epochs;
  }
  perceptron.ReleaseSums();
  return best;
}

// Quantises `weights` (rows x T, row r has keys[r]) to int16 steps (what the file stores) and
// drops rows that became all zero, so the trained model and the one loaded from its file predict
// identically. Sets m's scale, index, weights (or inline table), transitions and mask.
void QuantizeInto(std::vector<float> weights, std::vector<float> trans,
                  const std::vector<uint64_t>& keys, TaggerModel* m) {
  const size_t nt = m->T();
  float max_abs = 0;
  for (float v : weights) max_abs = std::max(max_abs, std::fabs(v));
  m->scale = max_abs > 0 ? max_abs / kQuantMax : 1.0f;
  std::vector<uint64_t> final_keys;
  std::vector<float> final_weights;
  for (size_t r = 0; r < keys.size(); ++r) {
    bool nonzero = false;
    float* row = weights.data() + r * nt;
    for (size_t t = 0; t < nt; ++t) {
      row[t] = static_cast<float>(std::lround(row[t] / m->scale)) * m->scale;
      nonzero |= row[t] != 0.0f;
    }
    if (!nonzero) continue;
    final_keys.push_back(keys[r]);
    final_weights.insert(final_weights.end(), row, row + nt);
  }
  weights = {};
  m->index.Build(final_keys);
  m->weights = std::move(final_weights);
  m->BuildInline();
  m->trans = std::move(trans);
  m->BuildMask();
}

// m->margin_scale = the median of `margins` (entity-token max-marginal margins), when any.
void SetMarginScale(std::vector<float> margins, TaggerModel* m) {
  if (margins.empty()) return;
  std::nth_element(margins.begin(), margins.begin() + margins.size() / 2, margins.end());
  m->margin_scale = std::max(1e-3f, margins[margins.size() / 2]);
}

// Margins of the entity tokens of `sample`, each sentence tagged alone (first pass).
std::vector<float> SentenceMargins(const std::vector<TaggedSequence>& sample, const TaggerModel& m,
                                   TaggerBuffers* b) {
  std::vector<float> margins;
  for (const auto& s : sample) {
    b->views.assign(s.tokens.begin(), s.tokens.end());
    m.TagViews(b->views, b, true);
    for (size_t i = 0; i < s.tokens.size(); ++i) {
      if (b->path[i] != 0 && b->margins[i] < 1e5f) margins.push_back(b->margins[i]);
    }
  }
  return margins;
}

// The reference of monitoring's sentence_entity_rate signals: per entity type, the `sample`
// sentences the model tags with at least one entity of it.
std::map<std::string, uint64_t> SentencesWithType(const std::vector<TaggedSequence>& sample,
                                                  const TaggerModel& m, TaggerBuffers* b) {
  std::vector<uint64_t> with_type(m.types.size(), 0);
  std::vector<size_t> stamp(m.types.size(), 0);
  for (size_t si = 0; si < sample.size(); ++si) {
    b->views.assign(sample[si].tokens.begin(), sample[si].tokens.end());
    m.TagViews(b->views, b, false);
    for (size_t i = 0; i < sample[si].tokens.size(); ++i) {
      const int type = b->path[i] == 0 ? -1 : m.tag_type[b->path[i]];
      if (type >= 0 && stamp[type] != si + 1) {
        stamp[type] = si + 1;
        ++with_type[type];
      }
    }
  }
  std::map<std::string, uint64_t> out;
  for (size_t t = 0; t < with_type.size(); ++t) {
    if (with_type[t] > 0) out[m.types[t]] = with_type[t];
  }
  return out;
}

// Sets m->version_id (over every section but meta) and m->meta_json: everything but timing, so
// that training twice gives identical files.
void WriteTrainingMeta(const TaggerTrainReport& rep, const TaggerTrainOptions& options,
                       const WordLists& lists, TaggerModel* m) {
  model::ModelFile file = internal::ToModelFile(*m);
  file.sections.erase("meta");
  m->version_id = model::VersionId(m->name, file);
  nlohmann::json meta = {
      {"name", m->name},
      {"kind", "tagger"},
      {"version_id", m->version_id},
      {"entity_types", m->types},
      {"tags", m->tags},
      {"feature_version", internal::kFeatureVersion},
      {"model", "averaged structured perceptron, first-order Viterbi, IOB2"},
      {"training",
       {{"data_sha256", rep.data_sha256},
        {"train_sentences", rep.train_sentences},
        {"train_tokens", rep.train_tokens},
        {"dev_sentences", rep.dev_sentences},
        {"features", rep.features},
        {"epochs", rep.epochs},
        {"dev_entity_f1", rep.dev_f1},
        {"dev_f1_per_epoch", rep.dev_f1_per_epoch},
        {"seed", options.seed},
        {"min_feature_count", options.min_feature_count}}},
  };
  {
    // Exactly which lists: same names and hashes, same gazetteer section.
    nlohmann::json gaz = {{"words", m->gazetteer.size()}, {"sources", nlohmann::json::array()}};
    for (const auto& s : lists.used) {
      gaz["sources"].push_back({{"name", s.name},
                                {"kind", std::string(WordListKindName(s.kind))},
                                {"sha256", s.sha256},
                                {"words", s.words}});
    }
    meta["training"]["gazetteer"] = std::move(gaz);
  }
  m->meta_json = meta.dump();
}

Result<std::unique_ptr<TaggerModel>> TrainOne(const std::vector<TaggedSequence>& train,
                                              const std::vector<TaggedSequence>& dev,
                                              const TaggerTrainOptions& options,
                                              TaggerTrainReport* report, const DocInput* doc,
                                              const WordLists& lists);

// Model selection on dev (the epoch count), then a final model on train + dev with that count:
// 20 % more data for CoNLL-2002-sized sets, same hyperparameters.
Result<std::unique_ptr<TaggerModel>> TrainWithRefit(const std::vector<TaggedSequence>& train,
                                                    const std::vector<TaggedSequence>& dev,
                                                    const TaggerTrainOptions& options,
                                                    TaggerTrainReport* report,
                                                    const WordLists& lists) {
  const int64_t t0 = SystemClock()->MonotonicNanos();
  TaggerTrainOptions select = options;
  select.refit_on_dev = false;
  TaggerTrainReport selection;
  LOTE_ASSIGN_OR_RETURN(std::unique_ptr<TaggerModel> chosen,
                        TrainOne(train, dev, select, &selection, nullptr, lists));
  chosen.reset();
  std::vector<TaggedSequence> all = train;
  all.insert(all.end(), dev.begin(), dev.end());
  TaggerTrainOptions refit = options;
  refit.refit_on_dev = false;
  refit.epochs = std::max(1, selection.epochs);
  TaggerTrainReport final_report;
  LOTE_ASSIGN_OR_RETURN(std::unique_ptr<TaggerModel> m,
                        TrainOne(all, {}, refit, &final_report, nullptr, lists));
  {
    // The final model's metadata tells how it was chosen: dev F1 of the selection model.
    auto meta = nlohmann::json::parse(m->meta_json);
    meta["training"]["refit_on_dev"] = true;
    meta["training"]["dev_sentences"] = dev.size();
    meta["training"]["dev_entity_f1"] = selection.dev_f1;
    meta["training"]["dev_f1_per_epoch"] = selection.dev_f1_per_epoch;
    m->meta_json = meta.dump();
  }
  if (report) {
    *report = final_report;
    report->dev_sentences = dev.size();
    report->dev_f1 = selection.dev_f1;  // of the selection model, on data it did not see
    report->dev_f1_per_epoch = selection.dev_f1_per_epoch;
    report->epochs = selection.epochs;
    report->dev_profile_sentences = selection.dev_profile_sentences;
    report->dev_type_sentences = std::move(selection.dev_type_sentences);
    report->seconds = SystemClock()->SecondsSince(t0);
  }
  return m;
}

// Trains one perceptron: a first pass (doc == nullptr) or, given the first-pass tags of the
// training data, a second pass.
Result<std::unique_ptr<TaggerModel>> TrainOne(const std::vector<TaggedSequence>& train,
                                              const std::vector<TaggedSequence>& dev,
                                              const TaggerTrainOptions& options,
                                              TaggerTrainReport* report, const DocInput* doc,
                                              const WordLists& lists) {
  const int64_t t0 = SystemClock()->MonotonicNanos();
  if (train.empty()) return InvalidArgumentError("tagger: no training sentences");
  if (!dev.empty() && options.refit_on_dev) {
    return TrainWithRefit(train, dev, options, report, lists);
  }
  LOTE_RETURN_IF_ERROR(ValidateTrainingData(train, dev, options));

  auto m = std::make_unique<TaggerModel>();
  m->name = options.name;
  LOTE_RETURN_IF_ERROR(SetTagsFromData(train, m.get()));
  const TagIds tag_id = TagIdsOf(*m);
  TaggerTrainReport rep;
  rep.data_sha256 = CountTrainingText(train, m.get(), &rep.train_tokens);
  m->gazetteer = lists.gazetteer;

  TaggerBuffers buffers;
  TaggerBuffers* b = &buffers;
  SentenceAnalyzer analyzer(*m, b);
  std::vector<internal::EntityLexicon> folds = BuildEntityLexicons(train, &analyzer, *b, m.get());
  DocKeys doc_keys;
  if (doc) {
    LOTE_ASSIGN_OR_RETURN(doc_keys, SecondPassKeys(train, *doc, *m, &analyzer, b));
  }
  TrainingRows rows = PrepareTrainingRows(train, folds, doc ? &doc_keys : nullptr, tag_id,
                                          options.min_feature_count, &analyzer);
  m->index.Build(rows.keys);
  folds.clear();
  doc_keys = {};
  const std::vector<Prepared> dev_rows = PrepareDevRows(dev, *m, &analyzer);

  PerceptronResult best =
      RunEpochs(rows.sentences, dev, dev_rows, options, *m, rows.keys.size(), b);
  rows.sentences.clear();
  QuantizeInto(std::move(best.weights), std::move(best.trans), rows.keys, m.get());

  // Margin scale: median margin of entity tokens on dev (train when there is no dev). A second
  // pass gets its scale from the two-pass output (Train).
  if (!doc) SetMarginScale(SentenceMargins(dev.empty() ? train : dev, *m, b), m.get());
  // Trained without dev, this model tags dev as it would tag new text.
  if (!doc && !dev.empty()) {
    rep.dev_profile_sentences = dev.size();
    rep.dev_type_sentences = SentencesWithType(dev, *m, b);
  }

  rep.train_sentences = train.size();
  rep.dev_sentences = dev.size();
  rep.features = m->rows();
  rep.epochs = best.epochs;
  rep.dev_f1 = dev.empty() ? 0 : best.dev_f1;
  rep.dev_f1_per_epoch = std::move(best.dev_f1_per_epoch);
  rep.seconds = SystemClock()->SecondsSince(t0);
  WriteTrainingMeta(rep, options, lists, m.get());
  if (report) *report = rep;
  return m;
}

}  // namespace

Result<EntityTagger> EntityTagger::Train(const std::vector<TaggedSequence>& train,
                                         const std::vector<TaggedSequence>& dev,
                                         const TaggerTrainOptions& options,
                                         TaggerTrainReport* report) {
  // The caller's word lists, parsed once for every model trained below and stored in each.
  WordLists lists;
  LOTE_RETURN_IF_ERROR(internal::AddWordLists(options.word_lists, &lists.gazetteer, &lists.used));
  lists.gazetteer.Finish();
  if (options.doc_window <= 0) {
    LOTE_ASSIGN_OR_RETURN(std::unique_ptr<TaggerModel> m,
                          TrainOne(train, dev, options, report, nullptr, lists));
    return EntityTagger(std::move(m));
  }
  const int64_t t0 = SystemClock()->MonotonicNanos();
  TaggerTrainOptions one = options;
  one.doc_window = 0;
  TaggerTrainReport rep1;
  LOTE_ASSIGN_OR_RETURN(std::unique_ptr<TaggerModel> first,
                        TrainOne(train, dev, one, &rep1, nullptr, lists));
  EntityTagger tagger(std::move(first));
  // The second pass trains on what the final first pass trained on.
  std::vector<TaggedSequence> data = train;
  if (!dev.empty() && options.refit_on_dev) data.insert(data.end(), dev.begin(), dev.end());
  TaggerTrainOptions fixed = one;
  fixed.refit_on_dev = false;
  fixed.epochs = dev.empty() ? options.epochs : std::max(1, rep1.epochs);
  TaggerModel& m = *tagger.m_;
  const TagIds tag_id = TagIdsOf(m);
  DocInput di;
  di.window = static_cast<uint32_t>(options.doc_window);
  di.tags1.resize(data.size());
  const size_t folds =
      std::clamp<size_t>(static_cast<size_t>(std::max(2, options.doc_folds)), 2, data.size());
  TaggerState st;
  for (size_t f = 0; f < folds; ++f) {
    // Contiguous blocks: a fold model has not seen the block's documents at all.
    const size_t lo = data.size() * f / folds, hi = data.size() * (f + 1) / folds;
    std::vector<TaggedSequence> sub(data.begin(), data.begin() + lo);
    sub.insert(sub.end(), data.begin() + hi, data.end());
    if (sub.empty() || lo == hi) continue;
    LOTE_ASSIGN_OR_RETURN(std::unique_ptr<TaggerModel> fold_model,
                          TrainOne(sub, {}, fixed, nullptr, nullptr, lists));
    const EntityTagger fm(std::move(fold_model));
    for (size_t si = lo; si < hi; ++si) {
      const std::vector<std::string> tags = fm.Tag(data[si].tokens, &st);
      auto& out = di.tags1[si];
      out.reserve(tags.size());
      for (const auto& t : tags) {
        auto it = tag_id.find(t);
        out.push_back(it == tag_id.end() ? 0 : it->second);
      }
    }
  }
  TaggerTrainReport rep2;
  LOTE_ASSIGN_OR_RETURN(m.doc, TrainOne(data, {}, fixed, &rep2, &di, lists));
  m.doc_window = di.window;
  {
    // Margin scale of the two-pass output (median entity-token margin on the training data,
    // read as one document).
    TaggerBuffers* b = st.b_.get();
    b->views.clear();
    b->sent_off.assign(1, 0);
    for (const auto& s : data) {
      b->views.insert(b->views.end(), s.tokens.begin(), s.tokens.end());
      b->sent_off.push_back(static_cast<uint32_t>(b->views.size()));
    }
    std::vector<float> margins;
    m.TagDoc(b, true, [&](size_t, uint32_t, uint32_t n) {
      for (uint32_t i = 0; i < n; ++i) {
        if (b->path[i] != 0 && b->margins[i] < 1e5f) margins.push_back(b->margins[i]);
      }
    });
    SetMarginScale(std::move(margins), &m);
  }
  model::ModelFile file = internal::ToModelFile(m);
  file.sections.erase("meta");
  m.version_id = model::VersionId(m.name, file);
  auto meta = nlohmann::json::parse(m.meta_json);
  meta["version_id"] = m.version_id;
  meta["model"] = "two-pass averaged structured perceptron, first-order Viterbi, IOB2";
  meta["training"]["doc_window"] = di.window;
  meta["training"]["doc_folds"] = folds;
  meta["training"]["doc_features"] = rep2.features;
  m.meta_json = meta.dump();
  if (report) {
    *report = rep1;
    report->seconds = SystemClock()->SecondsSince(t0);
  }
  return tagger;
}

}  // namespace lote::extract
