#include "lote/pipeline/pipeline.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <thread>

#include "lote/base/clock.h"
#include "lote/base/digest.h"
#include "lote/base/metrics.h"
#include "lote/pipeline/catalog.h"
#include "lote/storage/fault_injecting_storage.h"
#include "pipeline/fake_engine.h"
#include "pipeline/pipeline_test_util.h"
#include "pipeline/sqlite_db.h"

namespace lote::pipeline {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::ExpectSummariesMatchTheViews;
using testing::FakeInferenceEngine;
using testing::ReadRows;

class PipelineTest : public testing::MemPipelineTest {
 protected:
  void SetUp() override {
    SetUpMem("lote_pipeline_test", "mem://t/out", "catalog.db");
    options_.threads = 2;
    options_.batch_records = 3;  // several batches even for small inputs
  }

  void Put(const std::string& rel, const std::string& data) {
    ASSERT_TRUE(mem_->Write("mem://t/in/" + rel, data).ok());
  }
  std::vector<json> Results() { return ReadRows(*mem_, "mem://t/out/results"); }
  std::vector<json> Quarantine() { return ReadRows(*mem_, "mem://t/out/quarantine"); }
  QueryResult Query(const std::string& sql) {
    auto r = QueryCatalog(options_.catalog_path, sql);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : QueryResult{};
  }
  std::string Scalar(const std::string& sql) {
    QueryResult r = Query(sql);
    return r.rows.empty() ? "" : r.rows[0][0].text;
  }
  // Runs until the first object is committed, then every write fails (a bucket gone read-only)
  // and the run stops; afterwards writes work again. Returns the unfinished run's id.
  std::string RunKilledAfterTheFirstObject() {
    auto faulty = std::make_shared<storage::FaultInjectingStorage>(mem_);
    options_.output_storage = faulty;
    bool failing = false;
    options_.fault_hook = [&](std::string_view point) {
      if (point == "object_done" && !failing) {
        failing = true;
        faulty->FailNthWrite(1, UnavailableError("bucket is read-only"), /*sticky=*/true);
      }
    };
    EXPECT_FALSE(RunPipeline(options_, engine_).ok());
    options_.fault_hook = nullptr;
    faulty->FailNthWrite(0, Status::Ok());
    return Scalar("SELECT run_id FROM runs");
  }
};

TEST_F(PipelineTest, PublishesEveryFormatWithExactRowsAndReconciles) {
  options_.fingerprint_key = Secret(std::string("0123456789abcdef-test-key"));
  Put("a.jsonl",
      "{\"id\":\"m1\",\"text\":\"Quiero pagar mi tarjeta\"}\n"
      "{\"id\":\"m2\",\"text\":\"<b>bloquear</b> la cuenta 12345678\"}\n"
      "not json\n"
      "{\"id\":\"m3\",\"text\":\"   \"}\n");
  Put("b.csv", "id,text\nc1,hola buenas\nc2,\"how do I pay, please\"\n");
  Put("c.txt", "una linea\n\nFAILME 99887766\n");
  auto report = RunPipeline(options_, engine_);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->objects_listed, 3u);
  EXPECT_EQ(report->objects_processed, 3u);
  EXPECT_EQ(report->counts.records_in, 8u);
  EXPECT_EQ(report->counts.records_out, 5u);
  EXPECT_EQ(report->counts.records_quarantined, 3u);
  EXPECT_EQ(report->counts.records_duplicate, 0u);

  std::vector<json> rows = Results();
  ASSERT_EQ(rows.size(), 5u);
  std::map<std::string, json> by_id;
  for (const json& r : rows) by_id[r["record_id"]] = r;
  ASSERT_TRUE(by_id.count("m2"));
  const json& m2 = by_id["m2"];
  EXPECT_EQ(m2["source"], "mem://t/in/a.jsonl");
  EXPECT_EQ(m2["line"], 2);
  EXPECT_EQ(m2["label"], "bloqueo");
  EXPECT_EQ(m2["lang"], "es");
  // The text's fingerprint is keyed: HMAC-SHA256 under the key's "text" purpose key, not an
  // unkeyed hash anyone could recompute from a guess.
  EXPECT_EQ(
      m2["text_hmac"],
      KeyedHash(options_.fingerprint_key, "text").HexDigest("<b>bloquear</b> la cuenta 12345678"));
  EXPECT_NE(m2["text_hmac"], Sha256Hex("<b>bloquear</b> la cuenta 12345678"));
  EXPECT_EQ(m2["entities"].size(), 1u);
  EXPECT_EQ(m2["entities"][0]["text"], "[NUMERO_CUENTA]");
  EXPECT_EQ(m2["entities"][0]["start"], 19);  // offsets in the clean text "bloquear la cuenta ..."
  EXPECT_EQ(m2["model_version"], "fake-1");
  EXPECT_EQ(m2["preprocess_version"], PreprocessVersion(options_.prep));
  EXPECT_EQ(m2["run_id"], report->run_id);
  EXPECT_EQ(m2["top_k"][0]["label"], "bloqueo");
  std::set<std::string> keys;
  for (auto it = m2.begin(); it != m2.end(); ++it) keys.insert(it.key());
  EXPECT_EQ(keys, (std::set<std::string>{"record_id", "source", "line", "text_hmac", "lang",
                                         "label", "score", "top_k", "entities", "model_version",
                                         "preprocess_version", "run_id", "processed_at"}));
  EXPECT_EQ(by_id["c2"]["label"], "pago");
  EXPECT_EQ(by_id["c2"]["line"], 3);
  EXPECT_TRUE(by_id.count("mem://t/in/c.txt:1"));  // no id field: SOURCE:LINE

  std::map<std::string, json> q;
  for (const json& r : Quarantine()) q[r["record_id"]] = r;
  ASSERT_EQ(q.size(), 3u);
  EXPECT_EQ(q["mem://t/in/a.jsonl:3"]["stage"], "ingest");
  EXPECT_EQ(q["m3"]["stage"], "prep");
  EXPECT_EQ(q["m3"]["reason"], "empty after cleaning");
  const json& failed = q["mem://t/in/c.txt:3"];
  EXPECT_EQ(failed["stage"], "infer");
  EXPECT_EQ(failed["line"], 3);
  // The engine's message quoted the account number; the PII policy masked it.
  EXPECT_EQ(failed["reason"].get<std::string>().find("99887766"), std::string::npos);
  EXPECT_NE(failed["reason"].get<std::string>().find("[NUMERO_CUENTA]"), std::string::npos);

