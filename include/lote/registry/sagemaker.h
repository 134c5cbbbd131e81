// The registry mirrored into SageMaker's Model Registry: one model package group per registered
// model, one model package (version) per registered version, its approval status mapped
// (pending -> PendingManualApproval, approved -> Approved, rejected -> Rejected) and lote's facts
// in CustomerMetadataProperties (lote_version, model_sha256, model_version_id, aliases, the
// registry URI). Exporting again is idempotent: versions already exported (found by their
// lote_version) are updated, not duplicated, and SageMaker's version numbers follow lote's when
// the group is exported from the start.
// Thread-safety: the functions may be called from any thread.
#ifndef LOTE_REGISTRY_SAGEMAKER_H_
#define LOTE_REGISTRY_SAGEMAKER_H_

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "lote/aws/credentials.h"
#include "lote/aws/http.h"
#include "lote/base/status.h"
#include "lote/registry/registry.h"

namespace lote::registry {

struct SageMakerExportOptions {
  // The inference image and where the model archives are (both or neither): each package then
  // has an InferenceSpecification with ModelDataUrl PREFIX/NAME/VERSION/model.tar.gz.
  std::string image;
  std::string model_data_prefix;
  // Service settings; empty: from the environment (AWS_ENDPOINT_URL_SAGEMAKER, AWS_REGION, ...).
  std::string endpoint, region;
  std::shared_ptr<const aws::AwsEnvironment> env;
  std::shared_ptr<aws::HttpClient> http;
  std::shared_ptr<aws::CredentialsProvider> credentials;
};

// The requests that create the group and every version, in order: [{"operation", "request"}].
std::vector<nlohmann::json> SageMakerRequests(const RegisteredModel& model,
                                              std::string_view registry_uri,
                                              const SageMakerExportOptions& options);

struct SageMakerExportReport {
  bool group_created = false;
  int created = 0, updated = 0;
  std::vector<std::string> package_arns;  // by lote version
};

// Sends them to SageMaker: creates the group when absent, each version not yet exported, and
// updates the approval status and metadata of those that are. Errors: as the service answers
// (InvalidArgument, PermissionDenied, Unavailable), naming the operation.
Result<SageMakerExportReport> ExportToSageMaker(const RegisteredModel& model,
                                                std::string_view registry_uri,
                                                const SageMakerExportOptions& options);

}  // namespace lote::registry

#endif  // LOTE_REGISTRY_SAGEMAKER_H_
