// Fuzzes the CoNLL reader (src/io/conll_reader.cc). Input: one byte of options (bit 0: Latin-1),
// one byte of read size, then the file. Checks what records.h promises of every sentence.
#include <string_view>

#include "fuzz_util.h"
#include "lote/text/utf8.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  using namespace lote;
  using fuzz::Check;
  std::string_view data(reinterpret_cast<const char*>(bytes), size);
  const uint8_t opts = fuzz::TakeByte(&data);
  const size_t chunk = fuzz::TakeByte(&data);
  const auto encoding = (opts & 1) ? io::TextEncoding::kLatin1 : io::TextEncoding::kUtf8;
  io::ConllReader reader(std::make_unique<fuzz::ChunkedSource>(data, chunk), encoding);
  const size_t max_calls = static_cast<size_t>(std::count(data.begin(), data.end(), '\n')) + 3;
  io::TaggedSentence sentence;
  for (size_t calls = 0;; ++calls) {
    Check(calls < max_calls, "reader makes no progress");
    auto more = reader.Next(&sentence);
    if (more.ok() && !*more) break;
    if (!more.ok()) {
      Check(!reader.failed(), "only source errors are fatal, and this source has none");
      Check(more.status().code() == StatusCode::kInvalidArgument, "bad lines are InvalidArgument");
      continue;
    }
    Check(!sentence.tokens.empty(), "a sentence has tokens");
    Check(sentence.tokens.size() == sentence.tags.size(), "one tag per token");
    Check(sentence.first_line >= 1, "a sentence names its first line");
    for (size_t i = 0; i < sentence.tokens.size(); ++i) {
      const std::string& token = sentence.tokens[i];
      const std::string& tag = sentence.tags[i];
      Check(!token.empty() && token.find_first_of(" \t") == std::string::npos,
            "a token is one non-empty column");
      Check(io::internal::TextProblem(token).empty(), "a token is UTF-8 without NUL");
      Check(tag == "O" || (tag.size() >= 3 && tag[1] == '-'), "a tag is O or X-TYPE");
    }
  }
  return 0;
}
