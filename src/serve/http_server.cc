// Boost.Beast under HttpServer (ADR 0013). One Session per connection, its handlers serialized on
// a strand; routes marked offload run on a thread pool and post their response back.
#include "lote/serve/http_server.h"

#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>
#include <unordered_set>

namespace lote::serve {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using SteadyClock = std::chrono::steady_clock;

std::chrono::steady_clock::duration Seconds(double s) {
  return std::chrono::duration_cast<SteadyClock::duration>(std::chrono::duration<double>(s));
}

// A response for a connection refused before any request was read (too many connections).
constexpr std::string_view kBusyResponse =
    "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
    "Content-Length: 46\r\nConnection: close\r\n\r\n"
    "{\"error\":\"too many connections, retry later\"}\n";
static_assert(kBusyResponse.size() - kBusyResponse.find("\r\n\r\n") - 4 == 46);

// How long a connection the server ends keeps reading (and dropping) what the client still
// sends, as nginx's lingering close does.
constexpr double kLingerSeconds = 5;

// ASCII case-insensitive equality. Not beast::iequals: Boost 1.74's reads one byte past the end
// of its arguments when they differ only in the case of their last character (found by
// serve_request_fuzz under ASan with the method "POSt").
bool EqualsIgnoringCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

std::string_view View(beast::string_view s) { return std::string_view(s.data(), s.size()); }

// The answer to a read that failed, or nullopt when the connection is just closed (end of
// stream, timeout, reset, cancelled by Shutdown).
std::optional<HttpResponse> ReadErrorResponse(beast::error_code ec,
                                              const HttpServerOptions& options) {
  if (ec == http::error::body_limit) {
    return ErrorResponse(413, "request body over " + std::to_string(options.max_body_bytes) +
                                  " bytes (the server's payload limit)");
  }
  if (ec == http::error::header_limit) {
    return ErrorResponse(
        431, "request head over " + std::to_string(options.max_header_bytes) + " bytes");
  }
  if (ec.category() == http::make_error_code(http::error::bad_target).category() &&
      ec != http::error::end_of_stream && ec != http::error::partial_message) {
    return ErrorResponse(400, "malformed HTTP request: " + ec.message());
  }
  return std::nullopt;
}

// The route for `method` and `path`, or nullptr with *error set to the 404 or 405 answer.
const HttpRoute* MatchRoute(const std::vector<HttpRoute>& routes, beast::string_view method,
                            std::string_view path, HttpResponse* error) {
  const HttpRoute* path_match = nullptr;
  for (const HttpRoute& r : routes) {
    if (r.path != path) continue;
    path_match = &r;
    if (r.method == View(method)) return &r;  // methods are case-sensitive (RFC 9110 9.1)
  }
  *error = path_match != nullptr
               ? ErrorResponse(405, "method not allowed; use " + path_match->method)
               : ErrorResponse(404, "no such path");
  return nullptr;
}

// The route's answer; a route that throws is a 500 (handlers should not; this is the net).
HttpResponse InvokeRoute(const HttpRoute& route, const http::request<http::string_body>& request,
                         std::string_view path) {
  HttpRequest r;
  r.method = View(request.method_string());
  r.path = path;
  r.content_type = View(request[http::field::content_type]);
  r.accept = View(request[http::field::accept]);
  r.authorization = View(request[http::field::authorization]);
  r.cookie = View(request[http::field::cookie]);
  const std::string_view target = View(request.target());
  if (size_t q = target.find('?'); q != std::string_view::npos) r.query = target.substr(q + 1);
  r.body = request.body();
  try {
    return route.handler(r);
  } catch (const std::exception&) {
    return ErrorResponse(500, "internal error");
  }
}

std::string_view PathOf(beast::string_view target) {
  std::string_view t = View(target);
  return t.substr(0, t.find('?'));
}

}  // namespace

