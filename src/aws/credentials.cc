#include "lote/aws/credentials.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "aws/credentials_chain.h"
#include "aws/url.h"
#include "lote/base/ascii.h"
#include "lote/base/check.h"
#include "lote/base/clock.h"

extern char** environ;

namespace lote::aws {
namespace {

// ---------------------------------------------------------------------------------------------
// Small string helpers.

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f'; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

// "true" in any case, as the AWS tools read their boolean settings.
bool IsTrue(std::string_view value) { return AsciiLowercase(Trim(value)) == "true"; }

bool HasLineBreak(std::string_view s) { return s.find_first_of("\r\n") != std::string_view::npos; }

// ---------------------------------------------------------------------------------------------
// Time.

// "2024-05-01T12:34:56Z", with optional fractional seconds and a "+HH:MM" / "-HH:MM" offset
// instead of Z (what the container and instance endpoints answer), as microseconds since the
// epoch; nullopt for anything else.
std::optional<int64_t> ParseIso8601(std::string_view s) {
  size_t pos = 0;
  auto digits = [&](size_t n) -> std::optional<int64_t> {
    if (pos + n > s.size()) return std::nullopt;
    int64_t v = 0;
    for (size_t i = 0; i < n; ++i) {
      const char c = s[pos + i];
      if (c < '0' || c > '9') return std::nullopt;
      v = v * 10 + (c - '0');
    }
    pos += n;
    return v;
  };
  auto expect = [&](char c) {
    if (pos < s.size() && (s[pos] == c || AsciiUpper(s[pos]) == c)) {
      ++pos;
      return true;
    }
    return false;
  };
  const auto year = digits(4);
  if (!year || !expect('-')) return std::nullopt;
  const auto month = digits(2);
  if (!month || !expect('-')) return std::nullopt;
  const auto day = digits(2);
  if (!day || !expect('T')) return std::nullopt;
  const auto hour = digits(2);
  if (!hour || !expect(':')) return std::nullopt;
  const auto minute = digits(2);
  if (!minute || !expect(':')) return std::nullopt;
  const auto second = digits(2);
  if (!second) return std::nullopt;
  if (*month < 1 || *month > 12 || *day < 1 || *day > 31 || *hour > 23 || *minute > 59 ||
      *second > 60) {
    return std::nullopt;
  }
  int64_t micros = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    int64_t scale = 100000;
    const size_t start = pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      micros += (s[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start) return std::nullopt;
  }
  int64_t offset_seconds = 0;
  if (expect('Z')) {
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    const int sign = s[pos] == '-' ? -1 : 1;
    ++pos;
    const auto oh = digits(2);
    if (!oh) return std::nullopt;
    expect(':');
    const auto om = digits(2);
    if (!om || *oh > 23 || *om > 59) return std::nullopt;
    offset_seconds = sign * (*oh * 3600 + *om * 60);
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;
  const int64_t seconds = DaysFromCivil(*year, *month, *day) * 86400 + *hour * 3600 + *minute * 60 +
                          *second - offset_seconds;
  return seconds * 1000000 + micros;
}

// ---------------------------------------------------------------------------------------------
// The shared config and credentials files (INI).

struct IniSection {
  int line = 0;  // of its first [header]
  // Keys lower-cased; a nested block ("s3 =" then indented "endpoint_url = ...") as "s3.KEY".
  std::map<std::string, std::string, std::less<>> values;
  std::map<std::string, int, std::less<>> lines;

  const std::string* Find(std::string_view key) const {
    const auto it = values.find(key);
    return it == values.end() ? nullptr : &it->second;
  }
};

struct IniFile {
  std::string path;
  // By the name between the brackets, trimmed, inner runs of spaces as one ("profile dev").
  std::map<std::string, IniSection, std::less<>> sections;

  const IniSection* Find(std::string_view name) const {
    const auto it = sections.find(name);
    return it == sections.end() ? nullptr : &it->second;
  }
};

Status IniError(const std::string& path, int line, std::string_view what) {
  return InvalidArgumentError(path + ":" + std::to_string(line) + ": " + std::string(what));
}

// The format the AWS CLI reads (Python's configparser underneath): comments are whole lines
// starting with '#' or ';' (a '#' after a value is part of the value), "key = value" or
// "key: value", and an indented block under an empty "key =" holds nested keys. Errors name the
// file and line, never the line's text (it may hold a secret).
Result<IniFile> ParseIni(std::string_view text, std::string path) {
  IniFile file;
  file.path = std::move(path);
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);
  IniSection* section = nullptr;
  bool have_property = false;
  bool property_empty = false;
  size_t property_indent = 0;
  std::string property;
  int line_no = 0;
  while (!text.empty()) {
    const size_t newline = text.find('\n');
    const std::string_view line = text.substr(0, newline);
    text = newline == std::string_view::npos ? std::string_view() : text.substr(newline + 1);
    ++line_no;
    size_t indent = 0;
    while (indent < line.size() && (line[indent] == ' ' || line[indent] == '\t')) ++indent;
    const std::string_view body = Trim(line);
    if (body.empty() || body.front() == '#' || body.front() == ';') continue;
    if (indent > 0 && have_property && indent > property_indent) {
      // A continuation of the property above: nested keys under an empty value, otherwise a
      // multi-line value lote does not read.
      if (property_empty) {
        const size_t eq = body.find('=');
        if (eq == std::string_view::npos) {
          return IniError(file.path, line_no, "expected `key = value` in the nested block");
        }
        const std::string key = property + "." + AsciiLowercase(Trim(body.substr(0, eq)));
        section->values[key] = std::string(Trim(body.substr(eq + 1)));
        section->lines[key] = line_no;
      }
      continue;
    }
    if (body.front() == '[') {
      if (body.back() != ']') return IniError(file.path, line_no, "a '[' without its ']'");
      std::string name;
      for (const char c : Trim(body.substr(1, body.size() - 2))) {
        if (c == ' ' || c == '\t') {
          if (!name.empty() && name.back() != ' ') name.push_back(' ');
        } else {
          name.push_back(c);
        }
      }
      if (name.empty()) return IniError(file.path, line_no, "an empty section name");
      section = &file.sections[name];
      if (section->line == 0) section->line = line_no;
      have_property = false;
      continue;
    }
    const size_t eq = body.find_first_of("=:");
    if (eq == std::string_view::npos) {
      return IniError(file.path, line_no, "expected `[section]`, `key = value` or a comment");
    }
    std::string key = AsciiLowercase(Trim(body.substr(0, eq)));
    if (key.empty()) return IniError(file.path, line_no, "a value without a key");
    if (section == nullptr) {
      return IniError(file.path, line_no, "`key = value` before any [section]");
    }
    const std::string_view value = Trim(body.substr(eq + 1));
    section->values[key] = std::string(value);
    section->lines[key] = line_no;
    have_property = true;
    property = std::move(key);
    property_empty = value.empty();
    property_indent = indent;
  }
  return file;
}

// Whole file; nullopt when it does not exist. A file this large is not an AWS config file.
constexpr size_t kMaxSharedFileBytes = 4 << 20;

Result<std::optional<std::string>> ReadSmallFile(const std::string& path, std::string_view what) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    if (errno == ENOENT || errno == ENOTDIR) return std::optional<std::string>();
    return InvalidArgumentError(std::string(what) + " " + path + ": " + std::strerror(errno));
  }
  std::string data;
  char buf[8192];
  size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) {
    data.append(buf, n);
    if (data.size() > kMaxSharedFileBytes) break;
  }
  const bool failed = std::ferror(f) != 0;
  std::fclose(f);
  OPENSSL_cleanse(buf, sizeof(buf));
  if (failed) {
    OPENSSL_cleanse(data.data(), data.size());
    return InvalidArgumentError(std::string(what) + " " + path + ": read error");
  }
  if (data.size() > kMaxSharedFileBytes) {
    OPENSSL_cleanse(data.data(), data.size());
    return InvalidArgumentError(std::string(what) + " " + path + ": larger than " +
                                std::to_string(kMaxSharedFileBytes) + " bytes");
  }
  return std::optional<std::string>(std::move(data));
}

