// Entity-annotated JSON Lines (see ReadEntityJsonl in records.h): each line becomes a
// BratDocument, so training and evaluation treat it exactly like a .txt/.ann pair.
#include <algorithm>
#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "io/text_checks.h"
#include "lote/io/records.h"
#include "lote/text/utf8.h"

namespace lote::io {

namespace {

using nlohmann::json;

// A JSON value that is a non-negative integer below 2^32 (3.0 is not: offsets are integers).
bool AsOffset(const json& v, uint32_t* out) {
  if (v.is_number_unsigned()) {
    const auto x = v.get<uint64_t>();
    if (x > std::numeric_limits<uint32_t>::max()) return false;
    *out = static_cast<uint32_t>(x);
    return true;
  }
  if (v.is_number_integer()) {
    const auto x = v.get<int64_t>();
    if (x < 0 || x > std::numeric_limits<uint32_t>::max()) return false;
    *out = static_cast<uint32_t>(x);
    return true;
  }
  return false;
}

// One line; `error(reason)` builds the "SOURCE:LINE: reason" status.
template <typename ErrorFn>
Result<BratDocument> ParseLine(const std::string& line, const EntityJsonlOptions& options,
                               const std::string& default_name, ErrorFn error) {
  std::string problem = internal::TextProblem(line);
  if (!problem.empty()) return error(problem);
  json obj;
  try {
    obj = json::parse(line);
  } catch (const json::parse_error& e) {
    return error("malformed JSON at byte " + std::to_string(e.byte));
  } catch (const json::exception&) {
    return error("malformed JSON");
  }
  if (!obj.is_object())
    return error(std::string("expected a JSON object, found ") + obj.type_name());
  auto text_it = obj.find(options.text_field);
  if (text_it == obj.end()) return error("missing field '" + options.text_field + "'");
  if (!text_it->is_string()) {
    return error("field '" + options.text_field + "' is a " + text_it->type_name() +
                 ", not a string");
  }
  BratDocument doc;
  doc.text = text_it->get<std::string>();
  problem = internal::TextProblem(doc.text);  // "\u0000" escapes pass the line check
  if (!problem.empty()) return error("text: " + problem);
  if (doc.text.size() >= std::numeric_limits<uint32_t>::max())
    return error("text longer than 4 GiB");
  doc.name = default_name;
  if (auto id = obj.find(options.id_field); id != obj.end() && !options.id_field.empty()) {
    if (id->is_string()) {
      doc.name = id->get<std::string>();
    } else if (id->is_number() || id->is_boolean()) {
      doc.name = id->dump();
    }
  }
  auto ents = obj.find(options.entities_field);
  if (ents == obj.end()) return error("missing field '" + options.entities_field + "'");
  if (!ents->is_array()) {
    return error("field '" + options.entities_field + "' is a " + ents->type_name() +
                 ", not an array");
  }
  const std::vector<uint32_t> cp = text::CodePointOffsets(doc.text);
  const auto cp_count = static_cast<uint32_t>(cp.size() - 1);
  for (size_t k = 0; k < ents->size(); ++k) {
    const json& e = (*ents)[k];
    const std::string which = "entity " + std::to_string(k + 1);
    BratAnnotation a;
    a.id = "E" + std::to_string(k + 1);
    const json *type = nullptr, *start = nullptr, *end = nullptr, *text = nullptr;
    if (e.is_object()) {
      auto t = e.find("type");
      if (t == e.end()) t = e.find("label");
      if (t != e.end()) type = &*t;
      if (auto s = e.find("start"); s != e.end()) start = &*s;
      if (auto s = e.find("end"); s != e.end()) end = &*s;
      if (auto s = e.find("text"); s != e.end()) text = &*s;
    } else if (e.is_array() && e.size() == 3) {
      start = &e[0];
      end = &e[1];
      type = &e[2];
    }
    if (type == nullptr || start == nullptr || end == nullptr) {
      return error(which + ": expected {\"type\", \"start\", \"end\"} or [start, end, \"TYPE\"]");
    }
    if (!type->is_string() || type->get_ref<const std::string&>().empty()) {
      return error(which + ": the type is not a non-empty string");
    }
    a.type = type->get<std::string>();
    if (a.type.find_first_of(" \t\r\n") != std::string::npos) {
      return error(which + ": the type '" + text::Excerpt(a.type, 30) + "' contains white space");
    }
    if (!AsOffset(*start, &a.start) || !AsOffset(*end, &a.end)) {
      return error(which + ": start and end must be non-negative integers");
    }
    if (a.start >= a.end) {
      return error(which + ": empty or reversed span " + std::to_string(a.start) + "-" +
                   std::to_string(a.end));
    }
    if (a.end > cp_count) {
      return error(which + ": span " + std::to_string(a.start) + "-" + std::to_string(a.end) +
                   " out of range: the text has " + std::to_string(cp_count) + " characters");
    }
    const std::string_view span =
        std::string_view(doc.text).substr(cp[a.start], cp[a.end] - cp[a.start]);
    if (text != nullptr) {
      if (!text->is_string()) return error(which + ": \"text\" is not a string");
      if (text->get_ref<const std::string&>() != span) {
        return error(which + " text '" + text::Excerpt(text->get_ref<const std::string&>()) +
                     "' differs from the record's '" + text::Excerpt(span) + "' at " +
                     std::to_string(a.start) + "-" + std::to_string(a.end));
      }
    }
    a.text = std::string(span);
    doc.annotations.push_back(std::move(a));
  }
  std::stable_sort(doc.annotations.begin(), doc.annotations.end(),
                   [](const BratAnnotation& x, const BratAnnotation& y) {
                     return x.start != y.start ? x.start < y.start : x.end < y.end;
                   });
  return doc;
}

}  // namespace

Result<std::vector<BratDocument>> ReadEntityJsonl(ByteSource* source,
                                                  const EntityJsonlOptions& options) {
  LineReader lines(source);
  std::vector<BratDocument> docs;
  std::string line;
  for (;;) {
    LOTE_ASSIGN_OR_RETURN(bool more, lines.Next(&line));
    if (!more) break;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const uint64_t lineno = lines.line_number();
    auto error = [&](std::string_view reason) {
      return internal::RecordError(source->name(), lineno, reason);
    };
    LOTE_ASSIGN_OR_RETURN(
        BratDocument doc,
        ParseLine(line, options, source->name() + ":" + std::to_string(lineno), error));
    docs.push_back(std::move(doc));
  }
  return docs;
}

}  // namespace lote::io