HttpResponse AnswerRawRequest(std::string_view bytes, const HttpServerOptions& options,
                              const std::vector<HttpRoute>& routes) {
  http::request_parser<http::string_body> parser;
  parser.header_limit(static_cast<std::uint32_t>(options.max_header_bytes));
  parser.body_limit(options.max_body_bytes);
  parser.eager(true);
  beast::error_code ec;
  net::const_buffer buffer(bytes.data(), bytes.size());
  while (!ec && buffer.size() > 0 && !parser.is_done()) {
    size_t n = parser.put(buffer, ec);
    if (ec == http::error::need_more) break;
    if (n == 0 && !ec) break;
    buffer += n;
  }
  if (!parser.got_some()) return ErrorResponse(400, "incomplete request");
  if (!parser.is_done() && !ec) {
    // The connection ends here: what was sent is all there is.
    parser.put_eof(ec);
  }
  if (ec && ec != http::error::need_more) {
    if (auto r = ReadErrorResponse(ec, options)) return *r;
    return ErrorResponse(400, "incomplete request");
  }
  if (!parser.is_done()) return ErrorResponse(400, "incomplete request");
  http::request<http::string_body> request = parser.release();
  std::string_view path = PathOf(request.target());
  HttpResponse error;
  const HttpRoute* route = MatchRoute(routes, request.method_string(), path, &error);
  if (route == nullptr) return error;
  return InvokeRoute(*route, request, path);
}

class Session;

class HttpServer::Impl {
 public:
  Impl(HttpServerOptions o, std::vector<HttpRoute> r, std::shared_ptr<MetricsSink> m)
      : options(std::move(o)),
        routes(std::move(r)),
        metrics(std::move(m)),
        acceptor(ioc),
        workers(static_cast<size_t>(options.worker_threads)) {}

  ~Impl() {
    RequestShutdown();
    WaitStopped();
  }

  Status Listen();
  void Accept();
  void RequestShutdown();
  void WaitStopped();
  void SessionOpened(Session* s) {
    std::lock_guard<std::mutex> lock(mu);
    sessions.insert(s);
  }
  void SessionClosed(Session* s) {
    std::lock_guard<std::mutex> lock(mu);
    sessions.erase(s);
    if (sessions.empty()) cv.notify_all();
  }
  void ReportInflight(size_t n) {
    if (metrics) metrics->Gauge("lote_http_inflight_requests", {}, static_cast<double>(n));
  }

  const HttpServerOptions options;
  const std::vector<HttpRoute> routes;
  const std::shared_ptr<MetricsSink> metrics;
  std::atomic<bool> stopping{false};
  std::atomic<size_t> inflight{0};
  std::mutex mu;
  std::condition_variable cv;
  std::unordered_set<Session*> sessions;  // guarded by mu
  bool shutdown_requested = false;        // guarded by mu
  bool stopped = false;                   // guarded by mu
  int port = 0;
  net::io_context ioc;
  // Keeps ioc.run() going while a request is on a worker and no socket operation is pending;
  // WaitStopped ends it with ioc.stop().
  net::executor_work_guard<net::io_context::executor_type> keep_running{ioc.get_executor()};
  tcp::acceptor acceptor;
  net::thread_pool workers;
  std::vector<std::thread> io_threads;
};

