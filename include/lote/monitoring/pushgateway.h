// Pushing a batch job's metrics to a Prometheus Pushgateway, the way short-lived jobs report to
// Prometheus: the job renders its metrics in the text format (PrometheusRegistry::Render) and
// sends them to URL/metrics/job/JOB/LABEL/VALUE..., the grouping key. PUT replaces every metric of
// the group (a finished run's complete picture); POST replaces only the metric names it sends
// (a failed run's failure timestamp without erasing the last success).
//
// Bounded: each attempt has a timeout; transient failures (transport errors, HTTP 429 and 5xx)
// are retried with exponential backoff and full jitter, within max_attempts and
// max_retry_seconds; other answers (400: the gateway refused the metrics) are not retried.
// Error messages never hold the URL's user and password nor its query.
// Thread-safety: PushMetrics is thread-safe.
#ifndef LOTE_MONITORING_PUSHGATEWAY_H_
#define LOTE_MONITORING_PUSHGATEWAY_H_

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lote/aws/http.h"
#include "lote/base/status.h"

namespace lote::monitoring {

struct PushgatewayOptions {
  // http(s)://host:port[/path prefix]; may hold user:password@ (sent as basic auth by libcurl).
  std::string url;
  std::string job = "lote";
  // More grouping labels after job, in order: {"stage", "run"}. Pushed metrics should not carry
  // a `job` label or any of these labels themselves: the group's values are what Prometheus sees.
  std::vector<std::pair<std::string, std::string>> grouping;
  bool replace = true;  // PUT (replace the group) or POST (replace the names sent)
  double timeout_seconds = 10;
  double connect_timeout_seconds = 5;
  int max_attempts = 3;
  double max_retry_seconds = 20;
  // Transport; null: libcurl.
  std::shared_ptr<aws::HttpClient> http;
};

// The push URL: URL/metrics/job/JOB[/NAME/VALUE...]. A value that is empty or holds anything but
// [A-Za-z0-9._~-] is written as NAME@base64/BASE64URL (the gateway's encoding, so '/' and UTF-8
// are safe). InvalidArgument for a URL that is not http(s):// or a bad label name.
Result<std::string> PushgatewayUrl(const PushgatewayOptions& options);

// Sends `text` (text exposition format 0.0.4). Errors: InvalidArgument (bad options; or the
// gateway answered 4xx other than 429: the message has its status and the start of its body),
// Unavailable (the gateway could not be reached, or kept answering 429/5xx, after the retries).
Status PushMetrics(const PushgatewayOptions& options, std::string_view text);

// `url` without user:password@ and without its query and fragment, for messages.
std::string RedactUrl(std::string_view url);

}  // namespace lote::monitoring

#endif  // LOTE_MONITORING_PUSHGATEWAY_H_
