#include "lote/aws/lambda_runtime.h"

#include <charconv>
#include <nlohmann/json.hpp>

#include "lote/base/ascii.h"

namespace lote::aws {
namespace {

constexpr std::string_view kApiVersion = "/2018-06-01";

// HOST:PORT with a DNS name, an IPv4 address or a bracketed IPv6 address, nothing else (no path,
// user or scheme that would change what the URL means).
bool IsHostPort(std::string_view api) {
  const size_t colon = api.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == api.size()) return false;
  std::string_view host = api.substr(0, colon), port = api.substr(colon + 1);
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535) {
    return false;
  }
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') return false;
    host = host.substr(1, host.size() - 2);
    for (char c : host) {
      if (!IsAsciiHexDigit(c) && c != ':' && c != '.') return false;
    }
    return true;
  }
  for (char c : host) {
    if (!IsAsciiAlnum(c) && c != '.' && c != '-') return false;
  }
  return true;
}

// Lambda's request ids are UUIDs; anything that would not stay one path segment is refused.
bool IsRequestId(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    if (!IsAsciiAlnum(c) && c != '-' && c != '_' && c != '.') return false;
  }
  return id != "." && id != "..";
}

std::string HeaderOr(const HttpHeaders& headers, std::string_view name) {
  const std::string* v = FindHeader(headers, name);
  return v ? *v : std::string();
}

}  // namespace

std::string LambdaErrorJson(const LambdaError& error) {
  nlohmann::json body{{"errorMessage", error.message},
                      {"errorType", error.type},
                      {"stackTrace", nlohmann::json::array()}};
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Result<std::unique_ptr<LambdaRuntimeClient>> LambdaRuntimeClient::Create(
    LambdaRuntimeOptions options) {
  if (!IsHostPort(options.api)) {
    return InvalidArgumentError(
        "AWS_LAMBDA_RUNTIME_API must be HOST:PORT (the Lambda service sets it)");
  }
  if (!options.http) {
    CurlHttpClientOptions curl;
    curl.max_idle_connections = 2;
    options.http = NewCurlHttpClient(std::move(curl));
  }
  return std::unique_ptr<LambdaRuntimeClient>(new LambdaRuntimeClient(std::move(options)));
}

Result<LambdaInvocation> LambdaRuntimeClient::Next() {
  HttpRequest request;
  request.url = "http://" + o_.api + std::string(kApiVersion) + "/runtime/invocation/next";
  // The service holds the request open until an event comes, however long that is.
  request.timeout_seconds = 0;
  request.low_speed_bytes = 0;
  request.max_body_bytes = o_.max_event_bytes;
  auto response = o_.http->Send(request);
  if (!response.ok()) {
    if (response.status().code() == StatusCode::kResourceExhausted) {
      return ResourceExhaustedError("Lambda runtime API: an event over " +
                                    std::to_string(o_.max_event_bytes) + " bytes");
    }
    return UnavailableError("Lambda runtime API: next invocation: " + response.status().message());
  }
  if (response->status != 200) {
    return UnavailableError("Lambda runtime API: next invocation answered HTTP " +
                            std::to_string(response->status));
  }
  LambdaInvocation inv;
  inv.request_id = HeaderOr(response->headers, "Lambda-Runtime-Aws-Request-Id");
  if (!IsRequestId(inv.request_id)) {
    return InvalidArgumentError(
        "Lambda runtime API: an invocation without a valid Lambda-Runtime-Aws-Request-Id");
  }
  const std::string deadline = HeaderOr(response->headers, "Lambda-Runtime-Deadline-Ms");
  if (!deadline.empty()) {
    auto [end, ec] =
        std::from_chars(deadline.data(), deadline.data() + deadline.size(), inv.deadline_ms);
    if (ec != std::errc() || end != deadline.data() + deadline.size()) inv.deadline_ms = 0;
  }
  inv.function_arn = HeaderOr(response->headers, "Lambda-Runtime-Invoked-Function-Arn");
  inv.trace_id = HeaderOr(response->headers, "Lambda-Runtime-Trace-Id");
  inv.event = std::move(response->body);
  return inv;
}

Status LambdaRuntimeClient::Post(const std::string& path, std::string_view body,
                                 const LambdaError* error, const char* what) {
  HttpRequest request;
  request.method = "POST";
  request.url = "http://" + o_.api + std::string(kApiVersion) + path;
  request.headers.emplace_back("Content-Type", "application/json");
  if (error != nullptr) {
    // The service reads the error's type from this header; keep it one header-safe token.
    std::string type;
    for (char c : error->type.substr(0, 128)) {
      type.push_back(IsAsciiAlnum(c) || c == '.' || c == '_' || c == '-' ? c : '_');
    }
    request.headers.emplace_back("Lambda-Runtime-Function-Error-Type",
                                 type.empty() ? "Unhandled" : type);
  }
  request.body = body;
  request.timeout_seconds = o_.post_timeout_seconds;
  request.max_body_bytes = 1 << 16;
  auto response = o_.http->Send(request);
  if (!response.ok()) {
    return UnavailableError(std::string("Lambda runtime API: ") + what + ": " +
                            response.status().message());
  }
  // 202 Accepted; 400/403/413 and 500 mean the environment is in a state to leave (AWS: "the
  // runtime should exit promptly").
  if (response->status != 202) {
    return UnavailableError(std::string("Lambda runtime API: ") + what + " answered HTTP " +
                            std::to_string(response->status));
  }
  return Status::Ok();
}

Status LambdaRuntimeClient::Respond(const LambdaInvocation& invocation, std::string_view response) {
  if (!IsRequestId(invocation.request_id)) {
    return InvalidArgumentError("Lambda runtime API: not a request id");
  }
  if (response.size() > o_.max_response_bytes) {
    LambdaError too_large{"Function.ResponseSizeTooLarge",
                          "Response payload size (" + std::to_string(response.size()) +
                              " bytes) exceeded maximum allowed payload size (" +
                              std::to_string(o_.max_response_bytes) + " bytes)."};
    LOTE_RETURN_IF_ERROR(ReportError(invocation, too_large));
    return ResourceExhaustedError("Lambda runtime API: a response of " +
                                  std::to_string(response.size()) + " bytes, over " +
                                  std::to_string(o_.max_response_bytes));
  }
  return Post("/runtime/invocation/" + invocation.request_id + "/response", response, nullptr,
              "invocation response");
}

Status LambdaRuntimeClient::ReportError(const LambdaInvocation& invocation,
                                        const LambdaError& error) {
  if (!IsRequestId(invocation.request_id)) {
    return InvalidArgumentError("Lambda runtime API: not a request id");
  }
  return Post("/runtime/invocation/" + invocation.request_id + "/error", LambdaErrorJson(error),
              &error, "invocation error");
}

Status LambdaRuntimeClient::ReportInitError(const LambdaError& error) {
  return Post("/runtime/init/error", LambdaErrorJson(error), &error, "init error");
}

}  // namespace lote::aws
