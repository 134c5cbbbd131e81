#include "lote/registry/promotion.h"

#include <algorithm>
#include <boost/math/distributions/binomial.hpp>
#include <boost/math/distributions/chi_squared.hpp>
#include <boost/math/distributions/normal.hpp>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <numeric>
#include <random>

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

namespace {

double OneSidedBinomial(uint64_t b, uint64_t c) {
  if (b == 0) return 1;
  const boost::math::binomial_distribution<double> bin(static_cast<double>(b + c), 0.5);
  // P(X >= b) when each discordant record goes either way with probability 1/2.
  return boost::math::cdf(boost::math::complement(bin, static_cast<double>(b - 1)));
}

// Which of `p` pass Holm's step-down bound at `alpha`: sorted ascending, the k-th (from 0) must be
// below alpha / (m - k), and every smaller one must have passed.
std::vector<bool> HolmSignificant(const std::vector<double>& p, double alpha) {
  std::vector<size_t> order(p.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&p](size_t x, size_t y) { return p[x] < p[y]; });
  std::vector<bool> significant(p.size(), false);
  for (size_t k = 0; k < order.size(); ++k) {
    if (p[order[k]] >= alpha / static_cast<double>(order.size() - k)) break;
    significant[order[k]] = true;
  }
  return significant;
}

