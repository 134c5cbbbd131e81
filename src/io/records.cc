#include "lote/io/records.h"

#include <string>

#include "io/text_checks.h"
#include "io/text_readers.h"
#include "lote/text/utf8.h"

namespace lote::io {

namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool StripSuffix(std::string* s, std::string_view suffix) {
  if (s->size() < suffix.size() ||
      s->compare(s->size() - suffix.size(), suffix.size(), suffix) != 0)
    return false;
  s->resize(s->size() - suffix.size());
  return true;
}

// txt: one record per non-empty line; no labels or ids.
class TxtReader : public TextRecordReader {
 public:
  TxtReader(std::unique_ptr<ByteSource> source, TextReaderOptions options)
      : source_(std::move(source)),
        max_bytes_(options.max_record_bytes),
        lines_(source_.get(), options.max_record_bytes) {}

  uint64_t last_line() const override { return lines_.line_number(); }
  uint64_t last_row() const override { return row_; }
  const RecordError& last_error() const override { return error_; }

  Result<bool> Next(TextRecord* record) override {
    if (!fatal_.ok()) return fatal_;
    std::string line;
    auto more = internal::NextRecordLine(&lines_, /*skip_blank=*/false, &line, &row_, &fatal_);
    if (!more.ok()) {
      return internal::LineFailure(&error_, more.status(), lines_.line_number(), row_, max_bytes_);
    }
    if (!*more) return false;
    RecordProblem kind;
    std::string problem = internal::TextProblem(line, &kind);
    if (!problem.empty()) {
      return internal::BadRecord(&error_, source_->name(), kind, lines_.line_number(), row_,
                                 std::move(problem));
    }
    record->id.clear();
    record->label.clear();
    record->has_label = false;
    record->text = std::move(line);
    record->line = lines_.line_number();
    record->row = row_;
    return true;
  }
  bool failed() const override { return !fatal_.ok(); }

 private:
  std::unique_ptr<ByteSource> source_;
  size_t max_bytes_;
  LineReader lines_;
  uint64_t row_ = 0;
  Status fatal_;
  RecordError error_;
};

}  // namespace

std::string_view RecordProblemName(RecordProblem problem) {
  switch (problem) {
    case RecordProblem::kNone:
      return "no problem";
    case RecordProblem::kInvalidUtf8:
      return "invalid UTF-8";
    case RecordProblem::kNulByte:
      return "NUL byte";
    case RecordProblem::kMalformedJson:
      return "malformed JSON";
    case RecordProblem::kMissingField:
      return "field missing";
    case RecordProblem::kWrongType:
      return "wrong field type";
    case RecordProblem::kMissingLabel:
      return "empty label";
    case RecordProblem::kFieldCount:
      return "wrong number of fields";
    case RecordProblem::kMalformedCsv:
      return "malformed CSV";
    case RecordProblem::kTooLong:
      return "record too long";
    case RecordProblem::kUnreadable:
      return "unreadable source";
  }
  return "unknown problem";
}

Result<Format> ParseFormat(std::string_view name) {
  std::string n = Lower(name);
  if (n == "csv") return Format::kCsv;
  if (n == "jsonl" || n == "ndjson") return Format::kJsonl;
  if (n == "txt") return Format::kTxt;
  if (n == "conll") return Format::kConll;
  if (n == "brat") return Format::kBrat;
  return InvalidArgumentError("unknown format '" + text::Excerpt(name, 20) +
                              "' (expected csv, jsonl, ndjson, txt, conll or brat)");
}

std::string_view FormatName(Format format) {
  switch (format) {
    case Format::kCsv:
      return "csv";
    case Format::kJsonl:
      return "jsonl";
    case Format::kTxt:
      return "txt";
    case Format::kConll:
      return "conll";
    case Format::kBrat:
      return "brat";
  }
  return "unknown";
}

Result<Format> FormatFromPath(std::string_view path, bool is_directory) {
  if (is_directory) return Format::kBrat;
  std::string p = Lower(path);
  if (!StripSuffix(&p, ".gz")) StripSuffix(&p, ".zst");
  size_t slash = p.rfind('/');
  size_t dot = p.rfind('.');
  std::string ext;
  if (dot != std::string::npos && (slash == std::string::npos || dot > slash))
    ext = p.substr(dot + 1);
  if (ext == "csv") return Format::kCsv;
  if (ext == "jsonl" || ext == "ndjson") return Format::kJsonl;
  if (ext == "txt") return Format::kTxt;
  if (ext == "conll" || ext == "iob" || ext == "bio") return Format::kConll;
  return InvalidArgumentError("cannot tell the format of '" + text::Excerpt(path, 80) +
                              "' from its extension (.csv, .jsonl, .ndjson, .txt, .conll, .iob, "
                              ".bio, optionally .gz/.zst); name it explicitly");
}

Result<std::unique_ptr<TextRecordReader>> MakeTextRecordReader(Format format,
                                                               std::unique_ptr<ByteSource> source,
                                                               TextReaderOptions options) {
  if (source == nullptr) return InvalidArgumentError("no source given");
  switch (format) {
    case Format::kCsv:
    case Format::kJsonl:
      if (options.text_field.empty()) return InvalidArgumentError("text_field is empty");
      if (options.require_label && options.label_field.empty()) {
        return InvalidArgumentError("require_label is set but label_field is empty");
      }
      if (format == Format::kCsv) return internal::MakeCsvReader(std::move(source), options);
      return internal::MakeJsonlReader(std::move(source), options);
    case Format::kTxt:
      if (options.require_label || !options.label_field.empty() || !options.id_field.empty()) {
        return InvalidArgumentError(source->name() +
                                    ": txt records have no label or id fields (use csv or jsonl)");
      }
      return internal::MakeTxtReader(std::move(source), options);
    case Format::kConll:
      return InvalidArgumentError(source->name() + ": conll holds tagged tokens; use ConllReader");
    case Format::kBrat:
      return InvalidArgumentError(source->name() + ": brat is a folder; use ReadBratFolder");
  }
  return InvalidArgumentError("unknown format");
}

namespace internal {

std::unique_ptr<TextRecordReader> MakeTxtReader(std::unique_ptr<ByteSource> source,
                                                TextReaderOptions options) {
  return std::make_unique<TxtReader>(std::move(source), std::move(options));
}

}  // namespace internal

}  // namespace lote::io
