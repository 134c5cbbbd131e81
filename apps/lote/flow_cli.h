// What `lote flow` and `lote watch --flow` share: reading definitions, substitutions and inputs,
// the history database, the Task resources, ownership of executions and progress lines.
#ifndef LOTE_APPS_LOTE_FLOW_CLI_H_
#define LOTE_APPS_LOTE_FLOW_CLI_H_

#include <CLI/CLI.hpp>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "flow_tasks.h"
#include "lote/base/status.h"
#include "lote/flow/executor.h"
#include "lote/flow/history.h"
#include "lote/flow/item_store.h"

namespace lote::cli {

// AWS's limit on a definition's size (1 MiB); inputs are bounded by the executor (256 KiB).
constexpr size_t kMaxDefinitionBytes = 1 << 20;
constexpr size_t kMaxInputFileBytes = 1 << 20;

// A whole file of at most `limit` bytes; errors name `what` and the path.
Result<std::string> ReadSmallFile(const std::string& path, size_t limit, std::string_view what);

// The state machine's name: the definition file's name without folders and ".asl.json"/".json".
std::string StemOf(const std::string& path);

struct HistoryFlags {
  std::string history;  // empty: $XDG_STATE_HOME/lote/flow-history.db; ":memory:": none
  bool sync = false;
};
void AddHistoryFlags(CLI::App* cmd, HistoryFlags* f);
Result<std::unique_ptr<flow::HistoryStore>> OpenHistory(const HistoryFlags& f);

// The Task resources' configuration: the pipeline YAML and the models by name.
struct TaskFlags {
  std::string config, pii_key_file;
  std::string s3_root;  // a distributed Map's s3://BUCKET/KEY is read at S3_ROOT/BUCKET/KEY
  std::vector<std::string> models;            // NAME=FILE
  std::vector<std::string> athena_databases;  // NAME=OUTPUT: the catalog an Athena database reads
  std::vector<std::string> functions;         // NAME=COMMAND: a lambda:invoke FunctionName
  std::vector<std::string> state_machines;    // NAME=FILE: a states:startExecution's definition
};
void AddTaskFlags(CLI::App* cmd, TaskFlags* f);
Result<std::unique_ptr<PipelineTasks>> MakeTasks(const TaskFlags& f);
// Lets `tasks` run states:startExecution: the definitions of --state-machine-file NAME=FILE
// (each checked, with `substitutions` filled in) run as nested executions by an executor with
// options `o` (the parent's history and tasks). Errors name the flag or file.
Status EnableNestedExecutions(const TaskFlags& f, const std::string& substitutions,
                              const flow::ExecutorOptions& o, PipelineTasks* tasks);
// A distributed Map's ItemReader and ResultWriter over lote's storage (--s3-root).
std::unique_ptr<flow::ItemStore> MakeItemStore(const TaskFlags& f);
// NAME=FILE flags into a map; InvalidArgument naming a malformed one.
Result<std::map<std::string, std::string>> ParseModelMap(const std::vector<std::string>& flags,
                                                         std::string_view flag = "--model");

// The definition at `path` with the ${Name} values of the JSON object at `substitutions` (may
// be empty) filled in.
Result<std::string> LoadDefinition(const std::string& path, const std::string& substitutions);

// Progress lines on stderr (none when quiet), and the crash-test hook LOTE_FLOW_KILL_AT.
std::function<void(const flow::ProgressEvent&)> ProgressCallback(bool quiet);

// Owners "HOST:PID:random"; an owner on this host whose pid is gone is taken over at once.
void SetOwnership(flow::ExecutorOptions* o);

}  // namespace lote::cli

#endif  // LOTE_APPS_LOTE_FLOW_CLI_H_
