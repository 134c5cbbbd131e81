#include "eval_extract.h"

namespace lote::cli {

Status RunEvalExtract(const std::string& model_path, const bundle::Model& model,
                      const std::string& data, io::Format format, bool json) {
  (void)model;
  (void)format;
  (void)json;
  return UnimplementedError(model_path + ": entity evaluation of " + data +
                            " needs the tagger (issue 3), not in this build yet");
}

}  // namespace lote::cli
