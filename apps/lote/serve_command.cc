// `lote serve`: SageMaker's inference container contract (docs/serve.md) over the library's
// InferenceService and HttpServer. Also what the binary does when started as `serve` (a symlink
// named serve, or `docker run IMAGE serve` with lote as the entry point: see main.cc).
#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <optional>
#include <thread>

#include "command.h"
#include "common.h"
#include "flags.h"
#include "flow_cli.h"
#include "lote/base/ascii.h"
#include "lote/base/prometheus.h"
#include "lote/io/file_source.h"
#include "lote/io/records.h"
#include "lote/pipeline/catalog.h"
#include "lote/pipeline/pipeline.h"
#include "lote/serve/dashboard.h"
#include "lote/serve/http_server.h"
#include "lote/serve/inference_service.h"
#include "lote/storage/storage.h"
#include "lote/text/utf8.h"
#include "pipeline_config.h"

namespace lote::cli {
namespace {

// Where SageMaker extracts model.tar.gz in the container.
constexpr const char* kSageMakerModelDir = "/opt/ml/model";
// The largest model file `lote serve` reads out of a tar archive.
constexpr size_t kMaxModelBytes = size_t{2} << 30;

struct ServeFlags {
  std::string model, shadow, host, config, text_field = "text", id_field = "id";
  // The dashboard (docs/dashboard.md): an output's catalog, its assets, its access token.
  std::string output, catalog, dashboard_assets, auth_token_file, registry, flow_history;
  int catalog_refresh_s = 30;
  int port = -1;
  int threads = 0;
  int top_k = 3;
  int csv_text_column = 0, csv_id_column = -1;
  int max_payload_mb = 0;
  size_t max_inflight = 0, max_connections = 256;
  double request_timeout = 60, drain_timeout = 60;
  bool no_prep = false;
  RowFlags rows;
};

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// The one regular file named *.lote inside a tar archive (ustar or GNU headers).
Result<std::string> ModelFromTar(const std::string& path, std::string_view tar) {
  std::string found;
  std::string name_found;
  size_t pos = 0;
  while (pos + 512 <= tar.size()) {
    std::string_view h = tar.substr(pos, 512);
    if (h.find_first_not_of('\0') == std::string_view::npos) break;  // end-of-archive block
    std::string name(h.substr(0, 100).data(), strnlen(h.data(), 100));
    std::string prefix(h.substr(345, 155).data(), strnlen(h.data() + 345, 155));
    if (h.substr(257, 5) == "ustar" && !prefix.empty()) name = prefix + "/" + name;
    std::string size_field(h.substr(124, 12).data(), strnlen(h.data() + 124, 12));
    char* end = nullptr;
    unsigned long long size = std::strtoull(size_field.c_str(), &end, 8);
    if (end == size_field.c_str()) {
      return DataLossError(path + ": not a tar archive (bad header at byte " + std::to_string(pos) +
                           ")");
    }
    char type = h[156];
    pos += 512;
    if (size > tar.size() - pos) return DataLossError(path + ": truncated tar archive");
    if ((type == '0' || type == '\0') && EndsWith(name, ".lote")) {
      if (!name_found.empty()) {
        return InvalidArgumentError(path + ": holds more than one .lote file (" + name_found +
                                    ", " + name + ")");
      }
      name_found = name;
      found.assign(tar.substr(pos, size));
    }
    pos += (size + 511) / 512 * 512;
  }
  if (name_found.empty()) return NotFoundError(path + ": holds no .lote file");
  return found;
}

// A model's bytes and the name errors give it.
struct ServeModel {
  std::string bytes, source;
};

// --model as SageMaker lays it out: a .lote file, a folder holding one, or a .tar.gz holding one.
Result<ServeModel> ReadServeModel(const std::string& path) {
  ServeModel m;
  m.source = path;
  if (EndsWith(path, ".tar.gz") || EndsWith(path, ".tgz") || EndsWith(path, ".tar")) {
    LOTE_ASSIGN_OR_RETURN(auto source, OpenInput(path));
    std::string tar;
    char buf[1 << 16];
    while (true) {
      LOTE_ASSIGN_OR_RETURN(size_t n, source->Read(buf, sizeof buf));
      if (n == 0) break;
      tar.append(buf, n);
      if (tar.size() > kMaxModelBytes) {
        return ResourceExhaustedError(path + ": archive over " + std::to_string(kMaxModelBytes) +
                                      " bytes");
      }
    }
    LOTE_ASSIGN_OR_RETURN(m.bytes, ModelFromTar(path, tar));
    return m;
  }
  std::string file = path;
  if (DIR* dir = ::opendir(path.c_str()); dir != nullptr) {
    std::vector<std::string> models;
    while (dirent* e = ::readdir(dir)) {
      if (EndsWith(e->d_name, ".lote")) models.push_back(path + "/" + e->d_name);
    }
    ::closedir(dir);
    if (models.size() != 1) {
      return NotFoundError(path + ": a model folder must hold exactly one .lote file (found " +
                           std::to_string(models.size()) + ")");
    }
    file = models[0];
  }
  LOTE_ASSIGN_OR_RETURN(m.bytes, ReadModelBytes(file, &m.source));
  return m;
}

// The pipeline's engine over the same bytes: what answers prep parts (Batch Transform's requests
// of the deployed pipeline, docs/adr/0015). With --config, its infer and pii sections, as `lote
// infer --config` uses them (PII flags given to serve win); else the rows' settings.
Result<std::shared_ptr<const pipeline::InferenceEngine>> StageEngine(
    const ServeModel& m, const ServeFlags& f, const serve::InferenceOptions& io,
    const std::optional<pipeline::EngineOptions>& config) {
  pipeline::EngineOptions eo;
  if (config) {
    eo = *config;
  } else {
    eo.top_k = io.rows.top_k;
    eo.pii_mode = "mask";
  }
  if (!f.rows.pii.mode.empty()) eo.pii_mode = f.rows.pii.mode;
  if (!f.rows.pii.types.empty() || !config) eo.pii_types = io.rows.pii_types;
  if (!io.rows.pii_key.empty()) eo.pii_key = io.rows.pii_key;
  if (eo.reference_date.empty() && io.rows.reference_date) {
    eo.reference_date = io.rows.reference_date->ToIso();
  }
  return pipeline::LoadInferenceEngine(m.bytes, m.source, eo);
}

// An integer in [min, max] from the environment, or `fallback`; InvalidArgument naming the
// variable.
Result<int> EnvInt(const char* name, int fallback, int min, int max) {
  std::string v = EnvOr(name, "");
  if (v.empty()) return fallback;
  char* end = nullptr;
  long n = std::strtol(v.c_str(), &end, 10);
  if (*end != '\0' || n < min || n > max) {
    return InvalidArgumentError(std::string(name) + " must be an integer from " +
                                std::to_string(min) + " to " + std::to_string(max));
  }
  return static_cast<int>(n);
}

// The folder of the running binary ("." when /proc does not say).
std::string ExecutableDir() {
  char buf[4096];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return ".";
  std::string path(buf, static_cast<size_t>(n));
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

bool IsLoopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

// The dashboard's routes for --output, or nothing without it. Refuses a non-loopback address
// without a token (usage error: exit 2 through *exit_code).
Result<std::vector<serve::HttpRoute>> DashboardRoutesFor(
    const ServeFlags& f, const std::string& host,
    std::vector<std::pair<std::string, std::string>>* headers) {
  if (f.output.empty()) return std::vector<serve::HttpRoute>();
  serve::DashboardOptions d;
  if (!f.auth_token_file.empty()) {
    LOTE_ASSIGN_OR_RETURN(std::string bytes, io::ReadFileToString(f.auth_token_file));
    LOTE_ASSIGN_OR_RETURN(d.token, ParseKey(bytes, "--auth-token-file " + f.auth_token_file));
  } else if (!IsLoopback(host)) {
    return InvalidArgumentError(
        "--host " + host +
        ": a dashboard reachable from other machines needs --auth-token-file (a secret of at "
        "least 16 bytes); bind 127.0.0.1 to serve this machine only");
  }
  pipeline::PipelineOptions po;
  po.output_uri = f.output;
  po.catalog_path = f.catalog;
  LOTE_ASSIGN_OR_RETURN(po.output_storage, storage::OpenStorage(f.output));
  LOTE_ASSIGN_OR_RETURN(d.catalog_path, pipeline::ReadableCatalogPath(po, {}));
  if (!po.output_storage->is_local() && f.catalog_refresh_s > 0) {
    // The cache of an object store's catalog follows the runs published after start.
    d.refresh = [po] { return pipeline::ReadableCatalogPath(po, {}).status(); };
    d.refresh_interval = std::chrono::seconds(f.catalog_refresh_s);
    d.log = [](const std::string& line) {
      std::fprintf(stderr, "lote serve: %s\n", text::EscapeControl(line).c_str());
    };
  }
  d.assets_dir = !f.dashboard_assets.empty() ? f.dashboard_assets : ExecutableDir() + "/dashboard";
  d.registry_uri = !f.registry.empty() ? f.registry : EnvOr("LOTE_REGISTRY", "");
  if (!f.flow_history.empty()) {
    // Read only in effect: the dashboard only reads executions (an SQLite file is opened as
    // `lote flow history` opens it).
    struct stat st;
    if (f.flow_history.find("://") == std::string::npos &&
        ::stat(f.flow_history.c_str(), &st) != 0) {
      return NotFoundError("--flow-history " + f.flow_history + ": no such file");
    }
    HistoryFlags h;
    h.history = f.flow_history;
    LOTE_ASSIGN_OR_RETURN(auto history, OpenHistory(h));
    d.flow_history = std::move(history);
  }
  // A page computes a few aggregates; a statement past these bounds fails the request.
  d.query.time_budget = std::chrono::milliseconds(10'000);
  d.query.max_rows = 10'000;
  d.query.max_result_bytes = size_t{16} << 20;
  *headers = serve::SecurityHeaders();
  return serve::DashboardRoutes(d);
}

int RunServe(const ServeFlags& f, const PiiSettings& pii) {
  // SageMaker's container contract: its variables set the defaults, flags win.
  auto env_port = EnvInt("SAGEMAKER_BIND_TO_PORT", 8080, 0, 65535);
  auto env_payload = EnvInt("SAGEMAKER_MAX_PAYLOAD_IN_MB", 6, 1, 100);
  auto env_concurrency = EnvInt("SAGEMAKER_MAX_CONCURRENT_TRANSFORMS", 0, 1, 256);  // 0: unset
  for (const auto* r : {&env_port, &env_payload, &env_concurrency}) {
    if (!r->ok()) return Fail(r->status());
  }
  std::string strategy = EnvOr("SAGEMAKER_BATCH_STRATEGY", "MULTI_RECORD");
  for (char& c : strategy) c = AsciiUpper(c);
  if (strategy == "MULTIRECORD") strategy = "MULTI_RECORD";
  if (strategy == "SINGLERECORD") strategy = "SINGLE_RECORD";
  if (strategy != "MULTI_RECORD" && strategy != "SINGLE_RECORD") {
    return FailUsage("SAGEMAKER_BATCH_STRATEGY must be MULTI_RECORD or SINGLE_RECORD");
  }

  // --output alone serves the dashboard without a model; SageMaker's layout is --model unset
  // and no --output.
  const bool serve_model = f.output.empty() || !f.model.empty();
  const bool sagemaker_layout = f.model.empty() && f.output.empty();
  const std::string model_path = sagemaker_layout ? kSageMakerModelDir : f.model;
  serve::InferenceOptions io;
  io.rows.top_k = f.top_k;
  ApplyRowFlags(f.rows, pii, &io.rows);
  io.prep = !f.no_prep;
  std::optional<pipeline::EngineOptions> config_engine;
  if (!f.config.empty()) {
    RunConfig config;
    Status s = LoadRunConfig(f.config, &config);
    if (!s.ok()) return FailUsage(s.message());
    io.prep_options = config.pipeline.prep;
    config_engine = config.engine;
    if (!config.pii_key_file.empty() && io.rows.pii_key.empty()) {
      auto key = LoadPiiKey(config.pii_key_file);
      if (!key.ok()) return Fail(key.status());
      config_engine->pii_key = *key;
    }
  }
  io.text_field = f.text_field;
  io.id_field = f.id_field;
  io.csv_text_column = f.csv_text_column;
  io.csv_id_column = f.csv_id_column;
  io.max_record_bytes = f.rows.max_record_bytes;
  const int threads = f.threads > 0          ? f.threads
                      : *env_concurrency > 0 ? *env_concurrency
                                             : ResolveThreads(0);
  io.max_concurrent_transforms = threads;
  io.batch_strategy = strategy;
  io.max_payload_mb = f.max_payload_mb > 0 ? f.max_payload_mb : *env_payload;

  auto registry = std::make_shared<PrometheusRegistry>();
  serve::DeclareServeMetrics(registry.get());
  PrometheusRegistry* reg = registry.get();
  serve::InferenceService service(io, registry, [reg] { return reg->Render(); });

  serve::HttpServerOptions so;
  // A workstation binds loopback; SageMaker's layout (no --model) is a container, reached from
  // outside it.
  so.host = !f.host.empty() ? f.host : sagemaker_layout ? "0.0.0.0" : "127.0.0.1";
  so.port = f.port >= 0 ? f.port : *env_port;
  so.worker_threads = threads;
  so.max_inflight = f.max_inflight > 0 ? f.max_inflight : static_cast<size_t>(threads) * 4;
  so.max_connections = f.max_connections;
  so.max_body_bytes = static_cast<size_t>(io.max_payload_mb) << 20;
  so.request_timeout_seconds = f.request_timeout;
  so.write_timeout_seconds = f.request_timeout;
  so.drain_timeout_seconds = f.drain_timeout;

  // SIGTERM and SIGINT are taken by sigwait below: blocked before any thread starts, so that no
  // server thread receives them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto dashboard = DashboardRoutesFor(f, so.host, &so.response_headers);
  if (!dashboard.ok()) {
    return dashboard.status().code() == StatusCode::kInvalidArgument
               ? FailUsage(dashboard.status().message())
               : Fail(dashboard.status());
  }
  std::vector<serve::HttpRoute> routes = std::move(*dashboard);
  if (serve_model) {
    for (auto& r : service.Routes()) routes.push_back(std::move(r));
  }
  auto server = serve::HttpServer::Start(so, std::move(routes), registry);
  if (!server.ok()) return Fail(server.status());
  std::fprintf(stderr, "lote serve: listening on %s:%d, %d worker thread(s)\n", so.host.c_str(),
               (*server)->port(), threads);
  if (!f.output.empty()) {
    std::fprintf(stderr, "lote serve: dashboard of %s at http://%s:%d/\n",
                 text::EscapeControl(f.output).c_str(), so.host.c_str(), (*server)->port());
  }
  if (serve_model) {
    std::fprintf(stderr, "lote serve: loading %s\n", text::EscapeControl(model_path).c_str());
    // /ping answers 503 until the model is in.
    // A shadow (--shadow, else LOTE_SHADOW_MODEL: what a transform job's Environment sets):
    // a model file, a folder or .tar.gz holding one, or a models:/ URI (LOTE_REGISTRY).
    const std::string shadow_path = !f.shadow.empty() ? f.shadow : EnvOr("LOTE_SHADOW_MODEL", "");
    Status loaded = [&]() -> Status {
      std::shared_ptr<const pipeline::InferenceEngine> stage_shadow;
      if (!shadow_path.empty()) {
        std::fprintf(stderr, "lote serve: loading the shadow %s\n",
                     text::EscapeControl(shadow_path).c_str());
        LOTE_ASSIGN_OR_RETURN(ServeModel shadow, ReadServeModel(shadow_path));
        LOTE_ASSIGN_OR_RETURN(bundle::Model loaded, bundle::LoadModel(shadow.bytes, shadow.source));
        LOTE_RETURN_IF_ERROR(service.LoadShadowModel(std::move(loaded)));
        LOTE_ASSIGN_OR_RETURN(stage_shadow, StageEngine(shadow, f, io, config_engine));
      }
      LOTE_ASSIGN_OR_RETURN(ServeModel model, ReadServeModel(model_path));
      LOTE_ASSIGN_OR_RETURN(auto engine, StageEngine(model, f, io, config_engine));
      service.LoadStageEngines(std::move(engine), std::move(stage_shadow));
      LOTE_ASSIGN_OR_RETURN(bundle::Model loaded, bundle::LoadModel(model.bytes, model.source));
      return service.LoadModel(std::move(loaded));
    }();
    if (!loaded.ok()) {
      (*server)->Shutdown();
      (*server)->Wait();
      return Fail(loaded);
    }
    std::fprintf(stderr, "lote serve: ready, model %s, preprocess_version %s\n",
                 service.model_version().c_str(),
                 service.preprocess_version().empty() ? "none (prep off)"
                                                      : service.preprocess_version().c_str());
    if (!service.shadow_version().empty()) {
      std::fprintf(stderr, "lote serve: shadow %s scores every record too\n",
                   service.shadow_version().c_str());
    }
  }
  int sig = 0;
  sigwait(&signals, &sig);
  std::fprintf(stderr, "lote serve: %s: draining in-flight requests\n",
               sig == SIGTERM ? "SIGTERM" : "SIGINT");
  (*server)->Shutdown();
  (*server)->Wait();
  std::fprintf(stderr, "lote serve: stopped\n");
  return kExitOk;
}

void SetupServe(CLI::App& root, int* exit_code) {
  auto* cmd = root.add_subcommand(
      "serve", "Serve a model over HTTP: SageMaker's inference container (/ping, /invocations)");
  auto f = std::make_shared<ServeFlags>();
  cmd->add_option("--model", f->model,
                  "Model: a .lote file, a folder holding one, or a .tar.gz holding one "
                  "(default: /opt/ml/model, where SageMaker puts it)");
  cmd->add_option("--shadow", f->shadow,
                  "A second classifier scoring every record too (a challenger): each row gains "
                  "\"shadow\": {model_version, label, score, agree} (default: "
                  "$LOTE_SHADOW_MODEL; a file, a folder or .tar.gz holding one, or models:/)");
  cmd->add_option("--host", f->host,
                  "Address to bind (default: 127.0.0.1; 0.0.0.0 with SageMaker's /opt/ml/model)");
  cmd->add_option("--port", f->port, "Port (default: SAGEMAKER_BIND_TO_PORT, else 8080)")
      ->check(CLI::Range(0, 65535));
  AddThreadsFlag(cmd, &f->threads,
                 "Worker threads, reported as MaxConcurrentTransforms (default: "
                 "SAGEMAKER_MAX_CONCURRENT_TRANSFORMS, else the usable CPUs)");
  cmd->add_option("--max-payload-mb", f->max_payload_mb,
                  "Largest request body in MiB (default: SAGEMAKER_MAX_PAYLOAD_IN_MB, else 6)")
      ->check(CLI::Range(1, 100));
  cmd->add_option("--max-inflight", f->max_inflight,
                  "Inference requests queued or running before 503 (default: 4 x threads)")
      ->check(CLI::Range(1, 100000));
  cmd->add_option("--max-connections", f->max_connections, "Open connections before 503")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  cmd->add_option("--request-timeout", f->request_timeout,
                  "Seconds a client has to send a request (and to take the response)")
      ->check(CLI::Range(0.1, 3600.0))
      ->capture_default_str();
  cmd->add_option("--drain-timeout", f->drain_timeout,
                  "Seconds SIGTERM waits for in-flight requests")
      ->check(CLI::Range(0.0, 3600.0))
      ->capture_default_str();
  cmd->add_option("--config", f->config, "Pipeline YAML: its prep section cleans texts");
  cmd->add_flag("--no-prep", f->no_prep,
                "Classify texts as sent (as `lote predict`); rows carry no preprocess_version");
  cmd->add_option("--text-field", f->text_field, "JSON text field")->capture_default_str();
  cmd->add_option("--id-field", f->id_field, "JSON id field (absent: the line number)")
      ->capture_default_str();
  cmd->add_option("--csv-text-column", f->csv_text_column, "text/csv: 0-based text column")
      ->check(CLI::Range(0, 10000))
      ->capture_default_str();
  cmd->add_option("--csv-id-column", f->csv_id_column, "text/csv: 0-based id column (-1: none)")
      ->check(CLI::Range(-1, 10000))
      ->capture_default_str();
  AddTopKFlag(cmd, &f->top_k);
  cmd->add_option("--output", f->output,
                  "Serve the dashboard of this output's results at / (docs/dashboard.md); with "
                  "--model, beside the model's routes");
  cmd->add_option("--catalog", f->catalog, "The output's catalog (default: the output's own)");
  cmd->add_option("--flow-history", f->flow_history,
                  "The state machine executions' history (as lote flow --history): a run's "
                  "execution and its events on the runs page");
  cmd->add_option("--catalog-refresh", f->catalog_refresh_s,
                  "With an s3:// --output, bring the catalog cache up to date from the bucket "
                  "when a page is asked for and the last sync is this many seconds old (0: at "
                  "start only)")
      ->default_val(30)
      ->check(CLI::Range(0, 86400));
  cmd->add_option("--dashboard-assets", f->dashboard_assets,
                  "Folder of the dashboard's pages (default: dashboard/ beside the binary)");
  cmd->add_option("--registry", f->registry,
                  "The dashboard's models page shows this registry's versions and alias history "
                  "(default: $LOTE_REGISTRY)");
  cmd->add_option("--auth-token-file", f->auth_token_file,
                  "Secret (>= 16 bytes) the dashboard asks for: a bearer token or the session "
                  "cookie /login sets; required when --host is not loopback");
  AddRowFlags(cmd, &f->rows);
  cmd->callback([f, exit_code] {
    PiiSettings pii;
    if (!ResolvePiiOrFail(f->rows.pii, "mask", &pii, exit_code)) return;
    *exit_code = RunServe(*f, pii);
  });
}

}  // namespace
LOTE_REGISTER_COMMAND(36, SetupServe);
}  // namespace lote::cli
