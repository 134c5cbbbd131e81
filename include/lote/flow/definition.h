// A state machine definition in the Amazon States Language (ASL), parsed and validated.
//
// ParseDefinition reads the JSON a Step Functions state machine is created with and checks it
// as AWS's ValidateStateMachineDefinition does, reporting every problem with its location in the
// definition: "States.Infer.Next: no state named 'Publsh'". Checked: JSON syntax, StartAt, state
// types and their required/forbidden fields, field types and ranges, Next/End/Default/Catch
// targets, unreachable states, terminal states (a branch must be able to end), paths, payload
// templates, intrinsics, choice rules, Retry/Catch (States.ALL last and alone), Map and Parallel
// sub-machines (recursively, their names reported as "States.Fan.Branches[0].States.X.Next"),
// and QueryLanguage (JSONata is refused with a clear error: lote runs JSONPath definitions).
//
// Substitute fills "${Name}" placeholders as CloudFormation's DefinitionSubstitutions do.
// Thread-safety: a parsed StateMachine is immutable and shared by every execution.
#ifndef LOTE_FLOW_DEFINITION_H_
#define LOTE_FLOW_DEFINITION_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "lote/base/status.h"
#include "lote/flow/choice.h"
#include "lote/flow/json_path.h"
#include "lote/flow/state_error.h"

namespace lote::flow {

enum class StateType { kTask, kPass, kChoice, kWait, kSucceed, kFail, kParallel, kMap };

// "Task", "Pass", ...
std::string_view StateTypeName(StateType type);

// InputPath / OutputPath: absent means "$"; JSON null means "{}" goes in (or out).
struct PathField {
  bool is_null = false;
  std::optional<JsonPath> path;  // set unless is_null; nullopt = "$" (the default)
};

// ResultPath: absent means "$" (the result replaces the input); null discards the result.
struct ResultPathField {
  bool discard = false;          // "ResultPath": null
  std::optional<JsonPath> path;  // nullopt (and !discard) = "$"
};

struct Retrier {
  std::vector<std::string> error_equals;
  double interval_seconds = 1;              // IntervalSeconds (integer >= 1 in ASL)
  int max_attempts = 3;                     // MaxAttempts (0 = never retry)
  double backoff_rate = 2.0;                // BackoffRate (>= 1.0)
  std::optional<double> max_delay_seconds;  // MaxDelaySeconds
  bool full_jitter = false;                 // JitterStrategy: "FULL" (default "NONE")
};

struct Catcher {
  std::vector<std::string> error_equals;
  ResultPathField result_path;  // where {"Error", "Cause"} goes; default "$"
  std::string next;
};

// A number given literally or through a reference path (TimeoutSeconds / TimeoutSecondsPath).
struct NumberField {
  std::optional<double> value;
  std::optional<JsonPath> path;
  bool present() const { return value.has_value() || path.has_value(); }
};

struct StateMachine;

// Map's ItemReader (distributed mode): Resource "arn:aws:states:::s3:getObject" or
// "arn:aws:states:::s3:listObjectsV2", Parameters (a template), ReaderConfig (InputType JSON /
// JSONL / CSV / MANIFEST, CSVHeaderLocation FIRST_ROW / GIVEN, CSVHeaders, CSVDelimiter,
// MaxItems / MaxItemsPath).
struct ItemReader {
  std::string resource;
  std::optional<PayloadTemplate> parameters;
  Json reader_config = Json::object();
  NumberField max_items;
};

// Map's ItemBatcher: MaxItemsPerBatch(Path), MaxInputBytesPerBatch(Path), BatchInput (a
// template merged into each batch as {"BatchInput": ..., "Items": [...]}).
struct ItemBatcher {
  NumberField max_items_per_batch;
  NumberField max_input_bytes_per_batch;
  std::optional<PayloadTemplate> batch_input;
};

// Map's ResultWriter: Resource "arn:aws:states:::s3:putObject", Parameters {Bucket, Prefix}.
struct ResultWriter {
  std::string resource;
  std::optional<PayloadTemplate> parameters;
  Json writer_config = Json::object();
};

struct State {
  std::string name;
  StateType type = StateType::kPass;
  std::string comment;

