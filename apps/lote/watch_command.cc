// `lote watch`: the trigger on new input files (the S3-event-to-Lambda step of the architecture,
// on one machine). It polls the input (a folder, an S3 prefix or a glob) every --interval
// seconds and runs the pipeline on each batch of objects that are new and have settled (size and
// ETag unchanged for --settle seconds), or, with --queue, runs on the objects the S3 event
// notifications in an SQS queue name; until SIGTERM or SIGINT: then it finishes the run in hand
// and exits 0. Exactly once across restarts is the pipeline's ledger: an object version
// already done is skipped. The watching itself is pipeline::Watch; this file only decides what a
// batch is run with: `lote run`'s pipeline, or with --flow one state-machine execution per batch,
// named after the batch's objects and versions, so a restarted watch resumes (or skips) it
// instead of starting it twice.
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <set>
#include <utility>

#include "command.h"
#include "common.h"
#include "flow_cli.h"
#include "job_metrics.h"
#include "lote/aws/sqs.h"
#include "lote/base/clock.h"
#include "lote/base/digest.h"
#include "lote/monitoring/job_metrics.h"
#include "lote/pipeline/watch.h"
#include "lote/text/utf8.h"
#include "pipeline_config.h"

namespace lote::cli {
namespace {

constexpr FlagSet kWatchFlags{.input = true, .model = true, .prep = true};

std::atomic<bool> g_stop{false};

extern "C" void OnStopSignal(int) { g_stop.store(true); }

struct WatchFlags {
  PipelineFlags pipeline;
  double interval = 30;
  double settle = 10;
  size_t max_batch_objects = 1000;
  int full_listing_every = 20;
  std::string queue;
  int visibility_timeout = 900;
  std::string flow, substitutions;
  HistoryFlags history;
  std::vector<std::string> flow_models;
  std::string flow_input;                   // JSON object merged into every execution's input
  std::vector<std::string> state_machines;  // NAME=FILE for states:startExecution
};

// A batch's execution name: "watch-" + a digest of its objects' URIs and ETags (the same batch,
// the same name: a restart cannot start it twice), "-N" for the Nth attempt after failures.
std::string BatchExecutionName(const std::vector<storage::ObjectInfo>& batch, int attempt) {
  std::vector<std::string> keys;
  for (const auto& o : batch) keys.push_back(o.uri + "\t" + o.etag);
  std::sort(keys.begin(), keys.end());
  std::string all;
  for (const auto& k : keys) all += k + "\n";
  std::string name = "watch-" + Sha256Hex(all).substr(0, 32);
  if (attempt > 1) name += "-" + std::to_string(attempt);
  return name;
}

// A failed execution of a batch is tried again (under the next name) at the next poll, this
// many times in all; then the watch stops.
constexpr int kMaxBatchExecutions = 5;

// Failures a later poll may get past (the store or the lock is busy); anything else stops the
// watch instead of failing the same way every interval.
bool Transient(const Status& s) {
  return s.code() == StatusCode::kUnavailable || s.code() == StatusCode::kResourceExhausted ||
         s.code() == StatusCode::kAborted;
}

std::string FormatSeconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%g", s);
  return buf;
}

std::string ObjectList(const std::vector<storage::ObjectInfo>& batch) {
  std::string out;
  for (size_t i = 0; i < batch.size() && i < 10; ++i) {
    if (i > 0) out += ", ";
    out += batch[i].uri;
  }
  if (batch.size() > 10) out += " and " + std::to_string(batch.size() - 10) + " more";
  return out;
}

int Watch(const WatchFlags& f) {
  if (!(f.interval > 0) || f.interval > 86400 || !(f.settle >= 0) || f.settle > 86400) {
    return FailUsage("--interval must be in (0, 86400] and --settle in [0, 86400] seconds");
  }
  if (f.max_batch_objects == 0) return FailUsage("--max-batch-objects must be > 0");
  flow::Json extra_input = flow::Json::object();
  if (!f.flow_input.empty()) {
    extra_input = flow::Json::parse(f.flow_input, nullptr, false);
    if (f.flow.empty() || !extra_input.is_object()) {
      return FailUsage("--flow-input takes a JSON object, with --flow");
    }
    for (const char* key : {"input", "output", "objects", "objectCount"}) {
      if (extra_input.contains(key)) {
        return FailUsage(std::string("--flow-input: \"") + key + "\" is set by the watch");
      }
    }
  }
  if (f.full_listing_every < 1) return FailUsage("--full-listing-every must be >= 1");
  if (f.visibility_timeout < 30 || f.visibility_timeout > 43200) {
    return FailUsage("--visibility-timeout must be in [30, 43200] seconds");
  }
  RunConfig c;
  if (int code = ResolveRunConfig(f.pipeline, kWatchFlags, &c); code != kExitOk) return code;
  std::shared_ptr<const pipeline::InferenceEngine> engine;
  if (int code = LoadEngines(&c, &engine); code != kExitOk) return code;
  PipelineConsole console(&c);

  struct sigaction sa {};
  sa.sa_handler = OnStopSignal;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGTERM, &sa, nullptr);
  ::sigaction(SIGINT, &sa, nullptr);

