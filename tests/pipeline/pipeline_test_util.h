// Helpers shared by the pipeline unit and integration tests: reading published parts back.
#ifndef LOTE_TESTS_PIPELINE_PIPELINE_TEST_UTIL_H_
#define LOTE_TESTS_PIPELINE_PIPELINE_TEST_UTIL_H_

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "lote/io/byte_source.h"
#include "lote/pipeline/catalog.h"
#include "lote/pipeline/pipeline.h"
#include "lote/storage/storage.h"
#include "pipeline/fake_engine.h"

namespace lote::pipeline::testing {

// A new empty folder under the temp folder for one test (`tag` names the suite); the test
// removes it.
inline std::string NewTestDir(const std::string& tag) {
  static std::atomic<int> counter{0};
  const auto dir = std::filesystem::temp_directory_path() /
                   (tag + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
  std::filesystem::create_directories(dir);
  return dir.string();
}

// Options for a run from mem://t/in to `output_uri` on `mem`, with the catalog at `catalog`.
inline PipelineOptions MemOptions(std::shared_ptr<storage::Storage> mem,
                                  const std::string& output_uri, const std::string& catalog) {
  PipelineOptions o;
  o.input_uri = "mem://t/in";
  o.output_uri = output_uri;
  o.catalog_path = catalog;
  o.input_storage = mem;
  o.output_storage = std::move(mem);
  return o;
}

// A fixture for pipeline tests on mem://: a fresh folder (for catalogs), a mem:// store, a fake
// engine and options from mem://t/in (SetUpMem), removed after the test.
// Every row of every part-*.jsonl.zst below `prefix` (sorted by part URI), as JSON.
inline std::vector<nlohmann::json> ReadRows(storage::Storage& storage, const std::string& prefix,
                                            std::vector<std::string>* part_uris = nullptr) {
  std::vector<nlohmann::json> rows;
  auto listed = storage.List(prefix);
  if (!listed.ok()) return rows;  // nothing published
  for (const auto& info : *listed) {
    if (info.uri.find("/part-") == std::string::npos) continue;
    if (part_uris != nullptr) part_uris->push_back(info.uri);
    auto raw = storage.OpenRead(info.uri);
    EXPECT_TRUE(raw.ok()) << raw.status().ToString();
    if (!raw.ok()) continue;
    auto source = io::MakeZstdSource(std::move(raw).value());
    io::LineReader lines(source.get());
    std::string line;
    while (true) {
      auto next = lines.Next(&line);
      EXPECT_TRUE(next.ok()) << next.status().ToString();
      if (!next.ok() || !*next) break;
      rows.push_back(nlohmann::json::parse(line));
    }
  }
  return rows;
}

// A reference for monitoring, as a model file would carry: 30 records, two labels, Spanish.
inline monitoring::Profile SmallReferenceProfile() {
  monitoring::Profile reference;
  for (int i = 0; i < 30; ++i) {
    monitoring::Observation o;
    o.label = i % 3 ? "pago" : "bloqueo";
    o.score = 0.9f;
    o.lang = "es";
    o.chars = 16 + i % 5;
    o.vocabulary = {3, 1, 3, 1};
    reference.Add(o);
  }
  return reference;
}

class MemPipelineTest : public ::testing::Test {
 protected:
  void SetUpMem(const std::string& tag, const std::string& output_uri,
                const std::string& catalog_name) {
    dir_ = NewTestDir(tag);
    mem_ = storage::NewMemStorage();
    engine_ = std::make_shared<FakeInferenceEngine>();
    options_ = MemOptions(mem_, output_uri, dir_ + "/" + catalog_name);
  }
  // The rows published under OUT/KIND (results, quarantine) without the fields that differ
  // between runs.
  std::set<std::string> Rows(const std::string& out, const std::string& kind) {
    std::set<std::string> rows;
    for (nlohmann::json r : ReadRows(*mem_, out + "/" + kind)) {
      for (const char* k : {"run_id", "processed_at"}) r.erase(k);
      rows.insert(r.dump());
    }
    return rows;
  }
  // Writes an input object under mem://t/in/.
  void Put(const std::string& rel, const std::string& data) {
    ASSERT_TRUE(mem_->Write("mem://t/in/" + rel, data).ok());
  }
  // `n` JSONL records a0.. of payments and card blocks: "pagar MIDDLE i" / "bloquear MIDDLE i".
  static std::string PaymentRecords(int n, const std::string& middle) {
    std::string a;
    for (int i = 0; i < n; ++i) {
      a += "{\"id\":\"a" + std::to_string(i) + "\",\"text\":\"" + (i % 3 ? "pagar" : "bloquear") +
           " " + middle + " " + std::to_string(i) + "\"}\n";
    }
    return a;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string dir_;
  std::shared_ptr<storage::Storage> mem_;
  std::shared_ptr<FakeInferenceEngine> engine_;
  PipelineOptions options_;
};

// The catalog's daily summaries (what the dashboard reads) hold exactly what the views give when
// grouped the same way. Returns the records the summaries count, for a test to check it is not 0.
inline int64_t ExpectSummariesMatchTheViews(const std::string& catalog) {
  auto csv = [&](const std::string& sql) {
    auto r = QueryCatalog(catalog, sql);
    EXPECT_TRUE(r.ok()) << sql << ": " << r.status().ToString();
    if (!r.ok()) return std::string();
    const std::string all = FormatQueryResult(*r, QueryFormat::kCsv);
    return all.substr(all.find('\n') + 1);  // the rows, not the column names
  };
  const std::string key =
      "SELECT dt, coalesce(model_version, '') AS m, coalesce(lang, '') AS l, coalesce(label, '') "
      "AS b, ";
  EXPECT_EQ(
      csv("SELECT dt, model_version, lang, label, score_tenth, records, round(score_sum, 4) "
          "FROM results_daily ORDER BY 1, 2, 3, 4, 5"),
      csv(key + "CASE WHEN label IS NULL THEN -1 ELSE max(0, min(CAST(score * 10 AS INTEGER), 9)) "
                "END AS t, count(*), round(total(score), 4) FROM results GROUP BY 1, 2, 3, 4, 5 "
                "ORDER BY 1, 2, 3, 4, 5"));
  EXPECT_EQ(csv("SELECT dt, model_version, lang, label, type, entities FROM entities_daily ORDER "
                "BY 1, 2, 3, 4, 5"),
            csv(key + "coalesce(j.value ->> '$.type', '') AS y, count(*) FROM results, "
                      "json_each(entities) j GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5"));
  EXPECT_EQ(csv("SELECT dt, model_version, stage, records FROM quarantine_daily ORDER BY 1, 2, 3"),
            csv("SELECT dt, coalesce(model, ''), coalesce(stage, ''), count(*) FROM quarantine "
                "GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"));
  // The views `lote query --athena-ddl` gives Athena count the same, run here over the catalog's
  // views (database "main"); SQLite has no UNNEST, so that one clause becomes json_each.
  for (AthenaView v : AthenaViews("main")) {
    if (v.name == "entities") continue;  // the catalog's own view (the same columns)
    const std::string unnest = AthenaEntitiesUnnest("main");
    if (const size_t at = v.select.find(unnest); at != std::string::npos) {
      v.select.replace(at, unnest.size(), "FROM main.results r, json_each(r.entities) j");
      const size_t type = v.select.find("e.type");
      EXPECT_NE(type, std::string::npos) << v.select;
      if (type != std::string::npos) v.select.replace(type, 6, "(j.value ->> '$.type')");
    }
    const std::string columns =
        v.name == "results_daily"
            ? "dt, model_version, lang, label, score_tenth, records, round(score_sum, 4)"
        : v.name == "entities_daily" ? "dt, model_version, lang, label, type, entities"
                                     : "dt, model_version, stage, records";
    const std::string order =
        v.name == "quarantine_daily" ? " ORDER BY 1, 2, 3" : " ORDER BY 1, 2, 3, 4, 5";
    EXPECT_EQ(csv("SELECT " + columns + " FROM " + v.name + order),
              csv("SELECT " + columns + " FROM (" + v.select + ")" + order))
        << v.select;
  }
  auto total = QueryCatalog(catalog, "SELECT coalesce(sum(records), 0) FROM results_daily");
  return total.ok() && !total->rows.empty() ? std::stoll(total->rows[0][0].text) : -1;
}

}  // namespace lote::pipeline::testing

#endif  // LOTE_TESTS_PIPELINE_PIPELINE_TEST_UTIL_H_
