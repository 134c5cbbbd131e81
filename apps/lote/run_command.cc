// `lote run`: the batch pipeline from raw files to queryable results (ingest -> prep -> infer
// -> publish), exactly once, resumable after a crash. Flags override the YAML config.
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

#include "command.h"
#include "common.h"
#include "lote/io/file_source.h"
#include "lote/text/utf8.h"
#include "pipeline_config.h"

namespace lote::cli {
namespace {

struct RunFlags {
  std::string config, input, output, model, catalog, log_format, pii_mode, pii_key_file;
  std::string reference_date;
  int threads = -1;
  bool force = false, strict = false;
  double lock_wait = -1;
};

std::string TodayUtc() {
  std::time_t t = std::time(nullptr);
  std::tm tm;
  gmtime_r(&t, &tm);
  char buf[16];
  std::strftime(buf, sizeof(buf), "%Y-%m-%d", &tm);
  return buf;
}

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

int Run(const RunFlags& f) {
  RunConfig c;
  if (!f.config.empty()) {
    Status s = LoadRunConfig(f.config, &c);
    if (!s.ok()) {
      std::fprintf(stderr, "lote: bad config: %s\n", s.message().c_str());
      return kExitUsage;
    }
  }
  if (!f.input.empty()) c.input = f.input;
  if (!f.output.empty()) c.output = f.output;
  if (!f.model.empty()) c.model = f.model;
  if (!f.catalog.empty()) c.catalog = f.catalog;
  if (!f.log_format.empty()) c.log_format = f.log_format;
  if (!f.pii_mode.empty()) c.engine.pii_mode = f.pii_mode;
  if (!f.pii_key_file.empty()) c.pii_key_file = f.pii_key_file;
  if (!f.reference_date.empty()) c.engine.reference_date = f.reference_date;
  if (f.threads >= 0) c.pipeline.threads = f.threads;
  if (f.lock_wait >= 0) c.pipeline.lock_wait_seconds = f.lock_wait;
  c.pipeline.force |= f.force;
  c.strict |= f.strict;
  if (c.input.empty() || c.output.empty() || c.model.empty()) {
    std::fprintf(stderr, "lote: run needs --input, --output and --model (flags or config)\n");
    return kExitUsage;
  }
  if (c.log_format != "text" && c.log_format != "json") {
    std::fprintf(stderr, "lote: --log-format must be text or json\n");
    return kExitUsage;
  }
  if (c.engine.reference_date.empty()) c.engine.reference_date = TodayUtc();
  if (c.engine.pii_mode == "hash") {
    if (!c.pii_key_file.empty()) {
      auto key = io::ReadFileToString(c.pii_key_file);
      if (!key.ok()) return Fail(key.status());
      c.engine.pii_key = *key;
      while (!c.engine.pii_key.empty() && (c.engine.pii_key.back() == '\n')) c.engine.pii_key.pop_back();
    } else {
      c.engine.pii_key = EnvOr("LOTE_PII_KEY", "");
    }
    if (c.engine.pii_key.empty()) {
      std::fprintf(stderr, "lote: pii mode hash needs a key: --pii-key-file FILE or LOTE_PII_KEY\n");
      return kExitUsage;
    }
  }

  auto model_bytes = io::ReadFileToString(c.model);
  if (!model_bytes.ok()) return Fail(model_bytes.status());
  auto engine = pipeline::LoadInferenceEngine(*model_bytes, c.model, c.engine);
  if (!engine.ok()) return Fail(engine.status());

  const bool json = c.log_format == "json";
  const bool tty = !json && ::isatty(2);
  std::mutex log_mu;
  auto& p = c.pipeline;
  p.input_uri = c.input;
  p.output_uri = c.output;
  p.catalog_path = c.catalog;
  p.log = [&](pipeline::LogLevel level, std::string_view msg) {
    std::lock_guard<std::mutex> lock(log_mu);
    const char* lv = level == pipeline::LogLevel::kError     ? "error"
                     : level == pipeline::LogLevel::kWarning ? "warning"
                                                             : "info";
    if (json) {
      std::string line = "{\"level\":\"";
      line += lv;
      line += "\",\"msg\":";
      AppendJsonString(&line, text::ReplaceInvalidUtf8(msg));
      line += "}\n";
      std::fputs(line.c_str(), stderr);
    } else {
      if (tty) std::fputs("\r\033[K", stderr);
      std::fprintf(stderr, "lote: %s: %.*s\n", lv, static_cast<int>(msg.size()), msg.data());
    }
  };
  auto last_plain = std::chrono::steady_clock::now();
  p.progress_interval_s = tty ? 0.25 : 1.0;
  p.on_progress = [&](const pipeline::Progress& pr) {
    std::lock_guard<std::mutex> lock(log_mu);
    const double rate = pr.elapsed_s > 0 ? pr.records_in / pr.elapsed_s : 0;
    const double frac = pr.bytes_total ? static_cast<double>(pr.bytes_done) / pr.bytes_total : 0;
    const double eta = frac > 0.001 ? pr.elapsed_s * (1 - frac) / frac : -1;
    if (json) {
      std::fprintf(stderr,
                   "{\"level\":\"progress\",\"records_in\":%llu,\"records_per_s\":%.0f,"
                   "\"fraction\":%.4f,\"eta_s\":%.1f}\n",
                   static_cast<unsigned long long>(pr.records_in), rate, frac, eta);
      return;
    }
    if (tty) {
      const int width = 30;
      const int filled = static_cast<int>(frac * width);
      std::fprintf(stderr, "\r\033[K[%.*s%*s] %3.0f%% %llu records, %.0f rec/s, ETA %s",
                   filled, "##############################", width - filled, "", frac * 100,
                   static_cast<unsigned long long>(pr.records_in), rate, FormatDuration(eta).c_str());
      return;
    }
    const auto now = std::chrono::steady_clock::now();
    if (now - last_plain < std::chrono::seconds(10)) return;
    last_plain = now;
    std::fprintf(stderr, "lote: progress %.0f%% %llu records %.0f rec/s ETA %s\n", frac * 100,
                 static_cast<unsigned long long>(pr.records_in), rate, FormatDuration(eta).c_str());
  };

  auto report = pipeline::RunPipeline(p, *engine);
  if (tty) std::fputs("\r\033[K", stderr);
  if (!report.ok()) return Fail(report.status());
  const auto& r = *report;
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
                     {"publish", r.stages.publish_s}};
    j["top_labels"] = r.top_labels;
    j["quarantine_reasons"] = r.quarantine_reasons;
    j["manifest"] = r.manifest_uri;
    j["catalog"] = r.catalog_path;
    std::printf("%s\n", j.dump().c_str());
  } else {
    std::printf("run %s%s  model %s  preprocess %s\n", r.run_id.c_str(),
                r.resumed ? " (resumed)" : "", r.model_version.c_str(),
                r.preprocess_version.c_str());
    std::printf("objects: %llu listed, %llu processed, %llu already done\n",
                static_cast<unsigned long long>(r.objects_listed),
                static_cast<unsigned long long>(r.objects_processed),
                static_cast<unsigned long long>(r.objects_skipped));
    std::printf("records: %llu in = %llu out + %llu quarantined + %llu duplicate\n",
                static_cast<unsigned long long>(r.counts.records_in),
                static_cast<unsigned long long>(r.counts.records_out),
                static_cast<unsigned long long>(r.counts.records_quarantined),
                static_cast<unsigned long long>(r.counts.records_duplicate));
    std::printf("time: %.2f s (%.0f records/s); ingest %.2f s, prep %.2f s, infer %.2f s, "
                "publish %.2f s\n",
                r.wall_s, rate, r.stages.ingest_s, r.stages.prep_s, r.stages.infer_s,
                r.stages.publish_s);
    if (!r.top_labels.empty()) {
      std::printf("top labels:");
      for (size_t i = 0; i < r.top_labels.size() && i < 5; ++i) {
        std::printf(" %s %llu%s", r.top_labels[i].first.c_str(),
                    static_cast<unsigned long long>(r.top_labels[i].second),
                    i + 1 < std::min<size_t>(5, r.top_labels.size()) ? "," : "");
      }
      std::printf("\n");
    }
    if (!r.quarantine_reasons.empty()) {
      std::printf("quarantine reasons:\n");
      for (const auto& [reason, n] : r.quarantine_reasons) {
        std::printf("  %6llu  %s\n", static_cast<unsigned long long>(n), reason.c_str());
      }
    }
    std::printf("manifest: %s\ncatalog: %s\n", r.manifest_uri.c_str(), r.catalog_path.c_str());
  }
  std::fflush(stdout);
  if (c.strict && r.counts.records_quarantined > 0) return kExitPartial;
  return kExitOk;
}

