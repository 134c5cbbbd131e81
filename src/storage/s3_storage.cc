// S3Storage: Storage on S3 (the mapping of each operation is in s3_storage.h).
#include "lote/storage/s3_storage.h"

#include <fnmatch.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <nlohmann/json.hpp>
#include <system_error>
#include <thread>

#include "aws/s3_client.h"
#include "lote/text/utf8.h"

namespace lote::storage {
namespace {

using aws::S3Client;
using aws::S3Location;

constexpr uint64_t kMinPartBytes = 5ull << 20;
constexpr uint64_t kMaxCopyBytes = 5ull << 30;  // CopyObject's limit; above it UploadPartCopy
constexpr size_t kDeleteBatch = 1000;

// The bucket and key of a URI that names an object (a key, not a prefix ending in '/').
Result<S3Location> ObjectLocation(std::string_view uri) {
  LOTE_ASSIGN_OR_RETURN(S3Location loc, aws::ParseS3Uri(uri));
  if (loc.key.empty() || loc.key.back() == '/') {
    return InvalidArgumentError("not an object key: " + text::EscapeControl(uri));
  }
  return loc;
}

std::string Uri(std::string_view bucket, std::string_view key) {
  return "s3://" + std::string(bucket) + "/" + std::string(key);
}

ObjectInfo ToInfo(std::string_view bucket, const aws::S3ObjectInfo& o) {
  return ObjectInfo{Uri(bucket, o.key), o.size, o.mtime_ns, o.etag};
}

// Runs `fn` on a new thread; a thread that cannot start is ResourceExhausted, not terminate.
template <typename T, typename Fn>
Result<std::future<T>> Spawn(Fn fn) {
  try {
    return std::async(std::launch::async, std::move(fn));
  } catch (const std::system_error& e) {
    return ResourceExhaustedError(std::string("cannot start an S3 transfer thread: ") + e.what());
  }
}

// Streams an object in ranges of `part` bytes with up to `read_ahead` ranges in flight. Every
// range is read with If-Match on the ETag seen at open, so an object replaced mid-read is an
// error, not a mix.
//
// One std::async per range rather than a pool of workers: starting a thread costs microseconds
// against a GET of megabytes, at most `read_ahead` (<= 16) are alive per source at once, and a
// source that is not being read holds no idle threads (the writer does the same for its parts).
// A fetch captures the client and the range by value, never `this`; the destructor still waits
// for every fetch in flight (a std::async future waits anyway), so nothing outlives the source
// unjoined: dropping a source mid-object costs at most the ranges already requested.
class S3Source : public io::ByteSource {
 public:
  S3Source(std::shared_ptr<S3Client> client, S3Location loc, std::string name, uint64_t size,
           std::string etag, uint64_t part, int read_ahead)
      : client_(std::move(client)),
        object_(std::make_shared<const Object>(Object{std::move(loc), std::move(etag)})),
        name_(std::move(name)),
        size_(size),
        part_(part),
        read_ahead_(static_cast<size_t>(std::max(read_ahead, 1))) {}
  ~S3Source() override {
    for (auto& f : in_flight_) f.wait();
  }

  Result<size_t> Read(char* buf, size_t n) override {
    LOTE_RETURN_IF_ERROR(error_);
    if (pos_ == chunk_.size()) {
      if (next_ >= size_) return size_t{0};
      // The first call starts the read-ahead. The range at next_ is the oldest in flight, or
      // read here when no thread could be started for it.
      FillAhead();
      Result<std::string> chunk =
          in_flight_.empty() ? Fetch(client_, object_, next_, Length(next_)) : TakeOldest();
      if (!chunk.ok()) return error_ = Fail(chunk.status());
      const uint64_t expected = Length(next_);
      if (chunk->size() != expected) {
        return error_ = DataLossError(name_ + ": range at " + std::to_string(next_) + " gave " +
                                      std::to_string(chunk->size()) + " bytes, expected " +
                                      std::to_string(expected) + " (object truncated?)");
      }
      // The previous range is released before more are requested: at most read_ahead + 1 held
      // (the range being consumed and those in flight or done but not yet taken).
      chunk_ = std::move(*chunk);
      pos_ = 0;
      next_ += chunk_.size();
      if (requested_ < next_) requested_ = next_;  // that range was read inline
      FillAhead();
    }
    size_t k = std::min(n, chunk_.size() - pos_);
    std::copy_n(chunk_.data() + pos_, k, buf);
    pos_ += k;
    return k;
  }
  const std::string& name() const override { return name_; }

