#include "lote/aws/credentials.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "aws/credentials_chain.h"
#include "lote/base/clock.h"

namespace lote::aws {
namespace {

namespace fs = std::filesystem;

// Values that must never appear in an error message or a DebugString.
constexpr const char* kSecrets[] = {
    "ENVSECRETwJalrXUtnFEMI", "ENVTOKENFwoGZXIvYXdz", "FILESECRETbPxRfiCYEX",
    "FILETOKENIQoJb3JpZ",     "CONFSECRETK7MDENGbPx", "HTTPSECRETs3cr3tv4lu",
    "HTTPTOKENAgoJb3JpZ2",    "BEARERAUTHTOKEN123",   "IMDSTOKENAQAEAKq9QN",
};

void ExpectNoSecret(const std::string& text) {
  for (const char* secret : kSecrets) {
    EXPECT_EQ(text.find(secret), std::string::npos) << "secret " << secret << " in: " << text;
  }
}

// 2024-05-01T00:00:00Z.
constexpr int64_t kStart = int64_t{1714521600} * 1000000;
constexpr int64_t kMinute = int64_t{60} * 1000000;

HttpResponse Answer(int status, std::string body = "") {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

std::string CredentialsJson(const std::string& key_id, const std::string& secret,
                            const std::string& token, int64_t expires_at_micros) {
  return R"({"Code": "Success", "Type": "AWS-HMAC", "AccessKeyId": ")" + key_id +
         R"(", "SecretAccessKey": ")" + secret + R"(", "Token": ")" + token +
         R"(", "Expiration": ")" + FormatTimestampSeconds(expires_at_micros) + R"("})";
}

struct Recorded {
  std::string method;
  std::string url;
  HttpHeaders headers;
};

// An HttpClient answering from a script, recording every request.
class FakeHttp : public HttpClient {
 public:
  using Handler = std::function<Result<HttpResponse>(const HttpRequest&)>;
  explicit FakeHttp(Handler handler) : handler_(std::move(handler)) {}

  Result<HttpResponse> Send(const HttpRequest& request, const BodySink&) override {
    {
      std::lock_guard lock(mu_);
      requests_.push_back({request.method, request.url, request.headers});
      max_in_flight_ = std::max(max_in_flight_, ++in_flight_);
    }
    auto response = handler_(request);
    std::lock_guard lock(mu_);
    --in_flight_;
    return response;
  }

  std::vector<Recorded> requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }
  int max_in_flight() const {
    std::lock_guard lock(mu_);
    return max_in_flight_;
  }

 private:
  Handler handler_;
  mutable std::mutex mu_;
  std::vector<Recorded> requests_;
  int in_flight_ = 0;
  int max_in_flight_ = 0;
};

std::shared_ptr<FakeHttp> NoNetwork() {
  return std::make_shared<FakeHttp>([](const HttpRequest& r) -> Result<HttpResponse> {
    return UnavailableError(r.method + " " + r.url + ": connection refused");
  });
}

// An IMDSv2 endpoint: token PUT, role listing, role credentials.
struct FakeImds {
  std::string role = "lote-role";
  int64_t expires_at = kStart + 60 * kMinute;
  int tokens_issued = 0;
  bool token_expired = false;  // the current token is refused with 401
  bool reachable = true;
  int role_status = 200;
  std::mutex mu;

  std::string CurrentToken() const {
    return "IMDSTOKENAQAEAKq9QN-" + std::to_string(tokens_issued);
  }

  Result<HttpResponse> Handle(const HttpRequest& r) {
    std::lock_guard lock(mu);
    if (!reachable) return UnavailableError(r.method + " " + r.url + ": timed out");
    const std::string base = "http://imds.test";
    if (r.method == "PUT" && r.url == base + "/latest/api/token") {
      const std::string* ttl = FindHeader(r.headers, "x-aws-ec2-metadata-token-ttl-seconds");
      if (ttl == nullptr || *ttl != "21600") return Answer(400);
      ++tokens_issued;
      token_expired = false;
      return Answer(200, CurrentToken());
    }
    const std::string* token = FindHeader(r.headers, "x-aws-ec2-metadata-token");
    if (r.method != "GET" || token == nullptr) return Answer(401);
    if (*token != CurrentToken() || token_expired) return Answer(401);
    const std::string roles = base + "/latest/meta-data/iam/security-credentials/";
    if (r.url == roles) return role_status == 200 ? Answer(200, role + "\n") : Answer(role_status);
    if (r.url == roles + role) {
      return Answer(200,
                    CredentialsJson("ASIAIMDSKEY" + std::to_string(tokens_issued),
                                    "HTTPSECRETs3cr3tv4lu", "HTTPTOKENAgoJb3JpZ2", expires_at));
    }
    return Answer(404);
  }
};

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "lote_aws_test_XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string Write(const std::string& name, const std::string& text) const {
    const fs::path p = fs::path(path_) / name;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
    return p.string();
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

struct ChainSetup {
  std::shared_ptr<ManualClock> clock = std::make_shared<ManualClock>(kStart);
  std::shared_ptr<HttpClient> http = NoNetwork();
  AwsEnvironment env;

  std::shared_ptr<CredentialsProvider> Build(double refresh_before_seconds = 300) {
    ProviderOptions o;
    o.clock = clock;
    o.http = http;
    o.imds_endpoint = "http://imds.test";
    o.container_endpoint = "http://container.test";
    o.refresh_before_seconds = refresh_before_seconds;
    return internal::NewCredentialsChain(env, o);
  }
};

