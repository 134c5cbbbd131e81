#include "aws/s3_client.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <ctime>
#include <thread>

#include "aws/retry.h"
#include "aws/xml.h"
#include "lote/aws/sigv4.h"
#include "lote/base/digest.h"
#include "lote/text/utf8.h"

namespace lote::aws {

struct S3Client::Call {
  Call(std::string op_name, std::string_view bucket_name, std::string_view object_key,
       std::string http_method = "GET")
      : op(std::move(op_name)),
        bucket(bucket_name),
        key(object_key),
        method(std::move(http_method)) {}

  std::string op;  // "GetObject": names the operation in messages
  std::string_view bucket;
  std::string_view key;
  std::string_view subject;  // what messages name after the bucket when not `key` (a prefix)
  std::string method;
  std::string query;  // encoded, without '?'
  HttpHeaders headers;
  std::string_view body;
  std::string body_sha256_hex;  // the body's hash when the caller has it already (else computed)
  uint64_t max_body_bytes = 16 << 20;
  // CopyObject, UploadPartCopy and CompleteMultipartUpload can fail after their 200 status line:
  // the body is then an <Error> document.
  bool error_in_200 = false;
  // Set by Execute: an earlier attempt of this call may have taken effect on S3 (its request was
  // sent but the answer was lost or was a 5xx).
  bool ambiguous = false;
};

namespace {

// Hex and base64 SHA-256 of a body: the payload hash signed, and S3's integrity check.
struct BodyHash {
  std::string hex;
  std::string base64;
};
BodyHash HashBody(std::string_view body) {
  Sha256 h;
  h.Update(body);
  std::array<uint8_t, 32> d = h.Final();
  return {HexEncode(d.data(), d.size()),
          Base64Encode(std::string_view(reinterpret_cast<const char*>(d.data()), d.size()))};
}

// "2009-10-12T17:50:30.000Z" (listings) -> ns since the epoch; 0 when unparsable.
int64_t ParseIsoTime(const std::string& s) {
  std::tm tm{};
  if (strptime(s.c_str(), "%Y-%m-%dT%H:%M:%S", &tm) == nullptr) return 0;
  int64_t ns = static_cast<int64_t>(timegm(&tm)) * 1000000000;
  size_t dot = s.find('.');
  if (dot != std::string::npos) {
    int64_t frac = 0, scale = 100000000;
    for (size_t i = dot + 1;
         i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])) && scale > 0;
         ++i, scale /= 10) {
      frac += (s[i] - '0') * scale;
    }
    ns += frac;
  }
  return ns;
}

// "Wed, 12 Oct 2009 17:50:00 GMT" (Last-Modified) -> ns since the epoch; 0 when unparsable.
int64_t ParseHttpTime(const std::string& s) {
  std::tm tm{};
  if (strptime(s.c_str(), "%a, %d %b %Y %H:%M:%S", &tm) == nullptr) return 0;
  return static_cast<int64_t>(timegm(&tm)) * 1000000000;
}

bool Retryable(int status, std::string_view code) {
  switch (status) {
    case 500:
    case 502:
    case 503:
    case 504:
    case 429:
      return true;
    case 400:
      return code == "RequestTimeout";
    case 409:
      return code == "ConditionalRequestConflict" || code == "OperationAborted";
    default:
      return false;
  }
}

// S3's error Code and Message from an error body (empty when there is none or it is not XML).
struct S3Error {
  std::string code;
  std::string message;
};
S3Error ParseError(std::string_view body) {
  if (body.empty()) return {};
  auto xml = ParseXml(body);
  if (!xml.ok() || xml->name != "Error") return {};
  std::string message = xml->ChildText("Message");
  if (message.size() > 200) message.resize(200);
  return {xml->ChildText("Code"), message};
}

std::string Header(const HttpResponse& r, std::string_view name) {
  const std::string* v = FindHeader(r.headers, name);
  return v ? *v : std::string();
}

}  // namespace

std::string S3Client::Describe(std::string_view bucket, std::string_view key) {
  return text::EscapeControl("s3://" + std::string(bucket) + "/" + std::string(key));
}

