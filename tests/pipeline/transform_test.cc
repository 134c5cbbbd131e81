// The infer stage as Batch Transform requests (lote/pipeline/transform.h): the manifest of prep
// parts, one answer per part, the import into the infer stage's files, and what each refuses.
#include "lote/pipeline/transform.h"

#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "lote/io/byte_source.h"
#include "pipeline/fake_engine.h"
#include "pipeline/part_writer.h"
#include "pipeline/pipeline_test_util.h"

namespace lote::pipeline {
namespace {

using nlohmann::json;
using testing::FakeInferenceEngine;
using testing::ReadRows;

constexpr const char* kOut = "mem://t/out";
constexpr const char* kJob = "mem://t/out/_stages/transform/job-1";

// The lines of a zstd stream.
std::vector<std::string> Lines(const std::string& zst) {
  auto source = io::MakeZstdSource(io::MakeStringSource(zst, "test"));
  io::LineReader reader(source.get());
  std::vector<std::string> lines;
  std::string line;
  while (true) {
    auto next = reader.Next(&line);
    EXPECT_TRUE(next.ok()) << next.status().ToString();
    if (!next.ok() || !*next) break;
    lines.push_back(line);
  }
  return lines;
}

std::string Zstd(const std::vector<std::string>& lines) {
  auto mem = storage::NewMemStorage();
  PartWriter w(mem.get(), "mem://z/p", "x", "", uint64_t{1} << 40, 3);
  for (const auto& l : lines) EXPECT_TRUE(w.AddRow(l).ok());
  EXPECT_TRUE(w.OpenIfNone().ok());
  EXPECT_TRUE(w.Finish().ok());
  return *mem->Read(w.parts()[0].staged_uri);
}

class TransformTest : public testing::MemPipelineTest {
 protected:
  void SetUp() override {
    SetUpMem("lote_transform_test", kOut, "out.db");
    options_.threads = 2;
    options_.batch_records = 3;
    engine_->reference = testing::SmallReferenceProfile();
    std::string a = PaymentRecords(25, "cuota");
    // A prep quarantine, and an engine failure whose reason quotes an account number.
    a += "{not json\n{\"id\":\"f\",\"text\":\"FAILME 12345678\"}\n";
    Put("a.jsonl", a);
    Put("b.csv", "id,text\nb1,quiero pagar\nb2,hola\n");
    Put("empty.jsonl", "");
    part_options_.engine = engine_.get();
  }
  void IngestAndPrep() {
    for (Stage s : {Stage::kIngest, Stage::kPrep}) {
      auto r = RunStage(s, options_, nullptr);
      ASSERT_TRUE(r.ok()) << r.status().ToString();
    }
  }
  TransformManifest Manifest() {
    auto m = WriteTransformManifest(options_, std::string(kJob) + "/manifest.json");
    EXPECT_TRUE(m.ok()) << m.status().ToString();
    return m.ok() ? *m : TransformManifest{};
  }
  void Transform(const TransformManifest& m) {
    auto job = RunTransformManifest(options_, m.uri, kJob, part_options_, 2);
    ASSERT_TRUE(job.ok()) << job.status().ToString();
    EXPECT_EQ(job->parts, m.parts);
  }
  // Ingest, prep, the manifest and the transform job: the answers, one per object here.
  std::vector<std::string> TransformAll(TransformManifest* m) {
    IngestAndPrep();
    *m = Manifest();
    Transform(*m);
    std::vector<std::string> outs = Outs();
    EXPECT_EQ(outs.size(), 3u);
    return outs;
  }
  std::vector<std::string> Outs() {
    std::vector<std::string> outs;
    auto listed = mem_->List(std::string(kJob) + "/");
    if (listed.ok()) {
      for (const auto& info : *listed) {
        if (info.uri.ends_with(".out")) outs.push_back(info.uri);
      }
    }
    return outs;
  }
  TransformPartOptions part_options_;
};

TEST_F(TransformTest, TransformedPartsPublishExactlyWhatRunPublishes) {
  IngestAndPrep();
  TransformManifest m = Manifest();
  EXPECT_EQ(m.objects, 3u);
  EXPECT_EQ(m.parts, 3u);  // the empty object too: its answer names the model
  auto text = mem_->Read(m.uri);
  ASSERT_TRUE(text.ok());
  json entries = json::parse(*text);
  ASSERT_EQ(entries.size(), 4u);
  EXPECT_EQ(entries[0]["prefix"], "mem://t/out/_stages/prep/");
  Transform(m);
  EXPECT_EQ(Outs().size(), 3u);
  auto imported = ImportTransformOutput(options_, kJob);
  ASSERT_TRUE(imported.ok()) << imported.status().ToString();
  EXPECT_EQ(imported->objects_done, 3u);
  EXPECT_EQ(imported->records, 29u);
  EXPECT_EQ(imported->records_quarantined, 2u);
  // The answers and the manifest are gone once imported.
  EXPECT_TRUE(Outs().empty());
  EXPECT_EQ(mem_->Read(m.uri).status().code(), StatusCode::kNotFound);
  auto left = mem_->List(std::string(kJob) + "/");
  EXPECT_TRUE(!left.ok() || left->empty());
  auto staged = PublishStaged(options_);
  ASSERT_TRUE(staged.ok()) << staged.status().ToString();
  EXPECT_EQ(staged->model_version, "fake-1");
  EXPECT_EQ(staged->counts.records_in, 29u);

  PipelineOptions direct = options_;
  direct.output_uri = "mem://t/direct";
  direct.catalog_path = dir_ + "/direct.db";
  auto run = RunPipeline(direct, engine_);
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  EXPECT_EQ(Rows(kOut, "results"), Rows("mem://t/direct", "results"));
  EXPECT_EQ(Rows(kOut, "quarantine"), Rows("mem://t/direct", "quarantine"));
  EXPECT_EQ(Rows(kOut, "results").size(), 27u);
  // The reference profile travelled in the answers' trailers: monitoring is the same.
  EXPECT_TRUE(staged->monitoring.has_reference);
  EXPECT_EQ(monitoring::MonitoringReportJson(staged->monitoring),
            monitoring::MonitoringReportJson(run->monitoring));
  // The quarantined engine failure follows the PII policy.
  std::string quarantine;
  for (const auto& r : Rows(kOut, "quarantine")) quarantine += r;
  EXPECT_EQ(quarantine.find("12345678"), std::string::npos) << quarantine;
}

// Prep cuts an object's records into parts of a bounded size (each one transform request); the
// infer stage reads them in order, the transform answers each, and both publish what lote run does.
TEST_F(TransformTest, AnObjectInSeveralPartsPublishesTheSameEitherWay) {
  options_.prep_part_bytes = 1024;
  IngestAndPrep();
  auto parts = mem_->List("mem://t/out/_stages/prep/*.jsonl.zst");
  ASSERT_TRUE(parts.ok());
  EXPECT_GT(parts->size(), 3u);  // more parts than objects: a.jsonl's records take several
  for (const auto& info : *parts) {
    // At most the bound plus one record of rows (compressed here, so well under it).
    EXPECT_LT(info.size, 2048u) << info.uri;
  }
  TransformManifest m = Manifest();
  EXPECT_EQ(m.objects, 3u);
  EXPECT_EQ(m.parts, parts->size());
  Transform(m);
  auto imported = ImportTransformOutput(options_, kJob);
  ASSERT_TRUE(imported.ok()) << imported.status().ToString();
  EXPECT_EQ(imported->objects_done, 3u);
  EXPECT_EQ(imported->records, 29u);
  auto staged = PublishStaged(options_);
  ASSERT_TRUE(staged.ok()) << staged.status().ToString();

  // The same input through `lote infer`, on another output.
  PipelineOptions by_infer = options_;
  by_infer.output_uri = "mem://t/by-infer";
  by_infer.catalog_path = dir_ + "/by-infer.db";
  for (Stage s : {Stage::kIngest, Stage::kPrep, Stage::kInfer}) {
    auto r = RunStage(s, by_infer, engine_);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }
  ASSERT_TRUE(PublishStaged(by_infer).ok());
  PipelineOptions direct = options_;
  direct.output_uri = "mem://t/direct";
  direct.catalog_path = dir_ + "/direct.db";
  ASSERT_TRUE(RunPipeline(direct, engine_).ok());
  for (const char* kind : {"results", "quarantine"}) {
    EXPECT_EQ(Rows(kOut, kind), Rows("mem://t/direct", kind)) << kind;
    EXPECT_EQ(Rows("mem://t/by-infer", kind), Rows("mem://t/direct", kind)) << kind;
  }
  // Publish deleted every part.
  auto left = mem_->List("mem://t/out/_stages/prep/");
  EXPECT_TRUE(!left.ok() || left->empty());
}

TEST_F(TransformTest, AnAnswerIsThePartInferStageWouldWriteAndAPureFunction) {
  IngestAndPrep();
  auto prep = mem_->List("mem://t/out/_stages/prep/*.jsonl.zst");
  ASSERT_TRUE(prep.ok());
  ASSERT_EQ(prep->size(), 3u);
  std::map<std::string, std::vector<std::string>> answered;
  for (const auto& info : *prep) {
    std::string part = *mem_->Read(info.uri);
    auto a = TransformPart(part, info.uri, part_options_);
    ASSERT_TRUE(a.ok()) << a.status().ToString();
    auto again = TransformPart(part, info.uri, part_options_);
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(*a, *again);
    std::vector<std::string> lines = Lines(*a);
    ASSERT_FALSE(lines.empty());
    json trailer = json::parse(lines.back())["lote_transform"];
    EXPECT_EQ(trailer["model_version"], "fake-1");
    EXPECT_EQ(trailer["records"], lines.size() - 1);
    EXPECT_TRUE(trailer.contains("reference"));
    lines.pop_back();
    std::string name = info.uri.substr(info.uri.rfind('/') + 1);
    answered[name.substr(0, name.find('-'))] = lines;
  }
  // `lote infer` on the same parts writes the same rows.
  auto infer = RunStage(Stage::kInfer, options_, engine_);
  ASSERT_TRUE(infer.ok()) << infer.status().ToString();
  for (const auto& [key, lines] : answered) {
    auto data = mem_->Read("mem://t/out/_stages/infer/" + key + "-00000.jsonl.zst");
    if (lines.empty()) {
      EXPECT_FALSE(data.ok()) << key;  // infer writes no file for an object without records
      continue;
    }
    ASSERT_TRUE(data.ok()) << key;
    EXPECT_EQ(Lines(*data), lines) << key;
  }
}

TEST_F(TransformTest, BadPartsAreRefusedAndNamed) {
  auto not_zstd = TransformPart("{\"id\":\"x\"}\n", "req", part_options_);
  EXPECT_EQ(not_zstd.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(not_zstd.status().message().find("req"), std::string::npos);
  auto garbage =
      TransformPart(Zstd({R"({"id":"x","line":1,"text":"hola"})", "{nope"}), "req", part_options_);
  EXPECT_EQ(garbage.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(garbage.status().message().find("req:2"), std::string::npos)
      << garbage.status().ToString();
  auto inferred = TransformPart(
      Zstd({R"({"id":"x","line":1,"label":"pago","score":0.9,"top_k":[]})"}), "req", part_options_);
  EXPECT_EQ(inferred.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(inferred.status().message().find("inferred already"), std::string::npos);
  TransformPartOptions small = part_options_;
  small.max_rows_bytes = 100;
  std::vector<std::string> many(10, R"({"id":"x","line":1,"text":"quiero pagar la cuota"})");
  EXPECT_EQ(TransformPart(Zstd(many), "req", small).status().code(),
            StatusCode::kResourceExhausted);
  TransformPartOptions none;
  EXPECT_EQ(TransformPart(Zstd(many), "req", none).status().code(), StatusCode::kInvalidArgument);
  FakeInferenceEngine same("fake-1");
  TransformPartOptions self = part_options_;
  self.shadow = &same;
  EXPECT_EQ(TransformPart(Zstd(many), "req", self).status().code(), StatusCode::kInvalidArgument);
  // An empty body is a part without records: only the trailer.
  auto empty = TransformPart("", "req", part_options_);
  ASSERT_TRUE(empty.ok()) << empty.status().ToString();
  EXPECT_EQ(Lines(*empty).size(), 1u);
}

TEST_F(TransformTest, AnAnswerThatIsNotItsPartsImportsNothing) {
  TransformManifest m;
  std::vector<std::string> outs = TransformAll(&m);
  ASSERT_EQ(outs.size(), 3u);
  // Swap the answers of two objects that have records: each no longer answers its part.
  std::vector<std::string> with_records;
  for (const auto& uri : outs) {
    if (Lines(*mem_->Read(uri)).size() > 1) with_records.push_back(uri);
  }
  ASSERT_EQ(with_records.size(), 2u);
  std::string x = *mem_->Read(with_records[0]), y = *mem_->Read(with_records[1]);
  ASSERT_TRUE(mem_->Write(with_records[0], y).ok());
  ASSERT_TRUE(mem_->Write(with_records[1], x).ok());
  auto swapped = ImportTransformOutput(options_, kJob);
  ASSERT_FALSE(swapped.ok());
  EXPECT_EQ(swapped.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(swapped.status().message().find("does not answer"), std::string::npos)
      << swapped.status().ToString();
  ASSERT_TRUE(mem_->Write(with_records[0], x).ok());
  ASSERT_TRUE(mem_->Write(with_records[1], y).ok());
  // A truncated answer (its trailer lost) is refused too.
  std::vector<std::string> lines = Lines(x);
  lines.pop_back();
  ASSERT_TRUE(mem_->Write(with_records[0], Zstd(lines)).ok());
  auto truncated = ImportTransformOutput(options_, kJob);
  ASSERT_FALSE(truncated.ok());
  EXPECT_EQ(truncated.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(truncated.status().message().find("trailer"), std::string::npos)
      << truncated.status().ToString();
  // The object whose answer was refused got no infer marker.
  const std::string name = with_records[0].substr(with_records[0].rfind('/') + 1);
  EXPECT_EQ(mem_->Read("mem://t/out/_stages/infer/" + name.substr(0, name.find('-')) + ".json")
                .status()
                .code(),
            StatusCode::kNotFound);
  ASSERT_TRUE(mem_->Write(with_records[0], x).ok());
  auto fixed = ImportTransformOutput(options_, kJob);
  ASSERT_TRUE(fixed.ok()) << fixed.status().ToString();
  EXPECT_EQ(fixed->objects_done + fixed->objects_skipped, 3u);
}

TEST_F(TransformTest, ImportWaitsForMissingAnswersAndIsIdempotent) {
  TransformManifest m;
  std::vector<std::string> outs = TransformAll(&m);
  ASSERT_EQ(outs.size(), 3u);
  std::string kept = *mem_->Read(outs[0]);
  ASSERT_TRUE(mem_->Delete(outs[0]).ok());
  auto first = ImportTransformOutput(options_, kJob);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->objects_done, 2u);
  // The manifest stays while an answer is missing; a new manifest lists only what is left.
  EXPECT_TRUE(mem_->Read(m.uri).ok());
  TransformManifest left = Manifest();
  EXPECT_EQ(left.objects, 1u);
  ASSERT_TRUE(mem_->Write(outs[0], kept).ok());
  auto second = ImportTransformOutput(options_, kJob);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->objects_done, 1u);
  EXPECT_EQ(second->objects_skipped, 2u);
  auto third = ImportTransformOutput(options_, kJob);
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(third->objects_done, 0u);
  EXPECT_EQ(Manifest().parts, 0u);
  auto published = PublishStaged(options_);
  ASSERT_TRUE(published.ok()) << published.status().ToString();
  EXPECT_EQ(published->counts.records_in, 29u);
}

TEST_F(TransformTest, AManifestThatIsNotOneIsRefused) {
  const std::string uri = std::string(kJob) + "/bad.json";
  for (const char* text : {"{}", "[]", R"([{"prefix": "mem://t/out/_stages/prep/"}])",
                           R"([{"prefix": "mem://t/out/_stages/prep/"}, "../../secret"])",
                           R"([{"prefix": "mem://t/out/_stages/prep/"}, 7])", "[{"}) {
    ASSERT_TRUE(mem_->Write(uri, text).ok());
    auto r = RunTransformManifest(options_, uri, kJob, part_options_, 1);
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << text;
    EXPECT_NE(r.status().message().find(uri), std::string::npos) << r.status().ToString();
  }
}

}  // namespace
}  // namespace lote::pipeline
