// Fuzzes the JSON Lines reader (src/io/jsonl_reader.cc) through MakeTextRecordReader. Input: one
// byte of options, one byte of read size, then the file (see FuzzTextRecords).
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  lote::fuzz::FuzzTextRecords(lote::io::Format::kJsonl,
                              std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
