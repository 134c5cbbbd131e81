// `lote run` configuration: a YAML file (config/pipeline.yaml documents every key) and flags,
// turned into pipeline::PipelineOptions + pipeline::EngineOptions. Only the CLI reads YAML.
#ifndef LOTE_APPS_LOTE_PIPELINE_CONFIG_H_
#define LOTE_APPS_LOTE_PIPELINE_CONFIG_H_

#include <string>

#include "lote/base/status.h"
#include "lote/pipeline/inference.h"
#include "lote/pipeline/pipeline.h"

namespace lote::cli {

struct RunConfig {
  std::string input, output, model, catalog;
  std::string log_format = "text";  // text | json
  std::string pii_key_file;
  bool strict = false;
  pipeline::PipelineOptions pipeline;
  pipeline::EngineOptions engine;
};

// Applies the YAML file at `path` onto *config. InvalidArgument naming the file and line for
// unknown keys, wrong types or bad values.
Status LoadRunConfig(const std::string& path, RunConfig* config);

}  // namespace lote::cli

#endif  // LOTE_APPS_LOTE_PIPELINE_CONFIG_H_
