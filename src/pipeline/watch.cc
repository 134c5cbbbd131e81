#include "lote/pipeline/watch.h"

#include <algorithm>
#include <chrono>
#include <set>
#include <thread>

#include "lote/text/utf8.h"

namespace lote::pipeline {

std::vector<storage::ObjectInfo> SettleTracker::Poll(
    const std::vector<storage::ObjectInfo>& listing, int64_t now_nanos, size_t max_objects) {
  std::set<std::string_view> present;
  std::vector<storage::ObjectInfo> settled;
  for (const storage::ObjectInfo& o : listing) {
    present.insert(o.uri);
    auto [it, inserted] = seen_.try_emplace(o.uri);
    Seen& s = it->second;
    if (inserted || s.size != o.size || s.etag != o.etag)
      s = Seen{o.size, o.etag, now_nanos, false};
    if (!s.handled && static_cast<double>(now_nanos - s.since_nanos) >= settle_nanos_ &&
        settled.size() < max_objects) {
      settled.push_back(o);
    }
  }
  for (auto it = seen_.begin(); it != seen_.end();) {
    it = present.count(it->first) ? std::next(it) : seen_.erase(it);
  }
  std::sort(settled.begin(), settled.end(),
            [](const auto& a, const auto& b) { return a.uri < b.uri; });
  return settled;
}

void SettleTracker::Handled(const std::vector<storage::ObjectInfo>& batch) {
  for (const storage::ObjectInfo& o : batch) {
    auto it = seen_.find(o.uri);
    if (it != seen_.end() && it->second.size == o.size && it->second.etag == o.etag) {
      it->second.handled = true;
    }
  }
}

Status Watch(const WatchOptions& o, const WatchBatchHandler& handle) {
  if (o.input_uri.empty()) return InvalidArgumentError("no input URI to watch");
  if (!(o.interval_seconds > 0) || !(o.settle_seconds >= 0)) {
    return InvalidArgumentError("watch: the interval must be > 0 and settle >= 0 seconds");
  }
  const auto clock = ClockOr(o.clock);
  std::shared_ptr<storage::Storage> in = o.input_storage;
  if (!in) {
    LOTE_ASSIGN_OR_RETURN(in, storage::OpenStorage(o.input_uri));
  }
  auto stopped = [&] { return o.stop != nullptr && o.stop->load(); };
  auto wait = o.wait ? o.wait : [&](double seconds) {
    const int64_t until = clock->MonotonicNanos() + static_cast<int64_t>(seconds * 1e9);
    while (!stopped() && clock->MonotonicNanos() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  };
  auto log = [&](LogLevel level, const std::string& line) {
    if (o.log) o.log(level, text::EscapeControl(line));
  };
  SettleTracker tracker(o.settle_seconds);
  while (!stopped()) {
    auto listed = in->List(o.input_uri);
    std::vector<storage::ObjectInfo> listing;
    if (listed.ok()) {
      listing = std::move(*listed);
    } else if (listed.status().code() == StatusCode::kNotFound) {
      // nothing there yet
    } else if (listed.status().code() == StatusCode::kUnavailable) {
      log(LogLevel::kWarning, "listing failed, trying again: " + listed.status().message());
    } else {
      return listed.status();
    }
    if (listed.ok() || listed.status().code() == StatusCode::kNotFound) {
      std::vector<storage::ObjectInfo> batch =
          tracker.Poll(listing, clock->MonotonicNanos(), o.max_batch_objects);
      if (!batch.empty()) {
        Status s = handle(batch);
        if (s.ok()) {
          tracker.Handled(batch);
          continue;  // more may have settled meanwhile: poll again at once
        }
        log(LogLevel::kError, "batch failed, its objects are tried again: " + s.ToString());
      }
    }
    wait(o.interval_seconds);
  }
  return Status::Ok();
}

}  // namespace lote::pipeline