Result<S3Location> ParseS3Uri(std::string_view uri) {
  if (!uri.starts_with("s3://")) return InvalidArgumentError("not an s3:// URI");
  std::string_view rest = uri.substr(5);
  size_t slash = rest.find('/');
  S3Location loc{std::string(rest.substr(0, slash)), slash == std::string_view::npos
                                                         ? std::string()
                                                         : std::string(rest.substr(slash + 1))};
  const std::string& b = loc.bucket;
  bool ok = b.size() >= 3 && b.size() <= 63 &&
            std::isalnum(static_cast<unsigned char>(b.front())) &&
            std::isalnum(static_cast<unsigned char>(b.back()));
  for (char c : b) {
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-');
  }
  if (!ok) {
    return InvalidArgumentError("bad bucket name in " + text::EscapeControl(uri) +
                                " (3-63 characters: a-z, 0-9, '.', '-')");
  }
  return loc;
}

S3Client::S3Client(S3ClientConfig config) : config_(std::move(config)) {
  config_.clock = ClockOr(config_.clock);
  if (!config_.http) config_.http = NewCurlHttpClient();
  std::string endpoint = config_.endpoint.empty()
                             ? "https://s3." + config_.region + ".amazonaws.com"
                             : config_.endpoint;
  size_t sep = endpoint.find("://");
  scheme_ = sep == std::string::npos ? "https" : endpoint.substr(0, sep);
  std::string rest = sep == std::string::npos ? endpoint : endpoint.substr(sep + 3);
  size_t slash = rest.find('/');
  host_ = rest.substr(0, slash);
  base_path_ = slash == std::string::npos ? "" : rest.substr(slash);
  while (!base_path_.empty() && base_path_.back() == '/') base_path_.pop_back();
}

std::string S3Client::Url(std::string_view bucket, std::string_view key,
                          std::string_view query) const {
  std::string url = scheme_ + "://";
  if (config_.path_style || bucket.empty()) {
    url += host_ + base_path_ + "/" + std::string(bucket);
    if (!key.empty() || !bucket.empty()) url += "/";
  } else {
    url += std::string(bucket) + "." + host_ + base_path_ + "/";
  }
  url += UriEncode(key, /*keep_slash=*/true);
  if (!query.empty()) url += "?" + std::string(query);
  return url;
}

Result<HttpResponse> S3Client::Execute(Call& call) {
  const std::string what =
      "S3 " + call.op + " " + Describe(call.bucket, call.subject.empty() ? call.key : call.subject);
  if (!config_.credentials) {
    return FailedPreconditionError(what + ": no AWS credentials provider configured");
  }
  const std::string payload_hash =
      call.body_sha256_hex.empty() ? HashBody(call.body).hex : call.body_sha256_hex;
  const int64_t start = config_.clock->MonotonicNanos();
  Status last;
  for (int attempt = 0;; ++attempt) {
    auto credentials = config_.credentials->Get();
    if (!credentials.ok()) return credentials.status().WithContext(what);
    HttpRequest request;
    request.method = call.method;
    request.url = Url(call.bucket, call.key, call.query);
    request.headers = call.headers;
    request.body = call.body;
    request.timeout_seconds = config_.request_timeout_seconds;
    request.max_body_bytes = call.max_body_bytes;
    SigningParams params{config_.region, "s3", config_.clock->NowMicros(), payload_hash, false};
    LOTE_RETURN_IF_ERROR(Sign(request, *credentials, params).WithContext(what));

    auto response = config_.http->Send(request);
    bool retry = false;
    if (!response.ok()) {
      if (response.status().code() != StatusCode::kUnavailable) {
        return response.status().WithContext(what);
      }
      retry = true;
      last = response.status();
    } else {
      S3Error err;
      int status = response->status;
      if (status >= 200 && status < 300) {
        if (!call.error_in_200) return response;
        auto xml = ParseXml(response->body);
        if (xml.ok() && xml->name != "Error") return response;
        err = ParseError(response->body);
        if (err.code.empty()) err.code = "MalformedResponse";
        status = err.code == "InternalError" || err.code == "SlowDown" ? 500 : 400;
      } else {
        err = ParseError(response->body);
      }
      std::string detail = std::to_string(response->status) +
                           (err.code.empty() ? std::string() : " " + err.code) +
                           (err.message.empty() ? std::string() : ": " + err.message);
      detail = text::EscapeControl(detail);
      if (Retryable(status, err.code)) {
        retry = true;
        last = UnavailableError(detail);
      } else {
        std::string message = what + ": " + detail;
        switch (status) {
          case 404:
            if (err.code == "NoSuchBucket") {
              message = what + ": bucket " + text::EscapeControl(call.bucket) +
                        " does not exist (404 NoSuchBucket)";
            } else if (err.code == "NoSuchUpload") {
              message = what + ": multipart upload not found (404 NoSuchUpload)";
            }
            return NotFoundError(message);
          case 403:
            return Status(StatusCode::kPermissionDenied, message);
          case 412:
          case 304:
            return FailedPreconditionError(message);
          case 409:
            return AbortedError(message);
          case 416:
            return OutOfRangeError(message);
          case 301:
          case 307: {
            std::string region = Header(*response, "x-amz-bucket-region");
            return FailedPreconditionError(
                what + ": the bucket is in another region" +
                (region.empty() ? std::string() : " (" + text::EscapeControl(region) + ")") +
                "; set AWS_REGION or the endpoint");
          }
          default:
            if (status >= 400 && status < 500) return InvalidArgumentError(message);
            return InternalError(message);
        }
      }
    }
    if (retry) {
      if (call.method != "GET" && call.method != "HEAD") call.ambiguous = true;
      const RetryPolicy policy{config_.max_attempts, config_.max_retry_seconds,
                               config_.base_backoff_seconds, config_.max_backoff_seconds};
      auto sleep = NextBackoff(policy, attempt, config_.clock->SecondsSince(start));
      if (!sleep) {
        return UnavailableError(what + ": gave up after " + std::to_string(attempt + 1) +
                                " attempts: " + last.message());
      }
      std::this_thread::sleep_for(std::chrono::duration<double>(*sleep));
    }
  }
}

