// End-to-end tests of `lote run` and `lote query` through the CLI: the quick start's flow on the
// demo lake (good and bad records), reruns, --strict, bad configuration, Athena DDL.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "cli_runner.h"

namespace lote::testing {
namespace {

class RunCli : public SampleModelTest {
 protected:
  void SetUp() override {
    SampleModelTest::SetUp();
    if (HasFatalFailure()) return;
    ASSERT_TRUE(MakeDemoLake(tmp_ / "lake"));
  }
  std::string RunArgs(const std::string& extra = "") {
    return "run --input " + (tmp_ / "lake") + " --output " + (tmp_ / "out") + " --model " +
           Model() + " " + extra;
  }
  TempDir tmp_;
};

TEST_F(RunCli, ProcessesTheDemoLakeAndReconcilesEveryRecord) {
  auto r = RunLote(RunArgs("--log-format json"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["records_in"], 376);
  EXPECT_EQ(j["records_out"], 371);
  EXPECT_EQ(j["records_quarantined"], 4);
  EXPECT_EQ(j["records_duplicate"], 1);
  EXPECT_EQ(j["objects_processed"], 4);
  // Every stderr line is a JSON object in this mode.
  std::istringstream err(r.err);
  std::string line;
  while (std::getline(err, line)) EXPECT_TRUE(nlohmann::json::accept(line)) << line;

  auto q = RunLote("query --format json --output " + (tmp_ / "out") +
                   " \"SELECT count(*) AS n, count(DISTINCT record_id) AS ids FROM results\"");
  ASSERT_EQ(q.exit_code, 0) << q.err;
  auto rows = nlohmann::json::parse(q.out);
  EXPECT_EQ(rows[0]["n"], 371);
  EXPECT_EQ(rows[0]["ids"], 371);
  q = RunLote("query --format csv --output " + (tmp_ / "out") +
              " \"SELECT stage, count(*) FROM quarantine GROUP BY 1 ORDER BY 1\"");
  ASSERT_EQ(q.exit_code, 0) << q.err;
  EXPECT_EQ(q.out, "stage,count(*)\ningest,3\nprep,1\n");
}

TEST_F(RunCli, RerunProcessesNothingNewAndStrictReportsPartialSuccess) {
  ASSERT_EQ(RunLote(RunArgs()).exit_code, 0);
  auto again = RunLote(RunArgs("--log-format json --strict"));
  // Nothing new is processed, so nothing is quarantined and --strict succeeds; reprocessing with
  // --force quarantines the bad records again, which --strict reports as partial success.
  ASSERT_EQ(again.exit_code, 0) << again.err;
  auto j = nlohmann::json::parse(again.out);
  EXPECT_EQ(j["objects_processed"], 0);
  EXPECT_EQ(j["objects_skipped"], 4);
  auto forced = RunLote(RunArgs("--force --strict"));
  EXPECT_EQ(forced.exit_code, 4) << forced.err;
}

TEST_F(RunCli, PersonalDataIsMaskedInResultsByDefault) {
  WriteAll(tmp_ / "lake/extra.jsonl",
           "{\"id\":\"p1\",\"text\":\"llamenme al 3001234567 o a ana@example.com\"}\n");
  ASSERT_EQ(RunLote(RunArgs()).exit_code, 0);
  auto q = RunLote("query --format csv --output " + (tmp_ / "out") +
                   " \"SELECT entities FROM results WHERE record_id = 'p1'\"");
  ASSERT_EQ(q.exit_code, 0) << q.err;
  EXPECT_NE(q.out.find("PHONE"), std::string::npos) << q.out;
  EXPECT_EQ(q.out.find("3001234567"), std::string::npos) << q.out;
  EXPECT_EQ(q.out.find("ana@example.com"), std::string::npos) << q.out;
}

TEST_F(RunCli, PiiTypesFlagLimitsWhatIsMasked) {
  WriteAll(tmp_ / "lake/extra.jsonl",
           "{\"id\":\"p1\",\"text\":\"llamenme al 3001234567 o a ana@example.com\"}\n");
  ASSERT_EQ(RunLote(RunArgs("--pii-types EMAIL")).exit_code, 0);
  auto q = RunLote("query --format csv --output " + (tmp_ / "out") +
                   " \"SELECT entities FROM results WHERE record_id = 'p1'\"");
  ASSERT_EQ(q.exit_code, 0) << q.err;
  EXPECT_NE(q.out.find("3001234567"), std::string::npos) << q.out;
  EXPECT_EQ(q.out.find("ana@example.com"), std::string::npos) << q.out;
  auto bad = RunLote(RunArgs("--pii-types 'EMAIL,,PHONE'"));
  EXPECT_EQ(bad.exit_code, 2) << bad.err;
}

TEST_F(RunCli, TwoConcurrentRunsOnDifferentOutputsSharingACatalogNeverBothPublish) {
  // Before, both succeeded and published every record twice (or, one after the other, the second
  // output silently got nothing). A catalog now belongs to one output.
  const std::string catalog = tmp_ / "shared.db";
  const std::string base = std::string(LOTE_CLI_PATH) + " run --input " + (tmp_ / "lake") +
                           " --model " + Model() + " --catalog " + catalog;
  const std::string script = "(" + base + " --output " + (tmp_ / "outA") + " >/dev/null 2>" +
                             (tmp_ / "errA") + "; echo $? >" + (tmp_ / "rcA") + ") & (" + base +
                             " --output " + (tmp_ / "outB") + " >/dev/null 2>" + (tmp_ / "errB") +
                             "; echo $? >" + (tmp_ / "rcB") + ") & wait";
  ASSERT_EQ(std::system(script.c_str()), 0);
  const int a = std::stoi(ReadAll(tmp_ / "rcA")), b = std::stoi(ReadAll(tmp_ / "rcB"));
  EXPECT_TRUE((a == 0) != (b == 0)) << a << " " << b << "\n"
                                    << ReadAll(tmp_ / "errA") << ReadAll(tmp_ / "errB");
  const std::string loser_err = ReadAll(tmp_ / (a == 0 ? "errB" : "errA"));
  EXPECT_NE(loser_err.find("catalog"), std::string::npos) << loser_err;
  // One after the other: the second output is refused, not silently empty.
  const std::string winner = a == 0 ? "outA" : "outB", loser = a == 0 ? "outB" : "outA";
  auto again = RunLote("run --input " + (tmp_ / "lake") + " --output " + (tmp_ / loser) +
                       " --model " + Model() + " --catalog " + catalog);
  EXPECT_EQ(again.exit_code, 3) << again.err;
  EXPECT_NE(again.err.find("belongs to output"), std::string::npos) << again.err;
  auto q = RunLote("query --catalog " + catalog + " \"SELECT count(*) FROM results\"");
  EXPECT_NE(q.out.find("371"), std::string::npos) << q.out;
}

TEST_F(RunCli, AnOutputInsideTheInputIsRefusedBeforeAnythingRuns) {
  auto r = RunLote("run --input " + (tmp_ / "lake") + " --output " + (tmp_ / "lake/results") +
                   " --model " + Model());
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("is inside input"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(tmp_ / "lake/results"));
  auto reverse = RunLote("run --input " + (tmp_ / "lake") + " --output " + tmp_.path() +
                         " --model " + Model());
  EXPECT_EQ(reverse.exit_code, 3) << reverse.err;
  EXPECT_FALSE(std::filesystem::exists(tmp_ / "_catalog"));
}

TEST_F(RunCli, AMissingInputFolderIsAnInputError) {
  auto r = RunLote("run --input " + (tmp_ / "no-such-lake") + " --output " + (tmp_ / "out") +
                   " --model " + Model());
  EXPECT_EQ(r.exit_code, 3) << r.err << r.out;
  EXPECT_NE(r.err.find("no-such-lake"), std::string::npos) << r.err;
}

// `lote run` and `lote redact` read a CRLF-terminated key file the same way, so the pseudonyms of
// one customer's phone join across the two; results carry the keyed text fingerprint.
TEST_F(RunCli, RunAndRedactShareOneKeyReaderAndResultsCarryKeyedFingerprints) {
  WriteAll(tmp_ / "lake/extra.jsonl", "{\"id\":\"p1\",\"text\":\"mi celular es 3001234567\"}\n");
  WriteAll(tmp_ / "key", "una-clave-de-prueba-larga\r\n");
  auto r = RunLote(RunArgs("--pii-mode hash --pii-key-file " + (tmp_ / "key")));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto q = RunLote("query --format json --output " + (tmp_ / "out") +
                   " \"SELECT text_hmac, entities FROM results WHERE record_id = 'p1'\"");
  ASSERT_EQ(q.exit_code, 0) << q.err;
  auto rows = nlohmann::json::parse(q.out);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0]["text_hmac"].get<std::string>().size(), 64u);
  const std::string entities = rows[0]["entities"];
  const size_t p = entities.find("[PHONE_");
  ASSERT_NE(p, std::string::npos) << entities;
  WriteAll(tmp_ / "one.txt", "mi celular es 3001234567\n");
  auto red =
      RunLote("redact --mode hash --key-file " + (tmp_ / "key") + " --input " + (tmp_ / "one.txt"));
  ASSERT_EQ(red.exit_code, 0) << red.err;
  EXPECT_NE(red.out.find(entities.substr(p, 24)), std::string::npos) << red.out;
  // Without a key there is no fingerprint at all.
  auto plain = RunLote(
      "run --input " + (tmp_ / "lake") + " --output " + (tmp_ / "out2") + " --model " + Model(),
      "env -u LOTE_PII_KEY");
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  auto n = RunLote("query --format csv --output " + (tmp_ / "out2") +
                   " \"SELECT count(*) FROM results WHERE text_hmac IS NOT NULL\"");
  EXPECT_EQ(n.out, "count(*)\n0\n");
}

TEST_F(RunCli, BadConfigIsAUsageErrorNamingFileAndLine) {
  WriteAll(tmp_ / "bad.yaml", "prep:\n  max_chars: 100\n  colour: blue\n");
  auto r = RunLote(RunArgs("--config " + (tmp_ / "bad.yaml")));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("bad.yaml:3"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("colour"), std::string::npos) << r.err;
}

TEST_F(RunCli, MissingModelIsAnInputError) {
  auto r = RunLote("run --input " + (tmp_ / "lake") + " --output " + (tmp_ / "out") + " --model " +
                   (tmp_ / "nope.lote"));
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("nope.lote"), std::string::npos) << r.err;
}

TEST_F(RunCli, AthenaDdlDeclaresBothTablesWithPartitionProjection) {
  ASSERT_EQ(RunLote(RunArgs()).exit_code, 0);
  auto r =
      RunLote("query --athena-ddl --output " + (tmp_ / "out") + " --location s3://bank-nlp/lote");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("CREATE EXTERNAL TABLE"), std::string::npos);
  EXPECT_NE(r.out.find("s3://bank-nlp/lote/results"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("s3://bank-nlp/lote/quarantine"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("projection.enabled"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("intents-"), std::string::npos) << r.out;  // model enum from the catalog
}

}  // namespace
}  // namespace lote::testing
