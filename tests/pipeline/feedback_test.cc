// Late labels (lote/pipeline/feedback.h) on runs of the fake engine, whose labels and scores are
// known: exact measured accuracy, Wilson intervals and the estimate for the same records; repeated
// ids, unknown ids and labels; replacement by later batches and by a newer version of a record;
// a cache rebuilt from an object store's log; malformed files that write nothing; the output lock.
#include "lote/pipeline/feedback.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "lote/monitoring/drift.h"
#include "lote/pipeline/catalog.h"
#include "pipeline/fake_engine.h"
#include "pipeline/pipeline_test_util.h"
#include "pipeline/stage_files.h"

namespace lote::pipeline {
namespace {

using nlohmann::json;
using testing::FakeInferenceEngine;
using testing::NewTestDir;

// Fake engine: "pag" -> pago 0.9, "bloq" -> bloqueo 0.9, else otro 0.5.
constexpr const char* kInput =
    "{\"id\":\"r1\",\"text\":\"quiero pagar\"}\n"
    "{\"id\":\"r2\",\"text\":\"pago de la tarjeta\"}\n"
    "{\"id\":\"r3\",\"text\":\"bloquear la tarjeta\"}\n"
    "{\"id\":\"r4\",\"text\":\"bloqueo de cuenta\"}\n"
    "{\"id\":\"r5\",\"text\":\"hola buenas\"}\n"
    "{\"id\":\"r6\",\"text\":\"muchas gracias\"}\n";

// The scores as the results store them (the engine's floats, written with 6 significant digits).
const double kHigh = 0.9;
const double kLow = 0.5;

class Feedback : public ::testing::Test {
 protected:
  // `object_store`: the output on mem:// (the ledger is a log there); else a local folder.
  void SetUpOutput(bool object_store) {
    dir_ = NewTestDir("feedback");
    mem_ = storage::NewMemStorage();
    engine_ = std::make_shared<FakeInferenceEngine>();
    if (object_store) {
      run_ = testing::MemOptions(mem_, "mem://t/out", dir_ + "/cache.db");
      out_ = mem_;
    } else {
      run_.input_uri = dir_ + "/in";
      run_.output_uri = dir_ + "/out";
      std::filesystem::create_directories(dir_ + "/in");
      out_ = *storage::OpenStorage(run_.output_uri);
    }
    run_.threads = 1;
    options_.output_uri = run_.output_uri;
    options_.catalog_path = run_.catalog_path;
    options_.output_storage = object_store ? mem_ : nullptr;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void WriteInput(const std::string& name, const std::string& data) {
    if (run_.input_uri.starts_with("mem://")) {
      ASSERT_TRUE(mem_->Write(run_.input_uri + "/" + name, data).ok());
    } else {
      std::ofstream(run_.input_uri + "/" + name) << data;
    }
  }
  RunReport Run() {
    auto r = RunPipeline(run_, engine_);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : RunReport();
  }
  Result<FeedbackSummary> Send(const std::string& data, const std::string& name = "labels.csv",
                               LabelsFormat format = LabelsFormat::kAuto) {
    if (format == LabelsFormat::kAuto) format = LabelsFormatFromPath(name);
    return RecordFeedbackFile(options_, io::MakeStringSource(data, name), format);
  }
  std::string Catalog() {
    PipelineOptions o = run_;
    std::string path;
    auto ledger = OpenOutputLedger(o, /*writer=*/false, nullptr, &path);
    EXPECT_TRUE(ledger.ok()) << ledger.status().ToString();
    return path;
  }
  json Query(const std::string& sql, const std::string& catalog = "") {
    auto r = QueryCatalog(catalog.empty() ? Catalog() : catalog, sql);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok()) return json();
    return json::parse(FormatQueryResult(*r, QueryFormat::kJson));
  }
  json FeedbackJson(const std::string& run_id) {
    auto text = out_->Read(storage::JoinUri(run_.output_uri, "_runs/" + run_id + "/feedback.json"));
    EXPECT_TRUE(text.ok()) << text.status().ToString();
    return text.ok() ? json::parse(*text) : json();
  }

