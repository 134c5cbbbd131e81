// A small XML tree for the AWS APIs' answers (S3 listings, errors, multipart ids), parsed with
// expat. Documents with a DOCTYPE are refused (no entity expansion of any kind), as are documents
// deeper than 32 levels; callers cap the size before parsing (HttpRequest::max_body_bytes).
// Namespaces are dropped: element names are local names ("Contents", "Key").
// Thread-safety: values; parsing is reentrant.
#ifndef LOTE_AWS_XML_H_
#define LOTE_AWS_XML_H_

#include <string>
#include <string_view>
#include <vector>

#include "lote/base/status.h"

namespace lote::aws {

struct XmlElement {
  std::string name;
  std::string text;  // character data directly inside this element
  std::vector<XmlElement> children;

  // The first child named `name`, or nullptr.
  const XmlElement* Child(std::string_view name) const;
  // The text of the first child named `name`, or "" when there is none.
  std::string ChildText(std::string_view name) const;
};

// The root element of `xml`. InvalidArgument (with expat's line and message) when malformed.
Result<XmlElement> ParseXml(std::string_view xml);

// `s` with & < > " ' escaped, for element text in requests (object keys in DeleteObjects).
std::string XmlEscape(std::string_view s);

}  // namespace lote::aws

#endif  // LOTE_AWS_XML_H_
