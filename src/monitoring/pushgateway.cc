#include "lote/monitoring/pushgateway.h"

#include <chrono>
#include <thread>

#include "aws/retry.h"
#include "lote/base/digest.h"
#include "lote/base/prometheus.h"

namespace lote::monitoring {
namespace {

bool IsPlain(std::string_view v) {
  if (v.empty()) return false;
  for (char c : v) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '~' || c == '-';
    if (!ok) return false;
  }
  return true;
}

void AppendPair(std::string* url, std::string_view name, std::string_view value) {
  url->push_back('/');
  url->append(name);
  if (IsPlain(value)) {
    url->push_back('/');
    url->append(value);
  } else {
    // The gateway reads an empty value as "=" under @base64.
    url->append("@base64/").append(value.empty() ? "=" : Base64UrlEncode(value));
  }
}

// Replaces every occurrence of `from` in *s by `to`.
void ReplaceAll(std::string* s, std::string_view from, std::string_view to) {
  if (from.empty()) return;
  for (size_t pos = s->find(from); pos != std::string::npos; pos = s->find(from, pos + to.size())) {
    s->replace(pos, from.size(), to);
  }
}

}  // namespace

std::string RedactUrl(std::string_view url) {
  url = url.substr(0, url.find_first_of("?#"));
  const size_t scheme = url.find("://");
  const size_t host = scheme == std::string_view::npos ? 0 : scheme + 3;
  const size_t path = url.find('/', host);
  const size_t at = url.substr(0, path).rfind('@');
  if (at == std::string_view::npos || at < host) return std::string(url);
  return std::string(url.substr(0, host)) + std::string(url.substr(at + 1));
}

Result<std::string> PushgatewayUrl(const PushgatewayOptions& o) {
  std::string_view base = o.url;
  if (base.substr(0, 7) != "http://" && base.substr(0, 8) != "https://") {
    return InvalidArgumentError("pushgateway URL must start with http:// or https://: " +
                                RedactUrl(base));
  }
  if (base.find_first_of("?#") != std::string_view::npos) {
    return InvalidArgumentError("pushgateway URL must not have a query: " + RedactUrl(base));
  }
  while (!base.empty() && base.back() == '/') base.remove_suffix(1);
  if (o.job.empty()) return InvalidArgumentError("pushgateway job name is empty");
  std::string url(base);
  url.append("/metrics");
  AppendPair(&url, "job", o.job);
  for (const auto& [name, value] : o.grouping) {
    if (!IsValidLabelName(name) || name == "job") {
      return InvalidArgumentError("bad pushgateway grouping label name '" + name + "'");
    }
    AppendPair(&url, name, value);
  }
  return url;
}

Status PushMetrics(const PushgatewayOptions& o, std::string_view text) {
  LOTE_ASSIGN_OR_RETURN(std::string url, PushgatewayUrl(o));
  const std::string shown = RedactUrl(url);
  std::shared_ptr<aws::HttpClient> http = o.http ? o.http : aws::NewCurlHttpClient();
  aws::HttpRequest req;
  req.method = o.replace ? "PUT" : "POST";
  req.url = url;
  req.headers = {{"Content-Type", std::string(PrometheusRegistry::kContentType)}};
  req.body = text;
  req.timeout_seconds = o.timeout_seconds;
  req.connect_timeout_seconds = o.connect_timeout_seconds;
  req.max_body_bytes = 1 << 20;
  aws::RetryPolicy policy;
  policy.max_attempts = std::max(1, o.max_attempts);
  policy.max_retry_seconds = o.max_retry_seconds;
  const auto start = std::chrono::steady_clock::now();
  std::string last;
  for (int attempt = 0;; ++attempt) {
    auto resp = http->Send(req);
    if (resp.ok() && resp->status >= 200 && resp->status < 300) return Status::Ok();
    if (resp.ok()) {
      std::string body = resp->body.substr(0, 200);
      while (!body.empty() && (body.back() == '\n' || body.back() == ' ')) body.pop_back();
      last = req.method + " " + shown + ": HTTP " + std::to_string(resp->status) +
             (body.empty() ? "" : ": " + body);
      if (resp->status != 429 && resp->status < 500) return InvalidArgumentError(last);
    } else {
      last = resp.status().message();
      // The transport's message names the URL as given, user and password included.
      ReplaceAll(&last, url, shown);
      const std::string authority = url.substr(0, url.find('/', url.find("://") + 3));
      ReplaceAll(&last, authority, RedactUrl(authority));
    }
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    auto sleep = aws::NextBackoff(policy, attempt, elapsed);
    if (!sleep) {
      return UnavailableError("pushing metrics failed after " + std::to_string(attempt + 1) +
                              " attempt(s): " + last);
    }
    std::this_thread::sleep_for(std::chrono::duration<double>(*sleep));
  }
}

}  // namespace lote::monitoring
