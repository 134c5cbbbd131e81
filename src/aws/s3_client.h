// S3Client: the S3 REST operations lote uses, one method each, with SigV4 signing, retries where
// they are safe and S3's errors mapped to Status codes. S3Storage (src/storage/s3_storage.cc)
// builds the Storage semantics on it; `lote watch` lists with it.
//
// Retries: a transport failure (connection refused or reset, timeout, truncated answer) or a 500,
// 502, 503 (SlowDown), 504, 429 or 400 RequestTimeout is retried with exponential backoff and full
// jitter (sleep uniform in [0, min(max, base * 2^attempt)]) while attempts < max_attempts and the
// time spent < max_retry_seconds; then Unavailable. Every request is signed again per attempt.
// Other statuses are final: 404 NotFound, 403 PermissionDenied, 412 FailedPrecondition, 409
// Aborted, others InvalidArgument / Internal. Messages read "S3 OPERATION s3://BUCKET/KEY: STATUS
// CODE: MESSAGE" with S3's own Code and Message only (S3's SignatureDoesNotMatch body also holds
// the string to sign and the access key id, which are never copied), control characters escaped.
//
// Conditional writes and retries: a PUT with If-None-Match: * (or If-Match) whose first attempt
// reached S3 but whose answer was lost is retried and then answered 412 by its own earlier
// success. PutObject reports whether an attempt was ambiguous (S3PutOptions::ambiguous) so that the
// caller of a failed conditional write can check whether the object holds its own bytes.
// Thread-safety: thread-safe.
#ifndef LOTE_AWS_S3_CLIENT_H_
#define LOTE_AWS_S3_CLIENT_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lote/aws/credentials.h"
#include "lote/aws/http.h"
#include "lote/base/clock.h"
#include "lote/base/status.h"

namespace lote::aws {

struct S3ClientConfig {
  std::string endpoint;  // "http://127.0.0.1:9000"; empty: https://s3.REGION.amazonaws.com
  std::string region = "us-east-1";
  bool path_style = false;
  std::string sse;  // "", "AES256", "aws:kms"
  std::string kms_key_id;
  int max_attempts = 5;
  double max_retry_seconds = 60;
  double base_backoff_seconds = 0.1;
  double max_backoff_seconds = 5;
  double request_timeout_seconds = 300;
  std::shared_ptr<HttpClient> http;
  std::shared_ptr<CredentialsProvider> credentials;
  std::shared_ptr<const Clock> clock;
};

struct S3ObjectInfo {
  std::string key;
  uint64_t size = 0;
  std::string etag;  // as S3 gives it, with its quotes
  int64_t mtime_ns = 0;
};

struct S3ListPage {
  std::vector<S3ObjectInfo> objects;
  std::string next_continuation_token;  // empty: last page
};

struct S3PutOptions {
  bool if_none_match = false;  // If-None-Match: *
  std::string if_match;        // If-Match: ETAG
  // When set, receives whether an earlier attempt of this request may have taken effect (see
  // "Conditional writes and retries" above).
  bool* ambiguous = nullptr;
};

struct S3PutResult {
  std::string etag;
};

struct S3CompletedPart {
  int number = 0;
  std::string etag;
  std::string checksum_sha256;  // base64, as sent with the part
};

class S3Client {
 public:
  explicit S3Client(S3ClientConfig config);

  Result<S3ListPage> ListObjectsV2(std::string_view bucket, std::string_view prefix,
                                   std::string_view continuation_token,
                                   std::string_view start_after = {}, int max_keys = 1000);
  Result<S3ObjectInfo> HeadObject(std::string_view bucket, std::string_view key);
  // The whole object, or `length` bytes from `offset` when `length` is set (an offset at or past
  // the end gives an empty string). With `if_match`, FailedPrecondition if the object changed.
  Result<std::string> GetObject(std::string_view bucket, std::string_view key, uint64_t offset = 0,
                                std::optional<uint64_t> length = {}, std::string_view if_match = {},
                                uint64_t max_bytes = UINT64_MAX);
  // Conditional failures: AlreadyExists (If-None-Match) or FailedPrecondition (If-Match).
  Result<S3PutResult> PutObject(std::string_view bucket, std::string_view key,
                                std::string_view body, const S3PutOptions& options = {});
  Status DeleteObject(std::string_view bucket, std::string_view key);
  // At most 1,000 keys; fails if S3 reports any key it could not delete.
  Status DeleteObjects(std::string_view bucket, const std::vector<std::string>& keys);
  // Server-side copy of an object up to 5 GiB.
  Status CopyObject(std::string_view src_bucket, std::string_view src_key,
                    std::string_view dst_bucket, std::string_view dst_key);

  Result<std::string> CreateMultipartUpload(std::string_view bucket, std::string_view key);
  Result<S3CompletedPart> UploadPart(std::string_view bucket, std::string_view key,
                                     std::string_view upload_id, int part_number,
                                     std::string_view body);
  // Copies bytes [first, last] of the source object as part `part_number`.
  Result<S3CompletedPart> UploadPartCopy(std::string_view bucket, std::string_view key,
                                         std::string_view upload_id, int part_number,
                                         std::string_view src_bucket, std::string_view src_key,
                                         uint64_t first, uint64_t last);
  Result<S3PutResult> CompleteMultipartUpload(std::string_view bucket, std::string_view key,
                                              std::string_view upload_id,
                                              const std::vector<S3CompletedPart>& parts,
                                              const S3PutOptions& options = {});
  Status AbortMultipartUpload(std::string_view bucket, std::string_view key,
                              std::string_view upload_id);

  // "s3://BUCKET/KEY" for messages.
  static std::string Describe(std::string_view bucket, std::string_view key);

  struct Call;  // one operation: built, signed, sent, retried (s3_client.cc)

 private:
  Result<HttpResponse> Execute(Call& call);
  std::string Url(std::string_view bucket, std::string_view key, std::string_view query) const;

  S3ClientConfig config_;
  std::string scheme_;  // "http" or "https"
  std::string host_;    // host[:port] of the endpoint
  std::string base_path_;
};

// Parses "bucket/key" out of "s3://bucket/key". InvalidArgument for a bad bucket name.
struct S3Location {
  std::string bucket;
  std::string key;
};
Result<S3Location> ParseS3Uri(std::string_view uri);

}  // namespace lote::aws

#endif  // LOTE_AWS_S3_CLIENT_H_
