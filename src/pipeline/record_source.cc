#include "pipeline/record_source.h"

#include <xxhash.h>

#include "lote/base/digest.h"

namespace lote::pipeline {

void Item::Reset() {
  record_id.clear();
  line = 0;
  raw.clear();
  stage.clear();
  reason.clear();
  prep.text.clear();
  prep.lang.clear();
  prep.truncated = false;
  prep.replaced_invalid_utf8 = false;
  text_hmac.clear();
  content_key.clear();
  out.Clear();
  shadow.Clear();
  shadow_ok = false;
  complete = false;
  duplicate = false;
  top_k_json.clear();
  result_json.clear();
}

Item* Batch::Add() {
  if (size == items.size()) items.emplace_back();
  Item* item = &items[size++];
  item->Reset();
  return item;
}

namespace {

// Hashes the raw bytes flowing through it, so the pipeline can tell whether what it processed is
// the object version it registered in the ledger.
class HashingSource : public io::ByteSource {
 public:
  explicit HashingSource(std::unique_ptr<io::ByteSource> inner)
      : inner_(std::move(inner)), state_(XXH3_createState()) {
    XXH3_128bits_reset(state_);
  }
  ~HashingSource() override { XXH3_freeState(state_); }
  Result<size_t> Read(char* buf, size_t n) override {
    LOTE_ASSIGN_OR_RETURN(size_t got, inner_->Read(buf, n));
    XXH3_128bits_update(state_, buf, got);
    bytes_ += got;
    return got;
  }
  const std::string& name() const override { return inner_->name(); }
  // Reads what the consumer left unread, then returns "xxh3:<32 hex>".
  Result<std::string> Finish() {
    char buf[1 << 16];
    while (true) {
      LOTE_ASSIGN_OR_RETURN(size_t got, Read(buf, sizeof(buf)));
      if (got == 0) break;
    }
    XXH128_canonical_t canon;
    XXH128_canonicalFromHash(&canon, XXH3_128bits_digest(state_));
    return "xxh3:" + HexEncode(canon.digest, sizeof(canon.digest));
  }
  uint64_t bytes() const { return bytes_; }

 private:
  std::unique_ptr<io::ByteSource> inner_;
  XXH3_state_t* state_;
  uint64_t bytes_ = 0;
};

class InputRecords : public RecordSource {
 public:
  InputRecords(std::string uri, HashingSource* hashing,
               std::unique_ptr<io::TextRecordReader> reader)
      : uri_(std::move(uri)), hashing_(hashing), reader_(std::move(reader)) {}

  Result<bool> Fill(Batch* batch, size_t max_records, size_t max_bytes) override {
    if (done_) return false;
    const size_t before = batch->size;
    while (batch->size < max_records && batch->text_bytes < max_bytes) {
      auto next = reader_->Next(&record_);
      if (next.ok()) {
        if (!*next) {
          done_ = true;
          break;
        }
        Item* item = batch->Add();
        item->line = record_.line;
        item->record_id =
            record_.id.empty() ? uri_ + ":" + std::to_string(record_.line) : record_.id;
        item->raw.swap(record_.text);
        batch->text_bytes += item->raw.size();
        continue;
      }
      const io::RecordError& error = reader_->last_error();
      if (reader_->failed()) {
        // I/O trouble is transient: fail the attempt (the run resumes). A broken object (corrupt
        // compressed data, missing text column) is one quarantine entry, after the records read
        // before the break.
        if (next.status().code() == StatusCode::kUnavailable) return next.status();
        Item* item = batch->Add();
        item->record_id = uri_;
        item->line = error.line;
        item->stage = "ingest";
        item->reason = "unreadable object: " + error.reason;
        done_ = true;
        break;
      }
      Item* item = batch->Add();
      item->line = error.line;
      item->record_id = uri_ + ":" + std::to_string(error.line);
      item->stage = "ingest";
      item->reason = error.reason;
    }
    return batch->size > before;
  }

  Result<Consumed> Finish() override {
    Consumed c;
    // `hashing_` lives inside the reader's source chain: finish it before the reader goes.
    LOTE_ASSIGN_OR_RETURN(c.content_id, hashing_->Finish());
    c.bytes = hashing_->bytes();
    reader_.reset();
    return c;
  }

  uint64_t bytes_read() const override { return hashing_->bytes(); }