Result<S3ListPage> S3Client::ListObjectsV2(std::string_view bucket, std::string_view prefix,
                                           std::string_view continuation_token,
                                           std::string_view start_after, int max_keys) {
  Call call("ListObjectsV2", bucket, "");
  call.subject = prefix;
  call.query = "list-type=2&encoding-type=url&max-keys=" + std::to_string(max_keys) +
               "&prefix=" + UriEncode(prefix, false);
  if (!continuation_token.empty()) {
    call.query += "&continuation-token=" + UriEncode(continuation_token, false);
  }
  if (!start_after.empty()) call.query += "&start-after=" + UriEncode(start_after, false);
  LOTE_ASSIGN_OR_RETURN(HttpResponse response, Execute(call));
  auto xml = ParseXml(response.body);
  if (!xml.ok()) {
    return DataLossError("S3 ListObjectsV2 " + Describe(bucket, prefix) +
                         ": malformed answer: " + xml.status().message());
  }
  const bool url_encoded = xml->ChildText("EncodingType") == "url";
  S3ListPage page;
  for (const XmlElement& c : xml->children) {
    if (c.name != "Contents") continue;
    S3ObjectInfo info;
    info.key = url_encoded ? UrlDecode(c.ChildText("Key"), true) : c.ChildText("Key");
    info.size = std::strtoull(c.ChildText("Size").c_str(), nullptr, 10);
    info.etag = c.ChildText("ETag");
    info.mtime_ns = ParseIsoTime(c.ChildText("LastModified"));
    page.objects.push_back(std::move(info));
  }
  if (xml->ChildText("IsTruncated") == "true") {
    page.next_continuation_token = xml->ChildText("NextContinuationToken");
    if (page.next_continuation_token.empty()) {
      return DataLossError("S3 ListObjectsV2 " + Describe(bucket, prefix) +
                           ": truncated listing without a continuation token");
    }
  }
  return page;
}

Result<S3ObjectInfo> S3Client::HeadObject(std::string_view bucket, std::string_view key) {
  Call call("HeadObject", bucket, key, "HEAD");
  LOTE_ASSIGN_OR_RETURN(HttpResponse response, Execute(call));
  S3ObjectInfo info;
  info.key = std::string(key);
  info.size = std::strtoull(Header(response, "content-length").c_str(), nullptr, 10);
  info.etag = Header(response, "etag");
  info.mtime_ns = ParseHttpTime(Header(response, "last-modified"));
  return info;
}

Result<std::string> S3Client::GetObject(std::string_view bucket, std::string_view key,
                                        uint64_t offset, std::optional<uint64_t> length,
                                        std::string_view if_match, uint64_t max_bytes) {
  Call call("GetObject", bucket, key);
  if (length && *length == 0) return std::string();
  if (length && *length <= UINT64_MAX - offset) {
    call.headers.emplace_back(
        "range", "bytes=" + std::to_string(offset) + "-" + std::to_string(offset + *length - 1));
  } else if (offset > 0) {  // to the end (also a length reaching past 2^64)
    call.headers.emplace_back("range", "bytes=" + std::to_string(offset) + "-");
  }
  if (!if_match.empty()) call.headers.emplace_back("if-match", std::string(if_match));
  call.max_body_bytes = max_bytes;
  auto response = Execute(call);
  if (!response.ok()) {
    if (response.status().code() == StatusCode::kOutOfRange) return std::string();
    return response.status();
  }
  if (length && response->body.size() > *length) {
    return DataLossError("S3 GetObject " + Describe(bucket, key) +
                         ": the range answer is longer than asked");
  }
  return std::move(response->body);
}

