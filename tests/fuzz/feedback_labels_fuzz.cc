// Fuzzes the labels file of `lote feedback` (pipeline::RecordFeedbackFile's reader: CSV with a
// header, JSON lines, or sniffed). Input: one byte picking the format (auto, csv, jsonl), one byte
// of read size, then the file. The output is an empty in-memory store, so a file that reads
// cleanly ends at "nothing was published here".
// Invariants: the only outcomes are a bad file (InvalidArgument or FailedPrecondition, naming the
// file, short: it names line and column, never quotes a value) or NotFound; nothing is written.
#include <string>
#include <string_view>

#include "fuzz_util.h"
#include "lote/pipeline/feedback.h"
#include "lote/storage/storage.h"

namespace {

bool NothingWritten(const lote::storage::Storage& store) {
  auto listed = store.List("mem://fuzz/");
  return listed.ok() ? listed->empty() : listed.status().code() == lote::StatusCode::kNotFound;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  using namespace lote;
  using fuzz::Check;
  std::string_view data(reinterpret_cast<const char*>(bytes), size);
  const uint8_t opts = fuzz::TakeByte(&data);
  const size_t chunk = fuzz::TakeByte(&data);
  constexpr pipeline::LabelsFormat kFormats[] = {
      pipeline::LabelsFormat::kAuto, pipeline::LabelsFormat::kCsv, pipeline::LabelsFormat::kJsonl};
  auto store = storage::NewMemStorage();
  pipeline::FeedbackOptions o;
  o.output_uri = "mem://fuzz/out";
  o.output_storage = store;
  o.max_rows = 1000;
  auto result = pipeline::RecordFeedbackFile(o, std::make_unique<fuzz::ChunkedSource>(data, chunk),
                                             kFormats[opts % 3]);
  Check(!result.ok(), "nothing was published, so nothing is recorded");
  const Status& s = result.status();
  if (s.code() == StatusCode::kNotFound) {
    Check(NothingWritten(*store), "a rejected batch writes nothing");
    return 0;
  }
  Check(s.code() == StatusCode::kInvalidArgument || s.code() == StatusCode::kFailedPrecondition,
        "a bad labels file is InvalidArgument or FailedPrecondition");
  Check(s.message().find("fuzz") != std::string::npos, "errors name the labels file");
  // Values may be up to 4 KiB; a message that long would be quoting one.
  Check(s.message().size() < 400, "errors name line and column, not values");
  Check(NothingWritten(*store), "a bad file writes nothing");
  return 0;
}
