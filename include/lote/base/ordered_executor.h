// RunOrdered: the one way lote spreads work over threads while keeping input order: a reader
// (the calling thread) fills batches, N worker threads process them, and one writer thread takes
// them back in the order they were read. Memory is bounded: at most `max_inflight` batches exist
// between reader and writer, and written batches are handed back to the reader for reuse (their
// buffers keep their capacity). `lote predict`, `extract` and `redact`, `lote run` and the infer
// stage all run on it.
//
// (oneTBB's parallel_pipeline does the same job; it is not used because a failed thread start
// must come back as a Status rather than an exception or a terminate, thread counts must follow
// the caller's policy exactly, and ThreadSanitizer must see every synchronisation, which an
// uninstrumented TBB hides. See docs/adr/0010-ordered-executor.md.)
//
// Thread-safety: RunOrdered may be called from any thread; it starts and joins its own threads.
// `read` runs on the calling thread, each worker function on its own thread, `write` on the
// writer thread; a batch is touched by one of them at a time.
#ifndef LOTE_BASE_ORDERED_EXECUTOR_H_
#define LOTE_BASE_ORDERED_EXECUTOR_H_

#include <pthread.h>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

#include "lote/base/status.h"

namespace lote {

struct OrderedExecutorOptions {
  int threads = 1;          // worker threads (>= 1)
  size_t max_inflight = 0;  // batches read but not yet written; 0: 4 x threads
  // Thread names as `top -H` and perf show them (at most 15 bytes).
  const char* worker_name = "lote-work";
  const char* writer_name = "lote-write";
};

// The most worker threads any lote component starts, whatever it is asked: a policy bound that
// keeps a mistyped --threads from exhausting the machine's pids.
inline constexpr int kMaxThreads = 256;

// The CPUs this process may run on (its affinity mask; at least 1). Callers that also honour a
// container's CPU quota (cgroups) pass an explicit thread count instead of relying on this.
int UsableCpuCount();

// The CPUs a cgroup's quota allows: from cgroup v2's cpu.max ("150000 100000" -> 1.5; "max
// 100000" -> unlimited) or cgroup v1's cpu.cfs_quota_us and cpu.cfs_period_us ("-1" ->
// unlimited). nullopt when unlimited or unparsable. (Parsing only: the caller reads the files.)
std::optional<double> ParseCgroupCpuMax(std::string_view cpu_max);
std::optional<double> ParseCgroupV1Quota(std::string_view quota_us, std::string_view period_us);

// Worker threads by default: the usable CPUs, capped by the quota rounded up (a container given
// 1.5 CPUs gets 2 threads), at least 1 and at most kMaxThreads.
int DefaultThreadCount(std::optional<double> cpu_quota);

// Runs the reader/workers/writer pipeline until the input ends or something fails.
//   read(batch)  fills `batch` (new, or a written one handed back: clear it first) and returns
//                true, or returns false at the end of the input (the batch then holds nothing).
//   make_worker  called once per worker thread, on the calling thread, before any work starts;
//                returns that worker's function (which owns its per-thread state).
//   worker(b)    processes one batch. Per-record problems belong in the batch; an error Status
//                is fatal.
//   write(b)     consumes one processed batch, in read order.
// Errors:
//   - `read` fails: the batches already read are still processed and written (nothing read is
//     lost), then its error is returned.
//   - a worker or `write` fails: everything stops (nothing more is read or written) and that
//     error is returned.
//   - a thread cannot be started (a huge thread count, a container's pids limit):
//     ResourceExhausted, after stopping the threads already started. Never std::terminate.
//   - threads < 1 or > kMaxThreads: InvalidArgument.
template <typename Batch>
Status RunOrdered(const OrderedExecutorOptions& options,
                  const std::function<Result<bool>(Batch*)>& read,
                  const std::function<std::function<Status(Batch*)>()>& make_worker,
                  const std::function<Status(Batch*)>& write) {
  if (options.threads < 1 || options.threads > kMaxThreads) {
    return InvalidArgumentError("threads must be between 1 and " + std::to_string(kMaxThreads) +
                                ", not " + std::to_string(options.threads));
  }
  const size_t max_inflight =
      options.max_inflight > 0 ? options.max_inflight : static_cast<size_t>(4 * options.threads);
  std::mutex mu;
  std::condition_variable cv_work, cv_done, cv_space;
  std::deque<std::pair<uint64_t, std::unique_ptr<Batch>>> work;
  std::map<uint64_t, std::unique_ptr<Batch>> done;
  std::vector<std::unique_ptr<Batch>> spare;  // written, ready for reuse
  uint64_t produced = 0, written = 0;
  bool input_done = false, cancelled = false;
  Status fatal;

  auto cancel = [&](Status s) {
    std::lock_guard<std::mutex> lock(mu);
    if (fatal.ok()) fatal = std::move(s);
    cancelled = true;
    cv_work.notify_all();
    cv_done.notify_all();
    cv_space.notify_all();
  };

  auto worker_loop = [&](std::function<Status(Batch*)> fn) {
    pthread_setname_np(pthread_self(), options.worker_name);
    while (true) {
      std::pair<uint64_t, std::unique_ptr<Batch>> job;
      {
        std::unique_lock<std::mutex> lock(mu);
        cv_work.wait(lock, [&] { return cancelled || !work.empty() || input_done; });
        if (cancelled || work.empty()) return;
        job = std::move(work.front());
        work.pop_front();
      }
      Status s = fn(job.second.get());
      if (!s.ok()) {
        cancel(std::move(s));
        return;
      }
      std::lock_guard<std::mutex> lock(mu);
      done.emplace(job.first, std::move(job.second));
      cv_done.notify_one();
    }
  };

  auto writer_loop = [&] {
    pthread_setname_np(pthread_self(), options.writer_name);
    while (true) {
      std::unique_ptr<Batch> batch;
      {
        std::unique_lock<std::mutex> lock(mu);
        cv_done.wait(lock, [&] {
          return cancelled || done.count(written) > 0 || (input_done && written == produced);
        });
        if (cancelled) return;
        auto it = done.find(written);
        if (it == done.end()) return;  // input ended and everything is written
        batch = std::move(it->second);
        done.erase(it);
      }
      Status s = write(batch.get());
      if (!s.ok()) {
        cancel(std::move(s));
        return;
      }
      std::lock_guard<std::mutex> lock(mu);
      ++written;
      spare.push_back(std::move(batch));
      cv_space.notify_one();
    }
  };

  // Workers' functions are made before any thread starts, so their state is built on this
  // thread and a failure to build it leaves nothing running.
  std::vector<std::function<Status(Batch*)>> fns;
  fns.reserve(static_cast<size_t>(options.threads));
  for (int t = 0; t < options.threads; ++t) fns.push_back(make_worker());

  std::vector<std::thread> threads;
  threads.reserve(static_cast<size_t>(options.threads) + 1);
  auto join_all = [&] {
    for (auto& t : threads) t.join();
  };
  try {
    for (int t = 0; t < options.threads; ++t) threads.emplace_back(worker_loop, std::move(fns[t]));
    threads.emplace_back(writer_loop);
  } catch (const std::system_error& e) {
    const size_t started = threads.size();
    cancel(ResourceExhaustedError("could not start thread " + std::to_string(started + 1) + " of " +
                                  std::to_string(options.threads + 1) + " (" + e.what() +
                                  "): lower --threads or raise the process limit"));
    join_all();
    return fatal;
  }

  Status read_error;
  while (true) {
    std::unique_ptr<Batch> batch;
    {
      std::unique_lock<std::mutex> lock(mu);
      cv_space.wait(lock, [&] { return cancelled || produced - written < max_inflight; });
      if (cancelled) break;
      if (!spare.empty()) {
        batch = std::move(spare.back());
        spare.pop_back();
      }
    }
    if (!batch) batch = std::make_unique<Batch>();
    Result<bool> more = read(batch.get());
    if (!more.ok()) {
      read_error = more.status();
      break;
    }
    if (!*more) break;
    std::lock_guard<std::mutex> lock(mu);
    work.emplace_back(produced++, std::move(batch));
    cv_work.notify_one();
  }
  {
    std::lock_guard<std::mutex> lock(mu);
    input_done = true;
    cv_work.notify_all();
    cv_done.notify_all();
  }
  join_all();
  if (!fatal.ok()) return fatal;
  return read_error;
}

}  // namespace lote

#endif  // LOTE_BASE_ORDERED_EXECUTOR_H_