 private:
  struct Object {
    S3Location loc;
    std::string etag;
  };

  static Result<std::string> Fetch(const std::shared_ptr<S3Client>& client,
                                   const std::shared_ptr<const Object>& object, uint64_t at,
                                   uint64_t length) {
    return client->GetObject(object->loc.bucket, object->loc.key, at, length, object->etag);
  }
  uint64_t Length(uint64_t at) const { return std::min<uint64_t>(part_, size_ - at); }

  Result<std::string> TakeOldest() {
    Result<std::string> chunk = in_flight_.front().get();
    in_flight_.pop_front();
    return chunk;
  }

  // Requests the ranges after the last one requested until `read_ahead_` are in flight. A thread
  // that cannot start stops the read-ahead there; Read then takes that range inline.
  void FillAhead() {
    while (in_flight_.size() < read_ahead_ && requested_ < size_) {
      const uint64_t at = requested_;
      auto spawned =
          Spawn<Result<std::string>>([client = client_, object = object_, at, length = Length(at)] {
            return Fetch(client, object, at, length);
          });
      if (!spawned.ok()) return;
      in_flight_.push_back(std::move(*spawned));
      requested_ += Length(at);
    }
  }

  Status Fail(const Status& s) const {
    if (s.code() == StatusCode::kFailedPrecondition) {
      return DataLossError(name_ + ": the object changed while it was being read");
    }
    return s;
  }

  std::shared_ptr<S3Client> client_;
  std::shared_ptr<const Object> object_;  // shared with the fetches in flight
  std::string name_;
  uint64_t size_;
  uint64_t part_;
  size_t read_ahead_;
  std::string chunk_;
  size_t pos_ = 0;
  uint64_t next_ = 0;       // offset of the next range to take (where chunk_ ends)
  uint64_t requested_ = 0;  // offset of the first byte not yet requested
  // The ranges from next_ up to requested_, oldest first.
  std::deque<std::future<Result<std::string>>> in_flight_;
  Status error_;
};

// A streaming write: one PutObject at Close for a small object; past the threshold a multipart
// upload whose parts go up concurrently (at most `concurrency` in flight, so memory stays at
// about (concurrency + 1) parts), aborted on any failure or when the writer is dropped.
class S3Writer : public ObjectWriter {
 public:
  S3Writer(std::shared_ptr<S3Client> client, S3Location loc, std::string uri,
           const S3StorageOptions& options)
      : client_(std::move(client)),
        loc_(std::move(loc)),
        uri_(std::move(uri)),
        threshold_(options.multipart_threshold_bytes),
        part_bytes_(options.part_bytes),
        concurrency_(static_cast<size_t>(options.upload_concurrency)) {}
  ~S3Writer() override {
    if (!upload_id_.empty() && !closed_) {
      for (auto& f : in_flight_) f.wait();
      (void)client_->AbortMultipartUpload(loc_.bucket, loc_.key, upload_id_);
    }
  }

