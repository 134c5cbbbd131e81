// AWS Signature Version 4
// (docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html), computed
// with OpenSSL's HMAC-SHA256 and SHA-256 (ADR 0011): the one signer for every AWS API lote calls.
// Sign() adds `x-amz-date`, `x-amz-security-token` (session credentials), `x-amz-content-sha256`
// and `Authorization` to a request whose method, URL, headers and payload hash are final, and
// `host` (from the URL, ":port" when not the scheme's default) when the request has none, so that
// the Host sent is the one signed.
//
// Canonical request: the path as sent (S3 object keys are encoded once, by the caller, with
// UriEncode(key, true)); for other services "." , ".." and empty segments are removed and each
// segment is encoded again, as AWS requires (`double_encode_path`); query parameters decoded, then
// encoded with UriEncode(..., false), sorted by name then value, a parameter without '=' having an
// empty value ('+' is a plus, not a space); headers lower-cased, values trimmed and inner runs of
// spaces and tabs collapsed, repeated headers joined with ',', sorted; `host` always signed;
// hop-by-hop headers (connection, expect, keep-alive, proxy-*, te, trailer, transfer-encoding,
// upgrade), user-agent and x-amzn-trace-id never signed (a proxy may change them), as botocore.
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
  // Sends and signs `x-amz-content-sha256`: S3 requires it. AWS's generic SigV4 examples (IAM's)
  // do not send it; false reproduces them.
  bool content_sha256_header = true;
};

// Signs `request` in place (adds the headers above; replaces any it already had, whatever their
// case). InvalidArgument for a URL it cannot parse (not http(s), user info, a bad port, a byte
// outside printable ASCII, a '%' not followed by two hex digits in the query), credentials without
// an access key or secret, an empty region or service, or a header with a line break. Messages
// never hold a header value, a secret or the URL's query.
Status Sign(HttpRequest& request, const Credentials& credentials, const SigningParams& params);

// The pieces, exposed for tests against AWS's published examples. CanonicalRequest signs the
// request's headers as they are (plus `host` from the URL when absent) and returns "" for a URL
// that Sign would refuse; `signed_headers` (optional) receives "host;x-amz-date;...".
std::string CanonicalRequest(const HttpRequest& request, std::string_view payload_sha256,
                             bool double_encode_path, std::string* signed_headers);
std::string StringToSign(std::string_view amz_date, std::string_view scope,
                         std::string_view canonical_request);

}  // namespace lote::aws

#endif  // LOTE_AWS_SIGV4_H_