  // Transition (every type but Choice, Succeed, Fail): exactly one of these.
  std::string next;
  bool end = false;

  // Input and output processing (what each type allows is checked at parse).
  PathField input_path;
  PathField output_path;
  ResultPathField result_path;
  std::optional<PayloadTemplate> parameters;       // Parameters (Map: ItemSelector/Parameters
                                                   // goes in item_selector)
  std::optional<PayloadTemplate> result_selector;  // ResultSelector
  std::vector<Retrier> retry;                      // Task, Parallel, Map
  std::vector<Catcher> catchers;                   // Task, Parallel, Map

  // Pass.
  std::optional<Json> result;

  // Task.
  std::string resource;
  NumberField timeout_seconds;    // TimeoutSeconds / TimeoutSecondsPath (default 99999999)
  NumberField heartbeat_seconds;  // HeartbeatSeconds / HeartbeatSecondsPath
  std::optional<Json> credentials;

  // Choice.
  std::vector<ChoiceRule> choices;
  std::string default_next;  // Default; empty when absent

  // Wait: exactly one of these.
  std::optional<double> seconds;
  std::optional<int64_t> timestamp_micros;  // Timestamp, parsed
  std::optional<JsonPath> seconds_path;
  std::optional<JsonPath> timestamp_path;

  // Fail: Error / ErrorPath, Cause / CausePath (each pair exclusive; all optional).
  std::optional<std::string> error;
  std::optional<std::string> cause;
  std::optional<PathOrIntrinsic> error_path;
  std::optional<PathOrIntrinsic> cause_path;

  // Parallel.
  std::vector<std::shared_ptr<const StateMachine>> branches;

  // Map (ItemProcessor, or the older Iterator).
  std::shared_ptr<const StateMachine> item_processor;
  bool distributed = false;                      // ItemProcessor.ProcessorConfig.Mode DISTRIBUTED
  std::string execution_type;                    // ProcessorConfig.ExecutionType (STANDARD/EXPRESS)
  std::optional<JsonPath> items_path;            // ItemsPath (default "$")
  std::optional<PayloadTemplate> item_selector;  // ItemSelector, or Parameters on a Map
  NumberField max_concurrency;                   // MaxConcurrency(Path); 0 = no limit
  std::optional<ItemReader> item_reader;
  std::optional<ItemBatcher> item_batcher;
  std::optional<ResultWriter> result_writer;
  NumberField tolerated_failure_count;       // ToleratedFailureCount(Path)
  NumberField tolerated_failure_percentage;  // ToleratedFailurePercentage(Path)
  std::string label;                         // Label
};

struct StateMachine {
  std::string start_at;
  std::string comment;
  std::optional<double> timeout_seconds;          // top-level TimeoutSeconds
  std::vector<State> states;                      // in definition order
  std::unordered_map<std::string, size_t> index;  // state name -> position in `states`

  // The state named `name`, or null.
  const State* Find(std::string_view name) const {
    auto it = index.find(std::string(name));
    return it == index.end() ? nullptr : &states[it->second];
  }
};

struct ParseOptions {
  // Named in every error message ("pipeline.asl.json: States.Infer.Next: ...").
  std::string source = "definition";
};

// Parses and validates a definition. On failure the Status (InvalidArgument) lists every problem
// found, one per line, each as "SOURCE: LOCATION: problem".
Result<std::shared_ptr<const StateMachine>> ParseDefinition(std::string_view json_text,
                                                            const ParseOptions& options = {});

// Fills every "${Name}" in `definition` from `values` as CloudFormation's DefinitionSubstitutions
// do (plain text replacement before the JSON is parsed). A placeholder with no value is an error
// naming it; "${" not followed by a name and "}" is left as is.
Result<std::string> Substitute(std::string_view definition,
                               const std::map<std::string, std::string>& values);

}  // namespace lote::flow

#endif  // LOTE_FLOW_DEFINITION_H_
