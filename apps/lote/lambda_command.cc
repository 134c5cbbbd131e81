// `lote lambda [FUNCTION] [--config FILE] [--pii-key-file FILE]`: lote as an AWS Lambda function,
// the entry point of a container image that the deployed state machines call through
// lambda:invoke. It speaks Lambda's runtime API (lote/aws/lambda_runtime.h) at
// AWS_LAMBDA_RUNTIME_API and answers each invocation with one of the functions `lote flow`
// runs in process (flow_tasks.h): lote-publish, lote-transform-input, lote-training-data,
// lote-register, lote-promote.
// The event is what the definition's Payload says; the response is the function's result, the
// very JSON `lote flow` puts under lambda:invoke's Payload; a failure is an error report whose
// errorType is the error `lote flow` gives (Lote.<StatusCode>, Lambda.ValidationException, ...),
// so that the definition's Retry and Catch match the same names on AWS as on one machine.
// An event's `execution` field (the definition passes $$.Execution.Id) is the execution the run
// or registry change is recorded under, as `lote flow`'s context object gives it locally.
#include <cstdio>
#include <cstdlib>

#include "command.h"
#include "common.h"
#include "flow_cli.h"
#include "flow_tasks.h"
#include "lote/aws/lambda_runtime.h"
#include "lote/base/clock.h"
#include "lote/text/utf8.h"

namespace lote::cli {
namespace {

using flow::Json;

struct LambdaFlags {
  std::string function;
  TaskFlags tasks;
};

int64_t NowMs() { return SystemClock()->NowMicros() / 1000; }

// One line per invocation on stderr (CloudWatch Logs on AWS): the request id, the outcome and
// the time; an error's cause is bounded and escaped (it names files and fields, never payloads).
void LogInvocation(const std::string& function, const aws::LambdaInvocation& inv,
                   const aws::LambdaError* error, int64_t ms) {
  if (error == nullptr) {
    std::fprintf(stderr, "lote lambda: %s %s succeeded in %lld ms\n", function.c_str(),
                 inv.request_id.c_str(), static_cast<long long>(ms));
    return;
  }
  std::fprintf(stderr, "lote lambda: %s %s failed in %lld ms: %s: %s\n", function.c_str(),
               inv.request_id.c_str(), static_cast<long long>(ms),
               text::EscapeControl(CutUtf8(error->type, 128)).c_str(),
               text::EscapeControl(CutUtf8(error->message, 512)).c_str());
}

int RunLambda(const LambdaFlags& f) {
  const char* api = std::getenv("AWS_LAMBDA_RUNTIME_API");
  if (api == nullptr || *api == '\0') {
    return FailUsage(
        "lote lambda runs inside AWS Lambda: AWS_LAMBDA_RUNTIME_API (HOST:PORT) is not set");
  }
  aws::LambdaRuntimeOptions options;
  options.api = api;
  auto client = aws::LambdaRuntimeClient::Create(std::move(options));
  if (!client.ok()) return FailUsage(client.status().message());
  // The function: the argument, else the handler Lambda was configured with.
  std::string function = f.function;
  if (const char* handler = std::getenv("_HANDLER"); function.empty() && handler != nullptr) {
    function = handler;
  }
  // Lambda fails the init phase with what it is told; the exit code says the same here.
  auto init_failed = [&](const Status& status, bool usage) {
    Status reported = (*client)->ReportInitError(
        {"Lote." + std::string(StatusCodeName(status.code())), status.message()});
    if (!reported.ok()) {
      std::fprintf(stderr, "lote: %s\n", text::EscapeControl(reported.message()).c_str());
    }
    return usage ? FailUsage(status.message()) : Fail(status);
  };
  if (!IsBuiltInFunction(function)) {
    return init_failed(
        InvalidArgumentError(
            "lote lambda: the function must be lote-publish, lote-transform-input, "
            "lote-training-data, lote-register or lote-promote (the argument or _HANDLER), not '" +
            CutUtf8(text::EscapeControl(function), 64) + "'"),
        true);
  }
  auto tasks = MakeTasks(f.tasks);
  if (!tasks.ok()) return init_failed(tasks.status(), false);

  for (;;) {
    auto inv = (*client)->Next();
    if (!inv.ok()) return Fail(inv.status());
    const int64_t start = SystemClock()->MonotonicNanos();
    aws::LambdaError error;
    bool failed = false;
    std::string response;
    Json event = Json::parse(inv->event, nullptr, false);
    if (event.is_discarded()) {
      failed = true;
      error = {"Lambda.ValidationException", function + ": the event is not JSON"};
    } else {
      flow::TaskInvocation task;
      task.state_name = function;
      task.resource = "arn:aws:states:::lambda:invoke";
      task.parameters = Json{{"FunctionName", function}, {"Payload", event}};
      task.context = Json::object();
      if (event.is_object() && event.contains("execution") && event["execution"].is_string()) {
        task.context["Execution"] = Json{{"Id", event["execution"]}};
      }
      // Lambda stops the function at its deadline; a command it runs stops a little before.
      const int64_t deadline = inv->deadline_ms;
      task.cancelled = [deadline] { return deadline > 0 && NowMs() >= deadline - 500; };
      task.heartbeat = [] {};
      auto outcome = (**tasks).Invoke(task);
      if (outcome.ok()) {
        response = outcome.value()["Payload"].dump(-1, ' ', false, Json::error_handler_t::replace);
      } else {
        failed = true;
        error = {outcome.error().error, outcome.error().cause};
      }
    }
    // Logged before it is sent: once the service has the outcome it may stop the environment.
    LogInvocation(function, *inv, failed ? &error : nullptr,
                  (SystemClock()->MonotonicNanos() - start) / 1000000);
    Status sent = failed ? (*client)->ReportError(*inv, error) : (*client)->Respond(*inv, response);
    // A response over Lambda's limit was reported as that invocation's error; the next may fit.
    if (!sent.ok() && sent.code() != StatusCode::kResourceExhausted) return Fail(sent);
  }
}

void SetupLambda(CLI::App& root, int* exit_code) {
  auto* cmd = root.add_subcommand(
      "lambda",
      "Serve a built-in function (lote-publish, lote-transform-input, lote-training-data, "
      "lote-register, lote-promote) to AWS Lambda's runtime API: the entry point of lote's Lambda "
      "container");
  auto f = std::make_shared<LambdaFlags>();
  cmd->add_option("function", f->function,
                  "The function (default: the handler Lambda passes in _HANDLER)");
  cmd->add_option("--config", f->tasks.config,
                  "Pipeline configuration (config/pipeline.yaml) the functions run with");
  cmd->add_option("--pii-key-file", f->tasks.pii_key_file, "PII key for lote-publish");
  cmd->callback([f, exit_code] { *exit_code = RunLambda(*f); });
}

}  // namespace

LOTE_REGISTER_COMMAND(77, SetupLambda);

}  // namespace lote::cli
