// The Task resources `lote flow` runs on one machine: AWS's own resource ARNs and request shapes,
// answered by lote's pipeline stages (docs/flow.md, "Resources"):
//   arn:aws:states:::sagemaker:createProcessingJob.sync, glue:startJobRun.sync -> ingest + prep
//   arn:aws:states:::sagemaker:createTransformJob.sync                         -> infer
//   arn:aws:states:::lambda:invoke with FunctionName lote-publish              -> publish
// The result has the shape of the service's Describe* response, plus a "Lote" object with the
// stage's report. Stage failures become task errors named "Lote.<StatusCode>" (e.g.
// "Lote.Unavailable": the output is locked or the store unreachable, worth a Retry).
#ifndef LOTE_APPS_LOTE_FLOW_TASKS_H_
#define LOTE_APPS_LOTE_FLOW_TASKS_H_

#include <map>
#include <memory>
#include <string>

#include "lote/flow/executor.h"
#include "pipeline_config.h"

namespace lote::cli {

class PipelineTasks : public flow::TaskHandler {
 public:
  // `base`: the pipeline configuration (--config) every stage starts from; `models`: SageMaker
  // ModelName -> model file; a ModelName not in it runs `default_model` when that is set
  // (`lote watch --flow` with its --model), else fails with SageMaker.ResourceNotFound.
  PipelineTasks(RunConfig base, std::map<std::string, std::string> models,
                std::string default_model = "");

  flow::Outcome<flow::Json> Invoke(const flow::TaskInvocation& invocation) override;

 private:
  flow::Outcome<flow::Json> Processing(const flow::TaskInvocation& inv, bool glue);
  flow::Outcome<flow::Json> Transform(const flow::TaskInvocation& inv);
  flow::Outcome<flow::Json> Lambda(const flow::TaskInvocation& inv);

  RunConfig base_;
  std::map<std::string, std::string> models_;
  std::string default_model_;
};

}  // namespace lote::cli

#endif  // LOTE_APPS_LOTE_FLOW_TASKS_H_
