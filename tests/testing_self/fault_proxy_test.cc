// The fault-injecting proxy, between a plain socket client and the shared moto_server.
#include "testing/fault_proxy.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "testing/http_wire.h"
#include "testing/moto_server.h"

namespace lote::testing {
namespace {

const char kAuthorization[] =
    "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/s3/aws4_request, "
    "SignedHeaders=host, Signature=0";

// What an S3 client sends (moto needs the Authorization header and, with a body, Content-Type).
HttpCall S3Call(std::string method, std::string target, std::string body = "") {
  HttpCall call;
  call.method = std::move(method);
  call.target = std::move(target);
  call.body = std::move(body);
  call.headers = {{"Authorization", kAuthorization},
                  {"x-amz-content-sha256", "UNSIGNED-PAYLOAD"},
                  {"Content-Type", "application/octet-stream"}};
  return call;
}

// Every byte value, in an order that shifts with the position.
std::string Pattern(size_t n) {
  std::string out(n, '\0');
  for (size_t i = 0; i < n; ++i) out[i] = static_cast<char>((i * 7 + i / 256) & 0xff);
  return out;
}

// Headers that differ between two answers to the same request (time, request ids) or that
// describe the connection (the proxy keeps its client connection alive, moto closes).
bool VariesPerAnswer(const std::string& name) {
  std::string lower;
  for (char c : name)
    lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  return lower == "date" || lower == "x-amzn-requestid" || lower == "x-amz-request-id" ||
         lower == "x-amz-id-2" || lower == "connection";
}

// An S3 error body names the request; the rest of it must be identical.
std::string WithoutRequestId(std::string body) {
  const size_t begin = body.find("<RequestId>");
  const size_t end = body.find("</RequestId>");
  if (begin != std::string::npos && end != std::string::npos && end > begin) {
    body.erase(begin + 11, end - begin - 11);
  }
  return body;
}

HttpHeaderList StableHeaders(const HttpHeaderList& headers) {
  HttpHeaderList out;
  for (const auto& h : headers) {
    if (!VariesPerAnswer(h.first)) out.push_back(h);
  }
  return out;
}

class FaultProxyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto moto = SharedMotoServer();
    ASSERT_TRUE(moto.ok()) << moto.status().ToString();
    moto_ = *moto;
    bucket_ = UniqueBucketName("proxy");
    ASSERT_TRUE(moto_->CreateBucket(bucket_).ok());
  }

  std::unique_ptr<FaultProxy> StartProxy(FaultProxyOptions options = {}) {
    options.upstream_port = moto_->port();
    auto proxy = FaultProxy::Start(options);
    EXPECT_TRUE(proxy.ok()) << proxy.status().ToString();
    return proxy.ok() ? std::move(*proxy) : nullptr;
  }

  std::string Key(std::string_view name) const { return "/" + bucket_ + "/" + std::string(name); }

  // Straight to moto, around the proxy.
  Result<HttpReply> Direct(HttpCall call) const { return moto_->Request(std::move(call)); }

  MotoServer* moto_ = nullptr;
  std::string bucket_;
};

TEST_F(FaultProxyTest, WithoutFaultsRelaysMotosAnswersByteForByte) {
  auto proxy = StartProxy();
  ASSERT_TRUE(proxy);
  const std::string data = Pattern(3 << 20);
  auto put = HttpRoundTrip(proxy->port(), S3Call("PUT", Key("obj"), data));
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  EXPECT_EQ(put->status, 200);

  for (const HttpCall& call :
       {S3Call("GET", Key("obj")), S3Call("HEAD", Key("obj")),
        S3Call("GET", "/" + bucket_ + "?list-type=2&prefix=o"), S3Call("GET", Key("missing"))}) {
    auto via_proxy = HttpRoundTrip(proxy->port(), call);
    auto direct = HttpRoundTrip(moto_->port(), call);
    ASSERT_TRUE(via_proxy.ok()) << call.method << " " << call.target << ": "
                                << via_proxy.status().ToString();
    ASSERT_TRUE(direct.ok());
    EXPECT_EQ(via_proxy->status, direct->status) << call.target;
    EXPECT_EQ(WithoutRequestId(via_proxy->raw_body), WithoutRequestId(direct->raw_body))
        << call.target;
    EXPECT_EQ(StableHeaders(via_proxy->headers), StableHeaders(direct->headers)) << call.target;
  }
  auto got = HttpRoundTrip(proxy->port(), S3Call("GET", Key("obj")));
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(got->body == data);
  const FaultCounters c = proxy->counters();
  EXPECT_EQ(c.requests, 6u);
  EXPECT_EQ(c.forwarded, 6u);
  EXPECT_EQ(c.faults(), 0u);
}

