#include "testing/child_process.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string_view>
#include <thread>

namespace lote::testing {

bool WaitForChildExit(pid_t pid, double seconds, int* wstatus) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (true) {
    pid_t r = ::waitpid(pid, wstatus, WNOHANG);
    if (r == pid) return true;
    if (r < 0 && errno != EINTR) return true;  // not our child any more: nothing to wait for
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

void TerminateProcessGroup(pid_t pid, double grace_seconds) {
  int wstatus = 0;
  ::kill(-pid, SIGTERM);
  if (WaitForChildExit(pid, grace_seconds, &wstatus)) {
    ::kill(-pid, SIGKILL);  // anything the server started in its group
    return;
  }
  ::kill(-pid, SIGKILL);
  while (::waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
  }
}

bool KeepServiceLogs() {
  const char* keep = std::getenv("LOTE_KEEP_SERVICE_LOGS");
  if (keep != nullptr && *keep != '\0' && std::string_view(keep) != "0") return true;
  return ::testing::Test::HasFailure() ||
         ::testing::UnitTest::GetInstance()->failed_test_count() > 0;
}

std::string ReadLogTail(const std::string& path, size_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "(no log at " + path + ")";
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  const std::streamoff from = size > static_cast<std::streamoff>(max_bytes)
                                  ? size - static_cast<std::streamoff>(max_bytes)
                                  : 0;
  in.seekg(from);
  std::string tail(static_cast<size_t>(size - from), '\0');
  in.read(tail.data(), static_cast<std::streamsize>(tail.size()));
  return (from > 0 ? "..." : "") + tail;
}

void DisposeServiceLog(std::string* path, bool failed_start, const char* what) {
  if (path->empty()) return;
  if (failed_start) {
    // Its error names the log.
  } else if (KeepServiceLogs()) {
    std::fprintf(stderr, "%s log kept: %s\n", what, path->c_str());
  } else {
    std::remove(path->c_str());
  }
  path->clear();
}

}  // namespace lote::testing
