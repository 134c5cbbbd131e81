// The watcher on mem:// with a manual clock: an object is handed out once it has settled, a file
// still growing is not, a handled object is not handed out again unless it changes, a failed
// batch is retried, listing errors are retried or returned, and stop ends the loop between
// batches.
#include "lote/pipeline/watch.h"

#include <gtest/gtest.h>

#include <atomic>

#include "lote/storage/fault_injecting_storage.h"
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

TEST(SettleTracker, APartialListingKeepsWhatComesBeforeItAndKnowsHowFarAllIsHandled) {
  SettleTracker t(0);
  EXPECT_EQ(t.HandledThrough(), "");
  auto batch = t.Poll({Obj("a", 1, "x"), Obj("b", 1, "x"), Obj("d", 1, "x")}, 0, 2);
  t.Handled(batch);  // a, b
  EXPECT_EQ(t.HandledThrough(), "b") << "d is not handled yet";
  // Listing after "b": a and b are not in it and are kept (not new again later).
  batch = t.Poll({Obj("d", 1, "x")}, 1, 10, "b");
  EXPECT_EQ(Uris(batch), std::vector<std::string>{"d"});
  t.Handled(batch);
  EXPECT_EQ(t.HandledThrough(), "d");
  EXPECT_EQ(t.size(), 3u);
  // A full listing with an object that sorts before the others: handed out, and it holds the
  // point back until handled.
  batch = t.Poll({Obj("0", 1, "x"), Obj("a", 1, "x"), Obj("b", 1, "x"), Obj("d", 1, "x")}, 2, 10);
  EXPECT_EQ(Uris(batch), std::vector<std::string>{"0"});
  EXPECT_EQ(t.HandledThrough(), "");
}

// Records the `after` of every listing.
class ListRecorder : public storage::FaultInjectingStorage {
 public:
  using FaultInjectingStorage::FaultInjectingStorage;
  Result<std::vector<ObjectInfo>> ListAfter(std::string_view pattern,
                                            std::string_view after) const override {
    afters.emplace_back(after);
    return FaultInjectingStorage::ListAfter(pattern, after);
  }
  mutable std::vector<std::string> afters;
};

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
    if (n == 1) {
      ASSERT_TRUE(mem_->Write(root_ + "/in/a.jsonl", "{}\n").ok());
    }
    if (n == 2) {
      ASSERT_TRUE(mem_->Write(root_ + "/in/b.jsonl", "{}\n").ok());
    }
    if (n == 3) {  // b grows
      ASSERT_TRUE(mem_->Write(root_ + "/in/b.jsonl", "{}\n{}\n").ok());
    }
    if (n == 12) stop_ = true;
  };
  Status s = Watch(Options(), [&](const std::vector<ObjectInfo>& batch, const std::string&) {
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
  Status s = Watch(Options(), [&](const std::vector<ObjectInfo>&, const std::string&) {
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
  EXPECT_TRUE(Watch(Options(), [](const auto&, const auto&) { return Status::Ok(); }).ok());
  WatchOptions bad = Options();
  bad.input_uri = "/tmp/not-a-mem-uri";  // the mem storage refuses another scheme
  stop_ = false;
  EXPECT_FALSE(Watch(bad, [](const auto&, const auto&) { return Status::Ok(); }).ok());
  bad = Options();
  bad.interval_seconds = 0;
  EXPECT_EQ(Watch(bad, [](const auto&, const auto&) { return Status::Ok(); }).code(),
            StatusCode::kInvalidArgument);
}

TEST_F(WatchTest, PollsListOnlyAfterWhatIsHandledAndEveryNthListsEverything) {
  auto recorder = std::make_shared<ListRecorder>(mem_);
  WatchOptions o = Options();
  o.input_storage = recorder;
  o.settle_seconds = 0;
  o.full_listing_every = 3;
  ASSERT_TRUE(mem_->Write(root_ + "/in/b.jsonl", "{}\n").ok());
  std::vector<std::pair<std::vector<std::string>, std::string>> batches;
  on_wait_ = [&](int n) {
    if (n == 1) {
      ASSERT_TRUE(mem_->Write(root_ + "/in/c.jsonl", "{}\n").ok());
    }
    // Sorts before what is handled: only a full listing finds it.
    if (n == 2) {
      ASSERT_TRUE(mem_->Write(root_ + "/in/a.jsonl", "{}\n").ok());
    }
    if (n == 6) stop_ = true;
  };
  Status s = Watch(o, [&](const std::vector<ObjectInfo>& batch, const std::string& after) {
    batches.emplace_back(Uris(batch), after);
    return Status::Ok();
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
  const std::string in = root_ + "/in/";
  ASSERT_EQ(batches.size(), 3u);
  EXPECT_EQ(batches[0].first, std::vector<std::string>{in + "b.jsonl"});
  EXPECT_EQ(batches[0].second, "");
  EXPECT_EQ(batches[1].first, std::vector<std::string>{in + "c.jsonl"});
  EXPECT_EQ(batches[1].second, in + "b.jsonl");
  EXPECT_EQ(batches[2].first, std::vector<std::string>{in + "a.jsonl"});
  EXPECT_EQ(batches[2].second, "");
  // Polls 0, 3, 6, ... list everything; the others only after the last handled object.
  ASSERT_GE(recorder->afters.size(), 7u);
  for (size_t i = 0; i < recorder->afters.size(); ++i) {
    if (i % 3 == 0) {
      EXPECT_EQ(recorder->afters[i], "") << "poll " << i;
    } else {
      EXPECT_NE(recorder->afters[i], "") << "poll " << i;
    }
  }
}

// An SQS queue in memory: received messages are hidden until deleted or released.
class FakeQueue : public aws::SqsQueue {
 public:
  void Send(std::string body) { messages_.push_back({std::to_string(next_id_++), body, true, 0}); }
  Result<std::vector<aws::SqsMessage>> Receive(int max_messages, int, int) override {
    if (on_receive) on_receive(++receives);
    std::vector<aws::SqsMessage> out;
    for (auto& m : messages_) {
      if (!m.visible || static_cast<int>(out.size()) == max_messages) continue;
      m.visible = false;
      ++m.receipts;
      out.push_back({m.id, m.id + "#" + std::to_string(m.receipts), m.body});
    }
    return out;
  }
  Status Delete(const aws::SqsMessage& message) override {
    deleted.push_back(message.message_id);
    std::erase_if(messages_, [&](const Msg& m) { return m.id == message.message_id; });
    return Status::Ok();
  }
  Status ChangeVisibility(const aws::SqsMessage& message, int) override {
    released.push_back(message.message_id);
    for (auto& m : messages_) m.visible = m.visible || m.id == message.message_id;
    return Status::Ok();
  }
  const std::string& url() const override { return url_; }
  size_t size() const { return messages_.size(); }

  int receives = 0;
  std::function<void(int)> on_receive;
  std::vector<std::string> deleted, released;

 private:
  struct Msg {
    std::string id, body;
    bool visible;
    int receipts;
  };
  std::vector<Msg> messages_;
  int next_id_ = 1;
  std::string url_ = "https://sqs.us-east-1.amazonaws.com/1/q";
};

std::string S3Event(const std::string& key) {
  return R"({"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put", "s3": )"
         R"({"bucket": {"name": "raw"}, "object": {"key": ")" +
         key + R"(", "size": 1, "eTag": "e"}}}]})";
}

