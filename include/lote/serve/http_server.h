// HttpServer: the HTTP/1.1 listener under `lote serve` (Boost.Beast on Asio, ADR 0013). It owns
// sockets, framing, limits and shutdown; what a request means is the routes' business.
//
// Threads: `io_threads` run the network (accept, read, write; never a route's work) and
// `worker_threads` run the routes marked `offload` (inference), so /ping and /metrics answer
// while every worker is busy. Everything is bounded:
//   - connections: past max_connections a new connection gets 503 and is closed;
//   - a request's head (max_header_bytes: 431) and body (max_body_bytes: 413, decided from
//     Content-Length before the body is read);
//   - in-flight offloaded requests (queued or running): past max_inflight, 503 at once;
//   - time: a request must arrive whole within request_timeout_seconds of the connection
//     becoming idle (slow or silent clients are closed), a response must be taken within
//     write_timeout_seconds.
// Malformed HTTP gets 400 and the connection is closed. Every error body is JSON
// ({"error": ...}). Keep-alive follows HTTP/1.1 (and Connection: keep-alive on 1.0).
//
// Shutdown() drains: it stops accepting, closes idle connections, lets requests already read
// finish and their responses be written (with Connection: close), then stops the threads; past
// drain_timeout_seconds the rest are cut. Routes never throw (a route that does is answered 500).
// Thread-safety: Start, Shutdown and Wait from one thread; routes run on many.
#ifndef LOTE_SERVE_HTTP_SERVER_H_
#define LOTE_SERVE_HTTP_SERVER_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "lote/base/metrics.h"
#include "lote/base/status.h"
#include "lote/serve/http.h"

namespace lote::serve {

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;  // 0: the kernel picks (see HttpServer::port)
  int io_threads = 1;
  int worker_threads = 1;
  size_t max_connections = 256;
  size_t max_inflight = 16;
  size_t max_header_bytes = size_t{16} << 10;
  size_t max_body_bytes = size_t{6} << 20;
  double request_timeout_seconds = 60;
  double write_timeout_seconds = 60;
  double drain_timeout_seconds = 60;
  // Header fields sent with every response, errors included (the dashboard's security headers).
  std::vector<std::pair<std::string, std::string>> response_headers;
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

struct HttpRoute {
  std::string method;  // "GET", "POST"
  std::string path;    // exact match, e.g. "/invocations"
  HttpHandler handler;
  bool offload = false;  // run on a worker thread, counted against max_inflight
};

class HttpServer {
 public:
  // Binds and starts serving. InvalidArgument for bad options, Unavailable when the address
  // cannot be bound (in use, not local). `metrics` (may be null) receives
  // lote_http_requests_total{path,code}, lote_http_request_seconds{path} and
  // lote_http_inflight_requests; path is a route's path or "other", never the client's target.
  static Result<std::unique_ptr<HttpServer>> Start(HttpServerOptions options,
                                                   std::vector<HttpRoute> routes,
                                                   std::shared_ptr<MetricsSink> metrics);
  ~HttpServer();  // Shutdown() and Wait()

  int port() const;  // the bound port

  // Begins a drain (see above); returns at once. Safe to call more than once and from any
  // thread except a route's.
  void Shutdown();
  // Blocks until the server has stopped (after Shutdown and the drain).
  void Wait();

  class Impl;

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// What the server answers to `bytes` received on a fresh connection, without sockets: the same
// parser, limits, route matching and error mapping as a Session (the first request only).
// Bytes that end before a whole request are answered with a 400 "incomplete request". For the
// fuzz target (tests/fuzz/serve_request_fuzz.cc) and tests.
HttpResponse AnswerRawRequest(std::string_view bytes, const HttpServerOptions& options,
                              const std::vector<HttpRoute>& routes);

}  // namespace lote::serve

#endif  // LOTE_SERVE_HTTP_SERVER_H_
