// AWS Signature Version 4
// (docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html), computed
// with OpenSSL's HMAC-SHA256 and SHA-256 (ADR 0011): the one signer for every AWS API lote calls.
// Sign() adds `x-amz-date`, `x-amz-security-token` (session credentials), `x-amz-content-sha256`
// and `Authorization` to a request whose method, URL, headers and payload hash are final.
//
// Canonical request: the path as sent (S3 object keys are encoded once, by the caller, with
// UriEncode(key, true)); for other services each segment is encoded again, as AWS requires
// (`double_encode_path`); query parameters sorted by name then value, each encoded; headers
// lower-cased, values trimmed and inner runs of spaces collapsed, sorted; `host` always signed.
// Thread-safety: pure functions.
#ifndef LOTE_AWS_SIGV4_H_
#define LOTE_AWS_SIGV4_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "lote/aws/credentials.h"
#include "lote/aws/http.h"

namespace lote::aws {

// The payload hash S3 accepts for a body it does not check against the signature.
inline constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";

struct SigningParams {
  std::string region;   // "us-east-1"
  std::string service;  // "s3", "sqs", "states", "sagemaker"
  int64_t now_micros = 0;
  // Hex SHA-256 of the body, or kUnsignedPayload. Empty: computed from request.body.
  std::string payload_sha256;
  bool double_encode_path = false;  // true for every service but S3
};

// Signs `request` in place (adds the headers above; replaces any it already had).
// InvalidArgument for a URL it cannot parse.
Status Sign(HttpRequest& request, const Credentials& credentials, const SigningParams& params);

// Hex SHA-256 of `data` (lower case).
std::string Sha256Hex(std::string_view data);

// The pieces, exposed for tests against AWS's published examples.
std::string CanonicalRequest(const HttpRequest& request, std::string_view payload_sha256,
                             bool double_encode_path, std::string* signed_headers);
std::string StringToSign(std::string_view amz_date, std::string_view scope,
                         std::string_view canonical_request);

}  // namespace lote::aws

#endif  // LOTE_AWS_SIGV4_H_
