#include "lote/base/version.h"

namespace lote {

std::string_view Version() { return LOTE_VERSION; }

}  // namespace lote
