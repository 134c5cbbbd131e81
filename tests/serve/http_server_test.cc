// HttpServer over real loopback sockets: framing, limits, back-pressure, timeouts and drain.
#include "lote/serve/http_server.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "testing/http_wire.h"

namespace lote::serve {
namespace {

using lote::testing::HttpCall;
using lote::testing::HttpConnection;

// A gate the "slow" route waits on, so tests hold requests in flight as long as they need.
struct Gate {
  std::mutex mu;
  std::condition_variable cv;
  bool open = false;
  int waiting = 0;
  void Open() {
    std::lock_guard<std::mutex> l(mu);
    open = true;
    cv.notify_all();
  }
  void Pass() {
    std::unique_lock<std::mutex> l(mu);
    ++waiting;
    cv.notify_all();
    cv.wait(l, [this] { return open; });
  }
  void AwaitWaiting(int n) {
    std::unique_lock<std::mutex> l(mu);
    cv.wait(l, [&] { return waiting >= n; });
  }
};

class HttpServerTest : public ::testing::Test {
 protected:
  void Start(HttpServerOptions o = {}) {
    o.port = 0;
    std::vector<HttpRoute> routes;
    routes.push_back({"GET", "/hello", [](const HttpRequest&) {
                        HttpResponse r;
                        r.content_type = "text/plain";
                        r.body = "hi";
                        return r;
                      }});
    routes.push_back({"POST", "/echo",
                      [](const HttpRequest& q) {
                        HttpResponse r;
                        r.content_type = "application/octet-stream";
                        r.body = std::string(q.content_type) + "|" + std::string(q.body);
                        return r;
                      },
                      true});
    routes.push_back({"POST", "/slow",
                      [this](const HttpRequest&) {
                        gate_.Pass();
                        HttpResponse r;
                        r.body = "{\"done\":true}";
                        return r;
                      },
                      true});
    routes.push_back({"GET", "/throw", [](const HttpRequest&) -> HttpResponse {
                        throw std::runtime_error("boom");
                      }});
    routes.push_back({"GET", "/big", [](const HttpRequest&) {
                        HttpResponse r;
                        r.body.assign(8 << 20, 'x');
                        return r;
                      }});
    metrics_ = std::make_shared<InMemoryMetrics>();
    auto s = HttpServer::Start(o, std::move(routes), metrics_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    server_ = std::move(*s);
  }
  void TearDown() override {
    gate_.Open();
    if (server_) {
      server_->Shutdown();
      server_->Wait();
    }
  }
  std::unique_ptr<HttpConnection> Connect() {
    auto c = HttpConnection::Open(server_->port(), 10);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? std::move(*c) : nullptr;
  }
  // Raw bytes in, everything the server sends until it closes.
  std::string RawExchange(const std::string& bytes, double timeout = 10) {
    auto fd = lote::testing::ConnectToLoopback(server_->port(), 5);
    EXPECT_TRUE(fd.ok());
    EXPECT_TRUE(lote::testing::SendAll(*fd, bytes, 5).ok());
    ::shutdown(*fd, SHUT_WR);  // all sent: a truncated request ends here, as a client leaving
    lote::testing::SocketReader reader(*fd, timeout);
    auto all = reader.ReadUntilClose();
    ::close(*fd);
    return all.ok() ? *all : "ERROR: " + all.status().ToString();
  }

  Gate gate_;
  std::shared_ptr<InMemoryMetrics> metrics_;
  std::unique_ptr<HttpServer> server_;
};

TEST_F(HttpServerTest, ServesRoutesOverOneKeptAliveConnection) {
  Start();
  auto c = Connect();
  for (int i = 0; i < 3; ++i) {
    auto r = c->RoundTrip({"GET", "/hello", {}, ""});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "hi");
    EXPECT_FALSE(r->server_closed);
  }
  auto r = c->RoundTrip({"POST", "/echo?x=1", {{"Content-Type", "text/csv"}}, "a,b\n"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->body, "text/csv|a,b\n");
  EXPECT_EQ(metrics_->Get("lote_http_requests_total{path=\"/hello\",code=\"200\"}").value, 3);
  EXPECT_EQ(metrics_->Get("lote_http_requests_total{path=\"/echo\",code=\"200\"}").value, 1);
}

TEST_F(HttpServerTest, AnswersUnknownPathsAndMethodsWithJsonErrors) {
  Start();
  auto c = Connect();
  auto r = c->RoundTrip({"GET", "/nope/secret-customer-id", {}, ""});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(r->body, "{\"error\":\"no such path\"}\n");
  r = c->RoundTrip({"DELETE", "/hello", {}, ""});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 405);
  // The client's target never becomes a label.
  for (const auto& k : metrics_->Keys()) EXPECT_EQ(k.find("secret"), std::string::npos) << k;
  EXPECT_EQ(metrics_->Get("lote_http_requests_total{path=\"other\",code=\"404\"}").value, 1);
}

TEST_F(HttpServerTest, ARouteThatThrowsIsA500AndTheServerGoesOn) {
  Start();
  auto c = Connect();
  auto r = c->RoundTrip({"GET", "/throw", {}, ""});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 500);
  EXPECT_EQ(r->body, "{\"error\":\"internal error\"}\n");
  r = c->RoundTrip({"GET", "/hello", {}, ""});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200);
}

