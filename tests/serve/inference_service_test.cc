// InferenceService without sockets: formats, error rows, the execution parameters, metrics.
#include "lote/serve/inference_service.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "lote/bundle/model.h"
#include "lote/pipeline/transform.h"
#include "testing/toy_model.h"

namespace lote::serve {
namespace {

class InferenceServiceTest : public ::testing::Test {
 protected:
  void SetUp() override { Make({}); }
  void Make(InferenceOptions o) {
    metrics_ = std::make_shared<InMemoryMetrics>();
    service_ = std::make_unique<InferenceService>(o, metrics_, [] { return "m 1\n"; });
    auto m = bundle::LoadModel(lote::testing::ToyClassifierModelBytes(), "toy.lote");
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    version_ = m->version_id;
    ASSERT_TRUE(service_->LoadModel(std::move(*m)).ok());
  }
  HttpResponse Invoke(std::string_view content_type, std::string_view body,
                      std::string_view accept = "") {
    HttpRequest r;
    r.method = "POST";
    r.path = "/invocations";
    r.content_type = content_type;
    r.accept = accept;
    r.body = body;
    return service_->Invocations(r);
  }
  static std::vector<nlohmann::json> Lines(const std::string& body) {
    std::vector<nlohmann::json> out;
    size_t pos = 0;
    while (pos < body.size()) {
      size_t nl = body.find('\n', pos);
      out.push_back(nlohmann::json::parse(body.substr(pos, nl - pos)));
      pos = nl + 1;
    }
    return out;
  }

  std::shared_ptr<InMemoryMetrics> metrics_;
  std::unique_ptr<InferenceService> service_;
  std::string version_;
};

TEST_F(InferenceServiceTest, AShadowComesBeforeTheModelAndIsNotTheModelItself) {
  auto toy = [] { return bundle::LoadModel(lote::testing::ToyClassifierModelBytes(), "toy.lote"); };
  // After the model: too late (a request may already be answered without it).
  EXPECT_EQ(service_->LoadShadowModel(std::move(*toy())).code(), StatusCode::kFailedPrecondition);
  InferenceService fresh({}, nullptr, nullptr);
  ASSERT_TRUE(fresh.LoadShadowModel(std::move(*toy())).ok());
  Status s = fresh.LoadModel(std::move(*toy()));
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("the shadow model is the model itself"), std::string::npos);
  EXPECT_FALSE(fresh.ready());
}

TEST_F(InferenceServiceTest, PingIs503UntilAModelIsLoaded) {
  InferenceService empty({}, nullptr, nullptr);
  EXPECT_EQ(empty.Ping().status, 503);
  HttpRequest r;
  r.content_type = "application/jsonlines";
  r.body = "{\"text\":\"saldo\"}\n";
  EXPECT_EQ(empty.Invocations(r).status, 503);
  EXPECT_EQ(service_->Ping().status, 200);
}

TEST_F(InferenceServiceTest, AnswersOneRowPerJsonLinesRecordInOrderWithAnErrorRowForABadOne) {
  auto r = Invoke("application/jsonlines; charset=utf-8",
                  "{\"id\":\"a1\",\"text\":\"cual es mi saldo\"}\n"
                  "\n"
                  "{\"id\":\"a2\",\"text\":\"recargar minutos\"\n"
                  "{\"id\":7,\"text\":\"quiero recargar mi celular\"}\n");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.content_type, "application/jsonlines");
  auto rows = Lines(r.body);
  ASSERT_EQ(rows.size(), 3u) << r.body;
  EXPECT_EQ(rows[0]["record_id"], "a1");
  EXPECT_EQ(rows[0]["label"], "saldo");
  EXPECT_EQ(rows[0]["model_version"], version_);
  EXPECT_EQ(rows[0]["preprocess_version"], service_->preprocess_version());
  EXPECT_EQ(service_->preprocess_version().size(), 12u);
  EXPECT_EQ(rows[1]["line"], 3);
  EXPECT_TRUE(rows[1].contains("error"));
  EXPECT_FALSE(rows[1].contains("label"));
  EXPECT_EQ(rows[2]["record_id"], "7");
  EXPECT_EQ(rows[2]["label"], "recarga");
  EXPECT_EQ(metrics_->Get("lote_records_total{outcome=\"predicted\"}").value, 2);
  EXPECT_EQ(metrics_->Get("lote_records_total{outcome=\"error\"}").value, 1);
  EXPECT_EQ(metrics_->Get("lote_record_errors_total{reason=\"malformed JSON\"}").value, 1);
  EXPECT_EQ(metrics_->Get("lote_predictions_total{label=\"saldo\"}").value, 1);
  EXPECT_EQ(metrics_->Get("lote_records_per_request").count, 1u);
  EXPECT_EQ(metrics_->Get("lote_prediction_score").count, 2u);
}

TEST_F(InferenceServiceTest, AFirstRecordWithoutTheTextFieldFailsOnlyItself) {
  auto r = Invoke("application/jsonlines",
                  "{\"id\":\"x\",\"body\":\"saldo\"}\n{\"text\":\"ver mi saldo\"}\n"
                  "{\"body\":1}\n{\"text\":\"recarga claro\"}\n");
  ASSERT_EQ(r.status, 200);
  auto rows = Lines(r.body);
  ASSERT_EQ(rows.size(), 4u) << r.body;
  EXPECT_EQ(rows[0]["line"], 1);
  EXPECT_NE(rows[0]["error"].get<std::string>().find("request:1:"), std::string::npos);
  EXPECT_EQ(rows[1]["label"], "saldo");
  EXPECT_EQ(rows[1]["record_id"], 2);  // no id field: the line within the payload
  EXPECT_EQ(rows[2]["line"], 3);
  EXPECT_EQ(rows[3]["label"], "recarga");
  EXPECT_EQ(rows[3]["record_id"], 4);
}