  pipeline::WatchOptions w;
  w.input_uri = c.input;
  w.interval_seconds = f.interval;
  w.settle_seconds = f.settle;
  w.max_batch_objects = f.max_batch_objects;
  w.full_listing_every = f.full_listing_every;
  w.stop = &g_stop;
  w.log = c.pipeline.log;
  std::unique_ptr<aws::SqsQueue> queue;
  if (!f.queue.empty()) {
    if (!c.input.starts_with("s3://")) {
      return FailUsage("--queue takes S3 event notifications: the input must be an s3:// prefix");
    }
    auto opened = aws::OpenSqsQueue(f.queue);
    if (!opened.ok()) return FailUsage(opened.status().message());
    queue = std::move(*opened);
    c.pipeline.log(pipeline::LogLevel::kInfo,
                   "watching " + c.input + " through the S3 events of queue " + f.queue);
  } else {
    c.pipeline.log(pipeline::LogLevel::kInfo, "watching " + c.input + " every " +
                                                  FormatSeconds(f.interval) + " s (settle " +
                                                  FormatSeconds(f.settle) + " s)");
  }
  Status fatal;
  // --flow: one execution of the definition per batch, the stages run by its Task resources.
  std::unique_ptr<flow::HistoryStore> history;
  std::unique_ptr<PipelineTasks> tasks;
  std::unique_ptr<flow::ItemStore> items;
  std::unique_ptr<flow::Executor> executor;
  std::string definition, state_machine;
  if (!f.flow.empty()) {
    auto text = LoadDefinition(f.flow, f.substitutions);
    if (!text.ok()) return Fail(text.status());
    flow::ParseOptions po;
    po.source = f.flow;
    auto machine = flow::ParseDefinition(*text, po);
    if (!machine.ok()) return Fail(machine.status());
    definition = std::move(text).value();
    state_machine = StemOf(f.flow);
    auto opened = OpenHistory(f.history);
    if (!opened.ok()) return Fail(opened.status());
    history = std::move(opened).value();
    auto models = ParseModelMap(f.flow_models);
    if (!models.ok()) return FailUsage(models.status().message());
    tasks = std::make_unique<PipelineTasks>(c, std::move(models).value(), c.model);
    items = flow::NewStorageItemStore({});
    flow::ExecutorOptions o;
    o.history = history.get();
    o.tasks = tasks.get();
    o.items = items.get();
    o.on_progress = ProgressCallback(/*quiet=*/true);
    SetOwnership(&o);
    TaskFlags nested;
    nested.state_machines = f.state_machines;
    if (Status s = EnableNestedExecutions(nested, f.substitutions, o, tasks.get()); !s.ok()) {
      return Fail(s);
    }
    executor = std::make_unique<flow::Executor>(o);
  }
  auto run_flow = [&](const std::vector<storage::ObjectInfo>& batch) -> Status {
    flow::Json objects = flow::Json::array();
    for (size_t i = 0; i < batch.size() && i < 100; ++i) objects.push_back(batch[i].uri);
    flow::Json input{{"input", c.input},
                     {"output", c.output},
                     {"objects", std::move(objects)},
                     {"objectCount", batch.size()}};
    for (const auto& [k, v] : extra_input.items()) input[k] = v;
    for (int attempt = 1; attempt <= kMaxBatchExecutions; ++attempt) {
      std::string name = BatchExecutionName(batch, attempt);
      c.pipeline.log(pipeline::LogLevel::kInfo, "execution " + name + " on " +
                                                    std::to_string(batch.size()) +
                                                    " object(s): " + ObjectList(batch));
      const int64_t start = SystemClock()->MonotonicNanos();
      auto r = executor->Run(name, state_machine, definition, input);
      if (r.ok()) {
        JobMetrics metrics(f.pipeline.metrics, "flow");
        if (MetricsSink* sink = metrics.sink()) {
          monitoring::ReportFlowMetrics(flow::ExecutionStatusName(r->status),
                                        SystemClock()->SecondsSince(start),
                                        SystemClock()->NowMicros(), sink);
          metrics.Finish(r->status == flow::ExecutionStatus::kSucceeded);
        }
      }
      if (!r.ok() && r.status().code() == StatusCode::kAlreadyExists) {
        auto rec = history->Get(name);
        if (!rec.ok()) return rec.status();
        if (rec->status == flow::ExecutionStatus::kSucceeded) {
          c.pipeline.log(pipeline::LogLevel::kInfo, "execution " + name + " already succeeded");
          return Status::Ok();
        }
        if (rec->status == flow::ExecutionStatus::kRunning) return r.status();
        continue;  // an earlier attempt failed: the next name
      }
      if (!r.ok()) return r.status();
      if (r->status == flow::ExecutionStatus::kSucceeded) {
        c.pipeline.log(pipeline::LogLevel::kInfo, "execution " + name + " succeeded");
        std::printf("%s\n",
                    r->output->dump(-1, ' ', false, flow::Json::error_handler_t::replace).c_str());
        std::fflush(stdout);
        return Status::Ok();
      }
      // Tried again at the next poll, under the next name.
      return UnavailableError("execution " + name + " ended " +
                              std::string(flow::ExecutionStatusName(r->status)) + ": " +
                              (r->error ? r->error->error + ": " + r->error->cause : ""));
    }
    fatal = FailedPreconditionError("the batch's executions failed " +
                                    std::to_string(kMaxBatchExecutions) +
                                    " times; see lote flow list --status FAILED");
    g_stop = true;
    return fatal;
  };
  auto run_batch = [&](const std::vector<storage::ObjectInfo>& batch,
                       const std::string& listed_after) -> Status {
    pipeline::PipelineOptions options = c.pipeline;
    if (queue) {
      options.input_objects = batch;  // named by the events: no listing
    } else {
      std::set<std::pair<std::string, std::string>> wanted;
      for (const auto& o : batch) wanted.emplace(o.uri, o.etag);
      options.list_after = listed_after;
      options.object_filter = [wanted = std::move(wanted)](const storage::ObjectInfo& o) {
        return wanted.count({o.uri, o.etag}) > 0;
      };
    }
    if (executor) return run_flow(batch);
    c.pipeline.log(pipeline::LogLevel::kInfo, "starting a run on " + std::to_string(batch.size()) +
                                                  " object(s): " + ObjectList(batch));
    // --metrics: each batch is a job of its own (EMF lines per run; the gateway's group holds
    // the latest run's numbers).
    JobMetrics metrics(f.pipeline.metrics, "run");
    const int64_t start = SystemClock()->MonotonicNanos();
    auto report = pipeline::RunPipeline(options, engine);
    if (!report.ok()) {
      FinishFailedJob(&metrics, start, 0);
      if (!Transient(report.status())) {
        fatal = report.status();
        g_stop = true;
      }
      return report.status();
    }
    c.pipeline.log(pipeline::LogLevel::kInfo,
                   "run " + report->run_id + " done: " + std::to_string(report->objects_processed) +
                       " processed, " + std::to_string(report->objects_skipped) +
                       " already done: " + ObjectList(batch));
    PrintRunSummary(*report, console.json());
    std::fflush(stdout);
    if (MetricsSink* sink = metrics.sink()) {
      monitoring::ReportRunMetrics(*report, SystemClock()->NowMicros(), sink);
      metrics.Finish(true);
    }
    return Status::Ok();
  };
  Status s;
  if (queue) {
    pipeline::QueueWatchOptions q;
    q.input_uri = c.input;
    q.queue = queue.get();
    q.wait_seconds = static_cast<int>(std::min(20.0, std::max(1.0, f.interval)));
    q.visibility_timeout_seconds = f.visibility_timeout;
    q.retry_seconds = static_cast<int>(std::max(1.0, f.interval));
    q.max_batch_objects = f.max_batch_objects;
    q.stop = &g_stop;
    q.log = c.pipeline.log;
    s = pipeline::WatchQueue(q, run_batch);
  } else {
    s = pipeline::Watch(w, run_batch);
  }
  console.Finish();
  if (!fatal.ok()) return Fail(fatal);
  if (!s.ok()) return Fail(s);
  return kExitOk;
}