TEST_F(HttpServerTest, RefusesABodyOverTheLimitFromItsContentLengthWith413) {
  HttpServerOptions o;
  o.max_body_bytes = 1000;
  Start(o);
  std::string out = RawExchange(
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 50000000\r\n"
      "\r\n");
  EXPECT_EQ(out.rfind("HTTP/1.1 413 ", 0), 0u) << out;
  EXPECT_NE(out.find("{\"error\":\"request body over 1000 bytes"), std::string::npos) << out;
  // A chunked body is cut when it passes the limit.
  auto c = Connect();
  std::string chunk(600, 'a');
  std::string chunked = "258\r\n" + chunk + "\r\n258\r\n" + chunk + "\r\n0\r\n\r\n";
  auto r = c->RoundTrip({"POST", "/echo", {{"Transfer-Encoding", "chunked"}}, chunked});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 413);
  EXPECT_TRUE(r->server_closed);
  // A client that sends its whole oversized body before reading still gets the 413: the server
  // drops the rest of the body instead of resetting the connection.
  for (int i = 0; i < 5; ++i) {
    c = Connect();
    r = c->RoundTrip({"POST", "/echo", {{"Content-Type", "t"}}, std::string(4 << 20, 'z')});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->status, 413);
  }
  // A body at the limit is served.
  c = Connect();
  r = c->RoundTrip({"POST", "/echo", {{"Content-Type", "t"}}, std::string(998, 'b')});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body.size(), 1000u);
}

TEST_F(HttpServerTest, AnswersMalformedRequestsWith400AndOversizedHeadsWith431) {
  Start();
  std::string out = RawExchange("GARBAGE\r\n\r\n");
  EXPECT_EQ(out.rfind("HTTP/1.1 400 ", 0), 0u) << out;
  EXPECT_NE(out.find("{\"error\":\"malformed HTTP request"), std::string::npos);
  out = RawExchange("GET /hello HTTP/1.1\r\nHost: x\r\nX-Pad: " + std::string(20000, 'p') +
                    "\r\n\r\n");
  EXPECT_EQ(out.rfind("HTTP/1.1 431 ", 0), 0u) << out;
  out = RawExchange("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 12abc\r\n\r\n");
  EXPECT_EQ(out.rfind("HTTP/1.1 400 ", 0), 0u) << out;
  // A truncated body followed by a close: no answer, no crash; the server still serves.
  RawExchange("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nshort");
  auto c = Connect();
  auto r = c->RoundTrip({"GET", "/hello", {}, ""});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200);
}