namespace {

void AddEncryption(const S3ClientConfig& config, HttpHeaders& headers) {
  if (config.sse.empty()) return;
  headers.emplace_back("x-amz-server-side-encryption", config.sse);
  if (config.sse == "aws:kms" && !config.kms_key_id.empty()) {
    headers.emplace_back("x-amz-server-side-encryption-aws-kms-key-id", config.kms_key_id);
  }
}

}  // namespace

Result<S3PutResult> S3Client::PutObject(std::string_view bucket, std::string_view key,
                                        std::string_view body, const S3PutOptions& options) {
  Call call("PutObject", bucket, key, "PUT");
  call.body = body;
  const BodyHash hash = HashBody(body);  // S3's integrity check and the signed payload hash
  call.body_sha256_hex = hash.hex;
  call.headers.emplace_back("content-type", "application/octet-stream");
  call.headers.emplace_back("x-amz-checksum-sha256", hash.base64);
  if (options.if_none_match) call.headers.emplace_back("if-none-match", "*");
  if (!options.if_match.empty()) call.headers.emplace_back("if-match", options.if_match);
  AddEncryption(config_, call.headers);
  auto response = Execute(call);
  if (options.ambiguous != nullptr) *options.ambiguous = call.ambiguous;
  if (!response.ok()) {
    if (response.status().code() == StatusCode::kFailedPrecondition && options.if_none_match) {
      return Status(StatusCode::kAlreadyExists, response.status().message());
    }
    return response.status();
  }
  return S3PutResult{Header(*response, "etag")};
}

Status S3Client::DeleteObject(std::string_view bucket, std::string_view key) {
  Call call("DeleteObject", bucket, key, "DELETE");
  return Execute(call).status();
}

Status S3Client::DeleteObjects(std::string_view bucket, const std::vector<std::string>& keys) {
  if (keys.empty()) return Status::Ok();
  if (keys.size() > 1000) return InvalidArgumentError("DeleteObjects takes at most 1,000 keys");
  std::string body =
      "<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Quiet>true</Quiet>";
  for (const std::string& k : keys) body += "<Object><Key>" + XmlEscape(k) + "</Key></Object>";
  body += "</Delete>";
  Call call("DeleteObjects", bucket, "", "POST");
  call.query = "delete=";
  call.body = body;
  call.headers.emplace_back("content-type", "application/xml");
  call.headers.emplace_back("x-amz-sdk-checksum-algorithm", "SHA256");
  call.headers.emplace_back("x-amz-checksum-sha256", HashBody(body).base64);
  LOTE_ASSIGN_OR_RETURN(HttpResponse response, Execute(call));
  auto xml = ParseXml(response.body);
  if (!xml.ok()) {
    return DataLossError("S3 DeleteObjects " + Describe(bucket, "") +
                         ": malformed answer: " + xml.status().message());
  }
  for (const XmlElement& e : xml->children) {
    if (e.name != "Error") continue;
    return UnavailableError(
        "S3 DeleteObjects " + Describe(bucket, e.ChildText("Key")) + ": " +
        text::EscapeControl(e.ChildText("Code") + ": " + e.ChildText("Message")));
  }
  return Status::Ok();
}

Status S3Client::CopyObject(std::string_view src_bucket, std::string_view src_key,
                            std::string_view dst_bucket, std::string_view dst_key) {
  Call call("CopyObject", dst_bucket, dst_key, "PUT");
  call.error_in_200 = true;
  call.headers.emplace_back("x-amz-copy-source",
                            "/" + std::string(src_bucket) + "/" + UriEncode(src_key, true));
  AddEncryption(config_, call.headers);
  return Execute(call).status();
}

