#include "testing/fault_proxy.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <chrono>

#include "testing/http_wire.h"

namespace lote::testing {
namespace {

bool IsErrorAnswer(FaultKind kind) {
  return kind == FaultKind::kInternalError || kind == FaultKind::kSlowDown;
}

// What S3 itself sends for these two (status, reason, code, message).
std::string ErrorAnswer(FaultKind kind, const HttpHead& request, bool close, uint64_t serial) {
  const bool internal = kind == FaultKind::kInternalError;
  const std::string request_id = "LOTEFAULT" + std::to_string(serial);
  const std::string body =
      std::string("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>") +
      (internal ? "InternalError" : "SlowDown") + "</Code><Message>" +
      (internal ? "We encountered an internal error. Please try again."
                : "Please reduce your request rate.") +
      "</Message><RequestId>" + request_id + "</RequestId><HostId>lote-fault-proxy</HostId>" +
      "</Error>";
  std::string answer =
      internal ? "HTTP/1.1 500 Internal Server Error\r\n" : "HTTP/1.1 503 Slow Down\r\n";
  answer += "Content-Type: application/xml\r\nx-amz-request-id: " + request_id +
            "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  if (close) answer += "Connection: close\r\n";
  answer += "\r\n";
  if (request.method != "HEAD") answer += body;
  return answer;
}

std::string PlainAnswer(int status, std::string_view reason, std::string_view text) {
  return "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason) +
         "\r\nContent-Type: text/plain\r\nContent-Length: " + std::to_string(text.size()) +
         "\r\nConnection: close\r\n\r\n" + std::string(text);
}

// `name` equals the lower-case `lower`, ignoring case.
bool NameIs(std::string_view name, std::string_view lower) {
  if (name.size() != lower.size()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(name[i])) != lower[i]) return false;
  }
  return true;
}

// Headers that describe one hop's connection, not the message: the proxy sets its own.
bool IsHopByHop(std::string_view name) {
  return NameIs(name, "connection") || NameIs(name, "keep-alive") ||
         NameIs(name, "proxy-connection");
}

struct UpstreamAnswer {
  HttpHead head;
  std::string body;  // raw
  BodyFraming framing;
};

// Reads the final answer (skipping interim 1xx ones). `*nothing_received` tells a connection
// that was closed before any byte of an answer (a stale keep-alive connection) from other errors.
Result<UpstreamAnswer> ReadUpstreamAnswer(SocketReader* reader, std::string_view method,
                                          bool* nothing_received) {
  *nothing_received = true;
  while (true) {
    LOTE_ASSIGN_OR_RETURN(std::string raw, reader->ReadHead());
    if (raw.empty()) return UnavailableError("upstream closed the connection without answering");
    *nothing_received = false;
    LOTE_ASSIGN_OR_RETURN(HttpHead head, ParseResponseHead(raw));
    if (head.status / 100 == 1) continue;
    UpstreamAnswer answer;
    LOTE_ASSIGN_OR_RETURN(answer.framing, ResponseBodyFraming(head, method));
    LOTE_ASSIGN_OR_RETURN(answer.body, ReadRawBody(reader, answer.framing));
    answer.head = std::move(head);
    return answer;
  }
}

}  // namespace

std::string_view FaultKindName(FaultKind kind) {
  switch (kind) {
    case FaultKind::kNone:
      return "None";
    case FaultKind::kInternalError:
      return "InternalError";
    case FaultKind::kSlowDown:
      return "SlowDown";
    case FaultKind::kReset:
      return "Reset";
    case FaultKind::kResetAfterUpstream:
      return "ResetAfterUpstream";
    case FaultKind::kStall:
      return "Stall";
    case FaultKind::kTruncate:
      return "Truncate";
  }
  return "?";
}

uint64_t FaultCounters::of(FaultKind kind) const {
  switch (kind) {
    case FaultKind::kNone:
      return requests - faults();
    case FaultKind::kInternalError:
      return internal_error;
    case FaultKind::kSlowDown:
      return slow_down;
    case FaultKind::kReset:
      return reset;
    case FaultKind::kResetAfterUpstream:
      return reset_after_upstream;
    case FaultKind::kStall:
      return stall;
    case FaultKind::kTruncate:
      return truncate;
  }
  return 0;
}

