// S3Storage against a real S3 API (moto_server, started by the test on a loopback port), beyond
// the contract every storage meets (storage_test.cc): multipart uploads, streaming reads of an
// object replaced mid-read, ranges read ahead concurrently and bounded, the lock object and its
// takeover, a missing bucket, wrong credentials, server-side encryption headers, and retries
// through a fault-injecting proxy.
#include "lote/storage/s3_storage.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <utility>

#include "lote/aws/credentials.h"
#include "testing/fault_proxy.h"
#include "testing/moto_server.h"

namespace lote::storage {
namespace {

using lote::testing::FaultKind;
using lote::testing::FaultProxy;
using lote::testing::FaultProxyOptions;
using lote::testing::MotoServer;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kSecret[] = "s3cr3t-EXAMPLE-KEY-value-0123456789";
constexpr char kToken[] = "session-TOKEN-EXAMPLE-0123456789";

MotoServer* Moto() {
  auto moto = lote::testing::SharedMotoServer();
  EXPECT_TRUE(moto.ok()) << moto.status().ToString();
  return moto.ok() ? *moto : nullptr;
}

// Records every request's method, URL and headers on its way to the real client.
class RecordingHttp : public aws::HttpClient {
 public:
  explicit RecordingHttp(std::shared_ptr<aws::HttpClient> inner) : inner_(std::move(inner)) {}
  Result<aws::HttpResponse> Send(const aws::HttpRequest& r, const aws::BodySink& sink) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      seen_.push_back(r);
      seen_.back().body = {};
    }
    return inner_->Send(r, sink);
  }
  std::vector<aws::HttpRequest> seen() {
    std::lock_guard<std::mutex> lock(mu_);
    return seen_;
  }

 private:
  std::shared_ptr<aws::HttpClient> inner_;
  std::mutex mu_;
  std::vector<aws::HttpRequest> seen_;
};

// Holds every ranged GET (a streaming read's range) for `delay` before passing it on, as a
// distant S3 would, and counts how many are in flight at once and what If-Match they carry.
class SlowRangeGets : public aws::HttpClient {
 public:
  SlowRangeGets(std::shared_ptr<aws::HttpClient> inner, std::chrono::milliseconds delay)
      : inner_(std::move(inner)), delay_(delay) {}
  Result<aws::HttpResponse> Send(const aws::HttpRequest& r, const aws::BodySink& sink) override {
    if (r.method != "GET" || aws::FindHeader(r.headers, "range") == nullptr) {
      return inner_->Send(r, sink);
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      const std::string* if_match = aws::FindHeader(r.headers, "if-match");
      if_match_.push_back(if_match ? *if_match : "");
    }
    ++started_;
    const int now = ++in_flight_;
    int seen = max_in_flight_.load();
    while (now > seen && !max_in_flight_.compare_exchange_weak(seen, now)) {
    }
    std::this_thread::sleep_for(delay_);
    auto response = inner_->Send(r, sink);
    --in_flight_;
    return response;
  }
  int started() const { return started_; }
  int in_flight() const { return in_flight_; }
  int max_in_flight() const { return max_in_flight_; }
  std::vector<std::string> if_match() {
    std::lock_guard<std::mutex> lock(mu_);
    return if_match_;
  }

 private:
  std::shared_ptr<aws::HttpClient> inner_;
  std::chrono::milliseconds delay_;
  std::atomic<int> started_{0};
  std::atomic<int> in_flight_{0};
  std::atomic<int> max_in_flight_{0};
  std::mutex mu_;
  std::vector<std::string> if_match_;
};

class S3StorageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NE(Moto(), nullptr);
    bucket_ = lote::testing::UniqueBucketName("s3");
    ASSERT_TRUE(Moto()->CreateBucket(bucket_).ok());
  }
  S3StorageOptions Options(const std::string& endpoint = "") {
    S3StorageOptions o;
    o.endpoint = endpoint.empty() ? Moto()->endpoint() : endpoint;
    o.region = "us-east-1";
    o.part_bytes = 5 << 20;
    o.multipart_threshold_bytes = 6 << 20;
    o.read_part_bytes = 1 << 20;
    o.base_backoff_seconds = 0.01;
    o.max_backoff_seconds = 0.05;
    aws::Credentials c;
    c.access_key_id = "testing";
    c.secret_access_key = Secret(kSecret);
    c.session_token = Secret(kToken);
    o.credentials = aws::NewStaticCredentials(c);
    o.env = std::make_shared<const aws::AwsEnvironment>();
    return o;
  }
  std::shared_ptr<Storage> Open(S3StorageOptions o) {
    auto s = NewS3Storage(std::move(o));
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? *s : nullptr;
  }
  std::string U(std::string_view key) const { return "s3://" + bucket_ + "/" + std::string(key); }
  static std::string Pattern(size_t n) {
    std::string s(n, '\0');
    for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + i / 4096) % 26);
    return s;
  }
  static void ExpectNoSecrets(const Status& s) {
    EXPECT_THAT(s.message(), Not(HasSubstr(kSecret)));
    EXPECT_THAT(s.message(), Not(HasSubstr(kToken)));
    EXPECT_THAT(s.message(), Not(HasSubstr("Signature=")));
  }

  std::string bucket_;
};

