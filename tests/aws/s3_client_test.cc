// S3Client against a scripted HTTP client: which answers are retried and which are final, how
// errors read (and that they never hold a credential or a signature), ListObjectsV2 paging and
// key decoding, and the ambiguous conditional write. The same client against a real S3 API
// (moto) is tested in tests/storage.
#include "aws/s3_client.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <deque>
#include <mutex>

#include "lote/aws/credentials.h"

namespace lote::aws {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kSecret[] = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
constexpr char kToken[] = "FwoGZXIvYXdzEXAMPLESESSIONTOKEN";

// Answers requests from a script, in order, and records them. A script entry with status 0 is a
// transport failure.
class ScriptedHttp : public HttpClient {
 public:
  void Answer(int status, std::string body = "", HttpHeaders headers = {}) {
    script_.push_back(HttpResponse{status, std::move(headers), std::move(body)});
  }
  Result<HttpResponse> Send(const HttpRequest& request, const BodySink&) override {
    std::lock_guard<std::mutex> lock(mu_);
    requests.push_back(request);
    requests.back().body = {};
    bodies.emplace_back(request.body);
    if (script_.empty()) return InternalError("script exhausted");
    HttpResponse r = std::move(script_.front());
    script_.pop_front();
    if (r.status == 0)
      return UnavailableError(request.method + " " + "http://x/: connection reset");
    return r;
  }
  std::vector<HttpRequest> requests;
  std::vector<std::string> bodies;

 private:
  std::mutex mu_;
  std::deque<HttpResponse> script_;
};

std::string ErrorXml(std::string_view code, std::string_view message) {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>" + std::string(code) +
         "</Code><Message>" + std::string(message) +
         "</Message><StringToSign>AWS4-HMAC-SHA256 secret-looking</StringToSign>"
         "<AWSAccessKeyId>AKIDEXAMPLE</AWSAccessKeyId><SignatureProvided>abcdef0123</"
         "SignatureProvided></Error>";
}

class S3ClientTest : public ::testing::Test {
 protected:
  S3Client Client(int max_attempts = 4) {
    S3ClientConfig c;
    c.endpoint = "http://127.0.0.1:9";
    c.path_style = true;
    c.http = http_;
    c.max_attempts = max_attempts;
    c.base_backoff_seconds = 0.001;
    c.max_backoff_seconds = 0.002;
    Credentials creds;
    creds.access_key_id = "AKIDEXAMPLE";
    creds.secret_access_key = Secret(kSecret);
    creds.session_token = Secret(kToken);
    c.credentials = NewStaticCredentials(creds);
    return S3Client(c);
  }
  void ExpectNoSecrets(const Status& s) {
    EXPECT_THAT(s.message(), Not(HasSubstr(kSecret)));
    EXPECT_THAT(s.message(), Not(HasSubstr(kToken)));
    EXPECT_THAT(s.message(), Not(HasSubstr("abcdef0123")));  // SignatureProvided
    EXPECT_THAT(s.message(), Not(HasSubstr("AKIDEXAMPLE")));
    EXPECT_THAT(s.message(), Not(HasSubstr("StringToSign")));
  }
  std::shared_ptr<ScriptedHttp> http_ = std::make_shared<ScriptedHttp>();
};

TEST_F(S3ClientTest, RetriesServerErrorsAndResetsThenSucceeds) {
  http_->Answer(503, ErrorXml("SlowDown", "Please reduce your request rate."));
  http_->Answer(0);
  http_->Answer(500, ErrorXml("InternalError", "We encountered an internal error."));
  http_->Answer(200, "hello");
  auto got = Client().GetObject("bucket", "a/b.txt");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, "hello");
  ASSERT_EQ(http_->requests.size(), 4u);
  EXPECT_EQ(http_->requests[0].url, "http://127.0.0.1:9/bucket/a/b.txt");
  // Each attempt is signed afresh, with the session token.
  for (const auto& r : http_->requests) {
    ASSERT_NE(FindHeader(r.headers, "authorization"), nullptr);
    ASSERT_NE(FindHeader(r.headers, "x-amz-security-token"), nullptr);
  }
}

TEST_F(S3ClientTest, GivesUpAfterMaxAttemptsNamingOperationBucketAndKey) {
  for (int i = 0; i < 3; ++i) http_->Answer(503, ErrorXml("SlowDown", "Please reduce."));
  auto got = Client(3).GetObject("bucket", "in/x.jsonl");
  ASSERT_EQ(got.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(got.status().message(), HasSubstr("GetObject s3://bucket/in/x.jsonl"));
  EXPECT_THAT(got.status().message(), HasSubstr("3 attempts"));
  EXPECT_THAT(got.status().message(), HasSubstr("503 SlowDown"));
  EXPECT_EQ(http_->requests.size(), 3u);
}

TEST_F(S3ClientTest, ForbiddenAndMissingAreFinalAndNeverShowSigningMaterial) {
  http_->Answer(403, ErrorXml("SignatureDoesNotMatch",
                              "The request signature we calculated "
                              "does not match the signature you provided."));
  auto denied = Client().GetObject("bucket", "k");
  EXPECT_EQ(denied.status().code(), StatusCode::kPermissionDenied);
  EXPECT_THAT(denied.status().message(), HasSubstr("403 SignatureDoesNotMatch"));
  ExpectNoSecrets(denied.status());
  EXPECT_EQ(http_->requests.size(), 1u);

  http_->Answer(404, ErrorXml("NoSuchBucket", "The specified bucket does not exist"));
  auto missing = Client().HeadObject("nobucket", "k");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(), HasSubstr("bucket nobucket does not exist"));
  http_->Answer(404);  // HEAD: no body
  EXPECT_EQ(Client().HeadObject("bucket", "k").status().code(), StatusCode::kNotFound);
}

