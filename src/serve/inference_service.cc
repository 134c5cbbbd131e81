#include "lote/serve/inference_service.h"

#include <nlohmann/json.hpp>

#include "lote/base/json_writer.h"
#include "lote/base/prometheus.h"
#include "lote/io/records.h"
#include "lote/pipeline/transform.h"
#include "lote/text/utf8.h"

namespace lote::serve {
namespace {

// The service's series (docs/serve.md); DeclareServeMetrics gives them help texts and buckets.
constexpr std::string_view kRecordsTotal = "lote_records_total";
constexpr std::string_view kRecordErrorsTotal = "lote_record_errors_total";
constexpr std::string_view kPredictionsTotal = "lote_predictions_total";
constexpr std::string_view kRecordsPerRequest = "lote_records_per_request";
constexpr std::string_view kPredictionScore = "lote_prediction_score";
constexpr std::string_view kTextBytes = "lote_text_bytes";
constexpr std::string_view kModelInfo = "lote_model_info";
constexpr std::string_view kShadowPredictionsTotal = "lote_shadow_predictions_total";
constexpr std::string_view kShadowModelInfo = "lote_shadow_model_info";

// Splits one CSV line (RFC 4180 quoting, "" inside quotes) into fields. InvalidArgument for an
// unbalanced quote or text after a closing quote. Not io's CSV reader: that one needs a header
// and lets a quoted field run over several lines, where a text/csv payload is one record a line
// (SageMaker splits files at newlines and reassembles one answer a line), so an unbalanced quote
// must spoil its own line only.
Status SplitCsvLine(std::string_view line, std::vector<std::string>* fields) {
  fields->clear();
  std::string field;
  size_t i = 0;
  while (true) {
    field.clear();
    if (i < line.size() && line[i] == '"') {
      ++i;
      while (true) {
        if (i >= line.size()) return InvalidArgumentError("unbalanced quote");
        if (line[i] == '"') {
          if (i + 1 < line.size() && line[i + 1] == '"') {
            field.push_back('"');
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        field.push_back(line[i++]);
      }
      if (i < line.size() && line[i] != ',') {
        return InvalidArgumentError("text after a closing quote");
      }
    } else {
      size_t end = line.find(',', i);
      if (end == std::string_view::npos) end = line.size();
      field.assign(line.substr(i, end - i));
      if (field.find('"') != std::string::npos) {
        return InvalidArgumentError("a quote inside an unquoted field");
      }
      i = end;
    }
    fields->push_back(std::move(field));
    if (i >= line.size()) return Status::Ok();
    ++i;  // the comma
    if (i == line.size()) {
      fields->emplace_back();
      return Status::Ok();
    }
  }
}

// The metrics label of a bad record: the reader's problem, else prep's rejection.
std::string_view ErrorReason(io::RecordProblem problem) {
  return problem != io::RecordProblem::kNone ? io::RecordProblemName(problem) : "rejected by prep";
}

}  // namespace

Result<RequestFormat> RequestFormatFor(std::string_view content_type) {
  std::string t = MediaType(content_type);
  if (t == "application/jsonlines" || t == "application/x-jsonlines" || t == "application/jsonl" ||
      t == "application/x-ndjson") {
    return RequestFormat::kJsonLines;
  }
  if (t == "application/json") return RequestFormat::kJson;
  if (t == "text/csv") return RequestFormat::kCsv;
  if (t == "text/plain") return RequestFormat::kText;
  if (t.empty()) return UnimplementedError("a Content-Type is required");
  return UnimplementedError("unsupported Content-Type '" +
                            text::Excerpt(text::ReplaceInvalidUtf8(t), 60) +
                            "' (application/jsonlines, application/json, text/csv or text/plain)");
}

Result<ResponseFormat> ResponseFormatFor(std::string_view accept) {
  if (accept.empty()) return ResponseFormat::kJsonLines;
  // The first media range of the list that can be served wins (q-values are not weighed).
  size_t pos = 0;
  while (pos <= accept.size()) {
    size_t comma = accept.find(',', pos);
    if (comma == std::string_view::npos) comma = accept.size();
    std::string t = MediaType(accept.substr(pos, comma - pos));
    if (t == "application/jsonlines" || t == "application/x-jsonlines" ||
        t == "application/jsonl" || t == "*/*" || t == "application/*") {
      return ResponseFormat::kJsonLines;
    }
    if (t == "application/json") return ResponseFormat::kJson;
    pos = comma + 1;
  }
  return FailedPreconditionError("cannot answer in '" +
                                 text::Excerpt(text::ReplaceInvalidUtf8(accept), 60) +
                                 "' (application/jsonlines or application/json)");
}

struct InferenceService::Worker {
  std::unique_ptr<bundle::PredictionRowWriter::State> state;
  std::unique_ptr<bundle::AnalyzerState> shadow_state;
  bundle::Analysis shadow_analysis;
  pipeline::PrepResult prep;
  std::vector<std::string> fields;
  std::vector<uint64_t> label_counts;
};

InferenceService::InferenceService(InferenceOptions options, std::shared_ptr<MetricsSink> metrics,
                                   std::function<std::string()> render_metrics)
    : options_(std::move(options)),
      metrics_(std::move(metrics)),
      render_metrics_(std::move(render_metrics)) {
  if (options_.prep) {
    preprocess_version_ = pipeline::PreprocessVersion(options_.prep_options);
    prep_ = std::make_unique<pipeline::Preprocessor>(options_.prep_options);
  }
}

InferenceService::~InferenceService() = default;

Status InferenceService::LoadShadowModel(bundle::Model model) {
  if (ready()) return FailedPreconditionError("the shadow is loaded before the model");
  if (!model.classifier) {
    return InvalidArgumentError("the shadow model " + model.version_id +
                                " does not classify: nothing to compare");
  }
  shadow_model_ = std::make_unique<bundle::Model>(std::move(model));
  // Only its label and score are written: no tagger, no patterns, no top_k.
  bundle::AnalyzerOptions ao;
  ao.extract = false;
  ao.patterns = false;
  ao.top_k = 1;
  LOTE_ASSIGN_OR_RETURN(shadow_, bundle::TextAnalyzer::Create(shadow_model_.get(), std::move(ao)));
  return Status::Ok();
}

Status InferenceService::LoadModel(bundle::Model model) {
  if (ready()) return FailedPreconditionError("a model is already loaded");
  if (shadow_model_ && !model.classifier) {
    return InvalidArgumentError("the model " + model.version_id +
                                " does not classify: a shadow has nothing to compare with");
  }
  if (shadow_model_ && shadow_model_->version_id == model.version_id) {
    return InvalidArgumentError("the shadow model is the model itself (" + model.version_id + ")");
  }
  model_ = std::make_unique<bundle::Model>(std::move(model));
  bundle::PredictionRowOptions ro = options_.rows;
  ro.error_line = true;
  ro.record_id_is_row = false;
  ro.preprocess_version = preprocess_version_;
  LOTE_ASSIGN_OR_RETURN(rows_, bundle::PredictionRowWriter::Create(model_.get(), std::move(ro)));
  if (metrics_) {
    MetricLabel labels[] = {{"model_version", model_->version_id},
                            {"preprocess_version", preprocess_version_}};
    metrics_->Gauge(kModelInfo, labels, 1);
    if (shadow_model_) {
      MetricLabel shadow[] = {{"model_version", shadow_model_->version_id}};
      metrics_->Gauge(kShadowModelInfo, shadow, 1);
    }
  }
  ready_.store(true, std::memory_order_release);
  return Status::Ok();
}

const std::string& InferenceService::model_version() const {
  static const std::string kNone;
  return ready() ? model_->version_id : kNone;
}

const std::string& InferenceService::shadow_version() const {
  static const std::string kNone;
  return shadow_model_ ? shadow_model_->version_id : kNone;
}

std::unique_ptr<InferenceService::Worker> InferenceService::AcquireWorker() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!idle_.empty()) {
      auto w = std::move(idle_.back());
      idle_.pop_back();
      return w;
    }
  }
  auto w = std::make_unique<Worker>();
  w->state = rows_->NewState();
  if (shadow_) w->shadow_state = shadow_->NewState();
  return w;
}

