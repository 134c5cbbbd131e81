// Watch: the trigger on new input files. It polls a folder, an S3 prefix or a glob and hands out,
// batch by batch, the objects that are new and have settled: whose size and ETag have not
// changed for `settle_seconds` (a file still being written, or a multipart upload being replaced,
// is not taken half-way). `lote watch` runs the pipeline on each batch; exactly once across
// restarts comes from the pipeline's ledger (an object version already done is skipped), not
// from the watcher, which keeps only what it saw in memory.
//
// The batch handler is the one seam between "what is new" and "what to do with it": the CLI's
// runs the fused pipeline; the orchestration issue's will start a state-machine execution.
// Memory is bounded by the listing: objects that disappear from it are forgotten.
// Thread-safety: Watch runs on the calling thread; `stop` may be set from any thread or a signal
// handler.
#ifndef LOTE_PIPELINE_WATCH_H_
#define LOTE_PIPELINE_WATCH_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "lote/base/clock.h"
#include "lote/base/status.h"
#include "lote/pipeline/pipeline.h"
#include "lote/storage/storage.h"

namespace lote::pipeline {

// Which objects of successive listings have settled and are not handed out yet.
class SettleTracker {
 public:
  explicit SettleTracker(double settle_seconds) : settle_nanos_(settle_seconds * 1e9) {}

  // Feeds one listing taken at monotonic time `now_nanos`; returns the objects unchanged (same
  // size and ETag) for at least settle_seconds and not handed out before in that version, sorted
  // by URI, at most `max_objects`. Objects missing from the listing are forgotten.
  std::vector<storage::ObjectInfo> Poll(const std::vector<storage::ObjectInfo>& listing,
                                        int64_t now_nanos, size_t max_objects);
  // The batch was handled: its objects are not handed out again while unchanged.
  void Handled(const std::vector<storage::ObjectInfo>& batch);
  // Objects tracked (pending or handled).
  size_t size() const { return seen_.size(); }

 private:
  struct Seen {
    uint64_t size = 0;
    std::string etag;
    int64_t since_nanos = 0;  // when this size and ETag were first seen
    bool handled = false;
  };
  double settle_nanos_;
  std::map<std::string, Seen, std::less<>> seen_;
};

struct WatchOptions {
  std::string input_uri;  // folder, prefix or glob, as PipelineOptions::input_uri
  double interval_seconds = 30;
  double settle_seconds = 10;
  size_t max_batch_objects = 1000;
  std::shared_ptr<storage::Storage> input_storage;  // null: chosen by the URI's scheme
  std::shared_ptr<const Clock> clock;               // null: SystemClock()
  // Set to stop: Watch returns after the batch in hand (never in the middle of one).
  const std::atomic<bool>* stop = nullptr;
  // Waits about `seconds`, returning early when *stop is set. Null: sleeps in 100 ms steps.
  std::function<void(double seconds)> wait;
  std::function<void(LogLevel, std::string_view)> log;
};

// Handles one batch; an error leaves the batch's objects pending, tried again at the next poll.
using WatchBatchHandler = std::function<Status(const std::vector<storage::ObjectInfo>& batch)>;

// Polls until *stop. Listing errors that may pass (Unavailable, NotFound: nothing there yet) are
// logged and retried at the next poll; any other listing error (a malformed URI, permission
// denied) is returned. Handler errors are logged and retried.
Status Watch(const WatchOptions& options, const WatchBatchHandler& handle);

}  // namespace lote::pipeline

#endif  // LOTE_PIPELINE_WATCH_H_
