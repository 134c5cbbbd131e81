// Amazon SQS, as far as `lote watch --queue` needs it: receive messages (long polling), delete
// them once handled; and the S3 event notifications they carry, in S3's own format and in
// EventBridge's. Spoken in SQS's JSON protocol (AmazonSQS.ReceiveMessage, ...), signed with
// SigV4, retried like every AWS call of lote (src/aws/retry.h).
// Thread-safety: an SqsQueue is thread-safe; ParseS3Event is a pure function.
#ifndef LOTE_AWS_SQS_H_
#define LOTE_AWS_SQS_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "lote/aws/credentials.h"
#include "lote/aws/http.h"
#include "lote/base/clock.h"
#include "lote/base/status.h"

namespace lote::aws {

struct SqsMessage {
  std::string message_id;
  std::string receipt_handle;  // what Delete needs; changes with every receipt
  std::string body;
};

struct SqsOptions {
  // Endpoint: empty means AWS_ENDPOINT_URL_SQS / AWS_ENDPOINT_URL / the profile's (as the AWS CLI
  // resolves them), else the queue URL's own scheme and host.
  std::string endpoint;
  // Signing region: empty means the queue URL's (sqs.REGION.amazonaws.com), else AWS_REGION /
  // AWS_DEFAULT_REGION / the profile's, else us-east-1.
  std::string region;
  int max_attempts = 5;
  double max_retry_seconds = 60;
  std::shared_ptr<const AwsEnvironment> env;         // null: the process environment
  std::shared_ptr<HttpClient> http;                  // null: curl
  std::shared_ptr<CredentialsProvider> credentials;  // null: the default chain
  std::shared_ptr<const Clock> clock;                // null: SystemClock()
};

class SqsQueue {
 public:
  virtual ~SqsQueue() = default;
  // Up to `max_messages` (1..10) messages, waiting up to `wait_seconds` (0..20) for the first;
  // each stays invisible to other receivers for `visibility_timeout_seconds`, after which it is
  // delivered again unless deleted. Errors: NotFound (no such queue), PermissionDenied,
  // Unavailable.
  virtual Result<std::vector<SqsMessage>> Receive(int max_messages, int wait_seconds,
                                                  int visibility_timeout_seconds) = 0;
  virtual Status Delete(const SqsMessage& message) = 0;
  // Makes a received message visible again after `seconds` (0: at once), e.g. to retry it
  // sooner than its visibility timeout after a failure.
  virtual Status ChangeVisibility(const SqsMessage& message, int seconds) = 0;
  virtual const std::string& url() const = 0;
};

// InvalidArgument for a URL that is not http(s)://HOST/ACCOUNT/NAME.
Result<std::unique_ptr<SqsQueue>> OpenSqsQueue(const std::string& queue_url,
                                               SqsOptions options = {});

// One object an S3 event notification names.
struct S3EventObject {
  std::string bucket, key;  // the key decoded
  uint64_t size = 0;
  std::string etag;        // without quotes, as the event gives it ("" when absent)
  std::string event_name;  // "ObjectCreated:Put", "Object Created", ...
};

// The objects created according to an SQS message body: S3's notification
// ({"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:...", "s3": {...}}]}, keys
// form-encoded: '+' is a space), or EventBridge's ({"source": "aws.s3", "detail-type": "Object
// Created", "detail": {...}}). Empty for S3's s3:TestEvent and for other event types (removals).
// InvalidArgument for a body that is neither (the message is not lote's to handle).
Result<std::vector<S3EventObject>> ParseS3Event(std::string_view body);

}  // namespace lote::aws

#endif  // LOTE_AWS_SQS_H_
