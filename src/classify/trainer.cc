// Training of IntentClassifier: vocabulary, TF-IDF rows, one-vs-rest L2-loss SVMs by dual
// coordinate descent (Hsieh et al., ICML 2008, as liblinear's solver 1 with shrinking),
// temperature scaling and the abstention threshold on a calibration split.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <numeric>
#include <thread>
#include <unordered_map>

#include "lote/base/clock.h"
#include "lote/base/ordered_executor.h"
#include "lote/base/parallel_for.h"
#include "lote/classify/intent_classifier.h"
#include "lote/classify/metrics.h"

namespace lote::classify {

namespace {

// Deterministic PRNG (splitmix64) so shuffles do not depend on the standard library.
class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed) {}
  uint64_t Next() {
    uint64_t z = (s_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  size_t Uniform(size_t n) { return static_cast<size_t>(Next() % n); }

 private:
  uint64_t s_;
};

template <typename T>
void Shuffle(std::vector<T>* v, Rng* rng, size_t n) {
  for (size_t i = n; i > 1; --i) std::swap((*v)[i - 1], (*v)[rng->Uniform(i)]);
}

int ResolveThreads(int threads) { return threads > 0 ? threads : UsableCpuCount(); }

// Runs fn(i) for i in [0, n) on up to `threads` threads; each index exactly once.
template <typename Fn>
void ParallelFor(size_t n, int threads, Fn fn) {
  lote::ParallelFor(n, threads, [&](int, size_t i) { fn(i); });
}

struct Csr {
  std::vector<size_t> ptr{0};
  std::vector<uint32_t> idx;
  std::vector<float> val;
  size_t rows() const { return ptr.size() - 1; }
};

struct FittedModel {
  std::shared_ptr<IntentClassifier> classifier;
};

// Solves one binary L2-regularized L2-loss SVM (with a bias feature of value 1) in the dual.
void SolveBinary(const Csr& x, const std::vector<int8_t>& y, double c, double eps, int max_iter,
                 uint64_t seed, size_t num_features, std::vector<float>* w_out, float* b_out) {
  const size_t l = x.rows();
  const double diag = 0.5 / c;
  std::vector<double> w(num_features, 0.0);
  double b = 0.0;
  std::vector<double> alpha(l, 0.0), qd(l);
  std::vector<uint32_t> index(l);
  for (size_t i = 0; i < l; ++i) {
    double sq = 1.0;  // bias feature
    for (size_t p = x.ptr[i]; p < x.ptr[i + 1]; ++p) sq += double(x.val[p]) * x.val[p];
    qd[i] = diag + sq;
    index[i] = static_cast<uint32_t>(i);
  }
  Rng rng(seed);
  size_t active = l;
  double pg_max_old = std::numeric_limits<double>::infinity();
  for (int iter = 0; iter < max_iter; ++iter) {
    double pg_max_new = -std::numeric_limits<double>::infinity();
    double pg_min_new = std::numeric_limits<double>::infinity();
    Shuffle(&index, &rng, active);
    for (size_t s = 0; s < active; ++s) {
      const uint32_t i = index[s];
      const double yi = y[i];
      double dot = b;
      for (size_t p = x.ptr[i]; p < x.ptr[i + 1]; ++p) dot += w[x.idx[p]] * x.val[p];
      const double g = yi * dot - 1.0 + alpha[i] * diag;
      double pg = 0.0;
      if (alpha[i] == 0.0) {
        if (g > pg_max_old) {  // shrink: this variable is likely to stay at its bound
          --active;
          std::swap(index[s], index[active]);
          --s;
          continue;
        }
        if (g < 0) pg = g;
      } else {
        pg = g;
      }
      pg_max_new = std::max(pg_max_new, pg);
      pg_min_new = std::min(pg_min_new, pg);
      if (std::fabs(pg) > 1e-12) {
        const double old = alpha[i];
        alpha[i] = std::max(alpha[i] - g / qd[i], 0.0);
        const double d = (alpha[i] - old) * yi;
        for (size_t p = x.ptr[i]; p < x.ptr[i + 1]; ++p) w[x.idx[p]] += d * x.val[p];
        b += d;
      }
    }
    if (pg_max_new - pg_min_new <= eps) {
      if (active == l) break;
      active = l;
      pg_max_old = std::numeric_limits<double>::infinity();
      continue;
    }
    pg_max_old = pg_max_new <= 0 ? std::numeric_limits<double>::infinity() : pg_max_new;
  }
  w_out->resize(num_features);
  for (size_t f = 0; f < num_features; ++f) (*w_out)[f] = static_cast<float>(w[f]);
  *b_out = static_cast<float>(b);
}

// Fits vocabulary + SVMs on rows (text, label index).
std::shared_ptr<IntentClassifier> Fit(const std::vector<const LabeledText*>& rows,
                                      const std::vector<int>& y,
                                      const std::vector<std::string>& labels,
                                      const ClassifierTrainOptions& opt) {
  const int threads = ResolveThreads(opt.threads);
  const size_t n = rows.size();
  FeatureExtractor extractor(opt.features);

  // Document frequencies. Hash per chunk in parallel, merge in chunk order (deterministic).
  const size_t chunk = 512;
  const size_t chunks = (n + chunk - 1) / chunk;
  std::vector<std::vector<uint64_t>> chunk_hashes(chunks);
  ParallelFor(chunks, threads, [&](size_t c) {
    FeatureScratch scratch;
    std::vector<uint64_t>& out = chunk_hashes[c];
    for (size_t i = c * chunk; i < std::min(n, (c + 1) * chunk); ++i) {
      extractor.Hash(rows[i]->text, &scratch);
      std::sort(scratch.hashes.begin(), scratch.hashes.end());
      scratch.hashes.erase(std::unique(scratch.hashes.begin(), scratch.hashes.end()),
                           scratch.hashes.end());
      out.insert(out.end(), scratch.hashes.begin(), scratch.hashes.end());
    }
  });
  std::vector<uint64_t> all;
  for (auto& v : chunk_hashes) {
    all.insert(all.end(), v.begin(), v.end());
    std::vector<uint64_t>().swap(v);
  }
  std::sort(all.begin(), all.end());
  std::vector<uint64_t> hashes;
  std::vector<float> idf;
  for (size_t i = 0; i < all.size();) {
    size_t j = i;
    while (j < all.size() && all[j] == all[i]) ++j;
    const size_t df = j - i;
    if (df >= static_cast<size_t>(std::max(1, opt.min_df))) {
      hashes.push_back(all[i]);
      // Smooth IDF as scikit-learn: ln((1 + n) / (1 + df)) + 1.
      idf.push_back(static_cast<float>(std::log((1.0 + n) / (1.0 + df)) + 1.0));
    }
    i = j;
  }
  std::vector<uint64_t>().swap(all);
  const size_t f = hashes.size();
  const size_t k = labels.size();

  // TF-IDF rows through the classifier's own Vectorize, so training and prediction agree.
  auto vectorizer = std::make_shared<IntentClassifier>(opt.features, labels, hashes, idf,
                                                       std::vector<float>{}, std::vector<float>{});
  std::vector<Csr> parts(chunks);
  ParallelFor(chunks, threads, [&](size_t c) {
    ClassifierState st;
    Csr& part = parts[c];
    for (size_t i = c * chunk; i < std::min(n, (c + 1) * chunk); ++i) {
      vectorizer->Vectorize(rows[i]->text, &st);
      part.idx.insert(part.idx.end(), st.row.index.begin(), st.row.index.end());
      part.val.insert(part.val.end(), st.row.value.begin(), st.row.value.end());
      part.ptr.push_back(part.idx.size());
    }
  });
  Csr x;
  for (auto& part : parts) {
    const size_t base = x.idx.size();
    x.idx.insert(x.idx.end(), part.idx.begin(), part.idx.end());
    x.val.insert(x.val.end(), part.val.begin(), part.val.end());
    for (size_t r = 1; r < part.ptr.size(); ++r) x.ptr.push_back(base + part.ptr[r]);
    part = Csr();
  }

  // One-vs-rest, classes in parallel; each class's result depends only on its seed.
  std::vector<float> weights(f * k, 0.0f), bias(k, 0.0f);
  ParallelFor(k, threads, [&](size_t cls) {
    std::vector<int8_t> yy(n);
    for (size_t i = 0; i < n; ++i) yy[i] = y[i] == static_cast<int>(cls) ? 1 : -1;
    std::vector<float> w;
    float b = 0;
    SolveBinary(x, yy, opt.c, opt.tolerance, opt.max_iterations, opt.seed * 1000003 + cls, f, &w,
                &b);
    for (size_t j = 0; j < f; ++j) weights[j * k + cls] = w[j];
    bias[cls] = b;
  });
  return std::make_shared<IntentClassifier>(opt.features, labels, std::move(hashes), std::move(idf),
                                            std::move(weights), std::move(bias));
}

// Negative log-likelihood of softmax(scores / t) for the gold labels.
double Nll(const std::vector<std::vector<float>>& scores, const std::vector<int>& gold, double t) {
  double total = 0;
  for (size_t i = 0; i < scores.size(); ++i) {
    const auto& s = scores[i];
    const double mx = *std::max_element(s.begin(), s.end());
    double z = 0;
    for (float v : s) z += std::exp((v - mx) / t);
    total += -((s[gold[i]] - mx) / t - std::log(z));
  }
  return total / std::max<size_t>(1, scores.size());
}

// Scores -> calibrated probabilities at temperature t, in place (as IntentClassifier does).
void Softmax(double t, std::vector<float>* p) {
  const float mx = *std::max_element(p->begin(), p->end());
  float z = 0;
  for (float& v : *p) z += (v = std::exp((v - mx) / static_cast<float>(t)));
  for (float& v : *p) v /= z;
}

// The predicted label and its score, abstaining to `oos` (when >= 0) below `threshold`.
ScoredLabel Decide(const std::vector<float>& p, int oos, double threshold) {
  const int best = static_cast<int>(std::max_element(p.begin(), p.end()) - p.begin());
  if (oos >= 0 && best != oos && p[best] < threshold) return {oos, 1.0f - p[best]};
  return {best, p[best]};
}

double FitTemperature(const std::vector<std::vector<float>>& scores, const std::vector<int>& gold) {
  // Golden-section search on log t; NLL is unimodal in t for fixed scores.
  double a = std::log(0.005), b = std::log(20.0);
  const double r = (std::sqrt(5.0) - 1) / 2;
  double c = b - r * (b - a), d = a + r * (b - a);
  double fc = Nll(scores, gold, std::exp(c)), fd = Nll(scores, gold, std::exp(d));
  for (int it = 0; it < 60; ++it) {
    if (fc < fd) {
      b = d;
      d = c;
      fd = fc;
      c = b - r * (b - a);
      fc = Nll(scores, gold, std::exp(c));
    } else {
      a = c;
      c = d;
      fc = fd;
      d = a + r * (b - a);
      fd = Nll(scores, gold, std::exp(d));
    }
  }
  return std::exp((a + b) / 2);
}

}  // namespace

class ClassifierTrainer {
 public:
  static void SetCalibration(IntentClassifier* c, int oos, double t, double threshold,
                             std::string training) {
    c->oos_label_ = oos;
    c->temperature_ = t;
    c->oos_threshold_ = threshold;
    c->training_json_ = std::move(training);
  }
  static void Scores(const IntentClassifier& c, std::string_view text, ClassifierState* st,
                     std::vector<float>* out) {
    c.Scores(text, st, out);
  }
};

namespace {

// Monitoring's reference rows after a refit (ClassifierTrainOptions::profile_folds): each row
// scored by a model fit on the other folds, with the final temperature and threshold.
void ScoreOutOfFold(const std::vector<const LabeledText*>& rows, const std::vector<int>& y,
                    const std::vector<std::string>& labels, const ClassifierTrainOptions& opt,
                    double temperature, int oos, double threshold,
                    std::vector<CalibrationRow>* out) {
  const int k_folds = opt.profile_folds;
  std::vector<int> fold(rows.size());
  std::map<int, std::vector<size_t>> by_label;
  for (size_t i = 0; i < rows.size(); ++i) by_label[y[i]].push_back(i);
  Rng rng(opt.seed ^ 0x9e3779b97f4a7c15ull);
  int next = 0;  // continues across labels, so small labels spread over the folds
  for (auto& [label, idx] : by_label) {
    Shuffle(&idx, &rng, idx.size());
    for (size_t i : idx) fold[i] = next++ % k_folds;
  }
  out->assign(rows.size(), CalibrationRow());
  std::vector<float> p;
  ClassifierState st;
  for (int k = 0; k < k_folds; ++k) {
    std::vector<const LabeledText*> fit_rows;
    std::vector<int> fit_y;
    for (size_t i = 0; i < rows.size(); ++i) {
      if (fold[i] == k) continue;
      fit_rows.push_back(rows[i]);
      fit_y.push_back(y[i]);
    }
    auto model = Fit(fit_rows, fit_y, labels, opt);
    for (size_t i = 0; i < rows.size(); ++i) {
      if (fold[i] != k) continue;
      ClassifierTrainer::Scores(*model, rows[i]->text, &st, &p);
      Softmax(temperature, &p);
      const ScoredLabel d = Decide(p, oos, threshold);
      CalibrationRow& c = (*out)[i];
      c.row = rows[i];
      c.gold = y[i];
      c.predicted = d.label;
      c.score = d.score;
      c.abstained = oos >= 0 && d.label == oos;
      c.vocabulary = st.vocabulary;
    }
  }
}

}  // namespace

Result<std::shared_ptr<const IntentClassifier>> IntentClassifier::Train(
    const std::vector<LabeledText>& train, const std::vector<LabeledText>& dev,
    const ClassifierTrainOptions& opt, ClassifierTrainReport* report) {
  const int64_t t0 = SystemClock()->MonotonicNanos();
  ClassifierTrainReport local;
  ClassifierTrainReport& rep = report ? *report : local;
  rep = ClassifierTrainReport();
  if (train.empty()) return InvalidArgumentError("no training rows");

  // Labels: sorted, from train. Dev rows with labels unseen in train cannot be learned.
  std::map<std::string, size_t> counts;
  for (const auto& r : train) ++counts[r.label];
  if (counts.size() < 2) {
    return InvalidArgumentError("training data has " + std::to_string(counts.size()) +
                                " label(s); a classifier needs at least 2");
  }
  std::vector<std::string> labels;
  std::map<std::string, int> label_index;
  for (const auto& [name, cnt] : counts) {
    label_index[name] = static_cast<int>(labels.size());
    labels.push_back(name);
    if (cnt == 1) rep.warnings.push_back("label '" + name + "' has a single training example");
  }
  int oos = -1;
  if (!opt.oos_label.empty()) {
    auto it = label_index.find(opt.oos_label);
    if (it == label_index.end()) {
      return InvalidArgumentError("oos label '" + opt.oos_label +
                                  "' does not occur in the training data");
    }
    oos = it->second;
  }
  std::vector<const LabeledText*> dev_rows;
  size_t dev_unknown = 0;
  for (const auto& r : dev) {
    if (label_index.count(r.label)) {
      dev_rows.push_back(&r);
    } else {
      ++dev_unknown;
    }
  }
  if (dev_unknown > 0) {
    rep.warnings.push_back(std::to_string(dev_unknown) +
                           " dev row(s) have labels never seen in training and were ignored");
  }

  // Calibration split: the dev set, or a stratified holdout of train.
  std::vector<const LabeledText*> fit_rows, cal_rows;
  if (!dev_rows.empty()) {
    for (const auto& r : train) fit_rows.push_back(&r);
    cal_rows = dev_rows;
  } else {
    std::map<std::string, std::vector<const LabeledText*>> by_label;
    for (const auto& r : train) by_label[r.label].push_back(&r);
    Rng rng(opt.seed ^ 0x5bd1e995u);
    for (auto& [name, v] : by_label) {
      Shuffle(&v, &rng, v.size());
      // Labels with very few examples stay whole in the fit split.
      const size_t hold = v.size() >= 5 ? static_cast<size_t>(v.size() * opt.holdout_fraction) : 0;
      for (size_t i = 0; i < v.size(); ++i) (i < hold ? cal_rows : fit_rows).push_back(v[i]);
    }
  }
  auto label_of = [&](const std::vector<const LabeledText*>& rows) {
    std::vector<int> y(rows.size());
    for (size_t i = 0; i < rows.size(); ++i) y[i] = label_index.at(rows[i]->label);
    return y;
  };

  auto model = Fit(fit_rows, label_of(fit_rows), labels, opt);
  double temperature = 1.0, threshold = 0.0;
  if (!cal_rows.empty()) {
    const std::vector<int> gold = label_of(cal_rows);
    std::vector<std::vector<float>> scores(cal_rows.size());
    rep.calibration.resize(cal_rows.size());
    {
      ClassifierState st;
      for (size_t i = 0; i < cal_rows.size(); ++i) {
        ClassifierTrainer::Scores(*model, cal_rows[i]->text, &st, &scores[i]);
        CalibrationRow& c = rep.calibration[i];
        c.row = cal_rows[i];
        c.gold = gold[i];
        c.vocabulary = st.vocabulary;
      }
    }
    temperature = FitTemperature(scores, gold);
    // Calibrated probabilities on the calibration rows.
    std::vector<std::vector<float>> probs(scores.size());
    for (size_t i = 0; i < scores.size(); ++i) {
      probs[i] = scores[i];
      Softmax(temperature, &probs[i]);
    }
    if (oos >= 0) threshold = ChooseOosThreshold(probs, gold, oos, opt.oos_recall_weight);
    std::vector<int> pred(probs.size());
    std::vector<float> conf(probs.size());
    for (size_t i = 0; i < probs.size(); ++i) {
      const ScoredLabel d = Decide(probs[i], oos, threshold);
      pred[i] = d.label;
      conf[i] = d.score;
      rep.calibration[i].predicted = d.label;
      rep.calibration[i].score = d.score;
      rep.calibration[i].abstained = oos >= 0 && d.label == oos;
    }
    ClassificationReport eval = Evaluate(gold, pred, conf, labels, oos);
    rep.dev_accuracy = eval.accuracy;
    rep.dev_macro_f1 = eval.macro_f1;
    rep.dev_ece = eval.ece;
    rep.dev_in_scope_accuracy = eval.in_scope_accuracy;
    rep.dev_oos_recall = eval.oos_recall;
    // Refit on everything once calibration is known: more data, same hyperparameters.
    const bool refit = dev_rows.empty() ? true : opt.refit_on_dev;
    if (refit) {
      std::vector<const LabeledText*> all_rows;
      for (const auto& r : train) all_rows.push_back(&r);
      if (!dev_rows.empty()) all_rows.insert(all_rows.end(), dev_rows.begin(), dev_rows.end());
      model = Fit(all_rows, label_of(all_rows), labels, opt);
      rep.train_rows = all_rows.size();
      if (opt.profile_folds >= 2) {
        ScoreOutOfFold(all_rows, label_of(all_rows), labels, opt, temperature, oos, threshold,
                       &rep.calibration);
        rep.calibration_split = "out_of_fold_" + std::to_string(opt.profile_folds);
      }
    } else {
      rep.train_rows = fit_rows.size();
    }
  } else {
    rep.train_rows = fit_rows.size();
  }
  rep.dev_rows = cal_rows.size();
  rep.features = model->num_features();
  rep.temperature = temperature;
  rep.oos_threshold = threshold;

  nlohmann::ordered_json tj = nlohmann::ordered_json::parse(opt.provenance_json, nullptr, false);
  if (!tj.is_object()) tj = nlohmann::ordered_json::object();
  tj["train_rows"] = train.size();
  tj["dev_rows"] = dev.size();
  tj["calibration_rows"] = cal_rows.size();
  tj["calibration_split"] = dev_rows.empty() ? "holdout_of_train" : "dev";
  if (rep.calibration_split.empty()) rep.calibration_split = tj["calibration_split"];
  tj["refit_rows"] = rep.train_rows;
  tj["params"] = {{"c", opt.c},
                  {"tolerance", opt.tolerance},
                  {"max_iterations", opt.max_iterations},
                  {"min_df", opt.min_df},
                  {"seed", opt.seed},
                  {"holdout_fraction", opt.holdout_fraction},
                  {"refit_on_dev", opt.refit_on_dev}};
  nlohmann::ordered_json dm = {
      {"accuracy", rep.dev_accuracy}, {"macro_f1", rep.dev_macro_f1}, {"ece", rep.dev_ece}};
  if (oos >= 0) {
    dm["in_scope_accuracy"] = rep.dev_in_scope_accuracy;
    dm["oos_recall"] = rep.dev_oos_recall;
  }
  tj["dev_metrics"] = dm;
  ClassifierTrainer::SetCalibration(model.get(), oos, temperature, threshold, tj.dump());
  rep.seconds = SystemClock()->SecondsSince(t0);
  return std::shared_ptr<const IntentClassifier>(std::move(model));
}

}  // namespace lote::classify