TEST_F(FaultProxyTest, KeepsTheClientConnectionAliveThoughMotoClosesEachOne) {
  auto proxy = StartProxy();
  ASSERT_TRUE(proxy);
  auto direct = HttpConnection::Open(moto_->port());
  ASSERT_TRUE(direct.ok());
  auto once = (*direct)->RoundTrip(S3Call("PUT", Key("ka"), "v1"));
  ASSERT_TRUE(once.ok());
  EXPECT_TRUE(once->server_closed) << "moto keeps connections alive now: simplify the proxy";

  auto connection = HttpConnection::Open(proxy->port());
  ASSERT_TRUE(connection.ok());
  for (int i = 0; i < 3; ++i) {
    auto put = (*connection)->RoundTrip(S3Call("PUT", Key("ka"), "v" + std::to_string(i)));
    ASSERT_TRUE(put.ok()) << put.status().ToString();
    EXPECT_EQ(put->status, 200);
    EXPECT_FALSE(put->server_closed);
    auto get = (*connection)->RoundTrip(S3Call("GET", Key("ka")));
    ASSERT_TRUE(get.ok()) << get.status().ToString();
    EXPECT_EQ(get->body, "v" + std::to_string(i));
  }
  HttpCall last = S3Call("GET", Key("ka"));
  last.headers.emplace_back("Connection", "close");
  auto closing = (*connection)->RoundTrip(last);
  ASSERT_TRUE(closing.ok());
  EXPECT_TRUE(closing->server_closed);
  EXPECT_EQ(proxy->counters().requests, 7u);
}

TEST_F(FaultProxyTest, ForwardsChunkedBodiesAndAnswersExpectContinue) {
  auto proxy = StartProxy();
  ASSERT_TRUE(proxy);
  HttpCall chunked = S3Call("PUT", Key("chunked"));
  chunked.headers.emplace_back("Transfer-Encoding", "chunked");
  // (No chunk extension: werkzeug, under moto, rejects "7;ext=1".)
  chunked.body = "5\r\nhello\r\n7\r\n, world\r\n0\r\n\r\n";
  auto put = HttpRoundTrip(proxy->port(), chunked);
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  EXPECT_EQ(put->status, 200);
  EXPECT_EQ(Direct(S3Call("GET", Key("chunked")))->body, "hello, world");

  const std::string data = Pattern(200000);
  HttpCall expecting = S3Call("PUT", Key("expect"), data);
  expecting.headers.emplace_back("Expect", "100-continue");
  auto connection = HttpConnection::Open(proxy->port());
  ASSERT_TRUE(connection.ok());
  auto continued = (*connection)->RoundTrip(expecting);
  ASSERT_TRUE(continued.ok()) << continued.status().ToString();
  EXPECT_EQ(continued->status, 200);
  EXPECT_FALSE(continued->server_closed);
  EXPECT_TRUE(Direct(S3Call("GET", Key("expect")))->body == data);

  // A fault instead of "100 Continue": the body is never sent and the connection ends.
  proxy->FailNext(1, FaultKind::kSlowDown, "PUT");
  auto refused = (*connection)->RoundTrip(S3Call("PUT", Key("expect"), "x"));
  ASSERT_TRUE(refused.ok());  // the call had no Expect header: sanity check of the rule
  EXPECT_EQ(refused->status, 503);
  proxy->FailNext(1, FaultKind::kSlowDown, "PUT");
  auto before_body = HttpRoundTrip(proxy->port(), expecting);
  ASSERT_TRUE(before_body.ok()) << before_body.status().ToString();
  EXPECT_EQ(before_body->status, 503);
  EXPECT_TRUE(before_body->server_closed);
  EXPECT_TRUE(Direct(S3Call("GET", Key("expect")))->body == data) << "the PUT went through";
}

