// Shared pieces of `lote flow` and `lote watch --flow` (flow_cli.h).
#include "flow_cli.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <mutex>

#include "common.h"
#include "flags.h"
#include "lote/base/clock.h"
#include "lote/base/digest.h"
#include "lote/flow/definition.h"
#include "lote/text/utf8.h"

namespace lote::cli {

using flow::Json;

Result<std::string> ReadSmallFile(const std::string& path, size_t limit, std::string_view what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError(std::string(what) + " " + path + ": cannot be read");
  std::string data;
  char buf[65536];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    data.append(buf, static_cast<size_t>(in.gcount()));
    if (data.size() > limit) {
      return InvalidArgumentError(std::string(what) + " " + path + " is larger than " +
                                  std::to_string(limit) + " bytes");
    }
  }
  if (in.bad()) return DataLossError(std::string(what) + " " + path + ": read error");
  return data;
}

// The state machine's name: the definition file's name without folders and ".asl.json"/".json".
std::string StemOf(const std::string& path) {
  std::string base =
      path.substr(path.find_last_of('/') == std::string::npos ? 0 : path.find_last_of('/') + 1);
  for (std::string_view ext : {".asl.json", ".json", ".asl.yaml"}) {
    if (base.size() > ext.size() && base.compare(base.size() - ext.size(), ext.size(), ext) == 0) {
      return base.substr(0, base.size() - ext.size());
    }
  }
  return base;
}

namespace {

// The default history database: $XDG_STATE_HOME/lote/flow-history.db (~/.local/state/...), its
// folders created private (0700).
Result<std::string> DefaultHistoryPath() {
  std::string base = EnvOr("XDG_STATE_HOME", "");
  if (base.empty()) {
    std::string home = EnvOr("HOME", "");
    if (home.empty()) return InvalidArgumentError("no --history given and HOME is not set");
    base = home + "/.local/state";
  }
  std::string dir;
  for (const std::string& part : {base, base + "/lote"}) {
    dir = part;
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
      return UnavailableError("cannot create " + dir);
    }
  }
  return dir + "/flow-history.db";
}

}  // namespace

Result<std::unique_ptr<flow::HistoryStore>> OpenHistory(const HistoryFlags& f) {
  if (f.history == ":memory:") return flow::NewMemoryHistory();
  // A URI (s3://bucket/prefix/, mem://, file://): the history kept as a log of objects under that
  // prefix, beside an object-store output as its ledger is. Plain paths are SQLite files.
  if (f.history.find("://") != std::string::npos) {
    flow::ObjectStoreHistoryOptions o;
    // The runner looks for `lote flow stop` every 200 ms; on S3 that is a LIST request each time:
    // once a second is enough there.
    if (f.history.starts_with("s3://")) o.stop_poll_micros = 1'000'000;
    return flow::OpenObjectStoreHistory(f.history, o);
  }
  std::string path = f.history;
  if (path.empty()) {
    LOTE_ASSIGN_OR_RETURN(path, DefaultHistoryPath());
  }
  flow::SqliteHistoryOptions o;
  o.sync_every_append = f.sync;
  return flow::OpenSqliteHistory(path, o);
}

void AddHistoryFlags(CLI::App* cmd, HistoryFlags* f) {
  cmd->add_option("--history", f->history,
                  "History: an SQLite file (default $XDG_STATE_HOME/lote/flow-history.db), a URI "
                  "(s3://bucket/prefix/, file://...: a log of objects beside an output), or "
                  ":memory: (none: nothing can be resumed)");
}

namespace {

// Progress on stderr, one line per state entered or exited and per execution event.
void PrintProgress(const flow::ProgressEvent& e) {
  static std::mutex mu;
  std::lock_guard<std::mutex> lock(mu);
  std::string line = "lote flow: " + e.type;
  if (!e.state.empty()) line += " " + e.state;
  if (!e.scope.empty()) line += " [" + e.scope + "]";
  std::fprintf(stderr, "%s\n", text::EscapeControl(line).c_str());
}

}  // namespace

