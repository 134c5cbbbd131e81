// Hostile input through the CLI: SQL that tries to write through `lote query` is refused with
// exit code 3 and nothing written.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "cli_runner.h"

namespace lote::testing {
namespace {

namespace fs = std::filesystem;

// A name that, printed raw, would end the log line, start a forged one and colour the terminal.
const std::string kHostileName = "llamadas\nlote: error: forged \x1b[31mred\x1b[0m";

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
