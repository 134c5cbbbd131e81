// The model registry on an in-memory store and on S3 (moto): versions by content, aliases and
// their history, rollback, statuses and tags, models:/ references, writers racing for the same
// event (one wins, the other decides again; a promotion that lost is refused and logged), and a
// damaged registry named by file.
#include "lote/registry/registry.h"

#include <gtest/gtest.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <thread>

#include "aws/json_client.h"
#include "lote/base/clock.h"
#include "lote/base/digest.h"
#include "lote/registry/sagemaker.h"
#include "lote/storage/s3_storage.h"
#include "testing/moto_server.h"

namespace lote::registry {
namespace {

const Actor kAna{"ana"};

class RegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = storage::NewMemStorage();
    auto r = Registry::Open("mem://reg/models-registry", store_);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    reg_.emplace(std::move(*r));
  }
  Result<ModelVersion> Add(std::string_view name, std::string_view bytes, RegisterOptions o = {}) {
    return reg_->Register(name, bytes, "m-" + Sha256Hex(bytes).substr(0, 12), "m", "",
                          R"({"classifier":{"training":{"train_sha256":"abc"}}})", o, kAna);
  }
  std::shared_ptr<storage::Storage> store_;
  std::optional<Registry> reg_;
};

TEST_F(RegistryTest, VersionsAreNumberedAndStoredByContent) {
  RegisterOptions o;
  o.tags = {{"team", "ml"}};
  o.description = "first try";
  o.source = "flow:retrain-20261207";
  o.preprocess_version = "4b032191fe6a";
  auto v1 = Add("intents", "model one", o);
  ASSERT_TRUE(v1.ok()) << v1.status().ToString();
  EXPECT_EQ(v1->version, 1);
  EXPECT_EQ(v1->status, "pending");
  EXPECT_EQ(v1->model_sha256, Sha256Hex("model one"));
  EXPECT_EQ(v1->registered_by, "ana");
  EXPECT_EQ(v1->tags.at("team"), "ml");
  EXPECT_EQ(v1->source, "flow:retrain-20261207");
  EXPECT_NE(v1->parts_json.find("train_sha256"), std::string::npos);
  auto v2 = Add("intents", "model two");
  ASSERT_TRUE(v2.ok());
  EXPECT_EQ(v2->version, 2);
  // The same file again is a new version of the same blob.
  auto v3 = Add("intents", "model one");
  ASSERT_TRUE(v3.ok());
  EXPECT_EQ(v3->version, 3);
  auto blobs = store_->List("mem://reg/models-registry/blobs/sha256/");
  ASSERT_TRUE(blobs.ok());
  EXPECT_EQ(blobs->size(), 2u);
  ASSERT_TRUE(Add("other.model-2", "x").ok());
  auto names = reg_->ListModels();
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(*names, (std::vector<std::string>{"intents", "other.model-2"}));
  EXPECT_EQ(reg_->Get("missing").status().code(), StatusCode::kNotFound);
}

