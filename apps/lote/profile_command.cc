// `lote profile MODEL [--json]`: prints the model's reference profile, what monitoring compares
// every run with (docs/monitoring.md).
#include <algorithm>
#include <cstdio>

#include "command.h"
#include "common.h"
#include "lote/monitoring/reference_profile.h"
#include "lote/text/utf8.h"

namespace lote::cli {
namespace {

struct ProfileFlags {
  std::string model;
  bool json = false;
};

// Categories with their share of `whole` (0: of their sum), largest first, at most `n`.
std::string Mix(const std::map<std::string, uint64_t, std::less<>>& counts, size_t n,
                uint64_t whole = 0) {
  std::vector<std::pair<uint64_t, std::string>> v;
  uint64_t total = 0;
  for (const auto& [k, c] : counts) {
    v.push_back({c, k});
    total += c;
  }
  if (whole > 0) total = whole;
  std::stable_sort(v.begin(), v.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  std::string out;
  for (size_t i = 0; i < v.size() && i < n; ++i) {
    char share[32];
    std::snprintf(share, sizeof share, " %.1f%%",
                  100.0 * v[i].first / std::max<uint64_t>(total, 1));
    out += (i ? ", " : "") + text::EscapeControl(v[i].second) + share;
  }
  if (v.size() > n) out += ", ... (" + std::to_string(v.size()) + " in all)";
  return out;
}

Status RunProfile(const ProfileFlags& f) {
  LOTE_ASSIGN_OR_RETURN(bundle::Model model, LoadModelFromPath(f.model));
  LOTE_ASSIGN_OR_RETURN(auto profile, monitoring::ReadReferenceProfile(model.file, f.model));
  if (!profile) {
    return FailedPreconditionError(
        f.model + " (" + model.version_id +
        ") has no reference profile: it was trained by an older lote; retrain it to monitor "
        "drift (its runs report verdict no_reference)");
  }
  const monitoring::Profile& p = *profile;
  if (f.json) {
    std::printf("%s\n", p.ToJson(2).c_str());
    return Status::Ok();
  }
  if (p.records() > 0) {
    std::printf("model %s\nreference: %llu records, %s\n", model.version_id.c_str(),
                static_cast<unsigned long long>(p.records()), p.source.c_str());
  } else {
    std::printf("model %s\nreference: %s\n", model.version_id.c_str(), p.source.c_str());
  }
  // A tagger alone has only its sentence counts (records 0): the rest would only say "none".
  if (p.records() > 0) {
    if (p.calibration.rows > 0) {
      std::printf("calibration: accuracy %.4f, mean score %.4f, ECE %.4f\n", p.calibration.accuracy,
                  p.calibration.mean_score, p.calibration.ece);
    }
    for (const std::string& name : p.categorical_names()) {
      std::printf("%s: %s\n", name.c_str(), Mix(p.categorical(name), 10).c_str());
    }
    for (int s = 0; s < monitoring::kNumericSignals; ++s) {
      const auto sig = static_cast<monitoring::NumericSignal>(s);
      const monitoring::NumericHistogram& h = p.numeric(sig);
      if (h.total() == 0) continue;
      std::printf("%s: mean %.4f, sd %.4f (%llu records)\n",
                  std::string(monitoring::NumericSignalName(sig)).c_str(), h.mean(), h.stddev(),
                  static_cast<unsigned long long>(h.total()));
    }
    std::printf("unknown words: %llu of %llu; unknown character n-grams: %llu of %llu\n",
                static_cast<unsigned long long>(p.unknown_words()),
                static_cast<unsigned long long>(p.words()),
                static_cast<unsigned long long>(p.unknown_char_ngrams()),
                static_cast<unsigned long long>(p.char_ngrams()));
    if (const monitoring::EntityProfile& e = p.entities(); e.records == 0) {
      std::printf(
          "entities: not counted (trained by an older lote: runs report no entity signals)\n");
    } else {
      // "MONEY 21.8%, DATE 9.8%, ..." of the records, then each checked type's failures.
      std::string types, checks;
      const double n = static_cast<double>(e.records);
      for (size_t k = 0; k < e.type_records.size(); ++k) {
        char part[64];
        std::snprintf(part, sizeof part, "%s%s %.1f%%", types.empty() ? "" : ", ",
                      extract::PatternTypes()[k].c_str(), 100.0 * e.type_records[k] / n);
        types += part;
      }
      for (int t = 0; t < extract::kCheckedTypes; ++t) {
        char part[96];
        std::snprintf(
            part, sizeof part, "%s%s %llu of %llu", checks.empty() ? "" : ", ",
            std::string(extract::CheckedTypeName(static_cast<extract::CheckedType>(t))).c_str(),
            static_cast<unsigned long long>(e.failures[t]),
            static_cast<unsigned long long>(e.candidates[t]));
        checks += part;
      }
      std::printf("entities (records holding each type, of %llu): %s\n",
                  static_cast<unsigned long long>(e.records), types.c_str());
      std::printf("check-digit failures (of candidates): %s\n", checks.c_str());
    }
    if (const monitoring::TermCounts& t = p.terms(); t.empty()) {
      std::printf("terms: not counted (trained by an older lote: runs report no top_terms)\n");
    } else {
      std::printf(
          "terms: %zu word unigrams and bigrams stored as hashes (in at least %llu of %llu rows)\n",
          t.size(), static_cast<unsigned long long>(monitoring::kReferenceMinRecords),
          static_cast<unsigned long long>(t.records()));
    }
  }
  if (const monitoring::TaggerEntityProfile& t = p.tagger_entities(); t.sentences > 0) {
    // "PER 31.0%, LOC 12.5%" of the tagged sentences.
    std::printf("tagger entities (sentences holding each type, of %llu): %s\n",
                static_cast<unsigned long long>(t.sentences),
                t.type_sentences.empty()
                    ? "none found"
                    : Mix(t.type_sentences, t.type_sentences.size(), t.sentences).c_str());
  } else if (model.tagger) {
    std::printf(
        "tagger entities: not counted (tagger trained without --dev, or by an older lote: runs "
        "report no sentence_entity_rate signals)\n");
  }
  return Status::Ok();
}

void SetupProfile(CLI::App& root, int* exit_code) {
  auto* cmd = root.add_subcommand(
      "profile", "Print a model's reference profile (what monitoring compares runs with)");
  auto f = std::make_shared<ProfileFlags>();
  cmd->add_option("model", f->model, "Model file")->required();
  cmd->add_flag("--json", f->json, "Print the profile as stored (JSON)");
  cmd->callback([f, exit_code] {
    Status s = RunProfile(*f);
    *exit_code = s.ok() ? kExitOk : Fail(s);
  });
}

}  // namespace
LOTE_REGISTER_COMMAND(46, SetupProfile);
}  // namespace lote::cli
