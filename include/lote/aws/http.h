// HTTP for the AWS clients: one request/response interface, implemented over libcurl
// (NewCurlHttpClient), so that S3, the credential providers and later SQS, Step Functions and
// SageMaker share one transport, and tests can put a fake or a fault-injecting one underneath.
//
// Bodies: a request body is a string_view (the caller keeps it alive until Send returns); a
// response body is collected into the response, or handed to a sink chunk by chunk (streaming
// reads with bounded memory), with a cap on what is collected.
//
// Nothing here logs. Errors carry the method and the URL without its query string (a presigned
// URL's query holds a signature); header values are never put into messages.
// Thread-safety: an HttpClient is thread-safe; Send may be called from many threads at once.
#ifndef LOTE_AWS_HTTP_H_
#define LOTE_AWS_HTTP_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lote/base/status.h"

namespace lote::aws {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

// The value of header `name` (case-insensitive), or nullptr.
const std::string* FindHeader(const HttpHeaders& headers, std::string_view name);

struct HttpRequest {
  std::string method = "GET";  // GET, PUT, POST, HEAD, DELETE
  std::string url;             // absolute: scheme, host[:port], path (already encoded), query
  HttpHeaders headers;
  std::string_view body;
  // Whole-request timeout in seconds (0: none) and the time allowed to connect.
  double timeout_seconds = 300;
  double connect_timeout_seconds = 10;
  // A transfer slower than `low_speed_bytes` per second for `low_speed_seconds` is aborted as a
  // stall (0: off).
  uint64_t low_speed_bytes = 1;
  double low_speed_seconds = 30;
  // Cap on the response body collected into HttpResponse::body (not on what goes to a sink):
  // a longer body fails the request with ResourceExhausted.
  uint64_t max_body_bytes = 64 << 20;
};

struct HttpResponse {
  int status = 0;
  HttpHeaders headers;  // names lower-cased
  std::string body;     // empty when a sink took it
};

// Receives the response body in chunks; returning an error aborts the transfer with it.
using BodySink = std::function<Status(std::string_view chunk)>;

class HttpClient {
 public:
  virtual ~HttpClient() = default;
  // Sends `request` and returns the response, whatever its status code: an HTTP error status is
  // a response, not an error. Errors are transport failures: Unavailable (connection refused or
  // reset, DNS, TLS, a truncated body), DeadlineExceeded-like timeouts reported as Unavailable
  // with "timed out" in the message, ResourceExhausted (body over max_body_bytes).
  // With `sink`, body bytes of 2xx responses go to it instead of into the response (bodies of
  // other statuses, e.g. an S3 XML error, are still collected).
  virtual Result<HttpResponse> Send(const HttpRequest& request, const BodySink& sink = {}) = 0;
};

struct CurlHttpClientOptions {
  // Connections kept open for reuse, across threads.
  int max_idle_connections = 16;
  // CA bundle path for https (empty: the system's).
  std::string ca_file;
};
// An HttpClient over libcurl (curl_global_init is done once, thread-safely).
std::shared_ptr<HttpClient> NewCurlHttpClient(CurlHttpClientOptions options = {});

// RFC 3986 percent-encoding as AWS signs it: unreserved characters (A-Z a-z 0-9 - _ . ~) kept,
// everything else %XX (upper-case hex); '/' kept when `keep_slash` (S3 object keys in paths).
std::string UriEncode(std::string_view s, bool keep_slash);

}  // namespace lote::aws

#endif  // LOTE_AWS_HTTP_H_