TEST_F(RegistryTest, AliasesMoveAndEveryMoveIsInTheHistory) {
  ASSERT_TRUE(Add("intents", "one").ok());
  ASSERT_TRUE(Add("intents", "two").ok());
  ASSERT_TRUE(reg_->SetAlias("intents", "champion", 1, "first", "", kAna).ok());
  ASSERT_TRUE(reg_->SetAlias("intents", "champion", 2, "better",
                             R"({"test":"mcnemar","p_value":0.003})", Actor{"flow:abc"})
                  .ok());
  ASSERT_TRUE(reg_->SetAlias("intents", "challenger", 1, "", "", kAna).ok());
  auto m = reg_->Get("intents");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->aliases.at("champion"), 2);
  ASSERT_EQ(m->alias_history.size(), 3u);
  const AliasChange& moved = m->alias_history[1];
  EXPECT_EQ(moved.from_version, 1);
  EXPECT_EQ(moved.to_version, 2);
  EXPECT_EQ(moved.by, "flow:abc");
  EXPECT_EQ(moved.reason, "better");
  EXPECT_EQ(moved.model_sha256, Sha256Hex("two"));
  EXPECT_EQ(nlohmann::json::parse(moved.evaluation_json)["p_value"], 0.003);

  auto back = reg_->Rollback("intents", "champion", "bad promotion", kAna);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, 1);
  m = reg_->Get("intents");
  EXPECT_EQ(m->aliases.at("champion"), 1);
  EXPECT_TRUE(m->alias_history.back().rollback);
  EXPECT_EQ(m->alias_history.back().from_version, 2);
  // The alias history is never rewritten: the move and its rollback are both there.
  EXPECT_EQ(m->alias_history.size(), 4u);
  // A rollback of the rollback goes forward again; an alias set only once has nothing to undo.
  EXPECT_EQ(*reg_->Rollback("intents", "champion", "", kAna), 2);
  EXPECT_EQ(reg_->Rollback("intents", "challenger", "", kAna).status().code(),
            StatusCode::kFailedPrecondition);

  ASSERT_TRUE(reg_->DeleteAlias("intents", "challenger", "not needed", kAna).ok());
  m = reg_->Get("intents");
  EXPECT_FALSE(m->aliases.count("challenger"));
  EXPECT_FALSE(m->alias_history.back().to_version.has_value());
  EXPECT_EQ(reg_->DeleteAlias("intents", "challenger", "", kAna).code(), StatusCode::kNotFound);
  EXPECT_EQ(reg_->SetAlias("intents", "champion", 9, "", "", kAna).code(), StatusCode::kNotFound);
  EXPECT_EQ(reg_->SetAlias("nope", "champion", 1, "", "", kAna).code(), StatusCode::kNotFound);
  EXPECT_EQ(reg_->SetAlias("intents", "9lives", 1, "", "", kAna).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(reg_->SetAlias("intents", "champion", 1, "", "[1]", kAna).code(),
            StatusCode::kInvalidArgument);  // an evaluation is an object
}

TEST_F(RegistryTest, StatusesAndTags) {
  ASSERT_TRUE(Add("intents", "one").ok());
  ASSERT_TRUE(reg_->SetStatus("intents", 1, "approved", "golden set passed", kAna).ok());
  EXPECT_EQ(reg_->SetStatus("intents", 1, "shipped", "", kAna).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(reg_->SetStatus("intents", 2, "approved", "", kAna).code(), StatusCode::kNotFound);
  ASSERT_TRUE(reg_->SetTag("intents", 1, "stage", std::string("prod"), kAna).ok());
  ASSERT_TRUE(reg_->SetTag("intents", std::nullopt, "owner", std::string("ml-team"), kAna).ok());
  ASSERT_TRUE(reg_->SetTag("intents", 1, "stage", std::nullopt, kAna).ok());
  EXPECT_EQ(reg_->SetTag("intents", 1, "bad key", std::string("x"), kAna).code(),
            StatusCode::kInvalidArgument);
  auto m = reg_->Get("intents");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->versions[0].status, "approved");
  EXPECT_EQ(m->versions[0].status_reason, "golden set passed");
  EXPECT_FALSE(m->versions[0].tags.count("stage"));
  EXPECT_EQ(m->tags.at("owner"), "ml-team");
}