void InferenceService::ReleaseWorker(std::unique_ptr<Worker> worker) {
  std::lock_guard<std::mutex> lock(mu_);
  idle_.push_back(std::move(worker));
}

HttpResponse InferenceService::Ping() const {
  if (!ready()) return ErrorResponse(UnavailableError("the model is loading"));
  HttpResponse r;
  r.body = "{\"status\":\"ready\"}\n";
  return r;
}

HttpResponse InferenceService::ExecutionParameters() const {
  HttpResponse r;
  r.body = "{\"MaxConcurrentTransforms\":" + std::to_string(options_.max_concurrent_transforms) +
           ",\"BatchStrategy\":";
  AppendJsonString(&r.body, options_.batch_strategy);
  r.body += ",\"MaxPayloadInMB\":" + std::to_string(options_.max_payload_mb) + "}\n";
  return r;
}

HttpResponse InferenceService::Metrics() const {
  if (!render_metrics_) return ErrorResponse(NotFoundError("no metrics are kept"));
  HttpResponse r;
  r.content_type = "text/plain; version=0.0.4; charset=utf-8";
  r.body = render_metrics_();
  return r;
}

void InferenceService::Process(RequestFormat format, std::string_view body, Worker* w,
                               std::string* out, size_t* records) {
  const bundle::PredictionRowWriter& rows = *rows_;
  const auto& labels =
      model_->classifier ? model_->classifier->labels() : std::vector<std::string>{};
  w->label_counts.assign(labels.size(), 0);
  std::map<std::string_view, uint64_t> errors;
  uint64_t predicted = 0;
  uint64_t shadow_agree = 0, shadow_disagree = 0;
  // The shadow's classification of the text the model just scored, inside the model's row
  // (which ends in "}\n"); nothing when the shadow fails on the record.
  auto add_shadow = [&](const io::TextRecord& record, const bundle::Analysis& model) {
    bundle::Analysis& s = w->shadow_analysis;
    if (!shadow_->Analyze(record.text, w->shadow_state.get(), &s).ok()) return;
    const auto& shadow_labels = shadow_model_->classifier->labels();
    if (!s.has_label || out->size() < 2 || s.prediction.label < 0 ||
        static_cast<size_t>(s.prediction.label) >= shadow_labels.size() ||
        model.prediction.label < 0 ||
        static_cast<size_t>(model.prediction.label) >= labels.size()) {
      return;
    }
    const bool agree = shadow_labels[s.prediction.label] == labels[model.prediction.label];
    ++(agree ? shadow_agree : shadow_disagree);
    out->resize(out->size() - 2);
    out->append(",\"shadow\":{\"model_version\":");
    AppendJsonString(out, shadow_model_->version_id);
    out->append(",");
    shadow_->AppendLabelScoreJson(s, out);
    out->append(agree ? ",\"agree\":true}}\n" : ",\"agree\":false}}\n");
  };

  auto emit = [&](io::TextRecord& record, Status error, io::RecordProblem problem) {
    ++*records;
    if (error.ok() && prep_) {
      error = prep_->Process(record.text, &w->prep);
      if (error.ok()) record.text.swap(w->prep.text);
    }
    if (error.ok() && metrics_) {
      metrics_->Observe(kTextBytes, {}, static_cast<double>(record.text.size()));
    }
    if (rows.Append(record, error, w->state.get(), out)) {
      ++predicted;
      const bundle::Analysis& a = w->state->analysis();
      if (a.has_label) {
        if (a.prediction.label >= 0 && static_cast<size_t>(a.prediction.label) < labels.size()) {
          ++w->label_counts[a.prediction.label];
        }
        if (metrics_) metrics_->Observe(kPredictionScore, {}, a.prediction.score);
        if (shadow_) add_shadow(record, a);
      }
    } else {
      ++errors[ErrorReason(problem)];
    }
  };

  io::TextRecord record;
  if (format == RequestFormat::kCsv) {
    uint64_t line_no = 0;
    size_t pos = 0;
    while (pos < body.size()) {
      size_t nl = body.find('\n', pos);
      if (nl == std::string_view::npos) nl = body.size();
      std::string_view line = body.substr(pos, nl - pos);
      pos = nl + 1;
      ++line_no;
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (line.empty()) continue;
      record = {};
      record.line = record.row = line_no;
      Status error;
      io::RecordProblem problem = io::RecordProblem::kNone;
      if (line.size() > options_.max_record_bytes) {
        error = ResourceExhaustedError("request:" + std::to_string(line_no) + ": record over " +
                                       std::to_string(options_.max_record_bytes) + " bytes");
        problem = io::RecordProblem::kTooLong;
      } else if (!text::IsValidUtf8(line)) {
        error = InvalidArgumentError("request:" + std::to_string(line_no) + ": invalid UTF-8");
        problem = io::RecordProblem::kInvalidUtf8;
      } else if (line.find('\0') != std::string_view::npos) {
        error = InvalidArgumentError("request:" + std::to_string(line_no) + ": NUL byte");
        problem = io::RecordProblem::kNulByte;
      } else if (Status s = SplitCsvLine(line, &w->fields); !s.ok()) {
        error = InvalidArgumentError("request:" + std::to_string(line_no) + ": " + s.message());
        problem = io::RecordProblem::kMalformedCsv;
      } else {
        auto column = [&](int c) -> const std::string* {
          return c >= 0 && static_cast<size_t>(c) < w->fields.size() ? &w->fields[c] : nullptr;
        };
        const std::string* text = column(options_.csv_text_column);
        if (text == nullptr) {
          error = InvalidArgumentError(
              "request:" + std::to_string(line_no) + ": " + std::to_string(w->fields.size()) +
              " columns, no text column " + std::to_string(options_.csv_text_column));
          problem = io::RecordProblem::kFieldCount;
        } else {
          record.text = *text;
          if (const std::string* id = column(options_.csv_id_column)) record.id = *id;
        }
      }
      emit(record, error, problem);
    }
  } else {
    io::TextReaderOptions ro;
    ro.text_field = options_.text_field;
    if (format != RequestFormat::kText) ro.id_field = options_.id_field;
    ro.max_record_bytes = options_.max_record_bytes;
    ro.first_object_sets_columns = false;  // each record stands alone
    auto reader = io::MakeTextRecordReader(
        format == RequestFormat::kText ? io::Format::kTxt : io::Format::kJsonl,
        io::MakeStringSource(body, "request"), ro);
    if (!reader.ok()) {
      record = {};
      emit(record, reader.status(), io::RecordProblem::kUnreadable);
    } else {
      while (true) {
        auto next = (*reader)->Next(&record);
        if (next.ok()) {
          if (!*next) break;
          emit(record, Status::Ok(), io::RecordProblem::kNone);
          continue;
        }
        // A bad record: its row says so, in its place. A string source cannot fail, so no error
        // here is fatal.
        record.id.clear();
        record.text.clear();
        record.line = (*reader)->last_line();
        record.row = (*reader)->last_row();
        emit(record, next.status(), (*reader)->last_error().problem);
        if ((*reader)->failed()) break;
      }
    }
  }
  if (!metrics_) return;
  MetricLabel ok[] = {{"outcome", "predicted"}};
  metrics_->Count(kRecordsTotal, ok, static_cast<double>(predicted));
  uint64_t failed = 0;
  for (const auto& [reason, n] : errors) {
    MetricLabel l[] = {{"reason", reason}};
    metrics_->Count(kRecordErrorsTotal, l, static_cast<double>(n));
    failed += n;
  }
  MetricLabel bad[] = {{"outcome", "error"}};
  metrics_->Count(kRecordsTotal, bad, static_cast<double>(failed));
  if (shadow_agree + shadow_disagree > 0) {
    MetricLabel yes[] = {{"agree", "true"}}, no[] = {{"agree", "false"}};
    metrics_->Count(kShadowPredictionsTotal, yes, static_cast<double>(shadow_agree));
    metrics_->Count(kShadowPredictionsTotal, no, static_cast<double>(shadow_disagree));
  }
  for (size_t i = 0; i < labels.size(); ++i) {
    if (w->label_counts[i] == 0) continue;
    MetricLabel l[] = {{"label", labels[i]}};
    metrics_->Count(kPredictionsTotal, l, static_cast<double>(w->label_counts[i]));
  }
}