  Status Append(std::string_view data) override {
    if (closed_) return FailedPreconditionError(uri_ + ": Append after Close");
    LOTE_RETURN_IF_ERROR(error_);
    // A part at a time, so that a large `data` is never copied whole: the buffer holds at most
    // the threshold plus one part.
    while (!data.empty()) {
      const size_t take = std::min<uint64_t>(data.size(), part_bytes_);
      buffer_.append(data.substr(0, take));
      data.remove_prefix(take);
      if (upload_id_.empty() && buffer_.size() > threshold_) {
        auto id = client_->CreateMultipartUpload(loc_.bucket, loc_.key);
        if (!id.ok()) return error_ = id.status();
        upload_id_ = *id;
      }
      while (!upload_id_.empty() && buffer_.size() >= part_bytes_) {
        std::string part = buffer_.substr(0, part_bytes_);
        buffer_.erase(0, part_bytes_);
        LOTE_RETURN_IF_ERROR(error_ = SendPart(std::move(part)));
      }
    }
    return Status::Ok();
  }

  Status Close() override {
    if (closed_) return FailedPreconditionError(uri_ + ": closed twice");
    LOTE_RETURN_IF_ERROR(error_);
    Status s = Finish();
    closed_ = true;
    if (!s.ok() && !upload_id_.empty()) {
      for (auto& f : in_flight_) f.wait();
      (void)client_->AbortMultipartUpload(loc_.bucket, loc_.key, upload_id_);
    }
    return error_ = s;
  }

  const std::string& uri() const override { return uri_; }

 private:
  Status Finish() {
    if (upload_id_.empty()) return client_->PutObject(loc_.bucket, loc_.key, buffer_).status();
    if (!buffer_.empty() || parts_.empty()) LOTE_RETURN_IF_ERROR(SendPart(std::move(buffer_)));
    while (!in_flight_.empty()) LOTE_RETURN_IF_ERROR(Collect());
    std::sort(parts_.begin(), parts_.end(),
              [](const auto& a, const auto& b) { return a.number < b.number; });
    return client_->CompleteMultipartUpload(loc_.bucket, loc_.key, upload_id_, parts_).status();
  }

  Status SendPart(std::string part) {
    while (in_flight_.size() >= concurrency_) LOTE_RETURN_IF_ERROR(Collect());
    const int number = ++last_part_;
    if (number > 10000) {
      return ResourceExhaustedError(uri_ + ": over 10,000 parts; raise storage.s3.part_bytes");
    }
    auto spawned = Spawn<Result<aws::S3CompletedPart>>(
        [client = client_, loc = loc_, id = upload_id_, number, body = std::move(part)] {
          return client->UploadPart(loc.bucket, loc.key, id, number, body);
        });
    LOTE_RETURN_IF_ERROR(spawned.status());
    in_flight_.push_back(std::move(*spawned));
    return Status::Ok();
  }

  Status Collect() {
    Result<aws::S3CompletedPart> done = in_flight_.front().get();
    in_flight_.pop_front();
    LOTE_RETURN_IF_ERROR(done.status());
    parts_.push_back(std::move(*done));
    return Status::Ok();
  }

  std::shared_ptr<S3Client> client_;
  S3Location loc_;
  std::string uri_;
  uint64_t threshold_;
  uint64_t part_bytes_;
  size_t concurrency_;
  std::string buffer_;
  std::string upload_id_;
  int last_part_ = 0;
  std::deque<std::future<Result<aws::S3CompletedPart>>> in_flight_;
  std::vector<aws::S3CompletedPart> parts_;
  bool closed_ = false;
  Status error_;
};

// The lock object's content: who holds it and until when (wall clock, microseconds).
std::string LockBody(std::string_view owner, int64_t expires_at_micros) {
  return nlohmann::json{{"owner", owner}, {"expires_at_micros", expires_at_micros}}.dump() + "\n";
}

// A held lock: renewed every `renew` seconds with If-Match on the ETag of the last write, deleted
// on release if still ours.
class S3Lock : public StorageLock {
 public:
  S3Lock(std::shared_ptr<S3Client> client, S3Location loc, std::string owner, std::string etag,
         int64_t expires_micros, const S3StorageOptions& options,
         std::shared_ptr<const Clock> clock)
      : client_(std::move(client)),
        loc_(std::move(loc)),
        owner_(std::move(owner)),
        etag_(std::move(etag)),
        ttl_(options.lock_ttl_seconds),
        renew_(options.lock_renew_seconds),
        clock_(std::move(clock)),
        expires_micros_(expires_micros) {}