  auto manifest = mem_->Read(report->manifest_uri);
  ASSERT_TRUE(manifest.ok());
  json m = json::parse(*manifest);
  EXPECT_EQ(m["counts"]["records_in"], 8);
  EXPECT_TRUE(m["reconciliation"]["ok"]);
  EXPECT_EQ(m["objects"].size(), 3u);
  // Parts are per object: a and c have results and quarantine parts, b only results.
  ASSERT_EQ(m["files"].size(), 5u);
  for (const json& f : m["files"]) {
    auto bytes = mem_->Read(f["uri"].get<std::string>());
    ASSERT_TRUE(bytes.ok());
    EXPECT_EQ(f["sha256"], Sha256Hex(*bytes));
  }
  std::string day = rows[0]["processed_at"].get<std::string>().substr(0, 10);
  EXPECT_TRUE(
      mem_->Stat("mem://t/out/results/dt=" + day + "/model=fake-1/part-00000.jsonl.zst").ok());

  EXPECT_EQ(Scalar("SELECT count(*) FROM results"), "5");
  EXPECT_EQ(Scalar("SELECT count(*) FROM quarantine"), "3");
  EXPECT_EQ(Scalar("SELECT count(*) FROM entities WHERE type = 'NUMERO_CUENTA'"), "1");
  EXPECT_EQ(Scalar("SELECT state || ':' || records_in FROM runs"), "succeeded:8");
  EXPECT_EQ(Scalar("SELECT label FROM results WHERE record_id = 'm1'"), "pago");
}

TEST_F(PipelineTest, RerunSkipsFinishedObjectsAndWritesNothingNew) {
  Put("a.jsonl", "{\"id\":\"1\",\"text\":\"pagar\"}\n{\"id\":\"2\",\"text\":\"hola\"}\n");
  ASSERT_TRUE(RunPipeline(options_, engine_).ok());
  uint64_t calls = engine_->calls();
  auto second = RunPipeline(options_, engine_);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->objects_skipped, 1u);
  EXPECT_EQ(second->counts.records_in, 0u);
  EXPECT_FALSE(second->resumed);
  EXPECT_EQ(engine_->calls(), calls);
  EXPECT_EQ(Results().size(), 2u);
  EXPECT_EQ(Scalar("SELECT count(*) FROM runs WHERE state = 'succeeded'"), "2");
}

TEST_F(PipelineTest, DeduplicatesByRecordIdAcrossFilesAndRuns) {
  Put("a.jsonl", "{\"id\":\"1\",\"text\":\"pagar\"}\n{\"id\":\"1\",\"text\":\"otra vez\"}\n");
  Put("b.jsonl", "{\"id\":\"1\",\"text\":\"pagar\"}\n{\"id\":\"2\",\"text\":\"hola\"}\n");
  auto first = RunPipeline(options_, engine_);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->counts.records_out, 2u);
  EXPECT_EQ(first->counts.records_duplicate, 2u);
  Put("c.jsonl", "{\"id\":\"2\",\"text\":\"hola\"}\n{\"id\":\"3\",\"text\":\"hola\"}\n");
  auto second = RunPipeline(options_, engine_);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->counts.records_in, 2u);
  EXPECT_EQ(second->counts.records_duplicate, 1u);  // "2" came in b.jsonl already
  EXPECT_EQ(second->counts.records_out, 1u);        // identical text, different record: kept
  EXPECT_EQ(Results().size(), 3u);
}

TEST_F(PipelineTest, DeduplicatesByContentOnlyWhenConfiguredAndOnlyWithAKey) {
  options_.prep.dedup_content = true;
  Put("a.jsonl",
      "{\"id\":\"1\",\"text\":\"hola\"}\n{\"id\":\"2\",\"text\":\"  hola \"}\n"
      "{\"id\":\"3\",\"text\":\"chao\"}\n");
  // Content fingerprints kept across runs must be keyed: without a key, refused up front.
  auto refused = RunPipeline(options_, engine_);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("PII key"), std::string::npos);
  EXPECT_FALSE(mem_->Stat("mem://t/out/_lock").ok());  // refused before anything ran
  options_.fingerprint_key = Secret(std::string("0123456789abcdef-test-key"));
  auto report = RunPipeline(options_, engine_);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->counts.records_out, 2u);
  EXPECT_EQ(report->counts.records_duplicate, 1u);
  // What the catalog keeps for dedup is the keyed fingerprint, not a hash of "hola".
  auto db = SqliteDb::Open(options_.catalog_path, true);
  ASSERT_TRUE(db.ok());
  auto stmt = (*db)->Prepare("SELECT lower(hex(content_key)) FROM seen_content ORDER BY 1");
  ASSERT_TRUE(stmt.ok());
  std::set<std::string> keys;
  while (*stmt->Step()) keys.insert(stmt->Text(0));
  KeyedHash content(options_.fingerprint_key, "content");
  EXPECT_EQ(keys, (std::set<std::string>{content.HexDigest("hola"), content.HexDigest("chao")}));
  EXPECT_FALSE(keys.count(Sha256Hex("hola")));
}

TEST_F(PipelineTest, WithoutAKeyResultsCarryNoTextFingerprintAtAll) {
  Put("a.jsonl", "{\"id\":\"1\",\"text\":\"mi cedula es 1020304050\"}\n");
  auto report = RunPipeline(options_, engine_);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  std::vector<json> rows = Results();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_TRUE(rows[0]["text_hmac"].is_null());
  EXPECT_EQ(Scalar("SELECT count(*) FROM results WHERE text_hmac IS NULL"), "1");
  // Nothing in the output or the catalog is an unkeyed hash of the text (hex or raw bytes).
  const std::string digest = Sha256Hex("mi cedula es 1020304050");
  uint8_t raw[32];
  ASSERT_TRUE(HexDecode(digest, raw, 32));
  const std::string raw_digest(reinterpret_cast<char*>(raw), 32);
  auto listed = mem_->List("mem://t/out/");
  ASSERT_TRUE(listed.ok());
  for (const auto& info : *listed) {
    auto bytes = mem_->Read(info.uri);
    ASSERT_TRUE(bytes.ok());
    std::string text = *bytes;
    if (info.uri.ends_with(".zst")) {
      auto src = io::MakeZstdSource(io::MakeOwnedStringSource(*bytes, info.uri));
      text.clear();
      char buf[4096];
      while (true) {
        auto n = src->Read(buf, sizeof(buf));
        ASSERT_TRUE(n.ok());
        if (*n == 0) break;
        text.append(buf, *n);
      }
    }
    EXPECT_EQ(text.find(digest), std::string::npos) << info.uri;
  }
  for (const std::string& file : {options_.catalog_path, options_.catalog_path + "-wal"}) {
    std::string catalog;
    std::FILE* f = std::fopen(file.c_str(), "rb");
    if (f == nullptr) continue;
    char buf[65536];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) catalog.append(buf, n);
    std::fclose(f);
    EXPECT_EQ(catalog.find(raw_digest), std::string::npos) << file;
    EXPECT_EQ(catalog.find(digest), std::string::npos) << file;
  }
}