TEST(WatchQueue, RunsTheObjectsEventsNameAndDeletesTheirMessagesOnceHandled) {
  FakeQueue queue;
  queue.Send(R"({"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": "raw"})");  // 1
  queue.Send(S3Event("in/a.jsonl"));                                                    // 2
  queue.Send(S3Event("other/b.jsonl"));  // 3: not under the input
  queue.Send("not an event");            // 4: left for the dead-letter queue
  queue.Send(S3Event("in/c+d.jsonl"));   // 5
  queue.Send(S3Event("in/a.jsonl"));     // 6: the same object again
  std::atomic<bool> stop{false};
  QueueWatchOptions o;
  o.input_uri = "s3://raw/in/";
  o.queue = &queue;
  o.wait_seconds = 0;
  o.stop = &stop;
  std::vector<std::string> logs;
  o.log = [&](LogLevel, std::string_view line) { logs.emplace_back(line); };
  queue.on_receive = [&](int n) {
    if (n == 8) stop = true;
  };
  std::vector<std::vector<std::string>> batches;
  Status s = WatchQueue(o, [&](const std::vector<ObjectInfo>& batch, const std::string& after) {
    EXPECT_EQ(after, "");
    batches.push_back(Uris(batch));
    // The first attempt fails: its messages come back, and the second succeeds.
    return batches.size() == 1 ? UnavailableError("storage down") : Status::Ok();
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
  const std::vector<std::string> want = {"s3://raw/in/a.jsonl", "s3://raw/in/c d.jsonl"};
  ASSERT_EQ(batches.size(), 2u);
  EXPECT_EQ(batches[0], want);
  EXPECT_EQ(batches[1], want);
  EXPECT_EQ(queue.released, (std::vector<std::string>{"1", "2", "3", "5", "6"}));
  EXPECT_EQ(queue.deleted, (std::vector<std::string>{"1", "2", "3", "5", "6"}));
  EXPECT_EQ(queue.size(), 1u) << "only the message that is not an S3 event is left";
  bool logged = false;
  for (const auto& line : logs)
    logged = logged || line.find("queue message 4") != std::string::npos;
  EXPECT_TRUE(logged);
}

TEST(WatchQueue, AQueueThatDoesNotExistStopsTheWatch) {
  class Missing : public FakeQueue {
   public:
    Result<std::vector<aws::SqsMessage>> Receive(int, int, int) override {
      return NotFoundError("no such queue");
    }
  } queue;
  QueueWatchOptions o;
  o.input_uri = "s3://raw/in/";
  o.queue = &queue;
  EXPECT_EQ(WatchQueue(o, [](const auto&, const auto&) { return Status::Ok(); }).code(),
            StatusCode::kNotFound);
}

}  // namespace
}  // namespace lote::pipeline