// Test hook for crash tests (docs/testing.md): LOTE_FLOW_KILL_AT=TYPE:STATE kills this process
// with SIGKILL when event TYPE of state STATE is emitted (e.g. TaskSucceeded:Infer: the task ran,
// its result is not yet on disk).
std::function<void(const flow::ProgressEvent&)> ProgressCallback(bool quiet) {
  std::string kill_at = EnvOr("LOTE_FLOW_KILL_AT", "");
  if (kill_at.empty()) {
    if (quiet) return nullptr;
    return PrintProgress;
  }
  return [kill_at, quiet](const flow::ProgressEvent& e) {
    if (!quiet) PrintProgress(e);
    if (e.type + ":" + e.state == kill_at) ::kill(::getpid(), SIGKILL);
  };
}

namespace {

// Executions are owned by "HOST:PID:" + a random part; a holder on this host whose pid is gone
// (killed) is taken over at once instead of after its lease.
std::string HostName() {
  char host[256] = {0};
  if (::gethostname(host, sizeof host - 1) != 0) return "unknown";
  return host;
}

}  // namespace

void SetOwnership(flow::ExecutorOptions* o) {
  std::string host = HostName();
  o->owner_prefix = host + ":" + std::to_string(::getpid()) + ":";
  o->owner_is_gone = [host](const std::string& owner) {
    size_t a = owner.find(':');
    size_t b = a == std::string::npos ? a : owner.find(':', a + 1);
    if (b == std::string::npos || owner.compare(0, a, host) != 0) return false;
    char* end = nullptr;
    long pid = std::strtol(owner.c_str() + a + 1, &end, 10);
    if (end != owner.c_str() + b || pid <= 0) return false;
    return ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH;
  };
}

void AddTaskFlags(CLI::App* cmd, TaskFlags* f) {
  cmd->add_option("--config", f->config,
                  "Pipeline configuration (config/pipeline.yaml) the stage tasks run with");
  cmd->add_option("--model", f->models,
                  "NAME=FILE: the model file a createTransformJob's ModelName NAME runs "
                  "(repeatable)");
  cmd->add_option("--pii-key-file", f->pii_key_file, "PII key for the stage tasks");
  cmd->add_option("--athena-database", f->athena_databases,
                  "NAME=OUTPUT: athena:startQueryExecution with QueryExecutionContext.Database "
                  "NAME queries the catalog of pipeline output OUTPUT (repeatable)");
  cmd->add_option("--function", f->functions,
                  "NAME=COMMAND: lambda:invoke of FunctionName NAME runs COMMAND (split on "
                  "spaces, no shell) with the Payload on stdin; it prints one JSON value "
                  "(repeatable)");
  cmd->add_option("--state-machine-file", f->state_machines,
                  "NAME=FILE: states:startExecution of a StateMachineArn ending in "
                  ":stateMachine:NAME runs definition FILE as a nested execution (repeatable)");
  cmd->add_option("--s3-root", f->s3_root,
                  "Where a distributed Map's ItemReader/ResultWriter find bucket B: S3_ROOT/B/ "
                  "(default s3://, i.e. S3 itself; e.g. file:///data/buckets/ for a local lake)");
}

Result<std::unique_ptr<PipelineTasks>> MakeTasks(const TaskFlags& f) {
  RunConfig base;
  if (!f.config.empty()) {
    Status s = LoadRunConfig(f.config, &base);
    if (!s.ok()) return InvalidArgumentError("bad config: " + s.message());
  }
  if (base.s3) UseS3Options(*base.s3);
  if (!f.pii_key_file.empty()) base.pii_key_file = f.pii_key_file;
  LOTE_ASSIGN_OR_RETURN(Secret key, LoadPiiKey(base.pii_key_file));
  base.pipeline.fingerprint_key = key;
  base.engine.pii_key = key;
  base.pipeline.threads = ResolveThreads(base.pipeline.threads);
  if (base.engine.reference_date.empty()) {
    base.engine.reference_date = FormatDate(SystemClock()->NowMicros());
  }
  LOTE_ASSIGN_OR_RETURN(auto models, ParseModelMap(f.models));
  LocalResources resources;
  for (const std::string& d : f.athena_databases) {
    size_t eq = d.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == d.size()) {
      return InvalidArgumentError("--athena-database " + d + ": expected NAME=OUTPUT");
    }
    resources.athena_databases[d.substr(0, eq)] = d.substr(eq + 1);
  }
  for (const std::string& fn : f.functions) {
    size_t eq = fn.find('=');
    std::vector<std::string> argv;
    if (eq != std::string::npos) {
      for (size_t at = eq + 1; at < fn.size();) {
        size_t next = fn.find(' ', at);
        if (next == std::string::npos) next = fn.size();
        if (next > at) argv.push_back(fn.substr(at, next - at));
        at = next + 1;
      }
    }
    if (eq == std::string::npos || eq == 0 || argv.empty()) {
      return InvalidArgumentError("--function " + fn + ": expected NAME=COMMAND");
    }
    std::string name = fn.substr(0, eq);
    if (IsBuiltInFunction(name)) {
      return InvalidArgumentError("--function " + name + ": that function is built in");
    }
    resources.functions[name] = std::move(argv);
  }
  return std::make_unique<PipelineTasks>(std::move(base), std::move(models), "",
                                         std::move(resources));
}