void InferenceService::LoadStageEngines(std::shared_ptr<const pipeline::InferenceEngine> engine,
                                        std::shared_ptr<const pipeline::InferenceEngine> shadow) {
  stage_engine_ = std::move(engine);
  stage_shadow_ = std::move(shadow);
}

HttpResponse InferenceService::TransformPart(const HttpRequest& request) {
  if (!stage_engine_) {
    return ErrorResponse(UnimplementedError(
        "this server was started without the pipeline's engine: it answers no prep part"));
  }
  const std::string accept = MediaType(request.accept);
  if (!accept.empty() && accept != pipeline::kInferPartContentType && accept != "*/*" &&
      accept != "application/*") {
    return ErrorResponse(FailedPreconditionError("a prep part is answered in " +
                                                 std::string(pipeline::kInferPartContentType)));
  }
  pipeline::TransformPartOptions o;
  o.engine = stage_engine_.get();
  o.shadow = stage_shadow_.get();
  // Rows are streamed (memory is the body and the answer); this bounds the work one request can
  // ask for: a prep part holds at most prep.part_bytes (<= 64 MiB) of rows and one record.
  o.max_rows_bytes = uint64_t{256} << 20;
  pipeline::TransformPartCounts counts;
  auto answer = pipeline::TransformPart(request.body, "the request's prep part", o, &counts);
  if (!answer.ok()) return ErrorResponse(answer.status());
  if (metrics_) {
    MetricLabel ok[] = {{"outcome", "predicted"}}, bad[] = {{"outcome", "error"}};
    metrics_->Count(kRecordsTotal, ok, static_cast<double>(counts.records - counts.quarantined));
    metrics_->Count(kRecordsTotal, bad, static_cast<double>(counts.quarantined));
    metrics_->Observe(kRecordsPerRequest, {}, static_cast<double>(counts.records));
  }
  HttpResponse r;
  r.content_type = std::string(pipeline::kInferPartContentType);
  r.body = std::move(answer).value();
  return r;
}

