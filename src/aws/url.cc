#include "aws/url.h"

#include <string>
#include <string_view>

namespace lote::aws {

std::string ParsedUrl::HostHeader() const {
  std::string out;
  if (ipv6) out.push_back('[');
  // Lower case as botocore sends it: host names are case-insensitive, and what is sent is signed.
  for (const char c : host)
    out.push_back((c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c);
  if (ipv6) out.push_back(']');
  const int default_port = scheme == "https" ? 443 : 80;
  if (port != 0 && port != default_port) {
    out.push_back(':');
    out += std::to_string(port);
  }
  return out;
}

Result<ParsedUrl> ParseUrl(std::string_view url) {
  for (const char c : url) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f) {
      return InvalidArgumentError(
          "URL has a space, control or non-ASCII byte (paths and queries must be percent-encoded)");
    }
  }
  ParsedUrl out;
  const size_t sep = url.find("://");
  if (sep == std::string_view::npos) return InvalidArgumentError("URL has no scheme");
  for (const char c : url.substr(0, sep)) {
    out.scheme.push_back((c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c);
  }
  if (out.scheme != "http" && out.scheme != "https") {
    return InvalidArgumentError("URL scheme is not http or https");
  }
  std::string_view rest = url.substr(sep + 3);
  const size_t authority_end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, authority_end);
  rest = authority_end == std::string_view::npos ? std::string_view() : rest.substr(authority_end);
  if (authority.find('@') != std::string_view::npos) {
    return InvalidArgumentError("URL has user info, which is not supported");
  }
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return InvalidArgumentError("URL has an unclosed '['");
    out.host = std::string(authority.substr(1, close - 1));
    out.ipv6 = true;
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return InvalidArgumentError("URL has bytes after its IPv6 host");
      port = after.substr(1);
      if (port.empty()) return InvalidArgumentError("URL has an empty port");
    }
  } else {
    const size_t colon = authority.find(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      port = authority.substr(colon + 1);
      if (port.empty()) return InvalidArgumentError("URL has an empty port");
    }
  }
  if (out.host.empty()) return InvalidArgumentError("URL has no host");
  if (!port.empty()) {
    int value = 0;
    for (const char c : port) {
      if (c < '0' || c > '9' || value > 65535) return InvalidArgumentError("URL has a bad port");
      value = value * 10 + (c - '0');
    }
    if (value < 1 || value > 65535) return InvalidArgumentError("URL has a bad port");
    out.port = value;
  }
  const size_t fragment = rest.find('#');
  if (fragment != std::string_view::npos) rest = rest.substr(0, fragment);
  const size_t question = rest.find('?');
  out.path = std::string(rest.substr(0, question));
  if (question != std::string_view::npos) {
    out.query = std::string(rest.substr(question + 1));
    out.has_query = true;
  }
  return out;
}

std::string UrlForMessage(std::string_view url) {
  return std::string(url.substr(0, url.find_first_of("?#")));
}

}  // namespace lote::aws
