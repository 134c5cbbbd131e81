// lote's release version, compiled in from CMake's project(VERSION).
#ifndef LOTE_BASE_VERSION_H_
#define LOTE_BASE_VERSION_H_

#include <string_view>

namespace lote {

// e.g. "0.1.0". Part of every model's metadata and of the preprocessing version hash.
std::string_view Version();

}  // namespace lote

#endif  // LOTE_BASE_VERSION_H_
