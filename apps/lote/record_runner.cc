#include "record_runner.h"

#include <atomic>

namespace lote::cli {

namespace {

constexpr size_t kBatch = 1024;

struct Batch {
  size_t seq = 0;
  std::vector<InputRecord> records;
  std::string out;
};

}  // namespace

Result<RunStats> RunOrdered(io::TextRecordReader* reader, int threads,
                            const std::function<RecordFn()>& make_worker, Output* output) {
  if (threads < 1) threads = 1;
  const size_t max_in_flight = static_cast<size_t>(threads) * 3;
  std::mutex mu;
  std::condition_variable cv;
  std::deque<Batch> todo;
  std::map<size_t, Batch> done;
  size_t in_flight = 0;  // batches read but not yet written
  bool input_done = false;
  RunStats stats;

  auto worker = [&](RecordFn fn) {
    while (true) {
      Batch b;
      {
        std::unique_lock<std::mutex> lock(mu);
        cv.wait(lock, [&] { return !todo.empty() || input_done; });
        if (todo.empty()) return;
        b = std::move(todo.front());
        todo.pop_front();
      }
      b.out.reserve(b.records.size() * 128);
      for (const auto& r : b.records) fn(r, &b.out);
      {
        std::lock_guard<std::mutex> lock(mu);
        done.emplace(b.seq, std::move(b));
      }
      cv.notify_all();
    }
  };
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) pool.emplace_back(worker, make_worker());

  size_t next_write = 0;
  auto write_ready = [&](std::unique_lock<std::mutex>& lock) {
    while (true) {
      auto it = done.find(next_write);
      if (it == done.end()) return;
      Batch b = std::move(it->second);
      done.erase(it);
      lock.unlock();
      output->Write(b.out);
      lock.lock();
      ++next_write;
      --in_flight;
    }
  };

  Status fatal;
  size_t seq = 0;
  bool eof = false;
  while (!eof) {
    Batch b;
    b.seq = seq++;
    b.records.reserve(kBatch);
    while (b.records.size() < kBatch) {
      InputRecord in;
      auto next = reader->Next(&in.record);
      if (!next.ok()) {
        if (reader->failed()) {
          fatal = next.status();
          eof = true;
          break;
        }
        in.error = next.status();
        in.record.line = reader->last_line();
        in.record.row = reader->last_row();
        ++stats.errors;
        b.records.push_back(std::move(in));
        continue;
      }
      if (!*next) {
        eof = true;
        break;
      }
      b.records.push_back(std::move(in));
    }
    stats.records += b.records.size();
    std::unique_lock<std::mutex> lock(mu);
    todo.push_back(std::move(b));
    ++in_flight;
    cv.notify_all();
    // Backpressure: write finished batches while too many are in flight.
    while (true) {
      write_ready(lock);
      if (in_flight < max_in_flight) break;
      cv.wait(lock);
    }
  }
  {
    std::unique_lock<std::mutex> lock(mu);
    input_done = true;
    cv.notify_all();
    while (in_flight > 0) {
      write_ready(lock);
      if (in_flight > 0) cv.wait(lock);
    }
  }
  for (auto& t : pool) t.join();
  if (!fatal.ok()) return fatal;
  return stats;
}

}  // namespace lote::cli
