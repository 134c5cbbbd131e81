// The stage-by-stage pipeline (ingest, prep, infer, publish as separate calls): same published
// rows as RunPipeline, idempotent stages, a resumable state after a failed write, refusal to
// publish what another configuration prepared.
#include "lote/pipeline/stages.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <tuple>

#include "lote/pipeline/catalog.h"
#include "lote/storage/fault_injecting_storage.h"
#include "pipeline/fake_engine.h"
#include "pipeline/part_writer.h"
#include "pipeline/pipeline_test_util.h"

namespace lote::pipeline {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::FakeInferenceEngine;
using testing::ReadRows;

class StagesTest : public testing::MemPipelineTest {
 protected:
  void SetUp() override {
    SetUpMem("lote_stages_test", "mem://t/staged", "staged.db");
    options_.threads = 3;
    options_.batch_records = 2;  // several windows even for small inputs
    engine_->reference = testing::SmallReferenceProfile();
    std::string a = PaymentRecords(40, "<b>cuota</b>");
    a += "{not json\n{\"id\":\"e\",\"text\":\"  \"}\n{\"id\":\"a1\",\"text\":\"otra vez\"}\n";
    a += "{\"id\":\"bad\",\"text\":\"x\xff\"}\n";
    Put("a.jsonl", a);
    Put("b.csv", "id,text\nb1,quiero pagar\nb2,hola\n");
    Put("c.txt", "bloquear tarjeta\n\nhello there\n");
    Put("notes.md", "ignored\n");
    // A compressed object (d-00000.jsonl.zst), so the snapshot must keep its extensions.
    PartWriter zst(mem_.get(), "mem://t/in/d", "input", "", 1 << 20, 3);
    for (const char* row : {R"({"id":"d1","text":"pagar luz"})", R"({"id":"d2","text":"hola"})",
                            R"({"id":"d3","text":"bloquear"})"}) {
      ASSERT_TRUE(zst.AddRow(row).ok());
    }
    ASSERT_TRUE(zst.Finish().ok());
  }

  StageReport Stage1(Stage stage) {
    auto r = RunStage(stage, options_, engine_);
    EXPECT_TRUE(r.ok()) << StageName(stage) << ": " << r.status().ToString();
    return r.ok() ? *r : StageReport{};
  }
  RunReport RunAllStages() {
    Stage1(Stage::kIngest);
    Stage1(Stage::kPrep);
    Stage1(Stage::kInfer);
    auto r = PublishStaged(options_);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : RunReport{};
  }
};

TEST_F(StagesTest, StagesOneByOnePublishExactlyWhatRunPublishes) {
  RunReport staged = RunAllStages();
  EXPECT_EQ(staged.objects_processed, 4u);
  // 40 + 4 (a) + 2 (b) + 2 (c: a txt file's empty lines are not records) + 3 (d) records.
  EXPECT_EQ(staged.counts.records_in, 51u);
  EXPECT_EQ(staged.counts.records_duplicate, 1u);
  EXPECT_EQ(staged.counts.records_in, staged.counts.records_out +
                                          staged.counts.records_quarantined +
                                          staged.counts.records_duplicate);
  auto manifest = mem_->Read(staged.manifest_uri);
  ASSERT_TRUE(manifest.ok());
  EXPECT_TRUE(json::parse(*manifest)["reconciliation"]["ok"].get<bool>());
  EXPECT_GT(json::parse(*manifest)["stages_seconds"]["prep"].get<double>(), 0.0);

  PipelineOptions direct = options_;
  direct.output_uri = "mem://t/direct";
  direct.catalog_path = dir_ + "/direct.db";
  auto run = RunPipeline(direct, engine_);
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  EXPECT_EQ(run->counts.records_out, staged.counts.records_out);
  EXPECT_EQ(run->counts.records_quarantined, staged.counts.records_quarantined);
  EXPECT_EQ(Rows("mem://t/staged", "results"), Rows("mem://t/direct", "results"));
  EXPECT_EQ(Rows("mem://t/staged", "quarantine"), Rows("mem://t/direct", "quarantine"));
  EXPECT_EQ(Rows("mem://t/staged", "results").size(), staged.counts.records_out);
  // Monitoring sees the same records either way; the stages handed the model's view over.
  EXPECT_EQ(staged.monitoring.verdict, run->monitoring.verdict);
  EXPECT_EQ(monitoring::MonitoringReportJson(staged.monitoring),
            monitoring::MonitoringReportJson(run->monitoring));
  EXPECT_EQ(staged.monitoring.records, staged.counts.records_out);
  EXPECT_TRUE(staged.monitoring.has_reference);
  EXPECT_EQ(staged.monitoring.signals.size(), 6u);
  EXPECT_TRUE(mem_->Read(staged.monitoring_uri).ok());
  // Published objects leave nothing in the hand-over area.
  auto left = mem_->List("mem://t/staged/_stages/");
  if (left.ok()) {
    for (const auto& info : *left) {
      EXPECT_NE(info.uri.find("incoming.raw"), std::string::npos) << "left behind: " << info.uri;
    }
  }
}

TEST_F(StagesTest, EveryStageSkipsWhatItAlreadyDid) {
  EXPECT_EQ(Stage1(Stage::kIngest).objects_done, 4u);
  StageReport again = Stage1(Stage::kIngest);
  EXPECT_EQ(again.objects_done, 0u);
  EXPECT_EQ(again.objects_skipped, 4u);
  StageReport prep = Stage1(Stage::kPrep);
  EXPECT_EQ(prep.objects_done, 4u);
  EXPECT_EQ(prep.records, 51u);
  EXPECT_EQ(prep.records_quarantined, 3u);  // bad JSON, blank text, invalid UTF-8
  EXPECT_EQ(Stage1(Stage::kPrep).objects_skipped, 4u);
  EXPECT_EQ(Stage1(Stage::kInfer).objects_done, 4u);
  EXPECT_EQ(Stage1(Stage::kInfer).objects_skipped, 4u);
  auto published = PublishStaged(options_);
  ASSERT_TRUE(published.ok()) << published.status().ToString();
  EXPECT_EQ(published->objects_processed, 4u);
  // Once published, the same input is not ingested again, so nothing flows.
  EXPECT_EQ(Stage1(Stage::kIngest).objects_skipped, 4u);
  EXPECT_EQ(Stage1(Stage::kPrep).objects_pending, 0u);
  auto nothing = PublishStaged(options_);
  ASSERT_TRUE(nothing.ok());
  EXPECT_TRUE(nothing->run_id.empty());
  auto n = QueryCatalog(options_.catalog_path, "SELECT count(*) FROM results");
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->rows[0][0].text, std::to_string(published->counts.records_out));
}

