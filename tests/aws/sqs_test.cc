// SQS and S3 event notifications: the event formats (S3's own, with form-encoded keys, and
// EventBridge's), and the queue operations against moto_server (started by the test), with S3
// sending its events to the queue as AWS does.
#include "lote/aws/sqs.h"

#include <gtest/gtest.h>

#include <set>

#include "lote/storage/s3_storage.h"
#include "testing/moto_server.h"

namespace lote::aws {
namespace {

TEST(ParseS3Event, ReadsS3NotificationsWithFormEncodedKeys) {
  const std::string body = R"({"Records": [
    {"eventVersion": "2.1", "eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
     "s3": {"bucket": {"name": "raw"},
            "object": {"key": "in%2Fd%C3%ADa+1%2Bx.jsonl", "size": 3, "eTag": "abc"}}},
    {"eventVersion": "2.1", "eventSource": "aws:s3", "eventName": "ObjectRemoved:Delete",
     "s3": {"bucket": {"name": "raw"}, "object": {"key": "gone.jsonl"}}},
    {"eventVersion": "2.1", "eventSource": "aws:s3",
     "eventName": "ObjectCreated:CompleteMultipartUpload",
     "s3": {"bucket": {"name": "raw"}, "object": {"key": "in/big.jsonl", "size": 9,
                                                  "eTag": "\"d-2\""}}}]})";
  auto events = ParseS3Event(body);
  ASSERT_TRUE(events.ok()) << events.status().ToString();
  ASSERT_EQ(events->size(), 2u) << "removals are not work";
  EXPECT_EQ((*events)[0].bucket, "raw");
  EXPECT_EQ((*events)[0].key,
            "in/d\xC3\xAD"
            "a 1+x.jsonl");  // '+' a space, %2B a plus
  EXPECT_EQ((*events)[0].size, 3u);
  EXPECT_EQ((*events)[0].etag, "abc");
  EXPECT_EQ((*events)[1].key, "in/big.jsonl");
  EXPECT_EQ((*events)[1].etag, "d-2");
}

TEST(ParseS3Event, ReadsEventBridgeEventsAndIgnoresTestEvents) {
  auto bridged = ParseS3Event(R"({"version": "0", "detail-type": "Object Created",
    "source": "aws.s3", "detail": {"bucket": {"name": "raw"},
    "object": {"key": "in/a b:c.jsonl", "size": 5, "etag": "e1"}}})");
  ASSERT_TRUE(bridged.ok()) << bridged.status().ToString();
  ASSERT_EQ(bridged->size(), 1u);
  EXPECT_EQ((*bridged)[0].key, "in/a b:c.jsonl");  // EventBridge keys are not encoded
  auto deleted = ParseS3Event(R"({"detail-type": "Object Deleted", "source": "aws.s3",
    "detail": {"bucket": {"name": "raw"}, "object": {"key": "x"}}})");
  ASSERT_TRUE(deleted.ok());
  EXPECT_TRUE(deleted->empty());
  auto test = ParseS3Event(R"({"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": "b"})");
  ASSERT_TRUE(test.ok());
  EXPECT_TRUE(test->empty());
}

TEST(ParseS3Event, RefusesWhatIsNotAnS3Event) {
  for (const char* body :
       {"", "not json", "[]", R"({"hello": 1})", R"({"Records": [{"eventSource": "aws:sns"}]})",
        R"({"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put"}]})",
        R"({"source": "aws.s3", "detail-type": "Object Created", "detail": {}})"}) {
    EXPECT_EQ(ParseS3Event(body).status().code(), StatusCode::kInvalidArgument) << body;
  }
}

// Answers every request with one fixed response.
class FixedAnswer : public HttpClient {
 public:
  explicit FixedAnswer(HttpResponse r) : r_(std::move(r)) {}
  Result<HttpResponse> Send(const HttpRequest&, const BodySink&) override { return r_; }

 private:
  HttpResponse r_;
};

