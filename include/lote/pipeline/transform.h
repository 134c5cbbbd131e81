// The infer stage as SageMaker Batch Transform runs it (docs/adr/0015): one request per prep
// part, answered by `lote serve` with the infer part itself, then imported by publish.
//
//   WriteTransformManifest   lists the prep parts whose object has no infer marker into a Batch
//                            Transform manifest ([{"prefix": PREP_FOLDER/}, "KEY-00000.jsonl.zst",
//                            ...]): the job's input (S3DataType ManifestFile, SplitType None).
//   TransformPart            one prep part (the request body, Content-Type
//                            application/x-lote-prep+zstd) -> the infer part (the response,
//                            application/x-lote-infer+zstd): two zstd frames, the rows `lote
//                            infer` writes for those records, then one trailer line with what
//                            infer leaves beside its files (model versions, the SHA-256 of the
//                            part answered, row and quarantine counts, the part's term counts,
//                            the model's reference profile). A pure function of (part, model,
//                            shadow model): a retried request or job gives the same bytes.
//   RunTransformManifest     what a transform job does with such a manifest, on this machine:
//                            each part through TransformPart into OUTPUT_PREFIX/NAME.out (the
//                            local executor's createTransformJob; the test's stand-in for AWS).
//   ImportTransformOutput    for every prep object without an infer marker whose parts all have
//                            an .out under the transform's output: checks that each .out answers
//                            its part (the trailer's SHA-256 is the part's, the row count is the
//                            trailer's, the frames' checksums hold), then writes the rows frame as
//                            the infer data file, the marker (as `lote infer` would have), and
//                            deletes the .out files. Idempotent; publish then runs as after `lote
//                            infer`.
//
// Thread-safety: TransformPart is thread-safe (engines are); the others take the output lock.
#ifndef LOTE_PIPELINE_TRANSFORM_H_
#define LOTE_PIPELINE_TRANSFORM_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "lote/base/status.h"
#include "lote/pipeline/inference.h"
#include "lote/pipeline/pipeline.h"
#include "lote/pipeline/stages.h"

namespace lote::pipeline {

inline constexpr std::string_view kPrepPartContentType = "application/x-lote-prep+zstd";
inline constexpr std::string_view kInferPartContentType = "application/x-lote-infer+zstd";
// The manifest's name in the transform's folder, where the job writes its .out files too: the
// import deletes the manifest once every object it lists is imported.
inline constexpr std::string_view kTransformManifestName = "manifest.json";

struct TransformPartOptions {
  const InferenceEngine* engine = nullptr;  // required
  const InferenceEngine* shadow = nullptr;  // a challenger scoring beside it (optional)
  bool count_terms = true;  // count terms for monitoring (when the reference profile has terms)
  int zstd_level = 3;
  // Bounds what one request may make the server hold: the decompressed rows of a part.
  uint64_t max_rows_bytes = uint64_t{1} << 30;
};

struct TransformPartCounts {
  uint64_t records = 0;      // rows answered
  uint64_t quarantined = 0;  // of which carry a quarantine reason (prep's or the engine's)
};

// `part` is a prep data file's bytes; `name` names it in errors. Errors: InvalidArgument (no
// engine, or the shadow is the model), DataLoss (not a zstd stream of stage records, or a record
// already inferred), ResourceExhausted (over max_rows_bytes). A record the engine fails on is
// quarantined at stage "infer" in its row, as `lote infer` does.
Result<std::string> TransformPart(std::string_view part, std::string_view name,
                                  const TransformPartOptions& options,
                                  TransformPartCounts* counts = nullptr);

struct TransformManifest {
  std::string uri;       // where the manifest was written
  uint64_t parts = 0;    // entries (0: nothing to infer; a transform job would have no input)
  uint64_t objects = 0;  // objects those parts belong to
};

// Writes the manifest of the prep parts waiting for inference to `manifest_uri` (normally
// TRANSFORM_FOLDER/kTransformManifestName) under the output lock. Errors of the storage;
// FailedPrecondition for a prep object written before prep kept a part for empty objects.
Result<TransformManifest> WriteTransformManifest(const PipelineOptions& options,
                                                 std::string_view manifest_uri);

struct TransformJobReport {
  uint64_t parts = 0;
  uint64_t bytes_in = 0, bytes_out = 0;  // of the parts read and the answers written
  double wall_s = 0;
};

// Transforms every entry of the manifest at `manifest_uri` into `output_prefix`/ENTRY.out with
// `threads` parts at a time (0: the usable CPUs). The manifest's prefix and the output prefix
// are URIs of options.output_storage (or opened from them). Errors: InvalidArgument for a
// manifest that is not one, those of TransformPart naming the part, those of the storage.
Result<TransformJobReport> RunTransformManifest(const PipelineOptions& options,
                                                std::string_view manifest_uri,
                                                std::string_view output_prefix,
                                                const TransformPartOptions& part_options,
                                                int threads);

// Imports the transform job's output at `transform_output` (a prefix) into the infer stage's
// files of options.output_uri. Objects with no .out yet are left for a later import (or `lote
// infer`). Errors: DataLoss when an .out does not answer its part (another part's, an earlier
// prep's, a damaged or truncated answer, no trailer); FailedPrecondition when parts of one import
// name different models.
Result<StageReport> ImportTransformOutput(const PipelineOptions& options,
                                          std::string_view transform_output);

}  // namespace lote::pipeline

#endif  // LOTE_PIPELINE_TRANSFORM_H_
