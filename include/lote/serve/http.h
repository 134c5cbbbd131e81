// The HTTP vocabulary of lote's server, independent of the HTTP library underneath: a request as
// a handler sees it, the response it returns, and the one place a Status becomes an HTTP status
// (handlers never throw and never pick status codes for errors themselves).
#ifndef LOTE_SERVE_HTTP_H_
#define LOTE_SERVE_HTTP_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lote/base/status.h"

namespace lote::serve {

struct HttpRequest {
  std::string_view method;         // "GET", "POST", ...
  std::string_view path;           // the target without its query string
  std::string_view content_type;   // as sent, parameters included ("" when absent)
  std::string_view accept;         // as sent ("" when absent)
  std::string_view query;          // the target's query string, without '?' ("" when none)
  std::string_view authorization;  // the Authorization header as sent ("" when absent)
  std::string_view cookie;         // the Cookie header as sent ("" when absent)
  std::string_view body;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  // More header fields (Set-Cookie, Location, Content-Disposition, Cache-Control); names and
  // values are the route's, never the client's.
  std::vector<std::pair<std::string, std::string>> headers;
};

// InvalidArgument/OutOfRange/DataLoss 400, NotFound 404, Unimplemented 415 (a content type the
// server does not take), FailedPrecondition 406 (an Accept it cannot produce), ResourceExhausted
// 413, Unavailable 503, DeadlineExceeded 504, everything else 500.
int HttpStatusFor(const Status& status);

// {"error": MESSAGE} with HttpStatusFor(status). The message is the Status's own: callers keep
// record text out of it (lote's readers quote at most a short excerpt, redacted by the PII policy
// before it reaches here).
HttpResponse ErrorResponse(const Status& status);

// An error response with an explicit status, for conditions that are not a Status of the library
// (405, 431 ...).
HttpResponse ErrorResponse(int http_status, std::string_view message);

// "application/json; charset=utf-8" -> "application/json" (lower-cased, parameters and spaces
// dropped).
std::string MediaType(std::string_view content_type);

}  // namespace lote::serve

#endif  // LOTE_SERVE_HTTP_H_
