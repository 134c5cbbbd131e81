// Runs one untrusted SQL statement on a catalog connection so that it can only read: the guards
// behind pipeline::QueryCatalog (see include/lote/pipeline/catalog.h for the contract). Apart
// from QueryCatalog so that tests can run several statements on one connection and see that a
// refused one left nothing behind. Thread-safety: one thread per connection.
#ifndef LOTE_SRC_PIPELINE_READ_ONLY_QUERY_H_
#define LOTE_SRC_PIPELINE_READ_ONLY_QUERY_H_

#include <string_view>

#include "lote/base/status.h"
#include "lote/pipeline/catalog.h"
#include "pipeline/sqlite_db.h"

namespace lote::pipeline {

// Runs `sql` on `db`, which must have been opened read-only (Internal otherwise), under every
// guard QueryOptions describes. The connection keeps the hardening (defensive mode, limits,
// extensions off) but not the authorizer and progress handler, which are removed on return.
// Errors as QueryCatalog.
Result<QueryResult> RunReadOnlyQuery(SqliteDb& db, std::string_view sql,
                                     const QueryOptions& options);

}  // namespace lote::pipeline

#endif  // LOTE_SRC_PIPELINE_READ_ONLY_QUERY_H_
