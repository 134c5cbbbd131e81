// ObjectPublisher: the writer side of one object's attempt. Takes processed batches in record
// order and gives every record its one outcome: a duplicate (against the ledger's dedup state),
// a quarantine row, or a results row, each row written to a staged zstd part and to the ledger's
// catalog inside the attempt's transaction.
// Thread-safety: one thread (the executor's writer); the live counters are atomics that the
// reader thread may read for progress.
#ifndef LOTE_SRC_PIPELINE_PUBLISHER_H_
#define LOTE_SRC_PIPELINE_PUBLISHER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "lote/base/clock.h"
#include "lote/base/status.h"
#include "lote/monitoring/profile.h"
#include "lote/pipeline/ledger.h"
#include "lote/pipeline/prep.h"
#include "lote/storage/storage.h"
#include "pipeline/part_writer.h"
#include "pipeline/record_source.h"

namespace lote::pipeline {

// Counts of the current invocation, for progress displays.
struct LiveCounts {
  std::atomic<uint64_t> in{0}, out{0}, quarantined{0}, duplicate{0};
};

// What is the same for every object of a run.
struct PublishContext {
  Ledger* ledger = nullptr;
  storage::Storage* out = nullptr;
  std::string output_uri, model_version, preprocess_version, run_id;
  // Shadow scoring: the challenger's version ("" none). Its rows go to
  // shadow/dt=DT/model=SHADOW_VERSION, one beside each results row it scored.
  std::string shadow_model_version;
  // Unique to the process: staged files of two processes never share a name, even with the
  // same attempt ids (two machines' caches of one object-store ledger).
  std::string staging_tag;
  bool dedup_record_id = true;
  bool dedup_content = false;
  bool monitor = true;  // profile what the model saw (lote/monitoring/profile.h)
  uint64_t max_part_bytes = 128ull << 20;
  int zstd_level = 3;
  const Clock* clock = nullptr;
  // Applies the PII policy to a quarantine reason.
  std::function<std::string(std::string_view)> redact;
  LiveCounts* live = nullptr;
};

// Where an attempt's parts are staged: OUTPUT/_staging/<staging_tag>-a<attempt_id>.
std::string StagingUri(const PublishContext& context, int64_t attempt_id);

// `,"source":"URI"` as every row of the object has it.
std::string SourceJson(std::string_view uri);

// Encodes the head of a results row (record_id up to entities, without the closing members that
// are the same for a whole batch) into item->result_json, and item->top_k_json. Called by the
// workers, so the writer only concatenates.
void EncodeResultHead(std::string_view source_json, Item* item);

class ObjectPublisher {
 public:
  // Stages parts under StagingUri(context, attempt_id) for partition date `dt`.
  ObjectPublisher(const PublishContext& context, std::string uri, int64_t source_id,
                  int64_t attempt_id, const std::string& dt);

  // Writes the outcomes of batch->items[0, size). Errors: storage and ledger errors (fatal for
  // the attempt).
  Status Write(Batch* batch);
  // Closes the parts (they become visible at their staged names).
  Status Finish();

  std::vector<StagedPart> parts() const;
  const AttemptCounts& counts() const { return counts_; }
  const LabelCounts& labels() const { return labels_; }
  // Sum of the scores of the result rows that have a label, and their number.
  double score_sum() const { return score_sum_; }
  uint64_t scored() const { return scored_; }
  // The model's view of the result rows written (lote/monitoring/profile.h).
  const monitoring::Profile& profile() const { return profile_; }
  double publish_seconds() const { return publish_s_; }
  double catalog_seconds() const { return catalog_s_; }

 private:
  Status Dedup(Item* item);
  Status WriteRow(Item* item, const std::string& processed_at);
  Status AddCatalogRow(const Item& item, const std::string& processed_at);

  const PublishContext& c_;
  std::string uri_;
  int64_t source_id_, attempt_id_;
  PartWriter results_, quarantine_, shadow_;
  AttemptCounts counts_;
  LabelCounts labels_;
  double score_sum_ = 0;
  uint64_t scored_ = 0;
  monitoring::Profile profile_;
  double publish_s_ = 0;
  double catalog_s_ = 0;     // inside the ledger (dedup, catalog rows)
  std::string source_json_;  // ,"source":"URI"
  std::string tail_json_;    // ,"model_version":..,"run_id":..,"processed_at":"
  std::string shadow_tail_;  // the same for the shadow rows
  std::string line_;
};

}  // namespace lote::pipeline

#endif  // LOTE_SRC_PIPELINE_PUBLISHER_H_
