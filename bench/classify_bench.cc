// IntentClassifier::Predict throughput on the bundled sample (one thread per benchmark thread,
// each with its own state), and the feature hashing step alone.
#include <benchmark/benchmark.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "lote/classify/intent_classifier.h"

namespace lote::classify {
namespace {

std::vector<LabeledText> ReadSample(const std::string& name) {
  std::vector<LabeledText> rows;
  std::ifstream in(std::string(LOTE_BENCH_SAMPLE_DIR) + "/" + name);
  std::string line;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line);
    rows.push_back({j["text"], j["label"]});
  }
  return rows;
}

const IntentClassifier& Model() {
  static auto model = [] {
    ClassifierTrainOptions o;
    return *IntentClassifier::Train(ReadSample("train.jsonl"), ReadSample("dev.jsonl"), o, nullptr);
  }();
  return *model;
}

void BM_Predict(benchmark::State& state) {
  const auto& model = Model();
  const auto texts = ReadSample("test.jsonl");
  auto st = model.NewState();
  ClassifierPrediction p;
  size_t i = 0, bytes = 0;
  for (auto _ : state) {
    const auto& t = texts[i++ % texts.size()].text;
    model.Predict(t, st.get(), 3, &p);
    bytes += t.size();
    benchmark::DoNotOptimize(p.label);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}
BENCHMARK(BM_Predict)->ThreadRange(1, 2)->UseRealTime();

void BM_HashFeatures(benchmark::State& state) {
  const auto texts = ReadSample("test.jsonl");
  FeatureExtractor fx(FeatureOptions{});
  FeatureScratch scratch;
  size_t i = 0;
  for (auto _ : state) {
    fx.Hash(texts[i++ % texts.size()].text, &scratch);
    benchmark::DoNotOptimize(scratch.hashes.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_HashFeatures);

}  // namespace
}  // namespace lote::classify