TEST_F(HttpServerTest, SendsContinueBeforeABodyWhenAsked) {
  Start();
  auto c = Connect();
  auto r = c->RoundTrip({"POST", "/echo", {{"Expect", "100-continue"}}, "payload"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "|payload");
}

TEST_F(HttpServerTest, Answers503PastTheInFlightLimitAndServesPingMeanwhile) {
  HttpServerOptions o;
  o.worker_threads = 1;
  o.max_inflight = 2;
  Start(o);
  std::vector<std::thread> clients;
  std::atomic<int> ok{0};
  for (int i = 0; i < 2; ++i) {
    clients.emplace_back([&] {
      auto c = HttpConnection::Open(server_->port(), 30);
      if (!c.ok()) return;
      auto r = (*c)->RoundTrip({"POST", "/slow", {}, "x"});
      if (r.ok() && r->status == 200) ++ok;
    });
  }
  gate_.AwaitWaiting(1);  // one runs, one is queued behind it
  // Give the second request time to be read and queued.
  for (int i = 0; i < 200 && metrics_->Get("lote_http_inflight_requests").value < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  auto c = Connect();
  auto r = c->RoundTrip({"POST", "/slow", {}, "x"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 503);
  EXPECT_NE(r->body.find("server busy"), std::string::npos);
  // Cheap routes run on the network thread: answered while the only worker is held.
  r = c->RoundTrip({"GET", "/hello", {}, ""});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200);
  gate_.Open();
  for (auto& t : clients) t.join();
  EXPECT_EQ(ok, 2);
}

TEST_F(HttpServerTest, RefusesConnectionsPastTheLimit) {
  HttpServerOptions o;
  o.max_connections = 2;
  Start(o);
  auto a = Connect();
  auto b = Connect();
  ASSERT_TRUE(a->RoundTrip({"GET", "/hello", {}, ""}).ok());
  ASSERT_TRUE(b->RoundTrip({"GET", "/hello", {}, ""}).ok());
  std::string out = RawExchange("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(out.rfind("HTTP/1.1 503 ", 0), 0u) << out;
  a.reset();
  // Once one closes, a new connection is served.
  bool served = false;
  for (int i = 0; i < 100 && !served; ++i) {
    auto c = HttpConnection::Open(server_->port(), 5);
    if (c.ok()) {
      auto r = (*c)->RoundTrip({"GET", "/hello", {}, ""});
      served = r.ok() && r->status == 200;
    }
    if (!served) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(served);
}

TEST_F(HttpServerTest, ClosesASlowClientAfterTheRequestTimeout) {
  HttpServerOptions o;
  o.request_timeout_seconds = 0.3;
  Start(o);
  auto fd = lote::testing::ConnectToLoopback(server_->port(), 5);
  ASSERT_TRUE(fd.ok());
  // Half a head, then silence: the server closes the connection without an answer.
  ASSERT_TRUE(lote::testing::SendAll(*fd, "GET /hello HTTP/1.1\r\nHo", 5).ok());
  lote::testing::SocketReader reader(*fd, 5);
  auto all = reader.ReadUntilClose();
  ::close(*fd);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_EQ(*all, "");
}

TEST_F(HttpServerTest, SurvivesAClientThatLeavesMidResponse) {
  Start();
  for (int i = 0; i < 5; ++i) {
    auto fd = lote::testing::ConnectToLoopback(server_->port(), 5);
    ASSERT_TRUE(fd.ok());
    ASSERT_TRUE(lote::testing::SendAll(*fd, "GET /big HTTP/1.1\r\nHost: x\r\n\r\n", 5).ok());
    char buf[100];
    ASSERT_GT(::read(*fd, buf, sizeof buf), 0);
    ::close(*fd);  // 8 MiB still to come
  }
  auto c = Connect();
  auto r = c->RoundTrip({"GET", "/hello", {}, ""});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200);
}

TEST_F(HttpServerTest, ServesTenThousandTinyRequests) {
  HttpServerOptions o;
  o.worker_threads = 2;
  Start(o);
  std::vector<std::thread> clients;
  std::atomic<int> ok{0};
  for (int t = 0; t < 4; ++t) {
    clients.emplace_back([&] {
      auto c = HttpConnection::Open(server_->port(), 30);
      if (!c.ok()) return;
      for (int i = 0; i < 2500; ++i) {
        auto r = (*c)->RoundTrip({"POST", "/echo", {}, "x"});
        if (r.ok() && r->status == 200) ++ok;
      }
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(ok, 10000);
  EXPECT_EQ(metrics_->Get("lote_http_requests_total{path=\"/echo\",code=\"200\"}").value, 10000);
}

TEST_F(HttpServerTest, ShutdownFinishesInFlightRequestsAndClosesIdleConnections) {
  Start();
  auto idle = Connect();
  ASSERT_TRUE(idle->RoundTrip({"GET", "/hello", {}, ""}).ok());
  std::atomic<int> status{0};
  std::atomic<bool> closed{false};
  std::thread client([&] {
    auto c = HttpConnection::Open(server_->port(), 30);
    if (!c.ok()) return;
    auto r = (*c)->RoundTrip({"POST", "/slow", {}, "x"});
    if (r.ok()) {
      status = r->status;
      closed = r->server_closed;
    }
  });
  gate_.AwaitWaiting(1);
  server_->Shutdown();
  // New connections are refused once the listener is closed.
  bool refused = false;
  for (int i = 0; i < 100 && !refused; ++i) {
    auto c = HttpConnection::Open(server_->port(), 1);
    refused = !c.ok() || !(*c)->RoundTrip({"GET", "/hello", {}, ""}).ok();
    if (!refused) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(refused);
  gate_.Open();
  client.join();
  server_->Wait();
  EXPECT_EQ(status, 200);
  EXPECT_TRUE(closed);  // Connection: close on the drained answer
  // The idle keep-alive connection was closed by the server.
  auto r = idle->RoundTrip({"GET", "/hello", {}, ""});
  EXPECT_FALSE(r.ok());
  server_.reset();
}

TEST(HttpServer, ReportsAnAddressInUse) {
  HttpServerOptions any;
  any.port = 0;
  auto first = HttpServer::Start(any, {}, nullptr);
  ASSERT_TRUE(first.ok());
  HttpServerOptions o;
  o.port = (*first)->port();
  auto second = HttpServer::Start(o, {}, nullptr);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(second.status().message().find("cannot listen on 127.0.0.1:"), std::string::npos);
  any.host = "not-an-ip";
  auto bad = HttpServer::Start(any, {}, nullptr);
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  (*first)->Shutdown();
}

}  // namespace
}  // namespace lote::serve