TEST_F(S3StorageTest, LargeWritesGoUpInConcurrentPartsAndReadBackExactly) {
  auto recording = std::make_shared<RecordingHttp>(aws::NewCurlHttpClient());
  S3StorageOptions o = Options();
  o.http = recording;
  auto s3 = Open(o);
  const std::string data = Pattern((17 << 20) + 123);  // 4 parts: 5 + 5 + 5 + 2 MiB
  auto writer = s3->NewWriter(U("big/object.bin"));
  ASSERT_TRUE(writer.ok());
  for (size_t at = 0; at < data.size(); at += 1 << 20) {
    ASSERT_TRUE((*writer)->Append(std::string_view(data).substr(at, 1 << 20)).ok());
  }
  EXPECT_EQ(s3->Stat(U("big/object.bin")).status().code(), StatusCode::kNotFound)
      << "visible before Close";
  ASSERT_TRUE((*writer)->Close().ok());
  int parts = 0;
  for (const auto& r : recording->seen()) {
    if (r.url.find("partNumber=") != std::string::npos) {
      ++parts;
      EXPECT_NE(aws::FindHeader(r.headers, "x-amz-checksum-sha256"), nullptr);
    }
  }
  EXPECT_EQ(parts, 4);
  auto info = s3->Stat(U("big/object.bin"));
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->size, data.size());
  auto source = s3->OpenRead(U("big/object.bin"));
  ASSERT_TRUE(source.ok());
  std::string back;
  std::string buf(300000, '\0');
  while (true) {
    auto n = (*source)->Read(buf.data(), buf.size());
    ASSERT_TRUE(n.ok()) << n.status().ToString();
    if (*n == 0) break;
    back.append(buf.data(), *n);
  }
  EXPECT_TRUE(back == data);
  auto range = s3->ReadRange(U("big/object.bin"), (5 << 20) - 3, 6);
  ASSERT_TRUE(range.ok());
  EXPECT_EQ(*range, data.substr((5 << 20) - 3, 6));
}

TEST_F(S3StorageTest, AWriterDroppedBeforeCloseLeavesNothing) {
  auto s3 = Open(Options());
  {
    auto writer = s3->NewWriter(U("gone.bin"));
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE((*writer)->Append(Pattern(12 << 20)).ok());  // a multipart upload started
  }
  EXPECT_EQ(s3->Stat(U("gone.bin")).status().code(), StatusCode::kNotFound);
  auto uploads = Moto()->Request({"GET", "/" + bucket_ + "?uploads", {}, ""});
  ASSERT_TRUE(uploads.ok());
  EXPECT_THAT(uploads->body, Not(HasSubstr("<UploadId>"))) << "the upload was not aborted";
}

