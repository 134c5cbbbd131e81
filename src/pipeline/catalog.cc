#include "lote/pipeline/catalog.h"

#include <sys/stat.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "lote/pipeline/pipeline.h"
#include "lote/storage/storage.h"
#include "lote/text/utf8.h"
#include "pipeline/read_only_query.h"
#include "pipeline/sqlite_db.h"

namespace lote::pipeline {
namespace {

std::string CsvField(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

Result<std::unique_ptr<SqliteDb>> OpenCatalog(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    return NotFoundError("no catalog at " + path + " (run `lote run` first, or pass --catalog)");
  }
  return SqliteDb::Open(path, /*read_only=*/true);
}

}  // namespace

Result<std::string> ReadableCatalogPath(const PipelineOptions& options,
                                        const std::function<void(const std::string&)>& log) {
  std::shared_ptr<storage::Storage> out = options.output_storage;
  if (!out) {
    LOTE_ASSIGN_OR_RETURN(out, storage::OpenStorage(options.output_uri));
  }
  if (out->is_local()) return ResolveCatalogPath(options);
  std::string catalog;
  LOTE_ASSIGN_OR_RETURN(auto ledger, OpenOutputLedger(options, /*writer=*/false, log, &catalog));
  (void)ledger;
  return catalog;
}

Result<QueryResult> QueryCatalog(const std::string& catalog_path, std::string_view sql,
                                 const QueryOptions& options) {
  LOTE_ASSIGN_OR_RETURN(auto db, OpenCatalog(catalog_path));
  return RunReadOnlyQuery(*db, sql, options);
}

Result<QueryFormat> ParseQueryFormat(std::string_view name) {
  if (name == "table") return QueryFormat::kTable;
  if (name == "csv") return QueryFormat::kCsv;
  if (name == "json") return QueryFormat::kJson;
  return InvalidArgumentError("format must be table, csv or json, not '" + std::string(name) + "'");
}

std::string FormatQueryResult(const QueryResult& result, QueryFormat format) {
  std::string out;
  if (format == QueryFormat::kCsv) {
    for (size_t i = 0; i < result.columns.size(); ++i) {
      if (i) out += ",";
      out += CsvField(result.columns[i]);
    }
    out += "\n";
    for (const auto& row : result.rows) {
      for (size_t i = 0; i < row.size(); ++i) {
        if (i) out += ",";
        out += CsvField(row[i].text);
      }
      out += "\n";
    }
    return out;
  }
  if (format == QueryFormat::kJson) {
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& row : result.rows) {
      nlohmann::json obj = nlohmann::json::object();
      for (size_t i = 0; i < row.size(); ++i) {
        const QueryValue& v = row[i];
        switch (v.type) {
          case QueryValue::Type::kNull:
            obj[result.columns[i]] = nullptr;
            break;
          case QueryValue::Type::kInteger:
            obj[result.columns[i]] = std::stoll(v.text);
            break;
          case QueryValue::Type::kReal:
            obj[result.columns[i]] = std::stod(v.text);
            break;
          case QueryValue::Type::kText:
            obj[result.columns[i]] = v.text;
            break;
        }
      }
      arr.push_back(std::move(obj));
    }
    return arr.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  }
  // Table: for a terminal, so every name and value is escaped (a value could hold ESC [ ...);
  // widths in code points so Spanish text lines up (escaped text is valid UTF-8).
  std::vector<std::string> names;
  for (const auto& c : result.columns) names.push_back(text::EscapeControl(c));
  std::vector<std::vector<std::string>> cells;
  for (const auto& row : result.rows) {
    std::vector<std::string>& shown = cells.emplace_back();
    for (const auto& v : row) {
      shown.push_back(v.type == QueryValue::Type::kNull ? std::string("NULL")
                                                        : text::EscapeControl(v.text));
    }
  }
  std::vector<size_t> width(names.size());
  auto cps = [](const std::string& s) { return text::CodePointCount(s); };
  for (size_t i = 0; i < width.size(); ++i) width[i] = cps(names[i]);
  for (const auto& row : cells) {
    for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], cps(row[i]));
  }
  auto line = [&](const std::vector<std::string>& cells) {
    for (size_t i = 0; i < cells.size(); ++i) {
      if (i) out += " | ";
      out += cells[i];
      if (i + 1 < cells.size()) out.append(width[i] - cps(cells[i]), ' ');
    }
    out += "\n";
  };
  line(names);
  for (size_t i = 0; i < width.size(); ++i) {
    if (i) out += "-+-";
    out.append(width[i], '-');
  }
  out += "\n";
  for (const auto& row : cells) line(row);
  out +=
      "(" + std::to_string(result.rows.size()) + (result.rows.size() == 1 ? " row)\n" : " rows)\n");
  return out;
}