namespace {

// Where a request stands; Shutdown closes connections that are reading (no request of theirs is
// being handled yet) and lets the others write their response first.
enum class Phase { kReading, kHandling, kWriting };

}  // namespace

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket&& socket, HttpServer::Impl* server)
      : stream_(std::move(socket)), server_(server) {
    server_->SessionOpened(this);
  }
  ~Session() { server_->SessionClosed(this); }

  void Start() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->ReadHead(); });
  }

  // From Shutdown, on any thread.
  void CloseIfReading() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] {
      if (self->phase_ == Phase::kReading) self->Close();
    });
  }

 private:
  const HttpServerOptions& options() const { return server_->options; }

  void ReadHead() {
    if (server_->stopping) return Close();
    phase_ = Phase::kReading;
    route_ = nullptr;
    path_label_ = "other";
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(options().max_header_bytes));
    parser_->body_limit(options().max_body_bytes);
    stream_.expires_after(Seconds(options().request_timeout_seconds));
    http::async_read_header(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnHead(ec); });
  }

  void OnHead(beast::error_code ec) {
    started_ = SteadyClock::now();
    const auto& req = parser_->get();
    if (parser_->is_header_done()) {
      path_ = std::string(PathOf(req.target()));
      for (const HttpRoute& r : server_->routes) {
        if (r.path == path_) path_label_ = r.path;
      }
    }
    if (ec) return OnReadError(ec);
    auto expect = req[http::field::expect];
    if (EqualsIgnoringCase(View(expect), "100-continue")) {
      // curl and others wait for this before sending a large body.
      continue_.emplace(http::status::continue_, req.version());
      http::async_write(stream_, *continue_,
                        [self = shared_from_this()](beast::error_code wec, size_t) {
                          if (wec) return self->Close();
                          self->ReadBody();
                        });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    if (parser_->is_done()) return OnBody({});
    http::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnBody(ec); });
  }

  void OnReadError(beast::error_code ec) {
    if (auto r = ReadErrorResponse(ec, options())) return Respond(std::move(*r), false);
    Close();  // end of stream, timeout, reset, or cancelled by Shutdown
  }

  void OnBody(beast::error_code ec) {
    if (ec) return OnReadError(ec);
    request_ = parser_->release();
    parser_.reset();
    keep_alive_ = request_.keep_alive();
    HttpResponse error;
    route_ = MatchRoute(server_->routes, request_.method_string(), path_, &error);
    if (route_ == nullptr) return Respond(std::move(error), true);
    phase_ = Phase::kHandling;
    if (!route_->offload) return Respond(Invoke(), true);
    size_t n = server_->inflight.fetch_add(1) + 1;
    if (n > options().max_inflight) {
      server_->inflight.fetch_sub(1);
      return Respond(ErrorResponse(503, "server busy: " + std::to_string(options().max_inflight) +
                                            " requests in flight, retry later"),
                     true);
    }
    server_->ReportInflight(n);
    net::post(server_->workers, [self = shared_from_this()] {
      HttpResponse r = self->Invoke();
      net::post(self->stream_.get_executor(), [self, r = std::move(r)]() mutable {
        self->server_->ReportInflight(self->server_->inflight.fetch_sub(1) - 1);
        self->Respond(std::move(r), true);
      });
    });
  }

  HttpResponse Invoke() { return InvokeRoute(*route_, request_, path_); }

  void Respond(HttpResponse r, bool keep_alive) {
    phase_ = Phase::kWriting;
    if (server_->metrics) {
      std::string code = std::to_string(r.status);
      MetricLabel labels[] = {{"path", path_label_}, {"code", code}};
      server_->metrics->Count("lote_http_requests_total", labels, 1);
      MetricLabel path_only[] = {{"path", path_label_}};
      server_->metrics->Observe(
          "lote_http_request_seconds", path_only,
          std::chrono::duration<double>(SteadyClock::now() - started_).count());
    }
    response_ = {};
    response_.version(request_.version() == 10 ? 10 : 11);
    response_.result(static_cast<unsigned>(r.status));
    response_.set(http::field::server, "lote");
    response_.set(http::field::content_type, r.content_type);
    for (const auto& [name, value] : options().response_headers) response_.set(name, value);
    for (const auto& [name, value] : r.headers) response_.insert(name, value);
    response_.body() = std::move(r.body);
    response_.keep_alive(keep_alive && keep_alive_ && !server_->stopping);
    response_.prepare_payload();
    request_ = {};
    stream_.expires_after(Seconds(options().write_timeout_seconds));
    http::async_write(stream_, response_,
                      [self = shared_from_this()](beast::error_code ec, size_t) {
                        if (ec) return self->Close();
                        if (!self->response_.keep_alive()) return self->LingeringClose();
                        self->response_ = {};
                        self->ReadHead();
                      });
  }

  // After an answer that ends the connection: stop sending, then read and drop what the client
  // still sends (the rest of a refused body) until it closes or kLingerSeconds pass. Closing with
  // unread bytes makes the kernel send a reset, and the client's kernel then drops the answer
  // (a 413) before the client has read it.
  void LingeringClose() {
    phase_ = Phase::kReading;
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.expires_after(Seconds(kLingerSeconds));
    DropInput();
  }
  void DropInput() {
    buffer_.clear();
    stream_.async_read_some(buffer_.prepare(4096),
                            [self = shared_from_this()](beast::error_code ec, size_t) {
                              if (ec) return self->Close();
                              self->DropInput();
                            });
  }

  void Close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.close();
  }

  beast::tcp_stream stream_;
  HttpServer::Impl* server_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http::response<http::empty_body>> continue_;
  http::request<http::string_body> request_;
  http::response<http::string_body> response_;
  const HttpRoute* route_ = nullptr;
  std::string path_;
  std::string path_label_ = "other";
  bool keep_alive_ = true;
  Phase phase_ = Phase::kReading;
  SteadyClock::time_point started_ = SteadyClock::now();
};

