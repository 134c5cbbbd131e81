// RunPipeline and PublishStaged: the two ways into the publish machinery of run.h. They differ
// only in where the objects and their records come from: the input, read and processed here, or
// the infer stage's hand-over.
#include "lote/pipeline/pipeline.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "lote/base/digest.h"
#include "lote/io/records.h"
#include "lote/pipeline/stages.h"
#include "pipeline/record_source.h"
#include "pipeline/run.h"
#include "pipeline/run_log.h"
#include "pipeline/stage_files.h"

namespace lote::pipeline {
namespace {

// An input object, read and processed by this run.
class InputTask : public ObjectTask {
 public:
  InputTask(std::shared_ptr<storage::Storage> in, storage::ObjectInfo info, InputReadOptions ro)
      : in_(std::move(in)), info_(std::move(info)), ro_(std::move(ro)) {
    if (in_->etags_identify_content()) strong_etag_ = info_.etag;
  }
  const std::string& strong_etag() const override { return strong_etag_; }
  Result<std::string> EtagNow() override {
    LOTE_ASSIGN_OR_RETURN(storage::ObjectInfo now, in_->Stat(info_.uri));
    return now.etag;
  }
  const std::string& uri() const override { return info_.uri; }
  uint64_t listed_size() const override { return info_.size; }
  Result<std::pair<uint64_t, std::string>> Identify() override {
    uint64_t size = 0;
    LOTE_ASSIGN_OR_RETURN(std::string id, ContentId(*in_, info_.uri, &size));
    return std::make_pair(size, std::move(id));
  }
  Result<std::unique_ptr<RecordSource>> Open() override {
    return OpenInputRecords(*in_, info_.uri, ro_);
  }
  Status Release() override { return Status::Ok(); }

 private:
  std::shared_ptr<storage::Storage> in_;
  storage::ObjectInfo info_;
  InputReadOptions ro_;
  std::string strong_etag_;
};

// An object the infer stage handed over.
class HandedOverTask : public ObjectTask {
 public:
  HandedOverTask(storage::Storage* out, std::string output_uri, StagedObject staged)
      : out_(out), output_uri_(std::move(output_uri)), staged_(std::move(staged)) {}
  const std::string& uri() const override { return staged_.uri; }
  uint64_t listed_size() const override { return staged_.size; }
  Result<std::pair<uint64_t, std::string>> Identify() override {
    return std::make_pair(staged_.size, staged_.content_id);
  }
  Result<std::unique_ptr<RecordSource>> Open() override {
    return OpenHandedOverRecords(*out_, staged_);
  }
  Status Release() override { return DeleteStageFiles(out_, output_uri_, staged_); }