  std::string dir_;
  std::shared_ptr<storage::Storage> mem_, out_;
  std::shared_ptr<FakeInferenceEngine> engine_;
  PipelineOptions run_;
  FeedbackOptions options_;
};

// r1 right, r2 given twice (wrong, then right: the last label counts), r3 and r5 right, r6 with a
// label the model never predicted (wrong), one id never published.
constexpr const char* kLabels =
    "record_id,label\n"
    "r1,pago\n"
    "r2,bloqueo\n"
    "r3,bloqueo\n"
    "r5,otro\n"
    "\"r6\",queja\n"
    "nunca-publicado,pago\n"
    "r2,pago\n";

void ExpectMeasuredAccuracyOfFirstBatch(const json& f, const RunReport& run) {
  EXPECT_EQ(f["run_id"], run.run_id);
  EXPECT_EQ(f["model_version"], "fake-1");
  EXPECT_EQ(f["measured_accuracy"]["records"], 5);
  EXPECT_EQ(f["measured_accuracy"]["correct"], 4);
  EXPECT_DOUBLE_EQ(f["measured_accuracy"]["value"].get<double>(), 0.8);
  const auto [low, high] = monitoring::WilsonInterval(4, 5, 1.96);
  EXPECT_DOUBLE_EQ(f["measured_accuracy"]["low"].get<double>(), low);
  EXPECT_DOUBLE_EQ(f["measured_accuracy"]["high"].get<double>(), high);
  // No reference profile: no calibration offset, so the estimate is the records' mean score.
  const double mean = (3 * kHigh + 2 * kLow) / 5;
  EXPECT_NEAR(f["estimated_accuracy"]["mean_score"].get<double>(), mean, 1e-12);
  EXPECT_NEAR(f["estimated_accuracy"]["value"].get<double>(), mean, 1e-12);
  // The run's own estimate: all six records.
  EXPECT_NEAR(f["run_estimated_accuracy"]["value"].get<double>(), (4 * kHigh + 2 * kLow) / 6, 1e-6);
  EXPECT_EQ(f["unknown_labels"], 1);
  ASSERT_EQ(f["by_label"].size(), 3u);
  std::map<std::string, std::pair<int, int>> by;
  for (const json& l : f["by_label"]) by[l["label"]] = {l["records"], l["correct"]};
  EXPECT_EQ(by["pago"], std::make_pair(2, 2));
  EXPECT_EQ(by["bloqueo"], std::make_pair(1, 1));
  EXPECT_EQ(by["otro"], std::make_pair(2, 1));
}

TEST_F(Feedback, MeasuresAccuracyPerRunAndLabelBesideTheEstimateForTheSameRecords) {
  SetUpOutput(false);
  WriteInput("a.jsonl", kInput);
  const RunReport run = Run();
  auto s = Send(kLabels);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->rows, 7u);
  EXPECT_EQ(s->records, 6u);
  EXPECT_EQ(s->duplicates, 1u);
  EXPECT_EQ(s->matched, 5u);
  EXPECT_EQ(s->unmatched, 1u);
  EXPECT_EQ(s->unknown_labels, 1u);
  ASSERT_EQ(s->runs, std::vector<std::string>{run.run_id});
  ASSERT_EQ(s->accuracy.size(), 1u);
  EXPECT_EQ(s->accuracy[0][0].labelled, 5u);
  ExpectMeasuredAccuracyOfFirstBatch(FeedbackJson(run.run_id), run);