// Environment with HOME in a temp dir and no shared files: every link but the one a test sets up
// finds nothing.
AwsEnvironment BaseEnv(const TempDir& dir) {
  AwsEnvironment env;
  env.vars["HOME"] = dir.path();
  env.vars["AWS_EC2_METADATA_DISABLED"] = "true";
  return env;
}

// ---------------------------------------------------------------------------------------------

TEST(AwsEnvironment, GetTreatsEmptyAsUnsetAndFromProcessKeepsOnlyAwsVariablesAndHome) {
  AwsEnvironment env;
  env.vars["AWS_REGION"] = "eu-west-1";
  env.vars["AWS_PROFILE"] = "";
  EXPECT_EQ(env.Get("AWS_REGION"), "eu-west-1");
  EXPECT_EQ(env.Get("AWS_PROFILE"), std::nullopt);
  EXPECT_EQ(env.Get("AWS_MISSING"), std::nullopt);

  ASSERT_EQ(setenv("AWS_LOTE_TEST_VARIABLE", "x=y", 1), 0);
  ASSERT_EQ(setenv("LOTE_NOT_AWS_VARIABLE", "z", 1), 0);
  const AwsEnvironment process = AwsEnvironment::FromProcess();
  unsetenv("AWS_LOTE_TEST_VARIABLE");
  unsetenv("LOTE_NOT_AWS_VARIABLE");
  EXPECT_EQ(process.Get("AWS_LOTE_TEST_VARIABLE"), "x=y");
  EXPECT_EQ(process.Get("LOTE_NOT_AWS_VARIABLE"), std::nullopt);
  EXPECT_EQ(process.vars.count("PATH"), 0u);
  if (const char* home = getenv("HOME"); home != nullptr && *home != '\0') {
    EXPECT_EQ(process.Get("HOME"), home);
  }
}

TEST(CredentialsChain, TakesKeysFromTheEnvironmentFirst) {
  TempDir dir;
  dir.Write(".aws/credentials",
            "[default]\naws_access_key_id = AKIAFILE\n"
            "aws_secret_access_key = FILESECRETbPxRfiCYEX\n");
  ChainSetup s;
  s.env = BaseEnv(dir);
  s.env.vars["AWS_ACCESS_KEY_ID"] = "AKIAENVKEY";
  s.env.vars["AWS_SECRET_ACCESS_KEY"] = "ENVSECRETwJalrXUtnFEMI";
  s.env.vars["AWS_SESSION_TOKEN"] = "ENVTOKENFwoGZXIvYXdz";
  s.env.vars["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"] = "/v2/credentials/abc";
  auto fake = NoNetwork();
  s.http = fake;
  auto c = s.Build()->Get();
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "AKIAENVKEY");
  EXPECT_EQ(c->secret_access_key.Reveal(), "ENVSECRETwJalrXUtnFEMI");
  EXPECT_EQ(c->session_token.Reveal(), "ENVTOKENFwoGZXIvYXdz");
  EXPECT_EQ(c->expires_at_micros, 0);
  EXPECT_EQ(c->source, "environment");
  EXPECT_TRUE(fake->requests().empty());
  ExpectNoSecret(c->DebugString());
  EXPECT_NE(c->DebugString().find("AKIA..."), std::string::npos) << c->DebugString();
  EXPECT_NE(c->DebugString().find("environment"), std::string::npos);
}

TEST(CredentialsChain, RefusesHalfAPairOfEnvironmentKeys) {
  TempDir dir;
  ChainSetup s;
  s.env = BaseEnv(dir);
  s.env.vars["AWS_SECRET_ACCESS_KEY"] = "ENVSECRETwJalrXUtnFEMI";
  auto c = s.Build()->Get();
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(c.status().message().find("AWS_ACCESS_KEY_ID"), std::string::npos);
  ExpectNoSecret(c.status().message());
}

TEST(CredentialsChain, ReadsTheDefaultProfileFromTheCredentialsFileUnderHome) {
  TempDir dir;
  dir.Write(".aws/credentials",
            "\xEF\xBB\xBF# written by aws configure\r\n"
            "; another comment\r\n"
            "\r\n"
            "[other]\r\n"
            "aws_access_key_id = AKIAOTHER\r\n"
            "aws_secret_access_key = wrong\r\n"
            "[ default ]  \r\n"
            "\tAWS_Access_Key_ID\t=\tAKIAFILEKEY   \r\n"
            "aws_secret_access_key=FILESECRETbPxRfiCYEX\r\n"
            "aws_session_token: FILETOKENIQoJb3JpZ\r\n");
  ChainSetup s;
  s.env = BaseEnv(dir);
  auto c = s.Build()->Get();
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "AKIAFILEKEY");
  EXPECT_EQ(c->secret_access_key.Reveal(), "FILESECRETbPxRfiCYEX");
  EXPECT_EQ(c->session_token.Reveal(), "FILETOKENIQoJb3JpZ");
  EXPECT_EQ(c->source, "profile default");
}