  Status Check() const override {
    const std::string uri = "s3://" + loc_.bucket + "/" + loc_.key;
    if (lost_.load()) {
      return AbortedError("the output lock " + uri +
                          " was taken over by another process (it expired unrenewed)");
    }
    const int64_t margin = static_cast<int64_t>(renew_ * 1e6);
    if (clock_->NowMicros() >= expires_micros_.load() - margin) {
      return AbortedError("the output lock " + uri +
                          " could not be renewed and is about to expire; stopping before "
                          "another process may take it");
    }
    return Status::Ok();
  }
  Status Start() {
    try {
      renewer_ = std::thread([this] { RenewLoop(); });
    } catch (const std::system_error& e) {
      return ResourceExhaustedError(std::string("cannot start the lock renewer: ") + e.what());
    }
    return Status::Ok();
  }
  ~S3Lock() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (renewer_.joinable()) renewer_.join();
    // Released only if the object is still the one this holder wrote last.
    auto head = client_->HeadObject(loc_.bucket, loc_.key);
    if (head.ok() && head->etag == etag_) (void)client_->DeleteObject(loc_.bucket, loc_.key);
  }

 private:
  void RenewLoop() {
    std::unique_lock<std::mutex> lock(mu_);
    while (!cv_.wait_for(lock, std::chrono::duration<double>(renew_), [this] { return stop_; })) {
      const int64_t expires = clock_->NowMicros() + static_cast<int64_t>(ttl_ * 1e6);
      auto put = client_->PutObject(loc_.bucket, loc_.key, LockBody(owner_, expires),
                                    aws::S3PutOptions{false, etag_});
      if (put.ok()) {
        etag_ = put->etag;
        expires_micros_ = expires;
      } else if (put.status().code() == StatusCode::kFailedPrecondition) {
        lost_ = true;
        return;  // taken over: this holder's lock has expired; nothing more to renew
      }
      // Transient failures: try again at the next tick, while the lock has not expired.
    }
  }

  std::shared_ptr<S3Client> client_;
  S3Location loc_;
  std::string owner_;
  std::string etag_;
  double ttl_;
  double renew_;
  std::shared_ptr<const Clock> clock_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread renewer_;
  std::atomic<int64_t> expires_micros_;  // as written by the last successful create or renewal
  std::atomic<bool> lost_{false};
};

class S3Storage : public Storage {
 public:
  S3Storage(S3StorageOptions options, std::shared_ptr<S3Client> client)
      : options_(std::move(options)), client_(std::move(client)) {}

  std::string_view scheme() const override { return "s3"; }
  bool etags_identify_content() const override { return true; }

  Result<std::vector<ObjectInfo>> List(std::string_view pattern) const override {
    return ListAfter(pattern, "");
  }

