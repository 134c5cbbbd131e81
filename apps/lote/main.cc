// lote: batch NLP for banking texts. The CLI is a thin shell over liblote: flags and files here,
// all logic in the library.
#include <algorithm>
#include <cstdio>
#include <exception>
#include <iostream>
#include <string_view>
#include <vector>

#include "command.h"
#include "lote/base/version.h"
#include "lote/text/utf8.h"

namespace lote::cli {

std::vector<CommandEntry>& CommandRegistry() {
  static std::vector<CommandEntry> registry;
  return registry;
}

int ExitCodeFor(const Status& status) {
  switch (status.code()) {
    case StatusCode::kOk:
      return kExitOk;
    case StatusCode::kInvalidArgument:
    case StatusCode::kNotFound:
    case StatusCode::kDataLoss:
    case StatusCode::kOutOfRange:
    case StatusCode::kFailedPrecondition:  // e.g. a missing column, an unsupported model version
      return kExitInput;
    case StatusCode::kUnimplemented:
      return kExitUsage;
    case StatusCode::kUnavailable:
    case StatusCode::kResourceExhausted:
    case StatusCode::kAborted:
    case StatusCode::kAlreadyExists:
    case StatusCode::kPermissionDenied:
    case StatusCode::kDeadlineExceeded:
      return kExitUnavailable;
    default:
      return kExitInternal;
  }
}

int Fail(const Status& status) {
  std::fprintf(stderr, "lote: %s\n", text::EscapeControl(status.ToString()).c_str());
  return ExitCodeFor(status);
}

int FailUsage(const std::string& message) {
  std::fprintf(stderr, "lote: %s\n", text::EscapeControl(message).c_str());
  return kExitUsage;
}

}  // namespace lote::cli

int main(int argc, char** argv) {
  using namespace lote::cli;
  // Started as `serve` (a symlink, or SageMaker's `docker run IMAGE serve` finding it on PATH):
  // the same as `lote serve ARGS...`.
  std::vector<char*> args(argv, argv + argc);
  std::string_view self = argc > 0 ? argv[0] : "";
  if (size_t slash = self.rfind('/'); slash != std::string_view::npos)
    self.remove_prefix(slash + 1);
  static char serve_word[] = "serve";
  if (self == "serve") {
    args.insert(args.begin() + 1, serve_word);
    argc = static_cast<int>(args.size());
    argv = args.data();
  }
  CLI::App app{"lote: batch NLP (intents, entities, personal data) for Spanish and English"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string(lote::Version()));
  int exit_code = kExitOk;
  auto& registry = CommandRegistry();
  std::sort(registry.begin(), registry.end(),
            [](const CommandEntry& a, const CommandEntry& b) { return a.order < b.order; });
  for (auto& entry : registry) entry.setup(app, &exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? kExitOk : kExitUsage;
  } catch (const std::exception& e) {
    // Library code returns Status; this only catches what third-party code threw.
    std::fprintf(stderr, "lote: internal error: %s\n", lote::text::EscapeControl(e.what()).c_str());
    return kExitInternal;
  }
  std::cout.flush();
  return exit_code;
}
