// Task resources of `lote flow` run by lote's own pipeline stages (see flow_tasks.h).
#include "flow_tasks.h"

#include <sys/stat.h>

#include "lote/pipeline/stages.h"

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

}  // namespace

PipelineTasks::PipelineTasks(RunConfig base, std::map<std::string, std::string> models,
                             std::string default_model)
    : base_(std::move(base)),
      models_(std::move(models)),
      default_model_(std::move(default_model)) {}

Outcome<Json> PipelineTasks::Invoke(const flow::TaskInvocation& inv) {
  const std::string& r = inv.resource;
  if (r == "arn:aws:states:::sagemaker:createProcessingJob.sync") return Processing(inv, false);
  if (r == "arn:aws:states:::glue:startJobRun.sync") return Processing(inv, true);
  if (r == "arn:aws:states:::sagemaker:createTransformJob.sync") return Transform(inv);
  if (r == "arn:aws:states:::lambda:invoke") return Lambda(inv);
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
    input = FirstOf(p, "ProcessingInputs", {"S3Input", "S3Uri"});
    const Json* outputs = nullptr;
    if (p.contains("ProcessingOutputConfig")) outputs = &p["ProcessingOutputConfig"];
    output = outputs ? FirstOf(*outputs, "Outputs", {"S3Output", "S3Uri"}) : "";
    job = StringAt(p, {"ProcessingJobName"});
  }
  std::string service = glue ? "Glue" : "SageMaker";
  if (input.empty() || output.empty()) {
    return BadRequest(service, glue ? "Arguments must give --input and --output"
                                    : "ProcessingInputs[0].S3Input.S3Uri and "
                                      "ProcessingOutputConfig.Outputs[0].S3Output.S3Uri are "
                                      "required");
  }
  pipeline::PipelineOptions o = base_.pipeline;
  o.input_uri = input;
  o.output_uri = output;
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
  auto engine = LoadEngine(c);
  if (!engine.ok()) return StageError(engine.status());
  auto report = pipeline::RunStage(pipeline::Stage::kInfer, c.pipeline, *engine);
  if (!report.ok()) return StageError(report.status());
  return Json{{"TransformJobName", StringAt(p, {"TransformJobName"})},
              {"TransformJobStatus", "Completed"},
              {"ModelName", model_name},
              {"TransformOutput", Json{{"S3OutputPath", output}}},
              {"Lote", StageJson(*report)}};
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
  if (base != "lote-publish") {
    return StateError{"Lambda.ResourceNotFoundException",
                      "no built-in handler named '" + function + "' (lote-publish)"};
  }
  Json payload = p.contains("Payload") ? p["Payload"] : Json::object();
  std::string output = StringAt(payload, {"output"});
  if (output.empty()) return BadRequest("Lambda", "lote-publish needs Payload.output");
  pipeline::PipelineOptions o = base_.pipeline;
  o.output_uri = output;
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
  // lambda:invoke's response shape: the function's result is under Payload.
  return Json{{"ExecutedVersion", "$LATEST"}, {"Payload", std::move(result)}, {"StatusCode", 200}};
}

}  // namespace lote::cli