void SetupRun(CLI::App& root, int* exit_code) {
  auto* cmd = root.add_subcommand("run", "Run the batch pipeline: ingest, prep, infer, publish");
  auto f = std::make_shared<RunFlags>();
  cmd->add_option("--input", f->input, "Input folder, object or glob (file:// or a path)");
  cmd->add_option("--output", f->output, "Output folder (file:// or a path)");
  cmd->add_option("--model", f->model, "Model file");
  cmd->add_option("--config", f->config, "YAML config (see config/pipeline.yaml)");
  cmd->add_option("--catalog", f->catalog, "SQLite catalog (default OUTPUT/_catalog/lote.db)");
  cmd->add_option("--threads", f->threads, "Inference threads (0 = all cores)");
  cmd->add_option("--log-format", f->log_format, "text | json");
  cmd->add_option("--pii-mode", f->pii_mode, "How personal data is written: none|mask|type|hash");
  cmd->add_option("--pii-key-file", f->pii_key_file, "HMAC key for --pii-mode hash");
  cmd->add_option("--reference-date", f->reference_date, "YYYY-MM-DD for relative dates");
  cmd->add_option("--lock-wait", f->lock_wait, "Seconds to wait for another run's lock");
  cmd->add_flag("--force", f->force, "Reprocess objects already done");
  cmd->add_flag("--strict", f->strict, "Exit 4 when any record was quarantined");
  cmd->callback([f, exit_code] { *exit_code = Run(*f); });
}

}  // namespace
LOTE_REGISTER_COMMAND(50, SetupRun);
}  // namespace lote::cli