Result<std::optional<IniFile>> ReadIniFile(const std::string& path) {
  LOTE_ASSIGN_OR_RETURN(std::optional<std::string> text, ReadSmallFile(path, "cannot read"));
  if (!text) return std::optional<IniFile>();
  auto parsed = ParseIni(*text, path);
  OPENSSL_cleanse(text->data(), text->size());
  if (!parsed.ok()) return parsed.status();
  return std::optional<IniFile>(std::move(parsed).value());
}

// "~/x" with HOME.
std::optional<std::string> ExpandHome(const std::string& path, const AwsEnvironment& env) {
  if (path == "~" || path.starts_with("~/")) {
    const auto home = env.Get("HOME");
    if (!home) return std::nullopt;
    return *home + path.substr(1);
  }
  return path;
}

std::optional<std::string> SharedFilePath(const AwsEnvironment& env, std::string_view variable,
                                          std::string_view default_name) {
  if (const auto set = env.Get(variable)) return ExpandHome(*set, env);
  const auto home = env.Get("HOME");
  if (!home) return std::nullopt;
  return *home + "/.aws/" + std::string(default_name);
}

std::string ProfileName(const AwsEnvironment& env) {
  return env.Get("AWS_PROFILE").value_or("default");
}

// The profile's section in the config file: "[profile NAME]", or "[default]" for default.
const IniSection* ConfigProfile(const IniFile& config, std::string_view profile) {
  if (const IniSection* s = config.Find("profile " + std::string(profile))) return s;
  if (profile == "default") return config.Find("default");
  return nullptr;
}

