// `lote query`: SQL over the catalog of published results (as Athena would answer over the same
// files), and `--athena-ddl` for the AWS deployment.
#include <cstdio>

#include "command.h"
#include "common.h"
#include "lote/pipeline/catalog.h"
#include "lote/pipeline/pipeline.h"
#include "lote/storage/storage.h"
#include "lote/text/utf8.h"

namespace lote::cli {
namespace {

struct QueryFlags {
  std::string catalog, output, format = "table", sql, location, database = "lote";
  bool athena_ddl = false;
};

Status RunQuery(const QueryFlags& f) {
  std::string catalog = f.catalog;
  bool object_store = false;
  if (!f.output.empty()) {
    LOTE_ASSIGN_OR_RETURN(auto out, storage::OpenStorage(f.output));
    object_store = !out->is_local();
  }
  if (!f.output.empty() && (catalog.empty() || object_store)) {
    pipeline::PipelineOptions o;
    o.output_uri = f.output;
    o.catalog_path = f.catalog;
    if (object_store && f.athena_ddl) {
      // The DDL only lists the model versions the cache knows: no ledger is read for it.
      LOTE_ASSIGN_OR_RETURN(catalog, pipeline::ResolveCatalogPath(o));
    } else {
      // For an output on an object store this brings its local cache up to date from the
      // ledger there first (--catalog then names the cache).
      LOTE_ASSIGN_OR_RETURN(catalog, pipeline::ReadableCatalogPath(o, [](const std::string& line) {
                              std::fprintf(stderr, "lote: %s\n", text::EscapeControl(line).c_str());
                            }));
    }
  }
  if (f.athena_ddl) {
    pipeline::AthenaDdlOptions o;
    o.database = f.database;
    if (!f.location.empty()) o.location = f.location;
    if (!catalog.empty()) {
      auto versions = pipeline::CatalogModelVersions(catalog);
      if (versions.ok()) o.model_versions = *versions;
    }
    std::fputs(pipeline::AthenaDdl(o).c_str(), stdout);
    return Status::Ok();
  }
  if (catalog.empty()) return InvalidArgumentError("query needs --catalog PATH or --output URI");
  if (f.sql.empty()) return InvalidArgumentError("query needs an SQL statement");
  LOTE_ASSIGN_OR_RETURN(auto format, pipeline::ParseQueryFormat(f.format));
  LOTE_ASSIGN_OR_RETURN(auto result, pipeline::QueryCatalog(catalog, f.sql));
  std::fputs(pipeline::FormatQueryResult(result, format).c_str(), stdout);
  return Status::Ok();
}

void SetupQuery(CLI::App& root, int* exit_code) {
  auto* cmd = root.add_subcommand("query",
                                  "SQL over published results (tables: results, "
                                  "results_history, entities, quarantine, runs, and the daily "
                                  "summaries results_daily, entities_daily, quarantine_daily)");
  auto f = std::make_shared<QueryFlags>();
  cmd->add_option("sql", f->sql, "One read-only SQL statement");
  cmd->add_option("--catalog", f->catalog,
                  "Catalog database (with an s3:// --output: where its local cache is kept)");
  cmd->add_option("--output", f->output,
                  "Pipeline output: a folder's catalog is OUTPUT/_catalog/lote.db; an s3:// "
                  "output's catalog is a local cache brought up to date from its ledger first");
  cmd->add_option("--format", f->format, "table | csv | json")->capture_default_str();
  cmd->add_flag("--athena-ddl", f->athena_ddl,
                "Print Athena/Glue CREATE EXTERNAL TABLE statements for results and quarantine, "
                "and views with the catalog's names (entities, results_daily, entities_daily, "
                "quarantine_daily)");
  cmd->add_option("--location", f->location, "S3 location for --athena-ddl (s3://bucket/prefix)");
  cmd->add_option("--database", f->database, "Athena database for --athena-ddl")
      ->capture_default_str();
  cmd->callback([f, exit_code] {
    Status s = RunQuery(*f);
    *exit_code = s.ok() ? kExitOk : Fail(s);
  });
}

}  // namespace
LOTE_REGISTER_COMMAND(60, SetupQuery);
}  // namespace lote::cli
