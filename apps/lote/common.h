// Helpers shared by the CLI's subcommands: reading records and models from files, warnings,
// JSON output, atomic output files. Only the CLI touches files by path, env and stderr.
#ifndef LOTE_APPS_LOTE_COMMON_H_
#define LOTE_APPS_LOTE_COMMON_H_

#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "lote/base/json_writer.h"
#include "lote/base/status.h"
#include "lote/bundle/model.h"
#include "lote/classify/intent_classifier.h"
#include "lote/io/records.h"
#include "lote/registry/registry.h"
#include "lote/storage/storage.h"

namespace lote::cli {

// Prints "lote: warning: ..." to stderr; after `kMaxWarnings` of the same kind prints a count.
void Warn(const std::string& message);
// Prints how many warnings were suppressed, if any.
void FlushWarnings();

// The format of `path`: from --format when given, else from its extension (a folder is brat).
Result<io::Format> ResolveFormat(const std::string& path, const std::string& format_flag);

// "PER, ORG,LOC" -> {"PER", "ORG", "LOC"} (blanks trimmed). An empty name is InvalidArgument
// naming `flag`. An empty `list` gives an empty vector.
Result<std::vector<std::string>> ParseTypeList(const std::string& list, std::string_view flag);

// Opens `path` (or "-" for stdin) as a byte source, decompressing .gz / .zst.
Result<std::unique_ptr<io::ByteSource>> OpenInput(const std::string& path);

struct LabeledRow {
  std::string text;
  std::string label;
  uint64_t line = 0;
};

// Reads every labelled record of a csv/jsonl file. Bad records are skipped with a warning naming
// file and line; a missing column, an empty file or a file with no valid record is an error.
Result<std::vector<LabeledRow>> ReadLabeledFile(const std::string& path, io::Format format,
                                                const std::string& text_field,
                                                const std::string& label_field);

// The model file of a classifier `lote train classify` (or a flow's training job) trained:
// its sections, the reference profile monitoring compares runs with (from the training report's
// calibration rows, cleaned by prep's defaults as a run would clean them), and the meta.
std::string ClassifierModelBytes(const classify::IntentClassifier& classifier,
                                 const classify::ClassifierTrainReport& report,
                                 std::string_view name, std::string_view created_at,
                                 std::string* version_id);

// The registry URI for commands: `flag` if given, else $LOTE_REGISTRY; InvalidArgument naming
// both when neither is set.
Result<std::string> RegistryUri(std::string_view flag);

// Who makes a registry change: $LOTE_USER, else $USER, else "unknown".
registry::Actor CurrentActor();

// The bytes of the model `ref` names: a file path, or a registry reference (models:/NAME/VERSION,
// models:/NAME@ALIAS) resolved once in the registry at $LOTE_REGISTRY, its SHA-256 checked;
// says on stderr which version an alias named. *source (optional): what messages call it.
// `registry`: the registry URI to use instead of $LOTE_REGISTRY (a config's or a flag's).
Result<std::string> ReadModelBytes(const std::string& ref, std::string* source = nullptr,
                                   const std::string& registry = "");

// Reads and loads a model file or registry reference (ReadModelBytes). Errors name it.
Result<bundle::Model> LoadModelFromPath(const std::string& path);

// The `created_at` of a model file that `lote train` or `lote bundle` writes: SOURCE_DATE_EPOCH
// (the reproducible-builds convention) as ISO 8601 UTC when set, else empty. Neither the clock
// nor a file's modification time decides a model's bytes: the same inputs give the same file on
// any machine (a fresh clone has other mtimes). Errors: InvalidArgument when SOURCE_DATE_EPOCH
// is set but not a whole number of seconds (0 to year 9999).
Result<std::string> ModelTimestamp();

// SHA-256 hex of a file's bytes (a folder: of its files' names and bytes in name order).
Result<std::string> FileSha256(const std::string& path);

// Writes `data` to `path` atomically (storage's local writer: temporary file in the same folder,
// fsync, rename).
Status WriteFileAtomic(const std::string& path, std::string_view data);

// A file given by URI as a local file: a path or file:// URI as it is; any other storage's object
// (s3://...) copied into a private temporary file, removed with this object.
class LocalCopy {
 public:
  LocalCopy() = default;
  LocalCopy(const LocalCopy&) = delete;
  LocalCopy& operator=(const LocalCopy&) = delete;
  ~LocalCopy();
  Status Open(const std::string& uri);
  const std::string& path() const { return path_; }

 private:
  std::string path_, temp_;
};

// An output stream to a file or stdout ("-" or empty path). A file is written through the
// storage layer's atomic local writer: nothing half-written is ever visible under its name.
class Output {
 public:
  static Result<std::unique_ptr<Output>> Open(const std::string& path);
  ~Output();
  // Buffered; the first error is kept and returned by Commit.
  void Write(std::string_view data);
  // Flushes and publishes the file (or flushes stdout).
  Status Commit();

 private:
  Output() = default;
  Status Flush();
  std::unique_ptr<storage::ObjectWriter> writer_;  // null for stdout
  std::string buffer_;
  Status error_;
};

// JSON text helpers live in the library (lote/base/json_writer.h).
using ::lote::AppendJsonNumber;
using ::lote::AppendJsonString;

// "measured accuracy 0.871 [0.840, 0.900] on 312 labelled records (estimate for them 0.880)"
// from a run's feedback.json (lote/pipeline/feedback.h); "" if it is not one. `lote monitor` and
// `lote feedback` print it.
std::string MeasuredAccuracyLine(std::string_view feedback_json);

// Environment lookups (only the CLI reads the environment).
std::string EnvOr(const char* name, const std::string& fallback);

// `s` cut to at most `n` bytes at a UTF-8 character boundary, "..." appended when cut.
std::string CutUtf8(std::string s, size_t n);

}  // namespace lote::cli

#endif  // LOTE_APPS_LOTE_COMMON_H_
