// A ten-sentence intent classifier (recarga / saldo, Spanish and English) trained in
// milliseconds, for tests and fuzz targets that need a real model file. Header-only so that
// fuzz targets, which do not link the test support library, can use it too.
#ifndef LOTE_TESTS_TESTING_TOY_MODEL_H_
#define LOTE_TESTS_TESTING_TOY_MODEL_H_

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "lote/bundle/model.h"
#include "lote/classify/intent_classifier.h"

namespace lote::testing {

// The serialized model ("toy", created 2026-01-01). Aborts if training fails (it cannot on
// these rows).
inline std::string ToyClassifierModelBytes() {
  std::vector<classify::LabeledText> rows;
  for (const char* t : {"quiero recargar mi celular", "recarga de 20 mil al celular",
                        "recargar minutos", "recarga claro", "top up my phone"}) {
    rows.push_back({t, "recarga"});
  }
  for (const char* t : {"cual es mi saldo", "consultar saldo", "saldo disponible", "ver mi saldo",
                        "what is my balance"}) {
    rows.push_back({t, "saldo"});
  }
  classify::ClassifierTrainOptions o;
  o.threads = 1;
  auto c = classify::IntentClassifier::Train(rows, {}, o, nullptr);
  if (!c.ok()) {
    std::fprintf(stderr, "toy model: %s\n", c.status().ToString().c_str());
    std::abort();
  }
  model::ModelFile f;
  (*c)->Save(&f);
  return bundle::FinishModelFile(&f, "toy", "2026-01-01T00:00:00Z",
                                 "{\"classifier\":" + (*c)->MetadataJson() + "}", nullptr);
}

}  // namespace lote::testing

#endif  // LOTE_TESTS_TESTING_TOY_MODEL_H_