  // The catalog: the latest label per record with its match, and the same numbers.
  const json rows = Query(
      "SELECT record_id, label, run_id, predicted_label, correct, label_known FROM feedback "
      "ORDER BY record_id");
  ASSERT_EQ(rows.size(), 6u) << rows.dump();
  EXPECT_EQ(rows[0]["record_id"], "nunca-publicado");
  EXPECT_TRUE(rows[0]["run_id"].is_null());
  EXPECT_TRUE(rows[0]["correct"].is_null());
  EXPECT_EQ(rows[2]["record_id"], "r2");
  EXPECT_EQ(rows[2]["label"], "pago");
  EXPECT_EQ(rows[2]["correct"], 1);
  EXPECT_EQ(rows[5]["label_known"], 0);  // queja
  const json acc = Query(
      "SELECT labelled, correct, accuracy FROM feedback_accuracy WHERE predicted_label IS NULL");
  ASSERT_EQ(acc.size(), 1u);
  EXPECT_EQ(acc[0]["labelled"], 5);
  EXPECT_EQ(acc[0]["correct"], 4);
  // The batch's file holds the matched rows.
  auto file = out_->Read(s->file_uri);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_EQ(Query("SELECT rows FROM feedback_batches")[0]["rows"], 6);
}

TEST_F(Feedback, LaterLabelsReplaceEarlierOnesAndANewVersionMovesALabelToItsRun) {
  SetUpOutput(false);
  WriteInput("a.jsonl", kInput);
  const RunReport first = Run();
  ASSERT_TRUE(Send(kLabels).ok());
  // JSON lines this time: r6 corrected, r4 new (ids and labels may be numbers too).
  auto second = Send(
      "{\"record_id\": \"r6\", \"label\": \"otro\"}\n\n"
      "{\"label\": \"bloqueo\", \"record_id\": \"r4\", \"note\": 1}\n",
      "late.jsonl");
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  json f = FeedbackJson(first.run_id);
  EXPECT_EQ(f["measured_accuracy"]["records"], 6);
  EXPECT_EQ(f["measured_accuracy"]["correct"], 6);
  EXPECT_EQ(f["unknown_labels"], 0);
  EXPECT_EQ(Query("SELECT count(*) AS n FROM feedback")[0]["n"], 7);  // r4 too
  EXPECT_EQ(Query("SELECT count(*) AS n FROM feedback_batches")[0]["n"], 2);

  // The file changes and a second run publishes its records again. Labels stay with the version
  // they were matched to when they arrived; r1's next label counts for the second run, and the
  // first run loses r1.
  std::string changed = kInput;
  changed.replace(changed.find("quiero pagar"), 12, "bloquear ya!");
  WriteInput("a.jsonl", changed);
  const RunReport second_run = Run();
  ASSERT_NE(second_run.run_id, first.run_id);
  auto third = Send("record_id,label\nr1,pago\n");
  ASSERT_TRUE(third.ok()) << third.status().ToString();
  EXPECT_EQ(third->runs.size(), 2u);
  f = FeedbackJson(second_run.run_id);
  EXPECT_EQ(f["measured_accuracy"]["records"], 1);
  EXPECT_EQ(f["measured_accuracy"]["correct"], 0);  // r1 is now predicted bloqueo
  f = FeedbackJson(first.run_id);
  EXPECT_EQ(f["measured_accuracy"]["records"], 5);
  EXPECT_EQ(f["measured_accuracy"]["correct"], 5);
  const json r1 = Query("SELECT run_id, predicted_label FROM feedback WHERE record_id = 'r1'");
  EXPECT_EQ(r1[0]["run_id"], second_run.run_id);
  EXPECT_EQ(r1[0]["predicted_label"], "bloqueo");
}

TEST_F(Feedback, AnObjectStoreOutputRecordsTheBatchInItsLogAndACacheRebuiltElsewhereHasIt) {
  SetUpOutput(true);
  WriteInput("a.jsonl", kInput);
  const RunReport run = Run();
  auto s = Send(kLabels);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  ExpectMeasuredAccuracyOfFirstBatch(FeedbackJson(run.run_id), run);
  int entries = 0;
  auto log = mem_->List("mem://t/out/_ledger/log/");
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  for (const auto& e : *log) {
    const json entry = json::parse(*mem_->Read(e.uri));
    if (entry["type"] == "feedback") {
      ++entries;
      EXPECT_EQ(entry["feedback"]["file"], s->file_uri);
      EXPECT_EQ(entry["feedback"]["rows"], 6);
    }
  }
  EXPECT_EQ(entries, 1);
  // Another machine: a new cache replays the log, feedback included.
  run_.catalog_path = dir_ + "/other-cache.db";
  const std::string other = Catalog();
  const json acc = Query(
      "SELECT labelled, correct, unknown_labels FROM feedback_accuracy WHERE predicted_label IS "
      "NULL",
      other);
  ASSERT_EQ(acc.size(), 1u);
  EXPECT_EQ(acc[0]["labelled"], 5);
  EXPECT_EQ(acc[0]["correct"], 4);
  EXPECT_EQ(acc[0]["unknown_labels"], 1);
  EXPECT_EQ(Query("SELECT count(*) AS n FROM feedback", other)[0]["n"], 6);
}

TEST_F(Feedback, ABadFileIsRefusedNamingFileAndLineAndWritesNothing) {
  SetUpOutput(false);
  WriteInput("a.jsonl", kInput);
  Run();
  struct Case {
    std::string name, data, expected;
  };
  const std::string long_id(kMaxFeedbackIdBytes + 1, 'x');
  const Case cases[] = {
      {"labels.csv", "record_id,label\nr1,pago\nsecreto-77,\xff\xfe\n",
       "labels.csv:3: invalid UTF-8"},
      {"labels.csv", "record_id,label\nr1,pago\n,pago\n", "labels.csv:3: empty record_id"},
      {"labels.csv", "record_id,label\nr1,pago\nsecreto-77,\n", "labels.csv:3: empty label"},
      {"labels.csv", "record_id,etiqueta\nr1,pago\n", "column 'label' not in the header"},
      {"labels.csv", "record_id,label\nr1,pago,extra\n", "labels.csv:2: wrong number of fields"},
      {"labels.csv", "record_id,label\n" + long_id + ",pago\n",
       "labels.csv:2: record_id longer than 4096 bytes"},
      {"labels.jsonl",
       "{\"record_id\": \"r1\", \"label\": \"pago\"}\n{\"record_id\": \"secreto-77\"",
       "labels.jsonl:2: malformed JSON"},
      {"labels.jsonl", "{\"record_id\": \"secreto-77\"}\n", "labels.jsonl:1: no \"label\" key"},
      {"labels.jsonl", "{\"record_id\": [\"secreto-77\"], \"label\": \"pago\"}\n",
       "labels.jsonl:1: \"record_id\" is not a string"},
      {"labels.jsonl", "{\"record_id\": \"secreto-77\\u0000\", \"label\": \"pago\"}\n",
       "labels.jsonl:1: NUL byte"},
      {"labels.csv", "record_id,label\n", "labels.csv: no labelled records"},
  };
  for (const Case& c : cases) {
    auto s = Send(c.data, c.name);
    ASSERT_FALSE(s.ok()) << c.data;
    EXPECT_EQ(s.status().code(), c.expected.find("column") != std::string::npos
                                     ? StatusCode::kFailedPrecondition
                                     : StatusCode::kInvalidArgument)
        << s.status().ToString();
    EXPECT_NE(s.status().message().find(c.expected), std::string::npos) << s.status().ToString();
    // Nothing of the record in the message.
    EXPECT_EQ(s.status().message().find("secreto"), std::string::npos) << s.status().ToString();
  }
  options_.max_rows = 2;
  auto many = Send("record_id,label\na,pago\nb,pago\nc,pago\n");
  ASSERT_FALSE(many.ok());
  EXPECT_NE(many.status().message().find("more than 2 labelled rows"), std::string::npos);
  // Nothing was written: no batch file, no row.
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/out/_feedback"));
  EXPECT_EQ(Query("SELECT count(*) AS n FROM feedback")[0]["n"], 0);
}

TEST_F(Feedback, AnOutputNeverPublishedToIsNotFound) {
  SetUpOutput(false);
  auto s = Send(kLabels);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kNotFound) << s.status().ToString();
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/out/_catalog"));
}

