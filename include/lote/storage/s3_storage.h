// S3Storage: the Storage interface on Amazon S3 or any S3-compatible endpoint (MinIO, Ceph, moto),
// over libcurl with SigV4 signing (lote/aws). URIs: s3://BUCKET/KEY, s3://BUCKET/PREFIX/, globs as
// for local paths. See docs/storage.md for addressing, credentials, retries, encryption and what a
// bucket needs.
//
// How each operation maps to S3:
//   List        ListObjectsV2, paginated (a glob lists from its literal prefix and filters)
//   Stat        HeadObject
//   Read/ReadRange/OpenRead   GetObject (Range); OpenRead streams ranges of `read_part_bytes`
//               with up to `read_ahead_ranges` of them in flight (each with If-Match on the
//               ETag seen at open), so memory is bounded whatever the object's size
//   Write/NewWriter  PutObject up to `multipart_threshold_bytes`, else a multipart upload whose
//               parts go up concurrently (at most `upload_concurrency` in flight) and which is
//               aborted on any failure; every body carries x-amz-checksum-sha256
//   CreateIfAbsent  PutObject with If-None-Match: * (412 -> AlreadyExists)
//   Rename      CopyObject (UploadPartCopy above 5 GiB) then DeleteObject
//   Delete      HeadObject (NotFound when absent), DeleteObject
//   DeletePrefix  ListObjectsV2 + DeleteObjects, 1,000 keys per request
//   TryLock     a lock object created with If-None-Match: * holding owner and expiry, renewed
//               with If-Match by a background thread; an expired lock is taken over with If-Match
//               on its ETag
// Retries (only where safe): 500, 502, 503 (SlowDown), 504, 429, RequestTimeout, connection
// resets and timeouts, with exponential backoff and full jitter, at most `max_attempts` and
// `max_retry_seconds`; then Unavailable naming the operation, bucket and key. 403 is
// PermissionDenied and 404 NotFound, never retried. No error or log names a credential, a
// signature or a session token.
// Thread-safety: as Storage.
#ifndef LOTE_STORAGE_S3_STORAGE_H_
#define LOTE_STORAGE_S3_STORAGE_H_

#include <cstdint>
#include <memory>
#include <string>

#include "lote/aws/credentials.h"
#include "lote/aws/http.h"
#include "lote/base/clock.h"
#include "lote/base/status.h"
#include "lote/storage/storage.h"

namespace lote::storage {

struct S3StorageOptions {
  // "http://127.0.0.1:9000" or "https://s3.eu-west-1.amazonaws.com"; empty: from the environment
  // (AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, the profile) or AWS's regional endpoint.
  std::string endpoint;
  // Empty: from the environment (AWS_REGION, ...) or "us-east-1".
  std::string region;
  // Path-style addressing (http://host/BUCKET/KEY) instead of virtual-hosted
  // (http://BUCKET.host/KEY). "auto": path style for a custom endpoint, virtual-hosted for AWS's.
  std::string addressing = "auto";  // auto | path | virtual
  // Server-side encryption: "" (the bucket's default), "AES256" or "aws:kms" (with kms_key_id, or
  // the account's aws/s3 key when empty).
  std::string sse;
  std::string kms_key_id;

  uint64_t multipart_threshold_bytes = 16ull << 20;
  uint64_t part_bytes = 8ull << 20;  // multipart part size (S3's minimum is 5 MiB)
  int upload_concurrency = 4;
  uint64_t read_part_bytes = 8ull << 20;  // OpenRead's range size
  // Rename copies an object larger than this (at most 5 GiB, CopyObject's limit) with a
  // multipart UploadPartCopy of copy_part_bytes parts (5 MiB..5 GiB).
  uint64_t copy_threshold_bytes = 5ull << 30;
  uint64_t copy_part_bytes = 1ull << 30;
  // OpenRead's ranges in flight (requested ahead of the reader, one thread each), 1..16. A
  // streaming read holds at most read_ahead_ranges + 1 ranges; dropping a source waits for those
  // in flight.
  int read_ahead_ranges = 4;

  int max_attempts = 5;
  double max_retry_seconds = 60;
  double base_backoff_seconds = 0.1;
  double max_backoff_seconds = 5;
  double request_timeout_seconds = 300;

  // How long a lock taken by TryLock lasts without renewal, and how often it is renewed.
  double lock_ttl_seconds = 60;
  double lock_renew_seconds = 20;

  std::shared_ptr<aws::HttpClient> http;                  // default: curl
  std::shared_ptr<aws::CredentialsProvider> credentials;  // default: the standard chain
  std::shared_ptr<const Clock> clock;                     // default: SystemClock()
  // The environment the defaults above are read from (tests give their own).
  std::shared_ptr<const aws::AwsEnvironment> env;
};

// An S3 storage; InvalidArgument for contradictory options (e.g. part_bytes under 5 MiB).
Result<std::shared_ptr<Storage>> NewS3Storage(S3StorageOptions options);

}  // namespace lote::storage

#endif  // LOTE_STORAGE_S3_STORAGE_H_
