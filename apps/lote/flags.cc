#include "flags.h"

#include <fstream>
#include <optional>
#include <sstream>

#include "command.h"
#include "common.h"
#include "lote/base/clock.h"
#include "lote/base/ordered_executor.h"
#include "lote/io/file_source.h"

namespace lote::cli {
namespace {

std::optional<std::string> ReadCgroupFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The CPU quota of this process's cgroup, if any (cgroup v2's cpu.max; else v1's cpu
// controller), read from the cgroup file system as containers mount it.
std::optional<double> CgroupCpuQuota() {
  if (auto v2 = ReadCgroupFile("/sys/fs/cgroup/cpu.max")) return ParseCgroupCpuMax(*v2);
  auto quota = ReadCgroupFile("/sys/fs/cgroup/cpu/cpu.cfs_quota_us");
  auto period = ReadCgroupFile("/sys/fs/cgroup/cpu/cpu.cfs_period_us");
  if (!quota || !period) {
    quota = ReadCgroupFile("/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us");
    period = ReadCgroupFile("/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us");
  }
  if (quota && period) return ParseCgroupV1Quota(*quota, *period);
  return std::nullopt;
}

}  // namespace

CLI::Option* AddThreadsFlag(CLI::App* cmd, int* threads, const std::string& what) {
  return cmd
      ->add_option("--threads", *threads,
                   what + " (0: the CPUs this process may use, after affinity and cgroup quota)")
      ->check(CLI::Range(0, kMaxThreads))
      ->capture_default_str();
}

void AddRecordFieldFlags(CLI::App* cmd, std::string* text_field, std::string* id_field) {
  cmd->add_option("--text-field", *text_field, "Text column/field")->capture_default_str();
  cmd->add_option("--id-field", *id_field, "Id column/field (default: line/row number)");
}

CLI::Option* AddTopKFlag(CLI::App* cmd, int* top_k) {
  return cmd->add_option("--top-k", *top_k, "Labels listed in top_k")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
}

int ResolveThreads(int flag) {
  static const int default_threads = DefaultThreadCount(CgroupCpuQuota());
  return flag > 0 ? flag : default_threads;
}

CLI::Option* AddReferenceDateFlag(CLI::App* cmd, std::string* date) {
  return cmd
      ->add_option("--reference-date", *date,
                   "Resolve relative dates (\"ayer\") against YYYY-MM-DD (default: today, UTC)")
      ->check(CLI::Validator(
          [](std::string& value) -> std::string {
            return extract::CivilDate::FromIso(value).ok() ? "" : "not a date YYYY-MM-DD";
          },
          "YYYY-MM-DD", "date"));
}

extract::CivilDate ReferenceDateOrToday(const std::string& flag) {
  auto d =
      extract::CivilDate::FromIso(flag.empty() ? FormatDate(SystemClock()->NowMicros()) : flag);
  return d.ok() ? *d : extract::CivilDate{};
}

CLI::Option* AddMaxRecordBytesFlag(CLI::App* cmd, size_t* bytes) {
  return cmd
      ->add_option("--max-record-bytes", *bytes,
                   "Longest record read, in bytes (a JSONL or txt line, a CSV record; default "
                   "1048576); a longer one is an error row, never held in memory")
      ->check(CLI::Range(size_t{1} << 10, size_t{1} << 30));
}

void AddPiiFlags(CLI::App* cmd, PiiFlags* f) {
  cmd->add_option("--pii-mode", f->mode,
                  "How personal data is written: none | mask (default) | type | hash (keyed)")
      ->check(CLI::IsMember({"none", "mask", "type", "hash"}));
  cmd->add_option("--pii-types", f->types,
                  "Comma-separated entity types treated as personal (default: the pattern types, "
                  "PER and the model's personal types)");
  cmd->add_option("--pii-key-file", f->key_file,
                  "Secret key for --pii-mode hash and for keyed text fingerprints, at least 16 "
                  "bytes (default: the LOTE_PII_KEY environment variable)");
}

Result<Secret> LoadPiiKey(const std::string& key_file) {
  if (!key_file.empty()) {
    LOTE_ASSIGN_OR_RETURN(std::string bytes, io::ReadFileToString(key_file));
    return ParseKey(bytes, "--pii-key-file " + key_file);
  }
  const std::string env = EnvOr("LOTE_PII_KEY", "");
  if (env.empty()) return Secret();
  return ParseKey(env, "LOTE_PII_KEY");
}

Result<PiiSettings> ResolvePiiFlags(const PiiFlags& f, const std::string& default_mode) {
  PiiSettings s;
  LOTE_ASSIGN_OR_RETURN(s.policy, bundle::ParsePiiPolicy(f.mode.empty() ? default_mode : f.mode));
  LOTE_ASSIGN_OR_RETURN(s.types, ParseTypeList(f.types, "--pii-types"));
  LOTE_ASSIGN_OR_RETURN(s.key, LoadPiiKey(f.key_file));
  if (s.policy == bundle::PiiPolicy::kHash && s.key.empty()) {
    return InvalidArgumentError(
        "--pii-mode hash needs a secret key: give --pii-key-file FILE or set LOTE_PII_KEY");
  }
  return s;
}

bool ResolvePiiOrFail(const PiiFlags& flags, const std::string& default_mode, PiiSettings* out,
                      int* exit_code) {
  auto pii = ResolvePiiFlags(flags, default_mode);
  if (!pii.ok()) {
    *exit_code = pii.status().code() == StatusCode::kInvalidArgument
                     ? FailUsage(pii.status().message())
                     : Fail(pii.status());
    return false;
  }
  *out = std::move(*pii);
  return true;
}

void AddRowFlags(CLI::App* cmd, RowFlags* flags) {
  cmd->add_flag("--no-patterns", flags->no_patterns, "Do not run the pattern extractors");
  AddReferenceDateFlag(cmd, &flags->reference_date);
  AddMaxRecordBytesFlag(cmd, &flags->max_record_bytes);
  AddPiiFlags(cmd, &flags->pii);
}

void ApplyRowFlags(const RowFlags& flags, const PiiSettings& pii,
                   bundle::PredictionRowOptions* options) {
  options->patterns = !flags.no_patterns;
  options->reference_date = ReferenceDateOrToday(flags.reference_date);
  options->pii = pii.policy;
  options->pii_types = pii.types;
  options->pii_key = pii.key;
}

}  // namespace lote::cli
