#include "lote/registry/sagemaker.h"

#include <charconv>
#include <map>

#include "aws/json_client.h"

namespace lote::registry {

namespace {

using PlainJson = nlohmann::json;

std::string ApprovalStatus(const std::string& status) {
  if (status == "approved") return "Approved";
  if (status == "rejected") return "Rejected";
  return "PendingManualApproval";
}

std::string AliasesOf(const RegisteredModel& m, int version) {
  std::string out;
  for (const auto& [alias, v] : m.aliases) {
    if (v == version) out += (out.empty() ? "" : ",") + alias;
  }
  return out;
}

// SageMaker's group names: 1 to 63 of [a-zA-Z0-9-], no leading or trailing '-'. lote's names may
// also hold '.' and '_', which become '-'.
std::string GroupName(std::string_view name) {
  std::string g;
  for (char c : name) g += (c == '.' || c == '_') ? '-' : c;
  if (g.size() > 63) g.resize(63);
  while (!g.empty() && g.back() == '-') g.pop_back();
  while (!g.empty() && g.front() == '-') g.erase(g.begin());
  return g.empty() ? "lote-model" : g;
}

PlainJson Metadata(const RegisteredModel& m, const ModelVersion& v, std::string_view registry_uri) {
  // SageMaker limits values to 256 characters.
  auto cut = [](std::string s) { return s.size() > 256 ? s.substr(0, 256) : s; };
  return {{"lote_name", cut(m.name)},
          {"lote_version", std::to_string(v.version)},
          {"model_sha256", v.model_sha256},
          {"model_version_id", cut(v.model_version_id)},
          {"aliases", cut(AliasesOf(m, v.version))},
          {"registry", cut(std::string(registry_uri))}};
}

PlainJson CreatePackage(const RegisteredModel& m, const ModelVersion& v,
                        std::string_view registry_uri, const SageMakerExportOptions& o) {
  PlainJson r = {
      {"ModelPackageGroupName", GroupName(m.name)},
      {"ModelPackageDescription",
       (v.description.empty() ? m.name + " version " + std::to_string(v.version) : v.description)
           .substr(0, 1024)},
      {"ModelApprovalStatus", ApprovalStatus(v.status)},
      {"CustomerMetadataProperties", Metadata(m, v, registry_uri)}};
  if (!o.image.empty() && !o.model_data_prefix.empty()) {
    std::string prefix = o.model_data_prefix;
    while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
    r["InferenceSpecification"] = {
        {"Containers",
         {{{"Image", o.image},
           {"ModelDataUrl",
            prefix + "/" + m.name + "/" + std::to_string(v.version) + "/model.tar.gz"}}}},
        {"SupportedContentTypes",
         {"application/jsonlines", "application/json", "text/csv", "text/plain"}},
        {"SupportedResponseMIMETypes", {"application/jsonlines", "application/json"}}};
  }
  return r;
}

Result<aws::JsonClientConfig> ClientConfig(const SageMakerExportOptions& o) {
  const auto env =
      o.env ? o.env
            : std::make_shared<const aws::AwsEnvironment>(aws::AwsEnvironment::FromProcess());
  aws::JsonClientConfig c;
  c.region = !o.region.empty() ? o.region : aws::ResolveRegion(*env).value_or("");
  if (c.region.empty()) {
    return InvalidArgumentError("no AWS region for SageMaker: set AWS_REGION or give --region");
  }
  c.endpoint = !o.endpoint.empty()
                   ? o.endpoint
                   : aws::ResolveEndpoint(*env, "sagemaker")
                         .value_or("https://api.sagemaker." + c.region + ".amazonaws.com");
  c.service = "sagemaker";
  c.target_prefix = "SageMaker";
  c.json_version = "1.1";
  c.http = o.http ? o.http : aws::NewCurlHttpClient();
  c.credentials = o.credentials;
  if (!c.credentials) {
    aws::ProviderOptions p;
    p.http = c.http;
    c.credentials = aws::NewDefaultCredentialsChain(*env, std::move(p));
  }
  c.clock = SystemClock();
  return c;
}

}  // namespace

std::vector<PlainJson> SageMakerRequests(const RegisteredModel& m, std::string_view registry_uri,
                                         const SageMakerExportOptions& o) {
  std::vector<PlainJson> out;
  out.push_back(
      {{"operation", "CreateModelPackageGroup"},
       {"request",
        {{"ModelPackageGroupName", GroupName(m.name)},
         {"ModelPackageGroupDescription",
          (m.description.empty() ? "lote model " + m.name : m.description).substr(0, 1024)}}}});
  for (const ModelVersion& v : m.versions) {
    out.push_back(
        {{"operation", "CreateModelPackage"}, {"request", CreatePackage(m, v, registry_uri, o)}});
  }
  return out;
}

Result<SageMakerExportReport> ExportToSageMaker(const RegisteredModel& m,
                                                std::string_view registry_uri,
                                                const SageMakerExportOptions& o) {
  LOTE_ASSIGN_OR_RETURN(aws::JsonClientConfig config, ClientConfig(o));
  aws::JsonClient client(std::move(config));
  SageMakerExportReport report;
  const std::string group = GroupName(m.name);
  auto described = client.Call("DescribeModelPackageGroup", {{"ModelPackageGroupName", group}});
  if (!described.ok()) {
    // moto and SageMaker answer a missing group with ValidationException (400), not NotFound.
    if (described.status().code() != StatusCode::kNotFound &&
        described.status().code() != StatusCode::kInvalidArgument) {
      return described.status();
    }
    LOTE_RETURN_IF_ERROR(
        client.Call("CreateModelPackageGroup", SageMakerRequests(m, registry_uri, o)[0]["request"])
            .status());
    report.group_created = true;
  }
  // What is there already: lote_version -> package ARN.
  std::map<int, std::string> exported;
  std::string token;
  do {
    PlainJson req = {{"ModelPackageGroupName", group}, {"MaxResults", 100}};
    if (!token.empty()) req["NextToken"] = token;
    LOTE_ASSIGN_OR_RETURN(PlainJson page, client.Call("ListModelPackages", req));
    for (const PlainJson& s : page.value("ModelPackageSummaryList", PlainJson::array())) {
      const std::string arn = s.value("ModelPackageArn", "");
      LOTE_ASSIGN_OR_RETURN(PlainJson d,
                            client.Call("DescribeModelPackage", {{"ModelPackageName", arn}}));
      const PlainJson props = d.value("CustomerMetadataProperties", PlainJson::object());
      const std::string v = props.value("lote_version", "");
      int version = 0;
      const auto [end, error] = std::from_chars(v.data(), v.data() + v.size(), version);
      if (error == std::errc() && end == v.data() + v.size() && version > 0 &&
          props.value("lote_name", "") == m.name) {
        exported[version] = arn;
      }
    }
    token = page.value("NextToken", "");
  } while (!token.empty());
  for (const ModelVersion& v : m.versions) {
    auto it = exported.find(v.version);
    if (it == exported.end()) {
      LOTE_ASSIGN_OR_RETURN(PlainJson created, client.Call("CreateModelPackage",
                                                           CreatePackage(m, v, registry_uri, o)));
      report.package_arns.push_back(created.value("ModelPackageArn", ""));
      ++report.created;
    } else {
      LOTE_RETURN_IF_ERROR(client
                               .Call("UpdateModelPackage",
                                     {{"ModelPackageArn", it->second},
                                      {"ModelApprovalStatus", ApprovalStatus(v.status)},
                                      {"CustomerMetadataProperties", Metadata(m, v, registry_uri)}})
                               .status());
      report.package_arns.push_back(it->second);
      ++report.updated;
    }
  }
  return report;
}

}  // namespace lote::registry
