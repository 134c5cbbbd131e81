// Task resources of `lote flow` run by lote's own code (see flow_tasks.h): the pipeline's stages,
// SQL over an output's catalog (Athena), training (SageMaker) and local commands (Lambda).
#include "flow_tasks.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "common.h"
#include "lote/base/clock.h"
#include "lote/base/digest.h"
#include "lote/bundle/model.h"
#include "lote/classify/intent_classifier.h"
#include "lote/pipeline/catalog.h"
#include "lote/pipeline/pipeline.h"
#include "lote/pipeline/stages.h"
#include "lote/pipeline/transform.h"
#include "lote/storage/storage.h"
#include "lote/text/utf8.h"
#include "retrain.h"
#include "train_job.h"

extern char** environ;

namespace lote::cli {
namespace {

using flow::Json;
using flow::Outcome;
using flow::StateError;

StateError StageError(const Status& s) {
  return StateError{"Lote." + std::string(StatusCodeName(s.code())), s.message()};
}

StateError BadRequest(const std::string& service, const std::string& what) {
  return StateError{service + ".ValidationException", what};
}

// parameters[a][b]... as a string, or empty.
std::string StringAt(const Json& j, std::initializer_list<const char*> keys) {
  const Json* at = &j;
  for (const char* k : keys) {
    if (!at->is_object() || !at->contains(k)) return "";
    at = &(*at)[k];
  }
  return at->is_string() ? at->get<std::string>() : "";
}

// First element's field of an array parameter (ProcessingInputs[0].S3Input.S3Uri).
std::string FirstOf(const Json& j, const char* array, std::initializer_list<const char*> keys) {
  if (!j.is_object() || !j.contains(array) || !(*j.find(array)).is_array() ||
      (*j.find(array)).empty()) {
    return "";
  }
  return StringAt((*j.find(array))[0], keys);
}

Json StageJson(const pipeline::StageReport& r) {
  return Json{{"stage", std::string(pipeline::StageName(r.stage))},
              {"objectsPending", r.objects_pending},
              {"objectsDone", r.objects_done},
              {"objectsSkipped", r.objects_skipped},
              {"records", r.records},
              {"recordsQuarantined", r.records_quarantined},
              {"bytes", r.bytes}};
}

// ---- lambda:invoke of a local command ----

// Step Functions' limit on a task's result (256 KiB): a command printing more fails.
constexpr size_t kMaxFunctionOutput = 256 * 1024;
// The last stderr line quoted in a failure's cause, at most this many bytes.
constexpr size_t kMaxCauseLine = 512;

// The last non-empty line of `tail`, escaped and bounded.
std::string LastLine(const std::string& tail) {
  size_t end = tail.find_last_not_of("\r\n");
  if (end == std::string::npos) return "";
  size_t start = tail.find_last_of('\n', end);
  start = start == std::string::npos ? 0 : start + 1;
  return CutUtf8(text::EscapeControl(tail.substr(start, end + 1 - start)), kMaxCauseLine);
}

// Closes the fds it holds.
struct Fds {
  int fd[6] = {-1, -1, -1, -1, -1, -1};
  ~Fds() {
    for (int f : fd) {
      if (f >= 0) ::close(f);
    }
  }
  void Close(int i) {
    if (fd[i] >= 0) ::close(fd[i]);
    fd[i] = -1;
  }
};

// Writing to a child that stopped reading raises SIGPIPE in the writing thread: it is blocked in
// this thread while the command runs and a pending one is consumed before unblocking.
class SigpipeBlocker {
 public:
  SigpipeBlocker() {
    sigset_t pipe_set;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    sigset_t pending;
    sigpending(&pending);
    was_pending_ = sigismember(&pending, SIGPIPE) == 1;
    pthread_sigmask(SIG_BLOCK, &pipe_set, &old_);
  }
  ~SigpipeBlocker() {
    sigset_t pending;
    sigpending(&pending);
    if (!was_pending_ && sigismember(&pending, SIGPIPE) == 1) {
      sigset_t pipe_set;
      sigemptyset(&pipe_set);
      sigaddset(&pipe_set, SIGPIPE);
      struct timespec zero = {0, 0};
      while (sigtimedwait(&pipe_set, nullptr, &zero) == -1 && errno == EINTR) {
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }

 private:
  sigset_t old_;
  bool was_pending_ = false;
};

void WriteAllToStderr(const char* data, size_t n) {
  while (n > 0) {
    ssize_t w = ::write(STDERR_FILENO, data, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return;
    data += w;
    n -= static_cast<size_t>(w);
  }
}

// lambda:invoke's result: the function's result under Payload.
Json LambdaInvokeResult(Json payload) {
  return Json{{"ExecutedVersion", "$LATEST"}, {"Payload", std::move(payload)}, {"StatusCode", 200}};
}

// Runs `argv` with `payload` on its stdin and returns lambda:invoke's result. The child gets
// only fds 0-2 (stdin and stdout are pipes, stderr is passed through), default signal handling
// and an empty signal mask; it is killed (SIGKILL) when the invocation is cancelled (the task's
// TimeoutSeconds, a stop) or prints more than kMaxFunctionOutput.
Outcome<Json> RunFunction(const std::string& name, const std::vector<std::string>& argv,
                          const Json& payload, const flow::TaskInvocation& inv) {
  const std::string input = payload.dump(-1, ' ', false, Json::error_handler_t::replace);
  Fds fds;  // 0,1: stdin pipe; 2,3: stdout pipe; 4,5: stderr pipe
  for (int i = 0; i < 3; ++i) {
    if (::pipe2(&fds.fd[2 * i], O_CLOEXEC) != 0) {
      return StateError{"Lambda.ServiceException",
                        "cannot create a pipe for '" + name + "': " + std::strerror(errno)};
    }
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds.fd[0], STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, fds.fd[3], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, fds.fd[5], STDERR_FILENO);
  // Every other fd of this process (the history database, sockets...) is closed in the child,
  // whether or not it was opened close-on-exec.
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  sigaddset(&defaults, SIGINT);
  sigaddset(&defaults, SIGTERM);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  int spawned = ::posix_spawnp(&pid, args[0], &actions, &attr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (spawned != 0) {
    return StateError{"Lambda.Unknown", "function " + name + ": cannot run '" +
                                            text::EscapeControl(argv[0]) +
                                            "': " + std::strerror(spawned)};
  }
  fds.Close(0);
  fds.Close(3);
  fds.Close(5);
  for (int i : {1, 2, 4}) ::fcntl(fds.fd[i], F_SETFL, ::fcntl(fds.fd[i], F_GETFL) | O_NONBLOCK);

  SigpipeBlocker no_sigpipe;
  std::string out, err_tail;
  size_t written = 0;
  bool too_big = false, cancelled = false, exited = false;
  int status = 0;
  std::chrono::steady_clock::time_point exited_at;
  if (input.empty()) fds.Close(1);
  while (fds.fd[2] >= 0 || fds.fd[4] >= 0) {
    if (inv.cancelled && inv.cancelled()) {
      cancelled = true;
      break;
    }
    if (!exited) {
      pid_t w = ::waitpid(pid, &status, WNOHANG);
      if (w == pid) {
        exited = true;
        exited_at = std::chrono::steady_clock::now();
      }
    } else if (std::chrono::steady_clock::now() - exited_at > std::chrono::milliseconds(200)) {
      // The command ended but something it started still holds its stdout or stderr.
      break;
    }
    struct pollfd p[3];
    int n = 0;
    for (int i : {1, 2, 4}) {
      if (fds.fd[i] < 0) continue;
      p[n].fd = fds.fd[i];
      p[n].events = i == 1 ? POLLOUT : POLLIN;
      p[n].revents = 0;
      ++n;
    }
    if (n == 0) break;
    int ready = ::poll(p, static_cast<nfds_t>(n), 50);
    if (ready < 0 && errno != EINTR) break;
    if (ready <= 0) continue;
    for (int k = 0; k < n; ++k) {
      if (p[k].revents == 0) continue;
      if (p[k].fd == fds.fd[1]) {
        ssize_t w = ::write(fds.fd[1], input.data() + written, input.size() - written);
        if (w > 0) written += static_cast<size_t>(w);
        // EPIPE: the command does not read its input, which is its business.
        if ((w < 0 && errno != EAGAIN && errno != EINTR) || written == input.size()) fds.Close(1);
        continue;
      }
      char buf[65536];
      ssize_t r = ::read(p[k].fd, buf, sizeof buf);
      if (r < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      bool is_out = p[k].fd == fds.fd[2];
      if (r <= 0) {
        fds.Close(is_out ? 2 : 4);
        continue;
      }
      if (is_out) {
        out.append(buf, static_cast<size_t>(r));
        if (out.size() > kMaxFunctionOutput) too_big = true;
      } else {
        WriteAllToStderr(buf, static_cast<size_t>(r));
        err_tail.append(buf, static_cast<size_t>(r));
        if (err_tail.size() > 8192) err_tail.erase(0, err_tail.size() - 4096);
      }
    }
    if (too_big) break;
  }
  if (!exited && (cancelled || too_big)) ::kill(pid, SIGKILL);
  // A command that closed its stdout and stderr may still run: wait for it, still cancellable.
  while (!exited) {
    pid_t w = ::waitpid(pid, &status, WNOHANG);
    if (w == pid || (w < 0 && errno != EINTR)) break;
    if (!cancelled && inv.cancelled && inv.cancelled()) {
      cancelled = true;
      ::kill(pid, SIGKILL);
    }
    ::usleep(20'000);
  }
  if (cancelled) {
    // The executor reports the timeout or stop itself; this result is ignored.
    return StateError{"States.Timeout", "function " + name + " was stopped"};
  }
  if (too_big) {
    // Step Functions fails a task whose result is over 256 KiB with States.DataLimitExceeded.
    return StateError{"States.DataLimitExceeded", "function " + name + " printed more than " +
                                                      std::to_string(kMaxFunctionOutput) +
                                                      " bytes on stdout"};
  }
  Json result = nullptr;
  size_t first = out.find_first_not_of(" \t\r\n");
  bool parsed = true;
  if (first != std::string::npos) {
    result = Json::parse(out.begin() + static_cast<std::ptrdiff_t>(first), out.end(), nullptr,
                         /*allow_exceptions=*/false);
    parsed = !result.is_discarded();
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    // A function that raised an error answers with FunctionError and a payload
    // {"errorMessage", "errorType", ...}; Step Functions fails the task with the errorType as the
    // error and that payload as the cause. A command that prints such an object and exits non-zero
    // does the same; any other failure is what Lambda reports as unhandled (a crashed runtime, an
    // exit): Step Functions' "Lambda.Unknown".
    if (parsed && result.is_object() && result.contains("errorType") &&
        result["errorType"].is_string() && !result["errorType"].get<std::string>().empty()) {
      return StateError{CutUtf8(result["errorType"].get<std::string>(), 256),
                        result.dump(-1, ' ', false, Json::error_handler_t::replace)};
    }
    std::string how = WIFEXITED(status)     ? "exit status " + std::to_string(WEXITSTATUS(status))
                      : WIFSIGNALED(status) ? "killed by signal " + std::to_string(WTERMSIG(status))
                                            : "stopped";
    std::string line = LastLine(err_tail);
    Json cause{
        {"errorType", "Runtime.ExitError"},
        {"errorMessage", "function " + name + ": " + how + (line.empty() ? "" : ": " + line)}};
    return StateError{"Lambda.Unknown", cause.dump(-1, ' ', false, Json::error_handler_t::replace)};
  }
  if (!parsed) {
    return StateError{"Lambda.Unknown", "function " + name +
                                            ": its stdout is not one JSON value (" +
                                            std::to_string(out.size()) + " bytes)"};
  }
  return LambdaInvokeResult(std::move(result));
}

// ---- Athena ----

StateError AthenaBad(const std::string& what) {
  return StateError{"Athena.InvalidRequestException", what};
}

// Athena's QueryExecutionId: a UUID.
std::string NewQueryId() {
  std::string h = RandomHex(16);
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) +
         "-" + h.substr(20, 12);
}

int64_t NowMillis() { return SystemClock()->NowMicros() / 1000; }

}  // namespace

PipelineTasks::PipelineTasks(RunConfig base, std::map<std::string, std::string> models,
                             std::string default_model, LocalResources resources)
    : base_(std::move(base)),
      models_(std::move(models)),
      default_model_(std::move(default_model)),
      resources_(std::move(resources)) {
  // A shadow model scores in the transform task only (base_.shadow names it there); the other
  // stages refuse an engine for it.
  base_.pipeline.shadow = nullptr;
}

Outcome<Json> PipelineTasks::Invoke(const flow::TaskInvocation& inv) {
  const std::string& r = inv.resource;
  if (r == "arn:aws:states:::sagemaker:createProcessingJob.sync") return Processing(inv, false);
  if (r == "arn:aws:states:::glue:startJobRun.sync") return Processing(inv, true);
  if (r == "arn:aws:states:::sagemaker:createTransformJob.sync") return Transform(inv);
  if (r == "arn:aws:states:::lambda:invoke") return Lambda(inv);
  if (r == "arn:aws:states:::athena:startQueryExecution.sync") return AthenaQuery(inv);
  if (r == "arn:aws:states:::athena:getQueryResults") return AthenaResults(inv);
  if (r == "arn:aws:states:::sagemaker:createTrainingJob.sync") return Training(inv);
  if (r == "arn:aws:states:::states:startExecution" ||
      r == "arn:aws:states:::states:startExecution.sync" ||
      r == "arn:aws:states:::states:startExecution.sync:2") {
    return StartExecution(inv);
  }
  return flow::RuntimeError("lote runs no Task resource '" + r +
                            "' on this machine (docs/flow.md lists the resources it runs)");
}

Outcome<Json> PipelineTasks::Processing(const flow::TaskInvocation& inv, bool glue) {
  const Json& p = inv.parameters;
  std::string input, output, job;
  if (glue) {
    input = StringAt(p, {"Arguments", "--input"});
    output = StringAt(p, {"Arguments", "--output"});
    job = StringAt(p, {"JobName"});
  } else {
    // lote in the job's container reads and writes the URIs its arguments give (`lote prep
    // --input URI --output URI`); a job that stages data through ProcessingInputs/Outputs names
    // them there instead.
    const Json* args = nullptr;
    if (p.contains("AppSpecification") && p["AppSpecification"].contains("ContainerArguments")) {
      args = &p["AppSpecification"]["ContainerArguments"];
    }
    if (args != nullptr && args->is_array()) {
      for (size_t i = 0; i + 1 < args->size(); ++i) {
        if (!(*args)[i].is_string() || !(*args)[i + 1].is_string()) continue;
        if ((*args)[i] == "--input") input = (*args)[i + 1].get<std::string>();
        if ((*args)[i] == "--output") output = (*args)[i + 1].get<std::string>();
      }
    }
    if (input.empty()) input = FirstOf(p, "ProcessingInputs", {"S3Input", "S3Uri"});
    const Json* outputs = nullptr;
    if (p.contains("ProcessingOutputConfig")) outputs = &p["ProcessingOutputConfig"];
    if (output.empty() && outputs) output = FirstOf(*outputs, "Outputs", {"S3Output", "S3Uri"});
    job = StringAt(p, {"ProcessingJobName"});
  }
  std::string service = glue ? "Glue" : "SageMaker";
  if (input.empty() || output.empty()) {
    return BadRequest(service, glue ? "Arguments must give --input and --output"
                                    : "AppSpecification.ContainerArguments must give --input "
                                      "and --output (or ProcessingInputs[0].S3Input.S3Uri and "
                                      "ProcessingOutputConfig.Outputs[0].S3Output.S3Uri)");
  }
  pipeline::PipelineOptions o = base_.pipeline;
  o.input_uri = input;
  o.output_uri = output;
  o.flow_execution = StringAt(inv.context, {"Execution", "Id"});
  Json reports = Json::array();
  for (pipeline::Stage stage : {pipeline::Stage::kIngest, pipeline::Stage::kPrep}) {
    auto report = pipeline::RunStage(stage, o, nullptr);
    if (!report.ok()) return StageError(report.status());
    reports.push_back(StageJson(*report));
  }
  if (glue) {
    return Json{{"JobName", job}, {"JobRunState", "SUCCEEDED"}, {"Lote", reports}};
  }
  return Json{{"ProcessingJobName", job}, {"ProcessingJobStatus", "Completed"}, {"Lote", reports}};
}

Outcome<Json> PipelineTasks::Transform(const flow::TaskInvocation& inv) {
  const Json& p = inv.parameters;
  std::string model_name = StringAt(p, {"ModelName"});
  std::string output = StringAt(p, {"TransformOutput", "S3OutputPath"});
  if (model_name.empty() || output.empty()) {
    return BadRequest("SageMaker", "ModelName and TransformOutput.S3OutputPath are required");
  }
  auto it = models_.find(model_name);
  std::string model_path = it != models_.end() ? it->second : default_model_;
  if (model_path.empty()) {
    return StateError{"SageMaker.ResourceNotFound",
                      "no model named '" + model_name + "' (lote flow run --model NAME=FILE)"};
  }
  RunConfig c = base_;
  c.model = model_path;
  c.pipeline.output_uri = output;
  // Shadow scoring: Environment.LOTE_SHADOW_MODEL (a name given by --model NAME=FILE, a file or
  // a models:/ URI) scores every record beside the model; the default is the command's --shadow.
  if (std::string shadow = StringAt(p, {"Environment", "LOTE_SHADOW_MODEL"}); !shadow.empty()) {
    auto named = models_.find(shadow);
    c.shadow = named != models_.end() ? named->second : shadow;
  }
  auto engine = LoadEngine(c);
  if (!engine.ok()) return StageError(engine.status());
  if (!c.shadow.empty()) {
    auto shadow = LoadShadowEngine(c, **engine);
    if (!shadow.ok()) return StageError(shadow.status());
    c.pipeline.shadow = *shadow;
  }
  const Json* source = nullptr;
  if (p.contains("TransformInput") && p["TransformInput"].contains("DataSource") &&
      p["TransformInput"]["DataSource"].contains("S3DataSource")) {
    source = &p["TransformInput"]["DataSource"]["S3DataSource"];
  }
  if (source != nullptr && StringAt(*source, {"S3DataType"}) == "ManifestFile") {
    // What the job does on AWS: lote serve's answer to each prep part, written as PART.out.
    if (StringAt(p, {"TransformInput", "ContentType"}) != pipeline::kPrepPartContentType ||
        StringAt(p, {"TransformInput", "SplitType"}) != "None") {
      return BadRequest("SageMaker",
                        "lote runs a manifest's transform over prep parts only (ContentType " +
                            std::string(pipeline::kPrepPartContentType) + ", SplitType None)");
    }
    pipeline::TransformPartOptions po;
    po.engine = engine->get();
    po.shadow = c.pipeline.shadow.get();
    po.count_terms = c.pipeline.monitor;
    po.zstd_level = c.pipeline.zstd_level;
    auto job = pipeline::RunTransformManifest(c.pipeline, StringAt(*source, {"S3Uri"}), output, po,
                                              c.pipeline.threads);
    if (!job.ok()) return StageError(job.status());
    return Json{{"TransformJobName", StringAt(p, {"TransformJobName"})},
                {"TransformJobStatus", "Completed"},
                {"ModelName", model_name},
                {"TransformOutput", Json{{"S3OutputPath", output}}},
                {"Lote", Json{{"parts", job->parts},
                              {"bytesIn", job->bytes_in},
                              {"bytesOut", job->bytes_out},
                              {"wall_s", job->wall_s}}}};
  }
  auto report = pipeline::RunStage(pipeline::Stage::kInfer, c.pipeline, *engine);
  if (!report.ok()) return StageError(report.status());
  return Json{{"TransformJobName", StringAt(p, {"TransformJobName"})},
              {"TransformJobStatus", "Completed"},
              {"ModelName", model_name},
              {"TransformOutput", Json{{"S3OutputPath", output}}},
              {"Lote", StageJson(*report)}};
}

bool IsBuiltInFunction(std::string_view name) {
  return name == "lote-publish" || name == "lote-transform-input" || name == "lote-training-data" ||
         name == "lote-register" || name == "lote-promote";
}

Outcome<Json> PipelineTasks::Lambda(const flow::TaskInvocation& inv) {
  const Json& p = inv.parameters;
  std::string function = StringAt(p, {"FunctionName"});
  // A function ARN or NAME:ALIAS names the same function.
  std::string base = function.substr(function.rfind(':') == std::string::npos ? 0
                                     : function.find(":function:") != std::string::npos
                                         ? function.find(":function:") + 10
                                         : 0);
  if (size_t colon = base.find(':'); colon != std::string::npos) base.resize(colon);
  Json payload = p.contains("Payload") ? p["Payload"] : Json::object();
  if (auto command = resources_.functions.find(base); command != resources_.functions.end()) {
    return RunFunction(base, command->second, payload, inv);
  }
  if (base == "lote-training-data" || base == "lote-register" || base == "lote-promote") {
    auto result = RetrainFunction(base, payload, inv);
    if (!result.ok()) return result.error();
    return LambdaInvokeResult(std::move(result).value());
  }
  if (base != "lote-publish" && base != "lote-transform-input") {
    return StateError{"Lambda.ResourceNotFoundException",
                      "no function named '" + function +
                          "' (built in: lote-publish, lote-transform-input, lote-training-data, "
                          "lote-register, lote-promote; others by lote flow run --function "
                          "NAME=COMMAND)"};
  }
  std::string output = StringAt(payload, {"output"});
  if (output.empty()) return BadRequest("Lambda", base + " needs Payload.output");
  pipeline::PipelineOptions o = base_.pipeline;
  o.output_uri = output;
  if (base == "lote-transform-input") {
    // The Batch Transform's input: a manifest of the prep parts waiting for inference, under the
    // transform's own prefix (Payload.transform), where its .out files will be written too.
    std::string folder = StringAt(payload, {"transform"});
    if (folder.empty()) return BadRequest("Lambda", "lote-transform-input needs Payload.transform");
    auto m = pipeline::WriteTransformManifest(
        o, storage::JoinUri(folder, pipeline::kTransformManifestName));
    if (!m.ok()) return StageError(m.status());
    Json result{
        {"manifest", m->uri}, {"parts", m->parts}, {"objects", m->objects}, {"transform", folder}};
    return LambdaInvokeResult(std::move(result));
  }
  // The run this publishes leads back to this execution (the dashboard's runs page).
  o.flow_execution = StringAt(inv.context, {"Execution", "Id"});
  // A Batch Transform's answers (Payload.transformOutput) become the infer stage's files first.
  Json imported;
  if (std::string from = StringAt(payload, {"transformOutput"}); !from.empty()) {
    auto report = pipeline::ImportTransformOutput(o, from);
    if (!report.ok()) return StageError(report.status());
    imported = StageJson(*report);
  }
  auto report = pipeline::PublishStaged(o);
  if (!report.ok()) return StageError(report.status());
  Json result{{"runId", report->run_id},
              {"modelVersion", report->model_version},
              {"preprocessVersion", report->preprocess_version},
              {"recordsIn", report->counts.records_in},
              {"recordsOut", report->counts.records_out},
              {"recordsQuarantined", report->counts.records_quarantined},
              {"recordsDuplicate", report->counts.records_duplicate},
              {"manifest", report->manifest_uri}};
  if (!imported.is_null()) result["imported"] = std::move(imported);
  // The monitoring report: the definition's DriftCheck branches on monitoring.alarm.
  if (!report->monitoring_json.empty()) {
    result["monitoring"] = Json::parse(report->monitoring_json, nullptr, false);
  }
  return LambdaInvokeResult(std::move(result));
}

// Step Functions' StartExecution from a Task: the nested execution runs in this process, in the
// same history, to its end, whichever form is used (there is no background to leave it running
// in). `.sync` and `.sync:2` return DescribeExecution's shape (Input and Output as JSON text, or
// as JSON with :2) and fail with States.TaskFailed when the nested execution does not succeed,
// its description as the cause; the plain form returns StartExecution's ExecutionArn and
// StartDate whatever the outcome. A nested execution whose name exists with the same state
// machine and input is not started twice: a closed one gives its recorded result, one a killed
// process left RUNNING is continued (so a resumed parent never runs its child twice).
flow::Outcome<Json> PipelineTasks::StartExecution(const flow::TaskInvocation& inv) {
  const Json& p = inv.parameters;
  const bool sync = inv.resource != "arn:aws:states:::states:startExecution";
  const bool json_io = inv.resource == "arn:aws:states:::states:startExecution.sync:2";
  auto bad = [](const std::string& error, const std::string& what) {
    return StateError{"StepFunctions." + error, what};
  };
  const std::string arn = StringAt(p, {"StateMachineArn"});
  const size_t at = arn.find(":stateMachine:");
  if (arn.rfind("arn:", 0) != 0 || at == std::string::npos) {
    return bad("InvalidArnException",
               "StateMachineArn must be a state machine's ARN "
               "(arn:aws:states:REGION:ACCOUNT:stateMachine:NAME)");
  }
  const std::string machine = arn.substr(at + 14);
  auto def = nested_.definitions.find(machine);
  if (!nested_.run || def == nested_.definitions.end()) {
    return bad("StateMachineDoesNotExistException",
               "no state machine named '" + CutUtf8(text::EscapeControl(machine), 80) +
                   "' on this machine (lote flow run --state-machine-file NAME=FILE)");
  }
  Json input = Json::object();
  if (p.contains("Input")) {
    input = p["Input"];
    if (input.is_string()) {
      input = Json::parse(input.get<std::string>(), nullptr, false);
      if (input.is_discarded()) return bad("InvalidExecutionInputException", "Input is not JSON");
    }
  }
  std::string name = StringAt(p, {"Name"});
  if (name.empty()) {
    // AWS names it with a random UUID; a name derived from the parent's execution, the state,
    // when it was entered, its retry and Map item keeps a resumed parent from starting a second
    // child.
    const Json& c = inv.context;
    std::string entry = StringAt(c, {"Execution", "Id"}) + "\n" + inv.state_name;
    for (const char* part : {"State", "Map"}) {
      if (c.is_object() && c.contains(part)) entry += "\n" + c[part].dump();
    }
    name = Sha256Hex(entry).substr(0, 32);
  }
  if (name.size() > 80 || name.find_first_of(" <>{}[]?*\"#%\\^|~`$&,;:/") != std::string::npos) {
    return bad("InvalidNameException",
               "Name must be 1 to 80 characters without spaces, brackets, wildcards or "
               "punctuation");
  }
  if (active_nested_.fetch_add(1) >= kMaxNestedExecutions) {
    active_nested_.fetch_sub(1);
    return flow::RuntimeError("more than " + std::to_string(kMaxNestedExecutions) +
                              " nested executions at once (does a state machine start itself?)");
  }
  struct Release {
    std::atomic<int>* n;
    ~Release() { n->fetch_sub(1); }
  } release{&active_nested_};

  Result<flow::ExecutionResult> result = NotFoundError("");
  auto existing = nested_.history->Get(name);
  if (existing.ok()) {
    const Json stored = Json::parse(existing->input, nullptr, false);
    if (existing->state_machine != machine || stored != input) {
      return bad("ExecutionAlreadyExistsException",
                 "an execution named '" + name + "' exists with another state machine or input");
    }
    result = nested_.run(name, machine, "", input);  // continued, or its recorded result
  } else if (existing.status().code() == StatusCode::kNotFound) {
    result = nested_.run(name, machine, def->second, input);
  } else {
    return StageError(existing.status());
  }
  if (!result.ok()) return StageError(result.status());
  auto record = nested_.history->Get(name);
  if (!record.ok()) return StageError(record.status());
  const std::string execution_arn = nested_.arn(machine, name);
  const int64_t start_ms = record->start_micros / 1000;
  if (!sync) return Json{{"ExecutionArn", execution_arn}, {"StartDate", start_ms}};
  Json describe{{"ExecutionArn", execution_arn},
                {"StateMachineArn", arn},
                {"Name", name},
                {"Status", std::string(flow::ExecutionStatusName(result->status))},
                {"StartDate", start_ms},
                {"StopDate", record->stop_micros / 1000}};
  describe["Input"] = json_io ? input : Json(input.dump());
  describe["InputDetails"] = Json{{"Included", true}};
  if (result->status == flow::ExecutionStatus::kSucceeded) {
    const Json output = result->output ? *result->output : Json();
    describe["Output"] = json_io ? output : Json(output.dump());
    describe["OutputDetails"] = Json{{"Included", true}};
    return describe;
  }
  if (result->error) {
    describe["Error"] = result->error->error;
    // Step Functions bounds a cause at 32,768 characters; nested failures quote each other.
    describe["Cause"] = CutUtf8(result->error->cause, 32768);
  }
  return StateError{"States.TaskFailed", describe.dump()};
}

// The continuous-training steps of deploy/statemachines/retrain.asl.json (retrain.h). A payload
// field of the wrong type or a missing one is Lambda's ValidationException naming it; the steps'
// own failures are Lote.<StatusCode> (so a Catch can keep the champion serving).
flow::Outcome<Json> PipelineTasks::RetrainFunction(const std::string& function, const Json& payload,
                                                   const flow::TaskInvocation& inv) {
  if (!payload.is_object()) return BadRequest("Lambda", function + ": Payload must be an object");
  std::string missing;
  auto text = [&](const char* key, bool required) -> std::string {
    if (!payload.contains(key) || payload[key].is_null()) {
      if (required && missing.empty()) missing = key;
      return "";
    }
    if (!payload[key].is_string()) {
      if (missing.empty()) missing = key;
      return "";
    }
    return payload[key].get<std::string>();
  };
  const std::string name = text("name", true);
  std::string registry_uri = text("registry", false);
  if (registry_uri.empty()) registry_uri = base_.registry;
  auto bad_field = [&]() {
    return BadRequest("Lambda", function + ": Payload." + missing + " must be a string");
  };
  if (!missing.empty()) return bad_field();
  auto uri = RegistryUri(registry_uri);
  if (!uri.ok()) return BadRequest("Lambda", function + ": " + uri.status().message());
  auto reg = registry::Registry::Open(*uri);
  if (!reg.ok()) return StageError(reg.status());
  // Who changes the registry: this execution.
  std::string execution = StringAt(inv.context, {"Execution", "Id"});
  const registry::Actor actor{"flow:" + (execution.empty() ? std::string("unknown") : execution)};

  if (function == "lote-training-data") {
    TrainingDataRequest r;
    r.config = base_;
    r.output = text("output", true);
    r.destination = text("destination", true);
    const std::string fallback = text("base", false);
    const std::string alias = payload.contains("alias") ? text("alias", false) : "champion";
    const std::string since = text("since", false);
    r.base_format = text("baseFormat", false);
    if (!missing.empty()) return bad_field();
    auto champion = ChampionForRetraining(*reg, name, alias);
    if (!champion.ok()) return StageError(champion.status());
    // The champion's own training file when a retraining made it, else the flow's base data.
    r.base = (*champion)["trainingData"].get<std::string>();
    if (r.base.empty()) r.base = fallback;
    r.since = since.empty() ? (*champion)["feedbackThrough"].get<std::string>() : since;
    auto written = WriteTrainingData(r);
    if (!written.ok()) return StageError(written.status());
    Json out = std::move(*written);
    out["base"] = r.base;
    out["champion"] = std::move(*champion);
    return out;
  }
  if (function == "lote-register") {
    registry::RegisterOptions o;
    const std::string model = text("model", true);
    o.description = text("description", false);
    o.source = execution;
    if (!missing.empty()) return bad_field();
    if (payload.contains("tags")) {
      const Json& tags = payload["tags"];
      if (!tags.is_object())
        return BadRequest("Lambda", function + ": Payload.tags must be an object");
      for (const auto& [k, v] : tags.items()) {
        if (!v.is_string()) {
          return BadRequest("Lambda", function + ": Payload.tags." +
                                          CutUtf8(text::EscapeControl(k), 64) +
                                          " must be a string");
        }
        o.tags[k] = v.get<std::string>();
      }
    }
    auto v = RegisterModel(*reg, name, model, o, actor);
    if (!v.ok()) return StageError(v.status());
    return Json{{"version", v->version},
                {"model", "models:/" + name + "/" + std::to_string(v->version)},
                {"modelVersionId", v->model_version_id},
                {"sha256", v->model_sha256}};
  }
  // lote-promote
  PromotionRequest r;
  r.name = name;
  r.golden = text("golden", true);
  if (payload.contains("alias")) r.alias = text("alias", false);
  r.format = text("format", false);
  if (payload.contains("textField")) r.text_field = text("textField", false);
  if (payload.contains("labelField")) r.label_field = text("labelField", false);
  if (!missing.empty()) return bad_field();
  if (!payload.contains("candidate") || !payload["candidate"].is_number_integer()) {
    return BadRequest("Lambda", function + ": Payload.candidate must be a version number");
  }
  r.candidate = payload["candidate"].get<int>();
  struct Knob {
    const char* key;
    double* value;
    double lo, hi;
  };
  double min_label_rows = static_cast<double>(r.options.min_label_rows);
  for (const Knob& k :
       {Knob{"alpha", &r.options.alpha, 1e-9, 0.5}, Knob{"minGain", &r.options.min_gain, 0, 1},
        Knob{"recallMargin", &r.options.recall_margin, 0, 1},
        Knob{"eceMargin", &r.options.ece_margin, 0, 1},
        Knob{"minLabelRows", &min_label_rows, 1, 1e9}}) {
    if (!payload.contains(k.key)) continue;
    const Json& v = payload[k.key];
    if (!v.is_number() || !(v.get<double>() >= k.lo && v.get<double>() <= k.hi)) {
      char range[64];
      std::snprintf(range, sizeof(range), " must be a number from %g to %g", k.lo, k.hi);
      return BadRequest("Lambda", function + ": Payload." + k.key + range);
    }
    *k.value = v.get<double>();
  }
  r.options.min_label_rows = static_cast<decltype(r.options.min_label_rows)>(min_label_rows);
  auto promoted = PromoteCandidate(*reg, r, actor);
  if (!promoted.ok()) return StageError(promoted.status());
  if (!promoted->moved.ok()) return StageError(promoted->moved);
  Json out = promoted->evaluation;
  out["promoted"] = promoted->promote;
  out["alias"] = r.alias;
  return out;
}

// Athena's StartQueryExecution + GetQueryExecution (.sync): the query runs, read-only, on the
// catalog of the output that --athena-database maps QueryExecutionContext.Database to.
Outcome<Json> PipelineTasks::AthenaQuery(const flow::TaskInvocation& inv) {
  const Json& p = inv.parameters;
  const int64_t submitted = NowMillis();
  std::string sql = StringAt(p, {"QueryString"});
  if (sql.empty()) return AthenaBad("QueryString is required");
  // No Database: Athena's "default" database.
  std::string database = StringAt(p, {"QueryExecutionContext", "Database"});
  if (database.empty()) database = "default";
  std::string work_group = StringAt(p, {"WorkGroup"});
  if (work_group.empty()) work_group = "primary";
  std::string location = StringAt(p, {"ResultConfiguration", "OutputLocation"});
  auto db = resources_.athena_databases.find(database);
  if (db == resources_.athena_databases.end()) {
    return AthenaBad("no database named '" + CutUtf8(text::EscapeControl(database), 128) +
                     "' (lote flow run --athena-database NAME=OUTPUT)");
  }
  const std::string& output = db->second;
  pipeline::PipelineOptions o = base_.pipeline;
  o.output_uri = output;
  // An output on an object store: its local catalog cache is brought up to date from the
  // ledger there first, as `lote query --output` does; one sync per output at a time.
  std::shared_ptr<std::mutex> output_mu;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto& m = catalog_mu_[output];
    if (!m) m = std::make_shared<std::mutex>();
    output_mu = m;
  }
  std::string catalog;
  {
    std::lock_guard<std::mutex> lock(*output_mu);
    auto path = pipeline::ReadableCatalogPath(o, nullptr);
    if (!path.ok()) return StageError(path.status());
    catalog = *path;
  }
  pipeline::QueryOptions qo;
  qo.max_result_bytes = size_t{64} << 20;  // kept in memory for getQueryResults
  if (inv.timeout_seconds > 0 && inv.timeout_seconds < 60) {
    qo.time_budget = std::chrono::milliseconds(static_cast<int64_t>(inv.timeout_seconds * 1000));
  }
  const int64_t start = SystemClock()->MonotonicNanos();
  auto result = pipeline::QueryCatalog(catalog, sql, qo);
  if (!result.ok()) {
    // Athena refuses SQL it cannot run with InvalidRequestException; the cause is SQLite's
    // message about the statement (it names the SQL's own tokens, never a row's values).
    const Status& s = result.status();
    if (s.code() == StatusCode::kInvalidArgument || s.code() == StatusCode::kNotFound) {
      return AthenaBad("query failed: " + CutUtf8(text::EscapeControl(s.message()), 1024));
    }
    return StageError(s);
  }
  const int64_t engine_ms = (SystemClock()->MonotonicNanos() - start) / 1'000'000;
  // Formatted before the values move into what is kept.
  const std::string csv =
      location.empty() ? "" : pipeline::FormatQueryResult(*result, pipeline::QueryFormat::kCsv);
  auto stored = std::make_shared<StoredResult>();
  stored->id = NewQueryId();
  stored->columns = result->columns;
  stored->types.assign(result->columns.size(), "");
  size_t bytes = 0;
  for (auto& row : result->rows) {
    std::vector<std::optional<std::string>> r;
    r.reserve(row.size());
    for (size_t i = 0; i < row.size(); ++i) {
      using T = pipeline::QueryValue::Type;
      std::string& type = stored->types[i];
      if (row[i].type == T::kNull) {
        r.emplace_back(std::nullopt);
        continue;
      }
      std::string t = row[i].type == T::kInteger ? "bigint"
                      : row[i].type == T::kReal  ? "double"
                                                 : "varchar";
      if (type.empty() || (type == "bigint" && t == "double")) {
        type = t;
      } else if (type != t && !(type == "double" && t == "bigint")) {
        type = "varchar";
      }
      bytes += row[i].text.size() + sizeof(std::string);
      r.emplace_back(std::move(row[i].text));
    }
    stored->rows.push_back(std::move(r));
  }
  for (std::string& t : stored->types) {
    if (t.empty()) t = "varchar";
  }
  stored->bytes = bytes;
  std::string result_uri;
  if (!location.empty()) {
    // As Athena: OutputLocation/QueryExecutionId.csv, a header and RFC 4180 rows.
    result_uri = storage::JoinUri(location, stored->id + ".csv");
    auto out = storage::OpenStorage(result_uri);
    if (!out.ok()) return StageError(out.status());
    Status w = (*out)->Write(result_uri, csv);
    if (!w.ok()) return StageError(w);
  }
  const size_t rows = stored->rows.size();
  {
    // The results of this process's latest queries, for getQueryResults (bounded).
    constexpr size_t kMaxKeptBytes = size_t{256} << 20;
    constexpr size_t kMaxKept = 64;
    std::lock_guard<std::mutex> lock(mu_);
    results_.push_back(stored);
    result_bytes_ += bytes;
    while (results_.size() > 1 && (results_.size() > kMaxKept || result_bytes_ > kMaxKeptBytes)) {
      result_bytes_ -= std::min(result_bytes_, results_.front()->bytes);
      results_.pop_front();
    }
  }
  Json execution{{"QueryExecutionId", stored->id}, {"Query", sql}, {"StatementType", "DML"}};
  if (!result_uri.empty()) {
    execution["ResultConfiguration"] = Json{{"OutputLocation", result_uri}};
  }
  execution["QueryExecutionContext"] = Json{{"Database", database}, {"Catalog", "AwsDataCatalog"}};
  execution["Status"] = Json{{"State", "SUCCEEDED"},
                             {"SubmissionDateTime", submitted},
                             {"CompletionDateTime", NowMillis()}};
  // DataScannedInBytes: lote reads a local SQLite catalog, not S3 objects; it reports 0.
  execution["Statistics"] = Json{{"EngineExecutionTimeInMillis", engine_ms},
                                 {"DataScannedInBytes", 0},
                                 {"TotalExecutionTimeInMillis", NowMillis() - submitted},
                                 {"QueryQueueTimeInMillis", 0},
                                 {"ServiceProcessingTimeInMillis", 0}};
  execution["WorkGroup"] = work_group;
  return Json{{"QueryExecution", std::move(execution)},
              {"Lote", Json{{"output", output}, {"rows", rows}}}};
}

// Athena's GetQueryResults for a query this process ran: the header row first (as Athena gives
// it for a SELECT), then the rows, MaxResults (1..1000, default 1000) per page.
Outcome<Json> PipelineTasks::AthenaResults(const flow::TaskInvocation& inv) {
  const Json& p = inv.parameters;
  std::string id = StringAt(p, {"QueryExecutionId"});
  if (id.empty()) return AthenaBad("QueryExecutionId is required");
  int64_t max_results = 1000;
  if (p.contains("MaxResults")) {
    const Json& m = p["MaxResults"];
    if (!m.is_number_integer() || m.get<int64_t>() < 1 || m.get<int64_t>() > 1000) {
      return AthenaBad("MaxResults must be an integer from 1 to 1000");
    }
    max_results = m.get<int64_t>();
  }
  std::shared_ptr<const StoredResult> r;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& kept : results_) {
      if (kept->id == id) r = kept;
    }
  }
  if (!r) {
    return AthenaBad("QueryExecution " + CutUtf8(text::EscapeControl(id), 64) +
                     " was not found (lote answers getQueryResults for the queries this process "
                     "ran, the latest 64)");
  }
  // NextToken: "<id>/<offset>", offset counting the header row.
  size_t offset = 0;
  std::string token = StringAt(p, {"NextToken"});
  if (!token.empty()) {
    int64_t at = 0;
    if (token.size() <= id.size() + 1 || token.compare(0, id.size() + 1, id + "/") != 0 ||
        !ParseInt(token.substr(id.size() + 1), 1, static_cast<int64_t>(r->rows.size()), &at)) {
      return AthenaBad("NextToken is not a token of this query's results");
    }
    offset = static_cast<size_t>(at);
  }
  const size_t total = r->rows.size() + 1;
  const size_t end = std::min(total, offset + static_cast<size_t>(max_results));
  Json rows = Json::array();
  for (size_t i = offset; i < end; ++i) {
    Json data = Json::array();
    if (i == 0) {
      for (const std::string& c : r->columns) data.push_back(Json{{"VarCharValue", c}});
    } else {
      // A NULL is a Datum without VarCharValue.
      for (const auto& v : r->rows[i - 1]) {
        data.push_back(v ? Json{{"VarCharValue", *v}} : Json::object());
      }
    }
    rows.push_back(Json{{"Data", std::move(data)}});
  }
  Json columns = Json::array();
  for (size_t i = 0; i < r->columns.size(); ++i) {
    const std::string& t = r->types[i];
    columns.push_back(Json{{"CatalogName", "hive"},
                           {"SchemaName", ""},
                           {"TableName", ""},
                           {"Name", r->columns[i]},
                           {"Label", r->columns[i]},
                           {"Type", t},
                           {"Precision", t == "bigint"   ? 19
                                         : t == "double" ? 17
                                                         : 2147483647},
                           {"Scale", 0},
                           {"Nullable", "UNKNOWN"},
                           {"CaseSensitive", t == "varchar"}});
  }
  Json out{{"UpdateCount", 0},
           {"ResultSet", Json{{"Rows", std::move(rows)},
                              {"ResultSetMetadata", Json{{"ColumnInfo", std::move(columns)}}}}}};
  if (end < total) out["NextToken"] = id + "/" + std::to_string(end);
  return out;
}

// SageMaker's CreateTrainingJob + DescribeTrainingJob (.sync): `lote train classify` in this
// process, the model written to S3OutputPath/TrainingJobName/output/model.lote.
Outcome<Json> PipelineTasks::Training(const flow::TaskInvocation& inv) {
  const Json& p = inv.parameters;
  const int64_t start_ms = NowMillis();
  std::string job = StringAt(p, {"TrainingJobName"});
  std::string output_path = StringAt(p, {"OutputDataConfig", "S3OutputPath"});
  if (job.empty() || output_path.empty()) {
    return BadRequest("SageMaker",
                      "TrainingJobName and OutputDataConfig.S3OutputPath are required");
  }
  if (job.find('/') != std::string::npos || job.size() > 63) {
    return BadRequest("SageMaker", "TrainingJobName must be at most 63 characters without '/'");
  }
  std::string train_uri, dev_uri, train_type, dev_type;
  const Json* channels = p.contains("InputDataConfig") ? &p["InputDataConfig"] : nullptr;
  if (channels == nullptr || !channels->is_array()) {
    return BadRequest("SageMaker", "InputDataConfig must be an array of channels");
  }
  for (const Json& c : *channels) {
    std::string name = StringAt(c, {"ChannelName"});
    std::string uri = StringAt(c, {"DataSource", "S3DataSource", "S3Uri"});
    if (uri.empty()) {
      return BadRequest("SageMaker", "InputDataConfig channel '" + name +
                                         "': DataSource.S3DataSource.S3Uri is required");
    }
    std::string type = StringAt(c, {"ContentType"});
    std::string* slot = name == "train"                           ? &train_uri
                        : (name == "validation" || name == "dev") ? &dev_uri
                                                                  : nullptr;
    if (slot == nullptr) {
      return BadRequest("SageMaker", "InputDataConfig channel '" +
                                         CutUtf8(text::EscapeControl(name), 64) +
                                         "': lote trains from channels train and validation "
                                         "(or dev)");
    }
    if (!slot->empty()) {
      return BadRequest("SageMaker", "InputDataConfig: two channels give the " +
                                         std::string(slot == &train_uri ? "train" : "validation") +
                                         " data");
    }
    *slot = uri;
    (slot == &train_uri ? train_type : dev_type) = type;
  }
  if (train_uri.empty()) return BadRequest("SageMaker", "InputDataConfig needs a channel 'train'");
  Json hyperparameters;
  auto task =
      TrainingTask(p.contains("HyperParameters") ? p["HyperParameters"] : Json(), &hyperparameters);
  if (!task.ok()) return BadRequest("SageMaker", task.status().message());
  TrainSettings t;
  TaggerSettings tagger;
  Status hp = *task == "extract" ? ApplyTaggerHyperParameters(hyperparameters, &tagger)
                                 : ApplyHyperParameters(hyperparameters, &t);
  if (!hp.ok()) return BadRequest("SageMaker", hp.message());
  LocalCopy train_file, dev_file;
  Status s = train_file.Open(train_uri);
  if (!s.ok()) return StageError(s.WithContext("channel train"));
  TrainingChannel train{"train",
                        {train_file.path()},
                        train_type,
                        std::filesystem::path(train_uri).filename().string()};
  TrainingChannel validation{"validation", {}, dev_type, ""};
  if (!dev_uri.empty()) {
    s = dev_file.Open(dev_uri);
    if (!s.ok()) return StageError(s.WithContext("channel validation"));
    validation.files.push_back(dev_file.path());
    validation.source = std::filesystem::path(dev_uri).filename().string();
  }
  // What the job made: the model file, its metrics and the "Lote" summary of the result.
  std::string bytes;
  std::vector<std::pair<std::string, double>> final_metrics;
  Json summary;
  if (*task == "extract") {
    if (tagger.format.empty() &&
        (train_type == "application/jsonlines" || train_type == "application/x-jsonlines")) {
      tagger.format = "jsonl";
    }
    auto trained = TrainTaggerJob(tagger, train_file.path(), dev_uri.empty() ? "" : dev_file.path(),
                                  job, train.source, validation.source);
    if (!trained.ok()) return StageError(trained.status());
    bytes = std::move(trained->bytes);
    final_metrics = trained->metrics;
    const extract::TaggerTrainReport& rep = trained->report;
    summary = Json{{"versionId", trained->version_id},
                   {"entityTypes", trained->entity_types},
                   {"trainSentences", rep.train_sentences},
                   {"devSentences", rep.dev_sentences},
                   {"features", rep.features},
                   {"epochs", rep.epochs}};
  } else {
    auto trained = TrainClassifierJob(t, train, validation, job);
    if (!trained.ok()) return StageError(trained.status());
    bytes = std::move(trained->bytes);
    final_metrics = trained->metrics;
    const classify::ClassifierTrainReport& rep = trained->report;
    Json warnings = Json::array();
    for (const std::string& w : rep.warnings) warnings.push_back(w);
    summary = Json{{"versionId", trained->version_id}, {"labels", trained->labels},
                   {"trainRows", rep.train_rows},      {"devRows", rep.dev_rows},
                   {"features", rep.features},         {"temperature", rep.temperature},
                   {"warnings", std::move(warnings)}};
  }
  // SageMaker writes S3OutputPath/TrainingJobName/output/model.tar.gz; lote writes its model
  // file there under the name lote's own commands load.
  const std::string model_uri = storage::JoinUri(output_path, job + "/output/model.lote");
  auto out = storage::OpenStorage(model_uri);
  if (!out.ok()) return StageError(out.status());
  s = (*out)->Write(model_uri, bytes);
  if (!s.ok()) return StageError(s);

  const int64_t end_ms = NowMillis();
  Json metrics = Json::array();
  for (const auto& [name, value] : final_metrics) {
    metrics.push_back(Json{{"MetricName", name}, {"Value", value}, {"Timestamp", end_ms}});
  }
  const int64_t seconds = std::max<int64_t>(1, (end_ms - start_ms + 999) / 1000);
  Json result{{"TrainingJobName", job},
              {"TrainingJobArn", "arn:aws:sagemaker:local:000000000000:training-job/" + job},
              {"TrainingJobStatus", "Completed"},
              {"SecondaryStatus", "Completed"},
              {"HyperParameters", p.contains("HyperParameters") ? p["HyperParameters"] : Json()},
              {"InputDataConfig", *channels},
              {"OutputDataConfig", p["OutputDataConfig"]},
              {"ModelArtifacts", Json{{"S3ModelArtifacts", model_uri}}},
              {"FinalMetricDataList", std::move(metrics)},
              {"CreationTime", start_ms},
              {"TrainingStartTime", start_ms},
              {"TrainingEndTime", end_ms},
              {"TrainingTimeInSeconds", seconds},
              {"BillableTimeInSeconds", seconds}};
  if (result["HyperParameters"].is_null()) result.erase("HyperParameters");
  result["Lote"] = std::move(summary);
  return result;
}

}  // namespace lote::cli