Status EnableNestedExecutions(const TaskFlags& f, const std::string& substitutions,
                              const flow::ExecutorOptions& o, PipelineTasks* tasks) {
  NestedExecutions nested;
  LOTE_ASSIGN_OR_RETURN(auto files, ParseModelMap(f.state_machines, "--state-machine-file"));
  for (const auto& [name, file] : files) {
    LOTE_ASSIGN_OR_RETURN(std::string definition, LoadDefinition(file, substitutions));
    flow::ParseOptions po;
    po.source = file;
    LOTE_RETURN_IF_ERROR(flow::ParseDefinition(definition, po).status());
    nested.definitions[name] = std::move(definition);
  }
  nested.history = o.history;
  nested.run = [o](const std::string& name, const std::string& state_machine,
                   const std::string& definition,
                   const flow::Json& input) -> Result<flow::ExecutionResult> {
    flow::Executor executor(o);
    if (definition.empty()) return executor.Resume(name);
    return executor.Run(name, state_machine, definition, input);
  };
  nested.arn = [o](const std::string& state_machine, const std::string& name) {
    return flow::ExecutionArn(o, state_machine, name);
  };
  tasks->EnableNestedExecutions(std::move(nested));
  return Status::Ok();
}

namespace {

Result<std::map<std::string, std::string>> ReadSubstitutions(const std::string& path) {
  std::map<std::string, std::string> values;
  if (path.empty()) return values;
  LOTE_ASSIGN_OR_RETURN(std::string text,
                        ReadSmallFile(path, kMaxDefinitionBytes, "substitutions file"));
  Json doc = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object()) {
    return InvalidArgumentError("substitutions file " + path +
                                ": expected a JSON object of names to values");
  }
  for (const auto& [k, v] : doc.items()) {
    if (v.is_string()) {
      values[k] = v.get<std::string>();
    } else if (v.is_number() || v.is_boolean()) {
      values[k] = v.dump();
    } else {
      return InvalidArgumentError("substitutions file " + path + ": " + k +
                                  ": expected a string, number or boolean");
    }
  }
  return values;
}

}  // namespace

Result<std::string> LoadDefinition(const std::string& path, const std::string& substitutions) {
  LOTE_ASSIGN_OR_RETURN(std::string text, ReadSmallFile(path, kMaxDefinitionBytes, "definition"));
  LOTE_ASSIGN_OR_RETURN(auto values, ReadSubstitutions(substitutions));
  if (!values.empty() || text.find("${") != std::string::npos) {
    auto substituted = flow::Substitute(text, values);
    if (!substituted.ok()) return substituted.status().WithContext(path);
    text = std::move(substituted).value();
  }
  return text;
}

std::unique_ptr<flow::ItemStore> MakeItemStore(const TaskFlags& f) {
  flow::StorageItemStoreOptions o;
  if (!f.s3_root.empty()) o.bucket_root = f.s3_root;
  return flow::NewStorageItemStore(std::move(o));
}

Result<std::map<std::string, std::string>> ParseModelMap(const std::vector<std::string>& flags,
                                                         std::string_view flag) {
  std::map<std::string, std::string> models;
  for (const std::string& m : flags) {
    size_t eq = m.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == m.size()) {
      return InvalidArgumentError(std::string(flag) + " " + m + ": expected NAME=FILE");
    }
    models[m.substr(0, eq)] = m.substr(eq + 1);
  }
  return models;
}

}  // namespace lote::cli
