#include "pipeline_config.h"

#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>
#include <set>

#include "command.h"
#include "common.h"
#include "flags.h"
#include "job_metrics.h"
#include "lote/base/clock.h"
#include "lote/base/ordered_executor.h"
#include "lote/io/file_source.h"
#include "lote/monitoring/job_metrics.h"
#include "lote/storage/storage.h"
#include "lote/text/utf8.h"

namespace lote::cli {

namespace {

std::string Where(const std::string& path, const YAML::Node& n) {
  return path + ":" + std::to_string(n.Mark().line + 1);
}

// Checks that `node` is a map whose keys are all in `known`.
Status CheckKeys(const std::string& path, const YAML::Node& node, const std::string& section,
                 const std::set<std::string>& known) {
  if (!node.IsMap())
    return InvalidArgumentError(Where(path, node) + ": '" + section + "' must be a map");
  for (const auto& kv : node) {
    const std::string key = kv.first.as<std::string>();
    if (!known.count(key)) {
      return InvalidArgumentError(Where(path, kv.first) + ": unknown key '" + key + "' in " +
                                  section);
    }
  }
  return Status::Ok();
}

template <typename T>
Status Get(const std::string& path, const YAML::Node& parent, const char* key, T* out) {
  const YAML::Node n = parent[key];
  if (!n) return Status::Ok();
  try {
    *out = n.as<T>();
  } catch (const YAML::Exception&) {
    return InvalidArgumentError(Where(path, n) + ": bad value for '" + key + "'");
  }
  return Status::Ok();
}

}  // namespace

Status LoadRunConfig(const std::string& path, RunConfig* c) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    return NotFoundError(path + ": cannot read the config file");
  } catch (const YAML::Exception& e) {
    return InvalidArgumentError(path + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  if (root.IsNull()) return Status::Ok();
  LOTE_RETURN_IF_ERROR(CheckKeys(path, root, "the config",
                                 {"input",
                                  "output",
                                  "model",
                                  "registry",
                                  "catalog",
                                  "text_field",
                                  "id_field",
                                  "threads",
                                  "log_format",
                                  "strict",
                                  "force",
                                  "lock_wait_seconds",
                                  "max_record_bytes",
                                  "follow_symlinks",
                                  "prep",
                                  "infer",
                                  "pii",
                                  "publish",
                                  "monitoring",
                                  "storage"}));
  auto& p = c->pipeline;
  LOTE_RETURN_IF_ERROR(Get(path, root, "input", &c->input));
  LOTE_RETURN_IF_ERROR(Get(path, root, "output", &c->output));
  LOTE_RETURN_IF_ERROR(Get(path, root, "model", &c->model));
  LOTE_RETURN_IF_ERROR(Get(path, root, "registry", &c->registry));
  LOTE_RETURN_IF_ERROR(Get(path, root, "catalog", &c->catalog));
  LOTE_RETURN_IF_ERROR(Get(path, root, "text_field", &p.text_field));
  LOTE_RETURN_IF_ERROR(Get(path, root, "id_field", &p.id_field));
  LOTE_RETURN_IF_ERROR(Get(path, root, "threads", &p.threads));
  LOTE_RETURN_IF_ERROR(Get(path, root, "log_format", &c->log_format));
  LOTE_RETURN_IF_ERROR(Get(path, root, "strict", &c->strict));
  LOTE_RETURN_IF_ERROR(Get(path, root, "force", &p.force));
  LOTE_RETURN_IF_ERROR(Get(path, root, "lock_wait_seconds", &p.lock_wait_seconds));
  LOTE_RETURN_IF_ERROR(Get(path, root, "max_record_bytes", &p.max_record_bytes));
  LOTE_RETURN_IF_ERROR(Get(path, root, "follow_symlinks", &p.follow_symlinks));
  if (root["threads"] && (p.threads < 0 || p.threads > kMaxThreads)) {
    return InvalidArgumentError(Where(path, root["threads"]) + ": threads must be between 0 and " +
                                std::to_string(kMaxThreads));
  }
  if (root["max_record_bytes"] &&
      (p.max_record_bytes < (size_t{1} << 10) || p.max_record_bytes > (size_t{1} << 30))) {
    return InvalidArgumentError(Where(path, root["max_record_bytes"]) +
                                ": max_record_bytes must be between 1024 and 1073741824");
  }
  if (root["lock_wait_seconds"] && p.lock_wait_seconds < 0) {
    return InvalidArgumentError(Where(path, root["lock_wait_seconds"]) +
                                ": lock_wait_seconds must be >= 0");
  }
  if (const YAML::Node prep = root["prep"]) {
    LOTE_RETURN_IF_ERROR(
        CheckKeys(path, prep, "prep",
                  {"invalid_utf8", "strip_html", "strip_control", "unicode_nfc",
                   "collapse_whitespace", "max_chars", "over_long", "detect_language",
                   "short_text_chars", "dedup_record_id", "dedup_content", "part_bytes"}));
    auto& o = p.prep;
    std::string utf8, over_long;
    LOTE_RETURN_IF_ERROR(Get(path, prep, "invalid_utf8", &utf8));
    if (!utf8.empty()) {
      auto v = pipeline::ParseInvalidUtf8Policy(utf8);
      if (!v.ok())
        return InvalidArgumentError(Where(path, prep["invalid_utf8"]) + ": " +
                                    v.status().message());
      o.invalid_utf8 = *v;
    }
    LOTE_RETURN_IF_ERROR(Get(path, prep, "over_long", &over_long));
    if (!over_long.empty()) {
      auto v = pipeline::ParseOverLongPolicy(over_long);
      if (!v.ok())
        return InvalidArgumentError(Where(path, prep["over_long"]) + ": " + v.status().message());
      o.over_long = *v;
    }
    LOTE_RETURN_IF_ERROR(Get(path, prep, "strip_html", &o.strip_html));
    LOTE_RETURN_IF_ERROR(Get(path, prep, "strip_control", &o.strip_control));
    LOTE_RETURN_IF_ERROR(Get(path, prep, "unicode_nfc", &o.unicode_nfc));
    LOTE_RETURN_IF_ERROR(Get(path, prep, "collapse_whitespace", &o.collapse_whitespace));
    LOTE_RETURN_IF_ERROR(Get(path, prep, "max_chars", &o.max_chars));
    LOTE_RETURN_IF_ERROR(Get(path, prep, "detect_language", &o.detect_language));
    LOTE_RETURN_IF_ERROR(Get(path, prep, "short_text_chars", &o.short_text_chars));
    LOTE_RETURN_IF_ERROR(Get(path, prep, "dedup_record_id", &o.dedup_record_id));
    LOTE_RETURN_IF_ERROR(Get(path, prep, "dedup_content", &o.dedup_content));
    LOTE_RETURN_IF_ERROR(Get(path, prep, "part_bytes", &p.prep_part_bytes));
    if (prep["part_bytes"] && (p.prep_part_bytes < 1024 || p.prep_part_bytes > (64ull << 20))) {
      return InvalidArgumentError(Where(path, prep["part_bytes"]) +
                                  ": prep.part_bytes must be from 1024 to 67108864");
    }
  }
  if (const YAML::Node infer = root["infer"]) {
    LOTE_RETURN_IF_ERROR(CheckKeys(
        path, infer, "infer", {"top_k", "classify", "extract", "reference_date", "batch_records"}));
    LOTE_RETURN_IF_ERROR(Get(path, infer, "top_k", &c->engine.top_k));
    LOTE_RETURN_IF_ERROR(Get(path, infer, "classify", &c->engine.classify));
    LOTE_RETURN_IF_ERROR(Get(path, infer, "extract", &c->engine.extract));
    LOTE_RETURN_IF_ERROR(Get(path, infer, "reference_date", &c->engine.reference_date));
    LOTE_RETURN_IF_ERROR(Get(path, infer, "batch_records", &p.batch_records));
    if (infer["top_k"] && (c->engine.top_k < 1 || c->engine.top_k > 1000)) {
      return InvalidArgumentError(Where(path, infer["top_k"]) +
                                  ": top_k must be between 1 and 1000");
    }
    if (infer["batch_records"] && p.batch_records == 0) {
      return InvalidArgumentError(Where(path, infer["batch_records"]) +
                                  ": batch_records must be > 0");
    }
    if (!c->engine.reference_date.empty() &&
        !extract::CivilDate::FromIso(c->engine.reference_date).ok()) {
      return InvalidArgumentError(Where(path, infer["reference_date"]) +
                                  ": reference_date must be a date YYYY-MM-DD");
    }
  }
  if (const YAML::Node pii = root["pii"]) {
    LOTE_RETURN_IF_ERROR(CheckKeys(path, pii, "pii", {"mode", "types", "key_file"}));
    LOTE_RETURN_IF_ERROR(Get(path, pii, "mode", &c->engine.pii_mode));
    LOTE_RETURN_IF_ERROR(Get(path, pii, "types", &c->engine.pii_types));
    LOTE_RETURN_IF_ERROR(Get(path, pii, "key_file", &c->pii_key_file));
    if (pii["mode"] && !bundle::ParsePiiPolicy(c->engine.pii_mode).ok()) {
      return InvalidArgumentError(Where(path, pii["mode"]) +
                                  ": pii mode must be none, mask, type or hash");
    }
  }
  if (const YAML::Node mon = root["monitoring"]) {
    LOTE_RETURN_IF_ERROR(
        CheckKeys(path, mon, "monitoring",
                  {"enabled", "small_batch", "replicates", "alpha_warn", "alpha_drift",
                   "min_js_distance", "min_wasserstein", "alarms"}));
    monitoring::DriftOptions& d = p.drift;
    LOTE_RETURN_IF_ERROR(Get(path, mon, "enabled", &p.monitor));
    LOTE_RETURN_IF_ERROR(Get(path, mon, "small_batch", &d.small_batch));
    LOTE_RETURN_IF_ERROR(Get(path, mon, "replicates", &d.replicates));
    LOTE_RETURN_IF_ERROR(Get(path, mon, "alpha_warn", &d.alpha_warn));
    LOTE_RETURN_IF_ERROR(Get(path, mon, "alpha_drift", &d.alpha_drift));
    LOTE_RETURN_IF_ERROR(Get(path, mon, "min_js_distance", &d.min_js_distance));
    LOTE_RETURN_IF_ERROR(Get(path, mon, "min_wasserstein", &d.min_wasserstein));
    if (d.replicates < 50 || d.replicates > 100000) {
      return InvalidArgumentError(Where(path, mon) +
                                  ": monitoring.replicates must be between 50 and 100000");
    }
    if (!(d.alpha_drift > 0 && d.alpha_drift <= d.alpha_warn && d.alpha_warn < 1)) {
      return InvalidArgumentError(Where(path, mon) +
                                  ": monitoring needs 0 < alpha_drift <= alpha_warn < 1");
    }
    if (d.min_js_distance < 0 || d.min_wasserstein < 0) {
      return InvalidArgumentError(Where(path, mon) + ": monitoring's effect floors must be >= 0");
    }
    if (const YAML::Node alarms = mon["alarms"]) {
      if (!alarms.IsSequence()) {
        return InvalidArgumentError(Where(path, alarms) + ": monitoring.alarms must be a list");
      }
      if (alarms.size() > 50) {
        return InvalidArgumentError(Where(path, alarms) + ": at most 50 monitoring.alarms");
      }
      p.alarms.clear();
      for (const YAML::Node& a : alarms) {
        LOTE_RETURN_IF_ERROR(CheckKeys(path, a, "monitoring.alarms",
                                       {"name", "signal", "band", "below", "consecutive_runs"}));
        monitoring::AlarmRule rule;
        LOTE_RETURN_IF_ERROR(Get(path, a, "name", &rule.name));
        LOTE_RETURN_IF_ERROR(Get(path, a, "signal", &rule.signal));
        LOTE_RETURN_IF_ERROR(Get(path, a, "band", &rule.band));
        if (a["below"]) {
          double below = 0;
          LOTE_RETURN_IF_ERROR(Get(path, a, "below", &below));
          rule.below = below;
        }
        LOTE_RETURN_IF_ERROR(Get(path, a, "consecutive_runs", &rule.consecutive_runs));
        if (Status valid = monitoring::ValidateAlarmRule(rule); !valid.ok()) {
          return InvalidArgumentError(Where(path, a) + ": " + valid.message());
        }
        for (const auto& other : p.alarms) {
          if (other.name == rule.name) {
            return InvalidArgumentError(Where(path, a) + ": two monitoring.alarms named '" +
                                        rule.name + "'");
          }
        }
        p.alarms.push_back(std::move(rule));
      }
    }
  }
  if (const YAML::Node pub = root["publish"]) {
    LOTE_RETURN_IF_ERROR(CheckKeys(path, pub, "publish", {"max_part_bytes", "zstd_level"}));
    LOTE_RETURN_IF_ERROR(Get(path, pub, "max_part_bytes", &p.max_part_bytes));
    LOTE_RETURN_IF_ERROR(Get(path, pub, "zstd_level", &p.zstd_level));
  }
  if (const YAML::Node st = root["storage"]) {
    LOTE_RETURN_IF_ERROR(CheckKeys(path, st, "storage", {"s3"}));
    if (const YAML::Node s3 = st["s3"]) {
      LOTE_RETURN_IF_ERROR(
          CheckKeys(path, s3, "storage.s3",
                    {"endpoint", "region", "addressing", "sse", "kms_key_id",
                     "multipart_threshold_bytes", "part_bytes", "upload_concurrency",
                     "read_part_bytes", "read_ahead_ranges", "max_attempts", "max_retry_seconds",
                     "request_timeout_seconds", "lock_ttl_seconds", "lock_renew_seconds"}));
      storage::S3StorageOptions o;
      LOTE_RETURN_IF_ERROR(Get(path, s3, "endpoint", &o.endpoint));
      LOTE_RETURN_IF_ERROR(Get(path, s3, "region", &o.region));
      LOTE_RETURN_IF_ERROR(Get(path, s3, "addressing", &o.addressing));
      LOTE_RETURN_IF_ERROR(Get(path, s3, "sse", &o.sse));
      LOTE_RETURN_IF_ERROR(Get(path, s3, "kms_key_id", &o.kms_key_id));
      LOTE_RETURN_IF_ERROR(
          Get(path, s3, "multipart_threshold_bytes", &o.multipart_threshold_bytes));
      LOTE_RETURN_IF_ERROR(Get(path, s3, "part_bytes", &o.part_bytes));
      LOTE_RETURN_IF_ERROR(Get(path, s3, "upload_concurrency", &o.upload_concurrency));
      LOTE_RETURN_IF_ERROR(Get(path, s3, "read_part_bytes", &o.read_part_bytes));
      LOTE_RETURN_IF_ERROR(Get(path, s3, "read_ahead_ranges", &o.read_ahead_ranges));
      LOTE_RETURN_IF_ERROR(Get(path, s3, "max_attempts", &o.max_attempts));
      LOTE_RETURN_IF_ERROR(Get(path, s3, "max_retry_seconds", &o.max_retry_seconds));
      LOTE_RETURN_IF_ERROR(Get(path, s3, "request_timeout_seconds", &o.request_timeout_seconds));
      LOTE_RETURN_IF_ERROR(Get(path, s3, "lock_ttl_seconds", &o.lock_ttl_seconds));
      LOTE_RETURN_IF_ERROR(Get(path, s3, "lock_renew_seconds", &o.lock_renew_seconds));
      // Checked here so a bad value names the file; the storage itself is built on first use.
      Status valid = storage::NewS3Storage(o).status();
      if (!valid.ok()) return InvalidArgumentError(Where(path, s3) + ": " + valid.message());
      c->s3 = std::move(o);
    }
  }
  return Status::Ok();
}

namespace {

std::string FormatDuration(double s) {
  char buf[32];
  if (s < 0 || s > 1e7) return "?";
  if (s >= 3600) {
    std::snprintf(buf, sizeof(buf), "%dh%02dm", static_cast<int>(s / 3600),
                  static_cast<int>(s / 60) % 60);
  } else {
    std::snprintf(buf, sizeof(buf), "%dm%02ds", static_cast<int>(s / 60), static_cast<int>(s) % 60);
  }
  return buf;
}

}  // namespace

void AddPipelineFlags(CLI::App* cmd, const FlagSet& set, PipelineFlags* f) {
  if (set.input)
    cmd->add_option("--input", f->input,
                    "Input folder, prefix, object or glob (a path, file:// or s3://)");
  cmd->add_option("--output", f->output, "Output folder or prefix (a path, file:// or s3://)");
  cmd->add_option("--config", f->config, "YAML config (see config/pipeline.yaml)");
  cmd->add_option("--catalog", f->catalog,
                  "SQLite catalog (default OUTPUT/_catalog/lote.db; for an s3:// output a local "
                  "cache of its ledger, default ~/.cache/lote/catalogs/)");
  cmd->add_option("--log-format", f->log_format, "text | json");
  cmd->add_option("--lock-wait", f->lock_wait, "Seconds to wait for another run's lock")
      ->check(CLI::Range(0.0, 86400.0));
  cmd->add_flag("--force", f->force, "Reprocess objects already done");
  AddMetricsFlag(cmd, &f->metrics);
  if (set.model) {
    cmd->add_option("--model", f->model,
                    "Model file, or models:/NAME/VERSION or models:/NAME@ALIAS in the registry");
    cmd->add_option("--registry", f->registry,
                    "Registry for models:/ URIs (default: the config's registry, $LOTE_REGISTRY)");
    cmd->add_option("--shadow", f->shadow,
                    "Also score every record with this model (a file or "
                    "models:/NAME@challenger): its predictions go to OUTPUT/shadow/, its "
                    "agreement with --model into the monitoring report");
    AddThreadsFlag(cmd, &f->threads, "Inference threads");
    cmd->add_option("--pii-mode", f->pii_mode,
                    "How personal data is written: none | mask | type | hash (keyed)")
        ->check(CLI::IsMember({"none", "mask", "type", "hash"}));
    cmd->add_option("--pii-types", f->pii_types,
                    "Comma-separated entity types treated as personal (default: the pattern "
                    "types, PER and the model's personal types)");
    AddReferenceDateFlag(cmd, &f->reference_date);
  }
  if (set.model || set.prep) {
    cmd->add_option("--pii-key-file", f->pii_key_file,
                    "Secret key (>= 16 bytes) for --pii-mode hash and for the keyed text "
                    "fingerprints text_hmac (default: the LOTE_PII_KEY environment variable)");
  }
  if (set.prep || (set.input && set.model)) AddMaxRecordBytesFlag(cmd, &f->max_record_bytes);
  if (set.input) {
    cmd->add_flag("--follow-symlinks", f->follow_symlinks,
                  "Read files that are symlinks to somewhere outside the input folder");
  }
}

void UseS3Options(const storage::S3StorageOptions& options) {
  // Credentials still come from the standard chain.
  storage::RegisterStorage("s3", [options]() -> Result<std::shared_ptr<storage::Storage>> {
    static std::mutex mu;
    static std::shared_ptr<storage::Storage> s3;
    std::lock_guard<std::mutex> lock(mu);
    if (!s3) {
      LOTE_ASSIGN_OR_RETURN(s3, storage::NewS3Storage(options));
    }
    return s3;
  });
}

int ResolveRunConfig(const PipelineFlags& f, const FlagSet& set, RunConfig* c) {
  if (!f.config.empty()) {
    Status s = LoadRunConfig(f.config, c);
    if (!s.ok()) {
      std::fprintf(stderr, "lote: bad config: %s\n", text::EscapeControl(s.message()).c_str());
      return kExitUsage;
    }
  }
  if (c->s3) UseS3Options(*c->s3);
  if (!f.input.empty()) c->input = f.input;
  if (!f.output.empty()) c->output = f.output;
  if (!f.model.empty()) c->model = f.model;
  if (!f.shadow.empty()) c->shadow = f.shadow;
  if (!f.registry.empty()) c->registry = f.registry;
  if (!f.catalog.empty()) c->catalog = f.catalog;
  if (!f.log_format.empty()) c->log_format = f.log_format;
  if (!f.pii_mode.empty()) c->engine.pii_mode = f.pii_mode;
  if (!f.pii_types.empty()) {
    auto types = ParseTypeList(f.pii_types, "--pii-types");
    if (!types.ok()) return FailUsage(types.status().message());
    c->engine.pii_types = *types;
  }
  if (!f.pii_key_file.empty()) c->pii_key_file = f.pii_key_file;
  if (!f.reference_date.empty()) c->engine.reference_date = f.reference_date;
  if (f.threads > 0) c->pipeline.threads = f.threads;
  if (f.max_record_bytes > 0) c->pipeline.max_record_bytes = f.max_record_bytes;
  c->pipeline.follow_symlinks |= f.follow_symlinks;
  if (f.lock_wait >= 0) c->pipeline.lock_wait_seconds = f.lock_wait;
  c->pipeline.force |= f.force;
  c->strict |= f.strict;
  if (c->output.empty() || (set.input && c->input.empty()) || (set.model && c->model.empty())) {
    std::fprintf(stderr, "lote: needs --output%s%s (flags or config)\n",
                 set.input ? ", --input" : "", set.model ? ", --model" : "");
    return kExitUsage;
  }
  if (c->log_format != "text" && c->log_format != "json") {
    std::fprintf(stderr, "lote: --log-format must be text or json\n");
    return kExitUsage;
  }
  c->pipeline.input_uri = c->input;
  c->pipeline.output_uri = c->output;
  c->pipeline.catalog_path = c->catalog;
  c->pipeline.threads = ResolveThreads(c->pipeline.threads);
  if (set.model || set.prep) {
    // One key for both uses: the pseudonyms of --pii-mode hash and the text fingerprints.
    auto key = LoadPiiKey(c->pii_key_file);
    if (!key.ok()) {
      return key.status().code() == StatusCode::kInvalidArgument ? FailUsage(key.status().message())
                                                                 : Fail(key.status());
    }
    c->pipeline.fingerprint_key = *key;
    c->engine.pii_key = *key;
  }
  if (!set.model) return kExitOk;
  if (c->engine.reference_date.empty()) {
    c->engine.reference_date = FormatDate(SystemClock()->NowMicros());
  }
  if (c->engine.pii_mode == "hash" && c->engine.pii_key.empty()) {
    return FailUsage("pii mode hash needs a key: --pii-key-file FILE or LOTE_PII_KEY");
  }
  return kExitOk;
}

Result<std::shared_ptr<const pipeline::InferenceEngine>> LoadEngine(const RunConfig& c) {
  std::string source;
  LOTE_ASSIGN_OR_RETURN(std::string bytes, ReadModelBytes(c.model, &source, c.registry));
  return pipeline::LoadInferenceEngine(bytes, source, c.engine);
}

Result<std::shared_ptr<const pipeline::InferenceEngine>> LoadShadowEngine(
    const RunConfig& c, const pipeline::InferenceEngine& champion) {
  RunConfig sc = c;
  sc.model = c.shadow;
  LOTE_ASSIGN_OR_RETURN(auto shadow, LoadEngine(sc));
  if (shadow->model_version() == champion.model_version()) {
    return InvalidArgumentError("--shadow: the shadow model is the model itself (" +
                                champion.model_version() + ")");
  }
  return shadow;
}

int LoadEngines(RunConfig* c, std::shared_ptr<const pipeline::InferenceEngine>* engine) {
  auto champion = LoadEngine(*c);
  if (!champion.ok()) return Fail(champion.status());
  *engine = *champion;
  if (c->shadow.empty()) return kExitOk;
  auto shadow = LoadShadowEngine(*c, **champion);
  if (!shadow.ok()) {
    // A shadow that cannot be one (the model itself, a malformed URI) is a bad flag value.
    return shadow.status().code() == StatusCode::kInvalidArgument
               ? FailUsage(shadow.status().message())
               : Fail(shadow.status());
  }
  c->pipeline.shadow = *shadow;
  return kExitOk;
}

PipelineConsole::PipelineConsole(RunConfig* c)
    : json_(c->log_format == "json"), last_plain_(SystemClock()->MonotonicNanos()) {
  tty_ = !json_ && ::isatty(2);
  auto& p = c->pipeline;
  p.log = [this](pipeline::LogLevel level, std::string_view msg) {
    std::lock_guard<std::mutex> lock(mu_);
    const char* lv = level == pipeline::LogLevel::kError     ? "error"
                     : level == pipeline::LogLevel::kWarning ? "warning"
                                                             : "info";
    if (json_) {
      std::string line = "{\"level\":\"";
      line += lv;
      line += "\",\"msg\":";
      AppendJsonString(&line, text::ReplaceInvalidUtf8(msg));
      line += "}\n";
      std::fputs(line.c_str(), stderr);
    } else {
      if (tty_) std::fputs("\r\033[K", stderr);
      std::fprintf(stderr, "lote: %s: %s\n", lv, text::EscapeControl(msg).c_str());
    }
  };
  p.progress_interval_s = tty_ ? 0.25 : 1.0;
  p.on_progress = [this](const pipeline::Progress& pr) {
    std::lock_guard<std::mutex> lock(mu_);
    const double rate = pr.elapsed_s > 0 ? pr.records_in / pr.elapsed_s : 0;
    const double frac = pr.bytes_total ? static_cast<double>(pr.bytes_done) / pr.bytes_total : 0;
    const double eta = frac > 0.001 ? pr.elapsed_s * (1 - frac) / frac : -1;
    if (json_) {
      std::fprintf(stderr,
                   "{\"level\":\"progress\",\"records_in\":%llu,\"records_per_s\":%.0f,"
                   "\"fraction\":%.4f,\"eta_s\":%.1f}\n",
                   static_cast<unsigned long long>(pr.records_in), rate, frac, eta);
      return;
    }
    if (tty_) {
      const int width = 30;
      const int filled = static_cast<int>(frac * width);
      std::fprintf(stderr, "\r\033[K[%.*s%*s] %3.0f%% %llu records, %.0f rec/s, ETA %s", filled,
                   "##############################", width - filled, "", frac * 100,
                   static_cast<unsigned long long>(pr.records_in), rate,
                   FormatDuration(eta).c_str());
      return;
    }
    const int64_t now = SystemClock()->MonotonicNanos();
    if (now - last_plain_ < int64_t{10} * 1000000000) return;
    last_plain_ = now;
    std::fprintf(stderr, "lote: progress %.0f%% %llu records %.0f rec/s ETA %s\n", frac * 100,
                 static_cast<unsigned long long>(pr.records_in), rate, FormatDuration(eta).c_str());
  };
}

void PipelineConsole::Finish() {
  if (tty_) std::fputs("\r\033[K", stderr);
}

void PrintMonitoringLine(const monitoring::MonitoringReport& m, std::string_view uri) {
  std::string drifted;
  for (const auto& s : m.signals) {
    if (s.band == monitoring::Band::kOk) continue;
    drifted +=
        (drifted.empty() ? " (" : ", ") + s.name + " " + std::string(monitoring::BandName(s.band));
  }
  if (!drifted.empty()) drifted += ")";
  std::printf("monitoring: %s%s", m.verdict.c_str(), drifted.c_str());
  if (m.estimated_accuracy) {
    std::printf("; estimated accuracy %.3f [%.3f, %.3f]", m.estimated_accuracy->value,
                m.estimated_accuracy->low, m.estimated_accuracy->high);
  }
  std::printf("; %s\n", text::EscapeControl(uri).c_str());
}

void PrintRunSummary(const pipeline::RunReport& r, bool json) {
  const double rate = r.wall_s > 0 ? r.counts.records_in / r.wall_s : 0;
  if (json) {
    nlohmann::ordered_json j;
    j["run_id"] = r.run_id;
    j["resumed"] = r.resumed;
    j["model_version"] = r.model_version;
    j["preprocess_version"] = r.preprocess_version;
    j["records_in"] = r.counts.records_in;
    j["records_out"] = r.counts.records_out;
    j["records_quarantined"] = r.counts.records_quarantined;
    j["records_duplicate"] = r.counts.records_duplicate;
    j["objects_listed"] = r.objects_listed;
    j["objects_processed"] = r.objects_processed;
    j["objects_skipped"] = r.objects_skipped;
    j["wall_s"] = r.wall_s;
    j["records_per_s"] = rate;
    j["stages_s"] = {{"ingest", r.stages.ingest_s},
                     {"prep", r.stages.prep_s},
                     {"infer", r.stages.infer_s},
                     {"publish", r.stages.publish_s},
                     {"catalog", r.stages.catalog_s}};
    j["top_labels"] = r.top_labels;
    j["quarantine_reasons"] = r.quarantine_reasons;
    j["manifest"] = r.manifest_uri;
    j["catalog"] = r.catalog_path;
    if (!r.shadow_model_version.empty()) {
      j["shadow"] = {{"model_version", r.shadow_model_version},
                     {"records", r.shadow_records},
                     {"agree", r.shadow_agree}};
    }
    if (!r.monitoring_uri.empty()) {
      // The whole report: a state machine's Choice branches on $.monitoring.verdict or
      // $.monitoring.alarm.
      j["monitoring"] = nlohmann::ordered_json::parse(r.monitoring_json);
      j["monitoring"]["report"] = r.monitoring_uri;
    }
    std::printf("%s\n", j.dump().c_str());
    std::fflush(stdout);
    return;
  }
  if (r.run_id.empty()) {
    std::printf("nothing to publish\n");
    std::fflush(stdout);
    return;
  }
  std::printf("run %s%s  model %s  preprocess %s\n", r.run_id.c_str(),
              r.resumed ? " (resumed)" : "", r.model_version.c_str(), r.preprocess_version.c_str());
  std::printf("objects: %llu listed, %llu processed, %llu already done\n",
              static_cast<unsigned long long>(r.objects_listed),
              static_cast<unsigned long long>(r.objects_processed),
              static_cast<unsigned long long>(r.objects_skipped));
  std::printf("records: %llu in = %llu out + %llu quarantined + %llu duplicate\n",
              static_cast<unsigned long long>(r.counts.records_in),
              static_cast<unsigned long long>(r.counts.records_out),
              static_cast<unsigned long long>(r.counts.records_quarantined),
              static_cast<unsigned long long>(r.counts.records_duplicate));
  std::printf(
      "time: %.2f s (%.0f records/s); ingest %.2f s, prep %.2f s, infer %.2f s, "
      "publish %.2f s, catalog %.2f s\n",
      r.wall_s, rate, r.stages.ingest_s, r.stages.prep_s, r.stages.infer_s, r.stages.publish_s,
      r.stages.catalog_s);
  if (!r.shadow_model_version.empty()) {
    std::printf("shadow %s: %llu records, agrees with the model on %llu (%.1f %%)\n",
                r.shadow_model_version.c_str(), static_cast<unsigned long long>(r.shadow_records),
                static_cast<unsigned long long>(r.shadow_agree),
                r.shadow_records > 0 ? 100.0 * static_cast<double>(r.shadow_agree) /
                                           static_cast<double>(r.shadow_records)
                                     : 0.0);
  }
  if (!r.top_labels.empty()) {
    std::printf("top labels:");
    const size_t n = std::min<size_t>(5, r.top_labels.size());
    for (size_t i = 0; i < n; ++i) {
      std::printf(" %s %llu%s", text::EscapeControl(r.top_labels[i].first).c_str(),
                  static_cast<unsigned long long>(r.top_labels[i].second), i + 1 < n ? "," : "");
    }
    std::printf("\n");
  }
  if (!r.quarantine_reasons.empty()) {
    std::printf("quarantine reasons:\n");
    for (const auto& [reason, n] : r.quarantine_reasons) {
      std::printf("  %6llu  %s\n", static_cast<unsigned long long>(n),
                  text::EscapeControl(reason).c_str());
    }
  }
  if (!r.monitoring_uri.empty()) PrintMonitoringLine(r.monitoring, r.monitoring_uri);
  for (const auto& a : r.alarms) {
    if (a.firing) {
      std::printf("alarm %s: %s in %d consecutive run(s)\n", a.name.c_str(), a.condition.c_str(),
                  a.runs_met);
    }
  }
  std::printf("manifest: %s\ncatalog: %s\n", text::EscapeControl(r.manifest_uri).c_str(),
              text::EscapeControl(r.catalog_path).c_str());
  std::fflush(stdout);
}

int RunExitCode(const RunConfig& config, const pipeline::RunReport& report) {
  return config.strict && report.counts.records_quarantined > 0 ? kExitPartial : kExitOk;
}

void PrintStageSummary(const pipeline::StageReport& r, bool json) {
  const std::string name(pipeline::StageName(r.stage));
  if (json) {
    nlohmann::ordered_json j;
    j["stage"] = name;
    j["objects_pending"] = r.objects_pending;
    j["objects_done"] = r.objects_done;
    j["objects_skipped"] = r.objects_skipped;
    j["records"] = r.records;
    j["records_quarantined"] = r.records_quarantined;
    j["bytes"] = r.bytes;
    j["wall_s"] = r.wall_s;
    std::printf("%s\n", j.dump().c_str());
  } else {
    std::printf(
        "%s: %llu objects handed over, %llu done, %llu already done; %llu records "
        "(%llu quarantined), %llu bytes; %.2f s\n",
        name.c_str(), static_cast<unsigned long long>(r.objects_pending),
        static_cast<unsigned long long>(r.objects_done),
        static_cast<unsigned long long>(r.objects_skipped),
        static_cast<unsigned long long>(r.records),
        static_cast<unsigned long long>(r.records_quarantined),
        static_cast<unsigned long long>(r.bytes), r.wall_s);
  }
  std::fflush(stdout);
}

int FinishFailedJob(JobMetrics* metrics, int64_t start_nanos, int exit_code) {
  if (MetricsSink* sink = metrics->sink()) {
    monitoring::ReportJobFailure({}, SystemClock()->SecondsSince(start_nanos),
                                 SystemClock()->NowMicros(), sink);
    metrics->Finish(false);
  }
  return exit_code;
}

int RunStageCommand(pipeline::Stage stage, const PipelineFlags& f, const FlagSet& set) {
  RunConfig c;
  if (int code = ResolveRunConfig(f, set, &c); code != kExitOk) return code;
  JobMetrics metrics(f.metrics, std::string(pipeline::StageName(stage)));
  const int64_t start = SystemClock()->MonotonicNanos();
  std::shared_ptr<const pipeline::InferenceEngine> engine;
  if (set.model) {
    if (int code = LoadEngines(&c, &engine); code != kExitOk) {
      return FinishFailedJob(&metrics, start, code);
    }
  }
  PipelineConsole console(&c);
  auto report = pipeline::RunStage(stage, c.pipeline, engine);
  console.Finish();
  if (!report.ok()) return FinishFailedJob(&metrics, start, Fail(report.status()));
  PrintStageSummary(*report, console.json());
  if (MetricsSink* sink = metrics.sink()) {
    monitoring::ReportStageMetrics(*report, engine ? engine->model_version() : std::string(),
                                   SystemClock()->NowMicros(), sink);
    metrics.Finish(true);
  }
  return kExitOk;
}

}  // namespace lote::cli
