// The dashboard `lote serve --output URI` serves: pages over an output's catalog (results,
// quarantine, runs), read only, with the JSON API the pages use (docs/dashboard.md).
//
// Every number is one SQL statement over the catalog's views, run through pipeline::QueryCatalog
// (read-only whatever the SQL, bounded in time and size) and returned with the statement itself,
// so that any chart can be reproduced with `lote query` (the SQL is SQLite's: not yet Athena's).
// Filters come from the query string, are checked against a strict syntax (dates
// YYYY-MM-DD, versions and labels of letters, digits and `._-`, languages of letters) and are
// written into the SQL as quoted literals: the SQL shown is the SQL run.
//
// Access: a dashboard bound to loopback is open to the machine's users; on any other address
// it needs a token (DashboardOptions::token): every request carries it as
// `Authorization: Bearer TOKEN`, or the session cookie that POST /login sets from it (HttpOnly,
// SameSite=Strict; its value is HMAC-SHA256(token, "lote-session"), compared in constant time, so
// the token itself never travels in a cookie). Every response carries the security headers of
// SecurityHeaders() (no inline script: CSP script-src 'self').
//
// Thread-safety: immutable after Create; routes are called from many threads.
#ifndef LOTE_SERVE_DASHBOARD_H_
#define LOTE_SERVE_DASHBOARD_H_

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lote/base/secret.h"
#include "lote/base/status.h"
#include "lote/pipeline/catalog.h"
#include "lote/registry/registry.h"
#include "lote/serve/http_server.h"

namespace lote::flow {
class HistoryStore;
}  // namespace lote::flow

namespace lote::serve {

// What a page's numbers are restricted to. Empty: no restriction.
struct DashboardFilters {
  std::string from, to;   // YYYY-MM-DD, inclusive, on the results' partition day (dt)
  std::string model;      // a model version
  std::string text_lang;  // prep's language of the records ("es", "en", ...)
  std::string label;      // a predicted label
};

// Parses `from`, `to`, `model`, `text_lang`, `label` from a query string (other keys are left to
// the caller). InvalidArgument naming the parameter for a value outside its syntax.
Result<DashboardFilters> ParseDashboardFilters(std::string_view query);

// The value of `key` in a query string ("a=1&b=x%20y"), percent-decoded; "" when absent.
std::string QueryParameter(std::string_view query, std::string_view key);

// One chart's data: the statement that produced it (or, for the registry's charts, which read
// no catalog, the lote command that shows the same) and its result.
struct DashboardChart {
  std::string id;
  std::string title;
  std::string sql;  // "" for registry charts
  pipeline::QueryResult data;
  std::string command;  // the CLI command behind a chart without SQL
  // Empty: `sql` runs as it is on Athena too, over the tables and views of `lote query
  // --athena-ddl`; otherwise a table it reads that only the catalog has ("runs", "monitoring",
  // "drift_signals", "alarms" or "feedback").
  std::string catalog_table;
};

// The pages with data: "overview", "intents", "entities", "quarantine", "drift", "models",
// "runs".
const std::vector<std::string>& DashboardPages();

// The charts of `page` under `filters`, each computed on the catalog at `catalog_path`; with
// `only_chart`, that chart alone (none when the page has no such chart). NotFound for an unknown
// page; the catalog's errors (NotFound when nothing was published yet).
Result<std::vector<DashboardChart>> DashboardPage(const std::string& catalog_path,
                                                  std::string_view page,
                                                  const DashboardFilters& filters,
                                                  const pipeline::QueryOptions& options,
                                                  std::string_view only_chart = "");

// The registry's charts of the models page: every registered model's versions (status,
// aliases), its alias history, newest first (at most 50 models, 100 moves each), and its latest
// promotion test, champion against candidate per label or entity type.
Result<std::vector<DashboardChart>> RegistryCharts(const registry::Registry& registry);

// {"page", "filters": {...}, "charts": [{"id", "title", "sql" (null for registry charts),
// "command" (registry charts), "columns", "rows"}]}, numbers as numbers and NULL as null.
std::string DashboardPageJson(std::string_view page, const DashboardFilters& filters,
                              const std::vector<DashboardChart>& charts);

// Content-Security-Policy (default-src 'self', no inline script or style, frame-ancestors
// 'none'), X-Content-Type-Options, X-Frame-Options, Referrer-Policy.
std::vector<std::pair<std::string, std::string>> SecurityHeaders();

struct DashboardOptions {
  std::string catalog_path;  // the output's catalog (pipeline::ReadableCatalogPath)
  std::string assets_dir;    // index.html, login.html, app.js, app.css, chart.umd.js
  std::string registry_uri;  // the models page's registry ("": its catalog charts only)
  // Required unless the server binds loopback only: see the file comment. At least 16 bytes.
  Secret token;
  // Bounds on each chart's statement: a page's data is computed in well under a second on the
  // catalogs measured (bench/dashboard_bench.py); past these the request fails, naming the bound.
  pipeline::QueryOptions query;
  // An object store's catalog is a local cache of the bucket's ledger: `refresh` brings it up to
  // date, and runs before a data request when the last one is older than refresh_interval (one
  // request at a time; the others answer from the cache meanwhile). A failed refresh answers from
  // the cache as it is and passes the error to `log` (no data, no credential in it).
  std::function<Status()> refresh;
  std::chrono::seconds refresh_interval{30};
  std::function<void(const std::string&)> log;
  // The state machine executor's history (`lote flow --history`): GET /api/flow?execution=NAME
  // answers a run's execution (the runs page links it) with its events. Null: a 404 saying so.
  std::shared_ptr<flow::HistoryStore> flow_history;
};

// The dashboard's routes: GET / (index.html), /login (GET: the form; POST: the cookie),
// /static/NAME for the assets, /api/PAGE (JSON), /api/PAGE.csv?chart=ID (CSV with a header,
// as `lote query --format csv` writes it) and /api/flow?execution=NAME (an execution's record and
// its first kMaxFlowEvents events, as `lote flow history NAME --format json` prints them). Errors:
// NotFound when an asset is missing from assets_dir; InvalidArgument for a token shorter than 16
// bytes.
Result<std::vector<HttpRoute>> DashboardRoutes(const DashboardOptions& options);
inline constexpr size_t kMaxFlowEvents = 2000;

// The JSON of GET /api/flow?execution=NAME (NAME, or an execution ARN whose last part is it):
// {"execution": {"name", "state_machine", "status", "started_at", "stopped_at", "error",
// "cause"}, "events": [...], "truncated", "command"}. InvalidArgument for a name outside Step
// Functions' syntax (1 to 80 of letters, digits, '-', '_'); NotFound for an unknown one.
Result<std::string> FlowExecutionJson(flow::HistoryStore& history, std::string_view execution);

}  // namespace lote::serve

#endif  // LOTE_SERVE_DASHBOARD_H_
