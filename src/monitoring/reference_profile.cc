#include "lote/monitoring/reference_profile.h"

#include "lote/classify/metrics.h"
#include "lote/text/utf8.h"

namespace lote::monitoring {

Profile BuildReferenceProfile(const classify::IntentClassifier& classifier,
                              const classify::ClassifierTrainReport& report,
                              std::string_view source, const pipeline::PrepOptions& prep,
                              std::optional<extract::CivilDate> reference_date) {
  Profile profile;
  profile.set_has_abstention(classifier.oos_label() >= 0);
  profile.source = source.starts_with("out_of_fold_")
                       ? "every training row, scored by a model fit on the other folds (" +
                             std::string(source) + "), at the final temperature and threshold"
                       : "calibration split (" + std::string(source) +
                             "), scored by the calibration-phase model";
  const pipeline::Preprocessor preprocessor(prep);
  pipeline::PrepResult clean;
  // Terms of the cleaned texts, as the classifier's extractor sees them: counted exactly, stored
  // as hashes only.
  *profile.mutable_terms() = TermCounts(kReferenceTermCapacity, /*keep_text=*/false);
  const classify::FeatureExtractor extractor(classifier.feature_options());
  classify::FeatureScratch features;
  TermScratch term_scratch;
  const extract::PatternExtractor patterns;
  extract::ExtractOptions extract_options;
  extract_options.reference_date = reference_date;
  std::vector<extract::Entity> entities;
  std::vector<int> gold, predicted;
  std::vector<float> scores;
  double score_sum = 0;
  for (const classify::CalibrationRow& c : report.calibration) {
    Observation o;
    o.label = classifier.labels()[c.predicted];
    o.score = c.score;
    o.abstained = c.abstained;
    o.vocabulary = c.vocabulary;
    // Length and language as the pipeline's prep would give them; a text prep would reject
    // never reaches the model in a run, so it has no length or language here either.
    if (preprocessor.Process(c.row->text, &clean).ok()) {
      o.chars = static_cast<uint32_t>(text::CodePointCount(clean.text));
      o.lang = clean.lang;
      extractor.Hash(clean.text, &features);
      CountRecordTerms(features, "", /*sampler=*/nullptr, &term_scratch, profile.mutable_terms());
      entities.clear();
      EntityObservation& e = o.entities;
      if (patterns.Extract(clean.text, extract_options, &entities, &e.checks).ok()) {
        e.observed = true;
        e.types = extract::PatternTypeBits(entities.data(), entities.size());
      } else {
        e.checks = {};
      }
    }
    profile.Add(o);
    gold.push_back(c.gold);
    predicted.push_back(c.predicted);
    scores.push_back(c.score);
    score_sum += c.score;
  }
  if (!report.calibration.empty()) {
    // How well the probabilities matched on these rows: the calibration error the accuracy
    // estimate of every run allows for.
    const classify::ClassificationReport eval =
        classify::Evaluate(gold, predicted, scores, classifier.labels(), classifier.oos_label());
    profile.calibration = {report.calibration.size(), eval.accuracy,
                           score_sum / static_cast<double>(report.calibration.size()), eval.ece};
  }
  return profile;
}

std::optional<Profile> BuildTaggerReferenceProfile(const extract::TaggerTrainReport& report) {
  if (report.dev_profile_sentences == 0) return std::nullopt;
  TaggerEntityProfile t;
  t.sentences = report.dev_profile_sentences;
  for (const auto& [type, n] : report.dev_type_sentences) t.type_sentences[type] = n;
  Profile p;
  p.source = "tagger dev sentences, tagged by the selection model (trained without them)";
  p.set_tagger_entities(std::move(t));
  return p;
}

Result<std::optional<Profile>> ReadReferenceProfile(const model::ModelFile& file,
                                                    std::string_view source) {
  auto read = [&](std::string_view section) -> Result<std::optional<Profile>> {
    auto it = file.sections.find(std::string(section));
    if (it == file.sections.end()) return std::optional<Profile>();
    auto profile = Profile::FromJson(it->second);
    if (!profile.ok()) {
      return profile.status().WithContext(std::string(source) + ": section " +
                                          std::string(section));
    }
    return std::optional<Profile>(std::move(*profile));
  };
  LOTE_ASSIGN_OR_RETURN(std::optional<Profile> profile, read(kProfileSection));
  LOTE_ASSIGN_OR_RETURN(std::optional<Profile> tagger, read(kTaggerProfileSection));
  if (!tagger) return profile;
  if (!profile) return tagger;
  profile->set_tagger_entities(tagger->tagger_entities());
  return profile;
}

}  // namespace lote::monitoring
