// JSON Lines with nlohmann::json. Its exceptions stop here: every parse failure becomes a
// record error. See docs/adr/0003-json-nlohmann.md for the choice of parser.
#include <nlohmann/json.hpp>
#include <string>

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

class JsonlReader : public TextRecordReader {
 public:
  JsonlReader(std::unique_ptr<ByteSource> source, TextReaderOptions options)
      : source_(std::move(source)),
        options_(std::move(options)),
        lines_(source_.get(), options_.max_record_bytes) {}

  uint64_t last_line() const override { return lines_.line_number(); }
  uint64_t last_row() const override { return row_; }

  Result<bool> Next(TextRecord* record) override {
    if (!fatal_.ok()) return fatal_;
    std::string line;
    LOTE_ASSIGN_OR_RETURN(const bool more,
                          NextRecordLine(&lines_, /*skip_blank=*/true, &line, &row_, &fatal_));
    if (!more) return false;
    const uint64_t lineno = lines_.line_number();
    std::string problem = TextProblem(line);
    if (!problem.empty()) return Error(lineno, problem);
    json obj;
    try {
      obj = json::parse(line);
    } catch (const json::parse_error& e) {
      return Error(lineno, ParseErrorReason(e));
    } catch (const json::exception& e) {
      return Error(lineno, "malformed JSON");
    }
    if (!obj.is_object()) {
      return Error(lineno, std::string("expected a JSON object, found ") + obj.type_name());
    }
    if (!checked_columns_) {
      checked_columns_ = true;
      LOTE_RETURN_IF_ERROR(CheckColumns(obj, lineno));
    }

    auto text_it = obj.find(options_.text_field);
    if (text_it == obj.end()) return Error(lineno, "missing field '" + options_.text_field + "'");
    if (!text_it->is_string()) {
      return Error(lineno, "field '" + options_.text_field + "' is a " + text_it->type_name() +
                               ", not a string");
    }
    std::string text = text_it->get<std::string>();
    // "\u0000" escapes decode to NUL bytes the line check could not see.
    problem = TextProblem(text);
    if (!problem.empty()) return Error(lineno, problem + " of field '" + options_.text_field + "'");

    std::string label;
    bool has_label = false;
    if (!options_.label_field.empty()) {
      LOTE_RETURN_IF_ERROR(ScalarField(obj, options_.label_field, lineno, &label, &has_label));
      if (!has_label && options_.require_label) {
        return Error(lineno, "missing label field '" + options_.label_field + "'");
      }
    }
    std::string id;
    if (!options_.id_field.empty()) {
      bool has_id = false;
      LOTE_RETURN_IF_ERROR(ScalarField(obj, options_.id_field, lineno, &id, &has_id));
    }
    record->text = std::move(text);
    record->label = std::move(label);
    record->has_label = has_label;
    record->id = std::move(id);
    record->line = lineno;
    record->row = row_;
    return true;
  }

  bool failed() const override { return !fatal_.ok(); }

 private:
  Status Error(uint64_t line, std::string_view reason) const {
    return RecordError(source_->name(), line, reason);
  }

  // The first object decides whether the configured fields exist at all.
  Status CheckColumns(const json& obj, uint64_t line) {
    const std::string* missing = nullptr;
    if (!obj.contains(options_.text_field)) {
      missing = &options_.text_field;
    } else if (options_.require_label && !obj.contains(options_.label_field)) {
      missing = &options_.label_field;
    }
    if (missing == nullptr) return Status::Ok();
    std::string available;
    size_t n = 0;
    constexpr size_t kMaxListed = 20;
    for (const auto& item : obj.items()) {
      if (n == kMaxListed) {
        available += ", ...";
        break;
      }
      if (n++ > 0) available += ", ";
      // append(), not operator+: GCC 12 warns falsely (-Wrestrict) on "'" + std::string.
      available.append("'").append(text::Excerpt(item.key(), 30)).append("'");
    }
    if (n == 0) available = "(none)";
    fatal_ =
        FailedPreconditionError(source_->name() + ":" + std::to_string(line) + ": field '" +
                                *missing + "' not in the first object; available: " + available);
    return fatal_;
  }

  // A label or id: strings as they are, numbers and booleans as their JSON text; missing or
  // null leaves *present false.
  Status ScalarField(const json& obj, const std::string& name, uint64_t line, std::string* out,
                     bool* present) const {
    *present = false;
    auto it = obj.find(name);
    if (it == obj.end() || it->is_null()) return Status::Ok();
    if (it->is_string()) {
      *out = it->get<std::string>();
    } else if (it->is_number() || it->is_boolean()) {
      *out = it->dump();
    } else {
      return Error(line, "field '" + name + "' is a " + it->type_name() +
                             ", not a string, number or boolean");
    }
    std::string problem = TextProblem(*out);
    if (!problem.empty()) return Error(line, problem + " of field '" + name + "'");
    *present = true;
    return Status::Ok();
  }

  std::unique_ptr<ByteSource> source_;
  TextReaderOptions options_;
  LineReader lines_;
  bool checked_columns_ = false;
  uint64_t row_ = 0;
  Status fatal_;
};

}  // namespace

std::unique_ptr<TextRecordReader> MakeJsonlReader(std::unique_ptr<ByteSource> source,
                                                  TextReaderOptions options) {
  return std::make_unique<JsonlReader>(std::move(source), std::move(options));
}

}  // namespace lote::io::internal