void SetupWatch(CLI::App& root, int* exit_code) {
  auto* cmd = root.add_subcommand(
      "watch", "Run the pipeline on new input files as they settle, until SIGTERM");
  auto f = std::make_shared<WatchFlags>();
  AddPipelineFlags(cmd, kWatchFlags, &f->pipeline);
  cmd->add_option("--interval", f->interval, "Seconds between two listings of the input")
      ->capture_default_str();
  cmd->add_option("--settle", f->settle,
                  "Seconds an object's size and ETag must stay unchanged before it is taken")
      ->capture_default_str();
  cmd->add_option("--max-batch-objects", f->max_batch_objects, "Objects per run, at most")
      ->capture_default_str();
  cmd->add_option("--queue", f->queue,
                  "SQS queue URL receiving the input bucket's S3 event notifications (directly "
                  "or through EventBridge): runs on the objects they name instead of polling");
  cmd->add_option("--visibility-timeout", f->visibility_timeout,
                  "With --queue: seconds a batch's messages stay hidden while it runs")
      ->capture_default_str();
  cmd->add_option("--full-listing-every", f->full_listing_every,
                  "List the whole input every Nth poll; the others list only the objects after "
                  "the last one handled (S3: start-after)")
      ->capture_default_str();
  cmd->add_option("--flow", f->flow,
                  "Run each batch as an execution of this state machine (ASL) instead of lote "
                  "run's pipeline, e.g. deploy/statemachines/pipeline.asl.json");
  cmd->add_option("--substitutions", f->substitutions, "With --flow: ${Name} values (JSON)");
  cmd->add_option("--flow-model", f->flow_models,
                  "With --flow: NAME=FILE, the model a createTransformJob's ModelName runs "
                  "(default: --model)");
  cmd->add_option("--flow-input", f->flow_input,
                  "With --flow: a JSON object added to every execution's input, e.g. the "
                  "pipeline's {\"retrain\": {...}} (docs/registry.md)");
  cmd->add_option("--state-machine-file", f->state_machines,
                  "With --flow: NAME=FILE, the definition a states:startExecution of "
                  "stateMachine:NAME runs (repeatable), e.g. retrain=deploy/statemachines/"
                  "retrain.asl.json");
  AddHistoryFlags(cmd, &f->history);
  cmd->callback([f, exit_code] { *exit_code = Watch(*f); });
}

}  // namespace
LOTE_REGISTER_COMMAND(55, SetupWatch);
}  // namespace lote::cli
