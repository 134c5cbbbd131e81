#include "testing/http_wire.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstring>

namespace lote::testing {
namespace {

std::string ErrnoText(int err) { return std::strerror(err); }

int TimeoutMs(double seconds) { return static_cast<int>(std::max(0.0, seconds) * 1000.0); }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

sockaddr_in LoopbackAddress(int port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  return addr;
}

Result<int> BoundPort(int fd) {
  sockaddr_in addr{};
  socklen_t len = sizeof(addr);
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    return UnavailableError("getsockname: " + ErrnoText(errno));
  }
  return static_cast<int>(ntohs(addr.sin_port));
}

// Splits a head into its start line and headers.
Result<HttpHead> ParseHeadLines(std::string_view head) {
  HttpHead out;
  size_t eol = head.find("\r\n");
  if (eol == std::string_view::npos) return InvalidArgumentError("HTTP head without CRLF");
  out.start_line = std::string(head.substr(0, eol));
  size_t pos = eol + 2;
  while (pos < head.size()) {
    eol = head.find("\r\n", pos);
    if (eol == std::string_view::npos) return InvalidArgumentError("HTTP header without CRLF");
    std::string_view line = head.substr(pos, eol - pos);
    pos = eol + 2;
    if (line.empty()) break;
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      return InvalidArgumentError("malformed HTTP header line: " + std::string(line));
    }
    out.headers.emplace_back(std::string(Trim(line.substr(0, colon))),
                             std::string(Trim(line.substr(colon + 1))));
  }
  return out;
}

Result<uint64_t> ParseContentLength(const std::string& value) {
  uint64_t n = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
  if (ec != std::errc() || end != value.data() + value.size() || value.empty()) {
    return InvalidArgumentError("bad Content-Length: " + value);
  }
  return n;
}

// The size at the start of a chunk-size line ("1a2;ext=1\r\n").
Result<uint64_t> ParseChunkSize(std::string_view line) {
  std::string_view digits = line.substr(0, line.find_first_of(";\r"));
  digits = Trim(digits);
  uint64_t n = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n, 16);
  if (ec != std::errc() || end != digits.data() + digits.size() || digits.empty()) {
    return InvalidArgumentError("bad chunk size line: " + std::string(line));
  }
  return n;
}

}  // namespace

const std::string* FindHttpHeader(const HttpHeaderList& headers, std::string_view name) {
  for (const auto& [k, v] : headers) {
    if (EqualsIgnoreCase(k, name)) return &v;
  }
  return nullptr;
}

Result<int> PickFreeLoopbackPort() {
  LOTE_ASSIGN_OR_RETURN(auto listening, ListenOnLoopback());
  ::close(listening.first);
  return listening.second;
}

Result<std::pair<int, int>> ListenOnLoopback() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return UnavailableError("socket: " + ErrnoText(errno));
  sockaddr_in addr = LoopbackAddress(0);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || ::listen(fd, 64) != 0) {
    Status s = UnavailableError("bind/listen on 127.0.0.1: " + ErrnoText(errno));
    ::close(fd);
    return s;
  }
  auto port = BoundPort(fd);
  if (!port.ok()) {
    ::close(fd);
    return port.status();
  }
  return std::make_pair(fd, *port);
}

Result<int> ConnectToLoopback(int port, double timeout_seconds) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return UnavailableError("socket: " + ErrnoText(errno));
  sockaddr_in addr = LoopbackAddress(port);
  const std::string where = "127.0.0.1:" + std::to_string(port);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    if (errno != EINPROGRESS) {
      Status s = UnavailableError("connect to " + where + ": " + ErrnoText(errno));
      ::close(fd);
      return s;
    }
    pollfd p{fd, POLLOUT, 0};
    int ready = ::poll(&p, 1, TimeoutMs(timeout_seconds));
    int err = 0;
    socklen_t len = sizeof(err);
    if (ready <= 0 || ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
      Status s = UnavailableError("connect to " + where + ": " +
                                  (ready == 0 ? std::string("timed out") : ErrnoText(err)));
      ::close(fd);
      return s;
    }
  }
  // Back to blocking: every later wait goes through poll with its own timeout.
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return fd;
}

