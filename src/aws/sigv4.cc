#include "lote/aws/sigv4.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <array>
#include <iterator>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "aws/url.h"
#include "lote/base/ascii.h"
#include "lote/base/check.h"
#include "lote/base/clock.h"
#include "lote/base/digest.h"

namespace lote::aws {
namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decoding as RFC 3986 has it: '+' stays a plus (it is a space only in HTML forms).
Result<std::string> PercentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    const int hi = i + 1 < s.size() ? HexValue(s[i + 1]) : -1;
    const int lo = i + 2 < s.size() ? HexValue(s[i + 2]) : -1;
    if (hi < 0 || lo < 0) {
      return InvalidArgumentError("URL query has a '%' not followed by two hex digits");
    }
    out.push_back(static_cast<char>(hi << 4 | lo));
    i += 2;
  }
  return out;
}

// The query as AWS signs it: each name and value decoded, then encoded with UriEncode, sorted by
// name then value, joined with '&'; a parameter without '=' has an empty value ("lifecycle=").
Result<std::string> CanonicalQuery(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> params;
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view param = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (param.empty()) continue;
    const size_t eq = param.find('=');
    LOTE_ASSIGN_OR_RETURN(std::string name, PercentDecode(param.substr(0, eq)));
    std::string value;
    if (eq != std::string_view::npos) {
      LOTE_ASSIGN_OR_RETURN(value, PercentDecode(param.substr(eq + 1)));
    }
    params.emplace_back(UriEncode(name, false), UriEncode(value, false));
  }
  std::sort(params.begin(), params.end());
  std::string out;
  for (const auto& [name, value] : params) {
    if (!out.empty()) out.push_back('&');
    out += name;
    out.push_back('=');
    out += value;
  }
  return out;
}

// For services other than S3: the path with "." and ".." segments and empty segments removed,
// each segment encoded once more (the path as sent is already encoded once).
std::string DoubleEncodedPath(std::string_view path) {
  std::vector<std::string_view> segments;
  std::string_view rest = path;
  while (!rest.empty()) {
    const size_t slash = rest.find('/');
    const std::string_view segment = rest.substr(0, slash);
    rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
    if (segment.empty() || segment == ".") continue;
    if (segment == "..") {
      if (!segments.empty()) segments.pop_back();
      continue;
    }
    segments.push_back(segment);
  }
  std::string out;
  for (const std::string_view segment : segments) {
    out.push_back('/');
    out += UriEncode(segment, false);
  }
  const bool trailing_slash = !path.empty() && path.back() == '/';
  if (out.empty() || trailing_slash) out.push_back('/');
  return out;
}

// Trimmed, inner runs of spaces and tabs collapsed to one space.
std::string CanonicalHeaderValue(std::string_view value) {
  std::string out;
  bool pending_space = false;
  for (const char c : value) {
    if (c == ' ' || c == '\t') {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    out.push_back(c);
  }
  return out;
}

// Headers that a proxy or the transport may change or drop on the way (hop-by-hop ones, the user
// agent, the trace id), so they are not signed; botocore leaves out the same. `authorization` is
// the signature itself.
bool IsUnsignedHeader(std::string_view lower_name) {
  static constexpr std::string_view kUnsigned[] = {"authorization",
                                                   "connection",
                                                   "expect",
                                                   "keep-alive",
                                                   "proxy-authenticate",
                                                   "proxy-authorization",
                                                   "te",
                                                   "trailer",
                                                   "transfer-encoding",
                                                   "upgrade",
                                                   "user-agent",
                                                   "x-amzn-trace-id"};
  return std::find(std::begin(kUnsigned), std::end(kUnsigned), lower_name) != std::end(kUnsigned);
}

Result<std::string> BuildCanonicalRequest(const HttpRequest& request, const ParsedUrl& url,
                                          std::string_view payload_sha256, bool double_encode_path,
                                          std::string* signed_headers) {
  std::string out = request.method;
  out.push_back('\n');
  if (double_encode_path) {
    out += DoubleEncodedPath(url.path);
  } else {
    out += url.path.empty() ? "/" : url.path;
  }
  out.push_back('\n');
  LOTE_ASSIGN_OR_RETURN(const std::string query, CanonicalQuery(url.query));
  out += query;
  out.push_back('\n');

  // Repeated headers are one, their values joined with ',' in the order sent.
  std::map<std::string, std::string> headers;
  for (const auto& [name, value] : request.headers) {
    std::string lower = AsciiLowercase(name);
    if (IsUnsignedHeader(lower)) continue;
    auto [it, inserted] = headers.try_emplace(std::move(lower), CanonicalHeaderValue(value));
    if (!inserted) {
      it->second.push_back(',');
      it->second += CanonicalHeaderValue(value);
    }
  }
  headers.try_emplace("host", url.HostHeader());
  std::string names;
  for (const auto& [name, value] : headers) {
    out += name;
    out.push_back(':');
    out += value;
    out.push_back('\n');
    if (!names.empty()) names.push_back(';');
    names += name;
  }
  out.push_back('\n');
  out += names;
  out.push_back('\n');
  out += payload_sha256;
  if (signed_headers != nullptr) *signed_headers = std::move(names);
  return out;
}

using Mac = std::array<unsigned char, 32>;

Mac HmacSha256(std::string_view key, std::string_view message) {
  Mac out{};
  unsigned int len = 0;
  LOTE_CHECK(HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
                  reinterpret_cast<const unsigned char*>(message.data()), message.size(),
                  out.data(), &len) != nullptr &&
             len == out.size());
  return out;
}