TEST_F(PipelineTest, ChangedObjectIsANewVersionAndTheCatalogShowsTheLatest) {
  Put("a.jsonl", "{\"id\":\"1\",\"text\":\"pagar\"}\n{\"id\":\"2\",\"text\":\"hola\"}\n");
  ASSERT_TRUE(RunPipeline(options_, engine_).ok());
  Put("a.jsonl",
      "{\"id\":\"1\",\"text\":\"bloquear tarjeta\"}\n{\"id\":\"2\",\"text\":\"hola\"}\n");
  auto second = RunPipeline(options_, engine_);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->counts.records_out, 2u);
  EXPECT_EQ(second->counts.records_duplicate, 0u);
  EXPECT_EQ(Results().size(), 4u);  // both versions are in the files (history)
  EXPECT_EQ(Scalar("SELECT count(*) FROM results"), "2");
  EXPECT_EQ(Scalar("SELECT label FROM results WHERE record_id = '1'"), "bloqueo");
  EXPECT_EQ(Scalar("SELECT count(*) FROM results_history"), "4");
  EXPECT_EQ(ExpectSummariesMatchTheViews(options_.catalog_path), 2);
}

TEST_F(PipelineTest, WithoutRecordIdDedupTheCatalogStillShowsTheLatestVersion) {
  options_.prep.dedup_record_id = false;
  Put("a.jsonl", "{\"id\":\"1\",\"text\":\"pagar\"}\n{\"id\":\"1\",\"text\":\"hola\"}\n");
  Put("b.jsonl", "{\"id\":\"1\",\"text\":\"pagar\"}\n");
  ASSERT_TRUE(RunPipeline(options_, engine_).ok());
  // Nothing is a duplicate: the same id twice in a file and once in another file all stay.
  EXPECT_EQ(Scalar("SELECT count(*) FROM results"), "3");
  Put("a.jsonl", "{\"id\":\"1\",\"text\":\"bloquear tarjeta\"}\n");
  auto second = RunPipeline(options_, engine_);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  // a.jsonl's new version replaces both rows of its earlier version; b.jsonl's row stays.
  EXPECT_EQ(Scalar("SELECT group_concat(label, ',') FROM (SELECT label FROM results "
                   "ORDER BY source)"),
            "bloqueo,pago");
  EXPECT_EQ(Scalar("SELECT count(*) FROM results_history"), "4");
  EXPECT_EQ(ExpectSummariesMatchTheViews(options_.catalog_path), 2);
}

TEST_F(PipelineTest, CatalogRowsEqualThePublishedRows) {
  options_.fingerprint_key = Secret(std::string("0123456789abcdef-test-key"));
  Put("a.jsonl", "{\"id\":\"1\",\"text\":\"pagar\"}\n{\"id\":\"2\",\"text\":\"bloquear\"}\n");
  Put("b.csv", "id,text\n3,<b>pagar</b> ya\n4,\n");
  auto report = RunPipeline(options_, engine_);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  std::map<std::string, json> files;
  for (const json& row : Results()) files[row["record_id"].get<std::string>()] = row;
  QueryResult rows = Query(
      "SELECT record_id, source, line, text_hmac, lang, label, score, model_version, "
      "preprocess_version, run_id, processed_at, dt, model FROM results ORDER BY record_id");
  ASSERT_EQ(rows.rows.size(), files.size());
  ASSERT_EQ(rows.rows.size(), 3u);
  for (const auto& r : rows.rows) {
    const json& f = files.at(r[0].text);
    EXPECT_EQ(r[1].text, f["source"].get<std::string>());
    EXPECT_EQ(r[2].text, std::to_string(f["line"].get<uint64_t>()));
    EXPECT_EQ(r[3].text, f["text_hmac"].get<std::string>());
    EXPECT_EQ(r[4].text, f["lang"].get<std::string>());
    EXPECT_EQ(r[5].text, f["label"].get<std::string>());
    EXPECT_NEAR(std::stod(r[6].text), f["score"].get<double>(), 1e-6);
    EXPECT_EQ(r[7].text, f["model_version"].get<std::string>());
    EXPECT_EQ(r[8].text, f["preprocess_version"].get<std::string>());
    EXPECT_EQ(r[9].text, f["run_id"].get<std::string>());
    EXPECT_EQ(r[10].text, f["processed_at"].get<std::string>());
    EXPECT_EQ(r[11].text.size(), 10u);  // YYYY-MM-DD of the attempt
    EXPECT_EQ(r[12].text, f["model_version"].get<std::string>());
  }
  QueryResult q = Query("SELECT record_id, source, line, stage, run_id, model FROM quarantine");
  ASSERT_EQ(q.rows.size(), 1u);
  EXPECT_EQ(q.rows[0][0].text, "4");
  EXPECT_EQ(q.rows[0][1].text, "mem://t/in/b.csv");
  EXPECT_EQ(q.rows[0][2].text, "3");
  EXPECT_EQ(q.rows[0][3].text, "prep");
  EXPECT_EQ(q.rows[0][4].text, report->run_id);
}

TEST_F(PipelineTest, CatalogOfAnotherSchemaVersionIsRefusedNamingTheFile) {
  {
    auto db = SqliteDb::Open(options_.catalog_path, /*read_only=*/false);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->Exec("CREATE TABLE runs(run_id TEXT); PRAGMA user_version=1;").ok());
  }
  Put("a.jsonl", "{\"id\":\"1\",\"text\":\"pagar\"}\n");
  auto r = RunPipeline(options_, engine_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find(options_.catalog_path), std::string::npos);
  EXPECT_NE(r.status().message().find("schema version 1"), std::string::npos);
  EXPECT_TRUE(Results().empty());
}

// An engine that returns fixed entities of every value kind: a string, a string with escapes, an
// object, and none.
class ValueKindsEngine : public FakeInferenceEngine {
 public:
  Status Infer(std::string_view text, InferenceState* st, InferenceOutput* out) const override {
    LOTE_RETURN_IF_ERROR(FakeInferenceEngine::Infer(text, st, out));
    out->entities_json =
        R"([{"type":"PHONE","start":0,"end":1,"text":"300","value":"+573001234567","score":0.75},)"
        R"({"type":"NOTE","start":1,"end":2,"text":"q\"uote","value":"say \"hi\"\n","score":0.75},)"
        R"({"type":"MONEY","start":2,"end":3,"text":"$5","value":{"amount":50000,"currency":"COP"},)"
        R"("score":0.75},{"type":"PER","start":3,"end":4,"text":"****","score":0.75}])";
    return Status::Ok();
  }
};