TEST(CredentialsChain, SelectsTheProfileAndPrefersTheCredentialsFileToTheConfigFile) {
  TempDir dir;
  const std::string credentials = dir.Write("creds", R"(
[dev]
aws_access_key_id = AKIACREDSDEV
aws_secret_access_key = FILESECRETbPxRfiCYEX
[profile staging]
aws_access_key_id = AKIANOTSTAGING
aws_secret_access_key = FILESECRETbPxRfiCYEX
)");
  const std::string config = dir.Write("conf", R"(
[profile dev]
aws_access_key_id = AKIACONFIGDEV
aws_secret_access_key = CONFSECRETK7MDENGbPx
[staging]
aws_access_key_id = AKIANOTSTAGINGEITHER
aws_secret_access_key = CONFSECRETK7MDENGbPx
[profile   staging]
region = eu-west-1
aws_access_key_id = AKIACONFIGSTAGING
aws_secret_access_key = CONFSECRETK7MDENGbPx
)");
  ChainSetup s;
  s.env = BaseEnv(dir);
  s.env.vars["AWS_SHARED_CREDENTIALS_FILE"] = credentials;
  s.env.vars["AWS_CONFIG_FILE"] = config;
  s.env.vars["AWS_PROFILE"] = "dev";
  auto dev = s.Build()->Get();
  ASSERT_TRUE(dev.ok()) << dev.status().ToString();
  EXPECT_EQ(dev->access_key_id, "AKIACREDSDEV");
  EXPECT_EQ(dev->source, "profile dev");

  // `[profile NAME]` names a profile only in the config file, `[NAME]` only in the credentials
  // file (except default).
  s.env.vars["AWS_PROFILE"] = "staging";
  auto staging = s.Build()->Get();
  ASSERT_TRUE(staging.ok()) << staging.status().ToString();
  EXPECT_EQ(staging->access_key_id, "AKIACONFIGSTAGING");
  EXPECT_EQ(staging->secret_access_key.Reveal(), "CONFSECRETK7MDENGbPx");
}

TEST(CredentialsChain, ReadsTheDefaultSectionOfTheConfigFileAndExpandsTilde) {
  TempDir dir;
  dir.Write("elsewhere/config",
            "[default]\naws_access_key_id = AKIACONFDEFAULT\n"
            "aws_secret_access_key = CONFSECRETK7MDENGbPx\n");
  ChainSetup s;
  s.env = BaseEnv(dir);
  s.env.vars["AWS_CONFIG_FILE"] = "~/elsewhere/config";
  auto c = s.Build()->Get();
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "AKIACONFDEFAULT");
}

TEST(CredentialsChain, NamesFileAndLineOfAMalformedFileButNeverItsText) {
  TempDir dir;
  struct Case {
    const char* text;
    int line;
  } cases[] = {
      {"[default]\naws_access_key_id = AKIA\nFILESECRETbPxRfiCYEX\n", 3},
      {"aws_secret_access_key = FILESECRETbPxRfiCYEX\n[default]\n", 1},
      {"# ok\n\n[default\naws_secret_access_key = FILESECRETbPxRfiCYEX\n", 3},
      {"[default]\n= FILESECRETbPxRfiCYEX\n", 2},
      {"[]\n", 1},
      {"[default]\ns3 =\n  FILESECRETbPxRfiCYEX\n", 3},
  };
  for (const Case& c : cases) {
    const std::string path = dir.Write("credentials", c.text);
    ChainSetup s;
    s.env = BaseEnv(dir);
    s.env.vars["AWS_SHARED_CREDENTIALS_FILE"] = path;
    auto got = s.Build()->Get();
    EXPECT_EQ(got.status().code(), StatusCode::kInvalidArgument) << c.text;
    EXPECT_NE(got.status().message().find(path + ":" + std::to_string(c.line) + ":"),
              std::string::npos)
        << got.status().message();
    ExpectNoSecret(got.status().message());
  }
}

