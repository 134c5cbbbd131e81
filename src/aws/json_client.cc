#include "aws/json_client.h"

#include <chrono>
#include <thread>

#include "lote/aws/sigv4.h"
#include "lote/text/utf8.h"

namespace lote::aws {
namespace {

// The short error type: "com.amazonaws.sqs#QueueDoesNotExist" -> "QueueDoesNotExist";
// "AWS.SimpleQueueService.NonExistentQueue" stays.
std::string ShortType(std::string type) {
  if (size_t hash = type.rfind('#'); hash != std::string::npos) type.erase(0, hash + 1);
  // "Code;Sender" (x-amzn-query-error) and "Code:..." keep the code.
  if (size_t end = type.find_first_of(":;"); end != std::string::npos) type.resize(end);
  return type;
}

bool Throttled(const std::string& type) {
  return type == "ThrottlingException" || type == "Throttling" || type == "RequestThrottled" ||
         type == "TooManyRequestsException" || type == "ServiceUnavailable" ||
         type == "InternalFailure" || type == "InternalError" || type == "RequestTimeout";
}

}  // namespace

JsonClient::JsonClient(JsonClientConfig config) : config_(std::move(config)) {
  config_.clock = ClockOr(config_.clock);
  if (!config_.http) config_.http = NewCurlHttpClient();
  while (!config_.endpoint.empty() && config_.endpoint.back() == '/') config_.endpoint.pop_back();
}

Result<nlohmann::json> JsonClient::Call(std::string_view operation, const nlohmann::json& request,
                                        double timeout_seconds) {
  const std::string what = config_.target_prefix + " " + std::string(operation);
  if (!config_.credentials) {
    return FailedPreconditionError(what + ": no AWS credentials provider configured");
  }
  const std::string body = request.dump();
  const int64_t start = config_.clock->MonotonicNanos();
  Status last;
  for (int attempt = 0;; ++attempt) {
    auto credentials = config_.credentials->Get();
    if (!credentials.ok()) return credentials.status().WithContext(what);
    HttpRequest http;
    http.method = "POST";
    http.url = config_.endpoint + "/";
    http.headers = {{"Content-Type", "application/x-amz-json-" + config_.json_version},
                    {"X-Amz-Target", config_.target_prefix + "." + std::string(operation)}};
    http.body = body;
    http.timeout_seconds = timeout_seconds > 0 ? timeout_seconds : config_.request_timeout_seconds;
    http.max_body_bytes = 16 << 20;
    SigningParams params;
    params.region = config_.region;
    params.service = config_.service;
    params.now_micros = config_.clock->NowMicros();
    params.double_encode_path = true;
    params.content_sha256_header = false;
    LOTE_RETURN_IF_ERROR(Sign(http, *credentials, params).WithContext(what));
    auto response = config_.http->Send(http);
    if (!response.ok()) {
      if (response.status().code() != StatusCode::kUnavailable) {
        return response.status().WithContext(what);
      }
      last = response.status();
    } else if (response->status >= 200 && response->status < 300) {
      if (response->body.empty()) return nlohmann::json::object();
      nlohmann::json answer = nlohmann::json::parse(response->body, nullptr, false);
      if (answer.is_discarded() || !answer.is_object()) {
        return DataLossError(what + ": the answer is not a JSON object");
      }
      return answer;
    } else {
      nlohmann::json err = nlohmann::json::parse(response->body, nullptr, false);
      std::string type, message;
      if (err.is_object()) {
        if (auto t = err.find("__type"); t != err.end() && t->is_string()) type = *t;
        for (const char* key : {"message", "Message"}) {
          if (auto m = err.find(key); m != err.end() && m->is_string()) message = *m;
        }
      }
      if (const std::string* q = FindHeader(response->headers, "x-amzn-query-error")) {
        if (type.empty()) type = *q;
      }
      type = ShortType(type);
      if (message.size() > 200) message.resize(200);
      const int status = response->status;
      std::string detail =
          text::EscapeControl(std::to_string(status) + (type.empty() ? "" : " " + type) +
                              (message.empty() ? "" : ": " + message));
      if (status >= 500 || status == 429 || Throttled(type)) {
        last = UnavailableError(detail);
      } else {
        const std::string full = what + ": " + detail;
        if (type.ends_with("NotFound") || type.ends_with("DoesNotExist") ||
            type == "AWS.SimpleQueueService.NonExistentQueue") {
          return NotFoundError(full);
        }
        if (status == 403 || type == "AccessDenied" || type == "AccessDeniedException") {
          return Status(StatusCode::kPermissionDenied, full);
        }
        return InvalidArgumentError(full);
      }
    }
    auto sleep = NextBackoff(config_.retry, attempt, config_.clock->SecondsSince(start));
    if (!sleep) {
      return UnavailableError(what + ": gave up after " + std::to_string(attempt + 1) +
                              " attempts: " + last.message());
    }
    std::this_thread::sleep_for(std::chrono::duration<double>(*sleep));
  }
}

}  // namespace lote::aws