std::string AthenaDdl(const AthenaDdlOptions& o) {
  std::string location = o.location;
  if (!location.empty() && location.back() == '/') location.pop_back();
  std::string model_projection;
  if (o.model_versions.empty()) {
    model_projection = "  'projection.model.type' = 'injected',\n";
  } else {
    std::string values;
    for (size_t i = 0; i < o.model_versions.size(); ++i) {
      if (i) values += ",";
      values += o.model_versions[i];
    }
    model_projection =
        "  'projection.model.type' = 'enum',\n  'projection.model.values' = '" + values + "',\n";
  }
  auto table = [&](const std::string& name, const std::string& columns) {
    return "CREATE EXTERNAL TABLE IF NOT EXISTS " + o.database + "." + name + " (\n" + columns +
           ")\nPARTITIONED BY (dt string, model string)\n"
           "ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'\n"
           "STORED AS INPUTFORMAT 'org.apache.hadoop.mapred.TextInputFormat'\n"
           "OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'\n"
           "LOCATION '" +
           location + "/" + name +
           "/'\n"
           "TBLPROPERTIES (\n"
           "  'projection.enabled' = 'true',\n"
           "  'projection.dt.type' = 'date',\n"
           "  'projection.dt.format' = 'yyyy-MM-dd',\n"
           "  'projection.dt.range' = '" +
           o.dt_from +
           ",NOW',\n"
           "  'projection.dt.interval' = '1',\n"
           "  'projection.dt.interval.unit' = 'DAYS',\n" +
           model_projection + "  'storage.location.template' = '" + location + "/" + name +
           "/dt=${dt}/model=${model}/'\n);\n";
  };
  std::string views;
  for (const AthenaView& v : AthenaViews(o.database)) {
    views += "\nCREATE OR REPLACE VIEW " + o.database + "." + v.name + " AS\n" + v.select + ";\n";
  }
  // Athena reads .zst text files through Hadoop's ZStandard codec, picked by the extension.
  return table("results",
               "  record_id string,\n  source string,\n  line bigint,\n  text_hmac string,\n"
               "  lang string,\n  label string,\n  score double,\n"
               "  top_k array<struct<label:string,score:double>>,\n"
               "  entities array<struct<type:string,start:int,`end`:int,text:string,"
               "value:string,score:double>>,\n"
               "  model_version string,\n  preprocess_version string,\n  run_id string,\n"
               "  processed_at string\n") +
         "\n" +
         table("quarantine",
               "  record_id string,\n  source string,\n  line bigint,\n  stage string,\n"
               "  reason string,\n  model_version string,\n  preprocess_version string,\n"
               "  run_id string,\n  processed_at string\n") +
         views;
}

// Written in what Trino (Athena's engine) and SQLite both run, so that a test can run the same
// text over the catalog's views and compare it with the summaries the ledger keeps: CASE rather
// than least/min, floor then CAST (Trino's CAST of a double rounds, SQLite's truncates), GROUP BY
// ordinals. The one exception is UNNEST (SQLite has json_each), kept to one clause.
std::vector<AthenaView> AthenaViews(const std::string& database) {
  const std::string results = database + ".results";
  const std::string unnest = AthenaEntitiesUnnest(database);
  return {
      {"entities",
       "SELECT r.record_id, e.type, e.start, e.\"end\", e.text, e.value, e.score, r.run_id,\n"
       "  r.model_version, r.dt\n" +
           unnest},
      {"results_daily",
       "SELECT dt, coalesce(model_version, '') AS model_version, coalesce(lang, '') AS lang,\n"
       "  coalesce(label, '') AS label,\n"
       "  CASE WHEN label IS NULL THEN -1 WHEN score * 10 >= 9 THEN 9 WHEN score <= 0 THEN 0\n"
       "    ELSE CAST(floor(score * 10) AS integer) END AS score_tenth,\n"
       "  count(*) AS records, coalesce(sum(score), 0) AS score_sum\n"
       "FROM " +
           results + "\nGROUP BY 1, 2, 3, 4, 5"},
      {"entities_daily",
       "SELECT r.dt, coalesce(r.model_version, '') AS model_version, coalesce(r.lang, '') AS "
       "lang,\n  coalesce(r.label, '') AS label, coalesce(e.type, '') AS type, count(*) AS "
       "entities\n" +
           unnest + "\nGROUP BY 1, 2, 3, 4, 5"},
      {"quarantine_daily",
       "SELECT dt, coalesce(model, '') AS model_version, coalesce(stage, '') AS stage,\n"
       "  count(*) AS records\nFROM " +
           database + ".quarantine\nGROUP BY 1, 2, 3"},
  };
}

std::string AthenaEntitiesUnnest(const std::string& database) {
  return "FROM " + database +
         ".results r CROSS JOIN UNNEST(r.entities) AS e(type, start, \"end\", text, value, score)";
}

Result<std::vector<std::string>> CatalogModelVersions(const std::string& catalog_path) {
  LOTE_ASSIGN_OR_RETURN(QueryResult r, QueryCatalog(catalog_path,
                                                    "SELECT DISTINCT model_version FROM runs WHERE "
                                                    "model_version IS NOT NULL ORDER BY 1"));
  std::vector<std::string> out;
  for (const auto& row : r.rows) out.push_back(row[0].text);
  return out;
}

}  // namespace lote::pipeline
