// Labelled and unlabelled text records, and streaming readers for the formats lote takes:
// CSV (RFC 4180: header row, quoted fields with "" escapes and newlines), JSONL (one object per
// line), txt (one text per line), CoNLL (token per line, tag in the last column, blank line
// between sentences) and BRAT standoff (a folder of .txt + .ann pairs).
//
// Error model: a reader reports a bad record as a Status naming the source and the 1-based line
// (or row) and stays usable: the next call to Next() continues with the following record, so one
// bad row never loses the rest. Fatal errors (I/O) repeat on every later call.
// Thread-safety: a reader is used by one thread at a time.
#ifndef LOTE_IO_RECORDS_H_
#define LOTE_IO_RECORDS_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "lote/base/status.h"
#include "lote/io/byte_source.h"

namespace lote::io {

enum class Format { kCsv, kJsonl, kTxt, kConll, kBrat };

// "csv", "jsonl" (also "ndjson"), "txt", "conll", "brat"; InvalidArgument otherwise.
Result<Format> ParseFormat(std::string_view name);
std::string_view FormatName(Format format);
// From the extension, ignoring a trailing .gz/.zst: .csv, .jsonl/.ndjson, .txt, .conll/.iob/
// .bio; `is_directory` -> brat. InvalidArgument when it cannot tell.
Result<Format> FormatFromPath(std::string_view path, bool is_directory);

struct TextRecord {
  std::string id;      // the id field's value, empty when the record has none
  std::string text;    // raw text as read (validated UTF-8 unless the policy says otherwise)
  std::string label;   // empty when unlabelled or no label field configured
  uint64_t line = 0;   // 1-based line (txt, jsonl) or data row (csv: header is row 0... see .cc)
  bool has_label = false;
};

struct TextReaderOptions {
  std::string text_field = "text";
  std::string label_field;  // empty: do not read labels
  std::string id_field;     // empty: no ids
  bool require_label = false;  // a record without the label field is an error
  size_t max_record_bytes = 64 << 20;
};

// Reads text records from csv, jsonl or txt.
class TextRecordReader {
 public:
  virtual ~TextRecordReader() = default;
  // Returns true and fills *record, false at end, or an error for one bad record (see above).
  // Text is checked for valid UTF-8 and NUL bytes: such a record is an InvalidArgument error.
  virtual Result<bool> Next(TextRecord* record) = 0;
};

// For csv and jsonl, a missing text (or required label) column is reported by the first Next()
// as InvalidArgument naming the column and the available ones (csv: from the header).
Result<std::unique_ptr<TextRecordReader>> MakeTextRecordReader(Format format,
                                                               std::unique_ptr<ByteSource> source,
                                                               TextReaderOptions options);

// One CoNLL sentence: tokens and their tags (IOB1/IOB2 as written in the file).
struct TaggedSentence {
  std::vector<std::string> tokens;
  std::vector<std::string> tags;
  uint64_t first_line = 0;  // 1-based line of the first token
};

class ConllReader {
 public:
  explicit ConllReader(std::unique_ptr<ByteSource> source);
  // Errors (naming file and line): a token line without a tag column, a tag that is not O and
  // has no B-/I-/E-/S- prefix, invalid UTF-8. "-DOCSTART-" lines are skipped.
  Result<bool> Next(TaggedSentence* sentence);

 private:
  std::unique_ptr<ByteSource> source_;
  LineReader lines_;
};

// One BRAT document: text plus text-bound annotations ("T" lines); other lines are ignored.
struct BratAnnotation {
  std::string id;    // "T1"
  std::string type;  // "NOMBRE_SUJETO_ASISTENCIA"
  uint32_t start;    // code point offsets into text (BRAT's character offsets), end exclusive
  uint32_t end;
  std::string text;  // the annotation's text as written in the .ann
};

struct BratDocument {
  std::string name;  // file stem
  std::string text;
  std::vector<BratAnnotation> annotations;  // sorted by (start, end)
};

// Parses one .txt/.ann pair held in memory. Errors name `ann_name` and the .ann line:
// offsets out of range, offsets whose text does not match the annotation's text, discontinuous
// spans ("0 5;7 9") are accepted as their hull with a warning in `warnings`.
Result<BratDocument> ParseBratDocument(std::string name, std::string text, std::string_view ann,
                                       std::string_view ann_name,
                                       std::vector<std::string>* warnings);

}  // namespace lote::io

#endif  // LOTE_IO_RECORDS_H_