 private:
  storage::Storage* out_;
  std::string output_uri_;
  StagedObject staged_;
};

bool IsTextRecordFormat(const std::string& uri) {
  auto format = io::FormatFromPath(uri, false);
  return format.ok() && (*format == io::Format::kJsonl || *format == io::Format::kCsv ||
                         *format == io::Format::kTxt);
}

}  // namespace

Result<std::shared_ptr<storage::Storage>> OpenInputStorage(
    const PipelineOptions& o, std::function<void(std::string_view)> on_escape) {
  if (o.input_storage) return o.input_storage;
  LOTE_ASSIGN_OR_RETURN(auto plain, storage::OpenStorage(o.input_uri));
  if (!plain->is_local() || o.follow_symlinks) return plain;
  // Confine reads to the input folder: the listing root, or a single file's folder.
  std::string root = storage::ListRoot(o.input_uri);
  if (plain->Stat(root).ok()) {
    const size_t slash = root.find_last_of('/');
    root = slash == std::string::npos ? "." : root.substr(0, slash == 0 ? 1 : slash);
  }
  LOTE_ASSIGN_OR_RETURN(std::string confine, plain->CanonicalUri(root));
  storage::LocalStorageOptions lo;
  lo.confine_to = std::move(confine);
  lo.on_escape = std::move(on_escape);
  return storage::NewLocalStorage(std::move(lo));
}

Status CheckSeparateLocations(const storage::Storage& in, const storage::Storage& out,
                              const PipelineOptions& o) {
  if (storage::UriScheme(o.input_uri) != storage::UriScheme(o.output_uri)) return Status::Ok();
  LOTE_ASSIGN_OR_RETURN(std::string input, in.CanonicalUri(storage::ListRoot(o.input_uri)));
  LOTE_ASSIGN_OR_RETURN(std::string output, out.CanonicalUri(o.output_uri));
  if (storage::UriWithin(output, input)) {
    return InvalidArgumentError("output " + o.output_uri + " is inside input " + o.input_uri +
                                ": every run would read the previous run's results; choose an "
                                "output outside the input");
  }
  if (storage::UriWithin(input, output)) {
    return InvalidArgumentError("input " + o.input_uri + " is inside output " + o.output_uri +
                                ": choose an output folder that does not hold the input");
  }
  return Status::Ok();
}

Result<RunReport> RunPipeline(const PipelineOptions& options,
                              std::shared_ptr<const InferenceEngine> engine) {
  if (options.input_uri.empty()) return InvalidArgumentError("no input URI");
  if (options.output_uri.empty()) return InvalidArgumentError("no output URI");
  if (!engine) return InvalidArgumentError("no inference engine");
  RunLog log(options.log, [engine](std::string_view t) { return engine->RedactText(t); });
  auto escaped = std::make_shared<uint64_t>(0);
  LOTE_ASSIGN_OR_RETURN(auto in, OpenInputStorage(options, [&log, escaped](std::string_view uri) {
                          ++*escaped;
                          log.Object(LogLevel::kWarning, "ignoring ", uri,
                                     ": a symlink to a file outside the input folder (set "
                                     "follow_symlinks to read it)");
                        }));
  LOTE_ASSIGN_OR_RETURN(auto out,
                        storage::OpenStorageOr(options.output_storage, options.output_uri));
  LOTE_RETURN_IF_ERROR(CheckSeparateLocations(*in, *out, options));

  RunSpec spec;
  spec.engine = engine;
  spec.model_version = engine->model_version();
  if (options.shadow) {
    spec.shadow = options.shadow;
    spec.shadow_model_version = options.shadow->model_version();
  }
  if (engine->reference_profile() != nullptr) {
    spec.reference =
        std::shared_ptr<const monitoring::Profile>(engine, engine->reference_profile());
  }
  spec.preprocess_version = PreprocessVersion(options.prep);
  spec.redact = [engine](std::string_view t) { return engine->RedactText(t); };
  LOTE_ASSIGN_OR_RETURN(spec.canonical_output, out->CanonicalUri(options.output_uri));
  InputReadOptions ro;
  ro.text_field = options.text_field;
  ro.id_field = options.id_field;
  ro.max_record_bytes = options.max_record_bytes;
  spec.list_tasks = [&](storage::Storage*) -> Result<TaskList> {
    TaskList list;
    std::vector<storage::ObjectInfo> listed;
    if (options.input_objects.empty()) {
      LOTE_ASSIGN_OR_RETURN(listed, in->ListAfter(options.input_uri, options.list_after));
    } else {
      // Named objects (event notifications): each must be one the input's listing could hold,
      // and is looked up as it is now.
      for (const storage::ObjectInfo& named : options.input_objects) {
        if (!storage::MatchesPattern(options.input_uri, named.uri)) {
          return InvalidArgumentError(named.uri + " is not under the input " + options.input_uri);
        }
        auto now = in->Stat(named.uri);
        if (!now.ok() && now.status().code() == StatusCode::kNotFound) {
          ++list.ignored;
          log.Object(LogLevel::kWarning, "ignoring ", named.uri, ": gone before it was read");
          continue;
        }
        LOTE_RETURN_IF_ERROR(now.status());
        listed.push_back(std::move(*now));
      }
    }
    list.ignored += *escaped;
    for (auto& info : listed) {
      if (options.object_filter && !options.object_filter(info)) continue;
      if (!IsTextRecordFormat(info.uri)) {
        ++list.ignored;
        log.Object(LogLevel::kWarning, "ignoring ", info.uri,
                   ": not .jsonl, .ndjson, .csv or .txt");
        continue;
      }
      list.tasks.push_back(std::make_unique<InputTask>(in, std::move(info), ro));
    }
    return list;
  };
  return ExecuteRun(options, std::move(spec));
}

Result<std::string> ResolveCatalogPath(const PipelineOptions& options) {
  if (!options.catalog_path.empty()) return options.catalog_path;
  std::shared_ptr<storage::Storage> out = options.output_storage;
  if (!out) {
    LOTE_ASSIGN_OR_RETURN(out, storage::OpenStorage(options.output_uri));
  }
  if (out->is_local()) {
    return out->LocalPath(storage::JoinUri(options.output_uri, "_catalog/lote.db"));
  }
  // An object store's ledger lives on the store; locally only a cache, one per output.
  LOTE_ASSIGN_OR_RETURN(std::string canonical, out->CanonicalUri(options.output_uri));
  std::filesystem::path base;
  const char* xdg = std::getenv("XDG_CACHE_HOME");
  const char* home = std::getenv("HOME");
  if (xdg != nullptr && xdg[0] == '/') {
    base = xdg;
  } else if (home != nullptr && home[0] == '/') {
    base = std::filesystem::path(home) / ".cache";
  } else {
    std::error_code ec;
    base = std::filesystem::temp_directory_path(ec) / ("lote-" + std::to_string(::getuid()));
    if (ec) return UnavailableError("no cache folder: HOME is not set and " + ec.message());
  }
  return (base / "lote" / "catalogs" / (Sha256Hex(canonical).substr(0, 32) + ".db")).string();
}

namespace {

// Refuses `dir` (which exists) if it is not a folder of this user's; `restrict`: also makes it
// 0700.
Status PrivateFolder(const std::string& dir, bool restrict) {
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return FailedPreconditionError("catalog cache folder " + dir + " is not a folder");
  }
  if (st.st_uid != ::geteuid()) {
    return FailedPreconditionError("catalog cache folder " + dir +
                                   " belongs to another user: refusing to keep catalogs there "
                                   "(set XDG_CACHE_HOME or --catalog)");
  }
  if (restrict && (st.st_mode & 077) != 0 && ::chmod(dir.c_str(), 0700) != 0) {
    return UnavailableError("cannot make " + dir + " private: " + std::strerror(errno));
  }
  return Status::Ok();
}

}  // namespace

