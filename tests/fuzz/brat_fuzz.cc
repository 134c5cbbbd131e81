// Fuzzes ParseBratDocument (src/io/brat_document.cc). Input: the document's text, a NUL byte,
// then the .ann file (no NUL: all of it is the text and the .ann is empty). Checks what
// records.h promises of a parsed document.
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_util.h"
#include "lote/text/utf8.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  using namespace lote;
  using fuzz::Check;
  const std::string_view data(reinterpret_cast<const char*>(bytes), size);
  const size_t nul = data.find('\0');
  const std::string_view text = data.substr(0, nul);
  const std::string_view ann = nul == std::string_view::npos ? "" : data.substr(nul + 1);
  std::vector<std::string> warnings;
  auto doc = io::ParseBratDocument("doc", std::string(text), ann, "doc.ann", &warnings);
  if (!doc.ok()) {
    Check(doc.status().code() == StatusCode::kInvalidArgument, "errors are InvalidArgument");
    return 0;
  }
  Check(doc->text == text && doc->name == "doc", "the document keeps its text and name");
  const std::vector<uint32_t> cp = text::CodePointOffsets(doc->text);
  const size_t cp_count = cp.size() - 1;
  for (size_t i = 0; i < doc->annotations.size(); ++i) {
    const io::BratAnnotation& a = doc->annotations[i];
    Check(a.start < a.end && a.end <= cp_count, "spans are non-empty and inside the text");
    Check(!a.id.empty() && a.id[0] == 'T' && !a.type.empty(), "text-bound annotations only");
    if (i > 0) {
      const io::BratAnnotation& p = doc->annotations[i - 1];
      Check(p.start < a.start || (p.start == a.start && p.end <= a.end), "sorted by span");
    }
  }
  return 0;
}
