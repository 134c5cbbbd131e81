// Normalizer and Tokenizer throughput on short bank messages, ASCII and accented Spanish.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "lote/text/normalizer.h"
#include "lote/text/tokenizer.h"

namespace lote::text {
namespace {

const char kAscii[] =
    "Hola, me cobraron dos veces la cuota de manejo de la tarjeta el 15/03/2024 por $50.000, "
    "necesito que me devuelvan el dinero. Escribanme a juan.perez@gmail.com";
const char kSpanish[] =
    "¡Hola! Me cobraron dos veces la cuota de manejo de la tarjeta de crédito, ¿por qué? "
    "Necesito la devolución del dinero ya mismo, señores. Atención pésima 😡🙏🏽";

const char* Text(int which) { return which == 0 ? kAscii : kSpanish; }

void BM_Normalize(benchmark::State& state) {
  const std::string text = Text(static_cast<int>(state.range(0)));
  const Normalizer normalizer;
  NormalizedText out;
  for (auto _ : state) {
    normalizer.Normalize(text, &out);
    benchmark::DoNotOptimize(out.text.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(state.range(0) == 0 ? "ascii" : "spanish");
}
BENCHMARK(BM_Normalize)->Arg(0)->Arg(1);

void BM_NormalizeStripAccents(benchmark::State& state) {
  const std::string text = Text(static_cast<int>(state.range(0)));
  const Normalizer normalizer({.strip_accents = true});
  NormalizedText out;
  for (auto _ : state) {
    normalizer.Normalize(text, &out);
    benchmark::DoNotOptimize(out.text.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
  state.SetLabel(state.range(0) == 0 ? "ascii" : "spanish");
}
BENCHMARK(BM_NormalizeStripAccents)->Arg(0)->Arg(1);

void BM_Tokenize(benchmark::State& state) {
  const std::string text = Text(static_cast<int>(state.range(0)));
  const Tokenizer tokenizer;
  std::vector<Token> tokens;
  for (auto _ : state) {
    tokenizer.Tokenize(text, &tokens);
    benchmark::DoNotOptimize(tokens.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
  state.SetLabel(state.range(0) == 0 ? "ascii" : "spanish");
}
BENCHMARK(BM_Tokenize)->Arg(0)->Arg(1);

// What the pipeline does per text: normalize, then tokenize the normalized text.
void BM_NormalizeAndTokenize(benchmark::State& state) {
  const std::string text = Text(static_cast<int>(state.range(0)));
  const Normalizer normalizer;
  const Tokenizer tokenizer;
  NormalizedText out;
  std::vector<Token> tokens;
  for (auto _ : state) {
    normalizer.Normalize(text, &out);
    tokenizer.Tokenize(out.text, &tokens);
    benchmark::DoNotOptimize(tokens.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(state.range(0) == 0 ? "ascii" : "spanish");
}
BENCHMARK(BM_NormalizeAndTokenize)->Arg(0)->Arg(1)->ThreadRange(1, 2);

}  // namespace
}  // namespace lote::text
