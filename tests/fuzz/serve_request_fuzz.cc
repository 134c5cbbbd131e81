// Fuzzes what `lote serve` does with the bytes a client sends, without sockets
// (lote::serve::AnswerRawRequest): Beast's request parser under the server's header and body
// limits, route matching, and /invocations's readers (JSON Lines, JSON, CSV, text, Accept, and
// the pipeline's prep parts: zstd from the network) over a small classifier. Input: the raw bytes
// of one HTTP request.
// Invariants: the status is one the server documents; an error body is {"error": ...}; every
// line of a 200 JSON Lines answer is a JSON object; a 200 infer part is a zstd stream of JSON
// objects ending with the transform trailer.
#include <nlohmann/json.hpp>

#include "fuzz_util.h"
#include "lote/bundle/model.h"
#include "lote/io/byte_source.h"
#include "lote/pipeline/transform.h"
#include "lote/serve/http_server.h"
#include "lote/serve/inference_service.h"
#include "testing/toy_model.h"

namespace {

lote::serve::InferenceService* Service() {
  static lote::serve::InferenceService* service = [] {
    std::string bytes = lote::testing::ToyClassifierModelBytes();
    auto m = lote::bundle::LoadModel(bytes, "toy.lote");
    lote::fuzz::Check(m.ok(), "the toy model loads");
    lote::serve::InferenceOptions io;
    io.max_record_bytes = 4096;
    io.csv_id_column = 1;
    auto* s = new lote::serve::InferenceService(io, nullptr, [] { return std::string("m 1\n"); });
    auto engine = lote::pipeline::LoadInferenceEngine(bytes, "toy.lote", {});
    lote::fuzz::Check(engine.ok(), "the pipeline's engine loads");
    s->LoadStageEngines(*engine, nullptr);
    lote::fuzz::Check(s->LoadModel(std::move(*m)).ok(), "the service takes the model");
    return s;
  }();
  return service;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::vector<lote::serve::HttpRoute> routes = Service()->Routes();
  lote::serve::HttpServerOptions options;
  options.max_header_bytes = 2048;
  options.max_body_bytes = 32 << 10;
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  lote::serve::HttpResponse r = lote::serve::AnswerRawRequest(bytes, options, routes);
  static const int kStatuses[] = {200, 400, 404, 405, 406, 413, 415, 431, 503};
  bool known = false;
  for (int s : kStatuses) known = known || s == r.status;
  lote::fuzz::Check(known, "the status is one the server documents");
  if (r.status != 200) {
    auto doc = nlohmann::json::parse(r.body, nullptr, false);
    lote::fuzz::Check(doc.is_object() && doc.contains("error"), "an error body is {\"error\"}");
    return 0;
  }
  if (r.content_type == "application/jsonlines") {
    size_t pos = 0;
    while (pos < r.body.size()) {
      size_t nl = r.body.find('\n', pos);
      lote::fuzz::Check(nl != std::string::npos, "every row ends with a newline");
      auto row = nlohmann::json::parse(r.body.substr(pos, nl - pos), nullptr, false);
      lote::fuzz::Check(row.is_object() && row.contains("record_id"), "a row is an object");
      pos = nl + 1;
    }
  } else if (r.content_type == "application/json") {
    lote::fuzz::Check(nlohmann::json::accept(r.body), "a JSON answer is JSON");
  } else if (r.content_type == lote::pipeline::kInferPartContentType) {
    auto source = lote::io::MakeZstdSource(lote::io::MakeStringSource(r.body, "answer"));
    lote::io::LineReader lines(source.get());
    std::string line, last;
    while (true) {
      auto next = lines.Next(&line);
      lote::fuzz::Check(next.ok(), "an infer part decompresses");
      if (!*next) break;
      lote::fuzz::Check(nlohmann::json::parse(line, nullptr, false).is_object(),
                        "an infer part's line is a JSON object");
      last = line;
    }
    lote::fuzz::Check(nlohmann::json::parse(last, nullptr, false).contains("lote_transform"),
                      "an infer part ends with the transform trailer");
  }
  return 0;
}
