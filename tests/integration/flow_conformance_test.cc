// Conformance of `lote flow`: the corpus tests/data/flow/conformance/ (definitions without
// service tasks, each with the result AWS's documentation gives) run by lote and, differentially,
// by moto 5.2.1's Step Functions interpreter (tests/flow/peers/conformance.py); and every
// definition in deploy/ and in the corpus checked by the npm asl-validator and by lote's own.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "cli_runner.h"

namespace lote::testing {
namespace {

const std::string kCorpus = kSource + "/tests/data/flow/conformance";

// Where moto 5.2.1 is wrong and lote follows AWS's documentation instead (details:
// tests/data/flow/conformance/PEERS.md).
const std::set<std::string> kMotoWrong = {
    // A definite path with an index then a field gives a one-element list, not the value.
    "pass_parameters_outputpath",
    "parallel_resultselector",
    // States.Array drops a null argument.
    "intrinsic_arrays",
    // States.Format with escaped braces fails with States.Runtime.
    "intrinsic_format_escapes",
    // StringMatches with an escaped \* does not match a literal star.
    "choice_string",
    // A comparison on a missing Variable goes to Default instead of failing with States.Runtime.
    "choice_missing_variable",
    // No matching rule and no Default: States.Runtime instead of States.NoChoiceMatched.
    "choice_no_match",
    // A top-level string output is returned without JSON quotes.
    "choice_type_mismatch_is_false",
    // ResultPath into an array input: States.Runtime instead of States.ResultPathMatchFailure.
    "resultpath_on_array_input",
};

bool Agrees(const nlohmann::json& expected, const nlohmann::json& got) {
  if (!got.is_object() || got.value("status", "") != expected["status"]) return false;
  if (expected["status"] == "SUCCEEDED")
    return got.contains("output") && got["output"] == expected["output"];
  return got.value("error", "") == expected.value("error", "");
}

TEST(FlowConformance, LoteFollowsAwsOnEveryCaseAndMotoDiffersOnlyWhereKnown) {
  TempDir tmp;
  const std::string json = tmp / "results.json";
  const std::string cmd = "python3 " + kSource + "/tests/flow/peers/conformance.py --peers moto " +
                          "--lote " + LOTE_CLI_PATH + " --require lote --json " + json + " >" +
                          (tmp / "table.md") + " 2>" + (tmp / "err");
  int status = std::system(cmd.c_str());
  ASSERT_TRUE(WIFEXITED(status)) << cmd;
  EXPECT_EQ(WEXITSTATUS(status), 0) << ReadAll(tmp / "table.md") << ReadAll(tmp / "err");
  auto doc = nlohmann::json::parse(ReadAll(json));
  const auto& expected = doc["expected"];
  ASSERT_GE(expected.size(), 40u);
  std::set<std::string> moto_wrong;
  for (const auto& [name, want] : expected.items()) {
    EXPECT_TRUE(Agrees(want, doc["results"]["lote"][name]))
        << name << ": lote gave " << doc["results"]["lote"][name];
    if (!Agrees(want, doc["results"]["moto"][name])) moto_wrong.insert(name);
  }
  // Where moto and lote disagree it is moto that is wrong, and only where that is known: a new
  // difference means one of the two changed.
  EXPECT_EQ(moto_wrong, kMotoWrong) << ReadAll(tmp / "table.md");
}

TEST(FlowConformance, EveryDefinitionPassesAslValidatorAndLotesValidator) {
  std::vector<std::string> definitions = {kSource + "/deploy/statemachines/pipeline.asl.json",
                                          kSource + "/deploy/statemachines/retrain.asl.json"};
  for (const auto& e : std::filesystem::directory_iterator(kCorpus)) {
    if (e.is_directory()) definitions.push_back((e.path() / "definition.asl.json").string());
  }
  ASSERT_GT(definitions.size(), 40u);
  const std::string validator = kSource + "/node_modules/.bin/asl-validator";
  ASSERT_TRUE(std::filesystem::exists(validator))
      << "asl-validator is installed by scripts/bootstrap.sh (npm ci)";
  // One asl-validator process for all of them: node's start-up is most of a single check.
  std::string cmd = validator;
  for (const std::string& d : definitions) {
    CliResult mine = RunLote("flow validate " + d + " --substitutions " + kSource +
                             "/deploy/statemachines/local.substitutions.json");
    EXPECT_EQ(mine.exit_code, 0) << d << ": " << mine.err;
    cmd.append(" --json-path ").append(d);
  }
  TempDir out;
  cmd.append(" >").append(out / "out").append(" 2>&1");
  const int checked = std::system(cmd.c_str());
  const std::string report = ReadAll(out / "out");
  EXPECT_TRUE(WIFEXITED(checked) && WEXITSTATUS(checked) == 0) << report;
  size_t valid = 0;  // one "is valid" line per definition

  for (size_t at = report.find("is valid"); at != std::string::npos;
       at = report.find("is valid", at + 1)) {
    ++valid;
  }
  EXPECT_EQ(valid, definitions.size()) << report;
  // And both refuse a dangling Next.
  TempDir tmp;
  WriteAll(tmp / "bad.asl.json",
           R"({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}}})");
  EXPECT_EQ(RunLote("flow validate " + (tmp / "bad.asl.json")).exit_code, 3);
  int status = std::system(
      (validator + " --json-path " + (tmp / "bad.asl.json") + " >/dev/null 2>&1").c_str());
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) != 0);
}

}  // namespace
}  // namespace lote::testing
