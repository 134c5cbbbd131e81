// Log lines of a run or stage, through PipelineOptions::log: every line goes through the PII
// policy, except the URI of an object of the lake (its name is in clear in the results' `source`
// column too, and a date in a file name such as "2024-03-15-app.jsonl" must stay readable).
// Thread-safety: as the callbacks it holds.
#ifndef LOTE_SRC_PIPELINE_RUN_LOG_H_
#define LOTE_SRC_PIPELINE_RUN_LOG_H_

#include <functional>
#include <string>
#include <string_view>
#include <utility>

#include "lote/pipeline/pipeline.h"
#include "lote/text/utf8.h"

namespace lote::pipeline {

class RunLog {
 public:
  using Redact = std::function<std::string(std::string_view)>;
  RunLog(std::function<void(LogLevel, std::string_view)> sink, Redact redact)
      : sink_(std::move(sink)), redact_(std::move(redact)) {}

  void Line(LogLevel level, std::string_view line) const {
    if (sink_) sink_(level, redact_ ? redact_(line) : std::string(line));
  }
  // `before` + the object's URI + `after`.
  void Object(LogLevel level, std::string_view before, std::string_view uri,
              std::string_view after) const {
    if (!sink_) return;
    std::string line = redact_ ? redact_(before) : std::string(before);
    line += text::ReplaceInvalidUtf8(uri);
    line += redact_ ? redact_(after) : std::string(after);
    sink_(level, line);
  }

 private:
  std::function<void(LogLevel, std::string_view)> sink_;
  Redact redact_;
};

}  // namespace lote::pipeline

#endif  // LOTE_SRC_PIPELINE_RUN_LOG_H_