TEST(CredentialsChain, RefusesAProfileWithAKeyIdButNoSecret) {
  TempDir dir;
  const std::string path = dir.Write("credentials", "\n[default]\naws_access_key_id = AKIAONLY\n");
  ChainSetup s;
  s.env = BaseEnv(dir);
  s.env.vars["AWS_SHARED_CREDENTIALS_FILE"] = path;
  auto got = s.Build()->Get();
  EXPECT_EQ(got.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(got.status().message().find(path + ":2:"), std::string::npos) << got.status().message();
  EXPECT_NE(got.status().message().find("aws_secret_access_key"), std::string::npos);
}

TEST(CredentialsChain, AProfileAskedForByNameMustExist) {
  TempDir dir;
  dir.Write(".aws/credentials",
            "[default]\naws_access_key_id = AKIAFILE\n"
            "aws_secret_access_key = FILESECRETbPxRfiCYEX\n");
  ChainSetup s;
  s.env = BaseEnv(dir);
  s.env.vars["AWS_PROFILE"] = "prod";
  auto got = s.Build()->Get();
  EXPECT_EQ(got.status().code(), StatusCode::kNotFound);
  EXPECT_NE(got.status().message().find("'prod'"), std::string::npos) << got.status().message();
}

TEST(CredentialsChain, DoesNotFallThroughFromAnAssumeRoleProfileToTheInstanceRole) {
  TempDir dir;
  const std::string config = dir.Write(".aws/config",
                                       "[profile admin]\nregion = eu-west-1\n"
                                       "role_arn = arn:aws:iam::1:role/admin\n"
                                       "source_profile = default\n");
  ChainSetup s;
  s.env = BaseEnv(dir);
  s.env.vars.erase("AWS_EC2_METADATA_DISABLED");
  s.env.vars["AWS_PROFILE"] = "admin";
  auto fake = NoNetwork();
  s.http = fake;
  auto got = s.Build()->Get();
  EXPECT_EQ(got.status().code(), StatusCode::kUnimplemented);
  EXPECT_NE(got.status().message().find(config + ":3:"), std::string::npos)
      << got.status().message();
  EXPECT_NE(got.status().message().find("role_arn"), std::string::npos);
  EXPECT_EQ(got.status().message().find("arn:aws"), std::string::npos);
  EXPECT_TRUE(fake->requests().empty());
}

TEST(CredentialsChain, FetchesContainerCredentialsWithTheAuthorizationToken) {
  TempDir dir;
  ChainSetup s;
  s.env = BaseEnv(dir);
  s.env.vars["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"] = "/v2/credentials/7d5c";
  s.env.vars["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = "BEARERAUTHTOKEN123";
  auto fake = std::make_shared<FakeHttp>([](const HttpRequest& r) -> Result<HttpResponse> {
    const std::string* auth = FindHeader(r.headers, "authorization");
    if (r.url != "http://container.test/v2/credentials/7d5c" || auth == nullptr ||
        *auth != "BEARERAUTHTOKEN123") {
      return Answer(403);
    }
    return Answer(200, CredentialsJson("ASIACONTAINER", "HTTPSECRETs3cr3tv4lu",
                                       "HTTPTOKENAgoJb3JpZ2", kStart + 90 * kMinute));
  });
  s.http = fake;
  auto c = s.Build()->Get();
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "ASIACONTAINER");
  EXPECT_EQ(c->secret_access_key.Reveal(), "HTTPSECRETs3cr3tv4lu");
  EXPECT_EQ(c->session_token.Reveal(), "HTTPTOKENAgoJb3JpZ2");
  EXPECT_EQ(c->expires_at_micros, kStart + 90 * kMinute);
  EXPECT_EQ(c->source, "container");
  ASSERT_EQ(fake->requests().size(), 1u);
  EXPECT_EQ(fake->requests()[0].method, "GET");
  ExpectNoSecret(c->DebugString());
}

TEST(CredentialsChain, ReadsTheContainerTokenFileOnEveryFetchInPreferenceToTheVariable) {
  TempDir dir;
  const std::string token_file = dir.Write("token", "BEARERAUTHTOKEN123-1\n");
  ChainSetup s;
  s.env = BaseEnv(dir);
  s.env.vars["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = "http://127.0.0.1:8080/creds";
  s.env.vars["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"] = token_file;
  s.env.vars["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = "ignored";
  std::vector<std::string> seen;
  std::mutex mu;
  auto fake = std::make_shared<FakeHttp>([&](const HttpRequest& r) -> Result<HttpResponse> {
    std::lock_guard lock(mu);
    const std::string* auth = FindHeader(r.headers, "authorization");
    seen.push_back(auth ? *auth : "<none>");
    return Answer(200, CredentialsJson("ASIAFULL", "HTTPSECRETs3cr3tv4lu", "HTTPTOKENAgoJb3JpZ2",
                                       kStart + 10 * kMinute));
  });
  s.http = fake;
  auto chain = s.Build();
  ASSERT_TRUE(chain->Get().ok());
  dir.Write("token", "BEARERAUTHTOKEN123-2");
  s.clock->Advance(6 * kMinute);  // inside the 5-minute refresh window
  ASSERT_TRUE(chain->Get().ok());
  EXPECT_EQ(seen, (std::vector<std::string>{"BEARERAUTHTOKEN123-1", "BEARERAUTHTOKEN123-2"}));
  EXPECT_EQ(fake->requests()[0].url, "http://127.0.0.1:8080/creds");
}

TEST(CredentialsChain, TakesTheContainerFullUriOnlyOnLoopbackOrTheContainerHosts) {
  const char* allowed[] = {"http://127.0.0.1:8080/c", "http://127.1.2.3/c",
                           "http://localhost:1/c",    "http://[::1]:8080/c",
                           "http://169.254.170.2/c",  "http://169.254.170.23/v1/credentials",
                           "http://[fd00:ec2::23]/c"};
  const char* refused[] = {"http://10.0.0.1/c",
                           "https://example.com/c",
                           "http://169.254.169.254/c",
                           "http://127.0.0.1.example.com/c",
                           "http://1270.0.0.1/c",
                           "ftp://127.0.0.1/c",
                           "http://[::2]/c"};
  TempDir dir;
  for (const bool ok : {true, false}) {
    for (const char* url : ok ? std::vector<const char*>(std::begin(allowed), std::end(allowed))
                              : std::vector<const char*>(std::begin(refused), std::end(refused))) {
      ChainSetup s;
      s.env = BaseEnv(dir);
      s.env.vars["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = url;
      s.env.vars["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = "BEARERAUTHTOKEN123";
      auto fake = std::make_shared<FakeHttp>([](const HttpRequest&) -> Result<HttpResponse> {
        return Answer(200, CredentialsJson("ASIAFULL", "HTTPSECRETs3cr3tv4lu",
                                           "HTTPTOKENAgoJb3JpZ2", kStart + 60 * kMinute));
      });
      s.http = fake;
      auto got = s.Build()->Get();
      if (ok) {
        EXPECT_TRUE(got.ok()) << url << ": " << got.status().ToString();
      } else {
        EXPECT_EQ(got.status().code(), StatusCode::kInvalidArgument) << url;
        EXPECT_NE(got.status().message().find("AWS_CONTAINER_CREDENTIALS_FULL_URI"),
                  std::string::npos);
        EXPECT_TRUE(fake->requests().empty()) << url;  // the token never left
        ExpectNoSecret(got.status().message());
      }
    }
  }
}

TEST(CredentialsChain, ReportsBadContainerAnswersWithoutTheirContents) {
  TempDir dir;
  struct Case {
    Result<HttpResponse> answer;
    StatusCode code;
  } cases[] = {
      {Answer(500, R"({"SecretAccessKey": "HTTPSECRETs3cr3tv4lu"})"), StatusCode::kUnavailable},
      {UnavailableError("GET http://container.test/v2/x: connection refused"),
       StatusCode::kUnavailable},
      {Answer(200, "HTTPSECRETs3cr3tv4lu not json"), StatusCode::kInvalidArgument},
      {Answer(200, R"({"AccessKeyId": "A", "Token": "HTTPTOKENAgoJb3JpZ2"})"),
       StatusCode::kInvalidArgument},
      {Answer(200, R"({"AccessKeyId": "A", "SecretAccessKey": "HTTPSECRETs3cr3tv4lu",
                       "Token": "HTTPTOKENAgoJb3JpZ2", "Expiration": "tomorrow"})"),
       StatusCode::kInvalidArgument},
      {Answer(200, R"({"AccessKeyId": "A", "SecretAccessKey": "HTTPSECRETs3cr3tv4lu",
                       "Token": 7, "Expiration": "2024-05-01T01:00:00Z"})"),
       StatusCode::kInvalidArgument},
      {Answer(200, R"({"Code": "Failure", "AccessKeyId": "A",
                       "SecretAccessKey": "HTTPSECRETs3cr3tv4lu"})"),
       StatusCode::kUnavailable},
  };
  for (const Case& c : cases) {
    ChainSetup s;
    s.env = BaseEnv(dir);
    s.env.vars["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"] = "/v2/x";
    s.env.vars["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = "BEARERAUTHTOKEN123";
    s.http = std::make_shared<FakeHttp>(
        [&](const HttpRequest&) -> Result<HttpResponse> { return c.answer; });
    auto got = s.Build()->Get();
    EXPECT_EQ(got.status().code(), c.code) << got.status().ToString();
    EXPECT_NE(got.status().message().find("container"), std::string::npos);
    ExpectNoSecret(got.status().message());
  }
  // A token with a line break would inject a header: refused before sending.
  ChainSetup s;
  s.env = BaseEnv(dir);
  s.env.vars["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"] = "/v2/x";
  s.env.vars["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = "BEARERAUTHTOKEN123\r\nX-Evil: 1";
  auto fake = NoNetwork();
  s.http = fake;
  auto got = s.Build()->Get();
  EXPECT_EQ(got.status().code(), StatusCode::kInvalidArgument);
  ExpectNoSecret(got.status().message());
  EXPECT_TRUE(fake->requests().empty());
}

TEST(CredentialsChain, ParsesExpirationTimesWithFractionsAndOffsets) {
  TempDir dir;
  struct Case {
    const char* expiration;
    int64_t micros;
  } cases[] = {
      {"2024-05-01T01:00:00Z", kStart + 60 * kMinute},
      {"2024-05-01T01:00:00.250Z", kStart + 60 * kMinute + 250000},
      {"2024-05-01T03:00:00+02:00", kStart + 60 * kMinute},
      {"2024-04-30T23:30:00-01:30", kStart + 60 * kMinute},
  };
  for (const Case& c : cases) {
    ChainSetup s;
    s.env = BaseEnv(dir);
    s.env.vars["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"] = "/v2/x";
    const std::string body = std::string(R"({"AccessKeyId": "ASIA", "SecretAccessKey": "s",
        "Token": "t", "Expiration": ")") +
                             c.expiration + "\"}";
    s.http = std::make_shared<FakeHttp>(
        [&](const HttpRequest&) -> Result<HttpResponse> { return Answer(200, body); });
    auto got = s.Build()->Get();
    ASSERT_TRUE(got.ok()) << c.expiration << ": " << got.status().ToString();
    EXPECT_EQ(got->expires_at_micros, c.micros) << c.expiration;
  }
}

TEST(CredentialsChain, FetchesInstanceCredentialsWithAnImdsV2SessionToken) {
  TempDir dir;
  FakeImds imds;
  ChainSetup s;
  s.env = BaseEnv(dir);
  s.env.vars.erase("AWS_EC2_METADATA_DISABLED");
  auto fake = std::make_shared<FakeHttp>([&](const HttpRequest& r) { return imds.Handle(r); });
  s.http = fake;
  auto c = s.Build()->Get();
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "ASIAIMDSKEY1");
  EXPECT_EQ(c->secret_access_key.Reveal(), "HTTPSECRETs3cr3tv4lu");
  EXPECT_EQ(c->session_token.Reveal(), "HTTPTOKENAgoJb3JpZ2");
  EXPECT_EQ(c->expires_at_micros, imds.expires_at);
  EXPECT_EQ(c->source, "imds");
  const auto requests = fake->requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].method, "PUT");
  EXPECT_EQ(requests[0].url, "http://imds.test/latest/api/token");
  EXPECT_EQ(requests[1].url, "http://imds.test/latest/meta-data/iam/security-credentials/");
  EXPECT_EQ(requests[2].url,
            "http://imds.test/latest/meta-data/iam/security-credentials/lote-role");
  ASSERT_NE(FindHeader(requests[2].headers, "X-aws-ec2-metadata-token"), nullptr);
  EXPECT_EQ(*FindHeader(requests[2].headers, "X-aws-ec2-metadata-token"), "IMDSTOKENAQAEAKq9QN-1");
}

TEST(CredentialsChain, ReusesTheImdsTokenAndFetchesANewOneOnceWhenItIsRefused) {
  TempDir dir;
  FakeImds imds;
  imds.expires_at = kStart + 10 * kMinute;
  ChainSetup s;
  s.env = BaseEnv(dir);
  s.env.vars.erase("AWS_EC2_METADATA_DISABLED");
  auto fake = std::make_shared<FakeHttp>([&](const HttpRequest& r) { return imds.Handle(r); });
  s.http = fake;
  auto chain = s.Build();
  ASSERT_TRUE(chain->Get().ok());
  EXPECT_EQ(imds.tokens_issued, 1);

  // Refresh inside the window: the cached token is still good, no new PUT.
  {
    std::lock_guard lock(imds.mu);
    imds.expires_at = kStart + 20 * kMinute;
  }
  s.clock->Advance(6 * kMinute);
  auto second = chain->Get();
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->expires_at_micros, kStart + 20 * kMinute);
  EXPECT_EQ(imds.tokens_issued, 1);
  EXPECT_EQ(fake->requests().size(), 5u);

  // The token expired on IMDS's side: 401, one new token, the request again.
  {
    std::lock_guard lock(imds.mu);
    imds.token_expired = true;
    imds.expires_at = kStart + 40 * kMinute;
  }
  s.clock->Advance(10 * kMinute);
  auto third = chain->Get();
  ASSERT_TRUE(third.ok()) << third.status().ToString();
  EXPECT_EQ(third->expires_at_micros, kStart + 40 * kMinute);
  EXPECT_EQ(imds.tokens_issued, 2);
  const auto requests = fake->requests();
  ASSERT_EQ(requests.size(), 9u);  // GET (401), PUT, GET role, GET credentials
  EXPECT_EQ(requests[5].method, "GET");
  EXPECT_EQ(requests[6].method, "PUT");
  EXPECT_EQ(*FindHeader(requests[8].headers, "x-aws-ec2-metadata-token"), "IMDSTOKENAQAEAKq9QN-2");
}

