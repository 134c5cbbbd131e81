// `lote flow`: runs Amazon States Language state machines with lote's executor (run, resume,
// stop), checks definitions (validate) and reads the durable history (list, history).
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

#include "command.h"
#include "common.h"
#include "flags.h"
#include "flow_cli.h"
#include "flow_tasks.h"
#include "job_metrics.h"
#include "lote/base/clock.h"
#include "lote/base/digest.h"
#include "lote/flow/definition.h"
#include "lote/flow/executor.h"
#include "lote/flow/history.h"
#include "lote/flow/mock_config.h"
#include "lote/monitoring/job_metrics.h"
#include "lote/text/utf8.h"

namespace lote::cli {
namespace {

using flow::Json;

struct RunFlags {
  HistoryFlags history;
  TaskFlags tasks;
  std::string definition, input, input_file, name, state_machine, substitutions, mock_config,
      test_case;
  std::vector<std::string> metrics;  // --metrics SPEC (job_metrics.h)
  int max_threads = 16;
  int64_t max_history_events = 25000;
  size_t max_payload_bytes = 256 * 1024;
  bool quiet = false;
};

// Prints the output (or {"error", "cause"}) on stdout and one summary line on stderr:
// "lote flow: execution NAME SUCCEEDED: N events, X s" (X: the execution in this process, from
// its start or resume to its end, without the process's start-up).
int PrintResult(const std::string& name, const Result<flow::ExecutionResult>& r, double seconds) {
  if (!r.ok()) return Fail(r.status());
  std::fprintf(stderr, "lote flow: execution %s %s: %lld events, %.6f s\n",
               text::EscapeControl(name).c_str(),
               std::string(flow::ExecutionStatusName(r->status)).c_str(),
               static_cast<long long>(r->events), seconds);
  if (r->status == flow::ExecutionStatus::kSucceeded) {
    std::printf("%s\n", r->output->dump(-1, ' ', false, Json::error_handler_t::replace).c_str());
    return kExitOk;
  }
  Json err{{"error", r->error ? r->error->error : ""}, {"cause", r->error ? r->error->cause : ""}};
  std::printf("%s\n", err.dump(-1, ' ', false, Json::error_handler_t::replace).c_str());
  return kExitFlowFailed;
}

int RunFlow(const RunFlags& f) {
  auto definition = LoadDefinition(f.definition, f.substitutions);
  if (!definition.ok()) return Fail(definition.status());
  flow::ParseOptions po;
  po.source = f.definition;
  auto machine = flow::ParseDefinition(*definition, po);
  if (!machine.ok()) return Fail(machine.status());

  std::string input_text = "{}";
  if (!f.input.empty() && !f.input_file.empty()) {
    return FailUsage("flow run: give --input or --input-file, not both");
  }
  if (!f.input.empty()) input_text = f.input;
  if (!f.input_file.empty()) {
    auto t = ReadSmallFile(f.input_file, kMaxInputFileBytes, "input file");
    if (!t.ok()) return Fail(t.status());
    input_text = *t;
  }
  Json input = Json::parse(input_text, nullptr, /*allow_exceptions=*/false);
  if (input.is_discarded()) {
    return Fail(InvalidArgumentError(
        (f.input_file.empty() ? std::string("--input") : f.input_file) + ": not valid JSON"));
  }
  std::string sm = f.state_machine.empty() ? StemOf(f.definition) : f.state_machine;

  std::optional<flow::MockCase> mocks;
  if (!f.mock_config.empty() || !f.test_case.empty()) {
    if (f.mock_config.empty() || f.test_case.empty()) {
      return FailUsage("flow run: --mock-config and --test-case go together");
    }
    auto text = ReadSmallFile(f.mock_config, kMaxDefinitionBytes, "mock config");
    if (!text.ok()) return Fail(text.status());
    auto config = flow::MockConfig::Parse(*text, f.mock_config);
    if (!config.ok()) return Fail(config.status());
    auto c = config->Case(f.state_machine, f.test_case, **machine);
    if (!c.ok()) return Fail(c.status());
    mocks = std::move(c).value();
  }

  auto tasks = MakeTasks(f.tasks);
  if (!tasks.ok()) return Fail(tasks.status());
  auto history = OpenHistory(f.history);
  if (!history.ok()) return Fail(history.status());
  auto items = MakeItemStore(f.tasks);
  flow::ExecutorOptions o;
  o.history = history->get();
  o.tasks = tasks->get();
  o.items = items.get();
  o.mocks = mocks ? &*mocks : nullptr;
  o.max_threads = f.max_threads;
  o.max_history_events = f.max_history_events;
  o.max_payload_bytes = f.max_payload_bytes;
  o.on_progress = ProgressCallback(f.quiet);
  SetOwnership(&o);
  if (Status s = EnableNestedExecutions(f.tasks, f.substitutions, o, tasks->get()); !s.ok()) {
    return Fail(s);
  }
  flow::Executor executor(o);
  std::string name = f.name.empty() ? RandomHex(16) : f.name;
  const int64_t start = SystemClock()->MonotonicNanos();
  auto result = executor.Run(name, sm, *definition, input);
  const double seconds = SystemClock()->SecondsSince(start);
  const int code = PrintResult(name, result, seconds);
  JobMetrics metrics(f.metrics, "flow");
  if (MetricsSink* sink = metrics.sink()) {
    if (result.ok()) {
      const std::string_view status = flow::ExecutionStatusName(result->status);
      monitoring::ReportFlowMetrics(status, seconds, SystemClock()->NowMicros(), sink);
      metrics.Finish(result->status == flow::ExecutionStatus::kSucceeded);
    } else {
      monitoring::ReportJobFailure({}, seconds, SystemClock()->NowMicros(), sink);
      metrics.Finish(false);
    }
  }
  return code;
}

void SetupFlow(CLI::App& root, int* exit_code) {
  auto* flow_cmd = root.add_subcommand(
      "flow", "Run Amazon States Language state machines (Step Functions definitions) locally");
  flow_cmd->require_subcommand(1);

  {
    auto* cmd = flow_cmd->add_subcommand("run", "Run an execution to its end");
    auto f = std::make_shared<RunFlags>();
    cmd->add_option("--definition", f->definition, "ASL definition (JSON)")->required();
    AddMetricsFlag(cmd, &f->metrics);
    cmd->add_option("--input", f->input, "Execution input (JSON text; default {})");
    cmd->add_option("--input-file", f->input_file, "Execution input from a file");
    cmd->add_option("--name", f->name,
                    "Execution name (default: random). Running it again with the same name and "
                    "input resumes it");
    cmd->add_option("--state-machine", f->state_machine,
                    "State machine name (default: the definition file's name without .asl.json)");
    cmd->add_option("--substitutions", f->substitutions,
                    "JSON object of ${Name} values, as CloudFormation DefinitionSubstitutions");
    cmd->add_option("--mock-config", f->mock_config,
                    "Step Functions Local mock configuration (with --test-case)");
    cmd->add_option("--test-case", f->test_case, "Test case of --mock-config");
    cmd->add_option("--max-threads", f->max_threads,
                    "Worker threads for Map and Parallel, whole execution")
        ->capture_default_str()
        ->check(CLI::Range(1, 256));
    cmd->add_flag("--sync", f->history.sync,
                  "fsync the history at every write (default: survives kill -9, not power loss)");
    cmd->add_flag("--quiet", f->quiet, "No progress lines on stderr");
    cmd->add_option("--max-history-events", f->max_history_events,
                    "The execution fails (States.Runtime) past this many events, as AWS's 25,000")
        ->capture_default_str()
        ->check(CLI::Range(int64_t{100}, int64_t{100'000'000}));
    cmd->add_option("--max-payload-bytes", f->max_payload_bytes,
                    "States.DataLimitExceeded above this, as AWS's 256 KiB")
        ->capture_default_str()
        ->check(CLI::Range(size_t{1024}, size_t{64} << 20));
    AddHistoryFlags(cmd, &f->history);
    AddTaskFlags(cmd, &f->tasks);
    cmd->callback([f, exit_code] { *exit_code = RunFlow(*f); });
  }
  {
    auto* cmd = flow_cmd->add_subcommand("validate",
                                         "Check a definition; errors name the state "
                                         "and field");
    auto path = std::make_shared<std::string>();
    auto subs = std::make_shared<std::string>();
    cmd->add_option("definition", *path, "ASL definition (JSON)")->required();
    cmd->add_option("--substitutions", *subs, "JSON object of ${Name} values");
    cmd->callback([path, subs, exit_code] {
      auto text = LoadDefinition(*path, *subs);
      if (!text.ok()) {
        *exit_code = Fail(text.status());
        return;
      }
      flow::ParseOptions po;
      po.source = *path;
      auto m = flow::ParseDefinition(*text, po);
      if (!m.ok()) {
        std::fprintf(stderr, "%s\n", text::EscapeControl(m.status().message()).c_str());
        *exit_code = kExitInput;
        return;
      }
      std::printf("%s: valid (%zu states)\n", path->c_str(), (*m)->states.size());
      *exit_code = kExitOk;
    });
  }
  {
    auto* cmd = flow_cmd->add_subcommand("list", "Executions in the history, most recent first");
    auto f = std::make_shared<HistoryFlags>();
    auto status = std::make_shared<std::string>();
    auto format = std::make_shared<std::string>("table");
    auto limit = std::make_shared<size_t>(100);
    AddHistoryFlags(cmd, f.get());
    cmd->add_option("--status", *status, "RUNNING | SUCCEEDED | FAILED | TIMED_OUT | ABORTED");
    cmd->add_option("--format", *format, "table | json")->capture_default_str();
    cmd->add_option("--limit", *limit, "At most this many")->capture_default_str();
    cmd->callback([f, status, format, limit, exit_code] {
      std::optional<flow::ExecutionStatus> filter;
      if (!status->empty()) {
        filter = flow::ParseExecutionStatus(*status);
        if (!filter) {
          *exit_code = FailUsage("flow list: unknown --status " + *status);
          return;
        }
      }
      auto h = OpenHistory(*f);
      if (!h.ok()) {
        *exit_code = Fail(h.status());
        return;
      }
      auto list = (*h)->List(filter, *limit);
      if (!list.ok()) {
        *exit_code = Fail(list.status());
        return;
      }
      for (const flow::ExecutionRecord& r : *list) {
        std::string status_name(flow::ExecutionStatusName(r.status));
        if (*format == "json") {
          Json j{{"name", r.name},
                 {"stateMachine", r.state_machine},
                 {"status", status_name},
                 {"startDate", FormatTimestampMillis(r.start_micros)}};
          if (r.stop_micros > 0) j["stopDate"] = FormatTimestampMillis(r.stop_micros);
          std::printf("%s\n", j.dump(-1, ' ', false, Json::error_handler_t::replace).c_str());
        } else {
          std::printf("%s\t%s\t%s\t%s\n", text::EscapeControl(r.name).c_str(),
                      text::EscapeControl(r.state_machine).c_str(), status_name.c_str(),
                      FormatTimestampMillis(r.start_micros).c_str());
        }
      }
      *exit_code = kExitOk;
    });
  }
  {
    auto* cmd = flow_cmd->add_subcommand("history", "An execution's events (GetExecutionHistory)");
    auto f = std::make_shared<HistoryFlags>();
    auto name = std::make_shared<std::string>();
    auto format = std::make_shared<std::string>("table");
    AddHistoryFlags(cmd, f.get());
    cmd->add_option("name", *name, "Execution name")->required();
    cmd->add_option("--format", *format, "table | json")->capture_default_str();
    cmd->callback([f, name, format, exit_code] {
      auto h = OpenHistory(*f);
      if (!h.ok()) {
        *exit_code = Fail(h.status());
        return;
      }
      auto rec = (*h)->Get(*name);
      if (!rec.ok()) {
        *exit_code = Fail(rec.status());
        return;
      }
      Json events = Json::array();
      int64_t after = 0;
      while (true) {
        auto page = (*h)->Events(*name, after, 1000);
        if (!page.ok()) {
          *exit_code = Fail(page.status());
          return;
        }
        if (page->empty()) break;
        after = page->back().id;
        for (const flow::HistoryEvent& e : *page) {
          if (*format == "json") {
            events.push_back(e.ToJson());
          } else {
            std::string state;
            for (const auto& [k, v] : e.details.items()) {
              if (v.is_object() && v.contains("name") && v["name"].is_string()) {
                state = v["name"].get<std::string>();
              }
            }
            std::printf("%lld\t%lld\t%s\t%s\t%s\n", static_cast<long long>(e.id),
                        static_cast<long long>(e.previous_event_id),
                        FormatTimestampMillis(e.timestamp_micros).c_str(), e.type.c_str(),
                        text::EscapeControl(state).c_str());
          }
        }
      }
      if (*format == "json") {
        std::printf("%s\n", Json{{"events", std::move(events)}}
                                .dump(2, ' ', false, Json::error_handler_t::replace)
                                .c_str());
      }
      *exit_code = kExitOk;
    });
  }
  {
    auto* cmd = flow_cmd->add_subcommand("resume",
                                         "Continue an execution a killed process left "
                                         "RUNNING");
    auto f = std::make_shared<RunFlags>();
    cmd->add_option("name", f->name, "Execution name")->required();
    cmd->add_option("--max-threads", f->max_threads, "Worker threads for Map and Parallel")
        ->capture_default_str()
        ->check(CLI::Range(1, 256));
    cmd->add_flag("--sync", f->history.sync, "fsync the history at every write");
    cmd->add_flag("--quiet", f->quiet, "No progress lines on stderr");
    cmd->add_option("--substitutions", f->substitutions,
                    "${Name} values (JSON) for the definitions of --state-machine-file");
    AddHistoryFlags(cmd, &f->history);
    AddTaskFlags(cmd, &f->tasks);
    cmd->callback([f, exit_code] {
      auto tasks = MakeTasks(f->tasks);
      if (!tasks.ok()) {
        *exit_code = Fail(tasks.status());
        return;
      }
      auto h = OpenHistory(f->history);
      if (!h.ok()) {
        *exit_code = Fail(h.status());
        return;
      }
      auto items = MakeItemStore(f->tasks);
      flow::ExecutorOptions o;
      o.history = h->get();
      o.tasks = tasks->get();
      o.items = items.get();
      o.max_threads = f->max_threads;
      o.on_progress = ProgressCallback(f->quiet);
      SetOwnership(&o);
      if (Status s = EnableNestedExecutions(f->tasks, f->substitutions, o, tasks->get()); !s.ok()) {
        *exit_code = Fail(s);
        return;
      }
      flow::Executor executor(o);
      const int64_t start = SystemClock()->MonotonicNanos();
      auto result = executor.Resume(f->name);
      *exit_code = PrintResult(f->name, result, SystemClock()->SecondsSince(start));
    });
  }
  {
    auto* cmd = flow_cmd->add_subcommand("stop", "Stop a running execution (it ends ABORTED)");
    auto f = std::make_shared<HistoryFlags>();
    auto name = std::make_shared<std::string>();
    auto error = std::make_shared<std::string>();
    auto cause = std::make_shared<std::string>();
    AddHistoryFlags(cmd, f.get());
    cmd->add_option("name", *name, "Execution name")->required();
    cmd->add_option("--error", *error, "Error recorded with the stop");
    cmd->add_option("--cause", *cause, "Cause recorded with the stop");
    cmd->callback([f, name, error, cause, exit_code] {
      auto h = OpenHistory(*f);
      if (!h.ok()) {
        *exit_code = Fail(h.status());
        return;
      }
      Status s =
          (*h)->RequestStop(*name, flow::StateError{*error, *cause}, SystemClock()->NowMicros());
      *exit_code = s.ok() ? kExitOk : Fail(s);
    });
  }
}

}  // namespace
LOTE_REGISTER_COMMAND(75, SetupFlow);
}  // namespace lote::cli