// The config file's section for the profile, or nullptr (no file, no section, or a malformed
// file: region and endpoint lookups have no error to report; Get() reports it).
struct ConfigProfileView {
  std::optional<IniFile> file;
  const IniSection* section = nullptr;
};

ConfigProfileView LoadConfigProfile(const AwsEnvironment& env) {
  ConfigProfileView view;
  const auto path = SharedFilePath(env, "AWS_CONFIG_FILE", "config");
  if (!path) return view;
  auto file = ReadIniFile(*path);
  if (!file.ok() || !file->has_value()) return view;
  view.file = std::move(**file);
  view.section = ConfigProfile(*view.file, ProfileName(env));
  return view;
}

// ---------------------------------------------------------------------------------------------
// The JSON answer of the container and instance endpoints.

Result<Credentials> ParseCredentialsAnswer(std::string& body, std::string_view where,
                                           std::string source) {
  auto json = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  OPENSSL_cleanse(body.data(), body.size());
  if (json.is_discarded() || !json.is_object()) {
    return InvalidArgumentError(std::string(where) + ": the answer is not a JSON object");
  }
  auto string_field = [&](const char* name) -> const std::string* {
    const auto it = json.find(name);
    if (it == json.end() || !it->is_string()) return nullptr;
    return it->get_ptr<const std::string*>();
  };
  if (json.contains("Code")) {
    const std::string* code = string_field("Code");
    if (code == nullptr || *code != "Success") {
      return UnavailableError(std::string(where) + ": the answer's Code is not Success");
    }
  }
  const std::string* key_id = string_field("AccessKeyId");
  const std::string* secret = string_field("SecretAccessKey");
  if (key_id == nullptr || key_id->empty() || secret == nullptr || secret->empty()) {
    return InvalidArgumentError(std::string(where) +
                                ": the answer has no AccessKeyId or no SecretAccessKey string");
  }
  Credentials c;
  c.access_key_id = *key_id;
  c.secret_access_key = Secret(*secret);
  if (json.contains("Token")) {
    const std::string* token = string_field("Token");
    if (token == nullptr) {
      return InvalidArgumentError(std::string(where) + ": the answer's Token is not a string");
    }
    c.session_token = Secret(*token);
  }
  if (json.contains("Expiration")) {
    const std::string* expiration = string_field("Expiration");
    const auto at = expiration == nullptr ? std::nullopt : ParseIso8601(*expiration);
    if (!at) {
      return InvalidArgumentError(std::string(where) +
                                  ": the answer's Expiration is not an ISO 8601 time");
    }
    c.expires_at_micros = *at;
  }
  c.source = std::move(source);
  return c;
}

// ---------------------------------------------------------------------------------------------
// The chain.

constexpr std::string_view kDefaultImdsEndpoint = "http://169.254.169.254";
constexpr std::string_view kDefaultContainerEndpoint = "http://169.254.170.2";
// IMDSv2 session tokens are asked for with the longest lifetime IMDS allows (6 hours) and used
// until a minute before it ends.
constexpr int kImdsTokenTtlSeconds = 21600;
constexpr int64_t kImdsTokenReuseNanos = int64_t{kImdsTokenTtlSeconds - 60} * 1000000000;
// After a failed refresh while the cached credentials are still valid, the next attempt waits
// this long, so that Get() does not call a failing endpoint on every request.
constexpr int64_t kRetryRefreshMicros = 10 * 1000000;
// Enough for any credentials answer.
constexpr uint64_t kMaxAnswerBytes = 64 << 10;

