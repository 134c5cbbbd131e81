// Flags several subcommands share, each with its validation, so that a bad value is a usage
// error (exit 2, "lote: --top-k: ...") before anything runs, and every command spells and checks
// a flag the same way.
#ifndef LOTE_APPS_LOTE_FLAGS_H_
#define LOTE_APPS_LOTE_FLAGS_H_

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "lote/base/secret.h"
#include "lote/base/status.h"
#include "lote/bundle/analyzer.h"
#include "lote/bundle/prediction_row.h"
#include "lote/extract/patterns.h"

namespace lote::cli {

// --threads N: 0 (the default) means the CPUs this process may use, as DefaultThreads() says;
// anything outside 0..kMaxThreads is refused.
CLI::Option* AddThreadsFlag(CLI::App* cmd, int* threads, const std::string& what);
// The thread count to use for a --threads value.
int ResolveThreads(int flag);

// --text-field F and --id-field F of the commands that read records (predict, extract, redact).
void AddRecordFieldFlags(CLI::App* cmd, std::string* text_field, std::string* id_field);
// --top-k K (1..1000): labels listed in each row's top_k.
CLI::Option* AddTopKFlag(CLI::App* cmd, int* top_k);

// --reference-date YYYY-MM-DD (checked as a calendar date).
CLI::Option* AddReferenceDateFlag(CLI::App* cmd, std::string* date);
// The flag's date, or today's UTC date when empty. The flag was validated by CLI11.
extract::CivilDate ReferenceDateOrToday(const std::string& flag);

// --max-record-bytes N: records (a JSONL/txt line, a CSV record) longer than this are errors, not
// read into memory. 1 KiB .. 1 GiB.
CLI::Option* AddMaxRecordBytesFlag(CLI::App* cmd, size_t* bytes);
inline constexpr size_t kDefaultMaxRecordBytes = size_t{1} << 20;

// The PII policy flags of `lote run`, predict and extract: --pii-mode none|mask|type|hash,
// --pii-types T,..., --pii-key-file FILE (else LOTE_PII_KEY).
struct PiiFlags {
  std::string mode;  // empty: the command's default
  std::string types;
  std::string key_file;
};
void AddPiiFlags(CLI::App* cmd, PiiFlags* flags);

struct PiiSettings {
  bundle::PiiPolicy policy = bundle::PiiPolicy::kMask;
  std::vector<std::string> types;  // empty: the model's personal types
  Secret key;                      // may be empty unless policy is kHash
};
// Resolves the flags (mode defaulting to `default_mode`). InvalidArgument for a bad type list,
// a key shorter than 16 bytes, or hash without a key; errors reading the key file as they are.
Result<PiiSettings> ResolvePiiFlags(const PiiFlags& flags, const std::string& default_mode);

// ResolvePiiFlags for a subcommand's callback: false after printing the problem and setting
// *exit_code (2 for a bad value, else as ExitCodeFor).
bool ResolvePiiOrFail(const PiiFlags& flags, const std::string& default_mode, PiiSettings* out,
                      int* exit_code);

// What the rows of `lote predict`, `extract` and `serve` are made with, besides top_k: the
// pattern extractors, the reference date, the record size limit and the PII policy.
struct RowFlags {
  bool no_patterns = false;
  std::string reference_date;
  size_t max_record_bytes = kDefaultMaxRecordBytes;
  PiiFlags pii;
};
// --no-patterns, --reference-date, --max-record-bytes and the PII flags.
void AddRowFlags(CLI::App* cmd, RowFlags* flags);
// Sets `options`' patterns, reference date and PII policy from the flags and the resolved PII
// settings.
void ApplyRowFlags(const RowFlags& flags, const PiiSettings& pii,
                   bundle::PredictionRowOptions* options);

// The PII key, read the one way every command reads it: from `key_file` when given, else from
// the LOTE_PII_KEY environment variable, else none (an empty Secret). See lote::ParseKey.
Result<Secret> LoadPiiKey(const std::string& key_file);

}  // namespace lote::cli

#endif  // LOTE_APPS_LOTE_FLAGS_H_