TEST_F(S3ClientTest, AnErrorInsideA200CopyAnswerIsAnError) {
  http_->Answer(200, ErrorXml("InternalError", "copy failed"));
  http_->Answer(200, "<CopyObjectResult><ETag>\"e\"</ETag></CopyObjectResult>");
  EXPECT_TRUE(Client().CopyObject("b1", "src key", "b2", "dst").ok());
  ASSERT_EQ(http_->requests.size(), 2u);
  EXPECT_EQ(*FindHeader(http_->requests[0].headers, "x-amz-copy-source"), "/b1/src%20key");

  http_->Answer(200, ErrorXml("AccessDenied", "no"));
  EXPECT_FALSE(Client().CopyObject("b1", "k", "b2", "d").ok());
}

TEST_F(S3ClientTest, ListsPagesAndDecodesUrlEncodedKeys) {
  http_->Answer(200,
                "<ListBucketResult><IsTruncated>true</IsTruncated><EncodingType>url</EncodingType>"
                "<NextContinuationToken>tok/1=</NextContinuationToken>"
                "<Contents><Key>in/a+b%2Bc%C3%B1.jsonl</Key><Size>12</Size><ETag>\"x\"</ETag>"
                "<LastModified>2024-05-01T12:00:00.500Z</LastModified></Contents>"
                "</ListBucketResult>");
  auto page = Client().ListObjectsV2("bucket", "in/", "", "in/0");
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_EQ(page->objects.size(), 1u);
  EXPECT_EQ(page->objects[0].key, "in/a b+c\xC3\xB1.jsonl");
  EXPECT_EQ(page->objects[0].size, 12u);
  EXPECT_EQ(page->objects[0].mtime_ns, 1714564800500000000);
  EXPECT_EQ(page->next_continuation_token, "tok/1=");
  EXPECT_THAT(http_->requests[0].url, HasSubstr("prefix=in%2F"));
  EXPECT_THAT(http_->requests[0].url, HasSubstr("start-after=in%2F0"));

  http_->Answer(200, "<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>");
  EXPECT_EQ(Client().ListObjectsV2("bucket", "", "").status().code(), StatusCode::kDataLoss);
  http_->Answer(200, "<!DOCTYPE x [<!ENTITY a \"aaaa\">]><ListBucketResult/>");
  EXPECT_EQ(Client().ListObjectsV2("bucket", "", "").status().code(), StatusCode::kDataLoss);
}

TEST_F(S3ClientTest, ConditionalCreateReportsAnAmbiguousEarlierAttempt) {
  http_->Answer(0);  // the first PUT may have reached S3
  http_->Answer(412, ErrorXml("PreconditionFailed", "At least one of the preconditions failed"));
  bool ambiguous = false;
  S3PutOptions put;
  put.if_none_match = true;
  put.ambiguous = &ambiguous;
  auto r = Client().PutObject("bucket", "marker", "run-1", put);
  EXPECT_EQ(r.status().code(), StatusCode::kAlreadyExists);
  EXPECT_TRUE(ambiguous);
  EXPECT_EQ(*FindHeader(http_->requests[0].headers, "if-none-match"), "*");
  // The body's SHA-256 is sent for S3 to check, and signed.
  EXPECT_NE(FindHeader(http_->requests[0].headers, "x-amz-checksum-sha256"), nullptr);
  EXPECT_EQ(*FindHeader(http_->requests[0].headers, "x-amz-content-sha256"),
            "4e65d3fbe8ad6535681b021b30785b12b6c0e3f8878859a4148b3f58b8835db0")
      << "(the hex SHA-256 of \"run-1\")";
}

TEST_F(S3ClientTest, DeleteObjectsReportsKeysItCouldNotDelete) {
  http_->Answer(200,
                "<DeleteResult><Error><Key>a</Key><Code>AccessDenied</Code><Message>no</Message>"
                "</Error></DeleteResult>");
  Status s = Client().DeleteObjects("bucket", {"a", "b<&>"});
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_THAT(s.message(), HasSubstr("s3://bucket/a"));
  EXPECT_THAT(http_->bodies[0], HasSubstr("<Key>b&lt;&amp;&gt;</Key>"));
  EXPECT_EQ(Client().DeleteObjects("bucket", std::vector<std::string>(1001, "k")).code(),
            StatusCode::kInvalidArgument);
}

TEST(S3UriTest, ParsesBucketAndKeyAndRefusesBadBuckets) {
  auto loc = ParseS3Uri("s3://my-bucket.data/raw/2024/a.jsonl");
  ASSERT_TRUE(loc.ok());
  EXPECT_EQ(loc->bucket, "my-bucket.data");
  EXPECT_EQ(loc->key, "raw/2024/a.jsonl");
  EXPECT_EQ(ParseS3Uri("s3://bkt/")->key, "");
  EXPECT_FALSE(ParseS3Uri("s3://Bad_Bucket/x").ok());
  EXPECT_FALSE(ParseS3Uri("s3://ab/x").ok());
  EXPECT_FALSE(ParseS3Uri("file:///x").ok());
}

}  // namespace
}  // namespace lote::aws