TEST_F(StagesTest, AChangedInputIsIngestedAsANewVersion) {
  RunAllStages();
  Put("b.csv", "id,text\nb1,bloquear ya\nb3,pagar\n");
  StageReport ingest = Stage1(Stage::kIngest);
  EXPECT_EQ(ingest.objects_done, 1u);
  EXPECT_EQ(ingest.objects_skipped, 3u);
  Stage1(Stage::kPrep);
  Stage1(Stage::kInfer);
  auto r = PublishStaged(options_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->objects_processed, 1u);
  auto label =
      QueryCatalog(options_.catalog_path, "SELECT label FROM results WHERE record_id = 'b1'");
  ASSERT_TRUE(label.ok());
  ASSERT_EQ(label->rows.size(), 1u);
  EXPECT_EQ(label->rows[0][0].text, "bloqueo");  // the latest version
}

TEST_F(StagesTest, DiskFullInAStageLeavesNothingHalfWrittenAndTheStageResumes) {
  Stage1(Stage::kIngest);
  auto faulty = std::make_shared<storage::FaultInjectingStorage>(mem_);
  options_.output_storage = faulty;
  faulty->SetSpaceLeft(600);  // enough for some objects' prep output, not all four
  auto failed = RunStage(Stage::kPrep, options_, engine_);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), StatusCode::kResourceExhausted);
  auto markers = mem_->List("mem://t/staged/_stages/prep/*.json");
  ASSERT_TRUE(markers.ok());
  EXPECT_LT(markers->size(), 4u);
  faulty->SetSpaceLeft(-1);
  StageReport resumed = Stage1(Stage::kPrep);
  EXPECT_EQ(resumed.objects_done + resumed.objects_skipped, 4u);
  EXPECT_EQ(resumed.objects_done, 4u - markers->size());
  Stage1(Stage::kInfer);
  auto published = PublishStaged(options_);
  ASSERT_TRUE(published.ok()) << published.status().ToString();
  EXPECT_EQ(published->counts.records_in, 51u);
  EXPECT_EQ(ReadRows(*mem_, "mem://t/staged/results").size(), published->counts.records_out);
}

TEST_F(StagesTest, PublishRefusesRecordsPreparedWithAnotherConfiguration) {
  Stage1(Stage::kIngest);
  Stage1(Stage::kPrep);
  Stage1(Stage::kInfer);
  PipelineOptions other = options_;
  other.prep.max_chars = 7;
  auto r = PublishStaged(other);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("preprocess version"), std::string::npos);
}

TEST_F(StagesTest, InferNeedsAnEngineAndPublishRunsNone) {
  auto r = RunStage(Stage::kInfer, options_, nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  auto p = RunStage(Stage::kPublish, options_, engine_);
  EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace lote::pipeline
