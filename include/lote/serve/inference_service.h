// InferenceService: what `lote serve` answers, SageMaker's inference-container contract over the
// library's batch code (the rows of lote/bundle/prediction_row.h, the prep stage of
// lote/pipeline/prep.h):
//   GET  /ping                   200 once a model is loaded, 503 before
//   POST /invocations            records in, one output line per record, in order
//   GET  /execution-parameters   MaxConcurrentTransforms, BatchStrategy, MaxPayloadInMB
//   GET  /metrics                the Prometheus text exposition (when a renderer is given)
// Request bodies (Content-Type; parameters such as charset are ignored):
//   application/jsonlines (also application/x-jsonlines, application/jsonl, application/x-ndjson):
//     one JSON object a line, text and id fields as `lote predict --format jsonl`;
//   application/json: one object, or {"instances": [...]} of objects or strings (a string is
//     the text); a body that is not valid JSON is 400;
//   text/csv: one record a line, no header; the text in column csv_text_column (0-based),
//     the id in csv_id_column (-1: none);
//   text/plain: one text a line.
//   application/x-lote-prep+zstd: one part of the pipeline's prep stage (a Batch Transform
//     request per part, docs/adr/0015), answered with application/x-lote-infer+zstd, the infer
//     part (pipeline::TransformPart); needs LoadStageEngines. A part that is not one is 400.
// Blank lines are skipped (no output line), as `lote predict` does. Accept: application/jsonlines
// (default, also for */* or none) or application/json ({"predictions": [row, ...]}); anything
// else is 406. A bad record gives an error row {"record_id", "error", "line", ...} (line counted
// from 1 within the payload; for JSON instances, the instance's position) and never fails the
// request. Each row is `lote predict`'s row for the record, computed on the text after prep
// (unless prep is off) and with "preprocess_version". With a shadow model (LoadShadowModel),
// each prediction row also carries "shadow": {"model_version", "label", "score", "agree"}: the
// shadow's classification of the same text and whether its label is the model's.
// Thread-safety: Invocations and the other handlers are thread-safe; LoadModel once.
#ifndef LOTE_SERVE_INFERENCE_SERVICE_H_
#define LOTE_SERVE_INFERENCE_SERVICE_H_

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "lote/base/metrics.h"
#include "lote/bundle/model.h"
#include "lote/bundle/prediction_row.h"
#include "lote/pipeline/inference.h"
#include "lote/pipeline/prep.h"
#include "lote/serve/http.h"
#include "lote/serve/http_server.h"

namespace lote {
class PrometheusRegistry;
}  // namespace lote

namespace lote::serve {

struct InferenceOptions {
  bundle::PredictionRowOptions rows;  // top_k, patterns, PII policy, reference date
  bool prep = true;                   // clean texts as the pipeline's prep stage does
  pipeline::PrepOptions prep_options;
  std::string text_field = "text";  // jsonl / json records
  std::string id_field = "id";      // absent in a record: record_id is its line
  int csv_text_column = 0;
  int csv_id_column = -1;
  size_t max_record_bytes = size_t{1} << 20;
  // What GET /execution-parameters reports (SageMaker reads it before a transform job).
  int max_concurrent_transforms = 1;
  std::string batch_strategy = "MULTI_RECORD";
  int max_payload_mb = 6;
};

// The formats, from the headers; Unimplemented (415) / FailedPrecondition (406) otherwise.
enum class RequestFormat { kJsonLines, kJson, kCsv, kText };
enum class ResponseFormat { kJsonLines, kJson };
Result<RequestFormat> RequestFormatFor(std::string_view content_type);
Result<ResponseFormat> ResponseFormatFor(std::string_view accept);

class InferenceService {
 public:
  // `metrics` (may be null) receives the series of docs/serve.md; `render_metrics` (may be
  // empty: /metrics is then 404) produces GET /metrics's body.
  InferenceService(InferenceOptions options, std::shared_ptr<MetricsSink> metrics,
                   std::function<std::string()> render_metrics);
  ~InferenceService();

  // Takes the model; from then on /ping is 200. InvalidArgument for options the model cannot
  // serve (hash PII policy without a key).
  Status LoadModel(bundle::Model model);
  bool ready() const { return ready_.load(std::memory_order_acquire); }
  // A second classifier scoring every record beside the model (shadow scoring: a challenger
  // compared with the champion on live traffic, docs/registry.md). Call before LoadModel, which
  // refuses a shadow that is the model itself or a model that does not classify. A record the
  // shadow fails on keeps the model's row, without "shadow". InvalidArgument when the shadow
  // does not classify.
  Status LoadShadowModel(bundle::Model model);

  // The pipeline's engines for prep parts (the same model, with the PII policy of the rows; a
  // shadow may be null). Call before LoadModel. Without them a prep part is 415.
  void LoadStageEngines(std::shared_ptr<const pipeline::InferenceEngine> engine,
                        std::shared_ptr<const pipeline::InferenceEngine> shadow);

  // The loaded model's version_id ("" before LoadModel), the shadow's ("" without one).
  const std::string& model_version() const;
  const std::string& shadow_version() const;
  // The preprocess_version rows carry ("" when prep is off).
  const std::string& preprocess_version() const { return preprocess_version_; }

  HttpResponse Ping() const;
  HttpResponse ExecutionParameters() const;
  HttpResponse Invocations(const HttpRequest& request);
  HttpResponse Metrics() const;

  // The four routes, /invocations offloaded to the server's workers.
  std::vector<HttpRoute> Routes();

 private:
  struct Worker;
  std::unique_ptr<Worker> AcquireWorker();
  void ReleaseWorker(std::unique_ptr<Worker> worker);
  HttpResponse TransformPart(const HttpRequest& request);
  void Process(RequestFormat format, std::string_view body, Worker* worker, std::string* rows,
               size_t* records);

  InferenceOptions options_;
  std::shared_ptr<MetricsSink> metrics_;
  std::function<std::string()> render_metrics_;
  std::string preprocess_version_;
  std::unique_ptr<bundle::Model> model_;
  std::unique_ptr<bundle::PredictionRowWriter> rows_;
  std::unique_ptr<bundle::Model> shadow_model_;
  std::unique_ptr<bundle::TextAnalyzer> shadow_;  // the shadow's classifier alone
  std::unique_ptr<pipeline::Preprocessor> prep_;
  std::shared_ptr<const pipeline::InferenceEngine> stage_engine_, stage_shadow_;
  std::atomic<bool> ready_{false};
  std::mutex mu_;
  std::vector<std::unique_ptr<Worker>> idle_;  // guarded by mu_
};

// Declares, with help texts and histogram buckets, the series InferenceService and HttpServer
// report, so that a registry renders them as documented (docs/serve.md).
void DeclareServeMetrics(PrometheusRegistry* registry);

}  // namespace lote::serve

#endif  // LOTE_SERVE_INFERENCE_SERVICE_H_