Status SendAll(int fd, std::string_view data, double timeout_seconds) {
  while (!data.empty()) {
    pollfd p{fd, POLLOUT, 0};
    int ready = ::poll(&p, 1, TimeoutMs(timeout_seconds));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return UnavailableError("send: timed out");
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) continue;
      return UnavailableError("send: " + ErrnoText(errno));
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

Result<bool> SocketReader::Fill() {
  if (pos_ > 0 && (pos_ == buf_.size() || pos_ > (1 << 20))) {  // drop what was consumed
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  char chunk[64 << 10];
  while (true) {
    pollfd p{fd_, POLLIN, 0};
    int ready = ::poll(&p, 1, TimeoutMs(timeout_seconds_));
    if (ready < 0 && errno == EINTR) continue;
    if (ready == 0) return UnavailableError("receive: timed out");
    if (ready < 0) return UnavailableError("poll: " + ErrnoText(errno));
    ssize_t n = ::recv(fd_, chunk, sizeof(chunk), MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) continue;
      return UnavailableError("receive: " + ErrnoText(errno));
    }
    if (n == 0) return false;
    buf_.append(chunk, static_cast<size_t>(n));
    return true;
  }
}

Result<std::string> SocketReader::ReadHead(size_t max_bytes) {
  size_t scanned = 0;  // unconsumed bytes known to hold no complete "\r\n\r\n"
  while (true) {
    size_t end = buf_.find("\r\n\r\n", pos_ + scanned);
    if (end != std::string::npos) {
      std::string head = buf_.substr(pos_, end + 4 - pos_);
      pos_ = end + 4;
      return head;
    }
    const size_t unconsumed = buf_.size() - pos_;
    if (unconsumed > max_bytes) return UnavailableError("HTTP head too long");
    scanned = unconsumed >= 3 ? unconsumed - 3 : 0;
    LOTE_ASSIGN_OR_RETURN(bool more, Fill());
    if (!more) {
      if (unconsumed == 0) return std::string();
      return UnavailableError("connection closed in the middle of an HTTP head");
    }
  }
}

Result<std::string> SocketReader::ReadExact(uint64_t n) {
  while (buf_.size() - pos_ < n) {
    LOTE_ASSIGN_OR_RETURN(bool more, Fill());
    if (!more) {
      return UnavailableError("connection closed after " + std::to_string(buf_.size() - pos_) +
                              " of " + std::to_string(n) + " body bytes");
    }
  }
  std::string out = buf_.substr(pos_, static_cast<size_t>(n));
  pos_ += static_cast<size_t>(n);
  return out;
}

Result<std::string> SocketReader::ReadLine() {
  while (true) {
    size_t eol = buf_.find("\r\n", pos_);
    if (eol != std::string::npos) {
      std::string line = buf_.substr(pos_, eol + 2 - pos_);
      pos_ = eol + 2;
      return line;
    }
    if (buf_.size() - pos_ > (64 << 10)) return UnavailableError("HTTP line too long");
    LOTE_ASSIGN_OR_RETURN(bool more, Fill());
    if (!more) return UnavailableError("connection closed in the middle of a chunked body");
  }
}

Result<std::string> SocketReader::ReadChunkedRaw() {
  std::string raw;
  while (true) {
    LOTE_ASSIGN_OR_RETURN(std::string size_line, ReadLine());
    raw += size_line;
    LOTE_ASSIGN_OR_RETURN(uint64_t size, ParseChunkSize(size_line));
    if (size == 0) break;
    LOTE_ASSIGN_OR_RETURN(std::string data, ReadExact(size + 2));
    if (data.compare(data.size() - 2, 2, "\r\n") != 0) {
      return UnavailableError("chunk not followed by CRLF");
    }
    raw += data;
  }
  while (true) {  // trailers, then the empty line
    LOTE_ASSIGN_OR_RETURN(std::string line, ReadLine());
    raw += line;
    if (line == "\r\n") return raw;
  }
}

Result<std::string> SocketReader::ReadUntilClose() {
  while (true) {
    LOTE_ASSIGN_OR_RETURN(bool more, Fill());
    if (!more) break;
  }
  std::string out = buf_.substr(pos_);
  pos_ = buf_.size();
  return out;
}

bool HttpHead::HasToken(std::string_view name, std::string_view token) const {
  for (const auto& [k, v] : headers) {
    if (!EqualsIgnoreCase(k, name)) continue;
    std::string_view rest = v;
    while (!rest.empty()) {
      size_t comma = rest.find(',');
      if (EqualsIgnoreCase(Trim(rest.substr(0, comma)), token)) return true;
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  return false;
}

Result<HttpHead> ParseRequestHead(std::string_view head) {
  LOTE_ASSIGN_OR_RETURN(HttpHead out, ParseHeadLines(head));
  std::string_view line = out.start_line;
  size_t sp1 = line.find(' ');
  size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos) {
    return InvalidArgumentError("malformed request line: " + out.start_line);
  }
  out.method = std::string(line.substr(0, sp1));
  out.target = std::string(line.substr(sp1 + 1, sp2 - sp1 - 1));
  out.version = std::string(line.substr(sp2 + 1));
  if (out.version.rfind("HTTP/1.", 0) != 0) {
    return InvalidArgumentError("not HTTP/1.x: " + out.start_line);
  }
  return out;
}

Result<HttpHead> ParseResponseHead(std::string_view head) {
  LOTE_ASSIGN_OR_RETURN(HttpHead out, ParseHeadLines(head));
  std::string_view line = out.start_line;
  size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos || line.rfind("HTTP/1.", 0) != 0 || line.size() < sp1 + 4) {
    return InvalidArgumentError("malformed status line: " + out.start_line);
  }
  out.version = std::string(line.substr(0, sp1));
  std::string_view code = line.substr(sp1 + 1, 3);
  auto [end, ec] = std::from_chars(code.data(), code.data() + code.size(), out.status);
  if (ec != std::errc() || end != code.data() + code.size()) {
    return InvalidArgumentError("malformed status line: " + out.start_line);
  }
  return out;
}

Result<BodyFraming> RequestBodyFraming(const HttpHead& request) {
  BodyFraming f;
  if (request.HasToken("Transfer-Encoding", "chunked")) {
    f.kind = BodyFraming::Kind::kChunked;
  } else if (const std::string* cl = request.Find("Content-Length")) {
    LOTE_ASSIGN_OR_RETURN(f.length, ParseContentLength(*cl));
    f.kind = BodyFraming::Kind::kLength;
  }
  return f;
}

Result<BodyFraming> ResponseBodyFraming(const HttpHead& response, std::string_view request_method) {
  BodyFraming f;
  if (request_method == "HEAD" || response.status / 100 == 1 || response.status == 204 ||
      response.status == 304) {
    return f;
  }
  if (response.HasToken("Transfer-Encoding", "chunked")) {
    f.kind = BodyFraming::Kind::kChunked;
  } else if (const std::string* cl = response.Find("Content-Length")) {
    LOTE_ASSIGN_OR_RETURN(f.length, ParseContentLength(*cl));
    f.kind = BodyFraming::Kind::kLength;
  } else {
    f.kind = BodyFraming::Kind::kUntilClose;
  }
  return f;
}

Result<std::string> ReadRawBody(SocketReader* reader, const BodyFraming& framing) {
  switch (framing.kind) {
    case BodyFraming::Kind::kNone:
      return std::string();
    case BodyFraming::Kind::kLength:
      return reader->ReadExact(framing.length);
    case BodyFraming::Kind::kChunked:
      return reader->ReadChunkedRaw();
    case BodyFraming::Kind::kUntilClose:
      return reader->ReadUntilClose();
  }
  return InternalError("unknown body framing");
}

Result<std::string> DecodeChunked(std::string_view raw) {
  std::string out;
  size_t pos = 0;
  while (true) {
    size_t eol = raw.find("\r\n", pos);
    if (eol == std::string_view::npos) return InvalidArgumentError("chunked body cut short");
    LOTE_ASSIGN_OR_RETURN(uint64_t size, ParseChunkSize(raw.substr(pos, eol + 2 - pos)));
    pos = eol + 2;
    if (size == 0) return out;
    if (raw.size() - pos < size + 2) return InvalidArgumentError("chunk cut short");
    out.append(raw.substr(pos, static_cast<size_t>(size)));
    pos += static_cast<size_t>(size) + 2;
  }
}

HttpConnection::HttpConnection(int fd, int port, double timeout_seconds)
    : fd_(fd),
      port_(port),
      timeout_seconds_(timeout_seconds),
      reader_(std::make_unique<SocketReader>(fd, timeout_seconds)) {}

HttpConnection::~HttpConnection() { Close(); }

void HttpConnection::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

Result<std::unique_ptr<HttpConnection>> HttpConnection::Open(int port, double timeout_seconds) {
  LOTE_ASSIGN_OR_RETURN(int fd, ConnectToLoopback(port, timeout_seconds));
  return std::unique_ptr<HttpConnection>(new HttpConnection(fd, port, timeout_seconds));
}

Result<HttpReply> HttpConnection::RoundTrip(const HttpCall& call) {
  if (fd_ < 0) return UnavailableError("connection already closed");
  std::string head = call.method + " " + call.target + " HTTP/1.1\r\n";
  if (!FindHttpHeader(call.headers, "Host")) {
    head += "Host: 127.0.0.1:" + std::to_string(port_) + "\r\n";
  }
  if (!FindHttpHeader(call.headers, "Content-Length") &&
      !FindHttpHeader(call.headers, "Transfer-Encoding") &&
      (!call.body.empty() || call.method == "PUT" || call.method == "POST")) {
    head += "Content-Length: " + std::to_string(call.body.size()) + "\r\n";
  }
  for (const auto& [k, v] : call.headers) head += k + ": " + v + "\r\n";
  head += "\r\n";
  const std::string* expect = FindHttpHeader(call.headers, "Expect");
  const bool wait_for_continue = expect != nullptr && !call.body.empty();

  auto fail = [this](const Status& s) -> Status {
    Close();
    return s;
  };
  if (!wait_for_continue) head += call.body;
  if (Status s = SendAll(fd_, head, timeout_seconds_); !s.ok()) return fail(s);
  bool body_sent = !wait_for_continue;
  while (true) {
    auto raw_head = reader_->ReadHead();
    if (!raw_head.ok()) return fail(raw_head.status());
    if (raw_head->empty()) return fail(UnavailableError("connection closed before an answer"));
    auto parsed = ParseResponseHead(*raw_head);
    if (!parsed.ok()) return fail(parsed.status());
    if (parsed->status / 100 == 1) {  // 100 Continue (and any other interim answer)
      if (!body_sent && parsed->status == 100) {
        if (Status s = SendAll(fd_, call.body, timeout_seconds_); !s.ok()) return fail(s);
        body_sent = true;
      }
      continue;
    }
    auto framing = ResponseBodyFraming(*parsed, call.method);
    if (!framing.ok()) return fail(framing.status());
    auto raw_body = ReadRawBody(reader_.get(), *framing);
    if (!raw_body.ok()) return fail(raw_body.status());
    HttpReply reply;
    reply.status = parsed->status;
    reply.head = std::move(*raw_head);
    reply.headers = std::move(parsed->headers);
    reply.raw_body = std::move(*raw_body);
    if (framing->kind == BodyFraming::Kind::kChunked) {
      auto decoded = DecodeChunked(reply.raw_body);
      if (!decoded.ok()) return fail(decoded.status());
      reply.body = std::move(*decoded);
    } else {
      reply.body = reply.raw_body;
    }
    HttpHead closing;
    closing.headers = reply.headers;
    reply.server_closed = framing->kind == BodyFraming::Kind::kUntilClose ||
                          closing.HasToken("Connection", "close") || !body_sent;
    if (reply.server_closed) Close();
    return reply;
  }
}

Result<HttpReply> HttpRoundTrip(int port, const HttpCall& call, double timeout_seconds) {
  LOTE_ASSIGN_OR_RETURN(auto connection, HttpConnection::Open(port, timeout_seconds));
  HttpCall closing = call;
  if (!FindHttpHeader(closing.headers, "Connection")) {
    closing.headers.emplace_back("Connection", "close");
  }
  return connection->RoundTrip(closing);
}

}  // namespace lote::testing
