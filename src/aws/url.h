// The parts of an absolute http(s) URL that signing and the credential endpoints need. Private to
// src/aws.
#ifndef LOTE_SRC_AWS_URL_H_
#define LOTE_SRC_AWS_URL_H_

#include <string>
#include <string_view>

#include "lote/base/status.h"

namespace lote::aws {

struct ParsedUrl {
  std::string scheme;  // "http" or "https", lower-cased
  std::string host;    // as written, IPv6 literals without their brackets
  bool ipv6 = false;   // host was a bracketed literal
  int port = 0;        // the explicit port, 0 when none was given
  std::string path;    // as written (percent-encoded), "" when absent
  std::string query;   // after '?', without the fragment
  bool has_query = false;

  // The Host header for this URL: the host in lower case, with ":port" when the port is not the
  // scheme's default.
  std::string HostHeader() const;
};

// Parses scheme://host[:port][/path][?query][#fragment]. InvalidArgument for another scheme, user
// info, a bad port, or a byte outside printable ASCII (paths and queries are sent encoded). The
// message never quotes the URL (a presigned query holds a signature).
Result<ParsedUrl> ParseUrl(std::string_view url);

// The URL without its query and fragment: what an error message may name.
std::string UrlForMessage(std::string_view url);

}  // namespace lote::aws

#endif  // LOTE_SRC_AWS_URL_H_