TEST_F(FaultProxyTest, AtFullRateEveryAnswerIsSlowDownAndNothingReachesMoto) {
  FaultProxyOptions options;
  options.fault_rate = 1;
  options.fault_kinds = {FaultKind::kSlowDown};
  auto proxy = StartProxy(options);
  ASSERT_TRUE(proxy);
  auto connection = HttpConnection::Open(proxy->port());
  ASSERT_TRUE(connection.ok());
  for (int i = 0; i < 20; ++i) {
    const char* method = i % 3 == 0 ? "PUT" : i % 3 == 1 ? "GET" : "HEAD";
    auto reply = (*connection)->RoundTrip(S3Call(method, Key("never"), i % 3 == 0 ? "x" : ""));
    ASSERT_TRUE(reply.ok()) << reply.status().ToString();
    EXPECT_EQ(reply->status, 503);
    EXPECT_FALSE(reply->server_closed);
    if (std::string(method) == "HEAD") {
      EXPECT_EQ(reply->body, "");
    } else {
      EXPECT_NE(reply->body.find("<Code>SlowDown</Code>"), std::string::npos) << reply->body;
      EXPECT_EQ(*reply->Find("Content-Type"), "application/xml");
    }
  }
  const FaultCounters c = proxy->counters();
  EXPECT_EQ(c.requests, 20u);
  EXPECT_EQ(c.slow_down, 20u);
  EXPECT_EQ(c.of(FaultKind::kSlowDown), 20u);
  EXPECT_EQ(c.forwarded, 0u);
  EXPECT_EQ(Direct(S3Call("GET", Key("never")))->status, 404);
}

TEST_F(FaultProxyTest, FailNextMatchesMethodAndTargetAndIsConsumedInOrder) {
  auto proxy = StartProxy();
  ASSERT_TRUE(proxy);
  ASSERT_EQ(Direct(S3Call("PUT", Key("x"), "x"))->status, 200);
  proxy->FailNext(2, FaultKind::kInternalError, "GET", "/x");
  proxy->FailNext(1, FaultKind::kSlowDown, "", "/x");
  EXPECT_EQ(proxy->PendingRuleFaults(), 3);
  const int port = proxy->port();
  EXPECT_EQ(HttpRoundTrip(port, S3Call("GET", Key("y")))->status, 404);   // other target
  EXPECT_EQ(HttpRoundTrip(port, S3Call("HEAD", Key("x")))->status, 503);  // rule 2: any method
  auto first = HttpRoundTrip(port, S3Call("GET", Key("x")));
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->status, 500);
  EXPECT_NE(first->body.find("<Code>InternalError</Code>"), std::string::npos);
  EXPECT_EQ(HttpRoundTrip(port, S3Call("GET", Key("x")))->status, 500);
  EXPECT_EQ(proxy->PendingRuleFaults(), 0);
  auto after = HttpRoundTrip(port, S3Call("GET", Key("x")));
  EXPECT_EQ(after->status, 200);
  EXPECT_EQ(after->body, "x");
  const FaultCounters c = proxy->counters();
  EXPECT_EQ(c.internal_error, 2u);
  EXPECT_EQ(c.slow_down, 1u);
  EXPECT_EQ(c.forwarded, 2u);
  proxy->FailNext(5, FaultKind::kSlowDown);
  proxy->ClearRules();
  EXPECT_EQ(HttpRoundTrip(port, S3Call("GET", Key("x")))->status, 200);
}

