#include <string>
#include <string_view>
#include <vector>

#include "io/text_checks.h"
#include "lote/io/records.h"
#include "lote/text/utf8.h"

namespace lote::io {

namespace {

// Splits on runs of spaces and tabs.
void SplitColumns(std::string_view line, std::vector<std::string_view>* cols) {
  cols->clear();
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
    if (i > start) cols->push_back(line.substr(start, i - start));
  }
}

// "O", or one of B I E S L U, a '-', and a non-empty type.
bool IsValidTag(std::string_view tag) {
  if (tag == "O") return true;
  if (tag.size() < 3 || tag[1] != '-') return false;
  return std::string_view("BIESLU").find(tag[0]) != std::string_view::npos;
}

}  // namespace

ConllReader::ConllReader(std::unique_ptr<ByteSource> source, TextEncoding encoding)
    : source_(std::move(source)), lines_(source_.get()), encoding_(encoding) {}

Result<bool> ConllReader::Next(TaggedSentence* sentence) {
  if (!fatal_.ok()) return fatal_;
  sentence->tokens.clear();
  sentence->tags.clear();
  sentence->first_line = 0;
  std::string line;
  std::vector<std::string_view> cols;
  // Drops the sentence in progress and the rest of its lines, then reports `reason`.
  auto bad_line = [&](std::string_view reason) -> Status {
    sentence->tokens.clear();
    sentence->tags.clear();
    sentence->first_line = 0;
    skip_sentence_ = true;
    return internal::RecordError(source_->name(), lines_.line_number(), reason);
  };
  for (;;) {
    auto more = lines_.Next(&line);
    if (!more.ok()) {
      if (more.status().code() == StatusCode::kResourceExhausted) {
        sentence->tokens.clear();
        sentence->tags.clear();
        skip_sentence_ = true;
        return more.status();
      }
      fatal_ = more.status();
      return fatal_;
    }
    if (!*more) return !sentence->tokens.empty();
    if (encoding_ == TextEncoding::kLatin1) line = internal::Latin1ToUtf8(line);
    SplitColumns(line, &cols);
    if (cols.empty()) {
      skip_sentence_ = false;
      if (!sentence->tokens.empty()) return true;
      continue;
    }
    if (skip_sentence_) continue;
    if (cols[0] == "-DOCSTART-") {
      if (!sentence->tokens.empty()) return true;
      continue;
    }
    std::string problem = internal::TextProblem(line);
    if (!problem.empty()) {
      if (problem.rfind("invalid UTF-8", 0) == 0) {
        problem += " (if the file is Latin-1, read it with TextEncoding::kLatin1)";
      }
      return bad_line(problem);
    }
    if (cols.size() < 2) {
      return bad_line("missing tag column after token '" + text::Excerpt(cols[0], 30) + "'");
    }
    std::string_view tag = cols.back();
    if (!IsValidTag(tag)) {
      return bad_line("tag '" + text::Excerpt(tag, 30) +
                      "' is neither O nor B-/I-/E-/S-/L-/U- followed by a type");
    }
    if (sentence->tokens.empty()) sentence->first_line = lines_.line_number();
    sentence->tokens.emplace_back(cols[0]);
    sentence->tags.emplace_back(tag);
  }
}

}  // namespace lote::io