TEST_F(InferenceServiceTest, ReadsJsonInstancesCsvAndPlainText) {
  auto r = Invoke("application/json",
                  "{\"instances\": [\"ver mi saldo\", {\"id\": \"b\", \"text\": \"recarga claro\"},"
                  " 42]}");
  ASSERT_EQ(r.status, 200);
  auto rows = Lines(r.body);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0]["label"], "saldo");
  EXPECT_EQ(rows[1]["record_id"], "b");
  EXPECT_EQ(rows[2]["line"], 3);
  r = Invoke("application/json", "{\"text\": \"consultar saldo\"}");
  ASSERT_EQ(Lines(r.body).size(), 1u);
  r = Invoke("application/json", "{\"text\": ");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body, "{\"error\":\"the request body is not valid JSON\"}\n");

  InferenceOptions csv;
  csv.csv_text_column = 1;
  csv.csv_id_column = 0;
  Make(csv);
  r = Invoke("text/csv", "c1,\"recargar, minutos\"\r\nc2,\"unbalanced\n\nc3\nc4,ver mi saldo");
  rows = Lines(r.body);
  ASSERT_EQ(rows.size(), 4u) << r.body;
  EXPECT_EQ(rows[0]["record_id"], "c1");
  EXPECT_EQ(rows[0]["label"], "recarga");
  EXPECT_EQ(rows[1]["line"], 2);
  EXPECT_EQ(rows[2]["line"], 4);  // one column only: no text column 1
  EXPECT_EQ(rows[3]["label"], "saldo");

  r = Invoke("text/plain", "ver mi saldo\n\xff\xfe\nrecarga claro\n");
  rows = Lines(r.body);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[1]["line"], 2);
  EXPECT_NE(rows[1]["error"].get<std::string>().find("UTF-8"), std::string::npos);
  EXPECT_EQ(rows[2]["record_id"], 3);
}

TEST_F(InferenceServiceTest, AnswersJsonWhenAskedAndRefusesUnknownTypes) {
  auto r = Invoke("text/plain", "ver mi saldo\nrecarga claro\n", "application/json");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "application/json");
  auto doc = nlohmann::json::parse(r.body);
  ASSERT_EQ(doc["predictions"].size(), 2u) << r.body;
  EXPECT_EQ(doc["predictions"][1]["label"], "recarga");
  EXPECT_EQ(Invoke("text/plain", "", "application/json").body, "{\"predictions\":[]}\n");
  EXPECT_EQ(Invoke("application/xml", "<a/>").status, 415);
  EXPECT_EQ(Invoke("", "x").status, 415);
  EXPECT_EQ(Invoke("text/plain", "x", "text/html").status, 406);
  EXPECT_EQ(Invoke("text/plain", "x", "text/html, */*;q=0.1").status, 200);
}

// A prep part (the pipeline's transform job, docs/adr/0015) needs the pipeline's engine; with it,
// the answer is pipeline::TransformPart's, in its own content type.
TEST_F(InferenceServiceTest, APrepPartIsAnsweredWithItsInferPartOnlyWithThePipelinesEngine) {
  const std::string type(pipeline::kPrepPartContentType);
  EXPECT_EQ(Invoke(type, "").status, 415);
  auto engine =
      pipeline::LoadInferenceEngine(lote::testing::ToyClassifierModelBytes(), "toy.lote", {});
  ASSERT_TRUE(engine.ok()) << engine.status().ToString();
  service_->LoadStageEngines(*engine, nullptr);
  auto empty = Invoke(type, "");
  ASSERT_EQ(empty.status, 200) << empty.body;
  EXPECT_EQ(empty.content_type, pipeline::kInferPartContentType);
  pipeline::TransformPartOptions o;
  o.engine = engine->get();
  EXPECT_EQ(empty.body, *pipeline::TransformPart("", "x", o));
  EXPECT_EQ(Invoke(type, "", "application/jsonlines").status, 406);
  auto bad = Invoke(type, "not zstd");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.content_type, "application/json");
  EXPECT_NE(bad.body.find("request's prep part"), std::string::npos) << bad.body;
}

TEST_F(InferenceServiceTest, PrepCleansTextsUnlessTurnedOff) {
  auto r = Invoke("text/plain", "<b>cual es mi saldo</b>\n\xe2\x80\x8b\n");
  auto rows = Lines(r.body);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0]["label"], "saldo");
  EXPECT_NE(rows[1]["error"].get<std::string>().find("empty"), std::string::npos) << rows[1];
  EXPECT_EQ(metrics_->Get("lote_record_errors_total{reason=\"rejected by prep\"}").value, 1);
  InferenceOptions raw;
  raw.prep = false;
  Make(raw);
  EXPECT_EQ(service_->preprocess_version(), "");
  rows = Lines(Invoke("text/plain", "ver mi saldo\n").body);
  EXPECT_FALSE(rows[0].contains("preprocess_version"));
}

TEST_F(InferenceServiceTest, ReportsItsExecutionParameters) {
  InferenceOptions o;
  o.max_concurrent_transforms = 4;
  o.max_payload_mb = 5;
  Make(o);
  auto r = service_->ExecutionParameters();
  EXPECT_EQ(r.body,
            "{\"MaxConcurrentTransforms\":4,\"BatchStrategy\":\"MULTI_RECORD\","
            "\"MaxPayloadInMB\":5}\n");
  EXPECT_EQ(service_->Metrics().body, "m 1\n");
  EXPECT_EQ(metrics_
                ->Get("lote_model_info{model_version=\"" + version_ + "\",preprocess_version=\"" +
                      service_->preprocess_version() + "\"}")
                .value,
            1);
}

}  // namespace
}  // namespace lote::serve
