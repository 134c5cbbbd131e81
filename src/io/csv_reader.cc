// RFC 4180 CSV on top of LineReader: a record is one or more physical lines (a quoted field may
// hold newlines, kept as written: "\r\n" stays "\r\n"). Deviations, all documented in records.h
// or here: blank lines between records are skipped; a quote inside an unquoted field is a
// literal character (as Python's csv module reads it); text after a closing quote other than a
// comma is an error for the record, which then ends with its physical line.
#include <optional>
#include <string>
#include <vector>

#include "io/text_checks.h"
#include "io/text_readers.h"
#include "lote/text/utf8.h"

namespace lote::io::internal {

namespace {

enum class CsvState { kFieldStart, kUnquoted, kQuoted, kQuoteInQuoted };

class CsvReader : public TextRecordReader {
 public:
  CsvReader(std::unique_ptr<ByteSource> source, TextReaderOptions options)
      : source_(std::move(source)),
        options_(std::move(options)),
        lines_(source_.get(), options_.max_record_bytes) {}

  uint64_t last_line() const override { return start_line_; }
  uint64_t last_row() const override { return row_; }
  const io::RecordError& last_error() const override { return error_; }

  Result<bool> Next(TextRecord* record) override {
    if (!fatal_.ok()) return fatal_;
    if (!header_done_) {
      auto header = ReadRecord();
      if (!header.ok()) {
        // Without a header no column can be found: the reader cannot go on.
        if (lines_failed_) return Fatal(header.status());
        return Fatal(FailedPreconditionError(header.status().message() + " (in the header)"));
      }
      if (!*header) return false;  // empty file: no records, no error
      header_ = std::move(fields_);
      header_done_ = true;
      LOTE_RETURN_IF_ERROR(ResolveColumns());
    }
    auto more = ReadRecord();
    if (!more.ok()) {
      if (lines_failed_) return Fatal(more.status());
      ++row_;
      error_.row = row_;
      return more.status();
    }
    if (!*more) return false;
    ++row_;
    if (fields_.size() != header_.size()) {
      return BadRecord(&error_, source_->name(), RecordProblem::kFieldCount, start_line_, row_,
                       "expected " + std::to_string(header_.size()) + " fields, found " +
                           std::to_string(fields_.size()));
    }
    for (const auto& [idx, what] :
         {std::pair{text_col_, "text"}, std::pair{label_col_, "label"}, std::pair{id_col_, "id"}}) {
      if (!idx) continue;
      RecordProblem kind;
      std::string problem = TextProblem(fields_[*idx], &kind);
      if (!problem.empty()) {
        return BadRecord(&error_, source_->name(), kind, start_line_, row_,
                         problem + " of column '" + header_[*idx] + "' (" + what + ")");
      }
    }
    record->label.clear();
    record->has_label = false;
    if (label_col_) {
      if (fields_[*label_col_].empty()) {
        if (options_.require_label) {
          return BadRecord(&error_, source_->name(), RecordProblem::kMissingLabel, start_line_,
                           row_, "empty label in column '" + options_.label_field + "'");
        }
      } else {
        record->label = std::move(fields_[*label_col_]);
        record->has_label = true;
      }
    }
    if (id_col_) {
      record->id = std::move(fields_[*id_col_]);
    } else {
      record->id.clear();
    }
    record->text = std::move(fields_[*text_col_]);
    record->line = start_line_;
    record->row = row_;
    return true;
  }

  bool failed() const override { return !fatal_.ok(); }

 private:
  Status Fatal(Status s) {
    fatal_ = std::move(s);
    return FatalRecordError(&error_, fatal_, start_line_, row_,
                            fatal_.code() == StatusCode::kFailedPrecondition
                                ? RecordProblem::kMissingField
                                : RecordProblem::kUnreadable);
  }

  Status ResolveColumns() {
    auto find = [&](const std::string& name) -> std::optional<size_t> {
      for (size_t i = 0; i < header_.size(); ++i) {
        if (header_[i] == name) return i;
      }
      return std::nullopt;
    };
    text_col_ = find(options_.text_field);
    if (!options_.label_field.empty()) label_col_ = find(options_.label_field);
    if (!options_.id_field.empty()) id_col_ = find(options_.id_field);
    const std::string* missing = nullptr;
    if (!text_col_) {
      missing = &options_.text_field;
    } else if (options_.require_label && !label_col_) {
      missing = &options_.label_field;
    }
    if (missing == nullptr) return Status::Ok();
    std::string available;
    constexpr size_t kMaxListed = 20;
    for (size_t i = 0; i < header_.size() && i < kMaxListed; ++i) {
      if (i > 0) available += ", ";
      // append(), not operator+: GCC 12 warns falsely (-Wrestrict) on "'" + std::string.
      available.append("'").append(text::Excerpt(header_[i], 30)).append("'");
    }
    if (header_.size() > kMaxListed) available += ", ...";
    return Fatal(FailedPreconditionError(source_->name() + ":" + std::to_string(header_line_) +
                                         ": column '" + *missing +
                                         "' not in the header; available: " + available));
  }