TEST_F(FaultProxyTest, ResetLosesTheRequestResetAfterUpstreamOnlyTheAnswer) {
  auto proxy = StartProxy();
  ASSERT_TRUE(proxy);
  proxy->FailNext(1, FaultKind::kReset, "PUT");
  auto lost = HttpRoundTrip(proxy->port(), S3Call("PUT", Key("r1"), "v"));
  ASSERT_FALSE(lost.ok());
  EXPECT_EQ(lost.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(Direct(S3Call("GET", Key("r1")))->status, 404) << "a reset request reached moto";

  proxy->FailNext(1, FaultKind::kResetAfterUpstream, "PUT");
  auto answer_lost = HttpRoundTrip(proxy->port(), S3Call("PUT", Key("r2"), "applied"));
  ASSERT_FALSE(answer_lost.ok());
  EXPECT_EQ(answer_lost.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(Direct(S3Call("GET", Key("r2")))->body, "applied");
  const FaultCounters c = proxy->counters();
  EXPECT_EQ(c.reset, 1u);
  EXPECT_EQ(c.reset_after_upstream, 1u);
  EXPECT_EQ(c.forwarded, 1u);
}

TEST_F(FaultProxyTest, TruncatedAnswerAnnouncesItsLengthAndSendsHalf) {
  auto proxy = StartProxy();
  ASSERT_TRUE(proxy);
  const std::string data = Pattern(1000);
  ASSERT_EQ(Direct(S3Call("PUT", Key("t"), data))->status, 200);

  proxy->FailNext(1, FaultKind::kTruncate, "GET");
  auto cut = HttpRoundTrip(proxy->port(), S3Call("GET", Key("t")));
  ASSERT_FALSE(cut.ok());
  EXPECT_NE(cut.status().message().find("closed after 500 of 1000"), std::string::npos)
      << cut.status().ToString();

  // The same on the wire: the whole head with Content-Length: 1000, then 500 bytes, then EOF.
  proxy->FailNext(1, FaultKind::kTruncate, "GET");
  auto fd = ConnectToLoopback(proxy->port(), 10);
  ASSERT_TRUE(fd.ok());
  ASSERT_TRUE(SendAll(*fd,
                      "GET " + Key("t") +
                          " HTTP/1.1\r\nHost: x\r\nAuthorization: " + kAuthorization + "\r\n\r\n",
                      10)
                  .ok());
  SocketReader reader(*fd, 10);
  auto raw = reader.ReadUntilClose();
  ::close(*fd);
  ASSERT_TRUE(raw.ok()) << raw.status().ToString();
  const size_t head_end = raw->find("\r\n\r\n");
  ASSERT_NE(head_end, std::string::npos);
  EXPECT_NE(raw->substr(0, head_end).find("Content-Length: 1000"), std::string::npos) << *raw;
  EXPECT_EQ(raw->substr(head_end + 4), data.substr(0, 500));

  // An answer without a body (a PUT's) is cut inside its head.
  proxy->FailNext(1, FaultKind::kTruncate, "PUT");
  auto put = HttpRoundTrip(proxy->port(), S3Call("PUT", Key("t2"), "v"));
  ASSERT_FALSE(put.ok());
  EXPECT_NE(put.status().message().find("middle of an HTTP head"), std::string::npos)
      << put.status().ToString();
  EXPECT_EQ(Direct(S3Call("GET", Key("t2")))->body, "v") << "the PUT itself was applied";
  EXPECT_EQ(proxy->counters().truncate, 3u);
}

TEST_F(FaultProxyTest, StallHoldsTheAnswerAndAClientTimeoutFires) {
  FaultProxyOptions options;
  options.stall_seconds = 0.5;
  auto proxy = StartProxy(options);
  ASSERT_TRUE(proxy);
  ASSERT_EQ(Direct(S3Call("PUT", Key("s"), "slow"))->status, 200);
  proxy->FailNext(1, FaultKind::kStall, "GET");
  const auto began = std::chrono::steady_clock::now();
  auto held = HttpRoundTrip(proxy->port(), S3Call("GET", Key("s")));
  const double waited =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
  ASSERT_TRUE(held.ok()) << held.status().ToString();
  EXPECT_EQ(held->body, "slow");
  EXPECT_GE(waited, 0.5);  // a lower bound: the answer cannot come before the stall ends
  EXPECT_EQ(proxy->counters().stall, 1u);

  // A stall longer than the client waits; destroying the proxy interrupts it.
  proxy.reset();
  options.stall_seconds = 600;
  proxy = StartProxy(options);
  ASSERT_TRUE(proxy);
  proxy->FailNext(1, FaultKind::kStall);
  auto timed_out = HttpRoundTrip(proxy->port(), S3Call("GET", Key("s")), /*timeout_seconds=*/0.3);
  ASSERT_FALSE(timed_out.ok());
  EXPECT_NE(timed_out.status().message().find("timed out"), std::string::npos);
  proxy.reset();  // must return now, not in 600 s
}

TEST_F(FaultProxyTest, RandomFaultsAreReproducibleFromTheSeed) {
  ASSERT_EQ(Direct(S3Call("PUT", Key("r"), "v"))->status, 200);
  FaultProxyOptions options;
  options.fault_rate = 0.3;
  options.seed = 42;
  options.fault_kinds = {FaultKind::kInternalError, FaultKind::kSlowDown};
  auto pattern_of = [&](FaultProxy* proxy) {
    std::string statuses;
    auto connection = HttpConnection::Open(proxy->port());
    EXPECT_TRUE(connection.ok());
    for (int i = 0; i < 60 && connection.ok(); ++i) {
      auto reply = (*connection)->RoundTrip(S3Call("GET", Key("r")));
      EXPECT_TRUE(reply.ok());
      statuses += reply.ok() ? std::to_string(reply->status / 100) : "x";
    }
    return statuses;
  };
  auto a = StartProxy(options);
  auto b = StartProxy(options);
  ASSERT_TRUE(a && b);
  const std::string first = pattern_of(a.get());
  EXPECT_EQ(first, pattern_of(b.get()));
  const FaultCounters c = a->counters();
  EXPECT_EQ(c.requests, 60u);
  EXPECT_GT(c.internal_error, 0u);
  EXPECT_GT(c.slow_down, 0u);
  EXPECT_EQ(c.faults() + c.forwarded, 60u);
  EXPECT_EQ(static_cast<size_t>(std::count(first.begin(), first.end(), '5')), c.faults());
  // About 30 % (binomial: 18 expected, sd 3.5); the seed makes it exact, the bounds say why.
  EXPECT_GT(c.faults(), 5u);
  EXPECT_LT(c.faults(), 35u);

  options.seed = 43;
  auto other = StartProxy(options);
  ASSERT_TRUE(other);
  EXPECT_NE(first, pattern_of(other.get()));
}

TEST_F(FaultProxyTest, ServesConcurrentClients) {
  auto proxy = StartProxy();
  ASSERT_TRUE(proxy);
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&, t] {
      auto connection = HttpConnection::Open(proxy->port());
      if (!connection.ok()) return;
      for (int i = 0; i < 5; ++i) {
        // append(), not operator+: GCC 12 warns falsely (-Wrestrict) on a literal + std::string.
        std::string name = "c";
        name.append(std::to_string(t)).append("-").append(std::to_string(i));
        const std::string key = Key(name);
        const std::string value = Pattern(1000 + 37 * t + i);
        auto put = (*connection)->RoundTrip(S3Call("PUT", key, value));
        auto get = (*connection)->RoundTrip(S3Call("GET", key));
        if (put.ok() && put->status == 200 && get.ok() && get->body == value) ++ok;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 30);
  EXPECT_EQ(proxy->counters().forwarded, 60u);
}

TEST(HttpWire, DecodesChunkedBodiesWithExtensionsAndTrailers) {
  auto decoded = DecodeChunked("5;name=v\r\nhello\r\nA\r\n, world!!!\r\n0\r\nX-T: 1\r\n\r\n");
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(*decoded, "hello, world!!!");
  EXPECT_FALSE(DecodeChunked("5\r\nhel").ok());
  EXPECT_FALSE(DecodeChunked("zz\r\n").ok());
}

TEST(FaultProxy, RefusesOptionsWithoutAnUpstreamOrWithABadRate) {
  EXPECT_EQ(FaultProxy::Start({}).status().code(), StatusCode::kInvalidArgument);
  FaultProxyOptions options;
  options.upstream_port = 1;
  options.fault_rate = 1.5;
  EXPECT_EQ(FaultProxy::Start(options).status().code(), StatusCode::kInvalidArgument);
}

TEST(FaultProxy, AnUnreachableUpstreamIsA502) {
  auto port = PickFreeLoopbackPort();  // nothing listens there
  ASSERT_TRUE(port.ok());
  FaultProxyOptions options;
  options.upstream_port = *port;
  auto proxy = FaultProxy::Start(options);
  ASSERT_TRUE(proxy.ok());
  auto reply = HttpRoundTrip((*proxy)->port(), S3Call("GET", "/b/k"));
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ(reply->status, 502);
  EXPECT_EQ((*proxy)->counters().forwarded, 0u);
}

}  // namespace
}  // namespace lote::testing
