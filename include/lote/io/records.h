// Labelled and unlabelled text records, and streaming readers for the formats lote takes:
// CSV (RFC 4180: header row, quoted fields with "" escapes and newlines), JSONL (one object per
// line), txt (one text per line), CoNLL (token per line, tag in the last column, blank line
// between sentences) and BRAT standoff (a folder of .txt + .ann pairs).
//
// Error model: a reader reports a bad record as a Status naming the source and the 1-based line
// (or row) and stays usable: the next call to Next() continues with the following record, so one
// bad row never loses the rest. Fatal errors repeat on every later call; `failed()` tells them
// apart from record errors. Fatal errors are those of the source (Unavailable, DataLoss for
// corrupt compressed data) and FailedPrecondition when the options do not fit the data (a
// configured column missing, a CSV header that does not parse): codes no bad record uses.
// Bad-record errors are InvalidArgument ("SOURCE:LINE: reason"), or ResourceExhausted for a
// record longer than the limit. Messages quote at most a short excerpt of the input.
// An empty source, or a CSV with only its header, is not an error: it yields no records.
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
  std::string id;     // the id field's value, empty when the record has none
  std::string text;   // raw text as read: valid UTF-8 without NUL bytes
  std::string label;  // empty when unlabelled or no label field configured
  uint64_t line = 0;  // 1-based physical line where the record starts (csv: header is line 1)
  uint64_t row = 0;   // 1-based ordinal of the record in the source, bad records included;
                      // blank lines and the csv header are not rows
  bool has_label = false;
};

// The kind of problem of a bad record, for outputs that must not quote the record (redaction)
// and for counting reasons.
enum class RecordProblem {
  kNone,
  kInvalidUtf8,    // invalid UTF-8 in the record's text, label or id
  kNulByte,        // a NUL byte (or a "\u0000" escape) in them
  kMalformedJson,  // a JSONL line that is not valid JSON, or not an object
  kMissingField,   // the text field (or a required label) is absent from this record
  kWrongType,      // a field holds an object, array, or (text) a number
  kMissingLabel,   // an empty label where one is required
  kFieldCount,     // a CSV row with more or fewer fields than the header
  kMalformedCsv,   // unbalanced quotes, text after a closing quote
  kTooLong,        // longer than TextReaderOptions::max_record_bytes
  kUnreadable,     // the source itself failed (fatal: see TextRecordReader::failed)
};

// "invalid UTF-8", "NUL byte", "malformed JSON", "field missing", "wrong field type", "empty
// label", "wrong number of fields", "malformed CSV", "record too long", "unreadable source".
std::string_view RecordProblemName(RecordProblem problem);

// What a reader knows about the record it last reported bad, as fields: callers never parse
// them back out of the Status message.
struct RecordError {
  RecordProblem problem = RecordProblem::kNone;
  uint64_t line = 0;   // 1-based physical line where the record starts (csv: header is line 1)
  uint64_t row = 0;    // as TextRecord::row
  std::string reason;  // what is wrong, without the "SOURCE:LINE: " prefix of the Status message;
                       // may quote a short excerpt of the record (never for kTooLong)
};

struct TextReaderOptions {
  std::string text_field = "text";
  std::string label_field;     // empty: do not read labels
  std::string id_field;        // empty: no ids
  bool require_label = false;  // a record without the label field is an error
  // A longer record (jsonl, txt: its line; csv: all its lines) is a ResourceExhausted record
  // error and is skipped without being buffered. 1 MiB by default: the policy every command
  // applies unless told otherwise (--max-record-bytes), so one hostile line cannot take the
  // memory of a whole process.
  size_t max_record_bytes = size_t{1} << 20;
  // jsonl: the first valid object decides whether the configured fields exist at all (a file has
  // one schema): without the text field (or a required label) it is a fatal missing column.
  // false: every object stands alone (a request's records, from different senders), and one
  // without the field is a record error like any later one.
  bool first_object_sets_columns = true;
};

// Reads text records from csv, jsonl or txt.
class TextRecordReader {
 public:
  virtual ~TextRecordReader() = default;
  // Returns true and fills *record, false at end, or an error for one bad record (see above).
  // Text is checked for valid UTF-8 and NUL bytes: such a record is an InvalidArgument error.
  virtual Result<bool> Next(TextRecord* record) = 0;
  // True once Next() returned an error the reader cannot continue past (I/O, corrupt stream,
  // missing column): stop reading then; every later Next() returns that error again.
  virtual bool failed() const = 0;
  // Position of the record last returned or reported bad: its 1-based physical start line and
  // its row (see TextRecord). Lets callers give a bad record its place in the output.
  virtual uint64_t last_line() const = 0;
  virtual uint64_t last_row() const = 0;
  // The error Next() last returned, as fields (problem kNone before any error). For a fatal
  // error, problem is kUnreadable (or kMissingField for a missing column) and reason the message.
  virtual const RecordError& last_error() const = 0;
};

