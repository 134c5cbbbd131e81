// JSON Lines with nlohmann::json. Its exceptions stop here: every parse failure becomes a
// record error. See docs/adr/0003-json-nlohmann.md for the choice of parser.
#include <algorithm>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "io/text_checks.h"
#include "io/text_readers.h"
#include "lote/text/utf8.h"

namespace lote::io::internal {

namespace {

using nlohmann::json;

// nlohmann's message without its "[json.exception...]" tag and without "last read: '...'",
// which may quote a long piece of the record.
std::string ParseErrorReason(const json::parse_error& e) {
  std::string what = e.what();
  size_t cut = what.find("; last read");
  if (cut != std::string::npos) what.resize(cut);
  size_t colon = what.find(": ", what.find("parse error"));
  if (colon != std::string::npos) what = what.substr(colon + 2);
  return "malformed JSON at byte " + std::to_string(e.byte) + ": " + text::Excerpt(what, 120);
}

// One top-level field the reader wants, as the parser saw it.
struct FieldValue {
  bool present = false;
  const char* type = "";  // JSON type name of the value: "string", "number", "object", ...
  std::string text;       // a string as decoded; a number or boolean as its JSON text
};

// SAX handler for one line: keeps the text, label and id fields of the top-level object and
// nothing else, so no document tree is built for the fields nobody reads. Duplicate keys: the
// last one wins, as in nlohmann's DOM.
class RecordSax {
 public:
  RecordSax(const TextReaderOptions& options, bool collect_keys)
      : options_(options), collect_keys_(collect_keys) {}

  FieldValue text, label, id;
  const char* top = "";           // JSON type name of the line's value
  std::vector<std::string> keys;  // the top-level object's keys, when collect_keys
  std::string error;              // why the line is not JSON

  // A value's JSON text is only made for the fields kept (Wanted()), not for every number of
  // the line.
  bool null() { return Value("null", {}); }
  bool boolean(bool v) { return Value("boolean", v ? "true" : "false"); }
  bool number_integer(json::number_integer_t v) {
    return Value("number", Wanted() ? std::to_string(v) : std::string());
  }
  bool number_unsigned(json::number_unsigned_t v) {
    return Value("number", Wanted() ? std::to_string(v) : std::string());
  }
  bool number_float(json::number_float_t v, const json::string_t& /*raw*/) {
    return Value("number", Wanted() ? json(v).dump() : std::string());
  }
  bool string(json::string_t& v) { return Value("string", v); }
  bool binary(json::binary_t& /*v*/) { return Value("binary", {}); }
  bool start_object(std::size_t /*n*/) { return Open("object"); }
  bool end_object() { return Close(); }
  bool start_array(std::size_t /*n*/) { return Open("array"); }
  bool end_array() { return Close(); }
  bool key(json::string_t& k) {
    if (depth_ != 1) return true;
    roles_ = (k == options_.text_field ? 1 : 0) |
             (!options_.label_field.empty() && k == options_.label_field ? 2 : 0) |
             (!options_.id_field.empty() && k == options_.id_field ? 4 : 0);
    if (collect_keys_) keys.push_back(k);
    return true;
  }
  bool parse_error(std::size_t /*position*/, const std::string& /*last_token*/,
                   const nlohmann::detail::exception& e) {
    const auto* pe = dynamic_cast<const json::parse_error*>(&e);
    error = pe ? ParseErrorReason(*pe) : "malformed JSON";
    return false;
  }

 private:
  bool Wanted() const { return depth_ == 1 && roles_ != 0; }
  bool Value(const char* type, const std::string& v) {
    if (depth_ == 0) {
      top = type;
    } else if (Wanted()) {
      // One key may be several of the fields (--text-field and --label-field both "x").
      for (auto [bit, field] : {std::pair{1, &text}, {2, &label}, {4, &id}}) {
        if ((roles_ & bit) == 0) continue;
        field->present = true;
        field->type = type;
        field->text = v;
      }
      roles_ = 0;
    }
    return true;
  }
  bool Open(const char* type) {
    Value(type, {});
    ++depth_;
    return true;
  }
  bool Close() {
    --depth_;
    return true;
  }

  const TextReaderOptions& options_;
  const bool collect_keys_;
  int depth_ = 0;
  int roles_ = 0;  // which wanted fields the current top-level key is: 1 text, 2 label, 4 id
};

class JsonlReader : public TextRecordReader {
 public:
  JsonlReader(std::unique_ptr<ByteSource> source, TextReaderOptions options)
      : source_(std::move(source)),
        options_(std::move(options)),
        lines_(source_.get(), options_.max_record_bytes),
        checked_columns_(!options_.first_object_sets_columns) {}

  uint64_t last_line() const override { return lines_.line_number(); }
  uint64_t last_row() const override { return row_; }
  const io::RecordError& last_error() const override { return error_; }