std::string StripTrailingSlash(std::string s) {
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}

// What AWS_CONTAINER_CREDENTIALS_FULL_URI may name: loopback, and the link-local addresses ECS
// and EKS Pod Identity serve credentials on. (botocore also takes any https host; lote does not.)
bool IsAllowedContainerHost(const ParsedUrl& url) {
  const std::string host = AsciiLowercase(url.host);
  if (url.ipv6) return host == "::1" || host == "fd00:ec2::23";
  if (host == "localhost" || host == "169.254.170.2" || host == "169.254.170.23") return true;
  // 127.0.0.0/8 as a dotted quad.
  int octets = 0, value = -1;
  bool first_is_127 = false;
  for (size_t i = 0; i <= host.size(); ++i) {
    if (i == host.size() || host[i] == '.') {
      if (value < 0 || value > 255) return false;
      if (octets == 0) first_is_127 = value == 127;
      ++octets;
      value = -1;
    } else if (host[i] >= '0' && host[i] <= '9') {
      value = (value < 0 ? 0 : value * 10) + (host[i] - '0');
      if (value > 255) return false;
    } else {
      return false;
    }
  }
  return octets == 4 && first_is_127;
}

class CredentialsChain : public CredentialsProvider {
 public:
  CredentialsChain(AwsEnvironment env, ProviderOptions options)
      : env_(std::move(env)), options_(std::move(options)) {
    LOTE_CHECK(options_.http != nullptr);
    options_.clock = ClockOr(options_.clock);
    if (options_.imds_endpoint.empty()) {
      options_.imds_endpoint =
          env_.Get("AWS_EC2_METADATA_SERVICE_ENDPOINT").value_or(std::string(kDefaultImdsEndpoint));
    }
    options_.imds_endpoint = StripTrailingSlash(options_.imds_endpoint);
    if (options_.container_endpoint.empty()) {
      options_.container_endpoint = std::string(kDefaultContainerEndpoint);
    }
    options_.container_endpoint = StripTrailingSlash(options_.container_endpoint);
  }

  Result<Credentials> Get() override;

 private:
  enum class Link { kEnvironment, kSharedFiles, kContainer, kImds };
  static constexpr Link kLinks[] = {Link::kEnvironment, Link::kSharedFiles, Link::kContainer,
                                    Link::kImds};

  // One link: credentials, nullopt with `tried` saying why it has none (the chain goes on), or an
  // error (the chain stops: a source that is configured but broken is not skipped).
  using LinkResult = Result<std::optional<Credentials>>;
  LinkResult Fetch(Link link, std::string* tried);
  LinkResult FromEnvironment(std::string* tried);
  LinkResult FromSharedFiles(std::string* tried);
  LinkResult FromContainer(std::string* tried);
  LinkResult FromImds(std::string* tried);

  // The whole chain (no link found yet) or the link that found the cached credentials.
  Result<std::pair<Credentials, Link>> Resolve(std::optional<Link> only);

  HttpRequest EndpointRequest(std::string method, std::string url) const;
  Result<std::string> ImdsToken(bool force_new);
  Result<HttpResponse> ImdsGet(const std::string& path);

  const AwsEnvironment env_;
  ProviderOptions options_;

  std::mutex mu_;
  std::condition_variable refreshed_;
  bool refreshing_ = false;  // one thread fetches at a time; the others wait or use the cache
  std::optional<Credentials> cached_;
  std::optional<Link> link_;
  int64_t refresh_at_micros_ = 0;

  // The IMDSv2 session token; only the refreshing thread touches it.
  std::string imds_token_;
  int64_t imds_token_nanos_ = 0;
};

bool Expired(const Credentials& c, int64_t now) {
  return c.expires_at_micros != 0 && now >= c.expires_at_micros;
}

