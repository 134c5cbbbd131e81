// `lote version`: prints lote's version.
#include <cstdio>

#include "command.h"
#include "lote/base/version.h"

namespace lote::cli {
namespace {

void SetupVersion(CLI::App& root, int* exit_code) {
  auto* cmd = root.add_subcommand("version", "Print lote's version");
  cmd->callback([exit_code] {
    std::printf("lote %s\n", std::string(Version()).c_str());
    *exit_code = kExitOk;
  });
}

}  // namespace
LOTE_REGISTER_COMMAND(1000, SetupVersion);
}  // namespace lote::cli
