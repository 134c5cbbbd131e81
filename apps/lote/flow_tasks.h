// The Task resources `lote flow` runs on one machine: AWS's own resource ARNs and request shapes,
// answered by lote's pipeline stages (docs/flow.md, "Resources"):
//   arn:aws:states:::sagemaker:createProcessingJob.sync, glue:startJobRun.sync -> ingest + prep
//   arn:aws:states:::sagemaker:createTransformJob.sync                         -> infer (over
//     a ManifestFile of prep parts: lote serve's answer per part, as on AWS, docs/adr/0015)
//   arn:aws:states:::lambda:invoke with FunctionName lote-transform-input      -> the manifest
//   arn:aws:states:::lambda:invoke with FunctionName lote-publish              -> publish
//   ... lote-training-data, lote-register, lote-promote      -> continuous training (retrain.h)
//   arn:aws:states:::lambda:invoke with a FunctionName of --function          -> a command
//   arn:aws:states:::athena:startQueryExecution.sync, athena:getQueryResults  -> lote query
//   arn:aws:states:::sagemaker:createTrainingJob.sync                         -> lote train
//   arn:aws:states:::states:startExecution(.sync, .sync:2)                     -> a nested
//   execution
// The result has the shape of the service's Describe* response, plus a "Lote" object with the
// stage's report. Stage failures become task errors named "Lote.<StatusCode>" (e.g.
// "Lote.Unavailable": the output is locked or the store unreachable, worth a Retry).
#ifndef LOTE_APPS_LOTE_FLOW_TASKS_H_
#define LOTE_APPS_LOTE_FLOW_TASKS_H_

#include <atomic>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lote/flow/executor.h"
#include "lote/flow/history.h"
#include "pipeline_config.h"

namespace lote::cli {

// The resources beside the pipeline's stages (lote flow run --athena-database, --function).
struct LocalResources {
  // Athena database name (QueryExecutionContext.Database) -> the pipeline output whose catalog
  // answers its queries (a folder or an s3:// output, whose local cache is brought up to date).
  std::map<std::string, std::string> athena_databases;
  // Lambda FunctionName -> the command's argv (no shell).
  std::map<std::string, std::vector<std::string>> functions;
};

// What states:startExecution needs to run a nested execution on this machine: the definitions
// by state machine name (lote flow run --state-machine-file NAME=FILE) and an executor sharing
// the parent's history, tasks and options.
struct NestedExecutions {
  std::map<std::string, std::string> definitions;  // state machine name -> definition text
  flow::HistoryStore* history = nullptr;
  // Runs execution `name` of `state_machine` to its end (Executor::Run), or continues one a
  // killed process left RUNNING (Executor::Resume, with `definition` empty).
  std::function<Result<flow::ExecutionResult>(
      const std::string& name, const std::string& state_machine, const std::string& definition,
      const flow::Json& input)>
      run;
  std::function<std::string(const std::string& state_machine, const std::string& name)> arn;
};

// The Lambda functions lote itself answers (lambda:invoke's FunctionName, and `lote lambda`):
// lote-publish, lote-transform-input, lote-training-data, lote-register, lote-promote.
bool IsBuiltInFunction(std::string_view name);

// Nested executions running at once (a definition starting itself stops here).
inline constexpr int kMaxNestedExecutions = 8;

class PipelineTasks : public flow::TaskHandler {
 public:
  // `base`: the pipeline configuration (--config) every stage starts from; `models`: SageMaker
  // ModelName -> model file; a ModelName not in it runs `default_model` when that is set
  // (`lote watch --flow` with its --model), else fails with SageMaker.ResourceNotFound.
  PipelineTasks(RunConfig base, std::map<std::string, std::string> models,
                std::string default_model = "", LocalResources resources = {});

  flow::Outcome<flow::Json> Invoke(const flow::TaskInvocation& invocation) override;

  // Makes states:startExecution run nested executions; call before any execution starts.
  void EnableNestedExecutions(NestedExecutions nested) { nested_ = std::move(nested); }

 private:
  flow::Outcome<flow::Json> Processing(const flow::TaskInvocation& inv, bool glue);
  flow::Outcome<flow::Json> Transform(const flow::TaskInvocation& inv);
  flow::Outcome<flow::Json> Lambda(const flow::TaskInvocation& inv);
  flow::Outcome<flow::Json> AthenaQuery(const flow::TaskInvocation& inv);
  flow::Outcome<flow::Json> AthenaResults(const flow::TaskInvocation& inv);
  flow::Outcome<flow::Json> Training(const flow::TaskInvocation& inv);
  flow::Outcome<flow::Json> StartExecution(const flow::TaskInvocation& inv);
  flow::Outcome<flow::Json> RetrainFunction(const std::string& function, const flow::Json& payload,
                                            const flow::TaskInvocation& inv);

  // A query's result, kept for athena:getQueryResults.
  struct StoredResult {
    std::string id;
    std::vector<std::string> columns;
    std::vector<std::string> types;  // Athena's: varchar, bigint, double
    std::vector<std::vector<std::optional<std::string>>> rows;
    size_t bytes = 0;  // of the values, counted against the bound on what is kept
  };

  RunConfig base_;
  std::map<std::string, std::string> models_;
  std::string default_model_;
  LocalResources resources_;
  NestedExecutions nested_;
  std::atomic<int> active_nested_{0};

  std::mutex mu_;  // guards results_, result_bytes_ and catalog_mu_
  // The latest query results of this process, oldest first (at most 64 and 256 MiB).
  std::deque<std::shared_ptr<const StoredResult>> results_;
  size_t result_bytes_ = 0;
  // One mutex per output: an s3:// output's catalog cache is synced by one query at a time.
  std::map<std::string, std::shared_ptr<std::mutex>> catalog_mu_;
};

}  // namespace lote::cli

#endif  // LOTE_APPS_LOTE_FLOW_TASKS_H_