TEST(CredentialsChain, GivesUpAfterOneNewImdsTokenIsRefusedToo) {
  TempDir dir;
  ChainSetup s;
  s.env = BaseEnv(dir);
  s.env.vars.erase("AWS_EC2_METADATA_DISABLED");
  int puts = 0;
  auto fake = std::make_shared<FakeHttp>([&](const HttpRequest& r) -> Result<HttpResponse> {
    if (r.method == "PUT") {
      ++puts;
      return Answer(200, "IMDSTOKENAQAEAKq9QN");
    }
    return Answer(401);
  });
  s.http = fake;
  auto got = s.Build()->Get();
  EXPECT_EQ(got.status().code(), StatusCode::kUnavailable) << got.status().ToString();
  EXPECT_EQ(puts, 2);
  EXPECT_EQ(fake->requests().size(), 4u);
  ExpectNoSecret(got.status().message());
}

TEST(CredentialsChain, EndsInNotFoundListingWhatItTriedWhenImdsDoesNotAnswer) {
  TempDir dir;
  ChainSetup s;
  s.env = BaseEnv(dir);
  s.env.vars.erase("AWS_EC2_METADATA_DISABLED");
  auto fake = NoNetwork();
  s.http = fake;
  auto got = s.Build()->Get();
  EXPECT_EQ(got.status().code(), StatusCode::kNotFound);
  const std::string& m = got.status().message();
  for (const char* part : {"environment", "profile 'default'", "container", "http://imds.test",
                           "connection refused"}) {
    EXPECT_NE(m.find(part), std::string::npos) << part << " not in: " << m;
  }
  EXPECT_EQ(fake->requests().size(), 1u);  // the token PUT only
}

