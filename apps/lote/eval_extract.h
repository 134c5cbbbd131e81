// Entity-level evaluation for `lote eval` on conll / brat data.
#ifndef LOTE_APPS_LOTE_EVAL_EXTRACT_H_
#define LOTE_APPS_LOTE_EVAL_EXTRACT_H_

#include <string>

#include "lote/bundle/model.h"
#include "lote/io/records.h"

namespace lote::cli {

Status RunEvalExtract(const std::string& model_path, const bundle::Model& model,
                      const std::string& data, io::Format format, bool json);

}  // namespace lote::cli

#endif  // LOTE_APPS_LOTE_EVAL_EXTRACT_H_
