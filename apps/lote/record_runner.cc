#include "record_runner.h"

#include <algorithm>
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

Status RunRecordFile(const RecordFileIo& io, const std::function<RecordFn()>& make_worker) {
  LOTE_ASSIGN_OR_RETURN(auto source, OpenInput(io.input));
  io::TextReaderOptions ro;
  ro.text_field = io.text_field;
  ro.id_field = io.id_field;
  LOTE_ASSIGN_OR_RETURN(auto reader, io::MakeTextRecordReader(io.format, std::move(source), ro));
  LOTE_ASSIGN_OR_RETURN(auto output, Output::Open(io.output));
  const int threads =
      io.threads > 0 ? io.threads : static_cast<int>(std::thread::hardware_concurrency());
  auto stats = RunOrdered(reader.get(), std::max(1, threads), make_worker, output.get());
  if (!stats.ok()) {
    // Rows already produced are kept (committed) so nothing processed is lost. Fatal errors are
    // about the source or its columns, never record values.
    (void)output->Commit();
    return stats.status();
  }
  LOTE_RETURN_IF_ERROR(output->Commit());
  if (stats->errors > 0) {
    Warn(std::to_string(stats->errors) + " of " + std::to_string(stats->records) +
         " records could not be read; their rows carry an \"error\" field");
  }
  return Status::Ok();
}

}  // namespace lote::cli
