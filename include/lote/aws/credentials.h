// AWS credentials, region and endpoint, found the way every AWS tool finds them, so a user's
// existing set-up works unchanged (see docs/storage.md):
//   credentials, first that has them:
//     1. environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN
//     2. shared files for profile AWS_PROFILE (default "default"): AWS_SHARED_CREDENTIALS_FILE
//        (~/.aws/credentials), then AWS_CONFIG_FILE (~/.aws/config, section "profile NAME")
//     3. the container endpoint: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI (on 169.254.170.2) or
//        AWS_CONTAINER_CREDENTIALS_FULL_URI (loopback or the ECS / EKS link-local hosts only), with
//        AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE or AWS_CONTAINER_AUTHORIZATION_TOKEN (what ECS,
//        EKS Pod Identity and SageMaker give a container)
//     4. EC2 instance metadata, IMDSv2 (a PUT for a session token, then the role's credentials);
//        AWS_EC2_METADATA_DISABLED=true skips it
//   region: AWS_REGION, AWS_DEFAULT_REGION, the profile's `region`
//   endpoint: AWS_ENDPOINT_URL_<SERVICE> (e.g. AWS_ENDPOINT_URL_S3), AWS_ENDPOINT_URL, the
//     profile's `endpoint_url`; none: the service's public AWS endpoint
// Temporary credentials (containers, instances, session tokens with an expiry) are fetched again
// `refresh_before_seconds` before they expire.
//
// The environment is read through an AwsEnvironment value, not getenv, so tests give their own.
// Secrets are lote::Secret: never printed, logged or put in error messages.
// Thread-safety: providers are thread-safe.
#ifndef LOTE_AWS_CREDENTIALS_H_
#define LOTE_AWS_CREDENTIALS_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "lote/aws/http.h"
#include "lote/base/clock.h"
#include "lote/base/secret.h"
#include "lote/base/status.h"

namespace lote::aws {

struct Credentials {
  std::string access_key_id;  // not secret by AWS's rules, but kept out of logs all the same
  Secret secret_access_key;
  Secret session_token;           // empty for long-term keys
  int64_t expires_at_micros = 0;  // 0: does not expire
  std::string source;             // "environment", "profile NAME", "container", "imds", "static"

  // "Credentials{access_key_id=AKIA..., secret_access_key=<secret: 40 bytes>, ...}": safe to log
  // (only the first four characters of the key id, which tell its kind).
  std::string DebugString() const;
};

// The variables lote reads, by name. FromProcess() snapshots the process environment (only the
// AWS_* variables and HOME).
struct AwsEnvironment {
  std::map<std::string, std::string, std::less<>> vars;
  static AwsEnvironment FromProcess();
  // The value of `name`, or nullopt when unset or empty.
  std::optional<std::string> Get(std::string_view name) const;
};

class CredentialsProvider {
 public:
  virtual ~CredentialsProvider() = default;
  // Current credentials, fetched or refreshed as needed. Errors: NotFound (no source in the chain
  // has credentials; the message lists what was tried; or AWS_PROFILE names a profile that is in
  // neither file), Unavailable (an endpoint did not answer, or answered an HTTP error),
  // InvalidArgument (a malformed file or answer, naming the file and line or the endpoint, never a
  // value; a half-set pair of keys; a refused AWS_CONTAINER_CREDENTIALS_FULL_URI host),
  // Unimplemented (the profile gets its credentials through role_arn, credential_process, SSO or
  // web identity, which lote does not do).
  // The chain stops at the first source that is configured: a broken one is an error, never
  // skipped (only an unreachable IMDS, the last source, ends in NotFound). Once a source has
  // given credentials, refreshes ask that source only. A refresh is due `refresh_before_seconds`
  // before expiry; one thread refreshes while the others keep using the cached credentials (or
  // wait, when there are none valid); when a refresh fails and the cached credentials have not
  // expired, they are returned and the refresh is tried again 10 s later.
  virtual Result<Credentials> Get() = 0;
};

struct ProviderOptions {
  std::shared_ptr<const Clock> clock;  // default SystemClock()
  std::shared_ptr<HttpClient> http;    // for the container and IMDS endpoints; default curl
  // Endpoint for IMDS (tests point it at a fake): default http://169.254.169.254, or
  // AWS_EC2_METADATA_SERVICE_ENDPOINT.
  std::string imds_endpoint;
  // The container endpoint host for AWS_CONTAINER_CREDENTIALS_RELATIVE_URI (tests point it at a
  // fake): default http://169.254.170.2.
  std::string container_endpoint;
  double refresh_before_seconds = 300;
  double endpoint_timeout_seconds = 2;
};

// The standard chain above, caching what it found. Nothing is read or fetched until Get().
// Shared files: whole-line comments (# or ;), `key = value` (or `key: value`), sections
// `[NAME]` in the credentials file and `[profile NAME]` (or `[default]`) in the config file.
// IMDS: a PUT /latest/api/token (X-aws-ec2-metadata-token-ttl-seconds: 21600), the role name from
// /latest/meta-data/iam/security-credentials/, then that role's credentials; the token is reused
// for its 6 hours, and on a 401 one new token is fetched and the request tried once more.
// AWS_CONTAINER_CREDENTIALS_FULL_URI may only name a loopback address, 169.254.170.2,
// 169.254.170.23 or fd00:ec2::23 (InvalidArgument otherwise).
std::shared_ptr<CredentialsProvider> NewDefaultCredentialsChain(AwsEnvironment env,
                                                                ProviderOptions options = {});
// Fixed credentials (configuration given explicitly, tests).
std::shared_ptr<CredentialsProvider> NewStaticCredentials(Credentials credentials);

// The region: AWS_REGION, AWS_DEFAULT_REGION, the profile's `region` in the config file; nullopt
// if none (also when the config file is malformed: Get() reports that).
std::optional<std::string> ResolveRegion(const AwsEnvironment& env);
// The endpoint URL for `service_id` ("s3", "sqs", "sfn", "sagemaker"): AWS_ENDPOINT_URL_<ID
// upper-cased, '-' and ' ' as '_'>, AWS_ENDPOINT_URL, the `endpoint_url` of the service's block in
// the profile's `services` section, the profile's `endpoint_url` (botocore's order); nullopt if
// none (use AWS's public endpoint). AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true (or, when that is
// unset, the profile's ignore_configured_endpoint_urls = true) disables them.
std::optional<std::string> ResolveEndpoint(const AwsEnvironment& env, std::string_view service_id);

}  // namespace lote::aws

#endif  // LOTE_AWS_CREDENTIALS_H_
