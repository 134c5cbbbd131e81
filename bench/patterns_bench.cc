// PatternExtractor and PiiRedactor throughput on typical bank messages (ASCII, accented Spanish
// with emoji, entity-dense), single- and multi-threaded (the extractor is shared, const).
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "lote/extract/patterns.h"
#include "lote/extract/redactor.h"

namespace lote::extract {
namespace {

const char* const kMessages[] = {
    // Plain ASCII complaint, few entities.
    "Hola, me cobraron dos veces la cuota de manejo de la tarjeta el 15/03/2024 por $50.000, "
    "necesito que me devuelvan el dinero. Escribanme a juan.perez@gmail.com",
    // Accented Spanish with emoji, no entities.
    "¡Hola! Me cobraron dos veces la cuota de manejo de la tarjeta de crédito, ¿por qué? "
    "Necesito la devolución del dinero ya mismo, señores. Atención pésima 😡🙏🏽",
    // Entity-dense.
    "Soy Ana, CC 1.020.345.678, cel +57 300 123 4567, tarjeta 4111 1111 1111 1111, cuenta de "
    "ahorros 123-456789-01, NIT 900.123.456-8; ayer transferí 2 millones de pesos, ver "
    "https://www.banco.com/ayuda.",
};

ExtractOptions Options() {
  ExtractOptions o;
  o.reference_date = CivilDate{2024, 3, 15};
  return o;
}

void BM_PatternExtract(benchmark::State& state) {
  static const PatternExtractor extractor;
  const std::string text = kMessages[state.range(0)];
  const ExtractOptions options = Options();
  std::vector<Entity> out;
  for (auto _ : state) {
    out.clear();
    Status st = extractor.Extract(text, options, &out);
    benchmark::DoNotOptimize(st);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_PatternExtract)->Arg(0)->Arg(1)->Arg(2)->ThreadRange(1, 2);

void BM_PatternExtractLongDocument(benchmark::State& state) {
  static const PatternExtractor extractor;
  std::string text;
  while (text.size() < (1 << 20)) {
    for (const char* m : kMessages) (text += m) += "\n";
  }
  const ExtractOptions options = Options();
  std::vector<Entity> out;
  for (auto _ : state) {
    out.clear();
    Status st = extractor.Extract(text, options, &out);
    benchmark::DoNotOptimize(st);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_PatternExtractLongDocument);

void BM_RedactHash(benchmark::State& state) {
  static const PatternExtractor extractor;
  RedactorOptions ro;
  ro.mode = RedactionMode::kHash;
  ro.key = "bench-key";
  const PiiRedactor redactor = std::move(PiiRedactor::Create(ro)).value();
  const std::string text = kMessages[2];
  const std::vector<Entity> entities = *extractor.Extract(text, Options());
  for (auto _ : state) {
    auto r = redactor.Redact(text, entities);
    benchmark::DoNotOptimize(r);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_RedactHash);

}  // namespace
}  // namespace lote::extract
