// Subcommand registry of the lote CLI: each subcommand file registers itself with
// LOTE_REGISTER_COMMAND, so adding a subcommand touches no other file.
#ifndef LOTE_APPS_LOTE_COMMAND_H_
#define LOTE_APPS_LOTE_COMMAND_H_

#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

#include "lote/base/status.h"

namespace lote::cli {

// Exit codes, documented in README.md (CLI reference). One place maps Status to them.
enum ExitCode : int {
  kExitOk = 0,
  kExitInternal = 1,     // a bug or an unexpected failure
  kExitUsage = 2,        // bad flags or bad configuration
  kExitInput = 3,        // input or model file missing, unreadable or malformed
  kExitPartial = 4,      // partial success: records quarantined and --strict given
  kExitUnavailable = 5,  // storage unreachable, disk full, lock held by another run
  kExitFlowFailed = 6,   // lote flow: the execution ended FAILED, TIMED_OUT or ABORTED
};

// Maps a Status to the CLI exit code (OK -> 0).
int ExitCodeFor(const Status& status);

// Prints "lote: <message>" to stderr and returns ExitCodeFor(status).
int Fail(const Status& status);

// For a bad flag value found after parsing: prints "lote: <message>" to stderr and returns
// kExitUsage (2).
int FailUsage(const std::string& message);

// A subcommand adds itself under `root` and sets `*exit_code` from its callback.
using CommandSetup = std::function<void(CLI::App& root, int* exit_code)>;

struct CommandEntry {
  int order;  // position in `lote --help`
  CommandSetup setup;
};

std::vector<CommandEntry>& CommandRegistry();

struct CommandRegistrar {
  CommandRegistrar(int order, CommandSetup setup) {
    CommandRegistry().push_back({order, std::move(setup)});
  }
};

}  // namespace lote::cli

#define LOTE_REGISTER_COMMAND(order, fn) \
  static ::lote::cli::CommandRegistrar LOTE_CONCAT_(lote_command_registrar_, __COUNTER__)(order, fn)

#endif  // LOTE_APPS_LOTE_COMMAND_H_