// For csv and jsonl, a missing text (or required label) column is reported by the first Next()
// as FailedPrecondition naming the column and the available ones (csv: from the header; jsonl:
// the keys of the first valid object), and is fatal. A missing optional label column means no
// record has a label; a missing id column, empty ids. Later jsonl objects missing the text field
// are record errors. Label and id values that are JSON numbers or booleans are converted to their
// JSON text ("3", "2.5", "true"); a text that is not a JSON string is a record error. Blank
// lines are skipped (txt: empty lines, still counted in line numbers).
// Format kConll / kBrat, an empty text_field, or labels asked of txt: InvalidArgument.
Result<std::unique_ptr<TextRecordReader>> MakeTextRecordReader(Format format,
                                                               std::unique_ptr<ByteSource> source,
                                                               TextReaderOptions options);

// Encoding of a source's bytes. Readers produce UTF-8 either way.
enum class TextEncoding { kUtf8, kLatin1 };

// One CoNLL sentence: tokens and their tags (IOB1/IOB2 as written in the file).
struct TaggedSentence {
  std::vector<std::string> tokens;
  std::vector<std::string> tags;
  uint64_t first_line = 0;  // 1-based line of the first token
};

// Columns are separated by spaces or tabs; the token is the first column, the tag the last,
// middle columns (POS, chunk) are ignored. A blank line (or a "-DOCSTART-" line, which is
// skipped) ends a sentence.
// Encoding: UTF-8 by default. The NLTK copy of CoNLL-2002 in shared/datasets is UTF-8 (checked
// with `file`), but the original distribution is Latin-1: pass TextEncoding::kLatin1 for such
// files (every byte is then a code point, so nothing is invalid). Latin-1 is not auto-detected:
// a UTF-8 error names the line and suggests it.
class ConllReader {
 public:
  explicit ConllReader(std::unique_ptr<ByteSource> source,
                       TextEncoding encoding = TextEncoding::kUtf8);
  // Sets *sentence to the next sentence and returns true; false at end.
  // Errors (InvalidArgument naming file and line): a token line without a tag column, a tag that
  // is not O and has no B-/I-/E-/S-/L-/U- prefix followed by a type, invalid UTF-8. The sentence
  // holding the bad line is dropped and the next call continues with the following sentence.
  // Source errors (Unavailable, DataLoss) are fatal and repeat.
  Result<bool> Next(TaggedSentence* sentence);
  bool failed() const { return !fatal_.ok(); }

 private:
  std::unique_ptr<ByteSource> source_;
  LineReader lines_;
  TextEncoding encoding_;
  bool skip_sentence_ = false;  // after a bad line: drop lines up to the next blank line
  Status fatal_;
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
// Details: offsets count code points of `text` (which must be valid UTF-8: InvalidArgument
// naming `name` otherwise). The text check treats a newline, CR or tab in the document as equal
// to the space BRAT writes in its place; a discontinuous annotation's text is its fragments
// joined by single spaces. Malformed "T" lines (missing tab, non-numeric or empty span) are
// InvalidArgument naming `ann_name:LINE`. Overlapping and nested annotations are all kept:
// the consumer (training, evaluation) decides how to resolve them. `warnings` may be null.
Result<BratDocument> ParseBratDocument(std::string name, std::string text, std::string_view ann,
                                       std::string_view ann_name,
                                       std::vector<std::string>* warnings);

// Entity-annotated JSON Lines: one object per line with the text and its entities, the way
// annotation tools export them and `lote extract` writes them. Either element shape is read:
//   {"text": "...", "entities": [{"type": "PER", "start": 11, "end": 22, "text": "..."}]}
//     ("label" is accepted for "type"; "text" is optional and, when given, must match)
//   {"text": "...", "label": [[11, 22, "PER"]]}       (doccano; entities_field = "label")
// Offsets are code points of the text, end exclusive. Blank lines are skipped.
struct EntityJsonlOptions {
  std::string text_field = "text";
  std::string entities_field = "entities";
  std::string id_field = "id";  // names the document when present ("SOURCE:LINE" otherwise)
};

// Every record of `source` as a document (annotations sorted by (start, end); overlaps kept, as
// in ParseBratDocument). The first bad line fails the whole call (labelled data with broken
// lines must not be used silently): InvalidArgument "SOURCE:LINE: reason" for malformed JSON, a
// missing or non-string text, invalid UTF-8 or NUL in the text, a missing entities field or one
// that is not an array, an entity that is neither shape, offsets that are not integers, empty,
// reversed or past the text's end, and an entity text that differs from the text at its span.
// Over-long lines (ResourceExhausted) and source errors are returned as they are.
Result<std::vector<BratDocument>> ReadEntityJsonl(ByteSource* source,
                                                  const EntityJsonlOptions& options);

}  // namespace lote::io

#endif  // LOTE_IO_RECORDS_H_