  Result<std::vector<ObjectInfo>> ListAfter(std::string_view pattern,
                                            std::string_view after) const override {
    LOTE_ASSIGN_OR_RETURN(S3Location loc, aws::ParseS3Uri(pattern));
    const bool glob = HasGlob(loc.key);
    std::string prefix = glob ? loc.key.substr(0, loc.key.find_first_of("*?[")) : loc.key;
    // URIs of one bucket sort as their keys do (S3 lists keys in UTF-8 byte order).
    std::string start_after;
    if (!after.empty()) {
      LOTE_ASSIGN_OR_RETURN(S3Location a, aws::ParseS3Uri(after));
      if (a.bucket != loc.bucket) {
        return InvalidArgumentError("list after " + std::string(after) + ": not in bucket " +
                                    loc.bucket);
      }
      start_after = a.key;
    }
    std::vector<ObjectInfo> out;
    LOTE_RETURN_IF_ERROR(ForEach(loc.bucket, prefix, start_after, [&](const aws::S3ObjectInfo& o) {
      bool match;
      if (glob) {
        match = ::fnmatch(loc.key.c_str(), o.key.c_str(), FNM_PATHNAME) == 0;
      } else if (loc.key.empty() || loc.key.back() == '/') {
        match = true;
      } else {
        match = o.key == loc.key || (o.key.size() > loc.key.size() && o.key.starts_with(loc.key) &&
                                     o.key[loc.key.size()] == '/');
      }
      if (match && !HiddenFromListing(o.key)) out.push_back(ToInfo(loc.bucket, o));
      return Status::Ok();
    }));
    if (out.empty() && !glob && after.empty())
      return NotFoundError("nothing at " + S3Client::Describe(loc.bucket, loc.key));
    return out;
  }

  Result<ObjectInfo> Stat(std::string_view uri) const override {
    LOTE_ASSIGN_OR_RETURN(S3Location loc, aws::ParseS3Uri(uri));
    LOTE_ASSIGN_OR_RETURN(aws::S3ObjectInfo o, client_->HeadObject(loc.bucket, loc.key));
    return ToInfo(loc.bucket, o);
  }

  Result<std::string> Read(std::string_view uri) const override {
    LOTE_ASSIGN_OR_RETURN(S3Location loc, aws::ParseS3Uri(uri));
    return client_->GetObject(loc.bucket, loc.key);
  }

  Result<std::string> ReadRange(std::string_view uri, uint64_t offset,
                                uint64_t length) const override {
    LOTE_ASSIGN_OR_RETURN(S3Location loc, aws::ParseS3Uri(uri));
    return client_->GetObject(loc.bucket, loc.key, offset, length);
  }

  Result<std::unique_ptr<io::ByteSource>> OpenRead(std::string_view uri) const override {
    LOTE_ASSIGN_OR_RETURN(S3Location loc, aws::ParseS3Uri(uri));
    LOTE_ASSIGN_OR_RETURN(aws::S3ObjectInfo o, client_->HeadObject(loc.bucket, loc.key));
    return std::unique_ptr<io::ByteSource>(new S3Source(client_, std::move(loc), std::string(uri),
                                                        o.size, o.etag, options_.read_part_bytes,
                                                        options_.read_ahead_ranges));
  }

  Status Write(std::string_view uri, std::string_view data) override {
    if (data.size() <= options_.multipart_threshold_bytes) {  // one PUT, without a copy
      LOTE_ASSIGN_OR_RETURN(S3Location loc, ObjectLocation(uri));
      return client_->PutObject(loc.bucket, loc.key, data).status();
    }
    LOTE_ASSIGN_OR_RETURN(auto writer, NewWriter(uri));
    LOTE_RETURN_IF_ERROR(writer->Append(data));
    return writer->Close();
  }

  Result<std::unique_ptr<ObjectWriter>> NewWriter(std::string_view uri) override {
    LOTE_ASSIGN_OR_RETURN(S3Location loc, ObjectLocation(uri));
    return std::unique_ptr<ObjectWriter>(
        new S3Writer(client_, std::move(loc), std::string(uri), options_));
  }

  Status CreateIfAbsent(std::string_view uri, std::string_view data) override {
    LOTE_ASSIGN_OR_RETURN(S3Location loc, aws::ParseS3Uri(uri));
    bool ambiguous = false;
    aws::S3PutOptions put;
    put.if_none_match = true;
    put.ambiguous = &ambiguous;
    auto r = client_->PutObject(loc.bucket, loc.key, data, put);
    if (r.ok() || r.status().code() != StatusCode::kAlreadyExists || !ambiguous) {
      return r.status();
    }
    // An earlier attempt may have created it: ours if it holds exactly our bytes. (Markers hold
    // their writer's run id, so another creator's bytes differ.)
    auto existing = client_->GetObject(loc.bucket, loc.key);
    if (existing.ok() && *existing == data) return Status::Ok();
    return r.status();
  }