TEST_F(S3StorageTest, StreamsAMultiRangeObjectWithSeveralRangesInFlightAndBounded) {
  const std::string data = Pattern((9 << 20) + 123);  // 10 ranges of 1 MiB, the last one short
  ASSERT_TRUE(Open(Options())->Write(U("many.bin"), data).ok());
  for (int read_ahead : {1, 4, 16}) {
    SCOPED_TRACE("read_ahead_ranges " + std::to_string(read_ahead));
    auto slow =
        std::make_shared<SlowRangeGets>(aws::NewCurlHttpClient(), std::chrono::milliseconds(50));
    S3StorageOptions o = Options();
    o.http = slow;
    o.read_ahead_ranges = read_ahead;
    auto s3 = Open(o);
    auto info = s3->Stat(U("many.bin"));
    ASSERT_TRUE(info.ok());
    auto source = s3->OpenRead(U("many.bin"));
    ASSERT_TRUE(source.ok());
    std::string back;
    std::string buf(1 << 20, '\0');
    const size_t sizes[] = {1, 77777, 1 << 20, 333331, 3, (1 << 20) + 17};
    for (size_t i = 0;; ++i) {
      auto n = (*source)->Read(buf.data(), sizes[i % std::size(sizes)]);
      ASSERT_TRUE(n.ok()) << n.status().ToString();
      if (*n == 0) break;
      back.append(buf.data(), *n);
      // Never more requested than the range being consumed and read_ahead after it.
      const int consuming = static_cast<int>((back.size() - 1) >> 20);
      EXPECT_LE(slow->started(), consuming + 1 + read_ahead) << "at " << back.size();
    }
    EXPECT_TRUE(back == data) << back.size() << " bytes read back of " << data.size();
    EXPECT_EQ(slow->started(), 10);
    EXPECT_LE(slow->max_in_flight(), read_ahead);
    if (read_ahead > 1) {
      EXPECT_GT(slow->max_in_flight(), 1);
    }
    for (const std::string& etag : slow->if_match()) EXPECT_EQ(etag, info->etag);
  }
}

TEST_F(S3StorageTest, AnObjectReplacedWhileStreamingIsAnErrorNotAMix) {
  auto s3 = Open(Options());  // 1 MiB ranges, 4 read ahead
  const std::string before = Pattern(8 << 20);
  ASSERT_TRUE(s3->Write(U("feed.jsonl"), before).ok());
  auto source = s3->OpenRead(U("feed.jsonl"));
  ASSERT_TRUE(source.ok());
  std::string buf(1 << 20, '\0');
  auto first = (*source)->Read(buf.data(), buf.size());
  ASSERT_TRUE(first.ok());
  std::string back(buf.data(), *first);
  // Ranges 1-4 may have been read already; 5-7 have not been asked for.
  ASSERT_TRUE(s3->Write(U("feed.jsonl"), std::string(8 << 20, 'x')).ok());
  Status error;
  while (error.ok()) {
    auto n = (*source)->Read(buf.data(), 300007);
    if (!n.ok()) {
      error = n.status();
    } else if (*n == 0) {
      break;
    } else {
      back.append(buf.data(), *n);
    }
  }
  EXPECT_EQ(error.code(), StatusCode::kDataLoss);
  EXPECT_THAT(error.message(), HasSubstr("changed while it was being read"));
  EXPECT_LT(back.size(), before.size());
  EXPECT_TRUE(back == before.substr(0, back.size())) << "bytes of the new object were returned";
  // Errors are sticky.
  EXPECT_EQ((*source)->Read(buf.data(), buf.size()).status().code(), StatusCode::kDataLoss);
}

TEST_F(S3StorageTest, AStreamDroppedWithRangesInFlightWaitsForThem) {
  const std::string data = Pattern(9 << 20);
  ASSERT_TRUE(Open(Options())->Write(U("dropped.bin"), data).ok());
  auto slow =
      std::make_shared<SlowRangeGets>(aws::NewCurlHttpClient(), std::chrono::milliseconds(200));
  S3StorageOptions o = Options();
  o.http = slow;
  o.read_ahead_ranges = 4;
  auto s3 = Open(o);
  auto source = s3->OpenRead(U("dropped.bin"));
  ASSERT_TRUE(source.ok());
  std::string buf(1000, '\0');
  auto n = (*source)->Read(buf.data(), buf.size());
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  ASSERT_EQ(*n, buf.size());
  EXPECT_EQ(buf, data.substr(0, buf.size()));
  s3.reset();  // the source outlives its storage
  source->reset();
  // Range 0 and the 4 read ahead of it were all sent, and none is still running.
  EXPECT_EQ(slow->started(), 5);
  EXPECT_EQ(slow->in_flight(), 0);
}

