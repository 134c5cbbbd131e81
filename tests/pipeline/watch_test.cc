// The watcher on mem:// with a manual clock: an object is handed out once it has settled, a file
// still growing is not, a handled object is not handed out again unless it changes, a failed
// batch is retried, listing errors are retried or returned, and stop ends the loop between
// batches.
#include "lote/pipeline/watch.h"

#include <gtest/gtest.h>

#include <atomic>

#include "lote/storage/storage.h"

namespace lote::pipeline {
namespace {

using storage::ObjectInfo;

std::vector<std::string> Uris(const std::vector<ObjectInfo>& v) {
  std::vector<std::string> out;
  for (const auto& o : v) out.push_back(o.uri);
  return out;
}

ObjectInfo Obj(std::string uri, uint64_t size, std::string etag) {
  return ObjectInfo{std::move(uri), size, 0, std::move(etag)};
}

constexpr int64_t kSecond = 1'000'000'000;

TEST(SettleTracker, HandsOutAnObjectOnceItHasNotChangedForTheSettleTime) {
  SettleTracker t(10);
  EXPECT_TRUE(t.Poll({Obj("a", 5, "e1")}, 0, 100).empty());
  EXPECT_TRUE(t.Poll({Obj("a", 9, "e2")}, 8 * kSecond, 100).empty());   // still growing
  EXPECT_TRUE(t.Poll({Obj("a", 9, "e2")}, 17 * kSecond, 100).empty());  // 9 s unchanged
  auto batch = t.Poll({Obj("a", 9, "e2")}, 18 * kSecond, 100);
  ASSERT_EQ(Uris(batch), std::vector<std::string>{"a"});
  EXPECT_EQ(batch[0].size, 9u);
  // Not handled yet (the batch failed): handed out again.
  EXPECT_EQ(t.Poll({Obj("a", 9, "e2")}, 19 * kSecond, 100).size(), 1u);
  t.Handled(batch);
  EXPECT_TRUE(t.Poll({Obj("a", 9, "e2")}, 30 * kSecond, 100).empty());
  // Replaced: a new version, handed out once it has settled in turn.
  EXPECT_TRUE(t.Poll({Obj("a", 9, "e3")}, 31 * kSecond, 100).empty());
  EXPECT_EQ(t.Poll({Obj("a", 9, "e3")}, 41 * kSecond, 100).size(), 1u);
}

TEST(SettleTracker, ForgetsWhatLeftTheListingAndCapsTheBatch) {
  SettleTracker t(0);
  auto batch = t.Poll({Obj("c", 1, "x"), Obj("a", 1, "x"), Obj("b", 1, "x")}, 0, 2);
  EXPECT_EQ(Uris(batch), (std::vector<std::string>{"a", "c"}));  // the first two seen, sorted
  t.Handled(batch);
  EXPECT_EQ(Uris(t.Poll({Obj("b", 1, "x")}, 1, 2)), std::vector<std::string>{"b"});
  EXPECT_EQ(t.size(), 1u) << "a and c left the listing and are forgotten";
  // A handled object that comes back after it was forgotten is new again (the ledger, not the
  // watcher, knows it was done).
  EXPECT_EQ(t.Poll({Obj("a", 1, "x")}, 2, 2).size(), 1u);
}

class WatchTest : public ::testing::Test {
 protected:
  WatchOptions Options() {
    WatchOptions o;
    o.input_uri = root_ + "/in/";
    o.input_storage = mem_;
    o.interval_seconds = 1;
    o.settle_seconds = 2;
    o.clock = clock_;
    o.stop = &stop_;
    o.wait = [this](double s) {
      clock_->Advance(static_cast<int64_t>(s * 1e6));
      if (on_wait_) on_wait_(++waits_);
    };
    o.log = [this](LogLevel, std::string_view line) { logs_.emplace_back(line); };
    return o;
  }

  std::shared_ptr<storage::Storage> mem_ = storage::NewMemStorage();
  std::string root_ = "mem://watch";
  std::shared_ptr<ManualClock> clock_ = std::make_shared<ManualClock>(1'700'000'000'000'000);
  std::atomic<bool> stop_{false};
  int waits_ = 0;
  std::function<void(int)> on_wait_;
  std::vector<std::string> logs_;
};

TEST_F(WatchTest, RunsEachSettledObjectOnceAndStopsBetweenBatches) {
  std::vector<std::vector<std::string>> batches;
  on_wait_ = [&](int n) {
    if (n == 1) ASSERT_TRUE(mem_->Write(root_ + "/in/a.jsonl", "{}\n").ok());
    if (n == 2) ASSERT_TRUE(mem_->Write(root_ + "/in/b.jsonl", "{}\n").ok());
    if (n == 3) ASSERT_TRUE(mem_->Write(root_ + "/in/b.jsonl", "{}\n{}\n").ok());  // grows
    if (n == 12) stop_ = true;
  };
  Status s = Watch(Options(), [&](const std::vector<ObjectInfo>& batch) {
    batches.push_back(Uris(batch));
    return Status::Ok();
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_EQ(batches.size(), 2u);
  EXPECT_EQ(batches[0], std::vector<std::string>{root_ + "/in/a.jsonl"});
  EXPECT_EQ(batches[1], std::vector<std::string>{root_ + "/in/b.jsonl"});
}

TEST_F(WatchTest, AFailedBatchIsTriedAgainAtTheNextPoll) {
  ASSERT_TRUE(mem_->Write(root_ + "/in/a.jsonl", "{}\n").ok());
  int calls = 0;
  on_wait_ = [&](int n) {
    if (n == 10) stop_ = true;
  };
  Status s = Watch(Options(), [&](const std::vector<ObjectInfo>&) {
    return ++calls < 3 ? UnavailableError("storage down") : Status::Ok();
  });
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(calls, 3);
  ASSERT_FALSE(logs_.empty());
  EXPECT_NE(logs_[0].find("storage down"), std::string::npos);
}

TEST_F(WatchTest, NothingThereYetIsNotAnErrorButABadUriIs) {
  on_wait_ = [&](int n) {
    if (n == 3) stop_ = true;
  };
  EXPECT_TRUE(Watch(Options(), [](const auto&) { return Status::Ok(); }).ok());
  WatchOptions bad = Options();
  bad.input_uri = "/tmp/not-a-mem-uri";  // the mem storage refuses another scheme
  stop_ = false;
  EXPECT_FALSE(Watch(bad, [](const auto&) { return Status::Ok(); }).ok());
  bad = Options();
  bad.interval_seconds = 0;
  EXPECT_EQ(Watch(bad, [](const auto&) { return Status::Ok(); }).code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace lote::pipeline
