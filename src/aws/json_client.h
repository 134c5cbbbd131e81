// A client for AWS's JSON protocols (awsJson1_0 / awsJson1_1: one POST to "/" per operation,
// the operation in `X-Amz-Target`, JSON in and out), as SQS, Step Functions and SageMaker speak
// them: SigV4 signing, retries where they are safe (transport failures, 5xx, 429 and the
// throttling error types) within a RetryPolicy, and errors mapped to Status codes with the
// service's own error type and message, never a credential, a signature or the request body.
// Thread-safety: thread-safe.
#ifndef LOTE_SRC_AWS_JSON_CLIENT_H_
#define LOTE_SRC_AWS_JSON_CLIENT_H_

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "aws/retry.h"
#include "lote/aws/credentials.h"
#include "lote/aws/http.h"
#include "lote/base/clock.h"
#include "lote/base/status.h"

namespace lote::aws {

struct JsonClientConfig {
  std::string endpoint;       // "https://sqs.us-east-1.amazonaws.com" or a local emulator
  std::string region;         // signing region
  std::string service;        // signing name: "sqs", "states", "sagemaker"
  std::string target_prefix;  // "AmazonSQS", "AWSStepFunctions", "SageMaker"
  std::string json_version = "1.0";
  RetryPolicy retry;
  double request_timeout_seconds = 60;
  std::shared_ptr<HttpClient> http;
  std::shared_ptr<CredentialsProvider> credentials;
  std::shared_ptr<const Clock> clock;
};

class JsonClient {
 public:
  explicit JsonClient(JsonClientConfig config);
  // Calls `operation` with `request`; the answer's JSON (an empty object for an empty body).
  // Errors: NotFound (…NotFound / …DoesNotExist types), PermissionDenied (403, AccessDenied),
  // InvalidArgument (other 4xx), Unavailable (retries spent), DataLoss (an answer that is not
  // JSON). Messages read "SERVICE OPERATION: STATUS TYPE: MESSAGE".
  Result<nlohmann::json> Call(std::string_view operation, const nlohmann::json& request,
                              double timeout_seconds = 0);

 private:
  JsonClientConfig config_;
};

}  // namespace lote::aws

#endif  // LOTE_SRC_AWS_JSON_CLIENT_H_