Result<std::unique_ptr<FaultProxy>> FaultProxy::Start(FaultProxyOptions options) {
  if (options.upstream_port <= 0 || options.upstream_port > 65535) {
    return InvalidArgumentError("FaultProxy: upstream_port must be a port of 127.0.0.1");
  }
  if (!(options.fault_rate >= 0 && options.fault_rate <= 1)) {
    return InvalidArgumentError("FaultProxy: fault_rate must be in [0, 1]");
  }
  if (options.stall_seconds < 0 || options.io_timeout_seconds <= 0) {
    return InvalidArgumentError("FaultProxy: negative stall or non-positive timeout");
  }
  LOTE_ASSIGN_OR_RETURN(auto listening, ListenOnLoopback());
  std::unique_ptr<FaultProxy> proxy(
      new FaultProxy(std::move(options), listening.first, listening.second));
  if (proxy->wake_fds_[0] < 0) return UnavailableError("FaultProxy: pipe2 failed");
  proxy->acceptor_ = std::thread([p = proxy.get()] { p->AcceptLoop(); });
  return proxy;
}

FaultProxy::FaultProxy(FaultProxyOptions options, int listen_fd, int port)
    : options_(std::move(options)),
      listen_fd_(listen_fd),
      port_(port),
      fault_rate_(options_.fault_rate),
      fault_kinds_(options_.fault_kinds),
      rng_(options_.seed) {
  if (::pipe2(wake_fds_, O_CLOEXEC) != 0) wake_fds_[0] = wake_fds_[1] = -1;
}

FaultProxy::~FaultProxy() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    // Wakes every thread blocked on a socket: its next poll sees end of stream.
    for (int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);
  }
  stop_cv_.notify_all();
  if (wake_fds_[1] >= 0) (void)!::write(wake_fds_[1], "x", 1);
  if (acceptor_.joinable()) acceptor_.join();
  // The acceptor is gone: connections_ no longer changes.
  for (Connection& c : connections_) {
    if (c.thread.joinable()) c.thread.join();
  }
  ::close(listen_fd_);
  if (wake_fds_[0] >= 0) ::close(wake_fds_[0]);
  if (wake_fds_[1] >= 0) ::close(wake_fds_[1]);
}

void FaultProxy::SetFaultRate(double rate) {
  std::lock_guard<std::mutex> lock(mu_);
  fault_rate_ = rate;
}

void FaultProxy::SetFaultKinds(std::vector<FaultKind> kinds) {
  std::lock_guard<std::mutex> lock(mu_);
  fault_kinds_ = std::move(kinds);
}

void FaultProxy::FailNext(int count, FaultKind kind, std::string method,
                          std::string target_substring) {
  if (count <= 0) return;
  std::lock_guard<std::mutex> lock(mu_);
  rules_.push_back(Rule{count, kind, std::move(method), std::move(target_substring)});
}

void FaultProxy::ClearRules() {
  std::lock_guard<std::mutex> lock(mu_);
  rules_.clear();
}

int FaultProxy::PendingRuleFaults() const {
  std::lock_guard<std::mutex> lock(mu_);
  int n = 0;
  for (const Rule& r : rules_) n += r.remaining;
  return n;
}

FaultCounters FaultProxy::counters() const {
  std::lock_guard<std::mutex> lock(mu_);
  return counters_;
}

void FaultProxy::ResetCounters() {
  std::lock_guard<std::mutex> lock(mu_);
  counters_ = FaultCounters();
}

FaultKind FaultProxy::Decide(std::string_view method, std::string_view target) {
  std::lock_guard<std::mutex> lock(mu_);
  ++counters_.requests;
  for (auto it = rules_.begin(); it != rules_.end(); ++it) {
    if (!it->method.empty() && it->method != method) continue;
    if (target.find(it->target_substring) == std::string_view::npos) continue;
    const FaultKind kind = it->kind;
    if (--it->remaining <= 0) rules_.erase(it);
    return kind;
  }
  if (fault_rate_ > 0 && !fault_kinds_.empty()) {
    const double draw = std::uniform_real_distribution<double>(0, 1)(rng_);
    if (draw < fault_rate_) return fault_kinds_[rng_() % fault_kinds_.size()];
  }
  return FaultKind::kNone;
}