TEST_F(RegistryTest, CheckpointsHoldTheLogAndADamagedOneIsIgnored) {
  ASSERT_TRUE(Add("intents", "one").ok());
  ASSERT_TRUE(Add("intents", "two").ok());
  ASSERT_TRUE(reg_->SetAlias("intents", "champion", 1, "first", "null", kAna).ok());
  // 250 events in all: checkpoints after the 100th and the 200th.
  for (int i = 4; i <= 250; ++i) {
    ASSERT_TRUE(reg_->SetTag("intents", 2, "n", std::to_string(i), kAna).ok()) << i;
  }
  ASSERT_TRUE(reg_->SetAlias("intents", "champion", 2, "better", "null", kAna).ok());
  const std::string base = "mem://reg/models-registry/models/intents/";
  auto listed = store_->List(base + "checkpoints/");
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].uri, base + "checkpoints/0000000100.jsonl");
  EXPECT_EQ((*listed)[1].uri, base + "checkpoints/0000000200.jsonl");
  auto m = reg_->Get("intents");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->events, 251u);
  EXPECT_EQ(m->checkpoint_events, 200u);  // 51 events read one by one
  EXPECT_EQ(m->versions[1].tags.at("n"), "250");
  EXPECT_EQ(m->aliases.at("champion"), 2);
  ASSERT_EQ(m->alias_history.size(), 2u);
  EXPECT_EQ(m->alias_history[0].reason, "first");  // from inside the checkpoint

  // The state is the same as the fold of every event: without checkpoints.
  ASSERT_TRUE(store_->Delete(base + "checkpoints/0000000200.jsonl").ok());
  ASSERT_TRUE(store_->Delete(base + "checkpoints/0000000100.jsonl").ok());
  auto all = reg_->Get("intents");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->checkpoint_events, 0u);
  EXPECT_EQ(all->versions[1].tags, m->versions[1].tags);
  EXPECT_EQ(all->alias_history.size(), m->alias_history.size());

  // A damaged or truncated checkpoint is not used, not even in part; an older good one is.
  ASSERT_TRUE(reg_->SetTag("intents", 1, "x", std::string("y"), kAna).ok());
  // Checkpoint 100 written again from the first 100 events, and a truncated 200.
  std::string good;
  for (int i = 1; i <= 100; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "events/%010d.json", i);
    auto text = store_->Read(base + name);
    ASSERT_TRUE(text.ok());
    good += nlohmann::json::parse(*text).dump() + "\n";
  }
  ASSERT_TRUE(store_->Write(base + "checkpoints/0000000100.jsonl", good).ok());
  ASSERT_TRUE(store_->Write(base + "checkpoints/0000000200.jsonl", good.substr(0, 500)).ok());
  auto fallback = reg_->Get("intents");
  ASSERT_TRUE(fallback.ok()) << fallback.status().ToString();
  EXPECT_EQ(fallback->checkpoint_events, 100u);
  EXPECT_EQ(fallback->versions[1].tags.at("n"), "250");
  EXPECT_EQ(fallback->versions[0].tags.at("x"), "y");
  // A checkpoint past the end of the log (events deleted under it) is not used either, and the
  // gap in the events is still an error.
  ASSERT_TRUE(store_->Delete(base + "events/0000000150.json").ok());
  EXPECT_EQ(reg_->Get("intents").status().code(), StatusCode::kDataLoss);
}

