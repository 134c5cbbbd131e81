// Run: one exactly-once run of the publish machinery over a list of objects, whatever they are:
// input objects read and processed (RunPipeline) or the infer stage's handed-over records
// (PublishStaged). It takes the output lock, opens and recovers the ledger, resumes or starts a
// run, processes each object in its own ledger attempt (records through RunOrdered: reader ->
// prep + inference workers -> ObjectPublisher), commits and renames, then writes the manifest
// and checks the reconciliation.
// Thread-safety: Execute is called once, from one thread.
#ifndef LOTE_SRC_PIPELINE_RUN_H_
#define LOTE_SRC_PIPELINE_RUN_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "lote/pipeline/pipeline.h"
#include "pipeline/record_source.h"

namespace lote::pipeline {

// One object to publish.
class ObjectTask {
 public:
  virtual ~ObjectTask() = default;
  virtual const std::string& uri() const = 0;
  virtual uint64_t listed_size() const = 0;
  // The object version's identity: its size and content id.
  virtual Result<std::pair<uint64_t, std::string>> Identify() = 0;
  // The listed ETag when the store's ETags identify content (Storage::etags_identify_content),
  // else "": with it a version already done is known without reading it (Identify).
  virtual const std::string& strong_etag() const {
    static const std::string none;
    return none;
  }
  // The object's ETag now (a HEAD), to tell that what Identify read is the listed version.
  virtual Result<std::string> EtagNow() { return std::string(); }
  virtual Result<std::unique_ptr<RecordSource>> Open() = 0;
  // Called once the object is published, or found published by an earlier run.
  virtual Status Release() = 0;
};

struct TaskList {
  std::vector<std::unique_ptr<ObjectTask>> tasks;
  uint64_t ignored = 0;  // listed but not processed (logged by the lister)
};

struct RunSpec {
  // Called once the output is locked and the ledger recovered.
  std::function<Result<TaskList>(storage::Storage* out)> list_tasks;
  // Runs prep and inference on the records that are not complete; null: every record is
  // handed over complete (publish).
  std::shared_ptr<const InferenceEngine> engine;
  std::string model_version;
  std::string preprocess_version;
  // The canonical output URI the ledger is bound to.
  std::string canonical_output;
  // The model's reference profile for monitoring; null: the report says there is none.
  std::shared_ptr<const monitoring::Profile> reference;
  // Applies the PII policy (quarantine reasons, log lines); null: text is written as is.
  std::function<std::string(std::string_view)> redact;
  // Shadow scoring: the challenger scores every record after the champion (null: none, or the
  // records come handed over with its predictions: publish of the stages).
  std::shared_ptr<const InferenceEngine> shadow;
  // The challenger's version: non-empty when the run writes shadow rows.
  std::string shadow_model_version;
};

Result<RunReport> ExecuteRun(const PipelineOptions& options, RunSpec spec);

// The storage the input is read through: options.input_storage, or the one for the input's
// scheme; a local input is confined to its folder (the listing root, or a single file's folder)
// unless options.follow_symlinks, with each file left out reported to `on_escape`.
Result<std::shared_ptr<storage::Storage>> OpenInputStorage(
    const PipelineOptions& options, std::function<void(std::string_view uri)> on_escape);

// InvalidArgument when the output lies inside the input (every run would read the previous
// run's results) or the input inside the output, compared as canonical URIs.
Status CheckSeparateLocations(const storage::Storage& in, const storage::Storage& out,
                              const PipelineOptions& options);

}  // namespace lote::pipeline

#endif  // LOTE_SRC_PIPELINE_RUN_H_
