#include "lote/classify/intent_classifier.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <numeric>

#include "lote/model/bytes.h"

namespace lote::classify {

namespace {

// Version of the "classifier.*" section layout; bump on any change (old files are refused
// with a clear message rather than misread).
constexpr uint32_t kClassifierFormat = 2;  // 2: int8 weights with per-feature scales

inline uint64_t Mix(uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  return h;
}

// ThreadSanitizer instruments the ifunc resolver that target_clones generates, and the dynamic
// loader runs that resolver before TSan's runtime is set up: the binary crashes before main()
// (clang 14). TSan builds keep the default clone only.
#if defined(__SANITIZE_THREAD__)
#define LOTE_NO_TARGET_CLONES
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define LOTE_NO_TARGET_CLONES
#endif
#endif
#ifdef LOTE_NO_TARGET_CLONES
#define LOTE_AVX2_CLONES
#else
#define LOTE_AVX2_CLONES __attribute__((target_clones("avx2", "default")))
#endif

// scores[0..k) += sum_i value[i] * scale[index[i]] * q[index[i] * k + j]. The hot loop of
// prediction; cloned for AVX2 (picked at run time) so int8 -> float widening is one instruction
// without building the whole project for a newer CPU.
LOTE_AVX2_CLONES void AccumulateScores(const uint32_t* index, const float* value, size_t n,
                                       const float* scale, const int8_t* q, size_t k,
                                       float* scores) {
  for (size_t i = 0; i < n; ++i) {
    const uint32_t f = index[i];
    const float v = value[i] * scale[f];
    const int8_t* w = q + static_cast<size_t>(f) * k;
    for (size_t j = 0; j < k; ++j) scores[j] += v * static_cast<float>(w[j]);
  }
}

}  // namespace

IntentClassifier::IntentClassifier(FeatureOptions features, std::vector<std::string> labels,
                                   std::vector<uint64_t> hashes, std::vector<float> idf,
                                   std::vector<float> weights, std::vector<float> bias)
    : extractor_(features),
      labels_(std::move(labels)),
      hashes_(std::move(hashes)),
      idf_(std::move(idf)),
      bias_(std::move(bias)) {
  Quantize(weights);
  BuildIndex();
}

void IntentClassifier::Quantize(const std::vector<float>& weights) {
  // Per-feature symmetric int8: each feature's row of K weights shares one scale. A quarter of
  // the memory traffic of float32 on the prediction hot path; the relative error per weight is
  // at most 1/254 of the row's largest weight.
  const size_t k = labels_.size();
  const size_t f = k ? weights.size() / k : 0;
  qweights_.assign(weights.size(), 0);
  scales_.assign(f, 0.0f);
  for (size_t r = 0; r < f; ++r) {
    const float* w = weights.data() + r * k;
    float mx = 0;
    for (size_t j = 0; j < k; ++j) mx = std::max(mx, std::fabs(w[j]));
    if (mx == 0) continue;
    const float scale = mx / 127.0f;
    scales_[r] = scale;
    int8_t* q = qweights_.data() + r * k;
    for (size_t j = 0; j < k; ++j) q[j] = static_cast<int8_t>(std::lround(w[j] / scale));
  }
}

void IntentClassifier::BuildIndex() {
  size_t cap = 16;
  while (cap < hashes_.size() * 2) cap <<= 1;
  table_.assign(cap, Slot{0, -1});
  table_mask_ = cap - 1;
  for (size_t i = 0; i < hashes_.size(); ++i) {
    uint64_t slot = Mix(hashes_[i]) & table_mask_;
    while (table_[slot].value >= 0) slot = (slot + 1) & table_mask_;
    table_[slot] = Slot{hashes_[i], static_cast<int32_t>(i)};
  }
  // Hashes are sorted and character n-grams have the top bit set: they form the tail.
  first_char_feature_ = static_cast<uint32_t>(
      std::lower_bound(hashes_.begin(), hashes_.end(), uint64_t{1} << 63) - hashes_.begin());
}

int32_t IntentClassifier::Find(uint64_t hash) const {
  uint64_t slot = Mix(hash) & table_mask_;
  while (true) {
    const Slot& s = table_[slot];
    if (s.value < 0) return -1;
    if (s.key == hash) return s.value;
    slot = (slot + 1) & table_mask_;
  }
}

std::unique_ptr<ClassifierState> IntentClassifier::NewState() const {
  return std::make_unique<ClassifierState>();
}

void IntentClassifier::Vectorize(std::string_view text, ClassifierState* st) const {
  extractor_.Hash(text, &st->scratch);
  // Term frequencies without sorting: a per-state stamp array marks features seen in this text.
  if (st->stamp.size() != hashes_.size()) {
    st->stamp.assign(hashes_.size(), 0);
    st->slot.assign(hashes_.size(), 0);
    st->generation = 0;
  }
  if (++st->generation == 0) {  // wrapped: reset stamps
    std::fill(st->stamp.begin(), st->stamp.end(), 0);
    st->generation = 1;
  }
  const uint32_t gen = st->generation;
  SparseRow& row = st->row;
  row.Clear();
  // Monitoring counts, taken on the way: unknown character n-grams, and unknown words. The word
  // block of `hashes` is, per word i, its unigram then its min(i, word_ngram_max - 1) longer
  // n-grams (FeatureExtractor::Hash), so the unigrams are found by position, without another
  // lookup.
  const uint32_t n_words = static_cast<uint32_t>(st->scratch.word_hashes.size());
  const uint32_t longer_max =
      static_cast<uint32_t>(std::max(extractor_.options().word_ngram_max, 1) - 1);
  uint32_t char_ngrams = 0, unknown_char_ngrams = 0, unknown_words = 0, word = 0;
  size_t next_unigram = 0;
  const std::vector<uint64_t>& hashes = st->scratch.hashes;
  for (size_t j = 0; j < hashes.size(); ++j) {
    const uint64_t h = hashes[j];
    const int32_t id = Find(h);
    if (IsCharFeature(h)) {
      ++char_ngrams;
      unknown_char_ngrams += id < 0;
    } else if (j == next_unigram && word < n_words) {
      unknown_words += id < 0;
      next_unigram = j + 1 + std::min(word, longer_max);
      ++word;
    }
    if (id < 0) continue;
    if (st->stamp[id] != gen) {
      st->stamp[id] = gen;
      st->slot[id] = static_cast<uint32_t>(row.index.size());
      row.index.push_back(static_cast<uint32_t>(id));
      row.value.push_back(1.0f);
    } else {
      row.value[st->slot[id]] += 1.0f;
    }
  }
  st->vocabulary = {n_words, unknown_words, char_ngrams, unknown_char_ngrams};
  const auto& opt = extractor_.options();
  double norm_word = 0, norm_char = 0;
  for (size_t i = 0; i < row.index.size(); ++i) {
    const uint32_t id = row.index[i];
    const float tf = row.value[i];
    const float w = (opt.sublinear_tf ? (tf == 1.0f ? 1.0f : 1.0f + std::log(tf)) : tf) * idf_[id];
    row.value[i] = w;
    (id >= first_char_feature_ ? norm_char : norm_word) += static_cast<double>(w) * w;
  }
  const float sw = norm_word > 0 ? opt.word_block_weight / std::sqrt(norm_word) : 0.0f;
  const float sc = norm_char > 0 ? opt.char_block_weight / std::sqrt(norm_char) : 0.0f;
  for (size_t i = 0; i < row.index.size(); ++i) {
    row.value[i] *= row.index[i] >= first_char_feature_ ? sc : sw;
  }
}

void IntentClassifier::Scores(std::string_view text, ClassifierState* st,
                              std::vector<float>* scores) const {
  Vectorize(text, st);
  const size_t k = labels_.size();
  scores->assign(bias_.begin(), bias_.end());
  float* s = scores->data();
  AccumulateScores(st->row.index.data(), st->row.value.data(), st->row.index.size(), scales_.data(),
                   qweights_.data(), k, s);
}

void IntentClassifier::Probabilities(std::string_view text, ClassifierState* st,
                                     std::vector<float>* p) const {
  Scores(text, st, p);
  const float inv_t = static_cast<float>(1.0 / temperature_);
  float mx = *std::max_element(p->begin(), p->end());
  float sum = 0;
  for (float& x : *p) {
    x = std::exp((x - mx) * inv_t);
    sum += x;
  }
  for (float& x : *p) x /= sum;
}

void IntentClassifier::Predict(std::string_view text, ClassifierState* st, int top_k,
                               ClassifierPrediction* out) const {
  Probabilities(text, st, &st->probs);
  const auto& p = st->probs;
  const int k = static_cast<int>(p.size());
  int best = 0;
  for (int j = 1; j < k; ++j) {
    if (p[j] > p[best]) best = j;
  }
  out->label = best;
  out->score = p[best];
  if (oos_label_ >= 0 && best != oos_label_) {
    // Abstain when the most likely in-scope label is not likely enough.
    if (p[best] < oos_threshold_) {
      out->label = oos_label_;
      out->score = 1.0f - p[best];
    }
  }
  out->top_k.clear();
  if (top_k > 0) {
    const int n = std::min(top_k, k);
    for (int j = 0; j < k; ++j) {
      ScoredLabel sl{j, p[j]};
      if (static_cast<int>(out->top_k.size()) < n) {
        out->top_k.push_back(sl);
        std::push_heap(
            out->top_k.begin(), out->top_k.end(),
            [](const ScoredLabel& a, const ScoredLabel& b) { return a.score > b.score; });
      } else if (sl.score > out->top_k.front().score) {
        std::pop_heap(out->top_k.begin(), out->top_k.end(),
                      [](const ScoredLabel& a, const ScoredLabel& b) { return a.score > b.score; });
        out->top_k.back() = sl;
        std::push_heap(
            out->top_k.begin(), out->top_k.end(),
            [](const ScoredLabel& a, const ScoredLabel& b) { return a.score > b.score; });
      }
    }
    std::sort(out->top_k.begin(), out->top_k.end(), [](const ScoredLabel& a, const ScoredLabel& b) {
      return a.score != b.score ? a.score > b.score : a.label < b.label;
    });
  }
}

void IntentClassifier::Save(model::ModelFile* file) const {
  const auto& o = extractor_.options();
  model::ByteWriter cfg;
  cfg.Put<uint32_t>(kClassifierFormat);
  cfg.Put<int32_t>(o.word_ngram_max);
  cfg.Put<int32_t>(o.char_ngram_min);
  cfg.Put<int32_t>(o.char_ngram_max);
  cfg.Put<float>(o.word_block_weight);
  cfg.Put<float>(o.char_block_weight);
  cfg.Put<uint8_t>(o.sublinear_tf);
  cfg.Put<uint8_t>(o.normalizer.nfkc);
  cfg.Put<uint8_t>(o.normalizer.case_fold);
  cfg.Put<uint8_t>(o.normalizer.strip_accents);
  cfg.Put<uint8_t>(o.normalizer.fold_enye);
  cfg.Put<uint8_t>(o.normalizer.collapse_whitespace);
  cfg.Put<int32_t>(oos_label_);
  cfg.Put<double>(temperature_);
  cfg.Put<double>(oos_threshold_);
  cfg.PutString(training_json_);
  file->sections["classifier.config"] = cfg.Release();

  model::ByteWriter lab;
  lab.PutStrings(labels_);
  file->sections["classifier.labels"] = lab.Release();

  model::ByteWriter voc;
  voc.PutVector(hashes_);
  voc.PutVector(idf_);
  file->sections["classifier.vocab"] = voc.Release();

  model::ByteWriter w;
  w.PutVector(qweights_);
  w.PutVector(scales_);
  w.PutVector(bias_);
  file->sections["classifier.weights"] = w.Release();
}

Result<std::shared_ptr<const IntentClassifier>> IntentClassifier::Load(const model::ModelFile& file,
                                                                       std::string_view source) {
  const std::string src(source);
  auto section = [&](const char* name) -> const std::string* {
    auto it = file.sections.find(name);
    return it == file.sections.end() ? nullptr : &it->second;
  };
  const std::string* cfg_bytes = section("classifier.config");
  const std::string* lab_bytes = section("classifier.labels");
  const std::string* voc_bytes = section("classifier.vocab");
  const std::string* w_bytes = section("classifier.weights");
  if (!cfg_bytes || !lab_bytes || !voc_bytes || !w_bytes) {
    return NotFoundError(src + ": model has no classifier (classifier.* sections missing)");
  }
  model::ByteReader cfg(*cfg_bytes, src + ": classifier.config");
  uint32_t format = 0;
  LOTE_RETURN_IF_ERROR(cfg.Get(&format));
  if (format != kClassifierFormat) {
    return FailedPreconditionError(src + ": classifier section version " + std::to_string(format) +
                                   " is not supported (this lote reads version " +
                                   std::to_string(kClassifierFormat) + ")");
  }
  FeatureOptions o;
  uint8_t sub = 0, nfkc = 0, cf = 0, sa = 0, fe = 0, ws = 0;
  int32_t oos = -1;
  double temperature = 1, threshold = 0;
  std::string training;
  LOTE_RETURN_IF_ERROR(cfg.Get(&o.word_ngram_max));
  LOTE_RETURN_IF_ERROR(cfg.Get(&o.char_ngram_min));
  LOTE_RETURN_IF_ERROR(cfg.Get(&o.char_ngram_max));
  LOTE_RETURN_IF_ERROR(cfg.Get(&o.word_block_weight));
  LOTE_RETURN_IF_ERROR(cfg.Get(&o.char_block_weight));
  LOTE_RETURN_IF_ERROR(cfg.Get(&sub));
  LOTE_RETURN_IF_ERROR(cfg.Get(&nfkc));
  LOTE_RETURN_IF_ERROR(cfg.Get(&cf));
  LOTE_RETURN_IF_ERROR(cfg.Get(&sa));
  LOTE_RETURN_IF_ERROR(cfg.Get(&fe));
  LOTE_RETURN_IF_ERROR(cfg.Get(&ws));
  LOTE_RETURN_IF_ERROR(cfg.Get(&oos));
  LOTE_RETURN_IF_ERROR(cfg.Get(&temperature));
  LOTE_RETURN_IF_ERROR(cfg.Get(&threshold));
  LOTE_RETURN_IF_ERROR(cfg.GetString(&training));
  LOTE_RETURN_IF_ERROR(cfg.ExpectEnd());
  o.sublinear_tf = sub;
  o.normalizer.nfkc = nfkc;
  o.normalizer.case_fold = cf;
  o.normalizer.strip_accents = sa;
  o.normalizer.fold_enye = fe;
  o.normalizer.collapse_whitespace = ws;

  std::vector<std::string> labels;
  model::ByteReader lab(*lab_bytes, src + ": classifier.labels");
  LOTE_RETURN_IF_ERROR(lab.GetStrings(&labels));
  LOTE_RETURN_IF_ERROR(lab.ExpectEnd());
  std::vector<uint64_t> hashes;
  std::vector<float> idf, scales, bias;
  std::vector<int8_t> qweights;
  model::ByteReader voc(*voc_bytes, src + ": classifier.vocab");
  LOTE_RETURN_IF_ERROR(voc.GetVector(&hashes));
  LOTE_RETURN_IF_ERROR(voc.GetVector(&idf));
  LOTE_RETURN_IF_ERROR(voc.ExpectEnd());
  model::ByteReader w(*w_bytes, src + ": classifier.weights");
  LOTE_RETURN_IF_ERROR(w.GetVector(&qweights));
  LOTE_RETURN_IF_ERROR(w.GetVector(&scales));
  LOTE_RETURN_IF_ERROR(w.GetVector(&bias));
  LOTE_RETURN_IF_ERROR(w.ExpectEnd());

  const size_t k = labels.size();
  if (k < 2 || idf.size() != hashes.size() || bias.size() != k ||
      qweights.size() != hashes.size() * k || scales.size() != hashes.size() || oos < -1 ||
      oos >= static_cast<int32_t>(k) || !(temperature > 0) ||
      !std::is_sorted(hashes.begin(), hashes.end()) ||
      std::adjacent_find(hashes.begin(), hashes.end()) != hashes.end()) {
    return DataLossError(src + ": classifier sections are inconsistent (corrupted model)");
  }
  auto c =
      std::make_shared<IntentClassifier>(o, std::move(labels), std::move(hashes), std::move(idf),
                                         std::vector<float>{}, std::move(bias));
  c->qweights_ = std::move(qweights);
  c->scales_ = std::move(scales);
  c->oos_label_ = oos;
  c->temperature_ = temperature;
  c->oos_threshold_ = threshold;
  c->training_json_ = std::move(training);
  return std::shared_ptr<const IntentClassifier>(std::move(c));
}

std::string IntentClassifier::MetadataJson() const {
  nlohmann::ordered_json j;
  j["kind"] = "classifier";
  j["labels"] = labels_;
  if (oos_label_ >= 0) j["oos_label"] = labels_[oos_label_];
  j["features"] = extractor_.options().Fingerprint();
  j["normalization"] = extractor_.options().normalizer.Fingerprint();
  j["num_features"] = hashes_.size();
  j["temperature"] = temperature_;
  if (oos_label_ >= 0) j["oos_threshold"] = oos_threshold_;
  j["training"] = nlohmann::ordered_json::parse(training_json_, nullptr, false);
  return j.dump();
}

}  // namespace lote::classify
