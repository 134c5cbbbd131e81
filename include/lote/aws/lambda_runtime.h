// The client side of AWS Lambda's runtime API (version 2018-06-01): what a container image's
// entry point speaks to the Lambda service to receive invocations and return their results.
// The service gives the API's address in AWS_LAMBDA_RUNTIME_API (HOST:PORT, plain HTTP on a
// private link); the runtime loops: GET /runtime/invocation/next (blocks until an event comes),
// runs the function, then POSTs /runtime/invocation/ID/response or /runtime/invocation/ID/error.
// A failure before the first invocation is POSTed to /runtime/init/error.
//
// Bounds: an event larger than `max_event_bytes` fails Next (the service's own limit is 6 MB);
// a response larger than `max_response_bytes` is not sent: it is reported as the error Lambda
// itself gives, Function.ResponseSizeTooLarge. Nothing here logs; errors name the call, never
// an event's or a response's contents.
// Thread-safety: a LambdaRuntimeClient is used by one thread (the API serves one invocation at a
// time per execution environment).
#ifndef LOTE_AWS_LAMBDA_RUNTIME_H_
#define LOTE_AWS_LAMBDA_RUNTIME_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "lote/aws/http.h"
#include "lote/base/status.h"

namespace lote::aws {

struct LambdaInvocation {
  std::string request_id;    // Lambda-Runtime-Aws-Request-Id
  int64_t deadline_ms = 0;   // Lambda-Runtime-Deadline-Ms: when the service stops the function
                             // (Unix milliseconds; 0 when absent)
  std::string function_arn;  // Lambda-Runtime-Invoked-Function-Arn
  std::string trace_id;      // Lambda-Runtime-Trace-Id (X-Ray)
  std::string event;         // the payload, as sent (JSON text)
};

// A function error as the runtime API takes it: Step Functions' lambda:invoke fails the task
// with `type` as the error name and the whole error object as the cause.
struct LambdaError {
  std::string type;  // errorType, e.g. "Lote.InvalidArgument"
  std::string message;
};

struct LambdaRuntimeOptions {
  std::string api;                        // HOST:PORT (AWS_LAMBDA_RUNTIME_API)
  uint64_t max_event_bytes = 6 << 20;     // Lambda's synchronous payload limit
  uint64_t max_response_bytes = 6 << 20;  // Lambda's synchronous response limit
  double post_timeout_seconds = 60;       // a response or error report
  std::shared_ptr<HttpClient> http;       // null: curl
};

class LambdaRuntimeClient {
 public:
  // InvalidArgument when `options.api` is not HOST:PORT.
  static Result<std::unique_ptr<LambdaRuntimeClient>> Create(LambdaRuntimeOptions options);

  // The next invocation; waits as long as the service keeps the request open. Errors:
  // Unavailable (the API is unreachable or answered other than 200: the runtime should exit,
  // Lambda then starts a new one), ResourceExhausted (event over max_event_bytes),
  // InvalidArgument (no or a malformed request id).
  Result<LambdaInvocation> Next();
  // The invocation's result. Over max_response_bytes it sends Function.ResponseSizeTooLarge as
  // the invocation's error instead and returns ResourceExhausted.
  Status Respond(const LambdaInvocation& invocation, std::string_view response);
  Status ReportError(const LambdaInvocation& invocation, const LambdaError& error);
  // An error before the first invocation (bad configuration): Lambda fails the init phase.
  Status ReportInitError(const LambdaError& error);

 private:
  explicit LambdaRuntimeClient(LambdaRuntimeOptions options) : o_(std::move(options)) {}
  Status Post(const std::string& path, std::string_view body, const LambdaError* error,
              const char* what);

  LambdaRuntimeOptions o_;
};

// The JSON body of an error report: {"errorMessage": ..., "errorType": ..., "stackTrace": []}.
std::string LambdaErrorJson(const LambdaError& error);

}  // namespace lote::aws

#endif  // LOTE_AWS_LAMBDA_RUNTIME_H_