TEST_F(PipelineTest, CatalogEntitiesUnpackEveryValueKind) {
  Put("a.jsonl", "{\"id\":\"1\",\"text\":\"pagar\"}\n");
  auto report = RunPipeline(options_, std::make_shared<ValueKindsEngine>());
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(
      FormatQueryResult(Query("SELECT record_id, type, start, \"end\", text, value, "
                              "typeof(value), score, run_id = '" +
                              report->run_id + "' FROM entities ORDER BY start"),
                        QueryFormat::kCsv),
      "record_id,type,start,end,text,value,typeof(value),score,run_id = '" + report->run_id +
          "'\n"
          "1,PHONE,0,1,300,+573001234567,text,0.75,1\n"
          "1,NOTE,1,2,\"q\"\"uote\",\"say \"\"hi\"\"\n\",text,0.75,1\n"
          "1,MONEY,2,3,$5,\"{\"\"amount\"\":50000,\"\"currency\"\":\"\"COP\"\"}\",text,0.75,1\n"
          "1,PER,3,4,****,,null,0.75,1\n");
  // A replaced version's entities leave the view with its row.
  Put("a.jsonl", "{\"id\":\"1\",\"text\":\"pagar ya\"}\n");
  ASSERT_TRUE(RunPipeline(options_, std::make_shared<ValueKindsEngine>()).ok());
  EXPECT_EQ(Scalar("SELECT count(*) FROM entities"), "4");
  EXPECT_EQ(Scalar("SELECT sum(entities) FROM entities_daily"), "4");
  EXPECT_EQ(ExpectSummariesMatchTheViews(options_.catalog_path), 1);
}

TEST_F(PipelineTest, ForceReprocessesAndReplacesEarlierOutputs) {
  Put("a.jsonl", "{\"id\":\"1\",\"text\":\"pagar\"}\n{\"id\":\"2\",\"text\":\"<p></p>\"}\n");
  ASSERT_TRUE(RunPipeline(options_, engine_).ok());
  std::vector<std::string> before;
  ReadRows(*mem_, "mem://t/out/results", &before);
  options_.force = true;
  auto second = RunPipeline(options_, engine_);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->counts.records_out, 1u);
  EXPECT_EQ(second->counts.records_quarantined, 1u);
  std::vector<std::string> after;
  std::vector<json> rows = ReadRows(*mem_, "mem://t/out/results", &after);
  ASSERT_EQ(rows.size(), 1u);  // the first run's part was deleted, not duplicated
  EXPECT_EQ(rows[0]["run_id"], second->run_id);
  EXPECT_NE(before, after);
  EXPECT_EQ(Quarantine().size(), 1u);
  EXPECT_EQ(Scalar("SELECT count(*) FROM quarantine"), "1");
  EXPECT_EQ(Scalar("SELECT run_id FROM results"), second->run_id);
}

TEST_F(PipelineTest, TheDailySummariesFollowNewVersionsForcedRerunsAndOldCatalogs) {
  Put("a.jsonl", "{\"id\":\"1\",\"text\":\"pagar\"}\n{\"id\":\"2\",\"text\":\"<p></p>\"}\n");
  Put("b.jsonl", "{\"id\":\"3\",\"text\":\"bloquear\"}\n{\"id\":\"4\",\"text\":\"hola\"}\n");
  ASSERT_TRUE(RunPipeline(options_, std::make_shared<ValueKindsEngine>()).ok());
  EXPECT_EQ(ExpectSummariesMatchTheViews(options_.catalog_path), 3);
  EXPECT_EQ(Scalar("SELECT sum(records) FROM quarantine_daily"), "1");
  // A new version of a.jsonl: record 1's earlier row goes stale, record 5 is new.
  Put("a.jsonl",
      "{\"id\":\"1\",\"text\":\"bloquear tarjeta\"}\n{\"id\":\"5\",\"text\":\"pagar\"}\n");
  ASSERT_TRUE(RunPipeline(options_, engine_).ok());
  EXPECT_EQ(ExpectSummariesMatchTheViews(options_.catalog_path), 4);
  // Everything again (--force): every earlier attempt is superseded, the counts do not double.
  options_.force = true;
  ASSERT_TRUE(RunPipeline(options_, engine_).ok());
  EXPECT_EQ(ExpectSummariesMatchTheViews(options_.catalog_path), 4);
  // The first version of a.jsonl is another object: its quarantined row stays, as in the view.
  EXPECT_EQ(Scalar("SELECT sum(records) FROM quarantine_daily"), "1");
  EXPECT_EQ(Scalar("SELECT count(*) FROM entities_daily"), "0");

  // A catalog written before the summaries existed gets them when a writer opens it.
  {
    auto db = SqliteDb::Open(options_.catalog_path, /*read_only=*/false);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    ASSERT_TRUE((*db)
                    ->Exec("DROP TABLE results_daily; DROP TABLE entities_daily; DROP TABLE "
                           "quarantine_daily; DELETE FROM catalog_meta WHERE key = "
                           "'daily_summaries'")
                    .ok());
  }
  options_.force = false;
  ASSERT_TRUE(RunPipeline(options_, engine_).ok());  // nothing new to process
  EXPECT_EQ(ExpectSummariesMatchTheViews(options_.catalog_path), 4);
}

TEST_F(PipelineTest, KeepsSourceOrderWithManyThreadsAndRollsParts) {
  std::string data;
  for (int i = 0; i < 500; ++i) {
    data += std::string("{\"id\":\"r") + std::to_string(i) + "\",\"text\":\"mensaje numero " +
            std::to_string(i) + " pagar\"}\n";
  }
  Put("big.jsonl", data);
  options_.threads = 4;
  options_.batch_records = 7;
  options_.max_inflight_batches = 3;
  options_.max_part_bytes = 8 << 10;
  auto report = RunPipeline(options_, engine_);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  std::vector<std::string> parts;
  std::vector<json> rows = ReadRows(*mem_, "mem://t/out/results", &parts);
  ASSERT_EQ(rows.size(), 500u);
  EXPECT_GT(parts.size(), 3u);
  for (int i = 0; i < 500; ++i) {
    ASSERT_EQ(rows[static_cast<size_t>(i)]["record_id"], std::string("r") + std::to_string(i));
  }
  json m = json::parse(*mem_->Read(report->manifest_uri));
  EXPECT_EQ(m["files"].size(), parts.size());
}