Status HttpServer::Impl::Listen() {
  beast::error_code ec;
  auto address = net::ip::make_address(options.host, ec);
  if (ec) return InvalidArgumentError("--host: '" + options.host + "' is not an IP address");
  tcp::endpoint endpoint(address, static_cast<unsigned short>(options.port));
  std::string where = options.host + ":" + std::to_string(options.port);
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) return UnavailableError("cannot listen on " + where + ": " + ec.message());
  port = acceptor.local_endpoint().port();
  return Status::Ok();
}

void HttpServer::Impl::Accept() {
  acceptor.async_accept(net::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted || !acceptor.is_open()) return;
    if (!ec) {
      size_t open;
      {
        std::lock_guard<std::mutex> lock(mu);
        open = sessions.size();
      }
      beast::error_code ignored;
      if (open >= options.max_connections) {
        socket.non_blocking(true, ignored);
        socket.write_some(net::buffer(kBusyResponse.data(), kBusyResponse.size()), ignored);
        socket.shutdown(tcp::socket::shutdown_send, ignored);
        socket.close(ignored);
        if (metrics) {
          MetricLabel labels[] = {{"path", "other"}, {"code", "503"}};
          metrics->Count("lote_http_requests_total", labels, 1);
        }
      } else {
        socket.set_option(tcp::no_delay(true), ignored);
        std::make_shared<Session>(std::move(socket), this)->Start();
      }
    }
    // Errors of one accept (EMFILE, a reset) do not stop the listener.
    Accept();
  });
}

void HttpServer::Impl::RequestShutdown() {
  {
    std::lock_guard<std::mutex> lock(mu);
    if (shutdown_requested) return;
    shutdown_requested = true;
  }
  stopping = true;
  net::post(ioc, [this] {
    beast::error_code ignored;
    acceptor.close(ignored);
    std::vector<std::shared_ptr<Session>> open;
    {
      std::lock_guard<std::mutex> lock(mu);
      for (Session* s : sessions) {
        if (auto sp = s->weak_from_this().lock()) open.push_back(std::move(sp));
      }
    }
    for (auto& s : open) s->CloseIfReading();
  });
  cv.notify_all();
}

void HttpServer::Impl::WaitStopped() {
  std::unique_lock<std::mutex> lock(mu);
  if (stopped) return;
  cv.wait(lock, [this] { return shutdown_requested; });
  cv.wait_for(lock, Seconds(options.drain_timeout_seconds), [this] { return sessions.empty(); });
  lock.unlock();
  ioc.stop();
  for (auto& t : io_threads) t.join();
  io_threads.clear();
  workers.join();
  lock.lock();
  stopped = true;
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpServer::~HttpServer() = default;

Result<std::unique_ptr<HttpServer>> HttpServer::Start(HttpServerOptions options,
                                                      std::vector<HttpRoute> routes,
                                                      std::shared_ptr<MetricsSink> metrics) {
  if (options.port < 0 || options.port > 65535) {
    return InvalidArgumentError("port must be 0 to 65535, not " + std::to_string(options.port));
  }
  if (options.io_threads < 1 || options.io_threads > 64 || options.worker_threads < 1 ||
      options.worker_threads > 256) {
    return InvalidArgumentError("io threads must be 1 to 64 and worker threads 1 to 256");
  }
  if (options.max_connections < 1 || options.max_inflight < 1 || options.max_body_bytes < 1 ||
      options.max_header_bytes < 64) {
    return InvalidArgumentError("connection, in-flight and size limits must be positive");
  }
  auto impl = std::make_unique<Impl>(std::move(options), std::move(routes), std::move(metrics));
  Impl* raw = impl.get();
  LOTE_RETURN_IF_ERROR(raw->Listen());
  raw->Accept();
  try {
    for (int i = 0; i < raw->options.io_threads; ++i) {
      raw->io_threads.emplace_back([raw] { raw->ioc.run(); });
    }
  } catch (const std::system_error& e) {
    return ResourceExhaustedError(std::string("cannot start the server's threads: ") + e.what());
  }
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

int HttpServer::port() const { return impl_->port; }
void HttpServer::Shutdown() { impl_->RequestShutdown(); }
void HttpServer::Wait() { impl_->WaitStopped(); }

}  // namespace lote::serve