double F1(uint64_t gold, uint64_t predicted, uint64_t correct) {
  const double p =
      predicted > 0 ? static_cast<double>(correct) / static_cast<double>(predicted) : 0;
  const double r = gold > 0 ? static_cast<double>(correct) / static_cast<double>(gold) : 0;
  return p + r > 0 ? 2 * p * r / (p + r) : 0;
}

}  // namespace

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
    d.labels.push_back(std::move(l));
  }
  std::vector<double> gating_p;
  for (const LabelComparison& l : d.labels) {
    if (l.gating) gating_p.push_back(l.p_value);
  }
  const std::vector<bool> significant = HolmSignificant(gating_p, o.alpha);
  for (size_t i = 0, g = 0; i < d.labels.size(); ++i) {
    if (d.labels[i].gating) d.labels[i].significant = significant[g++];
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

EntityPromotionDecision DecideEntityPromotion(const std::vector<EntityUnit>& units,
                                              const PromotionOptions& o, uint64_t rounds,
                                              uint64_t seed) {
  EntityPromotionDecision d;
  d.units = units.size();
  d.rounds = rounds;
  std::map<std::string, size_t> index;
  for (const EntityUnit& u : units) {
    for (const auto& [type, counts] : u.by_type) index.emplace(type, 0);
  }
  std::vector<std::string> names;
  for (auto& [type, i] : index) {
    i = names.size();
    names.push_back(type);
  }
  const size_t types = names.size();
  if (units.empty() || types == 0) {
    d.reason = "the golden set has no entities";
    return d;
  }
  // Per type: gold, and (predicted, correct) of each model; per unit, what a swap moves.
  struct Delta {
    size_t type;
    int64_t predicted, correct;  // candidate minus champion
  };
  std::vector<uint64_t> gold(types, 0);
  std::vector<int64_t> pred_a(types, 0), corr_a(types, 0), pred_b(types, 0), corr_b(types, 0);
  std::vector<std::vector<Delta>> deltas(units.size());
  for (size_t i = 0; i < units.size(); ++i) {
    for (const auto& [type, counts] : units[i].by_type) {
      const size_t t = index[type];
      const EntityCounts& a = counts.first;
      const EntityCounts& b = counts.second;
      gold[t] += a.gold;
      pred_a[t] += static_cast<int64_t>(a.predicted);
      corr_a[t] += static_cast<int64_t>(a.correct);
      pred_b[t] += static_cast<int64_t>(b.predicted);
      corr_b[t] += static_cast<int64_t>(b.correct);
      const int64_t dp = static_cast<int64_t>(b.predicted) - static_cast<int64_t>(a.predicted);
      const int64_t dc = static_cast<int64_t>(b.correct) - static_cast<int64_t>(a.correct);
      if (dp != 0 || dc != 0) deltas[i].push_back({t, dp, dc});
    }
  }
  const uint64_t all_gold = std::accumulate(gold.begin(), gold.end(), uint64_t{0});
  auto micro = [&](const std::vector<int64_t>& pred, const std::vector<int64_t>& corr) {
    return F1(all_gold, static_cast<uint64_t>(std::accumulate(pred.begin(), pred.end(), 0LL)),
              static_cast<uint64_t>(std::accumulate(corr.begin(), corr.end(), 0LL)));
  };
  d.champion_f1 = micro(pred_a, corr_a);
  d.candidate_f1 = micro(pred_b, corr_b);
  const double observed = d.candidate_f1 - d.champion_f1;
  std::vector<double> drop(types);
  for (size_t t = 0; t < types; ++t) {
    drop[t] = F1(gold[t], static_cast<uint64_t>(pred_a[t]), static_cast<uint64_t>(corr_a[t])) -
              F1(gold[t], static_cast<uint64_t>(pred_b[t]), static_cast<uint64_t>(corr_b[t]));
  }
  // Approximate randomization: swap each document's two sets of counts with probability 1/2.
  constexpr double kTie = 1e-12;
  std::mt19937_64 rng(seed);
  uint64_t extreme = 0;
  std::vector<uint64_t> extreme_type(types, 0);
  std::vector<int64_t> pa, ca, pb, cb;
  for (uint64_t r = 0; r < rounds; ++r) {
    pa = pred_a;
    ca = corr_a;
    pb = pred_b;
    cb = corr_b;
    uint64_t bits = 0;
    for (size_t i = 0; i < units.size(); ++i) {
      if (i % 64 == 0) bits = rng();
      const bool swap = (bits >> (i % 64)) & 1;
      if (!swap) continue;
      for (const Delta& x : deltas[i]) {
        pa[x.type] += x.predicted;
        ca[x.type] += x.correct;
        pb[x.type] -= x.predicted;
        cb[x.type] -= x.correct;
      }
    }
    if (std::fabs(micro(pb, cb) - micro(pa, ca)) >= std::fabs(observed) - kTie) ++extreme;
    for (size_t t = 0; t < types; ++t) {
      const double dt = F1(gold[t], static_cast<uint64_t>(pa[t]), static_cast<uint64_t>(ca[t])) -
                        F1(gold[t], static_cast<uint64_t>(pb[t]), static_cast<uint64_t>(cb[t]));
      if (dt >= drop[t] - kTie) ++extreme_type[t];
    }
  }
  const double denominator = static_cast<double>(rounds + 1);
  d.p_value = static_cast<double>(extreme + 1) / denominator;
  std::vector<double> gating_p;
  for (size_t t = 0; t < types; ++t) {
    EntityTypeComparison c;
    c.type = names[t];
    c.gold = gold[t];
    c.champion_f1 = F1(gold[t], static_cast<uint64_t>(pred_a[t]), static_cast<uint64_t>(corr_a[t]));
    c.candidate_f1 =
        F1(gold[t], static_cast<uint64_t>(pred_b[t]), static_cast<uint64_t>(corr_b[t]));
    // A type whose F1 did not drop has no evidence of getting worse.
    c.p_value = drop[t] > 0 ? static_cast<double>(extreme_type[t] + 1) / denominator : 1.0;
    c.gating = gold[t] >= o.min_label_rows;
    if (c.gating) gating_p.push_back(c.p_value);
    d.types.push_back(std::move(c));
  }
  const std::vector<bool> significant = HolmSignificant(gating_p, o.alpha);
  d.non_inferior = true;
  for (size_t t = 0, g = 0; t < types; ++t) {
    EntityTypeComparison& c = d.types[t];
    if (c.gating) c.significant = significant[g++];
    c.worse = c.gating && c.significant && drop[t] > o.recall_margin;
    d.non_inferior = d.non_inferior && !c.worse;
  }
  d.better = observed > 0 && d.p_value < o.alpha && observed >= o.min_gain;
  d.promote = d.better && d.non_inferior;
  char buf[256];
  if (d.promote) {
    std::snprintf(buf, sizeof buf,
                  "the candidate is better: entity F1 %.4f vs %.4f over %llu documents, "
                  "randomization p = %.3g",
                  d.candidate_f1, d.champion_f1, static_cast<unsigned long long>(d.units),
                  d.p_value);
  } else if (observed <= 0) {
    std::snprintf(buf, sizeof buf, "the candidate is not more accurate: entity F1 %.4f vs %.4f",
                  d.candidate_f1, d.champion_f1);
  } else if (d.p_value >= o.alpha) {
    std::snprintf(buf, sizeof buf,
                  "the difference is not significant: randomization p = %.3g >= %.3g over %llu "
                  "documents",
                  d.p_value, o.alpha, static_cast<unsigned long long>(d.units));
  } else if (observed < o.min_gain) {
    std::snprintf(buf, sizeof buf, "the F1 gain %.4f is below the minimum %.4f", observed,
                  o.min_gain);
  } else {
    std::string worse;
    for (const auto& c : d.types) {
      if (c.worse) worse += (worse.empty() ? "" : ", ") + c.type;
    }
    std::snprintf(buf, sizeof buf,
                  "types lose more than %.3f F1, significantly (Holm, alpha %.3g): %s",
                  o.recall_margin, o.alpha, worse.substr(0, 150).c_str());
  }
  d.reason = buf;
  return d;
}

std::string EntityPromotionDecisionJson(const EntityPromotionDecision& d,
                                        const PromotionOptions& o) {
  nlohmann::ordered_json j;
  j["promote"] = d.promote;
  j["reason"] = d.reason;
  j["kind"] = "entities";
  j["units"] = d.units;
  j["rounds"] = d.rounds;
  j["champion_f1"] = d.champion_f1;
  j["candidate_f1"] = d.candidate_f1;
  j["p_value"] = d.p_value;
  j["better"] = d.better;
  j["non_inferior"] = d.non_inferior;
  nlohmann::ordered_json worse = nlohmann::ordered_json::array(),
                         types = nlohmann::ordered_json::array();
  for (const auto& c : d.types) {
    if (c.worse) worse.push_back(c.type);
    types.push_back({{"type", c.type},
                     {"gold", c.gold},
                     {"champion_f1", c.champion_f1},
                     {"candidate_f1", c.candidate_f1},
                     {"p_value", c.p_value},
                     {"gating", c.gating},
                     {"worse", c.worse}});
  }
  j["types_worse"] = worse;
  j["types"] = types;
  j["options"] = {{"alpha", o.alpha},
                  {"min_gain", o.min_gain},
                  {"f1_margin", o.recall_margin},
                  {"min_type_entities", o.min_label_rows}};
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace lote::registry
