// Hostile input through the CLI: file names and record ids holding a newline and terminal escape
// sequences must not forge a log line or reach the terminal raw (`lote run`, warnings, errors,
// `lote query --format table`), and SQL that tries to write through `lote query` is refused
// with exit code 3 and nothing written.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "cli_runner.h"

namespace lote::testing {
namespace {

namespace fs = std::filesystem;

// A name that, printed raw, would end the log line, start a forged one and colour the terminal.
const std::string kHostileName = "llamadas\nlote: error: forged \x1b[31mred\x1b[0m";

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// Every line is one of lote's own and carries no raw escape character.
void ExpectOnlyLoteLines(const std::string& err) {
  EXPECT_FALSE(err.empty());
  for (const std::string& line : Lines(err)) {
    EXPECT_EQ(line.rfind("lote:", 0), 0u) << "a line lote did not write: " << line;
  }
  EXPECT_EQ(err.find('\x1b'), std::string::npos) << err;
  EXPECT_EQ(err.find('\r'), std::string::npos) << err;
}

// Single-quoted for the shell (the names hold no single quote).
std::string Quote(const std::string& s) { return "'" + s + "'"; }

class UntrustedInputCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    auto trained = TrainSampleModel(*dir_ / "intents.lote");
    ASSERT_EQ(trained.exit_code, 0) << trained.err;
    fs::create_directories(*dir_ / "lake");
    WriteAll(*dir_ / ("lake/" + kHostileName + ".jsonl"),
             "{\"id\":\"r1\\u001b[2J\",\"text\":\"quiero pagar mi tarjeta\"}\n"
             "{\"id\":\"r2\",\"text\":\"necesito bloquear la cuenta\"}\n");
    // A file of no known format: logged as ignored, by name.
    WriteAll(*dir_ / ("lake/" + kHostileName + ".bin"), "x");
    run_ =
        new CliResult(RunLote("run --log-format text --input " + (*dir_ / "lake") + " --output " +
                              (*dir_ / "out") + " --model " + (*dir_ / "intents.lote")));
  }
  static void TearDownTestSuite() {
    delete run_;
    delete dir_;
  }
  static CliResult Query(const std::string& args) {
    return RunLote("query --output " + (*dir_ / "out") + " " + args);
  }

  static TempDir* dir_;
  static CliResult* run_;
};
TempDir* UntrustedInputCli::dir_ = nullptr;
CliResult* UntrustedInputCli::run_ = nullptr;

TEST_F(UntrustedInputCli, RunTextLogEscapesControlCharactersInFileNames) {
  ASSERT_EQ(run_->exit_code, 0) << run_->err;
  ExpectOnlyLoteLines(run_->err);
  // The name is there, visibly escaped, in the line about the object and in the warning.
  const std::string shown = "llamadas\\nlote: error: forged \\x1b[31mred\\x1b[0m";
  EXPECT_NE(run_->err.find(shown + ".jsonl: 2 in, 2 out"), std::string::npos) << run_->err;
  EXPECT_NE(run_->err.find("lote: warning: ignoring "), std::string::npos) << run_->err;
  EXPECT_NE(run_->err.find(shown + ".bin: not"), std::string::npos) << run_->err;
}

TEST_F(UntrustedInputCli, ErrorAndWarningMessagesEscapeFileNames) {
  // Fail(): a missing model named with a newline and ESC.
  auto missing = RunLote("run --input " + (*dir_ / "lake") + " --output " + (*dir_ / "out2") +
                         " --model " + Quote(*dir_ / "nada\n\x1b[2J.lote"));
  EXPECT_EQ(missing.exit_code, 3) << missing.err;
  ExpectOnlyLoteLines(missing.err);
  EXPECT_EQ(Lines(missing.err).size(), 1u) << missing.err;
  EXPECT_NE(missing.err.find("nada\\n\\x1b[2J"), std::string::npos) << missing.err;

  // Warn(): a record without a label in a labelled file with a hostile name.
  const std::string data = *dir_ / (kHostileName + "-eval.jsonl");
  WriteAll(data,
           "{\"text\":\"quiero pagar mi tarjeta\",\"label\":\"pago_tarjeta\"}\n"
           "{\"text\":\"sin etiqueta\",\"label\":\"\"}\n");
  auto eval = RunLote("eval --model " + (*dir_ / "intents.lote") + " --data " + Quote(data));
  ExpectOnlyLoteLines(eval.err);
  EXPECT_NE(eval.err.find("lote: warning: "), std::string::npos) << eval.err;
  EXPECT_NE(eval.err.find("llamadas\\nlote: error: forged \\x1b[31mred"), std::string::npos)
      << eval.err;
}

TEST_F(UntrustedInputCli, QueryTableEscapesValuesWhileCsvAndJsonKeepThem) {
  ASSERT_EQ(run_->exit_code, 0) << run_->err;
  auto table = Query("\"SELECT record_id, source FROM results ORDER BY record_id\"");
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_EQ(table.out.find('\x1b'), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("r1\\x1b[2J"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("llamadas\\nlote: error: forged \\x1b[31mred\\x1b[0m.jsonl"),
            std::string::npos)
      << table.out;
  // Header, rule, two rows, count: no value broke a line.
  EXPECT_EQ(Lines(table.out).size(), 5u) << table.out;

  auto csv = Query("--format csv \"SELECT record_id FROM results ORDER BY record_id\"");
  ASSERT_EQ(csv.exit_code, 0) << csv.err;
  EXPECT_EQ(csv.out, "record_id\nr1\x1b[2J\nr2\n");
  auto json = Query("--format json \"SELECT record_id FROM results ORDER BY record_id\"");
  ASSERT_EQ(json.exit_code, 0) << json.err;
  EXPECT_EQ(nlohmann::json::parse(json.out)[0]["record_id"], "r1\x1b[2J");
  EXPECT_NE(json.out.find("r1\\u001b[2J"), std::string::npos) << json.out;
}

TEST_F(UntrustedInputCli, QueryRefusesASecondStatementAndAttach) {
  ASSERT_EQ(run_->exit_code, 0) << run_->err;
  auto two = Query("\"SELECT 1; DROP TABLE runs\"");
  EXPECT_EQ(two.exit_code, 3);
  EXPECT_TRUE(two.out.empty()) << two.out;
  EXPECT_EQ(two.err,
            "lote: InvalidArgument: query refused: lote query runs one statement, and more SQL "
            "follows the first at byte 10: DROP TABLE runs\n");

  const std::string target = *dir_ / "stolen.db";
  auto attach = Query("\"ATTACH 'file:" + target + "?mode=rwc' AS x\"");
  EXPECT_EQ(attach.exit_code, 3);
  EXPECT_EQ(attach.err, "lote: InvalidArgument: query refused: ATTACH 'file:" + target +
                            "?mode=rwc' is not allowed (lote query runs one read-only SELECT)\n");
  auto vacuum = Query("\"VACUUM INTO '" + target + "'\"");
  EXPECT_EQ(vacuum.exit_code, 3);
  EXPECT_NE(vacuum.err.find("query refused: a statement that writes"), std::string::npos)
      << vacuum.err;
  EXPECT_FALSE(fs::exists(target));

  auto runs = Query("--format csv \"SELECT count(*) AS n FROM runs\"");
  ASSERT_EQ(runs.exit_code, 0) << runs.err;
  EXPECT_EQ(runs.out, "n\n1\n");
}

}  // namespace
}  // namespace lote::testing