HttpResponse InferenceService::Invocations(const HttpRequest& request) {
  if (!ready()) return ErrorResponse(UnavailableError("the model is loading"));
  if (MediaType(request.content_type) == pipeline::kPrepPartContentType) {
    return TransformPart(request);
  }
  auto in = RequestFormatFor(request.content_type);
  if (!in.ok()) return ErrorResponse(in.status());
  auto out_format = ResponseFormatFor(request.accept);
  if (!out_format.ok()) return ErrorResponse(out_format.status());

  std::string_view body = request.body;
  std::string converted;
  RequestFormat format = *in;
  if (format == RequestFormat::kJson) {
    // One record, or {"instances": [...]}: each instance becomes one JSONL line for the reader,
    // so JSON and JSONL records are validated by the same code.
    nlohmann::json doc = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded()) {
      return ErrorResponse(InvalidArgumentError("the request body is not valid JSON"));
    }
    const nlohmann::json* instances = &doc;
    nlohmann::json single = nlohmann::json::array();
    if (doc.is_object() && doc.contains("instances")) {
      instances = &doc["instances"];
      if (!instances->is_array()) {
        return ErrorResponse(InvalidArgumentError("\"instances\" must be an array"));
      }
    } else if (!doc.is_array()) {
      single.push_back(std::move(doc));
      instances = &single;
    }
    for (const nlohmann::json& item : *instances) {
      if (item.is_string()) {
        nlohmann::json wrapped = nlohmann::json::object();
        wrapped[options_.text_field] = item;
        converted += wrapped.dump();
      } else {
        converted += item.dump();
      }
      converted.push_back('\n');
    }
    body = converted;
    format = RequestFormat::kJsonLines;
  }

  auto worker = AcquireWorker();
  HttpResponse r;
  r.content_type = "application/jsonlines";
  size_t records = 0;
  Process(format, body, worker.get(), &r.body, &records);
  ReleaseWorker(std::move(worker));
  if (metrics_) metrics_->Observe(kRecordsPerRequest, {}, static_cast<double>(records));
  if (*out_format == ResponseFormat::kJson) {
    std::string json = "{\"predictions\":[";
    for (char& c : r.body) {
      if (c == '\n') c = ',';  // rows never hold a raw newline (JSON escapes it)
    }
    if (!r.body.empty()) r.body.pop_back();
    json += r.body;
    json += "]}\n";
    r.body = std::move(json);
    r.content_type = "application/json";
  }
  return r;
}