TEST_F(S3StorageTest, ALockIsExclusiveAndAnExpiredOneIsTakenOver) {
  auto clock = std::make_shared<ManualClock>(1'700'000'000'000'000);
  S3StorageOptions o = Options();
  o.clock = clock;
  o.lock_ttl_seconds = 30;
  o.lock_renew_seconds = 10;
  auto s3 = Open(o);
  auto first = s3->TryLock(U("out/_lock"), "pid 1 on host-a");
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto second = s3->TryLock(U("out/_lock"), "pid 2 on host-b");
  ASSERT_EQ(second.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(second.status().message(), HasSubstr("pid 1 on host-a"));
  first->reset();  // released: the lock object is deleted
  // pid 3 took the lock and was killed: its lock object stays, as it wrote it (owner and expiry
  // in wall-clock microseconds), and nobody renews it. Once the expiry has passed, it is taken
  // over.
  const int64_t expires = clock->NowMicros() + 30'000'000;
  ASSERT_TRUE(s3->Write(U("out/_lock"), "{\"expires_at_micros\":" + std::to_string(expires) +
                                            ",\"owner\":\"pid 3 on host-c\"}\n")
                  .ok());
  auto refused = s3->TryLock(U("out/_lock"), "pid 4");
  EXPECT_EQ(refused.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(refused.status().message(), HasSubstr("pid 3 on host-c"));
  clock->Advance(31'000'000);
  auto fourth = s3->TryLock(U("out/_lock"), "pid 4 on host-d");
  ASSERT_TRUE(fourth.ok()) << fourth.status().ToString();
  EXPECT_THAT(*s3->Read(U("out/_lock")), HasSubstr("pid 4 on host-d"));
}

// Runs `before` once, ahead of the first request with method `method` (then passes it on).
class BeforeFirst : public aws::HttpClient {
 public:
  BeforeFirst(std::shared_ptr<aws::HttpClient> inner, std::string method,
              std::function<void()> before)
      : inner_(std::move(inner)), method_(std::move(method)), before_(std::move(before)) {}
  Result<aws::HttpResponse> Send(const aws::HttpRequest& r, const aws::BodySink& sink) override {
    if (r.method == method_ && before_) std::exchange(before_, nullptr)();
    return inner_->Send(r, sink);
  }

 private:
  std::shared_ptr<aws::HttpClient> inner_;
  std::string method_;
  std::function<void()> before_;
};

TEST_F(S3StorageTest, ALockReleasedWhileBeingCheckedIsTakenNotAnError) {
  auto plain = Open(Options());
  // The holder releases its lock between our failed create and our look at it: the look finds
  // nothing (404), which means "try again", not "error".
  ASSERT_TRUE(plain->Write(U("out/_lock"), "{\"expires_at_micros\":9999999999999999}\n").ok());
  S3StorageOptions o = Options();
  o.http = std::make_shared<BeforeFirst>(aws::NewCurlHttpClient(), "HEAD",
                                         [&] { ASSERT_TRUE(plain->Delete(U("out/_lock")).ok()); });
  auto s3 = Open(o);
  auto lock = s3->TryLock(U("out/_lock"), "pid 5");
  ASSERT_TRUE(lock.ok()) << lock.status().ToString();
  EXPECT_THAT(*plain->Read(U("out/_lock")), HasSubstr("pid 5"));
}

TEST_F(S3StorageTest, AHolderKnowsWhenItsLockIsLost) {
  // Renewals every 0.2 s (real time) of a 30 s lock whose expiry is judged by a manual clock.
  auto clock = std::make_shared<ManualClock>(1'700'000'000'000'000);
  S3StorageOptions o = Options();
  o.clock = clock;
  o.lock_ttl_seconds = 30;
  o.lock_renew_seconds = 0.2;
  auto s3 = Open(o);
  auto lock = s3->TryLock(U("lost/_lock"), "pid 1");
  ASSERT_TRUE(lock.ok()) << lock.status().ToString();
  EXPECT_TRUE((*lock)->Check().ok());
  // Another process takes it over (it had expired, say): the next renewal finds out.
  ASSERT_TRUE(s3->Write(U("lost/_lock"), "{\"owner\":\"pid 2\"}\n").ok());
  bool lost = false;
  for (int i = 0; i < 100 && !lost; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    lost = (*lock)->Check().code() == StatusCode::kAborted;
  }
  EXPECT_TRUE(lost);
  EXPECT_THAT((*lock)->Check().message(), HasSubstr("taken over"));
  lock->reset();
  EXPECT_THAT(*s3->Read(U("lost/_lock")), HasSubstr("pid 2")) << "not released: not ours";

  // Renewals that keep failing: once the expiry is less than a renewal interval away, the holder
  // must stop.
  o.lock_renew_seconds = 10;  // no renewal happens during the test
  auto slow = Open(o);
  auto held = slow->TryLock(U("expiring/_lock"), "pid 3");
  ASSERT_TRUE(held.ok());
  clock->Advance(19'000'000);
  EXPECT_TRUE((*held)->Check().ok());
  clock->Advance(2'000'000);  // 21 s: 9 s left, under one 10 s interval
  EXPECT_EQ((*held)->Check().code(), StatusCode::kAborted);
  EXPECT_THAT((*held)->Check().message(), HasSubstr("about to expire"));
}

TEST_F(S3StorageTest, RenamesAnObjectAboveTheCopyLimitWithUploadPartCopy) {
  // The limit is 5 GiB on S3; lowered here so that a 12 MiB object takes the multipart path.
  auto recording = std::make_shared<RecordingHttp>(aws::NewCurlHttpClient());
  S3StorageOptions o = Options();
  o.http = recording;
  o.copy_threshold_bytes = 6 << 20;
  o.copy_part_bytes = 5 << 20;
  auto s3 = Open(o);
  const std::string data = Pattern((12 << 20) + 77);
  ASSERT_TRUE(s3->Write(U("copy/staged.bin"), data).ok());
  ASSERT_TRUE(s3->Rename(U("copy/staged.bin"), U("copy/final.bin")).ok());
  EXPECT_EQ(*s3->Read(U("copy/final.bin")), data);
  EXPECT_EQ(s3->Stat(U("copy/staged.bin")).status().code(), StatusCode::kNotFound);
  int part_copies = 0;
  for (const auto& r : recording->seen()) {
    if (r.url.find("partNumber=") != std::string::npos &&
        aws::FindHeader(r.headers, "x-amz-copy-source-range") != nullptr) {
      ++part_copies;
    }
  }
  EXPECT_EQ(part_copies, 3) << "5 + 5 + 2 MiB";
  o.copy_part_bytes = 1 << 20;
  EXPECT_EQ(NewS3Storage(o).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(S3StorageTest, AMissingBucketIsNotFoundNamingIt) {
  auto s3 = Open(Options());
  auto listed = s3->List("s3://no-such-bucket-here/in/");
  EXPECT_EQ(listed.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(listed.status().message(), HasSubstr("no-such-bucket-here does not exist"));
  ExpectNoSecrets(listed.status());
  Status w = s3->Write("s3://no-such-bucket-here/x", "y");
  EXPECT_EQ(w.code(), StatusCode::kNotFound);
}

TEST_F(S3StorageTest, WrongCredentialsArePermissionDeniedAndNoMessageHoldsASecret) {
  lote::testing::MotoServerOptions mo;
  mo.env = {{"INITIAL_NO_AUTH_ACTION_COUNT", "0"}};  // moto checks every signature
  auto strict = MotoServer::Start(mo);
  ASSERT_TRUE(strict.ok()) << strict.status().ToString();
  auto s3 = Open(Options((*strict)->endpoint()));
  for (const Status& s :
       {s3->Read("s3://any-bucket/in/a.jsonl").status(), s3->Write("s3://any-bucket/out/b", "x"),
        s3->List("s3://any-bucket/in/").status()}) {
    EXPECT_EQ(s.code(), StatusCode::kPermissionDenied) << s.ToString();
    EXPECT_THAT(s.message(), HasSubstr("403"));
    EXPECT_THAT(s.message(), HasSubstr("s3://any-bucket/"));
    ExpectNoSecrets(s);
  }
}

TEST_F(S3StorageTest, EncryptionSettingsAreSentWithEveryWrite) {
  auto recording = std::make_shared<RecordingHttp>(aws::NewCurlHttpClient());
  S3StorageOptions o = Options();
  o.http = recording;
  o.sse = "AES256";
  auto s3 = Open(o);
  ASSERT_TRUE(s3->Write(U("enc/small"), "data").ok());
  ASSERT_TRUE(s3->Write(U("enc/large"), Pattern(7 << 20)).ok());
  ASSERT_TRUE(s3->Rename(U("enc/small"), U("enc/moved")).ok());
  int writes = 0;
  for (const auto& r : recording->seen()) {
    const bool starts_object =
        (r.method == "PUT" && r.url.find("partNumber=") == std::string::npos) ||
        (r.method == "POST" && r.url.find("?uploads") != std::string::npos);
    if (!starts_object) continue;
    ++writes;
    const std::string* sse = aws::FindHeader(r.headers, "x-amz-server-side-encryption");
    ASSERT_NE(sse, nullptr) << r.method << " " << r.url;
    EXPECT_EQ(*sse, "AES256");
  }
  EXPECT_EQ(writes, 3);  // the PUT, the multipart upload's creation, the copy
  EXPECT_FALSE(NewS3Storage([&] {
                 S3StorageOptions bad = Options();
                 bad.sse = "aws:kms-but-wrong";
                 return bad;
               }())
                   .ok());
}

TEST_F(S3StorageTest, RetriesThroughFaultsAndGivesUpBoundedWhenTheyPersist) {
  FaultProxyOptions po;
  po.upstream_port = Moto()->port();
  po.fault_rate = 0.3;
  po.seed = 7;
  po.stall_seconds = 0.2;
  auto proxy = FaultProxy::Start(po);
  ASSERT_TRUE(proxy.ok()) << proxy.status().ToString();
  S3StorageOptions o = Options((*proxy)->endpoint());
  o.max_attempts = 10;
  o.request_timeout_seconds = 5;
  auto s3 = Open(o);
  for (int i = 0; i < 20; ++i) {
    const std::string key = "retry/obj-" + std::to_string(i);
    ASSERT_TRUE(s3->Write(U(key), "value " + std::to_string(i)).ok()) << i;
    auto back = s3->Read(U(key));
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(*back, "value " + std::to_string(i));
  }
  auto listed = s3->List(U("retry/"));
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  EXPECT_EQ(listed->size(), 20u);
  EXPECT_GT((*proxy)->counters().faults(), 5u);

  (*proxy)->SetFaultRate(1.0);
  (*proxy)->SetFaultKinds({FaultKind::kSlowDown});
  o.max_attempts = 3;
  auto failing = Open(o);
  auto r = failing->Read(U("retry/obj-0"));
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(r.status().message(), HasSubstr("after 3 attempts"));
  EXPECT_THAT(r.status().message(), HasSubstr(bucket_ + "/retry/obj-0"));
  ExpectNoSecrets(r.status());
}

TEST_F(S3StorageTest, AConditionalCreateWhoseAnswerWasLostIsStillOurs) {
  FaultProxyOptions po;
  po.upstream_port = Moto()->port();
  auto proxy = FaultProxy::Start(po);
  ASSERT_TRUE(proxy.ok());
  auto s3 = Open(Options((*proxy)->endpoint()));
  // The PUT reaches S3 and creates the marker, then the connection drops: the retry is answered
  // 412 by our own marker.
  (*proxy)->FailNext(1, FaultKind::kResetAfterUpstream, "PUT", "/marker");
  EXPECT_TRUE(s3->CreateIfAbsent(U("marker"), "run-1").ok());
  EXPECT_EQ(s3->CreateIfAbsent(U("marker"), "run-2").code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(*s3->Read(U("marker")), "run-1");
  // The same for the lock object: the holder whose answer was lost holds it.
  (*proxy)->FailNext(1, FaultKind::kResetAfterUpstream, "PUT", "/_lock");
  auto lock = s3->TryLock(U("out/_lock"), "pid 9");
  ASSERT_TRUE(lock.ok()) << lock.status().ToString();
  EXPECT_EQ((*proxy)->PendingRuleFaults(), 0);
  EXPECT_EQ(s3->TryLock(U("out/_lock"), "pid 10").status().code(), StatusCode::kUnavailable);
}

TEST_F(S3StorageTest, RefusesContradictoryOptions) {
  S3StorageOptions o = Options();
  o.part_bytes = 1 << 20;
  EXPECT_EQ(NewS3Storage(o).status().code(), StatusCode::kInvalidArgument);
  o = Options();
  o.addressing = "sideways";
  EXPECT_EQ(NewS3Storage(o).status().code(), StatusCode::kInvalidArgument);
  o = Options();
  o.kms_key_id = "arn:aws:kms:us-east-1:123456789012:key/x";
  EXPECT_EQ(NewS3Storage(o).status().code(), StatusCode::kInvalidArgument);
  for (int read_ahead : {0, 17, -1}) {
    o = Options();
    o.read_ahead_ranges = read_ahead;
    EXPECT_EQ(NewS3Storage(o).status().code(), StatusCode::kInvalidArgument) << read_ahead;
  }
  for (int read_ahead : {1, 16}) {
    o = Options();
    o.read_ahead_ranges = read_ahead;
    EXPECT_TRUE(NewS3Storage(o).ok()) << read_ahead;
  }
}

}  // namespace
}  // namespace lote::storage
