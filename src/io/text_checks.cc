#include "io/text_checks.h"

#include "lote/text/utf8.h"

namespace lote::io::internal {

std::string TextProblem(std::string_view s, RecordProblem* problem) {
  size_t bad = text::FindInvalidUtf8(s);
  size_t nul = s.find('\0');
  if (bad == std::string_view::npos && nul == std::string_view::npos) {
    *problem = RecordProblem::kNone;
    return "";
  }
  if (nul < bad) {
    *problem = RecordProblem::kNulByte;
    return "NUL byte at byte " + std::to_string(nul);
  }
  *problem = RecordProblem::kInvalidUtf8;
  return "invalid UTF-8 at byte " + std::to_string(bad);
}

std::string TextProblem(std::string_view s) {
  RecordProblem unused;
  return TextProblem(s, &unused);
}

std::string Latin1ToUtf8(std::string_view s) {
  std::string out;
  out.reserve(s.size() + s.size() / 8);
  for (char ch : s) text::AppendUtf8(static_cast<unsigned char>(ch), &out);
  return out;
}

Status RecordError(std::string_view source, uint64_t line, std::string_view reason) {
  std::string m;
  m.reserve(source.size() + reason.size() + 24);
  m.append(source).append(":").append(std::to_string(line)).append(": ").append(reason);
  return InvalidArgumentError(std::move(m));
}

Status BadRecord(io::RecordError* error, std::string_view source, RecordProblem problem,
                 uint64_t line, uint64_t row, std::string reason, StatusCode code) {
  error->problem = problem;
  error->line = line;
  error->row = row;
  std::string m;
  m.reserve(source.size() + reason.size() + 24);
  m.append(source).append(":").append(std::to_string(line)).append(": ").append(reason);
  error->reason = std::move(reason);
  return Status(code, std::move(m));
}

Status FatalRecordError(io::RecordError* error, const Status& status, uint64_t line, uint64_t row,
                        RecordProblem problem) {
  error->problem = problem;
  error->line = line;
  error->row = row;
  error->reason = status.message();
  return status;
}

Status LineFailure(io::RecordError* error, const Status& status, uint64_t line, uint64_t row,
                   size_t max_bytes) {
  if (status.code() != StatusCode::kResourceExhausted) {
    return FatalRecordError(error, status, line, row);
  }
  error->problem = RecordProblem::kTooLong;
  error->line = line;
  error->row = row;
  error->reason = "line longer than " + std::to_string(max_bytes) + " bytes";
  return status;
}

Result<bool> NextRecordLine(LineReader* lines, bool skip_blank, std::string* line, uint64_t* row,
                            Status* fatal) {
  for (;;) {
    auto more = lines->Next(line);
    if (!more.ok()) {
      if (more.status().code() == StatusCode::kResourceExhausted) {
        ++*row;
      } else {
        *fatal = more.status();
      }
      return more.status();
    }
    if (!*more) return false;
    const bool blank =
        skip_blank ? line->find_first_not_of(" \t\r") == std::string::npos : line->empty();
    if (!blank) break;
  }
  ++*row;
  return true;
}

}  // namespace lote::io::internal