  Status Delete(std::string_view uri) override {
    LOTE_ASSIGN_OR_RETURN(S3Location loc, aws::ParseS3Uri(uri));
    LOTE_RETURN_IF_ERROR(client_->HeadObject(loc.bucket, loc.key).status());
    return client_->DeleteObject(loc.bucket, loc.key);
  }

  Status DeletePrefix(std::string_view prefix) override {
    LOTE_ASSIGN_OR_RETURN(S3Location loc, aws::ParseS3Uri(prefix));
    std::string folder = loc.key;
    if (!folder.empty() && folder.back() != '/') folder.push_back('/');
    std::vector<std::string> batch;
    auto flush = [&]() -> Status {
      Status s = client_->DeleteObjects(loc.bucket, batch);
      batch.clear();
      return s;
    };
    LOTE_RETURN_IF_ERROR(ForEach(loc.bucket, loc.key, [&](const aws::S3ObjectInfo& o) -> Status {
      if (o.key != loc.key && !o.key.starts_with(folder)) return Status::Ok();
      batch.push_back(o.key);
      return batch.size() == kDeleteBatch ? flush() : Status::Ok();
    }));
    return flush();
  }

  Status Rename(std::string_view from, std::string_view to) override {
    LOTE_ASSIGN_OR_RETURN(S3Location src, aws::ParseS3Uri(from));
    LOTE_ASSIGN_OR_RETURN(S3Location dst, aws::ParseS3Uri(to));
    LOTE_ASSIGN_OR_RETURN(aws::S3ObjectInfo o, client_->HeadObject(src.bucket, src.key));
    if (src.bucket == dst.bucket && src.key == dst.key) return Status::Ok();
    if (o.size <= options_.copy_threshold_bytes) {
      LOTE_RETURN_IF_ERROR(client_->CopyObject(src.bucket, src.key, dst.bucket, dst.key));
    } else {
      LOTE_RETURN_IF_ERROR(CopyLarge(src, dst, o.size));
    }
    return client_->DeleteObject(src.bucket, src.key);
  }

  Result<std::unique_ptr<StorageLock>> TryLock(std::string_view uri,
                                               std::string_view owner) override {
    LOTE_ASSIGN_OR_RETURN(S3Location loc, aws::ParseS3Uri(uri));
    const auto clock = ClockOr(options_.clock);
    // The lock object can change between our reads: its holder releases it (404) or renews it
    // (412 on the If-Match read). Each is a reason to try again, a few times, not an error.
    for (int round = 0;; ++round) {
      auto taken = TryLockOnce(loc, uri, owner, clock);
      if (taken.ok() || round == 4) return taken;
      const StatusCode code = taken.status().code();
      if (code != StatusCode::kNotFound && code != StatusCode::kFailedPrecondition) return taken;
    }
  }