TEST_F(RegistryTest, ModelUrisResolveToCheckedBytes) {
  ASSERT_TRUE(Add("intents", "one").ok());
  ASSERT_TRUE(Add("intents", "two").ok());
  ASSERT_TRUE(reg_->SetAlias("intents", "champion", 2, "", "", kAna).ok());
  auto r = reg_->Resolve("models:/intents@champion");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->bytes, "two");
  EXPECT_EQ(r->resolved, "models:/intents/2");
  EXPECT_EQ(reg_->Resolve("models:/intents/1")->bytes, "one");
  EXPECT_EQ(reg_->Resolve("models:/intents/3").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(reg_->Resolve("models:/intents@nope").status().code(), StatusCode::kNotFound);
  for (const char* bad : {"models:/", "models:/intents", "models:/intents/0", "models:/intents/x",
                          "models:/intents/1@a", "models:/../x/1", "models:/a b@c"}) {
    EXPECT_EQ(reg_->Resolve(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
  // A blob changed behind the registry's back is refused, not served.
  ASSERT_TRUE(
      store_->Write("mem://reg/models-registry/blobs/sha256/" + Sha256Hex("two") + ".lote", "tw0")
          .ok());
  auto tampered = reg_->Resolve("models:/intents@champion");
  EXPECT_EQ(tampered.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(tampered.status().message().find("does not match"), std::string::npos);
}

TEST_F(RegistryTest, AMissingOrDamagedEventIsNamedNeverSkipped) {
  ASSERT_TRUE(Add("intents", "one").ok());
  ASSERT_TRUE(Add("intents", "two").ok());
  ASSERT_TRUE(reg_->SetAlias("intents", "champion", 2, "", "", kAna).ok());
  const std::string events = "mem://reg/models-registry/models/intents/events/";
  ASSERT_TRUE(store_->Write(events + "0000000002.json", "{\"seq\":2,").ok());
  auto damaged = reg_->Get("intents");
  EXPECT_EQ(damaged.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(damaged.status().message().find("0000000002.json"), std::string::npos);
  // Writers refuse to add to a damaged model too.
  EXPECT_EQ(reg_->SetAlias("intents", "champion", 1, "", "", kAna).code(), StatusCode::kDataLoss);
  ASSERT_TRUE(store_->Delete(events + "0000000002.json").ok());
  auto gap = reg_->Get("intents");
  EXPECT_EQ(gap.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(gap.status().message().find("0000000002.json: missing"), std::string::npos);
  // An event that contradicts the state before it (an alias moved from where it was not).
  ASSERT_TRUE(Add("b", "one").ok());
  ASSERT_TRUE(store_
                  ->Write("mem://reg/models-registry/models/b/events/0000000002.json",
                          R"({"seq":2,"type":"alias_set","at":"t","by":"x","alias":"c",)"
                          R"("from_version":1,"to_version":1,"reason":"","evaluation":null})")
                  .ok());
  EXPECT_EQ(reg_->Get("b").status().code(), StatusCode::kDataLoss);
}

TEST_F(RegistryTest, RacingWritersEachGetTheirOwnEvent) {
  ASSERT_TRUE(Add("intents", "one").ok());
  constexpr int kWriters = 8;
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < kWriters; ++i) {
    threads.emplace_back([&, i] {
      if (Add("intents", "model " + std::to_string(i)).ok()) ++ok;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), kWriters);
  auto m = reg_->Get("intents");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  ASSERT_EQ(m->versions.size(), static_cast<size_t>(kWriters + 1));
  std::set<std::string> shas;
  for (const auto& v : m->versions) shas.insert(v.model_sha256);
  EXPECT_EQ(shas.size(), static_cast<size_t>(kWriters + 1));  // no registration lost
}

TEST_F(RegistryTest, OfTwoPromotionsAtOnceOneWinsAndTheOtherIsRefusedAndLogged) {
  ASSERT_TRUE(Add("intents", "one").ok());
  ASSERT_TRUE(Add("intents", "two").ok());
  ASSERT_TRUE(Add("intents", "three").ok());
  ASSERT_TRUE(reg_->SetAlias("intents", "champion", 1, "", "", kAna).ok());
  // Both decided against version 1.
  std::atomic<int> won{0}, refused{0};
  std::vector<std::thread> threads;
  for (int candidate : {2, 3}) {
    threads.emplace_back([&, candidate] {
      Status s = reg_->SetAlias("intents", "champion", candidate, "promotion",
                                R"({"test":"mcnemar"})", Actor{"promote"}, AliasExpectation{1});
      if (s.ok()) {
        ++won;
      } else if (s.code() == StatusCode::kAborted) {
        ++refused;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(won.load(), 1);
  EXPECT_EQ(refused.load(), 1);
  auto m = reg_->Get("intents");
  ASSERT_TRUE(m.ok());
  ASSERT_EQ(m->alias_history.size(), 3u);
  EXPECT_FALSE(m->alias_history[1].refused);
  EXPECT_TRUE(m->alias_history[2].refused);
  EXPECT_EQ(m->alias_history[2].from_version, m->aliases.at("champion"));
  EXPECT_NE(m->alias_history[2].to_version, m->aliases.at("champion"));
  // A promotion expecting no alias at all is refused when one exists.
  EXPECT_EQ(reg_->SetAlias("intents", "champion", 3, "", "", kAna, AliasExpectation{}).code(),
            StatusCode::kAborted);
}

TEST_F(RegistryTest, BadInputIsRefusedBeforeAnythingIsWritten) {
  EXPECT_EQ(Add("../escape", "x").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Add("", "x").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Add(std::string(65, 'a'), "x").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Add("ok", "").status().code(), StatusCode::kInvalidArgument);
  RegisterOptions o;
  o.description = std::string(5000, 'd');
  EXPECT_EQ(Add("ok", "x", o).status().code(), StatusCode::kInvalidArgument);
  o.description = "\xff\xfe";
  EXPECT_EQ(Add("ok", "x", o).status().code(), StatusCode::kInvalidArgument);
  auto listed = store_->List("mem://reg/models-registry/");
  EXPECT_TRUE(!listed.ok() || listed->empty());
}

TEST(RegistryOnS3, ConditionalWritesKeepOneHistoryAcrossClients) {
  auto moto = testing::SharedMotoServer();
  ASSERT_TRUE(moto.ok()) << moto.status().ToString();
  const std::string bucket = testing::UniqueBucketName("registry");
  ASSERT_TRUE((*moto)->CreateBucket(bucket).ok());
  // Two clients, as two machines would have.
  auto s3a = storage::NewS3Storage(testing::MotoS3Options((*moto)->endpoint()));
  auto s3b = storage::NewS3Storage(testing::MotoS3Options((*moto)->endpoint()));
  ASSERT_TRUE(s3a.ok() && s3b.ok());
  auto a = Registry::Open("s3://" + bucket + "/registry", *s3a);
  auto b = Registry::Open("s3://" + bucket + "/registry", *s3b);
  ASSERT_TRUE(a.ok() && b.ok());
  auto v1 = a->Register("intents", "one", "m-1", "m", "", "{}", {}, kAna);
  ASSERT_TRUE(v1.ok()) << v1.status().ToString();
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      Registry& r = i % 2 ? *a : *b;
      if (r.Register("intents", "model " + std::to_string(i), "m", "m", "", "{}", {}, kAna).ok()) {
        ++ok;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 4);
  ASSERT_TRUE(b->SetAlias("intents", "champion", 3, "", "", kAna).ok());
  auto m = a->Get("intents");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->versions.size(), 5u);
  EXPECT_EQ(m->aliases.at("champion"), 3);
  auto r = a->Resolve("models:/intents@champion");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Sha256Hex(r->bytes), m->versions[2].model_sha256);
}

TEST(RegistryToSageMaker, ExportsEachVersionOnceAndKeepsStatusesInStep) {
  auto moto = testing::SharedMotoServer();
  ASSERT_TRUE(moto.ok()) << moto.status().ToString();
  auto reg = Registry::Open("mem://reg/sm", storage::NewMemStorage());
  ASSERT_TRUE(reg.ok());
  const std::string name = "intents_" + testing::UniqueBucketName("sm").substr(0, 12);
  ASSERT_TRUE(reg->Register(name, "one", "m-1", "m", "", "{}", {}, kAna).ok());
  ASSERT_TRUE(reg->Register(name, "two", "m-2", "m", "", "{}", {}, kAna).ok());
  ASSERT_TRUE(reg->SetAlias(name, "champion", 1, "", "", kAna).ok());
  SageMakerExportOptions o;
  o.endpoint = (*moto)->endpoint();
  o.region = "us-east-1";
  o.env = std::make_shared<const aws::AwsEnvironment>();
  o.credentials = testing::MotoS3Options((*moto)->endpoint()).credentials;
  o.image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/lote:latest";
  o.model_data_prefix = "s3://models/lote/";

  const auto requests = SageMakerRequests(*reg->Get(name), reg->uri(), o);
  ASSERT_EQ(requests.size(), 3u);
  const auto& v1 = requests[1]["request"];
  EXPECT_EQ(v1["ModelApprovalStatus"], "PendingManualApproval");
  EXPECT_EQ(v1["CustomerMetadataProperties"]["aliases"], "champion");
  EXPECT_EQ(v1["CustomerMetadataProperties"]["model_sha256"], Sha256Hex("one"));
  // '_' is not allowed in SageMaker's group names.
  EXPECT_EQ(v1["ModelPackageGroupName"].get<std::string>().find('_'), std::string::npos);
  EXPECT_EQ(v1["InferenceSpecification"]["Containers"][0]["ModelDataUrl"],
            "s3://models/lote/" + name + "/1/model.tar.gz");

  auto first = ExportToSageMaker(*reg->Get(name), reg->uri(), o);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_TRUE(first->group_created);
  EXPECT_EQ(first->created, 2);
  // Approving version 2 and exporting again updates it, adds nothing.
  ASSERT_TRUE(reg->SetStatus(name, 2, "approved", "golden set", kAna).ok());
  ASSERT_TRUE(reg->Register(name, "three", "m-3", "m", "", "{}", {}, kAna).ok());
  auto again = ExportToSageMaker(*reg->Get(name), reg->uri(), o);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_FALSE(again->group_created);
  EXPECT_EQ(again->updated, 2);
  EXPECT_EQ(again->created, 1);
  ASSERT_EQ(again->package_arns.size(), 3u);
  aws::JsonClientConfig c;
  c.endpoint = o.endpoint;
  c.region = "us-east-1";
  c.service = "sagemaker";
  c.target_prefix = "SageMaker";
  c.json_version = "1.1";
  c.http = aws::NewCurlHttpClient();
  c.credentials = o.credentials;
  c.clock = SystemClock();
  aws::JsonClient client(c);
  auto d = client.Call("DescribeModelPackage", {{"ModelPackageName", again->package_arns[1]}});
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ((*d)["ModelApprovalStatus"], "Approved");
  EXPECT_EQ((*d)["CustomerMetadataProperties"]["lote_version"], "2");
}

}  // namespace
}  // namespace lote::registry