void DeclareServeMetrics(PrometheusRegistry* r) {
  r->Declare(kRecordsTotal, MetricType::kCounter,
             "Records answered by /invocations, by outcome (predicted or error)");
  r->Declare(kRecordErrorsTotal, MetricType::kCounter,
             "Records answered with an error row, by reason");
  r->Declare(kPredictionsTotal, MetricType::kCounter, "Predicted labels, by label");
  r->Declare(kRecordsPerRequest, MetricType::kHistogram, "Records in one /invocations request",
             {1, 2, 5, 10, 50, 100, 500, 1000, 5000, 10000, 50000});
  r->Declare(kPredictionScore, MetricType::kHistogram, "Calibrated score of the predicted label",
             {0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99});
  r->Declare(kTextBytes, MetricType::kHistogram, "Bytes of a record's text after prep",
             {16, 64, 256, 1024, 4096, 16384, 65536, 262144});
  r->Declare(kModelInfo, MetricType::kGauge,
             "The model and preprocessing versions being served (value 1)");
  r->Declare(kShadowPredictionsTotal, MetricType::kCounter,
             "Records the shadow model classified too, by whether its label is the model's");
  r->Declare(kShadowModelInfo, MetricType::kGauge, "The shadow model's version (value 1)");
  r->Declare("lote_http_requests_total", MetricType::kCounter,
             "HTTP requests answered, by route path and status code");
  r->Declare("lote_http_request_seconds", MetricType::kHistogram,
             "Time from a request's head to its response, by route path", DefaultLatencyBuckets());
  r->Declare("lote_http_inflight_requests", MetricType::kGauge,
             "Inference requests queued or running");
}

std::vector<HttpRoute> InferenceService::Routes() {
  std::vector<HttpRoute> routes;
  routes.push_back({"GET", "/ping", [this](const HttpRequest&) { return Ping(); }, false});
  routes.push_back(
      {"POST", "/invocations", [this](const HttpRequest& r) { return Invocations(r); }, true});
  routes.push_back({"GET", "/execution-parameters",
                    [this](const HttpRequest&) { return ExecutionParameters(); }, false});
  routes.push_back({"GET", "/metrics", [this](const HttpRequest&) { return Metrics(); }, false});
  return routes;
}

}  // namespace lote::serve
