#include "lote/aws/lambda_runtime.h"

#include <gtest/gtest.h>

#include <deque>
#include <nlohmann/json.hpp>

namespace lote::aws {
namespace {

// Answers the runtime client's requests from a script, in order, and keeps them.
class RuntimeApiScript : public HttpClient {
 public:
  void Answer(int status, std::string body = "", HttpHeaders headers = {}) {
    script_.push_back(HttpResponse{status, std::move(headers), std::move(body)});
  }
  void Fail(Status s) { failures_.push_back(std::move(s)); }
  Result<HttpResponse> Send(const HttpRequest& request, const BodySink&) override {
    requests.push_back(request);
    requests.back().body = {};
    bodies.emplace_back(request.body);
    if (!failures_.empty()) {
      Status s = failures_.front();
      failures_.pop_front();
      return s;
    }
    if (script_.empty()) return InternalError("script exhausted");
    HttpResponse r = std::move(script_.front());
    script_.pop_front();
    return r;
  }
  std::vector<HttpRequest> requests;
  std::vector<std::string> bodies;

 private:
  std::deque<HttpResponse> script_;
  std::deque<Status> failures_;
};

HttpHeaders InvocationHeaders(const std::string& id) {
  return {{"lambda-runtime-aws-request-id", id},
          {"lambda-runtime-deadline-ms", "1764950400123"},
          {"lambda-runtime-invoked-function-arn",
           "arn:aws:lambda:us-east-1:123456789012:function:lote-publish"},
          {"lambda-runtime-trace-id", "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Sampled=1"}};
}

class LambdaRuntimeTest : public ::testing::Test {
 protected:
  std::unique_ptr<LambdaRuntimeClient> Client(uint64_t max_bytes = 6 << 20) {
    auto c = LambdaRuntimeClient::Create({.api = "127.0.0.1:9001",
                                          .max_event_bytes = max_bytes,
                                          .max_response_bytes = max_bytes,
                                          .http = http_});
    EXPECT_TRUE(c.ok()) << c.status().message();
    return std::move(c).value();
  }
  std::shared_ptr<RuntimeApiScript> http_ = std::make_shared<RuntimeApiScript>();
};

TEST_F(LambdaRuntimeTest, TheApiAddressMustBeHostAndPortOnly) {
  for (const char* api : {"127.0.0.1:9001", "localhost:8080", "[::1]:9001", "lambda-api.local:1"}) {
    EXPECT_TRUE(LambdaRuntimeClient::Create({.api = api, .http = http_}).ok()) << api;
  }
  for (const char* api : {"", "127.0.0.1", "http://127.0.0.1:9001", "h:0", "h:65536", "h:80/x",
                          "user@h:80", "h:80?q", ":80", "h:", "[::1:80", "h :80", "h:8a"}) {
    auto c = LambdaRuntimeClient::Create({.api = api, .http = http_});
    ASSERT_FALSE(c.ok()) << api;
    EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(c.status().message().find("HOST:PORT"), std::string::npos);
  }
}

TEST_F(LambdaRuntimeTest, NextWaitsForAnEventAndReadsItsHeaders) {
  http_->Answer(200, R"({"output": "s3://b/out"})", InvocationHeaders("8476a536-e9f4-11e8-9739"));
  auto inv = Client()->Next();
  ASSERT_TRUE(inv.ok()) << inv.status().message();
  EXPECT_EQ(inv->request_id, "8476a536-e9f4-11e8-9739");
  EXPECT_EQ(inv->deadline_ms, 1764950400123);
  EXPECT_EQ(inv->function_arn, "arn:aws:lambda:us-east-1:123456789012:function:lote-publish");
  EXPECT_EQ(inv->trace_id, "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Sampled=1");
  EXPECT_EQ(inv->event, R"({"output": "s3://b/out"})");
  const HttpRequest& r = http_->requests.at(0);
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.url, "http://127.0.0.1:9001/2018-06-01/runtime/invocation/next");
  // Held open by the service until an event comes: no timeout, no stall detection.
  EXPECT_EQ(r.timeout_seconds, 0);
  EXPECT_EQ(r.low_speed_bytes, 0u);
  EXPECT_EQ(r.max_body_bytes, 6u << 20);
}

TEST_F(LambdaRuntimeTest, ARequestIdThatWouldLeaveItsPathSegmentIsRefused) {
  for (const char* id : {"", "../../runtime/init", "a/b", "a b", "..", "id\r\nX-Injected: 1"}) {
    http_->Answer(200, "{}", InvocationHeaders(id));
    auto inv = Client()->Next();
    ASSERT_FALSE(inv.ok()) << id;
    EXPECT_EQ(inv.status().code(), StatusCode::kInvalidArgument);
  }
  LambdaInvocation forged;
  forged.request_id = "../init";
  EXPECT_FALSE(Client()->Respond(forged, "{}").ok());
  EXPECT_FALSE(Client()->ReportError(forged, {"T", "m"}).ok());
  EXPECT_EQ(http_->requests.size(), 6u);  // nothing was posted for the forged id
}

TEST_F(LambdaRuntimeTest, AnApiThatFailsOrAnswersOtherThan200IsUnavailable) {
  http_->Answer(500, R"({"errorType": "ServiceException"})");
  auto inv = Client()->Next();
  EXPECT_EQ(inv.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(inv.status().message().find("HTTP 500"), std::string::npos);
  http_->Fail(UnavailableError("GET http://127.0.0.1:9001/...: connection refused"));
  EXPECT_EQ(Client()->Next().status().code(), StatusCode::kUnavailable);
  http_->Fail(ResourceExhaustedError("body over the cap"));
  inv = Client(1024)->Next();
  EXPECT_EQ(inv.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(inv.status().message().find("1024 bytes"), std::string::npos);
}

TEST_F(LambdaRuntimeTest, RespondPostsTheResultAndErrorsCarryTheirType) {
  LambdaInvocation inv;
  inv.request_id = "req-1";
  http_->Answer(202);
  ASSERT_TRUE(Client()->Respond(inv, R"({"runId": "r1"})").ok());
  EXPECT_EQ(http_->requests[0].method, "POST");
  EXPECT_EQ(http_->requests[0].url,
            "http://127.0.0.1:9001/2018-06-01/runtime/invocation/req-1/response");
  EXPECT_EQ(http_->bodies[0], R"({"runId": "r1"})");

  http_->Answer(202);
  ASSERT_TRUE(Client()->ReportError(inv, {"Lote.Unavailable\r\nX: y", "the lock is held"}).ok());
  EXPECT_EQ(http_->requests[1].url,
            "http://127.0.0.1:9001/2018-06-01/runtime/invocation/req-1/error");
  // The header stays one token; the body keeps the type as it is (JSON-escaped).
  EXPECT_EQ(*FindHeader(http_->requests[1].headers, "Lambda-Runtime-Function-Error-Type"),
            "Lote.Unavailable__X__y");
  auto body = nlohmann::json::parse(http_->bodies[1]);
  EXPECT_EQ(body["errorType"], "Lote.Unavailable\r\nX: y");
  EXPECT_EQ(body["errorMessage"], "the lock is held");
  EXPECT_TRUE(body["stackTrace"].is_array());

  http_->Answer(202);
  ASSERT_TRUE(Client()->ReportInitError({"Lote.InvalidArgument", "bad config"}).ok());
  EXPECT_EQ(http_->requests[2].url, "http://127.0.0.1:9001/2018-06-01/runtime/init/error");

  // Anything but 202 means the environment is to be left.
  http_->Answer(400, R"({"errorType": "InvalidRequestID"})");
  Status s = Client()->Respond(inv, "{}");
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_NE(s.message().find("HTTP 400"), std::string::npos);
}

TEST_F(LambdaRuntimeTest, AResponseOverTheLimitIsReportedAsLambdaWouldReportIt) {
  LambdaInvocation inv;
  inv.request_id = "req-2";
  http_->Answer(202);
  Status s = Client(100)->Respond(inv, std::string(101, 'x'));
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
  ASSERT_EQ(http_->requests.size(), 1u);
  EXPECT_EQ(http_->requests[0].url,
            "http://127.0.0.1:9001/2018-06-01/runtime/invocation/req-2/error");
  auto body = nlohmann::json::parse(http_->bodies[0]);
  EXPECT_EQ(body["errorType"], "Function.ResponseSizeTooLarge");
  EXPECT_EQ(http_->bodies[0].find("xxx"), std::string::npos);  // nothing of the response itself
}

TEST(LambdaErrorJson, InvalidUtf8InAMessageIsReplacedNotThrown) {
  auto body = nlohmann::json::parse(LambdaErrorJson({"Lote.DataLoss", "bad \xff byte"}));
  EXPECT_EQ(body["errorMessage"], "bad \xEF\xBF\xBD byte");
}

}  // namespace
}  // namespace lote::aws
