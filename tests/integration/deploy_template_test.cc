// deploy/cloudformation/lote.yaml: cfn-lint accepts it, it gives the definitions it deploys exactly
// the substitutions `lote flow run` gives them (tests/tools/check_template.py), and the documented
// deployment (`aws cloudformation package`, then a stack) goes through against moto 5.2.1, which
// creates the bucket, roles, state machines and schedule (it runs none of them: see
// ../shared/notes/aws-offline.md, "CloudFormation in moto").
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "cli_runner.h"
#include "testing/moto_server.h"

namespace lote::testing {
namespace {

const std::string kSourceDir = LOTE_SOURCE_DIR;
const std::string kTemplate = kSourceDir + "/deploy/cloudformation/lote.yaml";

struct Shell {
  int exit_code = -1;
  std::string out, err;
};

Shell RunShell(const std::string& cmd) {
  TempDir io;
  int status = std::system((cmd + " >" + (io / "out") + " 2>" + (io / "err")).c_str());
  Shell r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = ReadAll(io / "out");
  r.err = ReadAll(io / "err");
  return r;
}

TEST(DeployTemplate, CfnLintAcceptsIt) {
  Shell lint = RunShell("cfn-lint " + kTemplate);
  EXPECT_EQ(lint.exit_code, 0) << lint.out << lint.err;
}

TEST(DeployTemplate, ItGivesTheDefinitionsTheSubstitutionsTheLocalRunGives) {
  Shell check = RunShell("python3 " + kSourceDir + "/tests/tools/check_template.py " + kTemplate +
                         " " + kSourceDir + "/deploy/statemachines/local.substitutions.json");
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
  EXPECT_EQ(check.out, "");
  // The checker finds what it is for: a template whose function runs another built-in.
  TempDir tmp;
  RunShell("mkdir -p " + (tmp / "cloudformation") + " && cp -r " + kSourceDir +
           "/deploy/statemachines " + tmp.path());
  std::string text = ReadAll(kTemplate);
  const std::string promote = "Command: [lambda, lote-promote]";
  ASSERT_NE(text.find(promote), std::string::npos);
  text.replace(text.find(promote), promote.size(), "Command: [lambda, lote-publish]");
  WriteAll(tmp / "cloudformation/lote.yaml", text);
  Shell bad = RunShell("python3 " + kSourceDir + "/tests/tools/check_template.py " +
                       (tmp / "cloudformation/lote.yaml") + " " + kSourceDir +
                       "/deploy/statemachines/local.substitutions.json");
  EXPECT_EQ(bad.exit_code, 1) << bad.out << bad.err;
  EXPECT_NE(bad.out.find("PromoteFunction"), std::string::npos) << bad.out;
}

TEST(DeployTemplate, PackagesAndCreatesTheStackOnMoto) {
  auto moto = MotoServer::Start();
  ASSERT_TRUE(moto.ok()) << moto.status().ToString();
  const std::string env =
      "AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_DEFAULT_REGION=us-east-1 "
      "AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_ENDPOINT_URL=" +
      (*moto)->endpoint() + " ";
  TempDir tmp;
  ASSERT_TRUE((*moto)->CreateBucket("lote-artifacts").ok());
  Shell package =
      RunShell(env + "aws cloudformation package --template-file " + kTemplate +
               " --s3-bucket lote-artifacts --output-template-file " + (tmp / "packaged.yaml"));
  ASSERT_EQ(package.exit_code, 0) << package.out << package.err;
  // The definitions went up as they are in the repository.
  Shell listed = RunShell(env + "aws s3api list-objects-v2 --bucket lote-artifacts --output json");
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  std::set<std::string> uploaded;
  const auto objects = nlohmann::json::parse(listed.out)["Contents"];
  for (const auto& o : objects) {
    Shell get =
        RunShell(env + "aws s3 cp s3://lote-artifacts/" + o["Key"].get<std::string>() + " -");
    ASSERT_EQ(get.exit_code, 0) << get.err;
    uploaded.insert(get.out);
  }
  const std::set<std::string> definitions = {
      ReadAll(kSourceDir + "/deploy/statemachines/pipeline.asl.json"),
      ReadAll(kSourceDir + "/deploy/statemachines/retrain.asl.json")};
  EXPECT_TRUE(uploaded == definitions) << uploaded.size() << " uploaded: " << listed.out;

  Shell create = RunShell(
      env + "aws cloudformation create-stack --stack-name lote --capabilities CAPABILITY_IAM " +
      "--template-body file://" + (tmp / "packaged.yaml") +
      " --parameters ParameterKey=LoteImageUri,ParameterValue=123456789012.dkr.ecr.us-east-1."
      "amazonaws.com/lote:1 ParameterKey=ModelDataUrl,ParameterValue=s3://models/banca/"
      "model.tar.gz ParameterKey=DataBucketName,ParameterValue=lote-data");
  ASSERT_EQ(create.exit_code, 0) << create.out << create.err;
  Shell described =
      RunShell(env + "aws cloudformation describe-stacks --stack-name lote --output json");
  ASSERT_EQ(described.exit_code, 0) << described.err;
  auto stack = nlohmann::json::parse(described.out)["Stacks"][0];
  EXPECT_EQ(stack["StackStatus"], "CREATE_COMPLETE") << described.out;
  std::set<std::string> outputs;
  for (const auto& o : stack["Outputs"]) outputs.insert(o["OutputKey"].get<std::string>());
  EXPECT_EQ(outputs,
            (std::set<std::string>{"DataBucket", "PipelineStateMachineArn",
                                   "RetrainStateMachineArn", "ModelName", "SageMakerRoleArn"}));
  Shell machines = RunShell(env + "aws stepfunctions list-state-machines --output json");
  ASSERT_EQ(machines.exit_code, 0) << machines.err;
  EXPECT_EQ(nlohmann::json::parse(machines.out)["stateMachines"].size(), 2u) << machines.out;
  // The schedule starts the pipeline over the bucket's raw prefix into its output prefix.
  Shell rules = RunShell(env + "aws events list-rules --output json");
  ASSERT_EQ(rules.exit_code, 0) << rules.err;
  auto rule = nlohmann::json::parse(rules.out)["Rules"].at(0);
  EXPECT_EQ(rule["ScheduleExpression"], "rate(1 hour)");
  Shell targets = RunShell(env + "aws events list-targets-by-rule --output json --rule " +
                           rule["Name"].get<std::string>());
  ASSERT_EQ(targets.exit_code, 0) << targets.err;
  auto input = nlohmann::json::parse(
      nlohmann::json::parse(targets.out)["Targets"].at(0)["Input"].get<std::string>());
  EXPECT_EQ(input, nlohmann::json::parse(
                       R"({"input": "s3://lote-data/raw/", "output": "s3://lote-data/lote"})"));
  Shell bucket = RunShell(env + "aws s3api head-bucket --bucket lote-data");
  EXPECT_EQ(bucket.exit_code, 0) << bucket.err;
}

}  // namespace
}  // namespace lote::testing
