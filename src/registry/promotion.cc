#include "lote/registry/promotion.h"

#include <algorithm>
#include <boost/math/distributions/binomial.hpp>
#include <boost/math/distributions/chi_squared.hpp>
#include <boost/math/distributions/normal.hpp>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>

namespace lote::registry {

namespace {

constexpr uint64_t kExactBelow = 25;  // discordant pairs under which the exact test is used
constexpr int kEceBins = 15;

// Expected calibration error: confidence vs accuracy in 15 equal-width bins, weighted by size.
double Ece(const std::vector<float>& score, const std::vector<bool>& right) {
  if (score.empty()) return 0;
  double conf[kEceBins] = {}, acc[kEceBins] = {};
  uint64_t count[kEceBins] = {};
  for (size_t i = 0; i < score.size(); ++i) {
    const double s = std::clamp(static_cast<double>(score[i]), 0.0, 1.0);
    const int b = std::min(kEceBins - 1, static_cast<int>(s * kEceBins));
    conf[b] += s;
    acc[b] += right[i] ? 1 : 0;
    ++count[b];
  }
  double ece = 0;
  for (int b = 0; b < kEceBins; ++b) {
    if (count[b] == 0) continue;
    ece += std::fabs(acc[b] - conf[b]) / static_cast<double>(score.size());
  }
  return ece;
}

}  // namespace

McNemarResult McNemar(uint64_t b, uint64_t c) {
  McNemarResult r;
  r.b = b;
  r.c = c;
  const uint64_t n = b + c;
  if (n == 0) {
    r.test = "exact_binomial";
    return r;
  }
  if (n < kExactBelow) {
    r.test = "exact_binomial";
    const boost::math::binomial_distribution<double> bin(static_cast<double>(n), 0.5);
    const double tail = boost::math::cdf(bin, static_cast<double>(std::min(b, c)));
    r.p_value = std::min(1.0, 2 * tail);
    return r;
  }
  r.test = "chi_square_cc";
  const double d = std::fabs(static_cast<double>(b) - static_cast<double>(c)) - 1;
  r.statistic = d > 0 ? d * d / static_cast<double>(n) : 0;
  const boost::math::chi_squared_distribution<double> chi(1);
  r.p_value = boost::math::cdf(boost::math::complement(chi, r.statistic));
  return r;
}

double OneSidedBinomial(uint64_t b, uint64_t c) {
  if (b == 0) return 1;
  const boost::math::binomial_distribution<double> bin(static_cast<double>(b + c), 0.5);
  // P(X >= b) when each discordant record goes either way with probability 1/2.
  return boost::math::cdf(boost::math::complement(bin, static_cast<double>(b - 1)));
}

std::optional<uint64_t> McNemarSampleSize(double discordant, double effect, double alpha,
                                          double power) {
  if (!(effect > 0) || !(discordant > effect * effect) || !(alpha > 0 && alpha < 1) ||
      !(power > 0 && power < 1)) {
    return std::nullopt;
  }
  const boost::math::normal_distribution<double> z;
  const double za = boost::math::quantile(z, 1 - alpha / 2);
  const double zb = boost::math::quantile(z, power);
  const double root = za * std::sqrt(discordant) + zb * std::sqrt(discordant - effect * effect);
  const double n = root * root / (effect * effect);
  if (!(n < 1e15)) return std::nullopt;
  return static_cast<uint64_t>(std::ceil(n));
}

PromotionDecision DecidePromotion(const std::vector<GoldenOutcome>& outcomes,
                                  const PromotionOptions& o) {
  PromotionDecision d;
  d.n = outcomes.size();
  if (outcomes.empty()) {
    d.reason = "the golden set has no rows";
    return d;
  }
  uint64_t champion_right = 0, candidate_right = 0, b = 0, c = 0;
  struct Tally {
    uint64_t rows = 0, champion = 0, candidate = 0;
    uint64_t b = 0, c = 0;  // only the champion right; only the candidate right
  };
  std::map<std::string, Tally> by_label;
  std::vector<float> champion_scores, candidate_scores;
  std::vector<bool> champion_ok, candidate_ok;
  for (const GoldenOutcome& g : outcomes) {
    const bool a = g.champion == g.gold, k = g.candidate == g.gold;
    champion_right += a;
    candidate_right += k;
    b += a && !k;
    c += k && !a;
    Tally& t = by_label[g.gold];
    ++t.rows;
    t.champion += a;
    t.candidate += k;
    t.b += a && !k;
    t.c += k && !a;
    champion_scores.push_back(g.champion_score);
    candidate_scores.push_back(g.candidate_score);
    champion_ok.push_back(a);
    candidate_ok.push_back(k);
  }
  const double n = static_cast<double>(d.n);
  d.champion_accuracy = static_cast<double>(champion_right) / n;
  d.candidate_accuracy = static_cast<double>(candidate_right) / n;
  d.test = McNemar(b, c);
  const double gain = (static_cast<double>(c) - static_cast<double>(b)) / n;
  d.better = c > b && d.test.p_value < o.alpha && gain >= o.min_gain;
  // A label is worse when its recall drops by more than the margin and the drop is evidence,
  // not noise: on 20 rows one record moves recall by 0.05. Its paired records (b_l only the
  // champion right, c_l only the candidate) give a one-sided exact binomial p-value, held to
  // Holm's step-down bound over the gating labels so that testing many labels does not by itself
  // block every candidate.
  size_t gating = 0;
  for (const auto& [label, t] : by_label) {
    LabelComparison l;
    l.label = label;
    l.rows = t.rows;
    l.b = t.b;
    l.c = t.c;
    l.champion_recall = static_cast<double>(t.champion) / static_cast<double>(t.rows);
    l.candidate_recall = static_cast<double>(t.candidate) / static_cast<double>(t.rows);
    l.gating = t.rows >= o.min_label_rows;
    l.p_value = OneSidedBinomial(t.b, t.c);
    gating += l.gating;
    d.labels.push_back(std::move(l));
  }
  std::vector<LabelComparison*> order;
  for (LabelComparison& l : d.labels) {
    if (l.gating) order.push_back(&l);
  }
  std::stable_sort(
      order.begin(), order.end(),
      [](const LabelComparison* x, const LabelComparison* y) { return x->p_value < y->p_value; });
  for (size_t k = 0; k < order.size(); ++k) {
    // Holm: the k-th smallest p-value is significant while every smaller one was.
    if (order[k]->p_value >= o.alpha / static_cast<double>(gating - k)) break;
    order[k]->significant = true;
  }
  d.non_inferior = true;
  for (LabelComparison& l : d.labels) {
    l.worse = l.gating && l.significant && l.champion_recall - l.candidate_recall > o.recall_margin;
    d.non_inferior = d.non_inferior && !l.worse;
  }
  d.champion_ece = Ece(champion_scores, champion_ok);
  d.candidate_ece = Ece(candidate_scores, candidate_ok);
  d.calibrated = d.candidate_ece <= d.champion_ece + o.ece_margin;
  d.promote = d.better && d.non_inferior && d.calibrated;
  if (!(c > b && d.test.p_value < o.alpha)) {
    d.needed_rows = McNemarSampleSize(static_cast<double>(b + c) / n, gain, o.alpha, o.power);
  }
  char buf[256];
  if (d.promote) {
    std::snprintf(buf, sizeof buf,
                  "the candidate is better: %.4f vs %.4f accuracy, %llu vs %llu records only one "
                  "model got right, McNemar p = %.3g",
                  d.candidate_accuracy, d.champion_accuracy, static_cast<unsigned long long>(c),
                  static_cast<unsigned long long>(b), d.test.p_value);
  } else if (c <= b) {
    std::snprintf(buf, sizeof buf,
                  "the candidate is not more accurate: %.4f vs %.4f (it alone right on %llu "
                  "records, the champion alone on %llu)",
                  d.candidate_accuracy, d.champion_accuracy, static_cast<unsigned long long>(c),
                  static_cast<unsigned long long>(b));
  } else if (d.test.p_value >= o.alpha) {
    std::snprintf(buf, sizeof buf,
                  "the difference is not significant: McNemar p = %.3g >= %.3g on %llu records",
                  d.test.p_value, o.alpha, static_cast<unsigned long long>(d.n));
  } else if (gain < o.min_gain) {
    std::snprintf(buf, sizeof buf, "the gain %.4f is below the minimum %.4f", gain, o.min_gain);
  } else if (!d.non_inferior) {
    std::string worse;
    for (const auto& l : d.labels) {
      if (l.worse) worse += (worse.empty() ? "" : ", ") + l.label;
    }
    std::snprintf(buf, sizeof buf,
                  "labels lose more than %.3f recall, significantly (Holm, alpha %.3g): %s",
                  o.recall_margin, o.alpha, worse.substr(0, 150).c_str());
  } else {
    std::snprintf(buf, sizeof buf,
                  "the candidate is worse calibrated: ECE %.4f vs the champion's %.4f (margin "
                  "%.3f)",
                  d.candidate_ece, d.champion_ece, o.ece_margin);
  }
  d.reason = buf;
  return d;
}

std::string PromotionDecisionJson(const PromotionDecision& d, const PromotionOptions& o) {
  nlohmann::ordered_json j;
  j["promote"] = d.promote;
  j["reason"] = d.reason;
  j["n"] = d.n;
  j["champion_accuracy"] = d.champion_accuracy;
  j["candidate_accuracy"] = d.candidate_accuracy;
  j["mcnemar"] = {{"b", d.test.b},
                  {"c", d.test.c},
                  {"statistic", d.test.statistic},
                  {"p_value", d.test.p_value},
                  {"test", d.test.test}};
  j["better"] = d.better;
  j["non_inferior"] = d.non_inferior;
  j["calibrated"] = d.calibrated;
  j["champion_ece"] = d.champion_ece;
  j["candidate_ece"] = d.candidate_ece;
  nlohmann::ordered_json worse = nlohmann::ordered_json::array(),
                         labels = nlohmann::ordered_json::array();
  for (const auto& l : d.labels) {
    if (l.worse) worse.push_back(l.label);
    labels.push_back({{"label", l.label},
                      {"rows", l.rows},
                      {"champion_recall", l.champion_recall},
                      {"candidate_recall", l.candidate_recall},
                      {"only_champion_right", l.b},
                      {"only_candidate_right", l.c},
                      {"p_value", l.p_value},
                      {"gating", l.gating},
                      {"worse", l.worse}});
  }
  j["labels_worse"] = worse;
  j["labels"] = labels;
  j["needed_rows"] = d.needed_rows ? nlohmann::ordered_json(*d.needed_rows) : nullptr;
  j["options"] = {{"alpha", o.alpha},
                  {"min_gain", o.min_gain},
                  {"recall_margin", o.recall_margin},
                  {"min_label_rows", o.min_label_rows},
                  {"ece_margin", o.ece_margin},
                  {"power", o.power}};
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace lote::registry
