#include "lote/classify/metrics.h"

#include <algorithm>
#include <cmath>
#include <map>

namespace lote::classify {

double ExpectedCalibrationError(const std::vector<float>& confidence,
                                const std::vector<bool>& correct, int bins) {
  if (confidence.empty()) return 0.0;
  std::vector<double> conf_sum(bins, 0), acc_sum(bins, 0);
  std::vector<size_t> count(bins, 0);
  for (size_t i = 0; i < confidence.size(); ++i) {
    int b = static_cast<int>(confidence[i] * bins);
    b = std::clamp(b, 0, bins - 1);
    conf_sum[b] += confidence[i];
    acc_sum[b] += correct[i] ? 1.0 : 0.0;
    ++count[b];
  }
  double ece = 0;
  for (int b = 0; b < bins; ++b) {
    if (count[b] == 0) continue;
    ece += std::fabs(acc_sum[b] - conf_sum[b]) / static_cast<double>(confidence.size());
  }
  return ece;
}

ClassificationReport Evaluate(const std::vector<int>& gold, const std::vector<int>& pred,
                              const std::vector<float>& confidence,
                              const std::vector<std::string>& labels, int oos) {
  ClassificationReport r;
  r.n = gold.size();
  const size_t k = labels.size();
  std::vector<size_t> tp(k, 0), gold_count(k, 0), pred_count(k, 0);
  std::map<std::pair<int, int>, size_t> confusion;
  std::vector<bool> correct(gold.size());
  size_t right = 0, in_scope = 0, in_scope_right = 0, oos_gold = 0, oos_hit = 0, oos_pred = 0;
  for (size_t i = 0; i < gold.size(); ++i) {
    const int g = gold[i], p = pred[i];
    ++gold_count[g];
    ++pred_count[p];
    correct[i] = g == p;
    if (g == p) {
      ++right;
      ++tp[g];
    } else {
      ++confusion[{g, p}];
    }
    if (oos >= 0) {
      if (p == oos) ++oos_pred;
      if (g == oos) {
        ++oos_gold;
        if (p == oos) ++oos_hit;
      } else {
        ++in_scope;
        if (g == p) ++in_scope_right;
      }
    }
  }
  r.accuracy = r.n ? static_cast<double>(right) / r.n : 0.0;
  double f1_sum = 0;
  size_t f1_labels = 0;
  for (size_t j = 0; j < k; ++j) {
    LabelMetrics m;
    m.label = labels[j];
    m.support = gold_count[j];
    m.predicted = pred_count[j];
    m.precision = pred_count[j] ? static_cast<double>(tp[j]) / pred_count[j] : 0.0;
    m.recall = gold_count[j] ? static_cast<double>(tp[j]) / gold_count[j] : 0.0;
    m.f1 = m.precision + m.recall > 0 ? 2 * m.precision * m.recall / (m.precision + m.recall) : 0;
    if (gold_count[j] > 0 || pred_count[j] > 0) {
      f1_sum += m.f1;
      ++f1_labels;
      r.per_label.push_back(m);
    }
  }
  r.macro_f1 = f1_labels ? f1_sum / f1_labels : 0.0;
  r.ece = ExpectedCalibrationError(confidence, correct);
  if (oos >= 0) {
    r.in_scope_accuracy = in_scope ? static_cast<double>(in_scope_right) / in_scope : 0.0;
    r.oos_recall = oos_gold ? static_cast<double>(oos_hit) / oos_gold : 0.0;
    r.oos_precision = oos_pred ? static_cast<double>(oos_hit) / oos_pred : 0.0;
  }
  std::vector<Confusion> conf;
  for (const auto& [gp, cnt] : confusion)
    conf.push_back({labels[gp.first], labels[gp.second], cnt});
  std::stable_sort(conf.begin(), conf.end(),
                   [](const Confusion& a, const Confusion& b) { return a.count > b.count; });
  if (conf.size() > 20) conf.resize(20);
  r.confusions = std::move(conf);
  return r;
}

double ChooseOosThreshold(const std::vector<std::vector<float>>& probs,
                          const std::vector<int>& gold, int oos, double oos_weight) {
  // For each row: the best in-scope label and its probability, and whether the model without
  // abstention already predicts oos.
  struct Row {
    float p;      // max in-scope probability (if argmax is in scope), else -1
    bool is_oos;  // gold is oos
    bool right;   // argmax == gold
  };
  std::vector<Row> rows;
  size_t n_in = 0, n_oos = 0;
  for (size_t i = 0; i < probs.size(); ++i) {
    const auto& p = probs[i];
    const int best = static_cast<int>(std::max_element(p.begin(), p.end()) - p.begin());
    rows.push_back({best == oos ? -1.0f : p[best], gold[i] == oos, best == gold[i]});
    (gold[i] == oos ? n_oos : n_in)++;
  }
  if (n_oos == 0 || n_in == 0) return 0.0;
  // Sweep thresholds over the sorted in-scope probabilities: abstain when p < threshold.
  std::vector<size_t> order(rows.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return rows[a].p < rows[b].p; });
  size_t in_right = 0, oos_hit = 0;
  for (const auto& r : rows) {
    if (!r.is_oos && r.right) ++in_right;
    if (r.is_oos && r.p < 0) ++oos_hit;  // argmax already oos
  }
  double best_obj =
      static_cast<double>(in_right) / n_in + oos_weight * static_cast<double>(oos_hit) / n_oos;
  double best_t = 0.0;
  for (size_t j = 0; j < order.size(); ++j) {
    const Row& r = rows[order[j]];
    if (r.p < 0) continue;
    // Threshold just above r.p: this row now abstains.
    if (r.is_oos) {
      ++oos_hit;
    } else if (r.right) {
      --in_right;
    }
    if (j + 1 < order.size() && rows[order[j + 1]].p == r.p) continue;
    const double obj =
        static_cast<double>(in_right) / n_in + oos_weight * static_cast<double>(oos_hit) / n_oos;
    if (obj > best_obj + 1e-12) {
      best_obj = obj;
      const float next = j + 1 < order.size() ? rows[order[j + 1]].p : 1.0f;
      best_t = (static_cast<double>(r.p) + next) / 2;
    }
  }
  return best_t;
}

}  // namespace lote::classify