TEST_F(Feedback, HoldsTheOutputLockSoARunCannotCommitWhileLabelsAreMatched) {
  SetUpOutput(true);
  WriteInput("a.jsonl", kInput);
  Run();
  // A run held the lock: feedback waits lock_wait_seconds, then gives up, recording nothing.
  {
    auto held = AcquireOutputLock(mem_.get(), run_.output_uri, 0, *SystemClock());
    ASSERT_TRUE(held.ok()) << held.status().ToString();
    auto s = Send(kLabels);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.status().code(), StatusCode::kUnavailable) << s.status().ToString();
  }
  EXPECT_EQ(Query("SELECT count(*) AS n FROM feedback")[0]["n"], 0);
  // While feedback holds it, a run on the same output is refused.
  WriteInput("b.jsonl", "{\"id\":\"b1\",\"text\":\"pagar\"}\n");
  Status run_meanwhile;
  options_.fault_hook = [&](std::string_view point) {
    if (point == "matched") run_meanwhile = RunPipeline(run_, engine_).status();
  };
  auto s = Send(kLabels);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(run_meanwhile.code(), StatusCode::kUnavailable) << run_meanwhile.ToString();
  EXPECT_EQ(Query("SELECT count(*) AS n FROM results WHERE record_id = 'b1'")[0]["n"], 0);
}

TEST(WilsonInterval, MatchesTheClosedFormAndStaysInsideZeroOne) {
  // 8 of 10 at z = 1.96: the textbook values.
  const auto [low, high] = monitoring::WilsonInterval(8, 10, 1.96);
  EXPECT_NEAR(low, 0.4902, 1e-4);
  EXPECT_NEAR(high, 0.9433, 1e-4);
  const auto [l0, h0] = monitoring::WilsonInterval(0, 5, 1.96);
  EXPECT_DOUBLE_EQ(l0, 0.0);
  EXPECT_GT(h0, 0.4);
  const auto [l1, h1] = monitoring::WilsonInterval(5, 5, 1.96);
  EXPECT_LT(l1, 0.6);
  EXPECT_DOUBLE_EQ(h1, 1.0);
  EXPECT_EQ(monitoring::WilsonInterval(0, 0, 1.96), std::make_pair(0.0, 1.0));
}

TEST(LabelsFormat, ComesFromTheExtensionOrTheFlag) {
  EXPECT_EQ(LabelsFormatFromPath("a/labels.CSV"), LabelsFormat::kCsv);
  EXPECT_EQ(LabelsFormatFromPath("labels.jsonl.gz"), LabelsFormat::kJsonl);
  EXPECT_EQ(LabelsFormatFromPath("labels.json"), LabelsFormat::kJsonl);
  EXPECT_EQ(LabelsFormatFromPath("-"), LabelsFormat::kAuto);
  EXPECT_EQ(*ParseLabelsFormat("ndjson"), LabelsFormat::kJsonl);
  EXPECT_FALSE(ParseLabelsFormat("xml").ok());
}

}  // namespace
}  // namespace lote::pipeline
