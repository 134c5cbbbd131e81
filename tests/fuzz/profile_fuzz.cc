// Fuzzes the reference profile a model file carries (monitoring::Profile::FromJson, the
// "profile" section) and what a run does with it: compare a batch against it, and it against
// itself. Input: the section's bytes.
// Invariants: a profile that parses writes itself back to the same JSON; the comparisons end
// with a verdict from the documented set and a report that is valid JSON; top_terms are at most
// the number asked for and each has its minimum of records.
#include <nlohmann/json.hpp>

#include "fuzz_util.h"
#include "lote/monitoring/drift.h"
#include "lote/monitoring/profile.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto profile = lote::monitoring::Profile::FromJson(text);
  if (!profile.ok()) return 0;
  const std::string json = profile->ToJson();
  auto again = lote::monitoring::Profile::FromJson(json);
  lote::fuzz::Check(again.ok() && again->ToJson() == json, "a parsed profile round-trips");

  lote::monitoring::Profile batch;
  for (int i = 0; i < 20; ++i) {
    lote::monitoring::Observation o;
    o.label = i % 2 ? "a" : "b";
    o.score = 0.05f * i;
    o.lang = "es";
    o.chars = 10 * i;
    o.vocabulary = {4, static_cast<uint32_t>(i % 3), 40, static_cast<uint32_t>(i % 7)};
    // Entities: MONEY in every other record, a CARD candidate failing in every fifth.
    o.entities.observed = true;
    o.entities.types = i % 2 ? 1u : 0u;
    if (i % 5 == 0) o.entities.checks.Count(lote::extract::CheckedType::kCard, false);
    batch.Add(o);
    // Terms too (top_terms): some the reference may hold, by its first stored hashes.
    std::vector<uint64_t> hashes = {static_cast<uint64_t>(i % 4) + 1};
    for (const auto& [h, e] : profile->terms().Entries()) {
      if (hashes.size() >= 3) break;
      hashes.push_back(h);
    }
    batch.mutable_terms()->AddRecord(
        hashes, [](size_t i, std::string* s) { *s = "t" + std::to_string(i); }, "r");
  }
  lote::monitoring::DriftOptions options;
  options.replicates = 20;
  for (const auto* current : {&batch, &*profile}) {
    const auto report = lote::monitoring::CompareProfiles(&*profile, *current, options);
    lote::fuzz::Check(
        report.verdict == "ok" || report.verdict == "warn" || report.verdict == "drift",
        "the verdict is ok, warn or drift");
    const auto parsed =
        nlohmann::json::parse(lote::monitoring::MonitoringReportJson(report), nullptr, false);
    lote::fuzz::Check(parsed.is_object(), "the report is a JSON object");
    lote::fuzz::Check(report.top_terms.size() <= options.terms.top, "at most `top` terms");
    for (const auto& t : report.top_terms) {
      lote::fuzz::Check(t.batch_records >= options.terms.min_records, "terms have min_records");
    }
  }
  return 0;
}
