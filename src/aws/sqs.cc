#include "lote/aws/sqs.h"

#include <cctype>
#include <nlohmann/json.hpp>

#include "aws/json_client.h"
#include "lote/text/utf8.h"

namespace lote::aws {
namespace {

using nlohmann::json;

// "https://sqs.us-east-2.amazonaws.com/123/q" -> "us-east-2"; "" for other hosts.
std::string RegionOfQueueHost(std::string_view host) {
  if (!host.starts_with("sqs.")) return "";
  host.remove_prefix(4);
  const size_t dot = host.find('.');
  if (dot == std::string_view::npos || host.substr(dot) != ".amazonaws.com") return "";
  return std::string(host.substr(0, dot));
}

class JsonSqsQueue : public SqsQueue {
 public:
  JsonSqsQueue(std::string url, JsonClientConfig config)
      : url_(std::move(url)), client_(std::move(config)) {}

  Result<std::vector<SqsMessage>> Receive(int max_messages, int wait_seconds,
                                          int visibility_timeout_seconds) override {
    if (max_messages < 1 || max_messages > 10 || wait_seconds < 0 || wait_seconds > 20 ||
        visibility_timeout_seconds < 0 || visibility_timeout_seconds > 43200) {
      return InvalidArgumentError(
          "SQS ReceiveMessage: 1..10 messages, 0..20 s wait, 0..43200 s visibility");
    }
    json request{{"QueueUrl", url_},
                 {"MaxNumberOfMessages", max_messages},
                 {"WaitTimeSeconds", wait_seconds},
                 {"VisibilityTimeout", visibility_timeout_seconds}};
    // The long poll holds the connection for up to wait_seconds.
    LOTE_ASSIGN_OR_RETURN(json answer,
                          client_.Call("ReceiveMessage", request, wait_seconds + 30.0));
    std::vector<SqsMessage> out;
    auto messages = answer.find("Messages");
    if (messages == answer.end() || !messages->is_array()) return out;
    for (const json& m : *messages) {
      if (!m.is_object() || !m.contains("ReceiptHandle") || !m["ReceiptHandle"].is_string()) {
        return DataLossError("SQS ReceiveMessage on " + url_ + ": a message without a receipt");
      }
      SqsMessage message;
      message.message_id = m.value("MessageId", "");
      message.receipt_handle = m["ReceiptHandle"].get<std::string>();
      message.body = m.value("Body", "");
      out.push_back(std::move(message));
    }
    return out;
  }

  Status Delete(const SqsMessage& message) override {
    json request{{"QueueUrl", url_}, {"ReceiptHandle", message.receipt_handle}};
    return client_.Call("DeleteMessage", request).status();
  }

  Status ChangeVisibility(const SqsMessage& message, int seconds) override {
    json request{{"QueueUrl", url_},
                 {"ReceiptHandle", message.receipt_handle},
                 {"VisibilityTimeout", seconds}};
    return client_.Call("ChangeMessageVisibility", request).status();
  }

  const std::string& url() const override { return url_; }

 private:
  std::string url_;
  JsonClient client_;
};

// '+' -> ' ', %XX -> the byte (S3 event keys are form-encoded).
std::string FormDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out.push_back(' ');
    } else if (s[i] == '%' && i + 2 < s.size() &&
               std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
               std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out.push_back(static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

std::string Unquote(std::string etag) {
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') {
    etag = etag.substr(1, etag.size() - 2);
  }
  return etag;
}

}  // namespace

Result<std::unique_ptr<SqsQueue>> OpenSqsQueue(const std::string& queue_url, SqsOptions options) {
  const size_t sep = queue_url.find("://");
  const std::string scheme = sep == std::string::npos ? "" : queue_url.substr(0, sep);
  const std::string rest = sep == std::string::npos ? "" : queue_url.substr(sep + 3);
  const size_t slash = rest.find('/');
  const std::string host = rest.substr(0, slash);
  const std::string path = slash == std::string::npos ? "" : rest.substr(slash);
  if ((scheme != "http" && scheme != "https") || host.empty() || path.size() < 4 ||
      path.find('/', 1) == std::string::npos) {
    return InvalidArgumentError("not an SQS queue URL (https://HOST/ACCOUNT/NAME): " +
                                text::EscapeControl(queue_url));
  }
  const auto env = options.env
                       ? options.env
                       : std::make_shared<const AwsEnvironment>(AwsEnvironment::FromProcess());
  JsonClientConfig config;
  config.endpoint = !options.endpoint.empty()
                        ? options.endpoint
                        : ResolveEndpoint(*env, "sqs").value_or(scheme + "://" + host);
  config.region = options.region;
  if (config.region.empty()) config.region = RegionOfQueueHost(host);
  if (config.region.empty()) config.region = ResolveRegion(*env).value_or("us-east-1");
  config.service = "sqs";
  config.target_prefix = "AmazonSQS";
  config.json_version = "1.0";
  config.retry.max_attempts = options.max_attempts;
  config.retry.max_retry_seconds = options.max_retry_seconds;
  config.clock = ClockOr(options.clock);
  if (!options.http) {
    CurlHttpClientOptions http;
    if (auto ca = env->Get("AWS_CA_BUNDLE")) http.ca_file = *ca;
    options.http = NewCurlHttpClient(std::move(http));
  }
  config.http = options.http;
  if (!options.credentials) {
    ProviderOptions provider;
    provider.clock = config.clock;
    provider.http = options.http;
    options.credentials = NewDefaultCredentialsChain(*env, std::move(provider));
  }
  config.credentials = options.credentials;
  return std::unique_ptr<SqsQueue>(std::make_unique<JsonSqsQueue>(queue_url, std::move(config)));
}

Result<std::vector<S3EventObject>> ParseS3Event(std::string_view body) {
  json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return InvalidArgumentError("not a JSON object");
  std::vector<S3EventObject> out;
  try {
    if (j.value("Event", "") == "s3:TestEvent") return out;
    if (auto records = j.find("Records"); records != j.end() && records->is_array()) {
      for (const json& r : *records) {
        if (r.value("eventSource", "") != "aws:s3") {
          return InvalidArgumentError("a record that is not an S3 event");
        }
        const std::string name = r.value("eventName", "");
        if (!name.starts_with("ObjectCreated:")) continue;
        const json& s3 = r.at("s3");
        S3EventObject o;
        o.bucket = s3.at("bucket").at("name").get<std::string>();
        o.key = FormDecode(s3.at("object").at("key").get<std::string>());
        o.size = s3.at("object").value("size", uint64_t{0});
        o.etag = Unquote(s3.at("object").value("eTag", ""));
        o.event_name = name;
        out.push_back(std::move(o));
      }
      return out;
    }
    if (j.value("source", "") == "aws.s3" && j.contains("detail-type")) {
      const std::string type = j["detail-type"].get<std::string>();
      if (type != "Object Created") return out;
      const json& d = j.at("detail");
      S3EventObject o;
      o.bucket = d.at("bucket").at("name").get<std::string>();
      o.key = d.at("object").at("key").get<std::string>();  // EventBridge: not encoded
      o.size = d.at("object").value("size", uint64_t{0});
      o.etag = Unquote(d.at("object").value("etag", ""));
      o.event_name = type;
      out.push_back(std::move(o));
      return out;
    }
  } catch (const json::exception& e) {
    return InvalidArgumentError(std::string("a malformed S3 event: ") + e.what());
  }
  return InvalidArgumentError("neither an S3 event notification nor an EventBridge S3 event");
}

}  // namespace lote::aws