std::string_view View(const Mac& mac) {
  return {reinterpret_cast<const char*>(mac.data()), mac.size()};
}

// HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request") applied to the
// string to sign; every intermediate key is wiped.
std::string Signature(const Secret& secret, std::string_view date, std::string_view region,
                      std::string_view service, std::string_view string_to_sign) {
  std::string first_key = "AWS4";
  first_key += secret.Reveal();
  Mac k_date = HmacSha256(first_key, date);
  OPENSSL_cleanse(first_key.data(), first_key.size());
  Mac k_region = HmacSha256(View(k_date), region);
  Mac k_service = HmacSha256(View(k_region), service);
  Mac k_signing = HmacSha256(View(k_service), "aws4_request");
  const Mac signature = HmacSha256(View(k_signing), string_to_sign);
  for (Mac* key : {&k_date, &k_region, &k_service, &k_signing}) {
    OPENSSL_cleanse(key->data(), key->size());
  }
  return HexEncode(signature.data(), signature.size());
}

bool IsScopePart(std::string_view s) {
  if (s.empty()) return false;
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f || c == '/') return false;
  }
  return true;
}

void RemoveHeader(HttpHeaders& headers, std::string_view lower_name) {
  std::erase_if(headers, [&](const auto& h) { return AsciiLowercase(h.first) == lower_name; });
}

}  // namespace

std::string CanonicalRequest(const HttpRequest& request, std::string_view payload_sha256,
                             bool double_encode_path, std::string* signed_headers) {
  auto url = ParseUrl(request.url);
  if (!url.ok()) return "";
  auto canonical =
      BuildCanonicalRequest(request, *url, payload_sha256, double_encode_path, signed_headers);
  return canonical.ok() ? std::move(canonical).value() : "";
}

std::string StringToSign(std::string_view amz_date, std::string_view scope,
                         std::string_view canonical_request) {
  std::string out(kAlgorithm);
  out.push_back('\n');
  out += amz_date;
  out.push_back('\n');
  out += scope;
  out.push_back('\n');
  out += Sha256Hex(canonical_request);
  return out;
}

Status Sign(HttpRequest& request, const Credentials& credentials, const SigningParams& params) {
  LOTE_ASSIGN_OR_RETURN(const ParsedUrl url, ParseUrl(request.url));
  if (credentials.access_key_id.empty() || credentials.secret_access_key.empty()) {
    return InvalidArgumentError("cannot sign: the credentials have no access key or no secret");
  }
  for (const char c : credentials.access_key_id) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f || c == '/' || c == ',') {
      return InvalidArgumentError("cannot sign: the access key id has a character keys never have");
    }
  }
  if (!IsScopePart(params.region) || !IsScopePart(params.service)) {
    return InvalidArgumentError(
        "cannot sign: region and service must be non-empty, printable, without '/' or spaces");
  }
  for (const auto& [name, value] : request.headers) {
    if (name.empty() || name.find_first_of(":\r\n \t") != std::string::npos ||
        value.find_first_of("\r\n") != std::string::npos) {
      return InvalidArgumentError("cannot sign: header '" + UriEncode(name, false) +
                                  "' has a bad name or a line break in its value");
    }
  }
  const std::string_view token = credentials.session_token.Reveal();
  if (token.find_first_of("\r\n") != std::string_view::npos) {
    return InvalidArgumentError("cannot sign: the session token has a line break");
  }

  for (const std::string_view name :
       {"x-amz-date", "x-amz-content-sha256", "x-amz-security-token", "authorization"}) {
    RemoveHeader(request.headers, name);
  }
  const std::string amz_date = FormatCompactTimestamp(params.now_micros);
  const std::string date = amz_date.substr(0, 8);
  const std::string payload =
      params.payload_sha256.empty() ? Sha256Hex(request.body) : params.payload_sha256;
  if (FindHeader(request.headers, "host") == nullptr) {
    request.headers.emplace_back("host", url.HostHeader());
  }
  request.headers.emplace_back("x-amz-date", amz_date);
  if (params.content_sha256_header) request.headers.emplace_back("x-amz-content-sha256", payload);
  if (!token.empty()) request.headers.emplace_back("x-amz-security-token", std::string(token));

  std::string signed_headers;
  LOTE_ASSIGN_OR_RETURN(
      const std::string canonical,
      BuildCanonicalRequest(request, url, payload, params.double_encode_path, &signed_headers));
  const std::string scope = date + "/" + params.region + "/" + params.service + "/aws4_request";
  const std::string signature = Signature(credentials.secret_access_key, date, params.region,
                                          params.service, StringToSign(amz_date, scope, canonical));
  request.headers.emplace_back(
      "authorization", std::string(kAlgorithm) + " Credential=" + credentials.access_key_id + "/" +
                           scope + ", SignedHeaders=" + signed_headers +
                           ", Signature=" + signature);
  return Status::Ok();
}

}  // namespace lote::aws
