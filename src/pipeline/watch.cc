#include "lote/pipeline/watch.h"

#include <algorithm>
#include <chrono>
#include <set>
#include <thread>

#include "lote/text/utf8.h"

namespace lote::pipeline {

std::vector<storage::ObjectInfo> SettleTracker::Poll(
    const std::vector<storage::ObjectInfo>& listing, int64_t now_nanos, size_t max_objects,
    std::string_view listed_after) {
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
  for (auto it = seen_.upper_bound(listed_after); it != seen_.end();) {
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

std::string SettleTracker::HandledThrough() const {
  std::string through;
  for (const auto& [uri, seen] : seen_) {
    if (!seen.handled) break;
    through = uri;
  }
  return through;
}

Status Watch(const WatchOptions& o, const WatchBatchHandler& handle) {
  if (o.input_uri.empty()) return InvalidArgumentError("no input URI to watch");
  if (!(o.interval_seconds > 0) || !(o.settle_seconds >= 0)) {
    return InvalidArgumentError("watch: the interval must be > 0 and settle >= 0 seconds");
  }
  if (o.full_listing_every < 1) {
    return InvalidArgumentError("watch: full_listing_every must be >= 1");
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
  for (int64_t poll = 0; !stopped(); ++poll) {
    const std::string after =
        poll % o.full_listing_every == 0 ? std::string() : tracker.HandledThrough();
    auto listed = in->ListAfter(o.input_uri, after);
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
          tracker.Poll(listing, clock->MonotonicNanos(), o.max_batch_objects, after);
      if (!batch.empty()) {
        Status s = handle(batch, after);
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

Status WatchQueue(const QueueWatchOptions& o, const WatchBatchHandler& handle) {
  if (o.queue == nullptr) return InvalidArgumentError("watch: no queue");
  if (o.input_uri.empty()) return InvalidArgumentError("no input URI to watch");
  if (o.wait_seconds < 0 || o.wait_seconds > 20 || o.max_batch_objects == 0) {
    return InvalidArgumentError("watch: the queue wait must be 0..20 s and batches > 0 objects");
  }
  auto stopped = [&] { return o.stop != nullptr && o.stop->load(); };
  auto log = [&](LogLevel level, const std::string& line) {
    if (o.log) o.log(level, text::EscapeControl(line));
  };
  while (!stopped()) {
    std::vector<aws::SqsMessage> taken;  // to delete once the batch is handled
    std::map<std::string, storage::ObjectInfo> objects;
    // The first receive waits; the next ones gather what is already there.
    for (int wait = o.wait_seconds; !stopped() && objects.size() < o.max_batch_objects; wait = 1) {
      auto received = o.queue->Receive(10, wait, o.visibility_timeout_seconds);
      if (!received.ok()) {
        if (received.status().code() != StatusCode::kUnavailable) return received.status();
        log(LogLevel::kWarning,
            "receiving from the queue failed, trying again: " + received.status().message());
        break;
      }
      if (received->empty()) break;
      for (aws::SqsMessage& m : *received) {
        auto events = aws::ParseS3Event(m.body);
        if (!events.ok()) {
          // Not ours to delete: the queue's redrive policy moves it to a dead-letter queue.
          log(LogLevel::kWarning, "queue message " + m.message_id +
                                      " is not an S3 event notification (" +
                                      events.status().message() + "); left on the queue");
          continue;
        }
        for (const aws::S3EventObject& e : *events) {
          storage::ObjectInfo info;
          info.uri = "s3://" + e.bucket + "/" + e.key;
          info.size = e.size;
          info.etag = e.etag;
          if (storage::MatchesPattern(o.input_uri, info.uri)) objects[info.uri] = std::move(info);
        }
        taken.push_back(std::move(m));
      }
    }
    Status s;
    if (!objects.empty()) {
      std::vector<storage::ObjectInfo> batch;
      for (auto& [uri, info] : objects) batch.push_back(std::move(info));
      s = handle(batch, "");
      if (!s.ok()) {
        log(LogLevel::kError, "batch failed, its messages come back in " +
                                  std::to_string(o.retry_seconds) + " s: " + s.ToString());
      }
    }
    for (const aws::SqsMessage& m : taken) {
      Status done = s.ok() ? o.queue->Delete(m) : o.queue->ChangeVisibility(m, o.retry_seconds);
      if (!done.ok()) {
        // Delivered again later: the ledger skips what is done.
        log(LogLevel::kWarning, "queue message " + m.message_id + ": " + done.message());
      }
    }
  }
  return Status::Ok();
}

}  // namespace lote::pipeline