void FaultProxy::Count(FaultKind kind) {
  std::lock_guard<std::mutex> lock(mu_);
  switch (kind) {
    case FaultKind::kNone:
      break;
    case FaultKind::kInternalError:
      ++counters_.internal_error;
      break;
    case FaultKind::kSlowDown:
      ++counters_.slow_down;
      break;
    case FaultKind::kReset:
      ++counters_.reset;
      break;
    case FaultKind::kResetAfterUpstream:
      ++counters_.reset_after_upstream;
      break;
    case FaultKind::kStall:
      ++counters_.stall;
      break;
    case FaultKind::kTruncate:
      ++counters_.truncate;
      break;
  }
}

bool FaultProxy::SleepUnlessStopped(double seconds) {
  std::unique_lock<std::mutex> lock(mu_);
  return !stop_cv_.wait_for(lock, std::chrono::duration<double>(seconds),
                            [this] { return stopping_; });
}

void FaultProxy::Track(int fd) {
  std::lock_guard<std::mutex> lock(mu_);
  open_fds_.insert(fd);
  if (stopping_) ::shutdown(fd, SHUT_RDWR);
}

void FaultProxy::CloseTracked(int fd) {
  std::lock_guard<std::mutex> lock(mu_);
  open_fds_.erase(fd);
  ::close(fd);
}

void FaultProxy::AcceptLoop() {
  while (true) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_fds_[0], POLLIN, 0}};
    int ready = ::poll(fds, 2, 1000);
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return;
    }
    if (ready <= 0 || !(fds[0].revents & POLLIN)) continue;
    int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) {
      ::close(client);
      return;
    }
    open_fds_.insert(client);
    // Joins the connections that ended (their thread no longer touches mu_ once done is set).
    for (auto it = connections_.begin(); it != connections_.end();) {
      if (it->done.load()) {
        it->thread.join();
        it = connections_.erase(it);
      } else {
        ++it;
      }
    }
    Connection& connection = connections_.emplace_back();
    connection.thread = std::thread([this, client, &connection] {
      Serve(client);
      connection.done.store(true);
    });
  }
}