Result<std::string> S3Client::CreateMultipartUpload(std::string_view bucket, std::string_view key) {
  Call call("CreateMultipartUpload", bucket, key, "POST");
  call.query = "uploads=";
  call.headers.emplace_back("content-type", "application/octet-stream");
  call.headers.emplace_back("x-amz-checksum-algorithm", "SHA256");
  AddEncryption(config_, call.headers);
  LOTE_ASSIGN_OR_RETURN(HttpResponse response, Execute(call));
  auto xml = ParseXml(response.body);
  std::string id = xml.ok() ? xml->ChildText("UploadId") : std::string();
  if (id.empty()) {
    return DataLossError("S3 CreateMultipartUpload " + Describe(bucket, key) +
                         ": no UploadId in the answer");
  }
  return id;
}

Result<S3CompletedPart> S3Client::UploadPart(std::string_view bucket, std::string_view key,
                                             std::string_view upload_id, int part_number,
                                             std::string_view body) {
  Call call("UploadPart", bucket, key, "PUT");
  call.query =
      "partNumber=" + std::to_string(part_number) + "&uploadId=" + UriEncode(upload_id, false);
  call.body = body;
  const BodyHash hash = HashBody(body);
  const std::string checksum = hash.base64;
  call.body_sha256_hex = hash.hex;
  call.headers.emplace_back("content-type", "application/octet-stream");
  call.headers.emplace_back("x-amz-checksum-sha256", checksum);
  LOTE_ASSIGN_OR_RETURN(HttpResponse response, Execute(call));
  return S3CompletedPart{part_number, Header(response, "etag"), checksum};
}

Result<S3CompletedPart> S3Client::UploadPartCopy(std::string_view bucket, std::string_view key,
                                                 std::string_view upload_id, int part_number,
                                                 std::string_view src_bucket,
                                                 std::string_view src_key, uint64_t first,
                                                 uint64_t last) {
  Call call("UploadPartCopy", bucket, key, "PUT");
  call.error_in_200 = true;
  call.query =
      "partNumber=" + std::to_string(part_number) + "&uploadId=" + UriEncode(upload_id, false);
  call.headers.emplace_back("x-amz-copy-source",
                            "/" + std::string(src_bucket) + "/" + UriEncode(src_key, true));
  call.headers.emplace_back("x-amz-copy-source-range",
                            "bytes=" + std::to_string(first) + "-" + std::to_string(last));
  LOTE_ASSIGN_OR_RETURN(HttpResponse response, Execute(call));
  auto xml = ParseXml(response.body);
  if (!xml.ok() || xml->ChildText("ETag").empty()) {
    return DataLossError("S3 UploadPartCopy " + Describe(bucket, key) + ": no ETag in the answer");
  }
  return S3CompletedPart{part_number, xml->ChildText("ETag"), xml->ChildText("ChecksumSHA256")};
}

Result<S3PutResult> S3Client::CompleteMultipartUpload(std::string_view bucket, std::string_view key,
                                                      std::string_view upload_id,
                                                      const std::vector<S3CompletedPart>& parts,
                                                      const S3PutOptions& options) {
  std::string body = "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">";
  for (const S3CompletedPart& p : parts) {
    body += "<Part><PartNumber>" + std::to_string(p.number) + "</PartNumber><ETag>" +
            XmlEscape(p.etag) + "</ETag>";
    if (!p.checksum_sha256.empty()) {
      body += "<ChecksumSHA256>" + p.checksum_sha256 + "</ChecksumSHA256>";
    }
    body += "</Part>";
  }
  body += "</CompleteMultipartUpload>";
  Call call("CompleteMultipartUpload", bucket, key, "POST");
  call.error_in_200 = true;
  call.query = "uploadId=" + UriEncode(upload_id, false);
  call.body = body;
  call.headers.emplace_back("content-type", "application/xml");
  if (options.if_none_match) call.headers.emplace_back("if-none-match", "*");
  if (!options.if_match.empty()) call.headers.emplace_back("if-match", options.if_match);
  auto response = Execute(call);
  if (!response.ok()) {
    if (response.status().code() == StatusCode::kFailedPrecondition && options.if_none_match) {
      return Status(StatusCode::kAlreadyExists, response.status().message());
    }
    return response.status();
  }
  auto xml = ParseXml(response->body);
  return S3PutResult{xml.ok() ? xml->ChildText("ETag") : std::string()};
}

Status S3Client::AbortMultipartUpload(std::string_view bucket, std::string_view key,
                                      std::string_view upload_id) {
  Call call("AbortMultipartUpload", bucket, key, "DELETE");
  call.query = "uploadId=" + UriEncode(upload_id, false);
  Status s = Execute(call).status();
  return s.code() == StatusCode::kNotFound ? Status::Ok() : s;
}

}  // namespace lote::aws
