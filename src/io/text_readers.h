// Private: the TextRecordReader implementations behind MakeTextRecordReader.
#ifndef LOTE_SRC_IO_TEXT_READERS_H_
#define LOTE_SRC_IO_TEXT_READERS_H_

#include <memory>

#include "lote/io/records.h"

namespace lote::io::internal {

std::unique_ptr<TextRecordReader> MakeCsvReader(std::unique_ptr<ByteSource> source,
                                                TextReaderOptions options);
std::unique_ptr<TextRecordReader> MakeJsonlReader(std::unique_ptr<ByteSource> source,
                                                  TextReaderOptions options);
std::unique_ptr<TextRecordReader> MakeTxtReader(std::unique_ptr<ByteSource> source,
                                                TextReaderOptions options);

}  // namespace lote::io::internal

#endif  // LOTE_SRC_IO_TEXT_READERS_H_