Result<std::shared_ptr<Ledger>> OpenOutputLedger(const PipelineOptions& options, bool writer,
                                                 const std::function<void(const std::string&)>& log,
                                                 std::string* catalog_path) {
  if (options.ledger) return options.ledger;
  LOTE_ASSIGN_OR_RETURN(auto out,
                        storage::OpenStorageOr(options.output_storage, options.output_uri));
  PipelineOptions o = options;
  o.output_storage = out;
  LOTE_ASSIGN_OR_RETURN(*catalog_path, ResolveCatalogPath(o));
  std::error_code ec;
  auto parent = std::filesystem::path(*catalog_path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  if (ec) return UnavailableError("cannot create " + parent.string() + ": " + ec.message());
  if (!out->is_local() && options.catalog_path.empty()) {
    // The default cache holds record ids, labels and entities: BASE/lote/catalogs, only this
    // user's to enter, in folders nobody else may have made for us (the temp-folder fallback's
    // BASE is in a shared folder).
    LOTE_RETURN_IF_ERROR(PrivateFolder(parent.string(), true));
    LOTE_RETURN_IF_ERROR(PrivateFolder(parent.parent_path().string(), true));
    LOTE_RETURN_IF_ERROR(PrivateFolder(parent.parent_path().parent_path().string(), false));
  }
  LOTE_ASSIGN_OR_RETURN(std::string canonical, out->CanonicalUri(options.output_uri));
  if (out->is_local()) {
    LOTE_ASSIGN_OR_RETURN(auto ledger, OpenSqliteLedger(*catalog_path, canonical));
    return std::shared_ptr<Ledger>(std::move(ledger));
  }
  ObjectStoreLedgerOptions lo;
  lo.store = out;
  lo.output_uri = options.output_uri;
  lo.canonical_uri = canonical;
  lo.cache_path = *catalog_path;
  lo.writer = writer;
  lo.log = log;
  LOTE_ASSIGN_OR_RETURN(auto ledger, OpenObjectStoreLedger(lo));
  return std::shared_ptr<Ledger>(std::move(ledger));
}

Result<RunReport> PublishStaged(const PipelineOptions& options) {
  if (options.shadow) {
    return InvalidArgumentError(
        "a shadow model scores records in the infer stage (or lote run), not in publish: "
        "publish writes the shadow rows infer handed over");
  }
  if (options.output_uri.empty()) return InvalidArgumentError("no output URI");
  PipelineOptions o = options;
  o.input_uri = StageFolder(options.output_uri, "infer");
  LOTE_ASSIGN_OR_RETURN(auto out, storage::OpenStorageOr(o.output_storage, o.output_uri));
  o.output_storage = out;
  LOTE_ASSIGN_OR_RETURN(auto staged, ListMarkers(*out, o.input_uri));
  if (staged.empty()) return RunReport();
  const std::string prep_version = PreprocessVersion(o.prep);
  for (const StagedObject& st : staged) {
    if (st.model_version != staged[0].model_version) {
      return FailedPreconditionError("handed-over objects mix model versions (" +
                                     staged[0].model_version + ", " + st.model_version +
                                     "): run infer again with one model");
    }
    if (st.shadow_model_version != staged[0].shadow_model_version) {
      auto name = [](const std::string& v) { return v.empty() ? std::string("none") : v; };
      return FailedPreconditionError(
          "handed-over objects mix shadow models (" + name(staged[0].shadow_model_version) + ", " +
          name(st.shadow_model_version) + "): run infer again with one --shadow, or none");
    }
    if (st.preprocess_version != prep_version) {
      return FailedPreconditionError(st.uri + " was prepared with preprocess version " +
                                     st.preprocess_version + ", this configuration is " +
                                     prep_version + ": give publish the prep stage's config");
    }
  }
  o.text_field = staged[0].text_field;
  o.id_field = staged[0].id_field;
  RunSpec spec;
  spec.model_version = staged[0].model_version;
  spec.shadow_model_version = staged[0].shadow_model_version;
  // The infer stage left the model's reference profile beside its files.
  LOTE_ASSIGN_OR_RETURN(spec.reference, ReadStagedReference(*out, o.input_uri, spec.model_version));
  spec.preprocess_version = prep_version;
  LOTE_ASSIGN_OR_RETURN(spec.canonical_output, out->CanonicalUri(o.output_uri));
  const std::string output_uri = o.output_uri;
  spec.list_tasks = [staged = std::move(staged), output_uri,
                     folder = o.input_uri](storage::Storage* store) -> Result<TaskList> {
    // The markers were listed before the lock; an infer stage may have slipped in.
    LOTE_ASSIGN_OR_RETURN(auto now_staged, ListMarkers(*store, folder));
    std::vector<std::string> before, after;
    for (const auto& st : staged) {
      before.push_back(st.key + st.model_version + "/" + st.shadow_model_version);
    }
    for (const auto& st : now_staged) {
      after.push_back(st.key + st.model_version + "/" + st.shadow_model_version);
    }
    if (before != after) {
      return FailedPreconditionError(
          "the infer stage changed its output while publish started; run publish again");
    }
    TaskList list;
    for (const StagedObject& st : staged) {
      list.tasks.push_back(std::make_unique<HandedOverTask>(store, output_uri, st));
    }
    return list;
  };
  const std::string folder = o.input_uri, model_version = spec.model_version;
  auto report = ExecuteRun(o, std::move(spec));
  // The reference was for the objects just published; the next infer stage leaves it again.
  if (report.ok()) LOTE_RETURN_IF_ERROR(DeleteStagedReference(out.get(), folder, model_version));
  return report;
}

}  // namespace lote::pipeline
