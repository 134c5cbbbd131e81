// HttpClient over libcurl's easy interface. Each Send borrows an easy handle from a pool (a handle
// keeps its connections open, so reuse is connection reuse) and returns it afterwards; at most
// `max_idle_connections` handles are kept.
//
// Only http and https are allowed (no redirects are followed, no other protocol can be reached
// from a URL an attacker put in a configuration), signals are off (threads), and curl's default
// "Expect: 100-continue" and POST form content type are suppressed: every header sent is one the
// caller set (and signed) or Host, Content-Length and Accept.
#include <curl/curl.h>

#include <algorithm>
#include <cstdlib>
#include <mutex>
#include <vector>

#include "lote/aws/http.h"
#include "lote/base/ascii.h"

namespace lote::aws {
namespace {

std::once_flag g_curl_init;

// The URL without its query or fragment: what error messages may show (a query can hold a
// presigned signature).
std::string UrlForMessages(std::string_view url) {
  return std::string(url.substr(0, url.find_first_of("?#")));
}

struct Transfer {
  HttpResponse* response;
  const BodySink* sink;
  CURL* curl;
  uint64_t max_body_bytes;
  std::string_view upload;  // what remains of the request body
  Status sink_error;
  bool over_cap = false;
};

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string_view line(data, size * count);
  if (line.starts_with("HTTP/")) {
    t->response->headers.clear();  // a new status line (after 100 Continue or a redirect)
    return line.size();
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return line.size();
  std::string name = AsciiLowercase(line.substr(0, colon));
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) {
    value.remove_suffix(1);
  }
  // Room for the whole body at once (when it is collected and within the cap): growing a string
  // by doubling would hold up to twice a large range answer.
  if (name == "content-length" && !*t->sink) {
    const uint64_t n = std::strtoull(std::string(value).c_str(), nullptr, 10);
    if (n <= t->max_body_bytes) t->response->body.reserve(n);
  }
  t->response->headers.emplace_back(std::move(name), std::string(value));
  return line.size();
}

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t n = size * count;
  long code = 0;
  curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &code);
  if (*t->sink && code >= 200 && code < 300) {
    t->sink_error = (*t->sink)(std::string_view(data, n));
    return t->sink_error.ok() ? n : 0;
  }
  if (t->response->body.size() + n > t->max_body_bytes) {
    t->over_cap = true;
    return 0;
  }
  t->response->body.append(data, n);
  return n;
}

size_t OnUpload(char* buffer, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t n = std::min(size * count, t->upload.size());
  std::copy_n(t->upload.data(), n, buffer);
  t->upload.remove_prefix(n);
  return n;
}

class CurlHttpClient : public HttpClient {
 public:
  explicit CurlHttpClient(CurlHttpClientOptions options) : options_(std::move(options)) {
    std::call_once(g_curl_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  }
  ~CurlHttpClient() override {
    for (CURL* c : idle_) curl_easy_cleanup(c);
  }

  Result<HttpResponse> Send(const HttpRequest& request, const BodySink& sink) override {
    CURL* curl = Borrow();
    if (curl == nullptr) return ResourceExhaustedError("cannot create an HTTP handle");
    HttpResponse response;
    Transfer t{&response, &sink, curl, request.max_body_bytes, request.body, Status::Ok()};
    curl_slist* headers = nullptr;
    bool has_content_type = false;
    for (const auto& [name, value] : request.headers) {
      std::string line = name + ": " + value;
      if (value.empty()) line = name + ";";  // curl's syntax for a header with an empty value
      headers = curl_slist_append(headers, line.c_str());
      if (EqualsIgnoreAsciiCase(name, "content-type")) has_content_type = true;
    }
    headers = curl_slist_append(headers, "Expect:");
    if (!has_content_type) headers = curl_slist_append(headers, "Content-Type:");

    curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, OnHeader);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &t);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, OnBody);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &t);
    if (!options_.ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, options_.ca_file.c_str());
    if (request.timeout_seconds > 0) {
      curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout_seconds * 1e3));
    }
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(request.connect_timeout_seconds * 1e3));
    if (request.low_speed_bytes > 0 && request.low_speed_seconds > 0) {
      curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, static_cast<long>(request.low_speed_bytes));
      curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, static_cast<long>(request.low_speed_seconds));
    }
    const std::string& m = request.method;
    if (m == "HEAD") {
      curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
    } else if (m == "PUT") {
      curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
      curl_easy_setopt(curl, CURLOPT_READFUNCTION, OnUpload);
      curl_easy_setopt(curl, CURLOPT_READDATA, &t);
      curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE,
                       static_cast<curl_off_t>(request.body.size()));
    } else if (m == "POST") {
      curl_easy_setopt(curl, CURLOPT_POST, 1L);
      curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data());
      curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                       static_cast<curl_off_t>(request.body.size()));
    } else if (m != "GET") {
      curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, m.c_str());
    }

    CURLcode rc = curl_easy_perform(curl);
    long code = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
    curl_slist_free_all(headers);
    Return(curl, rc == CURLE_OK);

    const std::string what = m + " " + UrlForMessages(request.url);
    if (!t.sink_error.ok()) return t.sink_error;
    if (t.over_cap) {
      return ResourceExhaustedError(what + ": response body over " +
                                    std::to_string(request.max_body_bytes) + " bytes");
    }
    if (rc == CURLE_OPERATION_TIMEDOUT) return UnavailableError(what + ": timed out");
    if (rc != CURLE_OK) return UnavailableError(what + ": " + curl_easy_strerror(rc));
    response.status = static_cast<int>(code);
    return response;
  }

 private:
  CURL* Borrow() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!idle_.empty()) {
        CURL* c = idle_.back();
        idle_.pop_back();
        curl_easy_reset(c);  // options back to defaults; open connections are kept
        return c;
      }
    }
    return curl_easy_init();
  }

  // A handle whose transfer failed may hold a broken connection: it is dropped.
  void Return(CURL* curl, bool healthy) {
    if (healthy) {
      std::lock_guard<std::mutex> lock(mu_);
      if (idle_.size() < static_cast<size_t>(options_.max_idle_connections)) {
        idle_.push_back(curl);
        return;
      }
    }
    curl_easy_cleanup(curl);
  }

  CurlHttpClientOptions options_;
  std::mutex mu_;
  std::vector<CURL*> idle_;
};

}  // namespace

std::shared_ptr<HttpClient> NewCurlHttpClient(CurlHttpClientOptions options) {
  return std::make_shared<CurlHttpClient>(std::move(options));
}

}  // namespace lote::aws