TEST(CredentialsChain, SkipsImdsWhenDisabledAndWhenTheInstanceHasNoRole) {
  TempDir dir;
  ChainSetup s;
  s.env = BaseEnv(dir);
  s.env.vars["AWS_EC2_METADATA_DISABLED"] = "TRUE";
  auto fake = NoNetwork();
  s.http = fake;
  auto got = s.Build()->Get();
  EXPECT_EQ(got.status().code(), StatusCode::kNotFound);
  EXPECT_NE(got.status().message().find("AWS_EC2_METADATA_DISABLED"), std::string::npos);
  EXPECT_TRUE(fake->requests().empty());

  FakeImds imds;
  imds.role_status = 404;
  s.env.vars.erase("AWS_EC2_METADATA_DISABLED");
  s.http = std::make_shared<FakeHttp>([&](const HttpRequest& r) { return imds.Handle(r); });
  got = s.Build()->Get();
  EXPECT_EQ(got.status().code(), StatusCode::kNotFound);
  EXPECT_NE(got.status().message().find("no IAM role"), std::string::npos)
      << got.status().message();
}

TEST(CredentialsChain, TakesTheImdsEndpointFromTheEnvironmentWhenTheOptionsHaveNone) {
  TempDir dir;
  AwsEnvironment env = BaseEnv(dir);
  env.vars.erase("AWS_EC2_METADATA_DISABLED");
  env.vars["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = "http://[fd00:ec2::254]/";
  auto fake = NoNetwork();
  ProviderOptions o;
  o.clock = std::make_shared<ManualClock>(kStart);
  o.http = fake;
  EXPECT_EQ(internal::NewCredentialsChain(env, o)->Get().status().code(), StatusCode::kNotFound);
  ASSERT_EQ(fake->requests().size(), 1u);
  EXPECT_EQ(fake->requests()[0].url, "http://[fd00:ec2::254]/latest/api/token");
}

// A container endpoint whose answers the test changes: expiry, failure.
struct ScriptedContainer {
  std::mutex mu;
  int calls = 0;
  bool fail = false;
  int64_t expires_at = kStart + 60 * kMinute;
  std::chrono::milliseconds delay{0};

  Result<HttpResponse> Handle(const HttpRequest&) {
    std::this_thread::sleep_for(delay);  // widens the window for racing callers
    std::lock_guard lock(mu);
    ++calls;
    if (fail) return UnavailableError("GET http://container.test/v2/x: timed out");
    return Answer(200, CredentialsJson("ASIAC" + std::to_string(calls), "HTTPSECRETs3cr3tv4lu",
                                       "HTTPTOKENAgoJb3JpZ2", expires_at));
  }
};

TEST(CredentialsChain, CachesAndRefreshesBeforeExpiryKeepingValidCredentialsWhenARefreshFails) {
  TempDir dir;
  ScriptedContainer endpoint;
  ChainSetup s;
  s.env = BaseEnv(dir);
  s.env.vars["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"] = "/v2/x";
  s.http = std::make_shared<FakeHttp>([&](const HttpRequest& r) { return endpoint.Handle(r); });
  auto chain = s.Build(/*refresh_before_seconds=*/300);

  ASSERT_EQ(chain->Get()->access_key_id, "ASIAC1");
  s.clock->Advance(54 * kMinute);  // 6 minutes left: cached
  ASSERT_EQ(chain->Get()->access_key_id, "ASIAC1");
  EXPECT_EQ(endpoint.calls, 1);

  s.clock->Advance(2 * kMinute);  // 4 minutes left: refreshed
  endpoint.expires_at = kStart + 120 * kMinute;
  ASSERT_EQ(chain->Get()->access_key_id, "ASIAC2");
  EXPECT_EQ(endpoint.calls, 2);

  // 3 minutes left and the endpoint fails: the old credentials, retried 10 s later, not sooner.
  s.clock->Advance(61 * kMinute);
  endpoint.fail = true;
  auto kept = chain->Get();
  ASSERT_TRUE(kept.ok()) << kept.status().ToString();
  EXPECT_EQ(kept->access_key_id, "ASIAC2");
  EXPECT_EQ(endpoint.calls, 3);
  ASSERT_TRUE(chain->Get().ok());
  EXPECT_EQ(endpoint.calls, 3);
  s.clock->Advance(11 * 1000000);
  ASSERT_TRUE(chain->Get().ok());
  EXPECT_EQ(endpoint.calls, 4);

  // Expired and the endpoint still fails: the error.
  s.clock->Advance(3 * kMinute);
  auto expired = chain->Get();
  EXPECT_EQ(expired.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(expired.status().message().find("timed out"), std::string::npos);
  ExpectNoSecret(expired.status().message());

  // The endpoint is back: new credentials.
  endpoint.fail = false;
  endpoint.expires_at = kStart + 240 * kMinute;
  auto back = chain->Get();
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->expires_at_micros, kStart + 240 * kMinute);
}

TEST(CredentialsChain, AsksAgainAfterTheRetryIntervalForCredentialsThatArriveInsideTheWindow) {
  TempDir dir;
  ScriptedContainer endpoint;
  endpoint.expires_at = kStart + 2 * kMinute;  // already inside a 5-minute window
  ChainSetup s;
  s.env = BaseEnv(dir);
  s.env.vars["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"] = "/v2/x";
  s.http = std::make_shared<FakeHttp>([&](const HttpRequest& r) { return endpoint.Handle(r); });
  auto chain = s.Build();
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(chain->Get().ok());
  EXPECT_EQ(endpoint.calls, 1);
  s.clock->Advance(10 * 1000000);
  ASSERT_TRUE(chain->Get().ok());
  EXPECT_EQ(endpoint.calls, 2);
}

TEST(CredentialsChain, ReadsSharedFilesOnceAndKeepsWhatItFound) {
  TempDir dir;
  const std::string path = dir.Write(".aws/credentials",
                                     "[default]\naws_access_key_id = AKIAF\n"
                                     "aws_secret_access_key = FILESECRETbPxRfiCYEX\n");
  ChainSetup s;
  s.env = BaseEnv(dir);
  auto chain = s.Build();
  ASSERT_TRUE(chain->Get().ok());
  fs::remove(path);
  s.clock->Advance(int64_t{48} * 60 * kMinute);
  auto again = chain->Get();
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->access_key_id, "AKIAF");
}

