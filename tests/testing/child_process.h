// What the test services (MotoServer, ServiceProcess) share about the server processes they
// start: stopping a process group, and their log files (kept when a test failed).
#ifndef LOTE_TESTS_TESTING_CHILD_PROCESS_H_
#define LOTE_TESTS_TESTING_CHILD_PROCESS_H_

#include <sys/types.h>

#include <cstddef>
#include <string>

namespace lote::testing {

// Waits up to `seconds` for the child `pid` to exit; true (and *wstatus set) if it did, or if it
// is not our child any more.
bool WaitForChildExit(pid_t pid, double seconds, int* wstatus);

// SIGTERM to the process group `pid`, SIGKILL after `grace_seconds` (and to whatever the server
// started in its group), then reaped.
void TerminateProcessGroup(pid_t pid, double grace_seconds);

// True when service logs are to be kept: LOTE_KEEP_SERVICE_LOGS is set (and not "0"), or a test
// of this binary has failed.
bool KeepServiceLogs();

// The last `max_bytes` of a log file ("..." first when cut), or a note that there is none.
std::string ReadLogTail(const std::string& path, size_t max_bytes);

// Removes the log at *path (then clears it) unless it is to be kept: `failed_start` (its error
// named it) or KeepServiceLogs() (then its path is printed, prefixed by `what`).
void DisposeServiceLog(std::string* path, bool failed_start, const char* what);

}  // namespace lote::testing

#endif  // LOTE_TESTS_TESTING_CHILD_PROCESS_H_
