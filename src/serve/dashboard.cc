#include "lote/serve/dashboard.h"

#include <openssl/crypto.h>

#include <cctype>
#include <mutex>
#include <nlohmann/json.hpp>

#include "lote/base/clock.h"
#include "lote/base/digest.h"
#include "lote/flow/history.h"
#include "lote/io/file_source.h"
#include "lote/registry/registry.h"

namespace lote::serve {

namespace {

using Json = nlohmann::ordered_json;

bool AllOf(std::string_view s, bool (*ok)(char)) {
  for (char c : s) {
    if (!ok(c)) return false;
  }
  return true;
}
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsNameChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '_' || c == '-';
}
bool IsLetter(char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0; }

bool IsDate(std::string_view s) {
  return s.size() == 10 && s[4] == '-' && s[7] == '-' && AllOf(s.substr(0, 4), IsDigit) &&
         AllOf(s.substr(5, 2), IsDigit) && AllOf(s.substr(8, 2), IsDigit);
}

// A filter value as an SQL string literal. The values passed their syntax check (no quote can be
// in them); doubling quotes keeps the literal whole whatever the check lets through.
std::string Literal(std::string_view v) {
  std::string out = "'";
  for (char c : v) {
    if (c == '\'') out.push_back('\'');
    out.push_back(c);
  }
  out.push_back('\'');
  return out;
}

// The WHERE clause of `filters` over a table whose columns are named in `columns` (day, model,
// lang, label; an empty name: the table has no such column and the filter does not apply).
struct Columns {
  const char* day;
  const char* model;
  const char* lang;
  const char* label;
};

std::string Where(const DashboardFilters& f, const Columns& c, const char* extra = nullptr) {
  std::vector<std::string> terms;
  if (extra != nullptr) terms.emplace_back(extra);
  if (!f.from.empty() && c.day[0] != '\0') {
    terms.push_back(std::string(c.day) + " >= " + Literal(f.from));
  }
  if (!f.to.empty() && c.day[0] != '\0') {
    terms.push_back(std::string(c.day) + " <= " + Literal(f.to));
  }
  if (!f.model.empty() && c.model[0] != '\0') {
    terms.push_back(std::string(c.model) + " = " + Literal(f.model));
  }
  if (!f.text_lang.empty() && c.lang[0] != '\0') {
    terms.push_back(std::string(c.lang) + " = " + Literal(f.text_lang));
  }
  if (!f.label.empty() && c.label[0] != '\0') {
    terms.push_back(std::string(c.label) + " = " + Literal(f.label));
  }
  if (terms.empty()) return "";
  std::string out = " WHERE ";
  for (size_t i = 0; i < terms.size(); ++i) out += (i ? " AND " : "") + terms[i];
  return out;
}

// The daily summaries (the catalog's results_daily, entities_daily, quarantine_daily: the views'
// counts per day, model, language and label, kept by the ledger) answer the charts that count
// records, so a page costs the same on ten million rows as on ten thousand.
constexpr Columns kDaily{"dt", "model_version", "lang", "label"};
// Quarantined records have no language or label: those filters do not narrow them.
constexpr Columns kQuarantine{"dt", "model_version", "", ""};
// A run's day is the day it started.
constexpr Columns kRuns{"substr(started_at, 1, 10)", "model_version", "", ""};
// The monitoring tables, joined to their run (r): the run's day and model.
constexpr Columns kMonitored{"substr(r.started_at, 1, 10)", "r.model_version", "", ""};

struct ChartSpec {
  const char* id;
  const char* title;
  std::string sql;
  // nullptr: the SQL runs as it is on Athena over `lote query --athena-ddl`'s tables and views
  // (the daily summaries there are views over the files); otherwise a table it reads that only
  // the catalog has (runs, monitoring, drift_signals, alarms, feedback: the run manifests,
  // monitoring reports and feedback are JSON files Athena has no table over yet).
  const char* catalog_table = nullptr;
};

std::vector<ChartSpec> PageCharts(std::string_view page, const DashboardFilters& f) {
  const std::string results = Where(f, kDaily);
  const std::string quarantine = Where(f, kQuarantine);
  if (page == "overview") {
    return {
        {"totals", "Records published, quarantined, runs",
         "SELECT (SELECT coalesce(sum(records), 0) FROM results_daily" + results +
             ") AS published, (SELECT coalesce(sum(records), 0) FROM quarantine_daily" +
             quarantine + ") AS quarantined, (SELECT count(*) FROM runs" + Where(f, kRuns) +
             ") AS runs",
         "runs"},
        {"per_day", "Records per day by outcome",
         "SELECT dt, outcome, sum(records) AS records FROM (SELECT dt, 'published' AS outcome, "
         "records FROM results_daily" +
             results +
             " UNION ALL SELECT dt, 'quarantined' AS outcome, records FROM quarantine_daily" +
             quarantine + ") GROUP BY dt, outcome ORDER BY dt, outcome"},
        {"throughput", "Throughput per run (records/s)",
         "SELECT run_id, records_in, round(records_in / max((julianday(finished_at) - "
         "julianday(started_at)) * 86400, 0.001), 1) AS records_per_s, "
         "round(1.0 * records_quarantined / max(records_in, 1), 4) AS quarantine_rate FROM runs" +
             Where(f, kRuns, "state = 'succeeded'") + " ORDER BY started_at",
         "runs"},
    };
  }
  if (page == "intents") {
    // label '': the model has no classifier (entities only).
    const std::string scored = Where(f, kDaily, "label <> ''");
    return {
        {"label_per_day", "Label mix per day",
         "SELECT dt, label, sum(records) AS records FROM results_daily" + scored +
             " GROUP BY dt, label ORDER BY dt, records DESC, label"},
        {"top_labels_by_lang", "Top labels per language",
         "SELECT lang, label, records FROM (SELECT lang, label, sum(records) AS records, "
         "row_number() OVER (PARTITION BY lang ORDER BY sum(records) DESC, label) AS label_rank "
         "FROM results_daily" +
             scored +
             " GROUP BY lang, label) WHERE label_rank <= 10 ORDER BY lang, records DESC, label"},
        {"confidence", "Confidence (calibrated score) per label, tenths",
         "SELECT label, score_tenth / 10.0 AS score_from, sum(records) AS records FROM "
         "results_daily" +
             scored + " GROUP BY label, score_tenth ORDER BY label, score_from"},
        {"low_confidence", "Share of records scored below 0.5, per day",
         "SELECT dt, round(1.0 * sum(CASE WHEN score_tenth < 5 THEN records ELSE 0 END) / "
         "sum(records), 4) AS low_confidence_share, sum(records) AS records FROM results_daily" +
             scored + " GROUP BY dt ORDER BY dt"},
    };
  }
  if (page == "entities") {
    // Counts only: the summary holds no entity text or value.
    return {
        {"types_per_day", "Entities per type per day (counts only)",
         "SELECT dt, type, sum(entities) AS entities FROM entities_daily" + results +
             " GROUP BY dt, type ORDER BY dt, entities DESC, type"},
    };
  }
  if (page == "quarantine") {
    return {
        {"reasons_per_day", "Quarantined records per day by stage",
         "SELECT dt, stage, sum(records) AS records FROM quarantine_daily" + quarantine +
             " GROUP BY dt, stage ORDER BY dt, stage"},
        {"recent", "Most recent quarantined records (reasons as written, PII policy applied)",
         "SELECT processed_at, record_id, source, line, stage, reason FROM quarantine" +
             Where(f, Columns{"dt", "model", "", ""}) +
             " ORDER BY processed_at DESC, source, line LIMIT 100"},
    };
  }
  if (page == "drift") {
    const std::string runs = Where(f, kMonitored);
    return {
        {"accuracy", "Estimated accuracy per run (interval), and measured where labels arrived",
         "SELECT m.run_id, m.verdict, m.records, round(m.estimated_accuracy, 4) AS estimated, "
         "round(m.accuracy_low, 4) AS estimated_low, round(m.accuracy_high, 4) AS "
         "estimated_high, round(a.accuracy, 4) AS measured, a.labelled FROM monitoring m JOIN "
         "runs r ON r.run_id = m.run_id LEFT JOIN feedback_accuracy a ON a.run_id = m.run_id "
         "AND a.predicted_label IS NULL" +
             runs + " ORDER BY r.started_at",
         "monitoring"},
        {"latest_signals",
         "Latest run: each signal's statistic over its drift threshold (1 or more: drift)",
         "SELECT s.name, round(s.statistic / nullif(s.threshold, 0), 3) AS over_threshold, s.band "
         "FROM drift_signals s WHERE s.run_id = (SELECT m.run_id FROM monitoring m JOIN runs r "
         "ON r.run_id = m.run_id" +
             runs + " ORDER BY r.started_at DESC LIMIT 1) ORDER BY over_threshold DESC, s.name",
         "drift_signals"},
        {"signals", "Signals per run",
         "SELECT s.run_id, s.name, s.test, round(s.statistic, 4) AS statistic, round(s.threshold, "
         "4) AS threshold, round(s.warn_threshold, 4) AS warn_threshold, s.band FROM "
         "drift_signals s JOIN runs r ON r.run_id = s.run_id" +
             runs + " ORDER BY r.started_at DESC, s.name LIMIT 500",
         "drift_signals"},
        {"alarms", "Alarms per run",
         "SELECT a.run_id, a.name, a.signal, a.condition, a.runs_met, a.consecutive_runs, "
         "a.firing FROM alarms a JOIN runs r ON r.run_id = a.run_id" +
             runs + " ORDER BY r.started_at DESC, a.name LIMIT 200",
         "alarms"},
    };
  }
  if (page == "models") {
    // The versions that scored the results (from the catalog); the registry's versions and
    // alias history are added by DashboardPage when the dashboard has a registry.
    return {
        {"versions_in_results",
         "Model versions in the results: records, mean score, measured accuracy",
         "SELECT d.model_version, sum(d.records) AS records, min(d.dt) AS first_day, max(d.dt) AS "
         "last_day, round(sum(d.score_sum) / nullif(sum(CASE WHEN d.score_tenth >= 0 THEN "
         "d.records END), 0), 4) AS mean_score, (SELECT sum(f.correct) FROM feedback f WHERE "
         "f.model_version = d.model_version) AS labelled_correct, (SELECT count(*) FROM feedback "
         "f WHERE f.model_version = d.model_version AND f.correct IS NOT NULL) AS labelled FROM "
         "results_daily d" +
             Where(f, Columns{"d.dt", "d.model_version", "d.lang", "d.label"}) +
             " GROUP BY d.model_version ORDER BY first_day, d.model_version",
         "feedback"},
        {"shadow", "Shadow scoring: the challenger's agreement with the model per run",
         "SELECT m.run_id, m.model_version, m.report ->> '$.shadow.model_version' AS "
         "shadow_model_version, m.report ->> '$.shadow.records' AS records, round(m.report ->> "
         "'$.shadow.agreement', 4) AS agreement, round(m.report ->> '$.shadow.agreement_low', 4) "
         "AS agreement_low, round(m.report ->> '$.shadow.agreement_high', 4) AS agreement_high "
         "FROM monitoring m JOIN runs r ON r.run_id = m.run_id" +
             Where(f, kMonitored, "m.report ->> '$.shadow' IS NOT NULL") +
             " ORDER BY r.started_at DESC LIMIT 200",
         "monitoring"},
    };
  }
  if (page == "runs") {
    return {
        {"runs", "Runs",
         "SELECT run_id, state, model_version, preprocess_version, started_at, finished_at, "
         "records_in, records_out, records_quarantined, records_duplicate, manifest, "
         "flow_execution FROM runs" +
             Where(f, kRuns) + " ORDER BY started_at DESC LIMIT 200",
         "runs"},
    };
  }
  return {};
}

Json ValueJson(const pipeline::QueryValue& v) {
  switch (v.type) {
    case pipeline::QueryValue::Type::kNull:
      return nullptr;
    case pipeline::QueryValue::Type::kInteger:
      return Json::parse(v.text, nullptr, false);
    case pipeline::QueryValue::Type::kReal: {
      Json j = Json::parse(v.text, nullptr, false);
      return j.is_discarded() ? Json(v.text) : j;
    }
    case pipeline::QueryValue::Type::kText:
      return v.text;
  }
  return nullptr;
}

Result<std::string> ReadAsset(const std::string& dir, const std::string& name) {
  auto body = io::ReadFileToString(dir + "/" + name);
  if (!body.ok() && body.status().code() == StatusCode::kNotFound) {
    return NotFoundError("dashboard asset " + dir + "/" + name +
                         " is missing (built by `cmake --build`; chart.umd.js comes from "
                         "npm ci: node_modules/chart.js)");
  }
  return body;
}

HttpResponse Asset(const std::string& body, const char* type) {
  HttpResponse r;
  r.content_type = type;
  r.body = body;
  r.headers.emplace_back("Cache-Control", "no-cache");
  return r;
}

bool ConstantTimeEqual(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

// Whether `given` is the token, comparing digests of equal length in constant time (so the
// time taken says nothing of the token, its length included).
bool IsToken(std::string_view given, const Secret& token) {
  return ConstantTimeEqual(Sha256Hex(given), Sha256Hex(token.Reveal()));
}

// The session cookie's value for `token`.
std::string SessionValue(const Secret& token) {
  return HmacSha256Hex(token.Reveal(), "lote-session");
}

std::string CookieValue(std::string_view cookies, std::string_view name) {
  size_t pos = 0;
  while (pos < cookies.size()) {
    size_t end = cookies.find(';', pos);
    if (end == std::string_view::npos) end = cookies.size();
    std::string_view part = cookies.substr(pos, end - pos);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    if (part.size() > name.size() && part.substr(0, name.size()) == name &&
        part[name.size()] == '=') {
      return std::string(part.substr(name.size() + 1));
    }
    pos = end + 1;
  }
  return "";
}

}  // namespace

std::string QueryParameter(std::string_view query, std::string_view key) {
  size_t pos = 0;
  while (pos <= query.size()) {
    size_t end = query.find('&', pos);
    if (end == std::string_view::npos) end = query.size();
    std::string_view part = query.substr(pos, end - pos);
    const size_t eq = part.find('=');
    if (UrlDecode(part.substr(0, eq), true) == key) {
      return eq == std::string_view::npos ? "" : UrlDecode(part.substr(eq + 1), true);
    }
    pos = end + 1;
  }
  return "";
}

Result<DashboardFilters> ParseDashboardFilters(std::string_view query) {
  DashboardFilters f;
  f.from = QueryParameter(query, "from");
  f.to = QueryParameter(query, "to");
  f.model = QueryParameter(query, "model");
  f.text_lang = QueryParameter(query, "text_lang");
  f.label = QueryParameter(query, "label");
  for (const auto& [name, value] : {std::pair{"from", &f.from}, std::pair{"to", &f.to}}) {
    if (!value->empty() && !IsDate(*value)) {
      return InvalidArgumentError(std::string("filter ") + name + ": not a date YYYY-MM-DD");
    }
  }
  auto name_ok = [](const std::string& v) { return v.size() <= 128 && AllOf(v, IsNameChar); };
  if (!name_ok(f.model)) {
    return InvalidArgumentError("filter model: letters, digits, '.', '_' and '-' only");
  }
  if (!name_ok(f.label)) {
    return InvalidArgumentError("filter label: letters, digits, '.', '_' and '-' only");
  }
  if (f.text_lang.size() > 16 || !AllOf(f.text_lang, IsLetter)) {
    return InvalidArgumentError("filter text_lang: letters only (es, en, other, und)");
  }
  return f;
}

const std::vector<std::string>& DashboardPages() {
  static const std::vector<std::string> pages = {"overview", "intents", "entities", "quarantine",
                                                 "drift",    "models",  "runs"};
  return pages;
}

Result<std::vector<DashboardChart>> DashboardPage(const std::string& catalog_path,
                                                  std::string_view page,
                                                  const DashboardFilters& filters,
                                                  const pipeline::QueryOptions& options,
                                                  std::string_view only_chart) {
  std::vector<ChartSpec> specs = PageCharts(page, filters);
  if (specs.empty()) return NotFoundError("no dashboard page '" + std::string(page) + "'");
  std::vector<DashboardChart> charts;
  for (ChartSpec& s : specs) {
    if (!only_chart.empty() && s.id != only_chart) continue;
    auto data = pipeline::QueryCatalog(catalog_path, s.sql, options);
    if (!data.ok()) {
      // A catalog last written by a lote without the summaries gets them from the next writer;
      // asked only when a chart fails, not on every request.
      auto summaries = pipeline::QueryCatalog(
          catalog_path, "SELECT count(*) FROM sqlite_master WHERE name = 'results_daily'", options);
      if (summaries.ok() && !summaries->rows.empty() && summaries->rows[0][0].text == "0") {
        return UnavailableError(
            "the catalog has no daily summaries yet (it was last written by an older lote): the "
            "next `lote run` on this output builds them");
      }
      return data.status();
    }
    DashboardChart& c = charts.emplace_back();
    c.id = s.id;
    c.title = s.title;
    c.sql = std::move(s.sql);
    c.data = std::move(data).value();
    c.catalog_table = s.catalog_table == nullptr ? "" : s.catalog_table;
  }
  return charts;
}

namespace {

pipeline::QueryValue Text(std::string v) {
  pipeline::QueryValue q;
  q.type = pipeline::QueryValue::Type::kText;
  q.text = std::move(v);
  return q;
}
pipeline::QueryValue Integer(std::optional<int64_t> v) {
  pipeline::QueryValue q;
  if (v) {
    q.type = pipeline::QueryValue::Type::kInteger;
    q.text = std::to_string(*v);
  }
  return q;
}
pipeline::QueryValue Real(const Json& v) {
  pipeline::QueryValue q;
  if (v.is_number()) {
    q.type = pipeline::QueryValue::Type::kReal;
    q.text = v.dump();
  }
  return q;
}

// The rows of the latest evaluation in `m`'s alias history (the promotion `lote promote` last
// decided with a test): per label (classifier: recall) or entity type (tagger: F1), the champion's
// and the candidate's, as `lote registry alias-history NAME --json` holds them.
void AddLatestEvaluation(const registry::RegisteredModel& m, DashboardChart* chart) {
  for (auto c = m.alias_history.rbegin(); c != m.alias_history.rend(); ++c) {
    const Json e = Json::parse(c->evaluation_json, nullptr, false);
    if (!e.is_object()) continue;
    const bool entities = e.contains("types");
    const Json& items = entities ? e["types"] : e.contains("labels") ? e["labels"] : Json();
    if (!items.is_array() || items.empty()) continue;
    const char* metric = entities ? "f1" : "recall";
    const std::string outcome = c->refused ? "refused" : "promoted";
    for (const Json& item : items) {
      if (!item.is_object()) continue;
      const Json& name = item[entities ? "type" : "label"];
      const Json& rows = item[entities ? "gold" : "rows"];
      chart->data.rows.push_back(
          {Text(m.name), Text(c->at), Integer(c->from_version), Integer(c->to_version),
           Text(outcome), Text(name.is_string() ? name.get<std::string>() : ""),
           Integer(rows.is_number_integer() ? std::optional<int64_t>(rows.get<int64_t>())
                                            : std::nullopt),
           Text(metric), Real(item[entities ? "champion_f1" : "champion_recall"]),
           Real(item[entities ? "candidate_f1" : "candidate_recall"]),
           Text(item.value("worse", false) ? "yes" : "no")});
    }
    return;
  }
}

}  // namespace

Result<std::vector<DashboardChart>> RegistryCharts(const registry::Registry& reg) {
  LOTE_ASSIGN_OR_RETURN(std::vector<std::string> names, reg.ListModels());
  constexpr size_t kMaxModels = 50;
  if (names.size() > kMaxModels) names.resize(kMaxModels);
  auto chart = [](const char* id, const char* title, const char* command) {
    DashboardChart c;
    c.id = id;
    c.title = title;
    c.command = command;
    return c;
  };
  DashboardChart versions =
      chart("registry_versions", "Registered versions, their status and aliases",
            "lote registry show NAME --json");
  versions.data.columns = {
      "model",         "version",       "status", "aliases", "model_version_id",
      "registered_at", "registered_by", "source"};
  DashboardChart history = chart("alias_history", "Alias history (never rewritten)",
                                 "lote registry alias-history NAME --json");
  history.data.columns = {"model",      "at", "alias",  "action",    "from_version",
                          "to_version", "by", "reason", "evaluation"};
  DashboardChart evaluation =
      chart("promotion_evaluation", "Latest promotion test: champion against candidate per label",
            "lote registry alias-history NAME --json");
  evaluation.data.columns = {
      "model", "evaluated_at", "champion_version", "candidate_version", "outcome", "label",
      "rows",  "metric",       "champion",         "candidate",         "worse"};
  for (const std::string& name : names) {
    LOTE_ASSIGN_OR_RETURN(registry::RegisteredModel m, reg.Get(name));
    for (const registry::ModelVersion& v : m.versions) {
      std::string aliases;
      for (const auto& [alias, version] : m.aliases) {
        if (version == v.version) aliases += (aliases.empty() ? "" : ", ") + alias;
      }
      versions.data.rows.push_back({Text(name), Integer(v.version), Text(v.status), Text(aliases),
                                    Text(v.model_version_id), Text(v.registered_at),
                                    Text(v.registered_by), Text(v.source)});
    }
    // Newest first, at most 100 per model.
    size_t shown = 0;
    for (auto c = m.alias_history.rbegin(); c != m.alias_history.rend() && shown < 100;
         ++c, ++shown) {
      const char* action = c->refused                  ? "refused"
                           : c->rollback               ? "rollback"
                           : c->to_version.has_value() ? "set"
                                                       : "delete";
      history.data.rows.push_back({Text(name), Text(c->at), Text(c->alias), Text(action),
                                   Integer(c->from_version), Integer(c->to_version), Text(c->by),
                                   Text(c->reason), Text(c->evaluation_json)});
    }
    AddLatestEvaluation(m, &evaluation);
  }
  return std::vector<DashboardChart>{std::move(versions), std::move(history),
                                     std::move(evaluation)};
}

Result<std::string> FlowExecutionJson(flow::HistoryStore& history, std::string_view execution) {
  // An ARN (arn:aws:states:REGION:ACCOUNT:execution:MACHINE:NAME) names its last part.
  std::string_view name = execution;
  if (name.starts_with("arn:")) name = name.substr(name.rfind(':') + 1);
  auto ok = [](char c) { return IsNameChar(c) && c != '.'; };
  if (name.empty() || name.size() > 80 || !AllOf(name, ok)) {
    return InvalidArgumentError(
        "execution: a name of 1 to 80 letters, digits, '-' and '_', or its execution ARN");
  }
  LOTE_ASSIGN_OR_RETURN(flow::ExecutionRecord r, history.Get(std::string(name)));
  LOTE_ASSIGN_OR_RETURN(std::vector<flow::HistoryEvent> events,
                        history.Events(r.name, 0, kMaxFlowEvents + 1));
  Json j;
  j["execution"] = {
      {"name", r.name},
      {"state_machine", r.state_machine},
      {"status", std::string(flow::ExecutionStatusName(r.status))},
      {"started_at", FormatTimestampMillis(r.start_micros)},
      {"stopped_at", r.stop_micros > 0 ? Json(FormatTimestampMillis(r.stop_micros)) : Json()},
      {"error", r.error ? Json(r.error->error) : Json()},
      {"cause", r.error ? Json(r.error->cause) : Json()}};
  j["truncated"] = events.size() > kMaxFlowEvents;
  if (events.size() > kMaxFlowEvents) events.resize(kMaxFlowEvents);
  Json list = Json::array();
  for (const flow::HistoryEvent& e : events) list.push_back(e.ToJson());
  j["events"] = std::move(list);
  j["command"] = "lote flow history " + r.name + " --format json";
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string DashboardPageJson(std::string_view page, const DashboardFilters& f,
                              const std::vector<DashboardChart>& charts) {
  Json j;
  j["page"] = std::string(page);
  j["filters"] = {{"from", f.from},
                  {"to", f.to},
                  {"model", f.model},
                  {"text_lang", f.text_lang},
                  {"label", f.label}};
  Json list = Json::array();
  for (const DashboardChart& c : charts) {
    Json rows = Json::array();
    for (const auto& row : c.data.rows) {
      Json r = Json::array();
      for (const auto& v : row) r.push_back(ValueJson(v));
      rows.push_back(std::move(r));
    }
    Json chart = {{"id", c.id},
                  {"title", c.title},
                  {"sql", c.sql.empty() ? Json(nullptr) : Json(c.sql)},
                  {"columns", c.data.columns},
                  {"rows", std::move(rows)}};
    if (!c.sql.empty()) {
      chart["athena"] = c.catalog_table.empty();
      if (!c.catalog_table.empty()) chart["catalog_table"] = c.catalog_table;
    }
    if (!c.command.empty()) chart["command"] = c.command;
    list.push_back(std::move(chart));
  }
  j["charts"] = std::move(list);
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::vector<std::pair<std::string, std::string>> SecurityHeaders() {
  return {{"Content-Security-Policy",
           "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
           "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"},
          {"X-Content-Type-Options", "nosniff"},
          {"X-Frame-Options", "DENY"},
          {"Referrer-Policy", "no-referrer"}};
}

Result<std::vector<HttpRoute>> DashboardRoutes(const DashboardOptions& o) {
  if (!o.token.empty() && o.token.Reveal().size() < kMinKeyBytes) {
    return InvalidArgumentError("the dashboard's access token must have at least " +
                                std::to_string(kMinKeyBytes) + " bytes");
  }
  struct File {
    const char* name;
    const char* type;
  };
  const File files[] = {{"index.html", "text/html; charset=utf-8"},
                        {"login.html", "text/html; charset=utf-8"},
                        {"app.js", "text/javascript; charset=utf-8"},
                        {"app.css", "text/css; charset=utf-8"},
                        {"chart.umd.js", "text/javascript; charset=utf-8"}};
  auto assets = std::make_shared<std::map<std::string, std::pair<std::string, const char*>>>();
  for (const File& f : files) {
    LOTE_ASSIGN_OR_RETURN(std::string body, ReadAsset(o.assets_dir, f.name));
    (*assets)[f.name] = {std::move(body), f.type};
  }
  auto opts = std::make_shared<const DashboardOptions>(o);
  // When the catalog cache was last refreshed (DashboardOptions::refresh): at start, by the
  // caller that synced it.
  struct Refresh {
    std::mutex mu;
    std::chrono::steady_clock::time_point last = std::chrono::steady_clock::now();
  };
  auto refresh = std::make_shared<Refresh>();
  auto maybe_refresh = [opts, refresh] {
    if (!opts->refresh) return;
    std::unique_lock lock(refresh->mu, std::try_to_lock);
    if (!lock.owns_lock()) return;  // another request is refreshing: answer from the cache
    const auto now = std::chrono::steady_clock::now();
    if (now - refresh->last < opts->refresh_interval) return;
    refresh->last = now;
    if (Status s = opts->refresh(); !s.ok() && opts->log) {
      opts->log("catalog refresh failed, answering from the cache as it is: " + s.ToString());
    }
  };
  const std::string session = o.token.empty() ? "" : SessionValue(o.token);
  // Whether the request may see the dashboard.
  auto allowed = [opts, session](const HttpRequest& r) {
    if (opts->token.empty()) return true;
    constexpr std::string_view kBearer = "Bearer ";
    if (r.authorization.substr(0, kBearer.size()) == kBearer &&
        IsToken(r.authorization.substr(kBearer.size()), opts->token)) {
      return true;
    }
    return ConstantTimeEqual(CookieValue(r.cookie, "lote_session"), session);
  };
  auto denied = [](bool page) {
    if (page) {
      HttpResponse r;
      r.status = 303;
      r.content_type = "text/plain; charset=utf-8";
      r.headers.emplace_back("Location", "/login");
      return r;
    }
    return ErrorResponse(401, "this dashboard needs its access token (Authorization: Bearer)");
  };
  std::vector<HttpRoute> routes;
  routes.push_back({"GET", "/", [assets, allowed, denied](const HttpRequest& r) {
                      if (!allowed(r)) return denied(true);
                      const auto& [body, type] = assets->at("index.html");
                      return Asset(body, type);
                    }});
  routes.push_back({"GET", "/login", [assets](const HttpRequest&) {
                      const auto& [body, type] = assets->at("login.html");
                      return Asset(body, type);
                    }});
  routes.push_back({"POST", "/login", [opts, session](const HttpRequest& r) {
                      HttpResponse out;
                      out.content_type = "text/plain; charset=utf-8";
                      if (opts->token.empty()) {
                        out.status = 303;
                        out.headers.emplace_back("Location", "/");
                        return out;
                      }
                      const std::string token = QueryParameter(r.body, "token");
                      if (!IsToken(token, opts->token)) {
                        return ErrorResponse(401, "wrong access token");
                      }
                      out.status = 303;
                      out.headers.emplace_back("Location", "/");
                      out.headers.emplace_back(
                          "Set-Cookie", "lote_session=" + session +
                                            "; Path=/; HttpOnly; SameSite=Strict; Max-Age=43200");
                      return out;
                    }});
  for (const File& f : files) {
    if (std::string_view(f.name).ends_with(".html")) continue;
    const std::string name = f.name;
    // The assets hold no data: served without the token, as the login page needs app.css.
    routes.push_back({"GET", "/static/" + name, [assets, name](const HttpRequest&) {
                        const auto& [body, type] = assets->at(name);
                        return Asset(body, type);
                      }});
  }
  routes.push_back({"GET", "/api/flow",
                    [opts, allowed, denied](const HttpRequest& r) {
                      if (!allowed(r)) return denied(false);
                      if (!opts->flow_history) {
                        return ErrorResponse(
                            NotFoundError("this dashboard was started without the flows' history "
                                          "(lote serve --flow-history, as lote flow --history)"));
                      }
                      auto body = FlowExecutionJson(*opts->flow_history,
                                                    QueryParameter(r.query, "execution"));
                      if (!body.ok()) return ErrorResponse(body.status());
                      HttpResponse out;
                      out.headers.emplace_back("Cache-Control", "no-store");
                      out.body = std::move(body).value();
                      return out;
                    },
                    true});
  for (const std::string& page : DashboardPages()) {
    auto handle = [opts, allowed, denied, maybe_refresh, page](const HttpRequest& r, bool csv) {
      if (!allowed(r)) return denied(false);
      maybe_refresh();
      auto filters = ParseDashboardFilters(r.query);
      if (!filters.ok()) return ErrorResponse(filters.status());
      // A CSV download computes its one chart only.
      const std::string id = csv ? QueryParameter(r.query, "chart") : "";
      if (csv && id.empty()) {
        return ErrorResponse(InvalidArgumentError("a CSV download names its chart: ?chart=ID"));
      }
      auto charts = DashboardPage(opts->catalog_path, page, *filters, opts->query, id);
      if (!charts.ok()) return ErrorResponse(charts.status());
      const bool registry_chart =
          id == "registry_versions" || id == "alias_history" || id == "promotion_evaluation";
      if (page == "models" && !opts->registry_uri.empty() && (!csv || registry_chart)) {
        auto reg = registry::Registry::Open(opts->registry_uri);
        auto more =
            reg.ok() ? RegistryCharts(*reg) : Result<std::vector<DashboardChart>>(reg.status());
        if (!more.ok()) return ErrorResponse(more.status());
        for (auto& c : *more) charts->push_back(std::move(c));
      }
      HttpResponse out;
      out.headers.emplace_back("Cache-Control", "no-store");
      if (!csv) {
        out.body = DashboardPageJson(page, *filters, *charts);
        return out;
      }
      for (const DashboardChart& c : *charts) {
        if (c.id != id) continue;
        out.content_type = "text/csv; charset=utf-8";
        out.body = pipeline::FormatQueryResult(c.data, pipeline::QueryFormat::kCsv);
        out.headers.emplace_back("Content-Disposition",
                                 "attachment; filename=\"" + page + "-" + c.id + ".csv\"");
        return out;
      }
      return ErrorResponse(NotFoundError("page " + page + " has no chart with that id"));
    };
    routes.push_back(
        {"GET", "/api/" + page, [handle](const HttpRequest& r) { return handle(r, false); }, true});
    routes.push_back({"GET", "/api/" + page + ".csv",
                      [handle](const HttpRequest& r) { return handle(r, true); }, true});
  }
  return routes;
}

}  // namespace lote::serve