TEST(CredentialsChain, FetchesOnceForManyThreadsAtTheStartAndAtARefresh) {
  TempDir dir;
  ScriptedContainer endpoint;
  endpoint.delay = std::chrono::milliseconds(30);
  ChainSetup s;
  s.env = BaseEnv(dir);
  s.env.vars["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"] = "/v2/x";
  auto fake = std::make_shared<FakeHttp>([&](const HttpRequest& r) { return endpoint.Handle(r); });
  s.http = fake;
  auto chain = s.Build();
  auto hammer = [&](const std::string& want_prefix) {
    std::vector<std::thread> threads;
    std::atomic<int> good{0};
    for (int i = 0; i < 8; ++i) {
      threads.emplace_back([&] {
        auto c = chain->Get();
        if (c.ok() && c->access_key_id.starts_with(want_prefix)) ++good;
      });
    }
    for (auto& t : threads) t.join();
    return good.load();
  };
  EXPECT_EQ(hammer("ASIAC1"), 8);
  EXPECT_EQ(endpoint.calls, 1);

  // Inside the refresh window, every thread gets valid credentials (the old ones while the one
  // refresh is under way, or the new ones), and the endpoint is asked once.
  s.clock->Advance(56 * kMinute);
  endpoint.expires_at = kStart + 120 * kMinute;
  EXPECT_EQ(hammer("ASIAC"), 8);
  EXPECT_EQ(endpoint.calls, 2);
  EXPECT_EQ(fake->max_in_flight(), 1);
}