Result<Credentials> CredentialsChain::Get() {
  std::unique_lock lock(mu_);
  for (;;) {
    const int64_t now = options_.clock->NowMicros();
    if (cached_ && !Expired(*cached_, now)) {
      const bool due = cached_->expires_at_micros != 0 && now >= refresh_at_micros_;
      // While another thread refreshes, valid credentials are still good to use.
      if (!due || refreshing_) return *cached_;
    }
    if (!refreshing_) break;
    refreshed_.wait(lock);
  }
  refreshing_ = true;
  const std::optional<Link> link = link_;
  lock.unlock();
  auto fetched = Resolve(link);
  lock.lock();
  refreshing_ = false;
  refreshed_.notify_all();
  const int64_t now = options_.clock->NowMicros();
  if (fetched.ok()) {
    cached_ = std::move(fetched->first);
    link_ = fetched->second;
    const int64_t expires = cached_->expires_at_micros;
    const auto before = static_cast<int64_t>(options_.refresh_before_seconds * 1e6);
    // Credentials that arrive already inside the refresh window are used, and asked for again
    // after the retry interval, not on every call.
    refresh_at_micros_ = expires == 0 ? 0 : std::max(expires - before, now + kRetryRefreshMicros);
    return *cached_;
  }
  if (cached_ && !Expired(*cached_, now)) {
    refresh_at_micros_ = now + kRetryRefreshMicros;
    return *cached_;
  }
  return fetched.status();
}

Result<std::pair<Credentials, CredentialsChain::Link>> CredentialsChain::Resolve(
    std::optional<Link> only) {
  std::string tried;
  for (const Link link : kLinks) {
    if (only && link != *only) continue;
    std::string why_not;
    LOTE_ASSIGN_OR_RETURN(std::optional<Credentials> found, Fetch(link, &why_not));
    if (found) return std::make_pair(std::move(*found), link);
    if (!tried.empty()) tried += "; ";
    tried += why_not;
  }
  return NotFoundError("no AWS credentials found; tried: " + tried);
}

CredentialsChain::LinkResult CredentialsChain::Fetch(Link link, std::string* tried) {
  switch (link) {
    case Link::kEnvironment:
      return FromEnvironment(tried);
    case Link::kSharedFiles:
      return FromSharedFiles(tried);
    case Link::kContainer:
      return FromContainer(tried);
    case Link::kImds:
      return FromImds(tried);
  }
  return InternalError("unknown credentials source");
}

