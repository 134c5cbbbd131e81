// Comparing a batch's profile with the model's reference profile: one test per signal, chosen by
// kind and batch size as Evidently does, with thresholds for the sizes actually compared, three
// bands, one verdict for the batch; and a label-free accuracy estimate (NannyML's CBPE).
//
//   categorical signals  batch <= small_batch records: chi-square statistic of the 2 x K table;
//                        larger: Jensen-Shannon distance (natural log, as scipy)
//   numeric signals      batch <= small_batch: Kolmogorov-Smirnov statistic; larger: Wasserstein
//                        distance divided by the reference's standard deviation (Evidently's
//                        wasserstein_distance_norm). One-sided where one direction only means
//                        trouble: unknown word and n-gram rates count when the batch has more,
//                        top_score when the batch's scores are lower (only the CDF gaps in that
//                        direction enter the statistic)
//
// Thresholds are not fixed numbers: how large a statistic gets by chance depends on both sample
// sizes (a Jensen-Shannon distance of 0.1 is noise for 77 labels and 1,000 reference rows). For
// each signal the null distribution is simulated: `replicates` pairs of samples of the reference's
// and the batch's sizes are drawn from the pooled bins (a parametric bootstrap, fixed seed), a
// gamma distribution is fitted to the simulated statistics (squared for the KS and Wasserstein
// distances, whose squares behave like scaled chi-squares), and the observed statistic gets a
// p-value from it. With m signals tested (Bonferroni):
//   drift  p < alpha_drift / m, and for the large-batch tests also statistic >= the effect floor
//          (min_js_distance, min_wasserstein): with 100,000 records a shift too small to matter
//          is still "significant";
//   warn   p < alpha_warn / m (and not drift);
//   ok     otherwise.
// The batch's verdict is its worst band.
//
// Estimated accuracy: the mean calibrated probability of the predicted label (NannyML's CBPE),
// less the calibration offset measured on the reference rows (their mean score minus their
// accuracy: by how much the probabilities overstated accuracy on rows the model had not learned);
// the interval adds the sampling spread (z standard errors, variance sum p(1 - p) / n^2) and the
// calibration error measured on the reference rows (ECE), overall and per predicted label.
// Thread-safety: pure functions.
#ifndef LOTE_MONITORING_DRIFT_H_
#define LOTE_MONITORING_DRIFT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "lote/monitoring/profile.h"
#include "lote/monitoring/terms.h"

namespace lote::monitoring {

struct DriftOptions {
  uint64_t small_batch = 1000;  // up to this many records: chi-square and KS
  int replicates = 400;         // simulated pairs per signal
  double alpha_warn = 0.05;     // family-wise, over all signals tested
  double alpha_drift = 0.01;
  double min_js_distance = 0.1;  // effect floors of the large-batch tests (Evidently's defaults)
  double min_wasserstein = 0.1;
  double z = 1.96;  // standard errors in the accuracy interval
  uint64_t seed = 1;
  TermOptions terms;  // top_terms (lote/monitoring/terms.h)
};

enum class Band { kOk, kWarn, kDrift };
std::string_view BandName(Band b);  // "ok", "warn", "drift"

struct SignalResult {
  std::string name;  // "label", "lang", "abstained", "top_score", ...
  std::string kind;  // "categorical" | "numeric"
  std::string test;  // "chi_square" | "jensen_shannon" | "kolmogorov_smirnov" | "wasserstein_norm"
  double statistic = 0;
  double warn_threshold = 0;  // the statistic's value at p = alpha_warn / m
  double threshold = 0;       // at p = alpha_drift / m, or the effect floor if larger
  double p_value = 1;         // from the simulated null
  double reference_value = 0, batch_value = 0;  // categorical: -; numeric: the two means
  Band band = Band::kOk;
};

struct AccuracyEstimate {
  uint64_t records = 0;
  double value = 0, low = 0, high = 0;
  double mean_score = 0;  // CBPE before the calibration offset
};

struct LabelEstimate {
  std::string label;
  AccuracyEstimate estimate;
};

struct MonitoringReport {
  bool has_reference = false;
  std::string verdict = "no_reference";  // "ok" | "warn" | "drift" | "no_reference"
  uint64_t records = 0;
  uint64_t reference_records = 0;
  std::vector<SignalResult> signals;
  std::optional<AccuracyEstimate> estimated_accuracy;  // when records have labels
  double calibration_error = 0;   // the reference's ECE, part of every interval
  double calibration_offset = 0;  // the reference's mean score minus its accuracy
  std::vector<LabelEstimate> estimated_accuracy_by_label;  // most records first
  // The terms the batch has markedly more of than the reference (when both counted terms).
  std::vector<TermShift> top_terms;
  double top_terms_inflation = 1;  // genomic control factor of the batch side (terms.h)
  std::vector<std::string> notes;  // what could not be compared, and why
};

// Compares `batch` with `reference` (null: no reference; only the accuracy estimate, without the
// calibration term, and a note).
MonitoringReport CompareProfiles(const Profile* reference, const Profile& batch,
                                 const DriftOptions& options);

// The report as JSON: {"verdict", "records", "reference_records", "signals": [{"name", "kind",
// "test", "statistic", "threshold", "warn_threshold", "p_value", "reference_mean",
// "batch_mean" (numeric), "band"}], "estimated_accuracy": {"value", "low", "high", "records",
// "mean_score", "calibration_offset", "calibration_error"} | null, "estimated_accuracy_by_label":
// [...], "top_terms": [{"term", "batch_records", "batch_share", "reference_share",
// "log_odds_ratio", "z", "examples"}], "top_terms_inflation", "notes"}. Callers add the run's
// fields (run_id, model_version) around it.
std::string MonitoringReportJson(const MonitoringReport& report);

// Wilson score interval for `successes` out of `n` Bernoulli trials at `z` standard errors
// (1.96: 95 %): {low, high}, within [0, 1]; {0, 1} when n is 0. Measured accuracy on late labels
// uses it: unlike the normal approximation it stays inside [0, 1] and keeps its coverage for
// small n and proportions near 0 or 1.
std::pair<double, double> WilsonInterval(uint64_t successes, uint64_t n, double z);

// The upper regularized incomplete gamma function Q(a, x) = Gamma(a, x) / Gamma(a), a > 0, x >= 0
// (exposed for tests).
double GammaQ(double a, double x);

}  // namespace lote::monitoring

#endif  // LOTE_MONITORING_DRIFT_H_