void FaultProxy::Serve(int client_fd) {
  const double timeout = options_.io_timeout_seconds;
  SocketReader client(client_fd, timeout);
  int upstream_fd = -1;
  std::unique_ptr<SocketReader> upstream;
  bool abort_connection = false;  // end with a TCP reset rather than an orderly close
  auto close_upstream = [&] {
    if (upstream_fd >= 0) CloseTracked(upstream_fd);
    upstream_fd = -1;
    upstream.reset();
  };

  while (true) {
    auto raw_head = client.ReadHead();
    if (!raw_head.ok() || raw_head->empty()) break;
    auto request = ParseRequestHead(*raw_head);
    Result<BodyFraming> framing =
        request.ok() ? RequestBodyFraming(*request) : Result<BodyFraming>(request.status());
    if (!framing.ok()) {
      (void)SendAll(client_fd, PlainAnswer(400, "Bad Request", framing.status().ToString()),
                    timeout);
      break;
    }
    const bool client_keep_alive =
        request->version == "HTTP/1.1" && !request->HasToken("Connection", "close");
    const FaultKind fault = Decide(request->method, request->target);
    uint64_t serial = 0;
    {
      std::lock_guard<std::mutex> lock(mu_);
      serial = counters_.requests;
    }

    // "Expect: 100-continue" is answered here: an error instead of "100 Continue" is what S3
    // does, and the client then does not send the body (so the connection cannot be reused).
    if (request->HasToken("Expect", "100-continue") && framing->kind != BodyFraming::Kind::kNone) {
      if (IsErrorAnswer(fault)) {
        Count(fault);
        (void)SendAll(client_fd, ErrorAnswer(fault, *request, /*close=*/true, serial), timeout);
        break;
      }
      if (fault == FaultKind::kReset) {
        Count(fault);
        abort_connection = true;
        break;
      }
      if (!SendAll(client_fd, "HTTP/1.1 100 Continue\r\n\r\n", timeout).ok()) break;
    }
    auto body = ReadRawBody(&client, *framing);
    if (!body.ok()) break;

    if (fault == FaultKind::kReset) {
      Count(fault);
      abort_connection = true;
      break;
    }
    if (IsErrorAnswer(fault)) {
      Count(fault);
      if (!SendAll(client_fd, ErrorAnswer(fault, *request, !client_keep_alive, serial), timeout)
               .ok() ||
          !client_keep_alive) {
        break;
      }
      continue;
    }

    std::string forwarded = request->start_line + "\r\n";
    for (const auto& [name, value] : request->headers) {
      if (IsHopByHop(name) || NameIs(name, "expect")) continue;
      forwarded += name + ": " + value + "\r\n";
    }
    forwarded += "\r\n" + *body;

    Result<UpstreamAnswer> answer = UnavailableError("not sent");
    for (int attempt = 0; attempt < 2; ++attempt) {
      const bool reused = upstream_fd >= 0;
      if (!reused) {
        auto fd = ConnectToLoopback(options_.upstream_port, timeout);
        if (!fd.ok()) {
          answer = fd.status();
          break;
        }
        upstream_fd = *fd;
        Track(upstream_fd);
        upstream = std::make_unique<SocketReader>(upstream_fd, timeout);
      }
      bool nothing_received = true;
      Status sent = SendAll(upstream_fd, forwarded, timeout);
      answer = sent.ok() ? ReadUpstreamAnswer(upstream.get(), request->method, &nothing_received)
                         : Result<UpstreamAnswer>(sent);
      if (answer.ok()) break;
      close_upstream();
      if (!reused || !nothing_received) break;  // only a stale reused connection is retried
    }
    if (!answer.ok()) {
      (void)SendAll(client_fd,
                    PlainAnswer(502, "Bad Gateway",
                                "lote FaultProxy: upstream failed: " + answer.status().ToString()),
                    timeout);
      break;
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++counters_.forwarded;
    }
    const HttpHead& head = answer->head;
    const bool until_close = answer->framing.kind == BodyFraming::Kind::kUntilClose;
    if (head.version != "HTTP/1.1" || head.HasToken("Connection", "close") || until_close) {
      close_upstream();
    }
    const bool keep_alive = client_keep_alive && !until_close;
    std::string relayed = head.start_line + "\r\n";
    for (const auto& [name, value] : head.headers) {
      if (!IsHopByHop(name)) relayed += name + ": " + value + "\r\n";
    }
    if (!keep_alive) relayed += "Connection: close\r\n";
    relayed += "\r\n";

    if (fault == FaultKind::kResetAfterUpstream) {
      Count(fault);
      abort_connection = true;
      break;
    }
    if (fault == FaultKind::kStall) {
      Count(fault);
      if (!SleepUnlessStopped(options_.stall_seconds)) break;
    }
    if (fault == FaultKind::kTruncate) {
      Count(fault);
      if (answer->body.size() >= 2) {
        relayed += answer->body.substr(0, answer->body.size() / 2);
      } else {
        relayed.resize(relayed.size() / 2);
      }
      (void)SendAll(client_fd, relayed, timeout);
      break;
    }
    relayed += answer->body;
    if (!SendAll(client_fd, relayed, timeout).ok() || !keep_alive) break;
  }
  close_upstream();
  if (abort_connection) {
    linger hard{1, 0};  // close() then sends RST: "connection reset by peer"
    ::setsockopt(client_fd, SOL_SOCKET, SO_LINGER, &hard, sizeof(hard));
  } else {
    ::shutdown(client_fd, SHUT_WR);  // what was sent is delivered before the close
  }
  CloseTracked(client_fd);
}

}  // namespace lote::testing
