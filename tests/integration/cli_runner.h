// Runs the built `lote` CLI in integration tests and captures what it prints.
#ifndef LOTE_TESTS_INTEGRATION_CLI_RUNNER_H_
#define LOTE_TESTS_INTEGRATION_CLI_RUNNER_H_

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace lote::testing {

struct CliResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

inline std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void WriteAll(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary);
  out << data;
}

// A fresh temporary folder per test, removed at the end.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "lote-test-XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Runs `lote ARGS` through the shell (ARGS must be shell-quoted by the caller).
inline CliResult RunLote(const std::string& args, const std::string& env = "") {
  TempDir io;
  // ulimit -f: a runaway command must not fill the disk (1 GiB of output at most).
  const std::string cmd = "ulimit -f 1048576; " + env + " " + LOTE_CLI_PATH + std::string(" ") +
                          args + " >" + (io / "out") + " 2>" + (io / "err");
  int status = std::system(cmd.c_str());
  CliResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = ReadAll(io / "out");
  r.err = ReadAll(io / "err");
  return r;
}

// gtest answers a fatal failure in SetUpTestSuite by skipping every test of the suite, and CTest
// counts those as skipped, not failed: a suite whose model did not train would pass. Suites keep
// what went wrong in their setup instead (this returns "" for a command that succeeded), and
// each test's SetUp asserts it is empty.
inline std::string SetupProblem(const CliResult& r, const std::string& what) {
  if (r.exit_code == 0) return "";
  // append(), not operator+: GCC 12 warns falsely (-Wrestrict) on a literal + std::string.
  std::string problem = what;
  problem.append(" exited with ").append(std::to_string(r.exit_code)).append(": ").append(r.err);
  return problem;
}

// Trains the default intent classifier on the bundled sample into `path` (about a second), as
// the quick start does. The suites that need a model call it once in SetUpTestSuite.
inline CliResult TrainSampleModel(const std::string& path) {
  const std::string sample = LOTE_SAMPLE_DIR;
  return RunLote("train classify --train " + sample + "/train.jsonl --dev " + sample +
                 "/dev.jsonl --name intents --out " + path);
}

}  // namespace lote::testing

#endif  // LOTE_TESTS_INTEGRATION_CLI_RUNNER_H_
