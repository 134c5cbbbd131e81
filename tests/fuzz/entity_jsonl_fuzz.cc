// Fuzzes ReadEntityJsonl (src/io/entity_jsonl.cc). Input: one byte of options (bit 0: doccano's
// "label" array instead of "entities"), one byte of read size, then the file. Checks what
// records.h promises of every document.
#include <string>
#include <string_view>

#include "fuzz_util.h"
#include "lote/text/utf8.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  using namespace lote;
  using fuzz::Check;
  std::string_view data(reinterpret_cast<const char*>(bytes), size);
  const uint8_t opts = fuzz::TakeByte(&data);
  const size_t chunk = fuzz::TakeByte(&data);
  io::EntityJsonlOptions options;
  if (opts & 1) options.entities_field = "label";
  fuzz::ChunkedSource source(data, chunk);
  auto docs = io::ReadEntityJsonl(&source, options);
  if (!docs.ok()) {
    Check(docs.status().code() == StatusCode::kInvalidArgument, "errors are InvalidArgument");
    return 0;
  }
  for (const io::BratDocument& doc : *docs) {
    Check(io::internal::TextProblem(doc.text).empty(), "text is UTF-8 without NUL");
    const std::vector<uint32_t> cp = text::CodePointOffsets(doc.text);
    const size_t cp_count = cp.size() - 1;
    for (size_t i = 0; i < doc.annotations.size(); ++i) {
      const io::BratAnnotation& a = doc.annotations[i];
      Check(a.start < a.end && a.end <= cp_count, "spans are non-empty and inside the text");
      Check(a.text == std::string_view(doc.text).substr(cp[a.start], cp[a.end] - cp[a.start]),
            "an entity's text is the text at its span");
      Check(!a.type.empty() && a.type.find_first_of(" \t\r\n") == std::string::npos,
            "types are non-empty words");
      if (i > 0) {
        const io::BratAnnotation& p = doc.annotations[i - 1];
        Check(p.start < a.start || (p.start == a.start && p.end <= a.end), "sorted by span");
      }
    }
  }
  return 0;
}