TEST_F(PipelineTest, QuarantinesAWholeObjectThatCannotBeRead) {
  Put("a.jsonl", "{\"id\":\"1\",\"texto\":\"hola\"}\n");  // no "text" field at all
  Put("b.jsonl.zst", "this is not zstd");
  Put("c.jsonl", "{\"id\":\"2\",\"text\":\"hola\"}\n");
  auto report = RunPipeline(options_, engine_);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->counts.records_out, 1u);
  EXPECT_EQ(report->counts.records_quarantined, 2u);
  std::map<std::string, json> q;
  for (const json& r : Quarantine()) q[r["record_id"]] = r;
  ASSERT_TRUE(q.count("mem://t/in/a.jsonl"));
  EXPECT_NE(q["mem://t/in/a.jsonl"]["reason"].get<std::string>().find("text"), std::string::npos);
  EXPECT_EQ(q["mem://t/in/b.jsonl.zst"]["stage"], "ingest");
  EXPECT_EQ(ExpectSummariesMatchTheViews(options_.catalog_path), 1);
  EXPECT_EQ(Scalar("SELECT group_concat(stage || ':' || records) FROM quarantine_daily"),
            "ingest:2");
}

TEST_F(PipelineTest, IgnoresFilesOfUnknownFormat) {
  Put("a.jsonl", "{\"id\":\"1\",\"text\":\"hola\"}\n");
  Put("notes.pdf", "%PDF");
  std::vector<std::string> logs;
  options_.log = [&](LogLevel, std::string_view line) { logs.emplace_back(line); };
  auto report = RunPipeline(options_, engine_);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->objects_ignored, 1u);
  EXPECT_EQ(report->objects_listed, 1u);
  bool logged = false;
  for (const auto& l : logs) logged |= l.find("notes.pdf") != std::string::npos;
  EXPECT_TRUE(logged);
}

TEST_F(PipelineTest, LogLinesKeepObjectNamesAndRedactTheRest) {
  // The fake engine redacts runs of 6+ digits: a date-stamped name stays readable in the log
  // (the results' `source` column holds it in clear too); counts and messages are redacted.
  Put("20240315-app.jsonl", "{\"id\":\"1\",\"text\":\"hola\"}\n");
  std::vector<std::string> logs;
  options_.log = [&](LogLevel, std::string_view line) { logs.emplace_back(line); };
  auto report = RunPipeline(options_, engine_);
  ASSERT_TRUE(report.ok()) << report.status().message();
  bool named = false;
  for (const auto& l : logs) {
    named |= l.find("20240315-app.jsonl: 1 in, 1 out") != std::string::npos;
    EXPECT_EQ(l.find("[NUMERO_CUENTA]-app"), std::string::npos) << l;
  }
  EXPECT_TRUE(named);
}

TEST_F(PipelineTest, DiskFullFailsClearlyAndTheSameRunThenCompletesExactlyOnce) {
  std::string data, half;
  for (int i = 0; i < 200; ++i) {
    data += std::string("{\"id\":\"r") + std::to_string(i) + "\",\"text\":\"pagar cuota " +
            std::to_string(i) + "\"}\n";
    if (i == 99) half = data;
  }
  Put("a.jsonl", data);
  Put("b.jsonl", half + "{\"id\":\"x\",\"text\":\"hola\"}\n");
  auto faulty = std::make_shared<storage::FaultInjectingStorage>(mem_);
  options_.output_storage = faulty;
  options_.max_part_bytes = 4 << 10;
  faulty->SetSpaceLeft(3000);
  auto failed = RunPipeline(options_, engine_);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(failed.status().message().find("No space left"), std::string::npos);
  EXPECT_EQ(Scalar("SELECT state FROM runs"), "running");
  EXPECT_EQ(Scalar("SELECT count(*) FROM results"), "0");

  faulty->SetSpaceLeft(-1);
  auto resumed = RunPipeline(options_, engine_);
  ASSERT_TRUE(resumed.ok()) << resumed.status().ToString();
  EXPECT_TRUE(resumed->resumed);
  EXPECT_EQ(resumed->counts.records_out, 201u);
  EXPECT_EQ(resumed->counts.records_duplicate, 100u);
  std::vector<json> rows = Results();
  ASSERT_EQ(rows.size(), 201u);
  std::set<std::string> ids;
  for (const json& r : rows) ids.insert(r["record_id"]);
  EXPECT_EQ(ids.size(), 201u);
  EXPECT_FALSE(mem_->List("mem://t/out/_staging").ok());  // nothing staged is left behind
}

TEST_F(PipelineTest, FailedRenameIsCompletedByTheNextRun) {
  Put("a.jsonl", "{\"id\":\"1\",\"text\":\"pagar\"}\n{\"id\":\"2\",\"text\":\"\"}\n");
  auto faulty = std::make_shared<storage::FaultInjectingStorage>(mem_);
  options_.output_storage = faulty;
  int renames_seen = 0;
  options_.fault_hook = [&](std::string_view point) {
    // After the ledger commit, make the storage refuse everything: renames cannot happen.
    if (point == "committed" && renames_seen++ == 0) {
      faulty->FailNthWrite(1, UnavailableError("storage went away"), /*sticky=*/true);
    }
  };
  auto failed = RunPipeline(options_, engine_);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), StatusCode::kUnavailable);
  EXPECT_TRUE(Results().empty());
  EXPECT_EQ(Scalar("SELECT count(*) FROM results"), "0");  // not done: not visible
  faulty->FailNthWrite(0, Status());
  options_.fault_hook = nullptr;
  auto again = RunPipeline(options_, engine_);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(Results().size(), 1u);
  EXPECT_EQ(Quarantine().size(), 1u);
  EXPECT_EQ(again->counts.records_in, 2u);
  EXPECT_EQ(Scalar("SELECT count(*) FROM results"), "1");
  // Marked done by the next run (another process): its summaries are read from its rows.
  EXPECT_EQ(ExpectSummariesMatchTheViews(options_.catalog_path), 1);
}

TEST_F(PipelineTest, SecondRunOnTheSameOutputIsRefusedWhileTheFirstHoldsTheLock) {
  Put("a.jsonl", "{\"id\":\"1\",\"text\":\"pagar\"}\n");
  auto held = mem_->TryLock("mem://t/out/_lock", "pid=42 other run");
  ASSERT_TRUE(held.ok());
  auto refused = RunPipeline(options_, engine_);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(refused.status().message().find("pid=42"), std::string::npos);
  held->reset();
  EXPECT_TRUE(RunPipeline(options_, engine_).ok());
}

