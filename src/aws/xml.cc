#include "aws/xml.h"

#include <expat.h>

#include <memory>

namespace lote::aws {
namespace {

constexpr int kMaxDepth = 32;

struct Builder {
  XML_Parser parser;
  XmlElement root;
  std::vector<XmlElement*> stack;
  bool have_root = false;
  std::string error;
};

std::string_view LocalName(const char* name) {
  std::string_view n(name);
  size_t sep = n.rfind('|');  // expat's namespace separator below
  return sep == std::string_view::npos ? n : n.substr(sep + 1);
}

void Fail(Builder* b, std::string message) {
  if (b->error.empty()) b->error = std::move(message);
  XML_StopParser(b->parser, XML_FALSE);
}

void OnStart(void* user, const char* name, const char** /*attributes*/) {
  auto* b = static_cast<Builder*>(user);
  if (b->stack.size() >= kMaxDepth) return Fail(b, "nested deeper than 32 elements");
  XmlElement* e;
  if (b->stack.empty()) {
    if (b->have_root) return Fail(b, "more than one root element");
    b->have_root = true;
    e = &b->root;
  } else {
    b->stack.back()->children.emplace_back();
    e = &b->stack.back()->children.back();
  }
  e->name = LocalName(name);
  b->stack.push_back(e);
}

void OnEnd(void* user, const char* /*name*/) {
  auto* b = static_cast<Builder*>(user);
  if (!b->stack.empty()) b->stack.pop_back();
}

void OnText(void* user, const char* s, int len) {
  auto* b = static_cast<Builder*>(user);
  if (!b->stack.empty()) b->stack.back()->text.append(s, static_cast<size_t>(len));
}

void OnDoctype(void* user, const char*, const char*, const char*, int) {
  Fail(static_cast<Builder*>(user), "a DOCTYPE is not accepted");
}

}  // namespace

const XmlElement* XmlElement::Child(std::string_view child) const {
  for (const XmlElement& c : children) {
    if (c.name == child) return &c;
  }
  return nullptr;
}

std::string XmlElement::ChildText(std::string_view child) const {
  const XmlElement* c = Child(child);
  return c ? c->text : std::string();
}

Result<XmlElement> ParseXml(std::string_view xml) {
  std::unique_ptr<XML_ParserStruct, decltype(&XML_ParserFree)> parser(
      XML_ParserCreateNS("UTF-8", '|'), XML_ParserFree);
  if (!parser) return ResourceExhaustedError("cannot create an XML parser");
  Builder b{parser.get(), {}, {}, false, {}};
  XML_SetUserData(parser.get(), &b);
  XML_SetElementHandler(parser.get(), OnStart, OnEnd);
  XML_SetCharacterDataHandler(parser.get(), OnText);
  XML_SetStartDoctypeDeclHandler(parser.get(), OnDoctype);
  const XML_Status st = XML_Parse(parser.get(), xml.data(), static_cast<int>(xml.size()), 1);
  if (!b.error.empty()) {
    return InvalidArgumentError(
        "XML line " + std::to_string(XML_GetCurrentLineNumber(parser.get())) + ": " + b.error);
  }
  if (st != XML_STATUS_OK) {
    return InvalidArgumentError("XML line " +
                                std::to_string(XML_GetCurrentLineNumber(parser.get())) + ": " +
                                XML_ErrorString(XML_GetErrorCode(parser.get())));
  }
  if (!b.have_root) return InvalidArgumentError("XML: no root element");
  return std::move(b.root);
}

std::string XmlEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

}  // namespace lote::aws
