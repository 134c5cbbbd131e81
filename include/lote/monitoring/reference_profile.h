// The model's reference profile: built at training time from the calibration rows (scored by the
// calibration-phase model, so unknown-word rates and scores look like those of new data rather
// than of rows the model learned), each text cleaned by prep as the pipeline would; stored in the
// model file's "profile" section (JSON, lote/monitoring/profile.h) and read back by every run.
#ifndef LOTE_MONITORING_REFERENCE_PROFILE_H_
#define LOTE_MONITORING_REFERENCE_PROFILE_H_

#include <optional>
#include <string_view>

#include "lote/base/status.h"
#include "lote/classify/intent_classifier.h"
#include "lote/extract/patterns.h"
#include "lote/extract/tagger.h"
#include "lote/model/model_file.h"
#include "lote/monitoring/profile.h"
#include "lote/pipeline/prep.h"

namespace lote::monitoring {

inline constexpr std::string_view kProfileSection = "profile";
// A tagger's part of the reference (its dev sentences as tagged at training time: only
// tagger_entities is set), written by `lote train extract --dev` and carried by `lote bundle`.
inline constexpr std::string_view kTaggerProfileSection = "tagger.profile";

// From `report.calibration` (empty: a profile of no records). `source` says where the rows came
// from ("dev" or "holdout_of_train"). The entity counts come from the pattern extractors (all
// types on, as a run has them) over each cleaned text; `reference_date` resolves relative dates
// as a run's date does (runs default to their day; a run without one finds no "ayer").
Profile BuildReferenceProfile(const classify::IntentClassifier& classifier,
                              const classify::ClassifierTrainReport& report,
                              std::string_view source, const pipeline::PrepOptions& prep,
                              std::optional<extract::CivilDate> reference_date);

// A tagger's reference profile (for kTaggerProfileSection) from its training report: nullopt
// when it was trained without dev (nothing the model did not learn from to count on).
std::optional<Profile> BuildTaggerReferenceProfile(const extract::TaggerTrainReport& report);

// The reference profile stored in `file`: its "profile" section with the tagger's counts of its
// "tagger.profile" section, either alone when the other is absent, or nullopt when the file has
// neither (models trained before profiles existed still load; monitoring then says it has no
// reference). Errors: a damaged section (InvalidArgument / FailedPrecondition, see
// Profile::FromJson), with `source`.
Result<std::optional<Profile>> ReadReferenceProfile(const model::ModelFile& file,
                                                    std::string_view source);

}  // namespace lote::monitoring

#endif  // LOTE_MONITORING_REFERENCE_PROFILE_H_
