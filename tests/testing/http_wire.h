// HTTP/1.1 on loopback sockets for the test services (MotoServer's helper requests, FaultProxy,
// and the tests that talk to them byte by byte): free ports, connecting and listening on
// 127.0.0.1 only, message framing (Content-Length, chunked, until close), and a tiny blocking
// client. Deliberately not libcurl: the proxy must see and cut raw bytes, and tests of the S3
// backend must not depend on the transport they are testing.
//
// Every socket is opened with SOCK_CLOEXEC (a service started later must not inherit it) and
// every wait is bounded by a timeout. Thread-safety: free functions are thread-safe; a
// SocketReader or HttpConnection is used by one thread at a time.
#ifndef LOTE_TESTS_TESTING_HTTP_WIRE_H_
#define LOTE_TESTS_TESTING_HTTP_WIRE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lote/base/status.h"

namespace lote::testing {

using HttpHeaderList = std::vector<std::pair<std::string, std::string>>;

// The first header named `name` (case-insensitive), or nullptr.
const std::string* FindHttpHeader(const HttpHeaderList& headers, std::string_view name);

// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, read back, closed).
// Another process may take it before the caller binds it: callers retry on a bind failure.
Result<int> PickFreeLoopbackPort();

// A listening socket on 127.0.0.1 at a port the kernel picks; returns {fd, port}.
Result<std::pair<int, int>> ListenOnLoopback();

// A socket connected to 127.0.0.1:`port`; Unavailable when refused or after `timeout_seconds`.
Result<int> ConnectToLoopback(int port, double timeout_seconds);

// Writes all of `data`; Unavailable on error, a peer that closed, or no progress for
// `timeout_seconds`.
Status SendAll(int fd, std::string_view data, double timeout_seconds);

// Buffered reads from a socket; each wait for bytes is bounded by `timeout_seconds`.
class SocketReader {
 public:
  SocketReader(int fd, double timeout_seconds) : fd_(fd), timeout_seconds_(timeout_seconds) {}

  // The start line and headers, up to and including the empty line. An empty string when the
  // peer closed cleanly before sending any byte of it (the end of a keep-alive connection).
  // Unavailable for a close in the middle, a timeout, or a head over `max_bytes`.
  Result<std::string> ReadHead(size_t max_bytes = 64 << 10);
  // Exactly `n` bytes (Unavailable if the peer closes first).
  Result<std::string> ReadExact(uint64_t n);
  // A chunked body as sent: chunk sizes, data, the last chunk and trailers, undecoded.
  Result<std::string> ReadChunkedRaw();
  // Everything until the peer closes.
  Result<std::string> ReadUntilClose();
  // Bytes received but not consumed yet (a pipelined request).
  size_t buffered() const { return buf_.size() - pos_; }

 private:
  // Appends what the socket has to buf_; false at end of stream.
  Result<bool> Fill();
  Result<std::string> ReadLine();  // including "\r\n"

  int fd_;
  double timeout_seconds_;
  std::string buf_;
  size_t pos_ = 0;
};

// A parsed request or response head.
struct HttpHead {
  std::string start_line;
  HttpHeaderList headers;  // in order, names as sent
  // Requests: method, target ("/bucket/key?query"), version. Responses: version, status.
  std::string method;
  std::string target;
  std::string version;
  int status = 0;

  const std::string* Find(std::string_view name) const { return FindHttpHeader(headers, name); }
  // Whether a comma-separated header (Connection, Transfer-Encoding, Expect) holds `token`,
  // case-insensitively.
  bool HasToken(std::string_view name, std::string_view token) const;
};
Result<HttpHead> ParseRequestHead(std::string_view head);
Result<HttpHead> ParseResponseHead(std::string_view head);

// How the body after a head ends.
struct BodyFraming {
  enum class Kind { kNone, kLength, kChunked, kUntilClose };
  Kind kind = Kind::kNone;
  uint64_t length = 0;
};
Result<BodyFraming> RequestBodyFraming(const HttpHead& request);
// `request_method`: a response to HEAD has no body whatever its headers say.
Result<BodyFraming> ResponseBodyFraming(const HttpHead& response, std::string_view request_method);
// The body as sent on the wire (chunked bodies stay encoded).
Result<std::string> ReadRawBody(SocketReader* reader, const BodyFraming& framing);
// The payload of an encoded chunked body (trailers dropped). InvalidArgument when malformed.
Result<std::string> DecodeChunked(std::string_view raw);

// What the client sends. Host is added; Content-Length too when the call names neither it nor
// Transfer-Encoding (then `body` must already be chunk-encoded).
struct HttpCall {
  std::string method = "GET";
  std::string target = "/";
  HttpHeaderList headers;
  std::string body;
};

struct HttpReply {
  int status = 0;
  std::string head;            // status line and headers as received
  HttpHeaderList headers;      // as received
  std::string raw_body;        // as received (chunked stays encoded)
  std::string body;            // decoded
  bool server_closed = false;  // the server ended the connection after this reply

  const std::string* Find(std::string_view name) const { return FindHttpHeader(headers, name); }
};

// A client connection to 127.0.0.1:PORT, kept alive across calls while the server allows it.
class HttpConnection {
 public:
  static Result<std::unique_ptr<HttpConnection>> Open(int port, double timeout_seconds = 30);
  ~HttpConnection();
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  // Sends `call` and reads the final answer. With "Expect: 100-continue" among the call's
  // headers the body is sent only after the server's "100 Continue"; a final answer instead of
  // it is returned without sending the body (and the connection is then closed). Unavailable on
  // transport errors (refused, reset, timeout, a truncated answer), after which the connection is
  // closed.
  Result<HttpReply> RoundTrip(const HttpCall& call);
  bool is_open() const { return fd_ >= 0; }

 private:
  HttpConnection(int fd, int port, double timeout_seconds);
  void Close();

  int fd_;
  int port_;
  double timeout_seconds_;
  std::unique_ptr<SocketReader> reader_;
};

// One call on a fresh connection ("Connection: close").
Result<HttpReply> HttpRoundTrip(int port, const HttpCall& call, double timeout_seconds = 30);

}  // namespace lote::testing

#endif  // LOTE_TESTS_TESTING_HTTP_WIRE_H_
