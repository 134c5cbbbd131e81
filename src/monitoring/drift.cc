#include "lote/monitoring/drift.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>

namespace lote::monitoring {

namespace {

using Json = nlohmann::ordered_json;
using Counts = std::vector<uint64_t>;

enum class Test { kChiSquare, kJensenShannon, kKolmogorovSmirnov, kWasserstein };

const char* TestName(Test t) {
  switch (t) {
    case Test::kChiSquare:
      return "chi_square";
    case Test::kJensenShannon:
      return "jensen_shannon";
    case Test::kKolmogorovSmirnov:
      return "kolmogorov_smirnov";
    case Test::kWasserstein:
      return "wasserstein_norm";
  }
  return "";
}

uint64_t Sum(const Counts& c) {
  uint64_t n = 0;
  for (uint64_t x : c) n += x;
  return n;
}

double ChiSquare(const Counts& a, const Counts& b) {
  const double na = static_cast<double>(Sum(a)), nb = static_cast<double>(Sum(b));
  double chi2 = 0;
  for (size_t k = 0; k < a.size(); ++k) {
    const double pooled = static_cast<double>(a[k] + b[k]);
    if (pooled == 0) continue;
    const double ea = na * pooled / (na + nb), eb = nb * pooled / (na + nb);
    chi2 += (a[k] - ea) * (a[k] - ea) / ea + (b[k] - eb) * (b[k] - eb) / eb;
  }
  return chi2;
}

double JensenShannonDistance(const Counts& a, const Counts& b) {
  const double na = static_cast<double>(Sum(a)), nb = static_cast<double>(Sum(b));
  double js = 0;
  for (size_t k = 0; k < a.size(); ++k) {
    const double p = a[k] / na, q = b[k] / nb, m = (p + q) / 2;
    if (p > 0) js += 0.5 * p * std::log(p / m);
    if (q > 0) js += 0.5 * q * std::log(q / m);
  }
  return std::sqrt(std::max(0.0, js));
}

// Which shifts of a numeric signal count: either way, or only a batch lying above (its CDF
// below the reference's) or below the reference.
enum class Side { kBoth, kAbove, kBelow };

// The gap between the reference's (fa) and the batch's (fb) binned CDFs at a bin edge.
double CdfGap(double fa, double fb, Side side) {
  switch (side) {
    case Side::kAbove:
      return std::max(0.0, fa - fb);
    case Side::kBelow:
      return std::max(0.0, fb - fa);
    case Side::kBoth:
      break;
  }
  return std::fabs(fa - fb);
}

// Largest gap between the two binned CDFs; and the area between them, in the bins' values.
double KolmogorovSmirnov(const Counts& a, const Counts& b, Side side) {
  const double na = static_cast<double>(Sum(a)), nb = static_cast<double>(Sum(b));
  double ca = 0, cb = 0, d = 0;
  for (size_t k = 0; k < a.size(); ++k) {
    ca += a[k];
    cb += b[k];
    d = std::max(d, CdfGap(ca / na, cb / nb, side));
  }
  return d;
}

double Wasserstein(const Counts& a, const Counts& b, const std::vector<double>& x, Side side) {
  const double na = static_cast<double>(Sum(a)), nb = static_cast<double>(Sum(b));
  double ca = 0, cb = 0, w = 0;
  for (size_t k = 0; k + 1 < a.size(); ++k) {
    ca += a[k];
    cb += b[k];
    w += CdfGap(ca / na, cb / nb, side) * (x[k + 1] - x[k]);
  }
  return w;
}

// Draws counts ~ Multinomial(n, p) by conditional binomials (O(bins), whatever n).
void SampleMultinomial(const std::vector<double>& p, uint64_t n, std::mt19937_64* rng,
                       Counts* out) {
  out->assign(p.size(), 0);
  double mass = 1.0;
  uint64_t left = n;
  for (size_t k = 0; k < p.size() && left > 0; ++k) {
    if (p[k] <= 0) continue;
    const double q = k + 1 == p.size() ? 1.0 : std::min(1.0, p[k] / mass);
    std::binomial_distribution<uint64_t> draw(left, q);
    const uint64_t x = q >= 1.0 ? left : draw(*rng);
    (*out)[k] = x;
    left -= x;
    mass -= p[k];
    if (mass <= 0) mass = 0;
  }
  // Rounding left some mass unassigned: give the rest to the last non-empty bin.
  if (left > 0) {
    for (size_t k = p.size(); k-- > 0;) {
      if (p[k] > 0) {
        (*out)[k] += left;
        break;
      }
    }
  }
}

// Lower regularized gamma P(a, x) by its series (x < a + 1).
double GammaPSeries(double a, double x) {
  double sum = 1.0 / a, term = sum, ap = a;
  for (int i = 0; i < 1000; ++i) {
    ap += 1;
    term *= x / ap;
    sum += term;
    if (std::fabs(term) < std::fabs(sum) * 1e-15) break;
  }
  return sum * std::exp(-x + a * std::log(x) - std::lgamma(a));
}

// Upper regularized gamma Q(a, x) by its continued fraction (x >= a + 1), modified Lentz.
double GammaQFraction(double a, double x) {
  constexpr double kTiny = 1e-300;
  double b = x + 1 - a, c = 1 / kTiny, d = 1 / b, h = d;
  for (int i = 1; i < 1000; ++i) {
    const double an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = b + an / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1 / d;
    const double delta = d * c;
    h *= delta;
    if (std::fabs(delta - 1) < 1e-15) break;
  }
  return std::exp(-x + a * std::log(x) - std::lgamma(a)) * h;
}

// x with Q(a, x) = p, by bisection.
double GammaQInverse(double a, double p) {
  double lo = 0, hi = a + 10 * std::sqrt(a) + 10;
  while (GammaQ(a, hi) > p && hi < 1e12) hi *= 2;
  for (int i = 0; i < 200; ++i) {
    const double mid = (lo + hi) / 2;
    (GammaQ(a, mid) > p ? lo : hi) = mid;
  }
  return (lo + hi) / 2;
}

// The null distribution of a statistic, simulated and summarized by a fitted gamma.
struct Null {
  double mean = 0, var = 0;
  // P(T >= t) under the null, T the (transformed) statistic.
  double PValue(double t) const {
    if (!(var > 0) || !(mean > 0)) return t > mean * (1 + 1e-9) + 1e-12 ? 0.0 : 1.0;
    const double k = mean * mean / var, theta = var / mean;
    return GammaQ(k, t / theta);
  }
  // The t with PValue(t) = p.
  double Quantile(double p) const {
    if (!(var > 0) || !(mean > 0)) return mean;
    const double k = mean * mean / var, theta = var / mean;
    return theta * GammaQInverse(k, p);
  }
};

struct Comparison {
  std::string name, kind;
  Counts reference, batch;
  Test test;
  std::vector<double> x;  // bin values (numeric)
  Side side = Side::kBoth;
  double reference_std = 1;
  double reference_value = 0, batch_value = 0;
};

// The statistic, and its transform fitted by the gamma (squares of distances).
double Statistic(const Comparison& c, const Counts& a, const Counts& b) {
  // A one-sided rate ({no, yes} counts): a batch rate at or below the reference's is no shift.
  if (c.kind == "rate" && c.side == Side::kAbove &&
      static_cast<double>(b[1]) * static_cast<double>(Sum(a)) <=
          static_cast<double>(a[1]) * static_cast<double>(Sum(b))) {
    return 0;
  }
  switch (c.test) {
    case Test::kChiSquare:
      return ChiSquare(a, b);
    case Test::kJensenShannon:
      return JensenShannonDistance(a, b);
    case Test::kKolmogorovSmirnov:
      return KolmogorovSmirnov(a, b, c.side);
    case Test::kWasserstein:
      return Wasserstein(a, b, c.x, c.side) / std::max(c.reference_std, 1e-3);
  }
  return 0;
}
bool Squared(Test t) { return t != Test::kChiSquare; }

SignalResult Evaluate(const Comparison& c, int tested, const DriftOptions& o) {
  SignalResult r;
  r.name = c.name;
  r.kind = c.kind;
  r.test = TestName(c.test);
  r.reference_value = c.reference_value;
  r.batch_value = c.batch_value;
  r.statistic = Statistic(c, c.reference, c.batch);
  const uint64_t na = Sum(c.reference), nb = Sum(c.batch);
  std::vector<double> pooled(c.reference.size());
  for (size_t k = 0; k < pooled.size(); ++k) {
    pooled[k] = static_cast<double>(c.reference[k] + c.batch[k]) / static_cast<double>(na + nb);
  }
  std::mt19937_64 rng(o.seed ^ std::hash<std::string>{}(c.name));
  Counts a, b;
  double s1 = 0, s2 = 0;
  const int reps = std::max(o.replicates, 10);
  for (int i = 0; i < reps; ++i) {
    SampleMultinomial(pooled, na, &rng, &a);
    SampleMultinomial(pooled, nb, &rng, &b);
    double t = Statistic(c, a, b);
    if (Squared(c.test)) t *= t;
    s1 += t;
    s2 += t * t;
  }
  Null null;
  null.mean = s1 / reps;
  null.var = std::max(0.0, s2 / reps - null.mean * null.mean) * reps / (reps - 1);
  const double t_obs = Squared(c.test) ? r.statistic * r.statistic : r.statistic;
  r.p_value = std::clamp(null.PValue(t_obs), 0.0, 1.0);
  auto untransform = [&](double t) { return Squared(c.test) ? std::sqrt(std::max(0.0, t)) : t; };
  const double m = std::max(tested, 1);
  r.warn_threshold = untransform(null.Quantile(o.alpha_warn / m));
  r.threshold = untransform(null.Quantile(o.alpha_drift / m));
  double floor = 0;
  if (c.test == Test::kJensenShannon) floor = o.min_js_distance;
  if (c.test == Test::kWasserstein) floor = o.min_wasserstein;
  r.threshold = std::max(r.threshold, floor);
  if (r.p_value < o.alpha_drift / m && r.statistic >= floor) {
    r.band = Band::kDrift;
  } else if (r.p_value < o.alpha_warn / m) {
    r.band = Band::kWarn;
  } else {
    r.band = Band::kOk;
  }
  return r;
}

AccuracyEstimate Estimate(uint64_t n, double sum, double sum_sq, double offset, double ece,
                          double z) {
  AccuracyEstimate e;
  e.records = n;
  if (n == 0) return e;
  const double dn = static_cast<double>(n);
  e.mean_score = sum / dn;
  e.value = std::clamp(e.mean_score - offset, 0.0, 1.0);
  const double var = std::max(0.0, sum - sum_sq) / (dn * dn);
  const double half = z * std::sqrt(var) + ece;
  e.low = std::max(0.0, e.value - half);
  e.high = std::min(1.0, e.value + half);
  return e;
}

double Finite(double v) { return std::isfinite(v) ? v : 0.0; }

// A share of yes among `n` as a two-category signal ({no, yes}) for the categorical tests, picked
// by the size of what the share is of (records, or check-digit candidates); the means reported are
// the two shares.
Comparison RateComparison(std::string name, uint64_t ref_yes, uint64_t ref_n, uint64_t cur_yes,
                          uint64_t cur_n, Side side, uint64_t small_batch) {
  Comparison c;
  c.name = std::move(name);
  c.kind = "rate";
  c.test = cur_n <= small_batch ? Test::kChiSquare : Test::kJensenShannon;
  c.reference = {ref_n - ref_yes, ref_yes};
  c.batch = {cur_n - cur_yes, cur_yes};
  c.side = side;
  c.reference_value = static_cast<double>(ref_yes) / static_cast<double>(ref_n);
  c.batch_value = static_cast<double>(cur_yes) / static_cast<double>(cur_n);
  return c;
}

// The entity signals: for each pattern type, the share of records holding it (either way: fewer
// amounts or dates than usual is as telling as more); for CEDULA, NIT and CARD, the share of
// candidates failing their check (only a rise counts). A type neither side found says nothing
// and is not tested (it would only dilute the others' thresholds).
void AddEntityComparisons(const Profile& reference, const Profile& batch, uint64_t small_batch,
                          std::vector<Comparison>* out, std::vector<std::string>* notes) {
  const EntityProfile& ref = reference.entities();
  const EntityProfile& cur = batch.entities();
  if (ref.records == 0) {
    notes->push_back(
        "the reference profile has no entity counts (a model trained by an older lote, or "
        "trained without pattern extraction): no entity signals");
    return;
  }
  if (cur.records == 0) {
    notes->push_back("the run did not extract entities: no entity signals");
    return;
  }
  const std::vector<std::string>& types = extract::PatternTypes();
  for (size_t k = 0; k < types.size(); ++k) {
    if (ref.type_records[k] + cur.type_records[k] == 0) continue;
    out->push_back(RateComparison("entity_rate:" + types[k], ref.type_records[k], ref.records,
                                  cur.type_records[k], cur.records, Side::kBoth, small_batch));
  }
  for (int t = 0; t < extract::kCheckedTypes; ++t) {
    const std::string type(extract::CheckedTypeName(static_cast<extract::CheckedType>(t)));
    // No candidate in the batch, or no failure on either side: nothing to test.
    if (cur.candidates[t] == 0 || ref.failures[t] + cur.failures[t] == 0) continue;
    if (ref.candidates[t] == 0) {
      notes->push_back("signal check_failure_rate:" + type + ": the reference has no " + type +
                       " candidates to compare the batch's " + std::to_string(cur.candidates[t]) +
                       " with");
      continue;
    }
    out->push_back(RateComparison("check_failure_rate:" + type, ref.failures[t], ref.candidates[t],
                                  cur.failures[t], cur.candidates[t], Side::kAbove, small_batch));
  }
}

// The tagger's signals: for each entity type either side found, the share of tagged sentences
// holding it, compared both ways. The reference counts dev sentences (extract::TaggerTrainReport),
// so the batch counts sentences too, not records of one or more sentences. Sentences of one
// record are not independent draws; the tests treat them as if they were (docs/monitoring.md).
void AddTaggerComparisons(const Profile& reference, const Profile& batch, uint64_t small_batch,
                          std::vector<Comparison>* out, std::vector<std::string>* notes) {
  const TaggerEntityProfile& ref = reference.tagger_entities();
  const TaggerEntityProfile& cur = batch.tagger_entities();
  if (cur.sentences == 0) return;  // no tagger ran (or no text had a sentence): nothing to say
  if (ref.sentences == 0) {
    notes->push_back(
        "the reference profile has no tagger counts (a tagger trained without --dev, or by an "
        "older lote): no sentence_entity_rate signals");
    return;
  }
  std::map<std::string, std::pair<uint64_t, uint64_t>, std::less<>> joined;
  for (const auto& [type, n] : ref.type_sentences) joined[type].first = n;
  for (const auto& [type, n] : cur.type_sentences) joined[type].second = n;
  for (const auto& [type, n] : joined) {
    if (n.first + n.second == 0) continue;
    out->push_back(RateComparison("sentence_entity_rate:" + type, n.first, ref.sentences, n.second,
                                  cur.sentences, Side::kBoth, small_batch));
  }
}

}  // namespace

double GammaQ(double a, double x) {
  if (x <= 0) return 1.0;
  if (x < a + 1) return 1.0 - GammaPSeries(a, x);
  return GammaQFraction(a, x);
}

std::string_view BandName(Band b) {
  switch (b) {
    case Band::kOk:
      return "ok";
    case Band::kWarn:
      return "warn";
    case Band::kDrift:
      return "drift";
  }
  return "";
}

MonitoringReport CompareProfiles(const Profile* reference, const Profile& batch,
                                 const DriftOptions& o) {
  MonitoringReport r;
  r.records = batch.records();
  uint64_t scored = 0;
  double sum = 0, sum_sq = 0;
  for (const auto& [label, l] : batch.labels()) {
    scored += l.records;
    sum += l.score_sum;
    sum_sq += l.score_sq_sum;
  }
  const bool calibrated = reference != nullptr && reference->calibration.rows > 0;
  const double ece = calibrated ? reference->calibration.ece : 0.0;
  // How much the probabilities overstated accuracy on the reference rows.
  const double offset =
      calibrated ? reference->calibration.mean_score - reference->calibration.accuracy : 0.0;
  r.calibration_error = ece;
  r.calibration_offset = offset;
  if (scored > 0) {
    r.estimated_accuracy = Estimate(scored, sum, sum_sq, offset, ece, o.z);
    for (const auto& [label, l] : batch.labels()) {
      r.estimated_accuracy_by_label.push_back(
          {label, Estimate(l.records, l.score_sum, l.score_sq_sum, offset, ece, o.z)});
    }
    std::stable_sort(r.estimated_accuracy_by_label.begin(), r.estimated_accuracy_by_label.end(),
                     [](const LabelEstimate& x, const LabelEstimate& y) {
                       return x.estimate.records > y.estimate.records;
                     });
  }
  if (reference == nullptr) {
    r.notes.push_back(
        "the model file has no reference profile (trained by an older lote): no drift "
        "signals; the accuracy interval omits the calibration error");
    return r;
  }
  r.has_reference = true;
  r.reference_records = reference->records();
  if (reference->calibration.rows == 0 && scored > 0) {
    r.notes.push_back(
        "the reference has no calibration measurement: the accuracy interval "
        "omits the calibration error");
  }
  if (batch.records() == 0) {
    r.verdict = "ok";
    r.notes.push_back("no records in the batch: nothing to compare");
    return r;
  }

  std::vector<Comparison> comparisons;
  const bool small = batch.records() <= o.small_batch;
  for (const std::string& name : reference->categorical_names()) {
    auto ref = reference->categorical(name), cur = batch.categorical(name);
    Comparison c;
    c.name = name;
    c.kind = "categorical";
    c.test = small ? Test::kChiSquare : Test::kJensenShannon;
    std::map<std::string, std::pair<uint64_t, uint64_t>> joined;
    for (const auto& [k, n] : ref) joined[k].first = n;
    for (const auto& [k, n] : cur) joined[k].second = n;
    for (const auto& [k, n] : joined) {
      c.reference.push_back(n.first);
      c.batch.push_back(n.second);
    }
    if (Sum(c.reference) == 0 || Sum(c.batch) == 0) {
      r.notes.push_back("signal " + name + ": no data in the " +
                        (Sum(c.batch) == 0 ? "batch" : "reference"));
      continue;
    }
    comparisons.push_back(std::move(c));
  }
  for (int s = 0; s < kNumericSignals; ++s) {
    const auto sig = static_cast<NumericSignal>(s);
    const NumericHistogram& ref = reference->numeric(sig);
    const NumericHistogram& cur = batch.numeric(sig);
    Comparison c;
    c.name = std::string(NumericSignalName(sig));
    c.kind = "numeric";
    c.test = small ? Test::kKolmogorovSmirnov : Test::kWasserstein;
    c.reference = ref.counts;
    c.batch = cur.counts;
    if (c.reference.size() != c.batch.size() || ref.total() == 0 || cur.total() == 0) {
      r.notes.push_back("signal " + c.name + ": no data in the " +
                        (cur.total() == 0 ? "batch" : "reference"));
      continue;
    }
    for (int b = 0; b < NumericSignalBinCount(sig); ++b) {
      c.x.push_back(NumericSignalBinValue(sig, b));
    }
    // One-sided where only one direction means trouble. More unknown words than the reference
    // is drift, fewer is not; lower scores are, higher are not. A model refit on more rows than
    // the reference's models had knows more words and is surer of itself on the same data.
    if (sig == NumericSignal::kUnknownWordRate || sig == NumericSignal::kUnknownCharNgramRate) {
      c.side = Side::kAbove;
    } else if (sig == NumericSignal::kTopScore) {
      c.side = Side::kBelow;
    }
    c.reference_std = ref.stddev();
    c.reference_value = ref.mean();
    c.batch_value = cur.mean();
    comparisons.push_back(std::move(c));
  }
  AddEntityComparisons(*reference, batch, o.small_batch, &comparisons, &r.notes);
  AddTaggerComparisons(*reference, batch, o.small_batch, &comparisons, &r.notes);
  Band worst = Band::kOk;
  for (const Comparison& c : comparisons) {
    SignalResult s = Evaluate(c, static_cast<int>(comparisons.size()), o);
    worst = std::max(worst, s.band);
    r.signals.push_back(std::move(s));
  }
  r.verdict = std::string(BandName(worst));
  if (reference->terms().empty()) {
    r.notes.push_back(
        "the reference profile has no term counts (a model trained by an older lote): no "
        "top_terms");
  } else if (batch.terms().empty()) {
    r.notes.push_back("the batch's terms were not counted: no top_terms");
  } else {
    double inflation = 1;
    r.top_terms = TopTerms(reference->terms(), batch.terms(), o.terms, &inflation);
    r.top_terms_inflation = inflation;
  }
  return r;
}

std::string MonitoringReportJson(const MonitoringReport& r) {
  Json j;
  j["verdict"] = r.verdict;
  j["records"] = r.records;
  j["reference_records"] = r.has_reference ? Json(r.reference_records) : Json(nullptr);
  Json signals = Json::array();
  for (const SignalResult& s : r.signals) {
    Json v = {{"name", s.name},
              {"kind", s.kind},
              {"test", s.test},
              {"statistic", Finite(s.statistic)},
              {"threshold", Finite(s.threshold)},
              {"warn_threshold", Finite(s.warn_threshold)},
              {"p_value", Finite(s.p_value)}};
    if (s.kind != "categorical") {
      v["reference_mean"] = Finite(s.reference_value);
      v["batch_mean"] = Finite(s.batch_value);
    }
    v["band"] = std::string(BandName(s.band));
    signals.push_back(std::move(v));
  }
  j["signals"] = signals;
  if (r.estimated_accuracy) {
    const AccuracyEstimate& e = *r.estimated_accuracy;
    j["estimated_accuracy"] = {{"value", e.value},
                               {"low", e.low},
                               {"high", e.high},
                               {"records", e.records},
                               {"mean_score", e.mean_score},
                               {"calibration_offset", r.calibration_offset},
                               {"calibration_error", r.calibration_error}};
  } else {
    j["estimated_accuracy"] = nullptr;
  }
  Json by_label = Json::array();
  for (const LabelEstimate& l : r.estimated_accuracy_by_label) {
    by_label.push_back({{"label", l.label},
                        {"records", l.estimate.records},
                        {"value", l.estimate.value},
                        {"low", l.estimate.low},
                        {"high", l.estimate.high}});
  }
  j["estimated_accuracy_by_label"] = by_label;
  Json terms = Json::array();
  for (const TermShift& t : r.top_terms) {
    terms.push_back({{"term", t.term},
                     {"batch_records", t.batch_records},
                     {"batch_share", t.batch_share},
                     {"reference_share", t.reference_share},
                     {"log_odds_ratio", Finite(t.log_odds_ratio)},
                     {"z", Finite(t.z)},
                     {"examples", t.examples}});
  }
  j["top_terms"] = terms;
  j["top_terms_inflation"] = Finite(r.top_terms_inflation);
  j["notes"] = r.notes;
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::pair<double, double> WilsonInterval(uint64_t successes, uint64_t n, double z) {
  if (n == 0) return {0.0, 1.0};
  const double nn = static_cast<double>(n);
  const double p = static_cast<double>(std::min(successes, n)) / nn;
  const double z2 = z * z;
  const double denominator = 1 + z2 / nn;
  const double center = (p + z2 / (2 * nn)) / denominator;
  const double half = z * std::sqrt(p * (1 - p) / nn + z2 / (4 * nn * nn)) / denominator;
  return {std::max(0.0, center - half), std::min(1.0, center + half)};
}

}  // namespace lote::monitoring