  // Reads the next non-blank record into fields_. False at end. A LineReader source error sets
  // lines_failed_; every other error is for this record only.
  Result<bool> ReadRecord() {
    fields_.clear();
    std::string field;
    std::string line;
    CsvState state = CsvState::kFieldStart;
    size_t bytes = 0;
    bool overflow = false;
    bool started = false;
    for (;;) {
      auto more = lines_.Next(&line);
      if (!more.ok()) {
        if (more.status().code() != StatusCode::kResourceExhausted) lines_failed_ = true;
        if (!started) start_line_ = lines_.line_number();
        return LineFailure(&error_, more.status(), start_line_, row_, options_.max_record_bytes);
      }
      if (!*more) {
        if (!started) return false;
        return BadRecord(&error_, source_->name(), RecordProblem::kMalformedCsv, start_line_, row_,
                         "unterminated quoted field (end of data inside quotes)");
      }
      if (!started) {
        if (line.empty()) continue;  // blank line between records
        started = true;
        start_line_ = lines_.line_number();
        if (!header_done_) header_line_ = start_line_;
      }
      bytes += line.size() + 2;
      if (bytes > options_.max_record_bytes && !overflow) {
        // Keep parsing to find where the record ends, but stop storing it.
        overflow = true;
        fields_.clear();
        field.clear();
        field.shrink_to_fit();
      }
      for (size_t i = 0; i < line.size(); ++i) {
        char c = line[i];
        switch (state) {
          case CsvState::kFieldStart:
            if (c == '"') {
              state = CsvState::kQuoted;
            } else if (c == ',') {
              if (!overflow) fields_.emplace_back();
            } else {
              if (!overflow) field.push_back(c);
              state = CsvState::kUnquoted;
            }
            break;
          case CsvState::kUnquoted:
            if (c == ',') {
              if (!overflow) fields_.push_back(std::move(field));
              field.clear();
              state = CsvState::kFieldStart;
            } else if (!overflow) {
              field.push_back(c);
            }
            break;
          case CsvState::kQuoted:
            if (c == '"') {
              state = CsvState::kQuoteInQuoted;
            } else if (!overflow) {
              field.push_back(c);
            }
            break;
          case CsvState::kQuoteInQuoted:
            if (c == '"') {
              if (!overflow) field.push_back('"');
              state = CsvState::kQuoted;
            } else if (c == ',') {
              if (!overflow) fields_.push_back(std::move(field));
              field.clear();
              state = CsvState::kFieldStart;
            } else {
              return BadRecord(&error_, source_->name(), RecordProblem::kMalformedCsv,
                               lines_.line_number(), row_,
                               "unexpected character after closing quote at column " +
                                   std::to_string(i + 1) + " (record starts at line " +
                                   std::to_string(start_line_) + ")");
            }
            break;
        }
      }
      if (state == CsvState::kQuoted) {
        if (!overflow) field.append(lines_.had_crlf() ? "\r\n" : "\n");
        continue;
      }
      if (overflow) {
        return BadRecord(
            &error_, source_->name(), RecordProblem::kTooLong, start_line_, row_,
            "record longer than " + std::to_string(options_.max_record_bytes) + " bytes",
            StatusCode::kResourceExhausted);
      }
      fields_.push_back(std::move(field));
      return true;
    }
  }

  std::unique_ptr<ByteSource> source_;
  TextReaderOptions options_;
  LineReader lines_;
  bool header_done_ = false;
  bool lines_failed_ = false;
  std::vector<std::string> header_;
  std::vector<std::string> fields_;
  std::optional<size_t> text_col_, label_col_, id_col_;
  uint64_t header_line_ = 1;
  uint64_t start_line_ = 0;
  uint64_t row_ = 0;
  Status fatal_;
  io::RecordError error_;
};

}  // namespace

std::unique_ptr<TextRecordReader> MakeCsvReader(std::unique_ptr<ByteSource> source,
                                                TextReaderOptions options) {
  return std::make_unique<CsvReader>(std::move(source), std::move(options));
}

}  // namespace lote::io::internal