TEST(StaticCredentials, ReturnsWhatItWasGivenAndRefusesEmptyKeys) {
  Credentials c;
  c.access_key_id = "AKIASTATIC";
  c.secret_access_key = Secret("CONFSECRETK7MDENGbPx");
  auto got = NewStaticCredentials(c)->Get();
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->access_key_id, "AKIASTATIC");
  EXPECT_EQ(got->secret_access_key.Reveal(), "CONFSECRETK7MDENGbPx");
  EXPECT_EQ(got->source, "static");
  ExpectNoSecret(got->DebugString());
  EXPECT_EQ(NewStaticCredentials(Credentials())->Get().status().code(),
            StatusCode::kInvalidArgument);
}

TEST(ResolveRegion, TakesTheVariablesThenTheConfigProfile) {
  TempDir dir;
  dir.Write(".aws/config", "[default]\nregion = us-west-2\n[profile dev]\nregion = eu-south-2\n");
  dir.Write(".aws/credentials", "[prod]\nregion = ap-east-1\n");
  AwsEnvironment env;
  env.vars["HOME"] = dir.path();
  EXPECT_EQ(ResolveRegion(env), "us-west-2");
  env.vars["AWS_PROFILE"] = "dev";
  EXPECT_EQ(ResolveRegion(env), "eu-south-2");
  env.vars["AWS_PROFILE"] = "prod";  // the credentials file holds no region
  EXPECT_EQ(ResolveRegion(env), std::nullopt);
  env.vars["AWS_DEFAULT_REGION"] = "eu-west-3";
  EXPECT_EQ(ResolveRegion(env), "eu-west-3");
  env.vars["AWS_REGION"] = "eu-central-1";
  EXPECT_EQ(ResolveRegion(env), "eu-central-1");

  AwsEnvironment broken;
  broken.vars["AWS_CONFIG_FILE"] = dir.Write("bad", "region = x\n");
  EXPECT_EQ(ResolveRegion(broken), std::nullopt);
  EXPECT_EQ(ResolveRegion(AwsEnvironment()), std::nullopt);
}

TEST(ResolveEndpoint, FollowsBotocoresOrder) {
  TempDir dir;
  dir.Write(".aws/config", R"(
[default]
endpoint_url = http://profile:9000
services = local

[services local]
sagemaker_runtime =
  endpoint_url = http://services-sm:1
s3 =
  addressing_style = path
  endpoint_url = http://services-s3:2

[profile plain]
endpoint_url = http://plain:3

[profile off]
endpoint_url = http://off:4
ignore_configured_endpoint_urls = true
)");
  AwsEnvironment env;
  env.vars["HOME"] = dir.path();
  EXPECT_EQ(ResolveEndpoint(env, "s3"), "http://services-s3:2");
  EXPECT_EQ(ResolveEndpoint(env, "sagemaker-runtime"), "http://services-sm:1");
  EXPECT_EQ(ResolveEndpoint(env, "sqs"), "http://profile:9000");
  env.vars["AWS_ENDPOINT_URL"] = "http://global:5";
  EXPECT_EQ(ResolveEndpoint(env, "s3"), "http://global:5");
  env.vars["AWS_ENDPOINT_URL_S3"] = "http://env-s3:6";
  env.vars["AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME"] = "http://env-sm:7";
  EXPECT_EQ(ResolveEndpoint(env, "s3"), "http://env-s3:6");
  EXPECT_EQ(ResolveEndpoint(env, "SageMaker Runtime"), "http://env-sm:7");
  EXPECT_EQ(ResolveEndpoint(env, "sqs"), "http://global:5");
  env.vars["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"] = "True";
  EXPECT_EQ(ResolveEndpoint(env, "s3"), std::nullopt);

  AwsEnvironment profiles;
  profiles.vars["HOME"] = dir.path();
  profiles.vars["AWS_PROFILE"] = "plain";
  EXPECT_EQ(ResolveEndpoint(profiles, "s3"), "http://plain:3");
  profiles.vars["AWS_PROFILE"] = "off";
  EXPECT_EQ(ResolveEndpoint(profiles, "s3"), std::nullopt);
  profiles.vars["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"] = "false";  // the variable wins
  EXPECT_EQ(ResolveEndpoint(profiles, "s3"), "http://off:4");
  profiles.vars["AWS_PROFILE"] = "missing";
  EXPECT_EQ(ResolveEndpoint(profiles, "s3"), std::nullopt);
}

}  // namespace
}  // namespace lote::aws