 private:
  // One attempt of TryLock. NotFound / FailedPrecondition: the lock object changed meanwhile.
  Result<std::unique_ptr<StorageLock>> TryLockOnce(const S3Location& loc, std::string_view uri,
                                                   std::string_view owner,
                                                   const std::shared_ptr<const Clock>& clock) {
    const int64_t ttl_micros = static_cast<int64_t>(options_.lock_ttl_seconds * 1e6);
    const int64_t expires = clock->NowMicros() + ttl_micros;
    const std::string body = LockBody(owner, expires);
    bool ambiguous = false;
    aws::S3PutOptions create;
    create.if_none_match = true;
    create.ambiguous = &ambiguous;
    auto put = client_->PutObject(loc.bucket, loc.key, body, create);
    if (!put.ok() && put.status().code() == StatusCode::kAlreadyExists) {
      // Held, or left behind by a holder that died: take it over once it has expired.
      LOTE_ASSIGN_OR_RETURN(aws::S3ObjectInfo head, client_->HeadObject(loc.bucket, loc.key));
      LOTE_ASSIGN_OR_RETURN(std::string held,
                            client_->GetObject(loc.bucket, loc.key, 0, {}, head.etag));
      auto j = nlohmann::json::parse(held, nullptr, false);
      const int64_t expires = j.is_object() && j["expires_at_micros"].is_number_integer()
                                  ? j["expires_at_micros"].get<int64_t>()
                                  : 0;
      const std::string holder = j.is_object() && j["owner"].is_string()
                                     ? j["owner"].get<std::string>()
                                     : std::string("unknown");
      if (ambiguous && held == body) {
        put = aws::S3PutResult{head.etag};  // created by this call's attempt whose answer was lost
      } else if (expires > clock->NowMicros()) {
        return UnavailableError("locked by " + holder + " (" + std::string(uri) + ")");
      } else {
        aws::S3PutOptions takeover;
        takeover.if_match = head.etag;
        put = client_->PutObject(loc.bucket, loc.key, body, takeover);
        if (!put.ok() && put.status().code() == StatusCode::kFailedPrecondition) {
          return UnavailableError("locked by another holder that took over the expired lock of " +
                                  holder + " (" + std::string(uri) + ")");
        }
      }
    }
    LOTE_RETURN_IF_ERROR(put.status());
    auto lock = std::make_unique<S3Lock>(client_, loc, std::string(owner), put->etag, expires,
                                         options_, clock);
    LOTE_RETURN_IF_ERROR(lock->Start());
    return std::unique_ptr<StorageLock>(std::move(lock));
  }

  // Calls `fn` for every object whose key starts with `prefix`, page by page.
  template <typename Fn>
  Status ForEach(const std::string& bucket, const std::string& prefix, Fn&& fn) const {
    return ForEach(bucket, prefix, "", std::forward<Fn>(fn));
  }
  // The same, for the keys after `start_after` only.
  template <typename Fn>
  Status ForEach(const std::string& bucket, const std::string& prefix,
                 const std::string& start_after, Fn&& fn) const {
    std::string token;
    do {
      LOTE_ASSIGN_OR_RETURN(aws::S3ListPage page,
                            client_->ListObjectsV2(bucket, prefix, token,
                                                   token.empty() ? start_after : std::string()));
      for (const aws::S3ObjectInfo& o : page.objects) LOTE_RETURN_IF_ERROR(fn(o));
      token = std::move(page.next_continuation_token);
    } while (!token.empty());
    return Status::Ok();
  }

  Status CopyLarge(const S3Location& src, const S3Location& dst, uint64_t size) {
    LOTE_ASSIGN_OR_RETURN(std::string id, client_->CreateMultipartUpload(dst.bucket, dst.key));
    std::vector<aws::S3CompletedPart> parts;
    const uint64_t step = options_.copy_part_bytes;
    Status s;
    for (uint64_t at = 0; at < size && s.ok(); at += step) {
      auto part =
          client_->UploadPartCopy(dst.bucket, dst.key, id, static_cast<int>(parts.size() + 1),
                                  src.bucket, src.key, at, std::min(size, at + step) - 1);
      if (part.ok()) parts.push_back(std::move(*part));
      s = part.status();
    }
    if (s.ok()) s = client_->CompleteMultipartUpload(dst.bucket, dst.key, id, parts).status();
    if (!s.ok()) (void)client_->AbortMultipartUpload(dst.bucket, dst.key, id);
    return s;
  }

  S3StorageOptions options_;
  std::shared_ptr<S3Client> client_;
};

}  // namespace

