#include "lote/monitoring/alarms.h"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "lote/extract/patterns.h"

namespace lote::monitoring {

namespace {

using PlainJson = nlohmann::json;

const char* const kSignals[] = {"label",
                                "lang",
                                "abstained",
                                "top_score",
                                "text_length",
                                "unknown_word_rate",
                                "unknown_char_ngram_rate"};

bool IsSignal(std::string_view s) {
  if (std::find(std::begin(kSignals), std::end(kSignals), s) != std::end(kSignals)) return true;
  // entity_rate:TYPE for each pattern type; check_failure_rate:TYPE for CEDULA, NIT and CARD.
  if (s.starts_with("entity_rate:")) {
    const auto& types = extract::PatternTypes();
    return std::find(types.begin(), types.end(), s.substr(12)) != types.end();
  }
  // sentence_entity_rate:TYPE for the tagger's types, which only the model knows.
  if (s.starts_with("sentence_entity_rate:")) {
    const std::string_view type = s.substr(21);
    return !type.empty() && type.size() <= 64;
  }
  if (s.starts_with("check_failure_rate:")) {
    for (int t = 0; t < extract::kCheckedTypes; ++t) {
      if (s.substr(19) == extract::CheckedTypeName(static_cast<extract::CheckedType>(t))) {
        return true;
      }
    }
  }
  return false;
}
bool IsAccuracy(std::string_view s) {
  return s == "estimated_accuracy" || s == "estimated_accuracy_low";
}

int BandRank(std::string_view band) {
  if (band == "drift") return 2;
  if (band == "warn") return 1;
  if (band == "ok") return 0;
  return -1;  // no_reference, missing
}

// Whether `report` meets the rule's condition; false when it does not hold the signal.
bool Met(const AlarmRule& rule, const PlainJson& report) {
  if (!report.is_object()) return false;
  if (IsAccuracy(rule.signal)) {
    auto e = report.find("estimated_accuracy");
    if (e == report.end() || !e->is_object()) return false;
    auto v = e->find(rule.signal == "estimated_accuracy" ? "value" : "low");
    return v != e->end() && v->is_number() && v->get<double>() < *rule.below;
  }
  std::string band;
  if (rule.signal == "verdict") {
    band = report.value("verdict", "");
  } else if (auto s = report.find("signals"); s != report.end() && s->is_array()) {
    for (const PlainJson& g : *s) {
      if (g.is_object() && g.value("name", "") == rule.signal) band = g.value("band", "");
    }
  }
  return BandRank(band) >= BandRank(rule.band);
}

}  // namespace

Status ValidateAlarmRule(const AlarmRule& r) {
  const std::string where = "monitoring.alarms '" + r.name + "'";
  if (r.name.empty() || r.name.size() > 64 ||
      !std::all_of(r.name.begin(), r.name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
      })) {
    return InvalidArgumentError(
        "monitoring.alarms: name must be 1 to 64 letters, digits, '_', "
        "'.' or '-'");
  }
  if (r.consecutive_runs < 1 || r.consecutive_runs > kMaxConsecutiveRuns) {
    return InvalidArgumentError(where + ": consecutive_runs must be between 1 and " +
                                std::to_string(kMaxConsecutiveRuns));
  }
  if (IsAccuracy(r.signal)) {
    if (!r.below) return InvalidArgumentError(where + ": " + r.signal + " needs 'below'");
    if (!r.band.empty()) return InvalidArgumentError(where + ": " + r.signal + " takes no band");
    return Status::Ok();
  }
  if (r.signal != "verdict" && !IsSignal(r.signal)) {
    return InvalidArgumentError(where + ": unknown signal '" + r.signal +
                                "' (verdict, estimated_accuracy, estimated_accuracy_low, label, "
                                "lang, abstained, top_score, text_length, unknown_word_rate, "
                                "unknown_char_ngram_rate, entity_rate:TYPE, "
                                "check_failure_rate:CEDULA|NIT|CARD, "
                                "sentence_entity_rate:TYPE)");
  }
  if (r.band != "warn" && r.band != "drift") {
    return InvalidArgumentError(where + ": band must be warn or drift");
  }
  if (r.below) return InvalidArgumentError(where + ": 'below' is for estimated_accuracy");
  return Status::Ok();
}

std::string AlarmCondition(const AlarmRule& r) {
  if (IsAccuracy(r.signal)) {
    char v[32];
    std::snprintf(v, sizeof v, "%g", r.below.value_or(0));
    return r.signal + " < " + v;
  }
  return r.signal + " >= " + r.band;
}

std::vector<AlarmResult> EvaluateAlarms(const std::vector<AlarmRule>& rules,
                                        std::string_view current,
                                        const std::vector<std::string>& previous) {
  std::vector<PlainJson> reports;
  reports.push_back(PlainJson::parse(current, nullptr, false));
  for (const std::string& p : previous) reports.push_back(PlainJson::parse(p, nullptr, false));
  std::vector<AlarmResult> out;
  for (const AlarmRule& rule : rules) {
    AlarmResult a;
    a.name = rule.name;
    a.signal = rule.signal;
    a.condition = AlarmCondition(rule);
    a.consecutive_runs = rule.consecutive_runs;
    while (a.runs_met < static_cast<int>(reports.size()) && a.runs_met < rule.consecutive_runs &&
           Met(rule, reports[a.runs_met])) {
      ++a.runs_met;
    }
    a.firing = a.runs_met >= rule.consecutive_runs;
    out.push_back(std::move(a));
  }
  return out;
}

}  // namespace lote::monitoring