CredentialsChain::LinkResult CredentialsChain::FromEnvironment(std::string* tried) {
  const auto id = env_.Get("AWS_ACCESS_KEY_ID");
  const auto secret = env_.Get("AWS_SECRET_ACCESS_KEY");
  if (!id && !secret) {
    *tried = "environment (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY not set)";
    return std::optional<Credentials>();
  }
  if (!id || !secret) {
    return InvalidArgumentError(std::string(id ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY") +
                                " is set but " +
                                (id ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID") + " is not");
  }
  Credentials c;
  c.access_key_id = *id;
  c.secret_access_key = Secret(*secret);
  if (const auto token = env_.Get("AWS_SESSION_TOKEN")) c.session_token = Secret(*token);
  c.source = "environment";
  return std::optional<Credentials>(std::move(c));
}

CredentialsChain::LinkResult CredentialsChain::FromSharedFiles(std::string* tried) {
  const std::string profile = ProfileName(env_);
  const auto credentials_path = SharedFilePath(env_, "AWS_SHARED_CREDENTIALS_FILE", "credentials");
  const auto config_path = SharedFilePath(env_, "AWS_CONFIG_FILE", "config");
  std::optional<IniFile> files[2];
  if (credentials_path) {
    LOTE_ASSIGN_OR_RETURN(files[0], ReadIniFile(*credentials_path));
  }
  if (config_path) {
    LOTE_ASSIGN_OR_RETURN(files[1], ReadIniFile(*config_path));
  }
  const IniSection* sections[2] = {
      files[0] ? files[0]->Find(profile) : nullptr,
      files[1] ? ConfigProfile(*files[1], profile) : nullptr,
  };
  for (int i = 0; i < 2; ++i) {
    const IniSection* s = sections[i];
    if (s == nullptr) continue;
    const std::string* id = s->Find("aws_access_key_id");
    if (id == nullptr) continue;
    const std::string* secret = s->Find("aws_secret_access_key");
    const std::string where = files[i]->path + ":" + std::to_string(s->line);
    if (id->empty() || secret == nullptr || secret->empty()) {
      return InvalidArgumentError(where + ": profile '" + profile +
                                  "' needs both aws_access_key_id and aws_secret_access_key");
    }
    Credentials c;
    c.access_key_id = *id;
    c.secret_access_key = Secret(*secret);
    if (const std::string* token = s->Find("aws_session_token")) c.session_token = Secret(*token);
    c.source = "profile " + profile;
    return std::optional<Credentials>(std::move(c));
  }
  // A profile that gets its credentials some other way must not fall through to the instance's
  // role: that would run with other rights than the user chose.
  for (int i = 0; i < 2; ++i) {
    const IniSection* s = sections[i];
    if (s == nullptr) continue;
    for (const char* key : {"role_arn", "credential_process", "web_identity_token_file",
                            "sso_session", "sso_start_url", "credential_source"}) {
      if (s->Find(key) != nullptr) {
        return UnimplementedError(files[i]->path + ":" + std::to_string(s->lines.at(key)) +
                                  ": profile '" + profile + "' gets its credentials through `" +
                                  key +
                                  "`, which lote does not support; give the profile keys, or use "
                                  "environment variables or a container or instance role");
      }
    }
  }
  const std::string where = (credentials_path ? *credentials_path : "(no HOME)") + ", " +
                            (config_path ? *config_path : "(no HOME)");
  if (sections[0] == nullptr && sections[1] == nullptr && env_.Get("AWS_PROFILE")) {
    // As the AWS CLI: a profile asked for by name must exist.
    return NotFoundError("profile '" + profile + "' (AWS_PROFILE) is in neither " + where);
  }
  *tried = "profile '" + profile + "' (no keys in " + where + ")";
  return std::optional<Credentials>();
}

HttpRequest CredentialsChain::EndpointRequest(std::string method, std::string url) const {
  HttpRequest r;
  r.method = std::move(method);
  r.url = std::move(url);
  r.timeout_seconds = options_.endpoint_timeout_seconds;
  r.connect_timeout_seconds = options_.endpoint_timeout_seconds;
  r.max_body_bytes = kMaxAnswerBytes;
  return r;
}

CredentialsChain::LinkResult CredentialsChain::FromContainer(std::string* tried) {
  const auto relative = env_.Get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
  const auto full = env_.Get("AWS_CONTAINER_CREDENTIALS_FULL_URI");
  if (!relative && !full) {
    *tried =
        "container (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and AWS_CONTAINER_CREDENTIALS_FULL_URI "
        "not set)";
    return std::optional<Credentials>();
  }
  std::string url, where;
  if (relative) {
    url = options_.container_endpoint + (relative->starts_with("/") ? "" : "/") + *relative;
    where = "container credentials (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI on " +
            options_.container_endpoint + ")";
  } else {
    auto parsed = ParseUrl(*full);
    if (!parsed.ok()) {
      return InvalidArgumentError("AWS_CONTAINER_CREDENTIALS_FULL_URI: " +
                                  parsed.status().message());
    }
    if (!IsAllowedContainerHost(*parsed)) {
      return InvalidArgumentError(
          "AWS_CONTAINER_CREDENTIALS_FULL_URI: host '" + parsed->host +
          "' refused: credentials are only fetched from a loopback address, 169.254.170.2, "
          "169.254.170.23 or fd00:ec2::23");
    }
    url = *full;
    where = "container credentials (AWS_CONTAINER_CREDENTIALS_FULL_URI on " + parsed->scheme +
            "://" + parsed->HostHeader() + ")";
  }
  HttpRequest request = EndpointRequest("GET", std::move(url));
  // The token file first (EKS Pod Identity rotates it, so it is read on every fetch).
  std::optional<std::string> token;
  if (const auto file = env_.Get("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")) {
    LOTE_ASSIGN_OR_RETURN(
        token, ReadSmallFile(*file, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: cannot read"));
    if (!token) {
      return InvalidArgumentError("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE " + *file +
                                  ": no such file");
    }
    while (!token->empty() && IsSpace(token->back())) token->pop_back();
  } else {
    token = env_.Get("AWS_CONTAINER_AUTHORIZATION_TOKEN");
  }
  if (token) {
    if (HasLineBreak(*token)) {
      OPENSSL_cleanse(token->data(), token->size());
      return InvalidArgumentError(where + ": the authorization token has a line break");
    }
    request.headers.emplace_back("Authorization", std::move(*token));
  }
  auto response = options_.http->Send(request);
  for (auto& [name, value] : request.headers) OPENSSL_cleanse(value.data(), value.size());
  if (!response.ok()) return UnavailableError(where + ": " + response.status().message());
  if (response->status != 200) {
    OPENSSL_cleanse(response->body.data(), response->body.size());
    return UnavailableError(where + ": HTTP " + std::to_string(response->status));
  }
  LOTE_ASSIGN_OR_RETURN(Credentials c, ParseCredentialsAnswer(response->body, where, "container"));
  return std::optional<Credentials>(std::move(c));
}

Result<std::string> CredentialsChain::ImdsToken(bool force_new) {
  const int64_t mono = options_.clock->MonotonicNanos();
  if (!force_new && !imds_token_.empty() && mono - imds_token_nanos_ < kImdsTokenReuseNanos) {
    return imds_token_;
  }
  HttpRequest request = EndpointRequest("PUT", options_.imds_endpoint + "/latest/api/token");
  request.headers.emplace_back("X-aws-ec2-metadata-token-ttl-seconds",
                               std::to_string(kImdsTokenTtlSeconds));
  auto response = options_.http->Send(request);
  if (!response.ok()) {
    // Not on EC2 (or IMDS is out of reach): the chain has nothing more to try.
    return NotFoundError("no answer: " + response.status().message());
  }
  if (response->status != 200) {
    return UnavailableError("the session token request answered HTTP " +
                            std::to_string(response->status));
  }
  std::string token(Trim(response->body));
  OPENSSL_cleanse(response->body.data(), response->body.size());
  if (token.empty() || HasLineBreak(token)) {
    return InvalidArgumentError("the session token answer is empty or has a line break");
  }
  OPENSSL_cleanse(imds_token_.data(), imds_token_.size());
  imds_token_ = std::move(token);
  imds_token_nanos_ = mono;
  return imds_token_;
}

Result<HttpResponse> CredentialsChain::ImdsGet(const std::string& path) {
  // A cached token may have expired (or IMDS restarted): on 401, one new token and one retry.
  for (int attempt = 0; attempt < 2; ++attempt) {
    LOTE_ASSIGN_OR_RETURN(const std::string token, ImdsToken(/*force_new=*/attempt > 0));
    HttpRequest request = EndpointRequest("GET", options_.imds_endpoint + path);
    request.headers.emplace_back("X-aws-ec2-metadata-token", token);
    auto response = options_.http->Send(request);
    if (!response.ok()) return UnavailableError(response.status().message());
    if (response->status == 401 && attempt == 0) continue;
    return response;
  }
  return UnavailableError("IMDS refused a new session token (HTTP 401)");
}

CredentialsChain::LinkResult CredentialsChain::FromImds(std::string* tried) {
  const std::string where = "EC2 instance metadata (" + options_.imds_endpoint + ")";
  if (const auto disabled = env_.Get("AWS_EC2_METADATA_DISABLED"); disabled && IsTrue(*disabled)) {
    *tried = "EC2 instance metadata (AWS_EC2_METADATA_DISABLED=true)";
    return std::optional<Credentials>();
  }
  constexpr std::string_view kRolesPath = "/latest/meta-data/iam/security-credentials/";
  auto roles = ImdsGet(std::string(kRolesPath));
  if (!roles.ok()) {
    if (roles.status().code() == StatusCode::kNotFound) {
      *tried = where + ": " + roles.status().message();
      return std::optional<Credentials>();
    }
    return Status(roles.status().code(), where + ": " + roles.status().message());
  }
  if (roles->status == 404) {
    *tried = where + ": the instance has no IAM role";
    return std::optional<Credentials>();
  }
  if (roles->status != 200) {
    return UnavailableError(where + ": the role name request answered HTTP " +
                            std::to_string(roles->status));
  }
  const std::string_view listing = roles->body;
  const std::string role(Trim(listing.substr(0, listing.find('\n'))));
  if (role.empty()) {
    *tried = where + ": the instance has no IAM role";
    return std::optional<Credentials>();
  }
  auto answer = ImdsGet(std::string(kRolesPath) + UriEncode(role, false));
  if (!answer.ok()) return Status(answer.status().code(), where + ": " + answer.status().message());
  if (answer->status != 200) {
    OPENSSL_cleanse(answer->body.data(), answer->body.size());
    return UnavailableError(where + ": the credentials request answered HTTP " +
                            std::to_string(answer->status));
  }
  LOTE_ASSIGN_OR_RETURN(Credentials c, ParseCredentialsAnswer(answer->body, where, "imds"));
  return std::optional<Credentials>(std::move(c));
}

// AWS_ENDPOINT_URL_<ID> and the config file's services key: the id upper- (or lower-) cased,
// '-' and ' ' as '_'.
std::string ServiceKey(std::string_view service_id, bool upper) {
  std::string out;
  for (const char c : service_id) {
    out.push_back(c == '-' || c == ' ' ? '_' : upper ? AsciiUpper(c) : AsciiLower(c));
  }
  return out;
}

}  // namespace

std::string Credentials::DebugString() const {
  std::string out = "Credentials{access_key_id=";
  // The first four characters say the kind of key (AKIA long-term, ASIA temporary), nothing more.
  out += access_key_id.size() > 4 ? access_key_id.substr(0, 4) + "..."
                                  : "<" + std::to_string(access_key_id.size()) + " chars>";
  out += ", secret_access_key=" + secret_access_key.DebugString();
  out += ", session_token=" + session_token.DebugString();
  out += ", expires_at=" + (expires_at_micros == 0 ? std::string("never")
                                                   : FormatTimestampSeconds(expires_at_micros));
  out += ", source=" + source + "}";
  return out;
}

AwsEnvironment AwsEnvironment::FromProcess() {
  AwsEnvironment env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    const std::string_view entry(*e);
    const size_t eq = entry.find('=');
    if (eq == std::string_view::npos) continue;
    const std::string_view name = entry.substr(0, eq);
    if (name.starts_with("AWS_") || name == "HOME") {
      env.vars.emplace(std::string(name), std::string(entry.substr(eq + 1)));
    }
  }
  return env;
}

std::optional<std::string> AwsEnvironment::Get(std::string_view name) const {
  const auto it = vars.find(name);
  if (it == vars.end() || it->second.empty()) return std::nullopt;
  return it->second;
}

namespace internal {

std::shared_ptr<CredentialsProvider> NewCredentialsChain(AwsEnvironment env,
                                                         ProviderOptions options) {
  return std::make_shared<CredentialsChain>(std::move(env), std::move(options));
}

}  // namespace internal

namespace {

class StaticCredentials : public CredentialsProvider {
 public:
  explicit StaticCredentials(Credentials c) : credentials_(std::move(c)) {}
  Result<Credentials> Get() override {
    if (credentials_.access_key_id.empty() || credentials_.secret_access_key.empty()) {
      return InvalidArgumentError("the given credentials have no access key or no secret");
    }
    return credentials_;
  }

 private:
  const Credentials credentials_;
};

}  // namespace

std::shared_ptr<CredentialsProvider> NewStaticCredentials(Credentials credentials) {
  if (credentials.source.empty()) credentials.source = "static";
  return std::make_shared<StaticCredentials>(std::move(credentials));
}

std::optional<std::string> ResolveRegion(const AwsEnvironment& env) {
  if (auto region = env.Get("AWS_REGION")) return region;
  if (auto region = env.Get("AWS_DEFAULT_REGION")) return region;
  const ConfigProfileView config = LoadConfigProfile(env);
  if (config.section != nullptr) {
    if (const std::string* region = config.section->Find("region"); region && !region->empty()) {
      return *region;
    }
  }
  return std::nullopt;
}

std::optional<std::string> ResolveEndpoint(const AwsEnvironment& env, std::string_view service_id) {
  const ConfigProfileView config = LoadConfigProfile(env);
  const IniSection* profile = config.section;
  // The variable, when set, overrides the profile's setting either way.
  if (const auto ignore = env.Get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")) {
    if (IsTrue(*ignore)) return std::nullopt;
  } else if (profile != nullptr) {
    const std::string* ignore_in_profile = profile->Find("ignore_configured_endpoint_urls");
    if (ignore_in_profile != nullptr && IsTrue(*ignore_in_profile)) return std::nullopt;
  }
  if (auto url = env.Get("AWS_ENDPOINT_URL_" + ServiceKey(service_id, true))) return url;
  if (auto url = env.Get("AWS_ENDPOINT_URL")) return url;
  if (profile == nullptr) return std::nullopt;
  // The profile's `services = NAME` names a [services NAME] section with one nested block per
  // service ("s3 =" then "  endpoint_url = ..."), before the profile's own endpoint_url.
  if (const std::string* services = profile->Find("services")) {
    if (const IniSection* s = config.file->Find("services " + *services)) {
      const std::string* url = s->Find(ServiceKey(service_id, false) + ".endpoint_url");
      if (url != nullptr && !url->empty()) return *url;
    }
  }
  if (const std::string* url = profile->Find("endpoint_url"); url && !url->empty()) return *url;
  return std::nullopt;
}

}  // namespace lote::aws