TEST_F(PipelineTest, InputObjectReplacedDuringTheRunIsProcessedAsReadThenAsNewVersion) {
  Put("a.jsonl", "{\"id\":\"1\",\"text\":\"pagar\"}\n");
  bool changed = false;
  engine_->on_infer = [&](std::string_view) {
    if (!changed) {
      changed = true;
      ASSERT_TRUE(
          mem_->Write("mem://t/in/a.jsonl",
                      "{\"id\":\"1\",\"text\":\"bloquear\"}\n{\"id\":\"2\",\"text\":\"x\"}\n")
              .ok());
    }
  };
  options_.threads = 1;
  auto first = RunPipeline(options_, engine_);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->counts.records_out, 1u);
  auto second = RunPipeline(options_, engine_);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->counts.records_out, 2u);
  EXPECT_EQ(Scalar("SELECT label FROM results WHERE record_id = '1'"), "bloqueo");
}

TEST_F(PipelineTest, ARunWhoseLockIsLostCommitsNothingMore) {
  Put("a.jsonl", "{\"id\":\"1\",\"text\":\"pagar\"}\n{\"id\":\"2\",\"text\":\"hola\"}\n");
  Put("b.jsonl", "{\"id\":\"3\",\"text\":\"bloquear\"}\n");
  auto faulty = std::make_shared<storage::FaultInjectingStorage>(mem_);
  options_.output_storage = faulty;
  // Lost while the first object is being processed (an S3 lock that expired unrenewed while
  // this process stalled): that object is not committed, nor anything after it.
  engine_->on_infer = [&](std::string_view) { faulty->LoseLocks(); };
  auto lost = RunPipeline(options_, engine_);
  EXPECT_EQ(lost.status().code(), StatusCode::kAborted) << lost.status().ToString();
  EXPECT_NE(lost.status().message().find("lock was lost"), std::string::npos);
  EXPECT_TRUE(Results().empty());
  auto staged = mem_->List("mem://t/out/_staging");
  EXPECT_TRUE(!staged.ok() || staged->empty()) << "the attempt's staged parts are removed";
  engine_->on_infer = nullptr;
  options_.output_storage = mem_;
  auto rerun = RunPipeline(options_, engine_);
  ASSERT_TRUE(rerun.ok()) << rerun.status().ToString();
  EXPECT_EQ(Results().size(), 3u);
}

TEST_F(PipelineTest, RejectsBadOptionsBeforeTouchingAnything) {
  options_.input_uri.clear();
  EXPECT_EQ(RunPipeline(options_, engine_).status().code(), StatusCode::kInvalidArgument);
  options_.input_uri = "mem://t/in";
  auto odd = std::make_shared<FakeInferenceEngine>("a/b");
  EXPECT_EQ(RunPipeline(options_, odd).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(PipelineTest, MissingInputIsNotFound) {
  auto r = RunPipeline(options_, engine_);
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
}

TEST_F(PipelineTest, LocalOutputKeepsTheCatalogUnderTheOutputFolder) {
  PipelineOptions local;
  local.input_uri = dir_ + "/in";
  local.output_uri = "file://" + dir_ + "/out";
  local.threads = 2;
  fs::create_directories(dir_ + "/in");
  ASSERT_TRUE(storage::NewLocalStorage()
                  ->Write(dir_ + "/in/a.csv", "id,text\n1,quiero pagar\n2,bloquear\n")
                  .ok());
  auto report = RunPipeline(local, engine_);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->catalog_path, dir_ + "/out/_catalog/lote.db");
  auto labels = QueryCatalog(report->catalog_path,
                             "SELECT label, count(*) AS n FROM results GROUP BY 1 ORDER BY 1");
  ASSERT_TRUE(labels.ok());
  EXPECT_EQ(FormatQueryResult(*labels, QueryFormat::kCsv), "label,n\nbloqueo,1\npago,1\n");
  EXPECT_TRUE(fs::exists(dir_ + "/out/_runs/" + report->run_id + "/manifest.json"));
  EXPECT_FALSE(fs::exists(dir_ + "/out/_staging"));
}

// ---- issue 12: one output per catalog, separate input and output, symlinks, clock, metrics.

TEST_F(PipelineTest, ACatalogBelongsToOneOutputAndRefusesAnother) {
  Put("a.jsonl", "{\"id\":\"1\",\"text\":\"pagar\"}\n");
  ASSERT_TRUE(RunPipeline(options_, engine_).ok());
  // Same input, same catalog, another output: before, this silently published nothing (the
  // ledger said "done"); now it is refused and names both outputs.
  PipelineOptions other = options_;
  other.output_uri = "mem://t/out2";
  auto refused = RunPipeline(other, engine_);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find("belongs to output mem://t/out,"), std::string::npos)
      << refused.status().message();
  EXPECT_NE(refused.status().message().find("mem://t/out2"), std::string::npos);
  EXPECT_TRUE(ReadRows(*mem_, "mem://t/out2/results").empty());
  // The same output, written as another spelling of the same place, is the same output.
  PipelineOptions same = options_;
  same.output_uri = "mem://t//out/";
  EXPECT_TRUE(RunPipeline(same, engine_).ok());
}

TEST_F(PipelineTest, TwoConcurrentRunsOnDifferentOutputsSharingACatalogNeverBothPublish) {
  for (int i = 0; i < 20; ++i) {
    Put("f" + std::to_string(i) + ".jsonl",
        "{\"id\":\"r" + std::to_string(i) + "\",\"text\":\"pagar\"}\n");
  }
  PipelineOptions a = options_, b = options_;
  a.output_uri = "mem://t/outA";
  b.output_uri = "mem://t/outB";
  Result<RunReport> ra = InvalidArgumentError("not run"), rb = InvalidArgumentError("not run");
  std::thread ta([&] { ra = RunPipeline(a, engine_); });
  std::thread tb([&] { rb = RunPipeline(b, engine_); });
  ta.join();
  tb.join();
  // Exactly one output owns the catalog; the other is refused (bound elsewhere, or the
  // catalog busy while the owner binds it): no record is ever published twice.
  EXPECT_NE(ra.ok(), rb.ok()) << ra.status().ToString() << " / " << rb.status().ToString();
  const size_t rows_a = ReadRows(*mem_, "mem://t/outA/results").size();
  const size_t rows_b = ReadRows(*mem_, "mem://t/outB/results").size();
  EXPECT_EQ(rows_a + rows_b, 20u);
}

