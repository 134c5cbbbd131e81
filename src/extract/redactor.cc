#include "lote/extract/redactor.h"

#include <unicode/uchar.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "lote/base/digest.h"
#include "lote/text/utf8.h"

namespace lote::extract {
namespace {

std::string UnicodeLower(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t pos = 0;
  while (pos < s.size()) {
    char32_t cp = text::DecodeUtf8(s, &pos);
    text::AppendUtf8(static_cast<char32_t>(u_tolower(static_cast<UChar32>(cp))), &out);
  }
  return out;
}

// The string that is hashed for an entity (see redactor.h).
std::string HashInput(const Entity& e, bool exact_span, std::string_view span_text) {
  if (exact_span && !e.value_json.empty()) {
    if (e.value_json.front() == '"') {
      // Adapter: nlohmann throws on malformed JSON; a malformed value falls back to its text.
      try {
        nlohmann::json v = nlohmann::json::parse(e.value_json);
        if (v.is_string()) return v.get<std::string>();
      } catch (const nlohmann::json::exception&) {
      }
    }
    return e.value_json;
  }
  return UnicodeLower(span_text);
}

struct Span {
  uint32_t start;
  uint32_t end;
  size_t entity;  // index of the entity that names the span
};

}  // namespace

Result<RedactionMode> ParseRedactionMode(std::string_view name) {
  if (name == "mask") return RedactionMode::kMask;
  if (name == "type") return RedactionMode::kType;
  if (name == "hash") return RedactionMode::kHash;
  return InvalidArgumentError("unknown redaction mode '" + text::Excerpt(name, 20) +
                              "' (expected mask, type or hash)");
}

const std::vector<std::string>& DefaultPiiTypes() {
  static const std::vector<std::string> kTypes = {"MONEY",  "DATE", "PHONE", "EMAIL",   "URL",
                                                  "CEDULA", "NIT",  "CARD",  "ACCOUNT", "PER"};
  return kTypes;
}

Result<PiiRedactor> PiiRedactor::Create(RedactorOptions options) {
  if (options.mode == RedactionMode::kHash && options.key.empty()) {
    return InvalidArgumentError("hash redaction needs a non-empty key");
  }
  for (const std::string& t : options.types) {
    if (t.empty()) return InvalidArgumentError("empty entity type in the redaction set");
  }
  return PiiRedactor(std::move(options));
}

bool PiiRedactor::Redacts(std::string_view type) const {
  return std::find(options_.types.begin(), options_.types.end(), type) != options_.types.end();
}

Result<Redaction> PiiRedactor::Redact(std::string_view text,
                                      std::span<const Entity> entities) const {
  LOTE_RETURN_IF_ERROR(text::ValidateUtf8(text));
  std::vector<uint32_t> offsets = text::CodePointOffsets(text);
  const uint32_t n = static_cast<uint32_t>(offsets.size() - 1);

  std::vector<Span> spans;
  for (size_t i = 0; i < entities.size(); ++i) {
    const Entity& e = entities[i];
    if (!Redacts(e.type)) continue;
    if (e.start > e.end || e.end > n) {
      return InvalidArgumentError("entity " + std::to_string(i) + " (" + text::Excerpt(e.type, 20) +
                                  ") has span [" + std::to_string(e.start) + ", " +
                                  std::to_string(e.end) + ") outside a text of " +
                                  std::to_string(n) + " code points");
    }
    if (e.start == e.end) continue;
    spans.push_back({e.start, e.end, i});
  }
  std::sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) {
    return a.start != b.start ? a.start < b.start : a.end > b.end;
  });
  // Merge overlapping spans; the longest entity (earliest on ties) names the merged span.
  std::vector<Span> merged;
  for (const Span& s : spans) {
    if (!merged.empty() && s.start < merged.back().end) {
      Span& m = merged.back();
      const Entity& cur = entities[m.entity];
      if (s.end - s.start > cur.end - cur.start) m.entity = s.entity;
      m.end = std::max(m.end, s.end);
    } else {
      merged.push_back(s);
    }
  }

  Redaction out;
  out.text.reserve(text.size());
  uint32_t cp_out = 0;  // code points written so far
  uint32_t last = 0;    // next original code point to copy
  for (const Span& m : merged) {
    out.text.append(text.substr(offsets[last], offsets[m.start] - offsets[last]));
    cp_out += m.start - last;
    const Entity& e = entities[m.entity];
    RedactedSpan rs;
    rs.type = e.type;
    rs.start = cp_out;
    switch (options_.mode) {
      case RedactionMode::kMask:
        out.text.append(m.end - m.start, '*');
        cp_out += m.end - m.start;
        break;
      case RedactionMode::kType: {
        std::string token = "[" + e.type + "]";
        out.text.append(token);
        cp_out += static_cast<uint32_t>(text::CodePointCount(token));
        break;
      }
      case RedactionMode::kHash: {
        std::string_view span_text =
            text.substr(offsets[m.start], offsets[m.end] - offsets[m.start]);
        bool exact = m.start == e.start && m.end == e.end;
        std::string digest = HmacSha256Hex(options_.key.Reveal(), HashInput(e, exact, span_text));
        std::string token = "[" + e.type + "_" + digest.substr(0, 16) + "]";
        out.text.append(token);
        cp_out += static_cast<uint32_t>(text::CodePointCount(token));
        break;
      }
    }
    rs.end = cp_out;
    out.spans.push_back(std::move(rs));
    last = m.end;
  }
  out.text.append(text.substr(offsets[last]));
  return out;
}

}  // namespace lote::extract