Result<std::shared_ptr<Storage>> NewS3Storage(S3StorageOptions options) {
  if (options.part_bytes < kMinPartBytes) {
    return InvalidArgumentError("storage.s3.part_bytes must be at least 5 MiB (S3's minimum part)");
  }
  if (options.copy_threshold_bytes < kMinPartBytes ||
      options.copy_threshold_bytes > kMaxCopyBytes || options.copy_part_bytes < kMinPartBytes ||
      options.copy_part_bytes > kMaxCopyBytes) {
    return InvalidArgumentError(
        "storage.s3.copy_threshold_bytes and copy_part_bytes must be 5 MiB..5 GiB");
  }
  if (options.upload_concurrency < 1 || options.upload_concurrency > 64) {
    return InvalidArgumentError("storage.s3.upload_concurrency must be 1..64");
  }
  if (options.read_part_bytes == 0 || options.read_part_bytes > (1ull << 30)) {
    return InvalidArgumentError("storage.s3.read_part_bytes must be 1 byte..1 GiB");
  }
  if (options.read_ahead_ranges < 1 || options.read_ahead_ranges > 16) {
    return InvalidArgumentError("storage.s3.read_ahead_ranges must be 1..16");
  }
  if (options.max_attempts < 1 || options.max_attempts > 100) {
    return InvalidArgumentError("storage.s3.max_attempts must be 1..100");
  }
  if (!(options.lock_renew_seconds > 0 && options.lock_renew_seconds < options.lock_ttl_seconds)) {
    return InvalidArgumentError(
        "storage.s3.lock_renew_seconds must be > 0 and under lock_ttl_seconds");
  }
  const auto env =
      options.env ? options.env
                  : std::make_shared<const aws::AwsEnvironment>(aws::AwsEnvironment::FromProcess());
  options.clock = ClockOr(options.clock);
  if (!options.http) {
    aws::CurlHttpClientOptions http;
    // A private CA for https endpoints, as the AWS CLI and SDKs take it.
    if (auto ca = env->Get("AWS_CA_BUNDLE")) http.ca_file = *ca;
    options.http = aws::NewCurlHttpClient(std::move(http));
  }
  aws::S3ClientConfig config;
  config.endpoint =
      options.endpoint.empty() ? aws::ResolveEndpoint(*env, "s3").value_or("") : options.endpoint;
  config.region =
      options.region.empty() ? aws::ResolveRegion(*env).value_or("us-east-1") : options.region;
  if (options.addressing == "path") {
    config.path_style = true;
  } else if (options.addressing == "auto") {
    config.path_style = !config.endpoint.empty();
  } else if (options.addressing != "virtual") {
    return InvalidArgumentError("storage.s3.addressing must be auto, path or virtual, not '" +
                                options.addressing + "'");
  }
  if (!options.sse.empty() && options.sse != "AES256" && options.sse != "aws:kms") {
    return InvalidArgumentError("storage.s3.sse must be AES256 or aws:kms");
  }
  if (!options.kms_key_id.empty() && options.sse != "aws:kms") {
    return InvalidArgumentError("storage.s3.kms_key_id needs sse: aws:kms");
  }
  config.sse = options.sse;
  config.kms_key_id = options.kms_key_id;
  config.max_attempts = options.max_attempts;
  config.max_retry_seconds = options.max_retry_seconds;
  config.base_backoff_seconds = options.base_backoff_seconds;
  config.max_backoff_seconds = options.max_backoff_seconds;
  config.request_timeout_seconds = options.request_timeout_seconds;
  config.http = options.http;
  config.clock = options.clock;
  if (!options.credentials) {
    aws::ProviderOptions provider;
    provider.clock = options.clock;
    provider.http = options.http;
    options.credentials = aws::NewDefaultCredentialsChain(*env, std::move(provider));
  }
  config.credentials = options.credentials;
  auto client = std::make_shared<S3Client>(std::move(config));
  return std::shared_ptr<Storage>(std::make_shared<S3Storage>(std::move(options), client));
}

}  // namespace lote::storage