TEST_F(PipelineTest, AnOutputInsideTheInputOrTheReverseIsRefusedBeforeAnythingRuns) {
  Put("a.jsonl", "{\"id\":\"1\",\"text\":\"pagar\"}\n");
  struct Case {
    std::string input, output;
  };
  for (const Case& c : std::vector<Case>{{"mem://t/in", "mem://t/in/results"},
                                         {"mem://t/in/", "mem://t/in/./x/../results"},
                                         {"mem://t/in/*.jsonl", "mem://t/in/out"},
                                         {"mem://t/in", "mem://t/in"},
                                         {"mem://t/in/a.jsonl", "mem://t/in"},
                                         {"mem://t/in", "mem://t"}}) {
    PipelineOptions o = options_;
    o.input_uri = c.input;
    o.output_uri = c.output;
    auto r = RunPipeline(o, engine_);
    ASSERT_FALSE(r.ok()) << c.input << " -> " << c.output;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << r.status().ToString();
    EXPECT_NE(r.status().message().find("inside"), std::string::npos) << r.status().message();
    EXPECT_EQ(engine_->calls(), 0u);
  }
  EXPECT_FALSE(fs::exists(options_.catalog_path));
  // A sibling whose name merely starts with the input's is fine.
  PipelineOptions sibling = options_;
  sibling.output_uri = "mem://t/in-results";
  EXPECT_TRUE(RunPipeline(sibling, engine_).ok());
}

TEST_F(PipelineTest, LocalOutputReachedThroughASymlinkIntoTheInputIsRefused) {
  const std::string in = dir_ + "/lake";
  fs::create_directories(in);
  std::FILE* f = std::fopen((in + "/a.jsonl").c_str(), "w");
  std::fputs("{\"id\":\"1\",\"text\":\"pagar\"}\n", f);
  std::fclose(f);
  fs::create_directory_symlink(in, dir_ + "/alias");
  PipelineOptions o;
  o.input_uri = in;
  o.output_uri = dir_ + "/alias/results";  // is lake/results
  o.threads = 1;
  auto r = RunPipeline(o, engine_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(fs::exists(in + "/results"));
}

TEST_F(PipelineTest, SymlinksOutOfTheInputFolderAreNotFollowedUnlessAllowed) {
  const std::string in = dir_ + "/lake", outside = dir_ + "/private";
  fs::create_directories(in);
  fs::create_directories(outside);
  auto write = [](const std::string& path, const std::string& data) {
    std::FILE* f = std::fopen(path.c_str(), "w");
    std::fputs(data.c_str(), f);
    std::fclose(f);
  };
  write(in + "/a.jsonl", "{\"id\":\"a\",\"text\":\"pagar\"}\n");
  write(outside + "/secret.jsonl", "{\"id\":\"s\",\"text\":\"bloquear 1234567890\"}\n");
  fs::create_symlink(outside + "/secret.jsonl", in + "/leak.jsonl");
  fs::create_symlink(in + "/a.jsonl", in + "/again.jsonl");  // inside: allowed
  std::vector<std::string> warnings;
  PipelineOptions o;
  o.input_uri = in;
  o.output_uri = dir_ + "/out";
  o.threads = 1;
  o.prep.dedup_record_id = false;
  o.log = [&](LogLevel level, std::string_view line) {
    if (level == LogLevel::kWarning) warnings.emplace_back(line);
  };
  auto r = RunPipeline(o, engine_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->objects_listed, 2u);  // a.jsonl and the symlink to it
  EXPECT_EQ(r->objects_ignored, 1u);
  EXPECT_EQ(r->counts.records_in, 2u);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("leak.jsonl"), std::string::npos);
  EXPECT_NE(warnings[0].find("outside the input folder"), std::string::npos);
  // A single named file that is such a symlink is refused, not silently skipped.
  PipelineOptions one = o;
  one.input_uri = in + "/leak.jsonl";
  one.output_uri = dir_ + "/out_one";
  auto single = RunPipeline(one, engine_);
  ASSERT_FALSE(single.ok());
  EXPECT_EQ(single.status().code(), StatusCode::kPermissionDenied) << single.status().ToString();
  // Allowed by configuration, the file is read.
  PipelineOptions follow = o;
  follow.output_uri = dir_ + "/out_follow";
  follow.follow_symlinks = true;
  auto followed = RunPipeline(follow, engine_);
  ASSERT_TRUE(followed.ok()) << followed.status().ToString();
  EXPECT_EQ(followed->objects_listed, 3u);
  EXPECT_EQ(followed->counts.records_in, 3u);
}

TEST_F(PipelineTest, TimeComesFromTheClockAndCountsGoToTheMetricsSink) {
  auto clock = std::make_shared<ManualClock>(int64_t{1714566896} * 1000000);  // 2024-05-01
  auto metrics = std::make_shared<InMemoryMetrics>();
  options_.clock = clock;
  options_.metrics = metrics;
  Put("a.jsonl",
      "{\"id\":\"1\",\"text\":\"pagar\"}\n{\"id\":\"1\",\"text\":\"pagar\"}\nbad\n"
      "{\"id\":\"2\",\"text\":\"bloquear\"}\n");
  Put("b.bin", "ignored");
  auto report = RunPipeline(options_, engine_);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->run_id.substr(0, 17), "20240501T123456Z-");
  std::vector<json> rows = Results();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0]["processed_at"], "2024-05-01T12:34:56.000Z");
  std::vector<std::string> parts;
  ReadRows(*mem_, "mem://t/out/results", &parts);
  EXPECT_NE(parts[0].find("/dt=2024-05-01/"), std::string::npos);
  auto get = [&](const std::string& key) { return metrics->Get(key).value; };
  EXPECT_EQ(get("lote_pipeline_records_total{outcome=\"out\"}"), 2);
  EXPECT_EQ(get("lote_pipeline_records_total{outcome=\"quarantined\"}"), 1);
  EXPECT_EQ(get("lote_pipeline_records_total{outcome=\"duplicate\"}"), 1);
  EXPECT_EQ(get("lote_pipeline_objects_total{state=\"processed\"}"), 1);
  EXPECT_EQ(get("lote_pipeline_objects_total{state=\"ignored\"}"), 1);
  EXPECT_EQ(get("lote_pipeline_runs_total{state=\"succeeded\"}"), 1);
  EXPECT_EQ(metrics->Get("lote_pipeline_object_seconds").count, 1u);
  // No label value comes from the data: every series is one of the fixed names and labels.
  for (const std::string& key : metrics->Keys()) {
    EXPECT_EQ(key.find("mem://"), std::string::npos) << key;
    EXPECT_EQ(key.find("pagar"), std::string::npos) << key;
  }
  // A second run skips the done object.
  clock->Advance(1000000);
  ASSERT_TRUE(RunPipeline(options_, engine_).ok());
  EXPECT_EQ(get("lote_pipeline_objects_total{state=\"skipped\"}"), 1);
}

TEST_F(PipelineTest, ARecordOverTheSizeCapIsQuarantinedWithoutStoppingTheObject) {
  options_.max_record_bytes = 64;
  Put("a.jsonl", "{\"id\":\"1\",\"text\":\"pagar\"}\n{\"id\":\"2\",\"text\":\"" +
                     std::string(500, 'x') + "\"}\n{\"id\":\"3\",\"text\":\"bloquear\"}\n");
  auto report = RunPipeline(options_, engine_);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->counts.records_out, 2u);
  EXPECT_EQ(report->counts.records_quarantined, 1u);
  std::vector<json> q = Quarantine();
  ASSERT_EQ(q.size(), 1u);
  EXPECT_EQ(q[0]["stage"], "ingest");
  EXPECT_EQ(q[0]["line"], 2);
  EXPECT_EQ(q[0]["reason"], "line longer than 64 bytes");
}

