// Runs the built `lote` CLI in integration tests and captures what it prints.
#ifndef LOTE_TESTS_INTEGRATION_CLI_RUNNER_H_
#define LOTE_TESTS_INTEGRATION_CLI_RUNNER_H_

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace lote::testing {

// The bundled sample (data/sample), the source tree, and the integration tests' data files.
inline const std::string kSample = LOTE_SAMPLE_DIR;
inline const std::string kSource = LOTE_SOURCE_DIR;

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

// The published results and quarantine rows of `output` (`lote query`), as CSV: what two ways of
// running the pipeline over the same input must agree on.
inline std::string PublishedRows(const std::string& output) {
  std::string rows;
  for (const char* sql :
       {"SELECT record_id, source, line, label, score, top_k, entities, text_hmac, "
        "model_version, preprocess_version FROM results ORDER BY source, line",
        "SELECT record_id, source, line, stage, reason FROM quarantine ORDER BY source, line"}) {
    CliResult q = RunLote("query --output " + output + " --format csv '" + sql + "'");
    EXPECT_EQ(q.exit_code, 0) << q.err;
    rows += q.out;
  }
  return rows;
}

// Starts `ENV lote ARGS` in the background (output capped like RunLote; stdout to `log`, stderr
// to `err_log`, or to `log` too when that is empty); returns its pid.
inline pid_t SpawnLote(const std::string& args, const std::string& log, const std::string& env = "",
                       const std::string& err_log = "") {
  pid_t pid = ::fork();
  if (pid == 0) {
    std::string cmd = "ulimit -f 1048576; exec " + env + " " + std::string(LOTE_CLI_PATH) + " " +
                      args + " >" + log + (err_log.empty() ? " 2>&1" : " 2>" + err_log);
    ::execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  return pid;
}

// Waits for `pid`; true if it died of SIGKILL, false if it exited (0 expected).
inline bool WaitKilled(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (WIFSIGNALED(status)) return WTERMSIG(status) == SIGKILL;
  EXPECT_EQ(WEXITSTATUS(status), 0) << "a run that was not killed failed";
  return false;
}

// Kills `pid` with SIGKILL as soon as `progressed()` holds (polled every `poll_ms`), so the
// kill lands between two commits whatever the machine's speed, where a fixed delay lands after
// the end on a fast machine. True if it was killed, false if it exited first.
inline bool KillOnceProgressed(pid_t pid, const std::function<bool()>& progressed,
                               int poll_ms = 1) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(5);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "a run not killed failed";
      return false;
    }
    if (progressed()) {
      ::kill(pid, SIGKILL);
      return WaitKilled(pid);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(poll_ms));
  }
  ::kill(pid, SIGKILL);
  WaitKilled(pid);
  ADD_FAILURE() << "no progress in 5 minutes";
  return false;
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

// Runs `lote TRAIN_ARGS --out PATH` for a suite's SetUpTestSuite, training each model once per
// build of lote: CTest runs every test in a process of its own, so without this each test would
// retrain its suite's models (seconds each under the sanitizers). The model is kept in
// LOTE_TEST_CACHE_DIR under a key of the arguments, the binary (size and mtime) and the files
// the arguments name (size and mtime, recursively for folders); training is deterministic, so a
// cached model is the model the command would write. Concurrent suites may train the same key:
// each writes a temporary file and renames it, and both write the same bytes.
inline CliResult TrainCached(const std::string& train_args, const std::string& path) {
  namespace fs = std::filesystem;
  std::string key = train_args;
  auto stamp = [&key](const fs::path& p) {
    std::error_code ec;
    const auto size = fs::is_regular_file(p, ec) ? fs::file_size(p, ec) : 0;
    const auto time = fs::last_write_time(p, ec).time_since_epoch().count();
    key += "|" + p.string() + ":" + std::to_string(size) + ":" + std::to_string(time);
  };
  stamp(LOTE_CLI_PATH);
  std::istringstream words(train_args);
  std::string word;
  while (words >> word) {
    std::error_code ec;
    if (fs::is_directory(word, ec)) {
      for (const auto& e : fs::recursive_directory_iterator(word, ec)) stamp(e.path());
    } else if (fs::exists(word, ec)) {
      stamp(word);
    }
  }
  const std::string cached = std::string(LOTE_TEST_CACHE_DIR) + "/" +
                             std::to_string(std::hash<std::string>{}(key)) + ".lote";
  std::error_code ec;
  if (!fs::exists(cached, ec)) {
    fs::create_directories(LOTE_TEST_CACHE_DIR, ec);
    const std::string tmp = cached + ".tmp-" + std::to_string(::getpid());
    CliResult r = RunLote(train_args + " --out " + tmp);
    if (r.exit_code != 0) return r;
    fs::rename(tmp, cached, ec);
    if (ec) return CliResult{1, "", "cannot keep the trained model: " + ec.message()};
  }
  fs::copy_file(cached, path, fs::copy_options::overwrite_existing, ec);
  if (ec) return CliResult{1, "", "cannot copy the cached model: " + ec.message()};
  return CliResult{0, "", ""};
}

// Trains the default intent classifier on the bundled sample into `path` (about a second), as
// the quick start does. The suites that need a model call it once in SetUpTestSuite.
inline CliResult TrainSampleModel(const std::string& path) {
  const std::string sample = LOTE_SAMPLE_DIR;
  return TrainCached("train classify --train " + sample + "/train.jsonl --dev " + sample +
                         "/dev.jsonl --name intents",
                     path);
}

// Writes the demo lake (scripts/make_demo_inputs.py: four objects of good and bad records, 376
// records) into folder `dir`; true on success.
inline bool MakeDemoLake(const std::string& dir) {
  const std::string cmd = "python3 " + std::string(LOTE_SOURCE_DIR) +
                          "/scripts/make_demo_inputs.py " + dir + " >/dev/null";
  return std::system(cmd.c_str()) == 0;
}

// A model trained on the sample with 60 % of its labels scrambled: clearly worse than the
// sample's model (a champion a promotion test replaces). Its path, or "" if training failed.
inline std::string TrainCorruptedSampleModel(const TempDir& tmp) {
  std::ifstream in(std::string(LOTE_SAMPLE_DIR) + "/train.jsonl");
  std::ofstream out(tmp / "corrupt.jsonl");
  std::vector<nlohmann::json> rows;
  for (std::string line; std::getline(in, line);) rows.push_back(nlohmann::json::parse(line));
  for (size_t i = 0; i < rows.size(); ++i) {
    nlohmann::json r = {{"text", rows[i]["text"]}, {"label", rows[i]["label"]}};
    if (i % 5 < 3) r["label"] = rows[(i * 7 + 3) % rows.size()]["label"];
    out << r.dump() << "\n";
  }
  out.close();
  const std::string model = tmp / "corrupt.lote";
  auto r = RunLote("train classify --train " + (tmp / "corrupt.jsonl") + " --name corrupt --out " +
                   model);
  return r.exit_code == 0 ? model : "";
}

// A suite whose tests share the sample's intent classifier, trained once per build
// (TrainSampleModel). A fixture that overrides SetUp calls SampleModelTest::SetUp() first.
class SampleModelTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    setup_error_ = SetupProblem(TrainSampleModel(*dir_ / "intents.lote"), "training on the sample");
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  void SetUp() override { ASSERT_EQ(setup_error_, ""); }
  static std::string Model() { return *dir_ / "intents.lote"; }

  static inline TempDir* dir_ = nullptr;
  static inline std::string setup_error_;
};

}  // namespace lote::testing

#endif  // LOTE_TESTS_INTEGRATION_CLI_RUNNER_H_