  Result<bool> Next(TextRecord* record) override {
    if (!fatal_.ok()) return fatal_;
    std::string line;
    auto more = NextRecordLine(&lines_, /*skip_blank=*/true, &line, &row_, &fatal_);
    if (!more.ok()) {
      return LineFailure(&error_, more.status(), lines_.line_number(), row_,
                         options_.max_record_bytes);
    }
    if (!*more) return false;
    const uint64_t lineno = lines_.line_number();
    RecordProblem kind;
    std::string problem = TextProblem(line, &kind);
    if (!problem.empty()) return Error(lineno, kind, std::move(problem));
    RecordSax sax(options_, /*collect_keys=*/!checked_columns_);
    try {
      if (!json::sax_parse(line, &sax)) {
        return Error(lineno, RecordProblem::kMalformedJson, std::move(sax.error));
      }
    } catch (const json::exception& e) {
      return Error(lineno, RecordProblem::kMalformedJson, "malformed JSON");
    }
    if (std::string_view(sax.top) != "object") {
      return Error(lineno, RecordProblem::kMalformedJson,
                   std::string("expected a JSON object, found ") + sax.top);
    }
    if (!checked_columns_) {
      checked_columns_ = true;
      LOTE_RETURN_IF_ERROR(CheckColumns(sax, lineno));
    }

    if (!sax.text.present) {
      return Error(lineno, RecordProblem::kMissingField,
                   "missing field '" + options_.text_field + "'");
    }
    if (std::string_view(sax.text.type) != "string") {
      return Error(lineno, RecordProblem::kWrongType,
                   "field '" + options_.text_field + "' is a " + sax.text.type + ", not a string");
    }
    // "\u0000" escapes decode to NUL bytes the line check could not see.
    problem = TextProblem(sax.text.text, &kind);
    if (!problem.empty()) {
      return Error(lineno, kind, problem + " of field '" + options_.text_field + "'");
    }

    std::string label;
    bool has_label = false;
    if (!options_.label_field.empty()) {
      LOTE_RETURN_IF_ERROR(
          ScalarField(&sax.label, options_.label_field, lineno, &label, &has_label));
      if (!has_label && options_.require_label) {
        return Error(lineno, RecordProblem::kMissingField,
                     "missing label field '" + options_.label_field + "'");
      }
    }
    std::string id;
    if (!options_.id_field.empty()) {
      bool has_id = false;
      LOTE_RETURN_IF_ERROR(ScalarField(&sax.id, options_.id_field, lineno, &id, &has_id));
    }
    record->text = std::move(sax.text.text);
    record->label = std::move(label);
    record->has_label = has_label;
    record->id = std::move(id);
    record->line = lineno;
    record->row = row_;
    return true;
  }

  bool failed() const override { return !fatal_.ok(); }

 private:
  Status Error(uint64_t line, RecordProblem problem, std::string reason) {
    return BadRecord(&error_, source_->name(), problem, line, row_, std::move(reason));
  }

  // The first object decides whether the configured fields exist at all.
  Status CheckColumns(RecordSax& sax, uint64_t line) {
    const std::string* missing = nullptr;
    if (!sax.text.present) {
      missing = &options_.text_field;
    } else if (options_.require_label && !sax.label.present) {
      missing = &options_.label_field;
    }
    if (missing == nullptr) return Status::Ok();
    // Listed in the order of nlohmann's object (sorted by key), once each.
    std::sort(sax.keys.begin(), sax.keys.end());
    sax.keys.erase(std::unique(sax.keys.begin(), sax.keys.end()), sax.keys.end());
    std::string available;
    size_t n = 0;
    constexpr size_t kMaxListed = 20;
    for (const std::string& key : sax.keys) {
      if (n == kMaxListed) {
        available += ", ...";
        break;
      }
      if (n++ > 0) available += ", ";
      // append(), not operator+: GCC 12 warns falsely (-Wrestrict) on "'" + std::string.
      available.append("'").append(text::Excerpt(key, 30)).append("'");
    }
    if (n == 0) available = "(none)";
    fatal_ =
        FailedPreconditionError(source_->name() + ":" + std::to_string(line) + ": field '" +
                                *missing + "' not in the first object; available: " + available);
    return FatalRecordError(&error_, fatal_, line, row_, RecordProblem::kMissingField);
  }

  // A label or id: strings as they are, numbers and booleans as their JSON text; missing or
  // null leaves *present false.
  Status ScalarField(FieldValue* field, const std::string& name, uint64_t line, std::string* out,
                     bool* present) {
    *present = false;
    const std::string_view type = field->type;
    if (!field->present || type == "null") return Status::Ok();
    if (type != "string" && type != "number" && type != "boolean") {
      return Error(
          line, RecordProblem::kWrongType,
          "field '" + name + "' is a " + field->type + ", not a string, number or boolean");
    }
    *out = std::move(field->text);
    RecordProblem kind;
    std::string problem = TextProblem(*out, &kind);
    if (!problem.empty()) return Error(line, kind, problem + " of field '" + name + "'");
    *present = true;
    return Status::Ok();
  }

  std::unique_ptr<ByteSource> source_;
  TextReaderOptions options_;
  LineReader lines_;
  bool checked_columns_;  // the first object's check is done (or not wanted)
  uint64_t row_ = 0;
  Status fatal_;
  io::RecordError error_;
};

}  // namespace

std::unique_ptr<TextRecordReader> MakeJsonlReader(std::unique_ptr<ByteSource> source,
                                                  TextReaderOptions options) {
  return std::make_unique<JsonlReader>(std::move(source), std::move(options));
}

}  // namespace lote::io::internal