// Monitoring: every run writes _runs/RUN_ID/monitoring.json and the catalog's monitoring tables;
// a batch like the reference is ok, a batch unlike it is drift, and a model without a reference
// still runs (no_reference).
std::string MonitoringBatch(int n, bool shifted, int from) {
  std::string s;
  for (int i = from; i < from + n; ++i) {
    const char* text = shifted ? "hello 1234 5678 91011 there 77 88"
                               : (i % 3 ? "quiero pagar la cuota" : "bloquear la tarjeta ya");
    s += "{\"id\":\"r" + std::to_string(i) + "\",\"text\":\"" + text + "\"}\n";
  }
  return s;
}

TEST_F(PipelineTest, EveryRunComparesWhatTheModelSawWithItsReference) {
  // Without a reference: the accuracy estimate only.
  Put("a.jsonl", MonitoringBatch(60, false, 0));
  auto first = RunPipeline(options_, engine_);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->monitoring.verdict, "no_reference");
  EXPECT_EQ(first->monitoring.records, 60u);
  ASSERT_TRUE(first->monitoring.estimated_accuracy.has_value());
  // The fake scores 0.9 for pago/bloqueo.
  EXPECT_NEAR(first->monitoring.estimated_accuracy->value, 0.9, 1e-6);
  auto file = mem_->Read("mem://t/out/_runs/" + first->run_id + "/monitoring.json");
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_EQ(json::parse(*file)["run_id"], first->run_id);
  EXPECT_EQ(json::parse(*file)["verdict"], "no_reference");
  EXPECT_EQ(Scalar("SELECT verdict FROM monitoring WHERE run_id = '" + first->run_id + "'"),
            "no_reference");

  // A reference like the first batch: a second batch like it is ok, a batch of other texts is
  // drift, named by signal.
  monitoring::Profile reference;
  for (int i = 0; i < 300; ++i) {
    const bool pago = i % 3 != 0;
    monitoring::Observation o;
    o.label = pago ? "pago" : "bloqueo";
    o.score = 0.9f;
    o.chars = pago ? 21 : 22;
    o.vocabulary = {4, 0, 4, 0};
    reference.Add(o);
  }
  reference.calibration = {300, 0.9, 0.9, 0.02};
  engine_->reference = reference;
  Put("b.jsonl", MonitoringBatch(60, false, 100));
  auto same = RunPipeline(options_, engine_);
  ASSERT_TRUE(same.ok()) << same.status().ToString();
  EXPECT_EQ(same->monitoring.verdict, "ok") << monitoring::MonitoringReportJson(same->monitoring);
  EXPECT_EQ(same->monitoring.records, 60u);        // this run's records, not the first run's
  EXPECT_EQ(same->monitoring.signals.size(), 5u);  // label and the four numeric signals
  // All scores 0.9: 1.96 standard errors of 60 such records, plus the calibration error.
  EXPECT_NEAR(same->monitoring.estimated_accuracy->high - 0.9, 1.96 * std::sqrt(0.09 / 60) + 0.02,
              1e-6);

  Put("c.jsonl", MonitoringBatch(60, true, 200));
  auto other = RunPipeline(options_, engine_);
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  EXPECT_EQ(other->monitoring.verdict, "drift");
  EXPECT_EQ(Scalar("SELECT band FROM drift_signals WHERE run_id = '" + other->run_id +
                   "' AND name = 'unknown_word_rate'"),
            "drift");
  EXPECT_EQ(Scalar("SELECT count(*) FROM monitoring"), "3");
}

TEST_F(PipelineTest, AResumedRunReportsOnEveryRecordTheRunCommitted) {
  // The second invocation finishes b.jsonl; its report covers both objects.
  Put("a.jsonl", MonitoringBatch(40, false, 0));
  Put("b.jsonl", MonitoringBatch(25, false, 100));
  const std::string run_id = RunKilledAfterTheFirstObject();
  // a.jsonl's profile was saved before its commit.
  auto saved = mem_->List("mem://t/out/_runs/" + run_id + "/profiles/");
  ASSERT_TRUE(saved.ok()) << saved.status().ToString();
  EXPECT_EQ(saved->size(), 1u);

  auto resumed = RunPipeline(options_, engine_);
  ASSERT_TRUE(resumed.ok()) << resumed.status().ToString();
  EXPECT_TRUE(resumed->resumed);
  EXPECT_EQ(resumed->run_id, run_id);
  EXPECT_EQ(resumed->monitoring.records, 65u);
  EXPECT_EQ(resumed->monitoring.estimated_accuracy->records, 65u);
  // The job metrics' mean score covers the same records (the whole run, not the invocation).
  EXPECT_EQ(resumed->scored_records, 65u);
  EXPECT_NEAR(resumed->score_sum / 65, resumed->monitoring.estimated_accuracy->mean_score, 1e-9);
  auto file = mem_->Read("mem://t/out/_runs/" + run_id + "/monitoring.json");
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(json::parse(*file)["scope"], "records committed by this run");
  EXPECT_EQ(json::parse(*file)["records"], 65);
  // The saved profiles go when the run finishes.
  auto left = mem_->List("mem://t/out/_runs/" + run_id + "/profiles/");
  EXPECT_TRUE(!left.ok() || left->empty());
}

TEST_F(PipelineTest, AResumedRunSaysWhichObjectsItsReportLeavesOut) {
  Put("a.jsonl", MonitoringBatch(40, false, 0));
  Put("b.jsonl", MonitoringBatch(25, false, 100));
  const std::string run_id = RunKilledAfterTheFirstObject();
  // As if an older lote had committed a.jsonl: no saved profile.
  ASSERT_TRUE(mem_->DeletePrefix("mem://t/out/_runs/" + run_id + "/profiles").ok());
  auto resumed = RunPipeline(options_, engine_);
  ASSERT_TRUE(resumed.ok()) << resumed.status().ToString();
  EXPECT_EQ(resumed->monitoring.records, 25u);
  auto file = mem_->Read("mem://t/out/_runs/" + run_id + "/monitoring.json");
  ASSERT_TRUE(file.ok());
  EXPECT_NE(json::parse(*file)["scope"].get<std::string>().find("less the 1 object(s)"),
            std::string::npos)
      << *file;
}

}  // namespace
}  // namespace lote::pipeline