 private:
  std::string uri_;
  HashingSource* hashing_;  // owned by the reader's source chain
  std::unique_ptr<io::TextRecordReader> reader_;
  io::TextRecord record_;
  bool done_ = false;
};

class HandedOverRecords : public RecordSource {
 public:
  HandedOverRecords(StagedObject object, std::unique_ptr<StageRecordReader> reader)
      : object_(std::move(object)), reader_(std::move(reader)) {}

  Result<bool> Fill(Batch* batch, size_t max_records, size_t max_bytes) override {
    if (reader_ == nullptr) return false;
    const size_t before = batch->size;
    while (batch->size < max_records && batch->text_bytes < max_bytes) {
      LOTE_ASSIGN_OR_RETURN(bool more, reader_->Next(&record_));
      if (!more) {
        reader_.reset();
        break;
      }
      ++records_;
      Item* item = batch->Add();
      item->complete = true;
      item->record_id = std::move(record_.record_id);
      item->line = record_.line;
      item->stage = std::move(record_.stage);
      item->reason = std::move(record_.reason);
      item->prep.lang = std::move(record_.lang);
      item->text_hmac = std::move(record_.text_hmac);
      item->content_key = std::move(record_.content_key);
      if (record_.has_label) {
        item->out.label = std::move(record_.label);
        item->out.score = static_cast<float>(record_.score);
        item->out.top_k = std::move(record_.top_k);
      }
      item->out.entities_json = std::move(record_.entities_json);
      item->out.signals = record_.signals;
      if (record_.has_shadow) {
        item->shadow_ok = true;
        item->shadow.label = std::move(record_.shadow_label);
        item->shadow.score = static_cast<float>(record_.shadow_score);
        item->shadow.entities_json = std::move(record_.shadow_entities_json);
        batch->text_bytes += item->shadow.entities_json.size();
      }
      // No text is handed over; count the entities so a batch's size stays bounded.
      batch->text_bytes += item->out.entities_json.size() + 64;
    }
    return batch->size > before;
  }

  Result<Consumed> Finish() override {
    if (records_ != object_.records) {
      return DataLossError(object_.uri + "'s handed-over data holds " + std::to_string(records_) +
                           " records, its marker says " + std::to_string(object_.records));
    }
    Consumed c;
    c.content_id = object_.content_id;
    c.bytes = object_.size;
    c.ingest_s = object_.ingest_s;
    c.prep_s = object_.prep_s;
    c.infer_s = object_.infer_s;
    c.terms_json = object_.terms_json;
    c.handed_over = true;
    return c;
  }

  uint64_t bytes_read() const override { return 0; }

 private:
  StagedObject object_;
  std::unique_ptr<StageRecordReader> reader_;
  StageRecord record_;
  uint64_t records_ = 0;
};

}  // namespace

Result<std::unique_ptr<RecordSource>> OpenInputRecords(const storage::Storage& storage,
                                                       const std::string& uri,
                                                       const InputReadOptions& options) {
  LOTE_ASSIGN_OR_RETURN(io::Format format, io::FormatFromPath(uri, false));
  LOTE_ASSIGN_OR_RETURN(auto raw, storage.OpenRead(uri));
  auto hashing_owned = std::make_unique<HashingSource>(std::move(raw));
  HashingSource* hashing = hashing_owned.get();
  io::TextReaderOptions ro;
  ro.text_field = options.text_field;
  if (format != io::Format::kTxt) ro.id_field = options.id_field;
  ro.max_record_bytes = options.max_record_bytes;
  LOTE_ASSIGN_OR_RETURN(
      auto reader,
      io::MakeTextRecordReader(format, io::MaybeDecompress(std::move(hashing_owned)), ro));
  return std::unique_ptr<RecordSource>(
      std::make_unique<InputRecords>(uri, hashing, std::move(reader)));
}

Result<std::unique_ptr<RecordSource>> OpenHandedOverRecords(const storage::Storage& storage,
                                                            const StagedObject& object) {
  std::unique_ptr<StageRecordReader> reader;
  if (!object.data_uris.empty()) {
    LOTE_ASSIGN_OR_RETURN(reader, StageRecordReader::Open(storage, object.data_uris));
  }
  return std::unique_ptr<RecordSource>(
      std::make_unique<HandedOverRecords>(object, std::move(reader)));
}

Result<std::string> ContentId(const storage::Storage& storage, const std::string& uri,
                              uint64_t* size) {
  LOTE_ASSIGN_OR_RETURN(auto source, storage.OpenRead(uri));
  HashingSource hashing(std::move(source));
  LOTE_ASSIGN_OR_RETURN(std::string id, hashing.Finish());
  *size = hashing.bytes();
  return id;
}

}  // namespace lote::pipeline
