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

#include "lote/aws/sqs.h"
#include "lote/base/clock.h"
#include "lote/base/status.h"
#include "lote/pipeline/pipeline.h"
#include "lote/storage/storage.h"

namespace lote::pipeline {

// Which objects of successive listings have settled and are not handed out yet.
class SettleTracker {
 public:
  explicit SettleTracker(double settle_seconds) : settle_nanos_(settle_seconds * 1e9) {}

  // Feeds one listing taken at monotonic time `now_nanos` of the objects after `listed_after`
  // (a URI; empty: a full listing); returns the objects unchanged (same size and ETag) for at
  // least settle_seconds and not handed out before in that version, sorted by URI, at most
  // `max_objects`. Objects of the listed range missing from the listing are forgotten; those
  // up to `listed_after` are kept as they were.
  std::vector<storage::ObjectInfo> Poll(const std::vector<storage::ObjectInfo>& listing,
                                        int64_t now_nanos, size_t max_objects,
                                        std::string_view listed_after = {});
  // The batch was handled: its objects are not handed out again while unchanged.
  void Handled(const std::vector<storage::ObjectInfo>& batch);
  // The largest URI up to which every tracked object is handled ("" if the first is not): the
  // next poll need only list what comes after it.
  std::string HandledThrough() const;
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
  // Polls list only the objects after the last URI up to which everything is handled (S3:
  // ListObjectsV2 start-after), so a prefix of a million done objects is not paged through each
  // time; every `full_listing_every`th poll lists everything, to catch objects that arrive
  // under a key sorting before that point, or change. 1: every poll lists everything.
  int full_listing_every = 20;
};

// Handles one batch; an error leaves the batch's objects pending, tried again at the next poll.
// `listed_after`: the batch came from a listing of the objects after this URI ("" for a full
// listing), so the handler can list the same range again (PipelineOptions::list_after).
using WatchBatchHandler = std::function<Status(const std::vector<storage::ObjectInfo>& batch,
                                               const std::string& listed_after)>;

struct QueueWatchOptions {
  // The S3 prefix or glob the events must name objects under (others are ignored).
  std::string input_uri;
  aws::SqsQueue* queue = nullptr;  // not owned
  int wait_seconds = 20;           // long poll of one ReceiveMessage (0..20)
  // How long received messages stay hidden from other receivers: a batch must be handled within
  // it, or its messages are delivered again (harmless: the ledger skips what is done).
  int visibility_timeout_seconds = 900;
  // After a failed batch its messages come back after this long.
  int retry_seconds = 30;
  size_t max_batch_objects = 1000;
  const std::atomic<bool>* stop = nullptr;
  std::function<void(LogLevel, std::string_view)> log;
};

// Reads S3 event notifications from an SQS queue (S3 -> SQS, or S3 -> EventBridge -> SQS) until
// *stop, and hands the objects created under the input to `handle` in batches (listed_after ""):
// it receives until no message comes within a second or the batch is full. A handled batch's
// messages are deleted; a failed batch's are made visible again after retry_seconds. S3's test
// event and events for other prefixes are deleted at once; a message that is not an S3 event is
// left alone (logged with its id) for the queue's redrive policy to move to a dead-letter queue.
// No settle time: S3 sends the event once the object is complete. Receive errors that may pass
// (Unavailable) are logged and retried; others (no such queue, access denied) are returned.
Status WatchQueue(const QueueWatchOptions& options, const WatchBatchHandler& handle);

// Polls until *stop. Listing errors that may pass (Unavailable, NotFound: nothing there yet) are
// logged and retried at the next poll; any other listing error (a malformed URI, permission
// denied) is returned. Handler errors are logged and retried.
Status Watch(const WatchOptions& options, const WatchBatchHandler& handle);

}  // namespace lote::pipeline

#endif  // LOTE_PIPELINE_WATCH_H_