TEST(SqsErrors, TheQueryErrorHeaderNamesTheErrorWhenTheBodyDoesNot) {
  // SQS's JSON protocol also reports the error as "Code;Fault" in x-amzn-query-error.
  SqsOptions o;
  o.region = "us-east-1";
  Credentials c;
  c.access_key_id = "AKIDEXAMPLE";
  c.secret_access_key = Secret("secret");
  o.credentials = NewStaticCredentials(std::move(c));
  o.env = std::make_shared<const AwsEnvironment>();
  o.http = std::make_shared<FixedAnswer>(HttpResponse{
      400, {{"x-amzn-query-error", "AWS.SimpleQueueService.NonExistentQueue;Sender"}}, ""});
  auto queue = OpenSqsQueue("https://sqs.us-east-1.amazonaws.com/123456789012/gone", o);
  ASSERT_TRUE(queue.ok());
  auto got = (*queue)->Receive(1, 0, 30);
  EXPECT_EQ(got.status().code(), StatusCode::kNotFound) << got.status().ToString();
  EXPECT_NE(got.status().message().find("NonExistentQueue"), std::string::npos);
}

class SqsOnMoto : public ::testing::Test {
 protected:
  void SetUp() override {
    auto moto = testing::SharedMotoServer();
    ASSERT_TRUE(moto.ok()) << moto.status().ToString();
    moto_ = *moto;
  }
  SqsOptions Options() const {
    SqsOptions o = testing::MotoSqsOptions(moto_->endpoint());
    o.max_attempts = 2;
    return o;
  }
  testing::MotoServer* moto_ = nullptr;
};

TEST_F(SqsOnMoto, ReceivesS3EventsDeletesThemAndReleasesThemAgain) {
  const std::string bucket = testing::UniqueBucketName("sqs");
  const std::string queue_name = bucket + "-q";
  ASSERT_TRUE(moto_->CreateBucket(bucket).ok());
  auto url = moto_->CreateQueue(queue_name);
  ASSERT_TRUE(url.ok()) << url.status().ToString();
  ASSERT_TRUE(moto_->NotifyQueueOnCreate(bucket, "in/", queue_name).ok());
  auto s3 = storage::NewS3Storage(testing::MotoS3Options(moto_->endpoint()));
  ASSERT_TRUE(s3.ok());
  ASSERT_TRUE((*s3)->Write("s3://" + bucket + "/in/día 1+x.jsonl", "{}\n").ok());
  ASSERT_TRUE((*s3)->Write("s3://" + bucket + "/other/y.jsonl", "{}\n").ok());  // not notified

  auto queue = OpenSqsQueue(*url, Options());
  ASSERT_TRUE(queue.ok()) << queue.status().ToString();
  std::vector<SqsMessage> messages;
  for (int i = 0; i < 5 && messages.size() < 2; ++i) {
    auto got = (*queue)->Receive(10, 1, 30);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    for (auto& m : *got) messages.push_back(std::move(m));
  }
  ASSERT_EQ(messages.size(), 2u) << "the test event and one object event";
  std::set<std::string> keys;
  for (const SqsMessage& m : messages) {
    auto events = ParseS3Event(m.body);
    ASSERT_TRUE(events.ok()) << events.status().ToString();
    for (const auto& e : *events) keys.insert(e.key);
  }
  EXPECT_EQ(keys, std::set<std::string>{"in/día 1+x.jsonl"});

  // Released: delivered again at once. Deleted: gone.
  ASSERT_TRUE((*queue)->ChangeVisibility(messages[0], 0).ok());
  auto again = (*queue)->Receive(10, 1, 30);
  ASSERT_TRUE(again.ok());
  ASSERT_EQ(again->size(), 1u);
  EXPECT_EQ((*again)[0].message_id, messages[0].message_id);
  ASSERT_TRUE((*queue)->Delete((*again)[0]).ok());
  ASSERT_TRUE((*queue)->Delete(messages[1]).ok());
  auto empty = (*queue)->Receive(10, 0, 30);
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

TEST_F(SqsOnMoto, AMissingQueueOrABadUrlIsAClearError) {
  auto queue = OpenSqsQueue(
      moto_->endpoint() + "/123456789012/" + testing::UniqueBucketName("none"), Options());
  ASSERT_TRUE(queue.ok());
  auto got = (*queue)->Receive(1, 0, 30);
  EXPECT_EQ(got.status().code(), StatusCode::kNotFound) << got.status().ToString();
  EXPECT_EQ(got.status().message().find("testing"), std::string::npos) << "a credential shown";
  for (const char* bad : {"", "sqs://x/1/q", "https://host", "https:///1/q"}) {
    EXPECT_EQ(OpenSqsQueue(bad, Options()).status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

}  // namespace
}  // namespace lote::aws
